"""Reads the stack's Pulumi config; the only module that does.

The Pulumi SDK has no call that lists every key, and rejecting unknown keys needs that list, so the
raw map is read from the runtime (what the engine passed in, or what a test or the offline render
set with ``set_all_config``).
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from components.model import ConfigError
from components.settings import SECRET_KEYS, SECRET_MAPPINGS, StackSettings
from components.stack_file import read_stack_file
from components.validation import parse_settings

__all__ = ["NAMESPACE", "ConfigError", "check_namespaces", "load_settings", "raw_from_config"]

NAMESPACE = "airflow"


def load_settings() -> StackSettings:
    """The validated settings of the current stack, or a ConfigError naming the key to fix."""
    source = f"Pulumi.{pulumi.get_stack()}.yaml"
    if Path(source).is_file():
        # The engine has read it already, but keeps the last of two equal keys without a word; the
        # program runs in the project folder, so the file the user edits is here to check.
        read_stack_file(Path(source))
    config = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    check_namespaces(config, source)
    raw = raw_from_config(config)
    plain_text = sorted(
        key for key in SECRET_KEYS & raw.keys() if not runtime_config.is_config_secret(f"{NAMESPACE}:{key}")
    )
    if plain_text:
        raise ConfigError("\n".join(_stored_in_plain_text(key, source) for key in plain_text))
    return parse_settings(raw, source=source, namespace=NAMESPACE)


def _stored_in_plain_text(key: str, source: str) -> str:
    """How to set a secret key that the stack file holds in plain text: a mapping entry by entry."""
    if key in SECRET_MAPPINGS:
        how = f"set each entry with 'pulumi config set --secret --path {NAMESPACE}:{key}.<name> <value>'"
    else:
        how = f"set it with 'pulumi config set --secret {NAMESPACE}:{key} <value>'"
    return f"{NAMESPACE}:{key} in {source} is stored in plain text; remove it and {how}"


def check_namespaces(config: dict[str, Any], source: str) -> None:
    """Refuses keys whose namespace is a near miss of ``airflow`` (``airfow:executor``, ``Airflow:...``).

    Keys of other namespaces configure providers (``aws:region``, ``kubernetes:context``) and are not this
    program's to judge; but one that is almost ``airflow`` is a setting that would silently not apply.
    """
    problems = []
    for key in sorted(config):
        namespace, _, name = key.partition(":")
        if namespace != NAMESPACE and (
            namespace.lower() == NAMESPACE
            or difflib.SequenceMatcher(None, namespace.lower(), NAMESPACE).ratio() >= 0.75
        ):
            problems.append(
                f"{key} in {source}: '{namespace}' is not this project's namespace, so nothing would read "
                f"it; did you mean '{NAMESPACE}:{name}'?"
            )
    if problems:
        raise ConfigError("\n".join(problems))


def raw_from_config(config: dict[str, Any]) -> dict[str, Any]:
    """The ``airflow:`` keys without their prefix, structured values decoded, as parse_settings takes them.

    The engine passes structured values as JSON text, indistinguishable from a string that reads as JSON;
    the secret keys are strings by definition (a JSON connection among them), so they stay as they are,
    except the mappings of secrets (``airflow:connections``).
    """
    prefix = f"{NAMESPACE}:"
    raw = {}
    for key, value in config.items():
        if key.startswith(prefix):
            name = key.removeprefix(prefix)
            raw[name] = value if name in SECRET_KEYS - SECRET_MAPPINGS else _decode(value)
    return raw


def _decode(value: Any) -> Any:
    """Structured values reach the program as JSON text; scalars stay strings for pydantic to coerce."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value
