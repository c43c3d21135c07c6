"""How the pinned Pulumi CLI (3.274.1) turns a stack file's value into the text a program receives: it
reads the file with ``gopkg.in/yaml.v3``, decodes each value into Go's ``any``, and passes a scalar as
its JSON text and an object as JSON (``sdk/go/common/resource/config/object.go``, ``MarshalString``).

So a plain scalar is typed by yaml.v3's rules, at the top as inside an object: only ``true`` and
``false`` (three spellings each) are booleans, ``off`` and ``yes`` stay text; ``010`` is octal 8,
``1_000`` a thousand, ``1e3`` the number 1000; a date becomes a Go ``time.Time``; a number too large
for a float stays text. ``tests/components/test_stack_file_vs_cli.py`` holds this against the real
CLI."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["NULLS", "STANDARD_TAGS", "Timestamp", "go_json", "go_text", "marshal_string", "resolve"]

# yaml.v3's resolve table: plain scalars that mean something other than a string.
_BOOLEANS = {
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
}
STANDARD_TAGS = tuple(f"tag:yaml.org,2002:{name}" for name in ("bool", "int", "float", "null", "timestamp"))
NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_SPECIAL_FLOATS = {
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
# strconv.ParseInt(s, 0, 64): an optional sign, then 0x/0o/0b digits, a leading-0 octal, or decimal.
_GO_INT = re.compile(r"[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)")
# yaml.v3's timestamp formats all start with four digits and '-' (parseTimestamp's quick check).
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"([Tt ][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]+)?(Z|[-+][0-9]{2}:[0-9]{2})?)?"
)
_INT64 = 2**63
_UINT64 = 2**64


@dataclass(frozen=True)
class Timestamp:
    """An unquoted date or time: the CLI passes it on as Go's ``time.String()``, never as written."""

    text: str


def resolve(text: str) -> Any:
    """A plain scalar, as yaml.v3 resolves it into ``any``."""
    if text in _BOOLEANS:
        return _BOOLEANS[text]
    if text in NULLS:
        return None
    if text in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[text]
    first = text[0]
    if first == ".":
        return _go_float(text)
    if first not in "+-0123456789":
        return text
    if _TIMESTAMP.fullmatch(text):
        return Timestamp(text)
    plain = text.replace("_", "")
    if _GO_INT.fullmatch(plain):
        number = _go_int(plain)
        if -_INT64 <= number < _UINT64:
            return number
    if _YAML_FLOAT.fullmatch(plain):
        return _go_float(plain)
    return text


def _go_float(text: str) -> Any:
    """``strconv.ParseFloat``: a value out of a float's range is an error, so the text stays text."""
    try:
        value = float(text)
    except ValueError:
        return text
    return text if math.isinf(value) else value


def _go_int(text: str) -> int:
    """``strconv.ParseInt(text, 0, 64)``'s base rules: 0x, 0o, 0b and a bare leading 0 (octal)."""
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    bases = {"0x": 16, "0o": 8, "0b": 2}
    if digits[:2].lower() in bases:
        return sign * int(digits[2:], bases[digits[:2].lower()])
    if digits.startswith("0") and len(digits) > 1:
        return sign * int(digits[1:], 8)
    return sign * int(digits)


def go_text(value: Any) -> str:
    """A decoded mapping key as Go's ``fmt.Sprintf("%v", key)`` prints it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<nil>"
    if isinstance(value, float):
        return _go_float_text(value, "g")
    return str(value)


def marshal_string(value: Any) -> str:
    """A top-level value as the CLI passes it: text as is, a boolean or number as its JSON."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # a uint64 past int64 too: a top-level value is not decoded again
    return value if isinstance(value, str) else go_json(value)


def go_json(value: Any) -> str:
    """``encoding/json.Marshal``: keys sorted, no spaces, floats in Go's shortest form, and ``<``, ``>``,
    ``&``, U+2028 and U+2029 escaped."""
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(f"{_go_string(key)}:{go_json(item)}" for key, item in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(go_json(item) for item in value) + "]"
    if isinstance(value, str):
        return _go_string(value)
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("json: unsupported value")
        return _go_float_text(value, "json")
    if not -_INT64 <= value < _INT64:
        # An object's JSON is decoded again before the program gets it (json.Number: int64, else
        # float64), so a uint64 past int64 arrives as a float.
        return _go_float_text(float(value), "json")
    return str(value)


def _go_string(text: str) -> str:
    encoded = json.dumps(text, ensure_ascii=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        encoded = encoded.replace(char, escape)
    return encoded.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _go_float_text(value: float, style: str) -> str:
    """Go's shortest float text: ``json`` as encoding/json writes it (plain digits from 1e-6 up to 1e21,
    else ``1e+21``, ``1e-7``), ``g`` as ``%v`` prints it (plain from 1e-4 up to 1e6, else ``1e+06``)."""
    if value == 0:
        return "0"
    _, digits, exponent = Decimal(repr(abs(value))).normalize().as_tuple()
    shown = "".join(map(str, digits))
    power = len(digits) - 1 + int(exponent)  # the decimal exponent of the leading digit
    low, high = (-6, 21) if style == "json" else (-4, 6)
    minus = "-" if value < 0 else ""
    if low <= power < high:
        return minus + format(Decimal(repr(abs(value))).normalize(), "f")
    mantissa = shown[0] + (f".{shown[1:]}" if len(shown) > 1 else "")
    if style == "json" and -10 < power < 0:
        return f"{minus}{mantissa}e-{-power}"  # encoding/json writes e-7 where strconv writes e-07
    return f"{minus}{mantissa}e{'-' if power < 0 else '+'}{abs(power):02d}"
