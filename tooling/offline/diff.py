"""What changes between two offline renders, in a few lines a reviewer reads.

    python -m tooling.offline.diff BEFORE_DIR AFTER_DIR [--title TEXT] [--markdown]

Both folders are renders (``python -m tooling.offline.render``). The summary lists the
release's values by key path, the manifests added, removed or changed (with their key paths), the
images the program builds, the resources registered and their protection, and the stack outputs.
Renders hold secret values only as ``[secret]``, so neither can this. Exit code, as
``git diff --exit-code``: 0 when the renders are the same, 1 when anything changed, 2 when a folder is
not a render.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from components.redact import safe_to_print
from components.yaml_limits import AliasRefused, NoAliasLoader, TooDeep
from tooling.cli import add_debug_flag, exit_with, guarded

__all__ = ["RenderDiff", "changed_paths", "diff_renders", "format_markdown", "format_text", "main"]

# A multi-line or longer value (a DAG file in a ConfigMap) is summarised by its size, not printed.
_SHOWN_CHARS = 200


class NotARender(Exception):
    """A folder without the files a render writes."""


@dataclass
class Section:
    """One part of a diff (release values, manifests, resources, outputs) and its changed lines."""

    title: str
    lines: list[str] = field(default_factory=list)


@dataclass
class RenderDiff:
    """What changed between two renders, by section, for a reviewer and the PR comment."""

    sections: list[Section]

    @property
    def changed(self) -> bool:
        return any(section.lines for section in self.sections)


def diff_renders(before: Path, after: Path) -> RenderDiff:
    """Compares two render folders file by file, each YAML document by key path."""
    old, new = _read(before), _read(after)
    return RenderDiff(
        sections=[
            Section("release values", _release_lines(old, new)),
            Section("images", _files_lines(old, new, "images/")),
            Section("manifests", _files_lines(old, new, "manifests/")),
            Section(
                "resources", _resource_lines(old.get("resources.yaml", []), new.get("resources.yaml", []))
            ),
            Section(
                "outputs",
                [
                    _change(p, a, b)
                    for p, a, b in changed_paths(old.get("outputs.yaml"), new.get("outputs.yaml"))
                ],
            ),
        ]
    )


def _read(folder: Path) -> dict[str, Any]:
    """Every YAML file of a render, refusing what a render never writes: text that is not UTF-8,
    aliases (a few lines of them expand to billions of values), nesting past ``MAX_DEPTH``, and a
    ``resources.yaml`` that is not a list of resources."""
    if not (folder / "resources.yaml").is_file():
        raise NotARender(
            f"{folder} is not a render: it has no resources.yaml (python -m tooling.offline.render)"
        )
    documents = {}
    for path in sorted(folder.rglob("*.yaml")):
        try:
            text = path.read_bytes().decode("utf-8")
            documents[path.relative_to(folder).as_posix()] = yaml.load(text, Loader=NoAliasLoader)
        except UnicodeDecodeError:
            raise NotARender(f"{path} is not UTF-8 text; render it again") from None
        except (AliasRefused, TooDeep) as err:
            raise NotARender(f"{path} {err.problem}, which a render never writes; render it again") from None
        except yaml.YAMLError as err:
            raise NotARender(
                f"{path} is not valid YAML ({err.__class__.__name__}); render it again"
            ) from None
    resources = documents["resources.yaml"]
    if not isinstance(resources, list) or not all(
        isinstance(row, dict) and isinstance(row.get("type"), str) and isinstance(row.get("name"), str)
        for row in resources
    ):
        raise NotARender(f"{folder / 'resources.yaml'} is not a list of resources; render it again")
    return documents


def _release_lines(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    lines = []
    for name in sorted(n for n in set(old) | set(new) if n.startswith("releases/")):
        release = name.removeprefix("releases/").removesuffix(".yaml")
        before, after = old.get(name), new.get(name)
        if before is None or after is None:
            lines.append(f"{'+' if before is None else '-'} release {release}")
            continue
        for path, a, b in changed_paths(before, after):
            lines.append(_change(f"{release}: {path.removeprefix('values.')}", a, b))
    return lines


def _files_lines(old: dict[str, Any], new: dict[str, Any], prefix: str) -> list[str]:
    lines = []
    for name in sorted(n for n in set(old) | set(new) if n.startswith(prefix)):
        shown = name.removeprefix(prefix).removesuffix(".yaml")
        if name not in old:
            lines.append(f"+ {shown}")
        elif name not in new:
            lines.append(f"- {shown}")
        else:
            lines += [_change(f"{shown}: {p}", a, b) for p, a, b in changed_paths(old[name], new[name])]
    return lines


def _resource_lines(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[str]:
    def key(row: dict[str, Any]) -> str:
        return f"{row['type']}::{row['name']}"

    before, after = {key(r): r for r in old}, {key(r): r for r in new}
    lines = [f"+ {k}" for k in sorted(set(after) - set(before))]
    lines += [f"- {k}" for k in sorted(set(before) - set(after))]
    for k in sorted(set(before) & set(after)):
        lines += [_change(f"{k}: {p}", a, b) for p, a, b in changed_paths(before[k], after[k])]
    return lines


def changed_paths(before: Any, after: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """Each dotted key path where two documents differ, with both values (None where absent)."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [
            found
            for key in sorted(set(before) | set(after), key=str)
            for found in changed_paths(before.get(key), after.get(key), f"{prefix}{key}.")
        ]
    if _objects(before) and _objects(after) and len(before) == len(after):
        # Entries of a list of objects (DAG bundles, env vars) key by key: the changed field is shown.
        return [
            found
            for i, (old, new) in enumerate(zip(before, after, strict=True))
            for found in changed_paths(old, new, f"{prefix.rstrip('.')}[{i}].")
        ]
    return [] if before == after else [(prefix.rstrip("."), before, after)]


