"""The quality report's results: frozen dataclasses of plain values."""

from __future__ import annotations

import math
from dataclasses import dataclass

from monitorkit.schema import ResolvedSpec
from monitorkit.severity import Severity

QUALITY_SCHEMA_VERSION = 1
MAX_EXAMPLES = 5
EXAMPLE_CHARS = 60


@dataclass(frozen=True)
class Thresholds:
    """Share of current rows a problem must reach to warn, and to be critical.

    Defaults: a warning from 1% of the rows, critical from 5% — and never from fewer than
    ``min_count`` rows (5), so that one odd value in a small window is not an alarm.
    """

    warning: float = 0.01
    critical: float = 0.05
    min_count: int = 5

    def __post_init__(self) -> None:
        from monitorkit.errors import InputError

        for name in ("warning", "critical"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0 <= value <= 1 or math.isnan(value):
                raise InputError(f"thresholds: {name} must be a share in [0, 1]; got {value!r}.")
        if self.critical < self.warning:
            raise InputError(
                f"thresholds: critical ({self.critical}) must not be below warning "
                f"({self.warning})."
            )
        if not isinstance(self.min_count, int) or self.min_count < 1:
            raise InputError(
                f"thresholds: min_count must be a positive integer; got {self.min_count!r}."
            )

    def judge(self, count: int, rate: float) -> Severity:
        """The severity of a problem affecting ``count`` rows, a share ``rate`` of them."""
        if count < self.min_count or not rate > 0:
            return Severity.OK
        if rate >= self.critical:
            return Severity.CRITICAL
        if rate >= self.warning:
            return Severity.WARNING
        return Severity.OK


@dataclass(frozen=True)
class Finding:
    """One data-quality problem (or a note, at severity ``ok``).

    ``count`` rows of current are affected, a share ``rate`` of its rows (NaN when the problem
    is not about rows, e.g. a category that disappeared, whose ``rate`` is its share in the
    reference). ``examples`` are up to five offending values as text, truncated to 60
    characters (escaped when shown as HTML). ``since`` is the first window (``by=``) in which
    the problem reached a warning; ``window`` is set on the per-window findings.
    """

    column: str | None
    check: str
    severity: Severity
    count: int
    rate: float
    message: str
    examples: tuple[str, ...] = ()
    since: str | None = None
    window: str | None = None


@dataclass(frozen=True)
class QualityWindow:
    """The problems of one window of current (``by=``) at warning or above."""

    window: str
    rows: int
    findings: tuple[Finding, ...] = ()
    skipped: str | None = None


@dataclass(frozen=True)
class QualityResult:
    """Everything a :class:`~monitorkit.QualityReport` found, as plain values."""

    spec: ResolvedSpec | None
    reference_rows: int
    current_rows: int
    columns: tuple[str, ...]  # the columns checked
    findings: tuple[Finding, ...]
    thresholds: Thresholds = Thresholds()
    windows: tuple[QualityWindow, ...] = ()
    by: str | None = None
    reference_has_rows: bool = True
    missing_rates: tuple[tuple[str, float], ...] = ()  # current missing rate per column
