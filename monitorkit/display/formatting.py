"""Numbers for people: significant digits, thousands separators, percentages."""

from __future__ import annotations

import math
from typing import Any


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value: Any, digits: int = 3) -> str:
    """``digits`` significant digits; thousands separators; scientific only when tiny/huge."""
    if is_missing(value):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    value = float(value)
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1e9 or magnitude < 1e-3:
        return f"{value:.{max(digits - 1, 0)}e}"
    decimals = max(digits - 1 - math.floor(math.log10(magnitude)), 0)
    return f"{value:,.{decimals}f}"


def p_value(value: Any) -> str:
    """p-values: three significant digits, ``< 1e-300`` for underflow."""
    if is_missing(value):
        return "–"
    if value == 0:
        return "< 1e-300"
    return number(value, 2)


def percent(value: Any, digits: int = 1) -> str:
    if is_missing(value):
        return "–"
    return f"{100 * float(value):.{digits}f}%"


def signed_points(value: Any) -> str:
    """A change of a share, in percentage points: ``+3.2 pp``."""
    if is_missing(value):
        return "–"
    if abs(value) < 0.0005:
        return "0 pp"
    return f"{100 * float(value):+.1f} pp"
