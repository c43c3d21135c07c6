"""How ``gopkg.in/yaml.v2``, which the Pulumi CLI reads stack files with, types a plain scalar inside an
object, and how Go prints a decoded mapping key: the YAML 1.1 words and numbers ``stack_file`` must
read as the CLI does (``off`` a boolean, ``010`` octal 8, ``1_000`` a thousand, a date a string)."""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["NULLS", "STANDARD_TAGS", "go_text", "resolve"]

# yaml.v2's resolve table: plain scalars that mean something other than a string.
_BOOLEANS = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
}
STANDARD_TAGS = tuple(f"tag:yaml.org,2002:{name}" for name in ("bool", "int", "float", "null", "timestamp"))
NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_SPECIAL_FLOATS = {
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_YAML_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_GO_INT = re.compile(r"^[-+]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]*|0[bB][01]+|[1-9][0-9]*)$")
_INT64 = 2**63
_UINT64 = 2**64


def resolve(text: str) -> Any:
    """A plain scalar inside an object, as yaml.v2 resolves it into ``interface{}``."""
    if text in _BOOLEANS:
        return _BOOLEANS[text]
    if text in NULLS:
        return None
    if text in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[text]
    first = text[0]
    if first == ".":
        return float(text) if _YAML_FLOAT.match(text) else text
    if first not in "+-0123456789":
        return text
    plain = text.replace("_", "")
    if _GO_INT.match(plain):
        number = _go_int(plain)
        if -_INT64 <= number < _UINT64:
            return number
    if _YAML_FLOAT.match(plain):
        return float(plain)
    return text  # dates and anything else stay strings


def _go_int(text: str) -> int:
    """``strconv.ParseInt(text, 0, 64)``'s base rules: 0x, 0o, 0b and a bare leading 0 (octal)."""
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    lower = digits.lower()
    if lower.startswith("0x"):
        return sign * int(digits[2:], 16)
    if lower.startswith("0b"):
        return sign * int(digits[2:], 2)
    if lower.startswith("0o"):
        return sign * int(digits[2:], 8)
    if digits.startswith("0") and len(digits) > 1:
        return sign * int(digits[1:], 8)
    return sign * int(digits)


def go_text(value: Any) -> str:
    """A decoded mapping key as Go's ``fmt.Sprintf("%v", key)`` prints it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<nil>"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)