def _objects(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, dict) for item in value)


def _change(path: str, before: Any, after: Any) -> str:
    if _scalars(before) and _scalars(after):
        added = [item for item in after if item not in before]
        removed = [item for item in before if item not in after]
        moves = [f"+{_shown(item)}" for item in added] + [f"-{_shown(item)}" for item in removed]
        return f"~ {path}: {' '.join(moves) or 'reordered'}"
    if before is None:
        return f"+ {path}: {_shown(after)}"
    if after is None:
        return f"- {path}: {_shown(before)}"
    return f"~ {path}: {_shown(before)} -> {_shown(after)}"


def _scalars(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str | int | float | bool) for item in value)


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    if len(text) > _SHOWN_CHARS or "\n" in text:
        return f"({len(text.encode())} bytes, {text.count(chr(10)) + 1} lines)"
    return text


def format_text(diff: RenderDiff, title: str) -> str:
    """The diff for a terminal: a count, then each section's lines."""
    if not diff.changed:
        return f"{title}: no change"
    lines = [f"{title}: {sum(len(s.lines) for s in diff.sections)} change(s)"]
    for section in diff.sections:
        if section.lines:
            lines.append(f"{section.title}:")
            lines += [f"  {line}" for line in section.lines]
    return "\n".join(lines)


def format_markdown(diff: RenderDiff, title: str) -> str:
    """The same summary for a pull request comment: a heading, then one diff block per section."""
    if not diff.changed:
        return f"### {title}\n\nNo change.\n"
    parts = [f"### {title}\n"]
    for section in diff.sections:
        if section.lines:
            parts.append(f"**{section.title}**\n\n```diff\n" + "\n".join(section.lines) + "\n```\n")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    """``python -m tooling.offline.diff BEFORE AFTER``: 0 without changes, 1 with, 2 for a bad render."""
    parser = argparse.ArgumentParser(
        prog="python -m tooling.offline.diff", description=__doc__.split("\n")[0]
    )
    parser.add_argument("before", type=Path, help="render of the base")
    parser.add_argument("after", type=Path, help="render of the change")
    parser.add_argument("--title", default="render diff", help="first line or heading, e.g. the stack")
    parser.add_argument("--markdown", action="store_true", help="Markdown for a pull request comment")
    add_debug_flag(parser)
    args = parser.parse_args(argv)
    return guarded(
        lambda: _diff_command(args.before, args.after, args.title, markdown=args.markdown),
        command="diff",
        what=f"diff of {args.before} and {args.after}",
        debug=args.debug,
        after_interrupt="nothing was written",
    )


def _diff_command(before: Path, after: Path, title: str, *, markdown: bool) -> int:
    try:
        diff = diff_renders(before, after)
    except NotARender as err:
        print(f"error: {safe_to_print(str(err))}", file=sys.stderr)
        return 2
    print(format_markdown(diff, title) if markdown else format_text(diff, title))
    return 1 if diff.changed else 0


if __name__ == "__main__":
    exit_with(main)
