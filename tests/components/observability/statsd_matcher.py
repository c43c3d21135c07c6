"""statsd-exporter's mapping rules, in Python, to check our mappings against real StatsD lines.

The rules followed (statsd_exporter ``pkg/mapper/mapper.go``): glob mappings are tried first, the
first one in file order that matches wins, each ``*`` standing for one dot-separated component; if
none does, regex mappings are tried in file order, unanchored unless the pattern anchors itself, and
``${n}`` in the name and labels expands to group n. ``match_metric_type`` restricts a mapping to
counters (``c``), gauges (``g``) or observers (``ms``, ``h``, ``d``). ``action: drop`` discards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["Mapped", "map_line", "parse_line"]

_TYPES = {"c": "counter", "g": "gauge", "ms": "observer", "h": "observer", "d": "observer"}


@dataclass(frozen=True)
class Mapped:
    name: str
    labels: tuple[tuple[str, str], ...]
    dropped: bool = False

    def label(self, key: str) -> str:
        return dict(self.labels)[key]


def parse_line(line: str) -> tuple[str, str]:
    """``name:value|type[|@rate]`` -> (name, metric type)."""
    name, rest = line.split(":", 1)
    return name, _TYPES[rest.split("|")[1]]


def _glob(pattern: str, name: str) -> list[str] | None:
    parts, wanted = name.split("."), pattern.split(".")
    if len(parts) != len(wanted):
        return None
    captures = []
    for part, want in zip(parts, wanted, strict=True):
        if want == "*":
            captures.append(part)
        elif want != part:
            return None
    return captures


def _expand(template: str, groups: list[str]) -> str:
    return re.sub(r"\$\{?(\d+)\}?", lambda m: groups[int(m.group(1)) - 1], template)


def _result(mapping: dict[str, Any], groups: list[str]) -> Mapped:
    labels = tuple(sorted((key, _expand(value, groups)) for key, value in mapping.get("labels", {}).items()))
    return Mapped(_expand(mapping["name"], groups), labels, mapping.get("action") == "drop")


def map_line(mappings: list[dict[str, Any]], line: str) -> Mapped | None:
    """What statsd-exporter makes of one StatsD line, or None when no mapping matches."""
    name, metric_type = parse_line(line)

    def allowed(mapping: dict[str, Any]) -> bool:
        return mapping.get("match_metric_type") in (None, metric_type)

    for mapping in mappings:
        if mapping.get("match_type", "glob") == "glob" and allowed(mapping):
            captures = _glob(mapping["match"], name)
            if captures is not None:
                return _result(mapping, captures)
    for mapping in mappings:
        if mapping.get("match_type") == "regex" and allowed(mapping):
            found = re.search(mapping["match"], name)
            if found:
                return _result(mapping, list(found.groups()))
    return None
