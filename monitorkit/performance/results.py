"""The performance report's results: frozen dataclasses of plain values."""

from __future__ import annotations

import math
from dataclasses import dataclass

from monitorkit.performance.causes import Cause
from monitorkit.performance.fairness import FairnessGap, GroupRates
from monitorkit.schema import ResolvedSpec
from monitorkit.severity import Severity

PERFORMANCE_SCHEMA_VERSION = 1
OVERALL = "all"  # the label of the whole of current (as a window) and of every row (segment)


@dataclass(frozen=True)
class Tolerance:
    """Relative change in the bad direction past which a metric warns, and is critical.

    ``(value − baseline) / |baseline|`` beyond ``warning`` (default 10%) warns, beyond
    ``critical`` (15%) is critical — and only when the baseline value lies outside the
    value's confidence interval (so noise in a small window does not alarm).
    """

    warning: float = 0.10
    critical: float = 0.15

    def __post_init__(self) -> None:
        from monitorkit.errors import InputError

        for name in ("warning", "critical"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not value >= 0 or math.isinf(value):
                raise InputError(
                    f"tolerance: {name} must be a relative change >= 0 (0.10 for 10%); "
                    f"got {value!r}."
                )
        if self.critical < self.warning:
            raise InputError(
                f"tolerance: critical ({self.critical}) must not be below warning ({self.warning})."
            )

    def judge(self, worse_by: float, baseline: float, lower: float, upper: float) -> Severity:
        """The severity of a change ``worse_by`` (relative, > 0 is worse) whose interval is
        ``[lower, upper]``: ok unless past a tolerance and the baseline is outside."""
        if not worse_by > self.warning:
            return Severity.OK
        if math.isfinite(lower) and math.isfinite(upper) and lower <= baseline <= upper:
            return Severity.OK  # within noise
        return Severity.CRITICAL if worse_by > self.critical else Severity.WARNING


@dataclass(frozen=True)
class MetricInfo:
    """What a metric in the report is: its group (``model``, ``business``, ``operational``),
    label and direction (None: shown, not judged)."""

    name: str
    label: str
    group: str
    higher_is_better: bool | None
    tolerance: Tolerance = Tolerance()
    headline: bool = False  # leads the verdict before others of the same severity


@dataclass(frozen=True)
class MetricValue:
    """One metric on one (window, segment): its value against the baseline's.

    ``change`` is relative: ``(value − baseline) / |baseline|`` (±inf when the baseline is 0
    and the value is not; NaN without a baseline). ``lower`` / ``upper`` bound the value's
    confidence interval where one was computed. ``skipped`` says why the value was not judged
    (too few rows, no baseline value, not a judged metric).
    """

    window: str
    segment: str
    metric: str
    value: float
    baseline: float
    change: float
    severity: Severity
    n: int
    lower: float = math.nan
    upper: float = math.nan
    estimated: bool = False
    skipped: str | None = None


@dataclass(frozen=True)
class ConceptShift:
    """A window whose realised ``metric`` lies outside the band of its estimate from the
    baseline's calibration: the relation between inputs and outcome may have changed, and
    the estimates (of windows without labels too) are no longer valid."""

    window: str
    segment: str
    metric: str
    realised: float
    estimated: float
    lower: float
    upper: float


@dataclass(frozen=True)
class PerformanceWindow:
    """One window of current: rows, labelled rows, rows dropped (label but no usable
    prediction), and the confusion matrix counts (rows: true class, columns: predicted)."""

    window: str
    rows: int
    labelled: int
    dropped: int = 0
    start: str | None = None
    confusion: tuple[tuple[int, ...], ...] = ()

    @property
    def label_coverage(self) -> float:
        return self.labelled / self.rows if self.rows else math.nan


@dataclass(frozen=True)
class PerformanceResult:
    """Everything a :class:`~monitorkit.PerformanceReport` found, as plain values.

    ``windows`` starts with the whole of current (``"all"``), then the windows of ``by``.
    """

    spec: ResolvedSpec | None
    task: str | None
    target: str | None
    prediction: str | None
    threshold: float
    by: str | None
    current_rows: int
    metrics: tuple[MetricInfo, ...]
    values: tuple[MetricValue, ...]
    windows: tuple[PerformanceWindow, ...]
    segments: tuple[str, ...] = ()  # segment columns
    classes: tuple[str, ...] = ()
    baseline_model: str | None = None
    has_baseline: bool = True
    note: str | None = None
    causes: tuple[Cause, ...] = ()  # where to look first: the lead value's ranked causes
    # Binary with scores, the whole of current: (mean score, share positive, rows) per filled
    # bin of 10 equal-width score bins (metrics.calibration_bins).
    calibration_curve: tuple[tuple[float, float, int], ...] = ()
    # Fairness (sensitive attributes, binary task): per group and window, and the gaps.
    fairness_groups: tuple[GroupRates, ...] = ()
    fairness: tuple[FairnessGap, ...] = ()
    # Estimation without labels (a baseline with a calibration): estimated values per cell,
    # judged where no realised value is, and the windows whose realised values left the band.
    estimated: tuple[MetricValue, ...] = ()
    concept_shifts: tuple[ConceptShift, ...] = ()
