"""Kubernetes resource quantities, parsed so config can be checked and footprints added up.

Only the forms a person writes for CPU and memory are accepted (``250m``, ``0.5``, ``512Mi``,
``1G``); exotic ones such as ``1e3`` are refused with a clear error rather than guessed at.
"""

from __future__ import annotations

import re
from decimal import Decimal

__all__ = ["cpu_cores", "format_cores", "memory_bytes"]

# ASCII digits, matched whole: Python's \d takes any Unicode digit (full-width ones included), and $
# matches before a trailing newline; Kubernetes' quantity grammar takes neither.
_CPU = re.compile(r"(?P<number>[0-9]+(\.[0-9]+)?)(?P<unit>m?)")
_MEMORY = re.compile(r"(?P<number>[0-9]+(\.[0-9]+)?)(?P<unit>Ki|Mi|Gi|Ti|k|M|G|T)?")
_MEMORY_UNITS = {
    None: 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}


def cpu_cores(quantity: str) -> Decimal:
    """``"250m"`` -> 0.25; raises ValueError naming the allowed forms."""
    match = _CPU.fullmatch(quantity)
    if not match:
        raise ValueError(f"{quantity!r} is not a CPU quantity such as '250m' or '1.5'")
    number = Decimal(match["number"])
    return number / 1000 if match["unit"] == "m" else number


def memory_bytes(quantity: str) -> int:
    """``"512Mi"`` -> 536870912; raises ValueError naming the allowed forms."""
    match = _MEMORY.fullmatch(quantity)
    if not match:
        raise ValueError(f"{quantity!r} is not a memory quantity such as '512Mi' or '2Gi'")
    return int(Decimal(match["number"]) * _MEMORY_UNITS[match["unit"]])


def format_cores(cores: Decimal) -> str:
    """Cores as millicores, the way the render's summary totals requests."""
    return f"{int(cores * 1000)}m"
