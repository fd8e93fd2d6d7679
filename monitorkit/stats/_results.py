"""The value a drift method returns, and the warning it emits when it cannot compute one."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass


class DegenerateStatisticWarning(UserWarning):
    """A drift statistic is undefined for the data given and was returned as NaN.

    Emitted, like scipy's own small-sample warnings, when a side is empty, a reference
    is constant where the statistic divides by its spread, or no category is left.
    The message names the method and the reason. It is a data finding, never an error.
    """


@dataclass(frozen=True)
class MethodResult:
    """What one drift method computed for one column.

    Attributes
    ----------
    statistic : float
        The method's statistic; its meaning, range and direction are on the method's
        :class:`~monitorkit.stats.DriftMethod` spec. NaN when degenerate.
    p_value : float or None
        Two-sided p-value of the method's test, in [0, 1]; NaN when degenerate;
        ``None`` for pure distances, which have no test.
    """

    statistic: float
    p_value: float | None = None

    @property
    def is_degenerate(self) -> bool:
        """True when the statistic could not be computed (it is NaN)."""
        return math.isnan(self.statistic)

    def to_dict(self) -> dict[str, float | None]:
        """Plain ``{"statistic": ..., "p_value": ...}`` (NaN stays a float NaN)."""
        return {"statistic": self.statistic, "p_value": self.p_value}


def _result(statistic: float, p_value: float | None = None) -> MethodResult:
    """Build a :class:`MethodResult` with plain Python floats (no numpy scalars)."""
    return MethodResult(float(statistic), None if p_value is None else float(p_value))


def _degenerate(
    method: str, reason: str, *, has_p_value: bool, stacklevel: int = 3
) -> MethodResult:
    """Warn that ``method`` is undefined because of ``reason`` and return a NaN result.

    The default ``stacklevel`` points the warning at the code that called the drift
    method, when ``_degenerate`` is called from the method's own body.
    """
    warnings.warn(
        f"{method}: {reason}; the statistic is undefined and is returned as NaN",
        DegenerateStatisticWarning,
        stacklevel=stacklevel,
    )
    return MethodResult(math.nan, math.nan if has_p_value else None)
