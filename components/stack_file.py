"""Reads ``Pulumi.<stack>.yaml`` the way the pinned Pulumi CLI (3.274.1) does, so a render sees what
``pulumi up`` would; ``tests/components/test_stack_file_vs_cli.py`` holds it against the real CLI.

The CLI reads stack files with ``gopkg.in/yaml.v3``, decodes each config entry into Go's ``any`` and
passes it to the program as text (``sdk/go/common/resource/config/object.go``), which differs from
PyYAML in ways that bite (``yaml_v3.py`` has the rules):

- A plain scalar is typed, at the top as inside an object, then passed as its JSON text: ``010`` is
  ``8``, ``1e3`` is ``1000``, ``True`` is ``true``; ``off`` and ``yes`` stay text (yaml.v3 has only
  true and false). An empty value is ``""``. A quoted or ``!!str`` value keeps its text.
- A mapping or list is sent as Go's JSON: keys sorted, mapping keys that are not strings printed as
  Go's ``%v`` prints them (``1``, ``true``, ``<nil>``); ``.inf`` or NaN stops the CLI.
- A key must be ``namespace:name`` (or the old ``namespace:config:name``); a key written twice in one
  mapping stops the CLI.
- ``{secure: ...}`` marks an encrypted value, at the top or anywhere inside an object.
- A leading UTF-8 byte-order mark is dropped; the rest must be UTF-8.

Refused here on purpose, with the line to fix, although the CLI takes them: an unquoted date or time
(the CLI passes ``2026-11-25`` on as ``2026-11-25 00:00:00 +0000 UTC``), a key without its namespace
(the CLI silently prefixes the project's), and nesting deeper than ``yaml_limits.MAX_DEPTH``. An
anchor whose value contains itself is refused with its line (the CLI fails on it with a Go error).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from components.model import ConfigError
from components.yaml_limits import BoundedLoader, TooDeep
from components.yaml_v3 import NULLS, STANDARD_TAGS, Timestamp, go_json, go_text, marshal_string, resolve

__all__ = ["Secure", "StackFileError", "engine_config", "read_stack_file", "stack_file_path"]

_BOM = b"\xef\xbb\xbf"
_STACK_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}")
# Aliases expand on read; a document that grows past this many values is a YAML bomb, not a stack file.
_MAX_VALUES = 100_000
_UNTAGGED = "?"


class _Composer(BoundedLoader):
    """Composes nodes without PyYAML's own (YAML 1.1, Python) typing: a scalar without an explicit tag
    keeps the tag ``?``, and ``yaml_v3.resolve`` types it by yaml.v3's rules instead."""

    def resolve(self, kind: type[Node], value: Any, implicit: Any) -> str:
        return _UNTAGGED if kind is ScalarNode else super().resolve(kind, value, implicit)


@dataclass(frozen=True)
class Secure:
    """An encrypted value (``{secure: ...}``): it cannot be read without the stack's secrets provider."""

    ciphertext: str


class StackFileError(ConfigError):
    """A stack file the Pulumi CLI would not load, or that hides a mistake; each line names the spot."""


def stack_file_path(project: Path, stack: str) -> Path:
    """``project/Pulumi.<stack>.yaml``, for a name ``pulumi stack init`` would take (no path in it)."""
    if not _STACK_NAME.fullmatch(stack):
        raise StackFileError(
            f"stack name {stack!r} is not one Pulumi allows: letters, digits, '-', '_' and '.', starting "
            "with a letter, digit, '-' or '_'"
        )
    return project / f"Pulumi.{stack}.yaml"


def read_stack_file(path: Path) -> dict[str, Any]:
    """The ``config`` entries of a stack file, keyed ``namespace:name`` as the engine keys them.

    A value is a string (a scalar, exactly as written), ``Secure``, or a list or dict of decoded values
    (which may hold ``Secure`` and non-string scalars) that the engine would send as JSON.
    """
    name = path.name
    if not path.is_file():
        stacks = sorted(p.name for p in path.parent.glob("Pulumi.*.yaml"))
        raise StackFileError(f"{name} not found; stacks here: {', '.join(stacks) or 'none'}")
    try:
        raw = path.read_bytes().removeprefix(_BOM)
    except OSError as err:
        raise StackFileError(f"{name} cannot be read: {err.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise StackFileError(
            f"{name}:{line}: byte {err.start} is not UTF-8; save the file as UTF-8, the Pulumi CLI's encoding"
        ) from None
    try:
        document = yaml.compose(text, Loader=_Composer)
    except TooDeep as err:
        raise StackFileError(
            f"{name}:{err.problem_mark.line + 1}: {err.problem}; a stack file's settings nest a few levels"
        ) from None
    except yaml.YAMLError as err:
        raise StackFileError(f"{name} is not valid YAML: {_yaml_problem(err)}") from None
    return _Reader(name).config(document)


def engine_config(entries: dict[str, Any], secure: Any) -> tuple[dict[str, str], list[str]]:
    """Config as the engine hands it to a program: strings, objects as JSON, and the keys that are secret.

    ``secure(key)`` gives the text that stands in for an encrypted value of ``key``: the render cannot
    decrypt it.
    """
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in entries.items():
        plain = _replace_secure(value, secure(key))
        if plain != value:
            secret_keys.append(key)
        config[key] = plain if isinstance(plain, str) else go_json(plain)
    return config, secret_keys


def _replace_secure(value: Any, stand_in: str) -> Any:
    if isinstance(value, Secure):
        return stand_in
    if isinstance(value, dict):
        return {key: _replace_secure(item, stand_in) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_secure(item, stand_in) for item in value]
    return value


def _yaml_problem(err: yaml.YAMLError) -> str:
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    return f"line {mark.line + 1}: {problem}" if mark is not None else problem


class _Reader:
    """Turns the composed YAML nodes into config values by yaml.v2's rules, collecting every problem."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.problems: list[str] = []
        self.values = 0

    def config(self, document: Node | None) -> dict[str, Any]:
        if document is None:
            return {}
        if not isinstance(document, MappingNode):
            raise StackFileError(
                f"{self.name} must be a mapping with a 'config' key, as 'pulumi config' writes it"
            )
        top = self._pairs(document, [], text_keys=True)
        config_node = top.get("config")
        entries: dict[str, Any] = {}
        if config_node is not None and not self._is_null(config_node):
            if not isinstance(config_node, MappingNode):
                self._problem(config_node, "'config' must be a mapping of namespace:key: value")
            else:
                for key, node in self._pairs(config_node, ["config"], text_keys=True).items():
                    full = self._config_key(key, node)
                    if full is not None:
                        entries[full] = self._top_value(node, full)
        if self.problems:
            raise StackFileError("\n".join(dict.fromkeys(self.problems)))
        return entries

    def _problem(self, node: Node, message: str) -> None:
        self.problems.append(f"{self.name}:{node.start_mark.line + 1}: {message}")

    def _config_key(self, key: str, node: Node) -> str | None:
        parts = key.split(":")
        if len(parts) == 3 and parts[1] == "config" and parts[0] and parts[2]:
            return f"{parts[0]}:{parts[2]}"  # the old <namespace>:config:<name> form
        if len(parts) != 2:
            self._problem(
                node,
                f"config key {key!r} is not of the form namespace:name (e.g. 'airflow:executor'); "
                "the Pulumi CLI refuses the file",
            )
            return None
        return key

    def _top_value(self, node: Node, key: str) -> Any:
        """A config entry: a scalar as the CLI passes it (typed, then as its JSON text); objects decode
        fully."""
        if isinstance(node, ScalarNode):
            value = self._scalar(node, key)
            # A non-finite number is a problem already named; its text stands in until the file is refused.
            finite = not (isinstance(value, float) and not math.isfinite(value))
            return marshal_string(value) if finite else node.value
        return self._value(node, key, [])

    def _value(self, node: Node, where: str, stack: list[Node]) -> Any:
        self.values += 1
        if self.values > _MAX_VALUES:
            self._problem(node, f"{where}: more than {_MAX_VALUES} values once aliases are expanded")
            raise StackFileError("\n".join(self.problems))
        if any(node is seen for seen in stack):
            self._problem(node, f"{where}: an anchor's value contains itself (a recursive alias)")
            return None
        if isinstance(node, ScalarNode):
            return self._scalar(node, where)
        if isinstance(node, SequenceNode):
            return [self._value(item, f"{where}[{i}]", [*stack, node]) for i, item in enumerate(node.value)]
        pairs = self._pairs(node, [where], [*stack, node])
        result = {key: self._value(item, f"{where}.{key}", [*stack, node]) for key, item in pairs.items()}
        if set(result) == {"secure"} and isinstance(result["secure"], str):
            return Secure(result["secure"])
        return result

    def _pairs(
        self, node: MappingNode, where: list[str], stack: list[Node] | None = None, *, text_keys: bool = False
    ) -> dict[str, Node]:
        """A mapping's entries by key, merges applied, duplicates reported. The file's own keys and the
        config keys are decoded as Go strings (their text); keys inside a value as Go's %v prints them."""
        explicit: dict[str, Node] = {}
        merged: dict[str, Node] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.style is None and key_node.value == "<<":
                for source in self._merge_sources(value_node, where):
                    for key, item in self._pairs(source, where, stack, text_keys=text_keys).items():
                        merged.setdefault(key, item)
                continue
            if not isinstance(key_node, ScalarNode):
                self._problem(key_node, f"{'.'.join(where) or 'the file'}: a key must be a plain value")
                continue
            key = key_node.value if text_keys else go_text(self._scalar(key_node, ".".join(where)))
            if key in explicit:
                self._problem(
                    key_node,
                    f"key {key!r} under {'.'.join(where) or 'the top level'} is also set on line "
                    f"{explicit[key].start_mark.line + 1}; the Pulumi CLI would keep only the last one "
                    "without a word: keep one",
                )
            explicit[key] = value_node
        return {**merged, **explicit}

    def _merge_sources(self, node: Node, where: list[str]) -> list[MappingNode]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        if not all(isinstance(source, MappingNode) for source in sources):
            self._problem(node, f"{'.'.join(where)}: '<<' merges only mappings")
            return []
        return sources

    def _scalar(self, node: ScalarNode, where: str) -> Any:
        tag = node.tag
        if node.style is not None or tag == "tag:yaml.org,2002:str":
            return node.value
        if tag == "tag:yaml.org,2002:binary":
            try:
                return base64.b64decode(node.value, validate=False).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                self._problem(node, f"{where}: !!binary value is not base64 of UTF-8 text")
                return ""
        if tag not in (_UNTAGGED, *STANDARD_TAGS):
            self._problem(node, f"{where}: the YAML tag {tag!r} means nothing in a stack file; remove it")
            return node.value
        value = resolve(node.value)
        if isinstance(value, Timestamp):
            self._problem(
                node,
                f"{where}: {value.text!r} is an unquoted date or time, which the Pulumi CLI passes on as Go "
                "prints a time ('2026-11-25 00:00:00 +0000 UTC'), not as written; quote it",
            )
            return value.text
        if isinstance(value, float) and not math.isfinite(value):
            self._problem(
                node,
                f"{where}: {node.value!r} is not a number the Pulumi CLI can pass on (it refuses "
                "infinities and NaN); write a finite number",
            )
        return value

    @staticmethod
    def _is_null(node: Node) -> bool:
        return isinstance(node, ScalarNode) and node.style is None and node.value in NULLS
