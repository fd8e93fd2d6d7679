"""Model performance: is the model still as good as its baseline says, per window and segment?

:class:`PerformanceReport` computes the registered metrics (:mod:`monitorkit.performance.metrics`)
of current's labelled rows, business outcomes (``business=``) and latency / error rate, on the
whole of current (window ``"all"``), on each window of ``by=``, and on each segment (every value
of the segment columns, plus ``"all"``), and compares each with the baseline's value of the
same metric — of the same segment when the baseline holds it (``"recall|region=north"``), else
of the whole baseline.

Judging (direction-aware): each metric says whether higher is better. A relative change
``(value − baseline) / |baseline|`` of more than 10% in the bad direction warns and more than
15% is critical (``tolerance=``), but only when the baseline value lies outside the value's
confidence interval (Wilson for proportions, the normal interval of a mean for per-row losses
and business columns, order statistics for latency percentiles, a seeded bootstrap of 200
resamples for the rest). The intervals are 95% for a report of one cell and share that level
between the tests of a larger report — its (window, segment) cells times the judged metrics
(:func:`judged_tests`) — by Bonferroni, so that on unchanged data a report alarms on any
metric of any cell in at most about 5% of cases; they are widened by
``sqrt(1 + rows / baseline rows)`` for the baseline's own sampling error (the baseline stores
its labelled rows per segment as ``rows|<segment>``; the same spread per row is assumed).
Windows or segments with fewer than 100 labelled rows (30 of a class for class-based metrics)
are shown, marked "too few rows", and never alarm.

Current without labels (no target column, or every label missing) is normal for fresh
production data: the report says "no labels in current yet", is ``ok``, and still judges
latency and business outcomes. A report that could judge nothing — no baseline to compare
with, a baseline holding none of current's model metrics, or every value too small to judge —
says why in ``not_judged``, and its severity is critical: never a green.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from monitorkit.errors import ColumnNotFoundError, InputError
from monitorkit.performance import causes, estimation, fairness
from monitorkit.performance import metrics as registry
from monitorkit.performance.causes import Cause
from monitorkit.performance.labels import PreparedLabels, confusion_counts, prepare_labels
from monitorkit.performance.results import (
    OVERALL,
    PERFORMANCE_SCHEMA_VERSION,
    ConceptShift,
    MetricInfo,
    MetricValue,
    PerformanceResult,
    PerformanceWindow,
    Tolerance,
)
from monitorkit.report import Report
from monitorkit.schema import ColumnSpec, category_labels, numeric_values, read_frame, resolve_spec
from monitorkit.severity import Severity

MAX_SEGMENT_VALUES = 20
"""Per segment column, the most frequent values that become segments (the rest are left out)."""

LATENCY_COLUMNS = ("latency_ms", "latency")
ERROR_COLUMN = "error"
RESOURCE_COLUMNS = (("memory_mb", "memory (MB)"), ("cpu_ms", "CPU time (ms)"))
"""Per-prediction resource columns judged by their mean when present (lower is better)."""
_LATENCY = (
    ("latency_p50", 50, "p50_ms"),
    ("latency_p95", 95, "p95_ms"),
    ("latency_p99", 99, "p99_ms"),
)

BusinessSpec = Mapping[Any, "str | Callable[[pd.DataFrame], float]"]


class PerformanceReport(Report, kind="performance"):
    """Model metrics, business outcomes and latency of ``current`` against a baseline.

    Parameters
    ----------
    current
        Predictions with (some) labels: a DataFrame or anything :func:`monitorkit.read_frame`
        reads. Join late labels with :func:`monitorkit.join_labels`.
    spec
        A :class:`~monitorkit.ColumnSpec` (``target``, ``prediction``, ``prediction_label``,
        ``timestamp``, ``segments``); from a baseline by default.
    baseline
        A :class:`~monitorkit.Baseline` (its ``metrics`` and ``latency``), a saved baseline's
        ``.json`` path, or reference rows with labels (a DataFrame or path), whose metrics are
        computed here the same way.
    by
        Windows of current (``"1D"``, ``"W-MON"``, an integer number of chunks); None: the
        whole of current only.
    segments
        Segment columns (default: the spec's ``segments``); each value is a segment.
    threshold
        A score at or above it predicts the positive class (when there is no
        ``prediction_label`` column).
    metrics
        Only these metric names (default: every registered metric of the task).
    business
        ``{name: column}`` (the column's mean) or ``{name: function(frame) -> float}``;
        a key ``(name, "lower")`` or ``"name:lower"`` declares that lower is better (default
        higher).
    tolerance
        ``{"warning": 0.10, "critical": 0.15}`` for every metric, or per metric name
        (``{"recall": {"warning": 0.05, "critical": 0.1}, "*": {...}}``).
    task
        ``"binary"``, ``"multiclass"`` or ``"regression"``; inferred from the target by default.

    Examples
    --------
    >>> import monitorkit as mk
    >>> scenario = mk.datasets.load_scenario("fraud_imbalance", n_rows=20_000)
    >>> baseline = mk.Baseline.from_frame(scenario.reference, scenario.spec)
    >>> perf = mk.PerformanceReport(scenario.current, baseline=baseline, by="1W")
    >>> perf.severity, perf.worst.metric
    (<Severity.CRITICAL: 'critical'>, 'recall')
    """

    schema_version = PERFORMANCE_SCHEMA_VERSION
    result_type = PerformanceResult
    title = "Model performance"

    def __init__(
        self,
        current: Any,
        spec: ColumnSpec | Mapping[str, Any] | None = None,
        baseline: Any = None,
        by: str | int | None = None,
        segments: Sequence[str] | str | None = None,
        *,
        threshold: float = 0.5,
        metrics: Sequence[str] | None = None,
        business: BusinessSpec | None = None,
        tolerance: Mapping[str, Any] | None = None,
        task: str | None = None,
        fairness_rule: Any = None,
    ) -> None:
        self.result = compute_performance(
            current,
            spec=spec,
            baseline=baseline,
            by=by,
            segments=segments,
            threshold=threshold,
            metrics=metrics,
            business=business,
            tolerance=tolerance,
            task=task,
            fairness_rule=fairness_rule,
        )

    # ---- views ---------------------------------------------------------------------------

    @property
    def all_values(self) -> tuple[MetricValue, ...]:
        """The realised values, then the estimated ones (estimation without labels)."""
        return self.result.values + self.result.estimated

    @property
    def problems(self) -> list[MetricValue]:
        """Values (realised or estimated) at warning or above, worst first (overall rows
        before windows at a tie)."""
        bad = [v for v in self.all_values if v.severity > Severity.OK]
        return sorted(bad, key=lambda v: (-v.severity.rank, -self._worse_by(v)))

    @property
    def fairness_problems(self) -> list[Any]:
        """Fairness gaps at warning or above, the most severe first."""
        bad = [g for g in self.result.fairness if g.severity > Severity.OK]
        return sorted(bad, key=lambda g: (-g.severity.rank, g.window != OVERALL))

    @property
    def worst(self) -> MetricValue | None:
        """The value leading the verdict (see :attr:`verdict`), or None when all is well."""
        leads = self._leads()
        return leads[0][0] if leads else None

    @property
    def labelled(self) -> bool:
        """Whether current has any labelled row."""
        return bool(self.result.windows and self.result.windows[0].labelled)

    @property
    def not_judged(self) -> str | None:
        """Why nothing could be judged (no baseline), or None. Missing labels are normal."""
        result = self.result
        if not result.has_baseline:
            return (
                "there is no baseline to compare with; pass baseline= (a Baseline or reference "
                "rows with labels)"
            )
        if result.note and result.note.startswith("the baseline has model metrics"):
            return f"{result.note}: was it renamed or dropped?"
        judged = [v for v in result.values if v.skipped is None]
        if (
            result.values
            and not judged
            and all(not math.isfinite(v.baseline) for v in result.values)
        ):
            return "the baseline holds none of the metrics computed on current"
        # Something to judge, but nothing judged (every cell too small, say): not a green.
        # Metrics without a direction (throughput, calibration error) are never judged.
        directed = {i.name for i in result.metrics if i.higher_is_better is not None}
        judgeable = [v for v in result.values if v.metric in directed]
        if (
            judgeable
            and not judged
            and not any(v.skipped is None for v in result.estimated)
            and not any(g.skipped is None for g in result.fairness)
        ):
            reasons = Counter(v.skipped for v in judgeable if v.window == OVERALL)
            reason = reasons.most_common(1)[0][0] if reasons else "no value could be judged"
            return (
                f"nothing could be judged ({reason}, for instance); collect more rows (at "
                f"least {registry.MIN_LABELLED_ROWS} labelled rows in a window) or wait for them"
            )
        # Labels in current but no model metric to compare with: the latency figures alone
        # must not make the report look judged.
        groups = {i.name: i.group for i in result.metrics}
        model = [
            v
            for v in result.values
            if groups.get(v.metric) == "model" and v.window == OVERALL and v.segment == OVERALL
        ]
        if model and not any(math.isfinite(v.baseline) for v in model):
            shown = ", ".join(v.metric for v in model[:4]) + (", …" if len(model) > 4 else "")
            return (
                f"the baseline holds none of the model metrics computed on current ({shown}: "
                f"a {result.task} task, as current's target '{result.target}' reads); build "
                "the baseline from labelled reference data of the same model, or pass task=… "
                "if current's task was read wrongly (integer class ids read as regression)"
            )
        return None

    @property
    def severity(self) -> Severity:
        """The worst of the metrics (realised and estimated) and fairness gaps; at least a
        warning when realised values left their estimates' band (a concept shift); critical
        when nothing could be judged."""
        if self.not_judged:
            return Severity.CRITICAL
        found = [v.severity for v in self.all_values]
        found += [g.severity for g in self.result.fairness]
        if self.result.concept_shifts:
            found.append(Severity.WARNING)
        return Severity.worst(found)

    def _info(self, name: str) -> MetricInfo | None:
        return next((m for m in self.result.metrics if m.name == name), None)

    def _worse_by(self, value: MetricValue) -> float:
        return worse_by(value, self._info(value.metric))

    def _leads(self) -> list[tuple[MetricValue, str | None]]:
        result = self.result
        return lead_values(self.problems, result.metrics, [w.window for w in result.windows])

    def _describe(self, value: MetricValue, since: str | None) -> str:
        info = self._info(value.metric)
        label = info.label if info else value.metric
        if value.estimated:
            label += " (estimated without labels)"
        where = "" if value.segment == OVERALL else f" in {value.segment}"
        when = "" if value.window == OVERALL else f" in window {value.window}"
        verb = "fell" if value.value < value.baseline else "rose"
        size = "from 0" if not math.isfinite(value.change) else f"{abs(value.change):.0%}"
        text = (
            f"{label}{where} {verb} {size} against the baseline "
            f"({_num(value.baseline)} → {_num(value.value)}){when}"
        )
        if since and self.result.by is not None and since != value.window:
            text += f" since {since}"
        return text

    def _fairness_text(self) -> str | None:
        bad = self.fairness_problems
        if not bad:
            return None
        gap = bad[0]
        measure = fairness.MEASURES[gap.measure]
        when = "" if gap.window == OVERALL else f" in window {gap.window}"
        text = (
            f"{measure.label} for {gap.attribute} is {_num(gap.value)}{when} "
            f"({gap.lowest_group} lowest, {gap.highest_group} highest"
            + (f"; baseline {_num(gap.baseline)}" if math.isfinite(gap.baseline) else "")
            + ")"
        )
        others = {(g.measure, g.attribute) for g in bad} - {(gap.measure, gap.attribute)}
        if others:
            text += f" and {len(others)} more fairness gap{'s' if len(others) > 1 else ''}"
        return text

    def _shift_text(self) -> str | None:
        shifts = self.result.concept_shifts
        if not shifts:
            return None
        first = shifts[0]
        when = "" if first.window == OVERALL else f" in window {first.window}"
        return (
            f"{estimation.CONCEPT_DRIFT_MESSAGE} ({first.metric}{when}: realised "
            f"{_num(first.realised)}, outside the estimate's band {_num(first.lower)}–"
            f"{_num(first.upper)})"
        )

    @property
    def verdict(self) -> str:
        """One sentence: the worst change against the baseline (where it is concentrated),
        what else moved, fairness gaps, and a concept shift when realised values left the
        estimates' band."""
        result = self.result
        if self.not_judged:
            return f"performance could not be judged: {self.not_judged}"
        leads = self._leads()
        unlabelled = None if self.labelled else (result.note or "no labels in current yet")
        parts = []
        if leads:
            text = self._describe(*leads[0])
            cause = result.causes[0] if result.causes else None
            lead = leads[0][0]
            if cause is not None and (cause.metric, cause.window, cause.segment) == (
                lead.metric,
                lead.window,
                lead.segment,
            ):
                verb = "fell" if lead.value < lead.baseline else "rose"
                text += f"; it {verb} most for {cause.describe()}"
            others = [lead for lead, _ in leads[1:]]
            if others:
                named = ", ".join(
                    f"{v.metric}{'' if v.segment == OVERALL else ' in ' + v.segment}"
                    f" ({_signed(v.change)})"
                    for v in others[:3]
                )
                more = f" and {len(others) - 3} more" if len(others) > 3 else ""
                text += f"; also {named}{more}"
            parts.append(text)
        fair = self._fairness_text()
        if fair:
            parts.append(f"fairness: {fair}" if parts else fair)
        shift = self._shift_text()
        if shift:
            parts.append(shift)
        if not parts:
            judged = {v.metric for v in self.all_values if v.skipped is None}
            parts.append(
                f"{len(judged)} metrics within tolerance of the baseline"
                if judged
                else "nothing to compare with the baseline yet"
            )
        text = "; ".join(parts)
        return f"{unlabelled}; {text}" if unlabelled else text

    @property
    def figures(self) -> dict[str, float]:
        """Flat named numbers: per metric on the whole of current ``<metric>``,
        ``<metric>.baseline`` (the baseline's value), ``<metric>.change`` and
        ``<metric>.rows`` (the rows it was computed on); per segment the same four with
        ``|<segment>`` appended (``recall|region=north``, ``recall.baseline|region=north``: the
        baseline of that segment); estimated (without labels) ``<metric>.estimated``; per
        fairness gap on the whole ``<measure>|<attribute>`` and ``<measure>.rows|<attribute>``
        (the labelled rows of current, what ``min_rows`` of an alert rule reads);
        ``label_coverage``, ``rows``, ``labelled_rows``, ``problems``, ``fairness_problems``,
        ``concept_shifts``."""
        result = self.result
        figures: dict[str, float] = {"rows": result.current_rows, "problems": len(self.problems)}
        if result.windows:
            overall = result.windows[0]
            figures["labelled_rows"] = overall.labelled
            figures["label_coverage"] = overall.label_coverage
        for value in result.values:
            if value.window != OVERALL:
                continue
            tail = "" if value.segment == OVERALL else f"|{value.segment}"
            figures[f"{value.metric}{tail}"] = value.value
            figures[f"{value.metric}.baseline{tail}"] = value.baseline
            figures[f"{value.metric}.change{tail}"] = value.change
            figures[f"{value.metric}.rows{tail}"] = value.n
        for value in result.estimated:
            if value.window == OVERALL and value.segment == OVERALL:
                figures[f"{value.metric}.estimated"] = value.value
        if result.fairness:
            figures["fairness_problems"] = len(self.fairness_problems)
            for gap in result.fairness:
                if gap.window == OVERALL:
                    figures[f"{gap.measure}|{gap.attribute}"] = gap.value
                    figures[f"{gap.measure}.rows|{gap.attribute}"] = overall.labelled
        if result.estimated:
            figures["concept_shifts"] = len(result.concept_shifts)
        return {k: float(v) for k, v in figures.items() if math.isfinite(v)}

    def to_frame(self) -> pd.DataFrame:
        """One row per (window, segment, metric): value, baseline, change, severity,
        estimated, n, lower, upper, and why it was not judged (``skipped``)."""
        columns = [
            "window",
            "segment",
            "metric",
            "value",
            "baseline",
            "change",
            "severity",
            "estimated",
            "n",
            "lower",
            "upper",
            "skipped",
        ]
        rows = [{**dataclasses.asdict(v), "severity": str(v.severity)} for v in self.all_values]
        return pd.DataFrame(rows, columns=columns)

    def fairness_frame(self) -> pd.DataFrame:
        """One row per (window, attribute, measure) gap: value, baseline, interval, severity,
        the groups with the lowest and highest rate, why it was not judged."""
        rows = [
            {**dataclasses.asdict(g), "severity": str(g.severity)} for g in self.result.fairness
        ]
        return pd.DataFrame(rows)

    def over_time(self, segment: str = OVERALL) -> pd.DataFrame:
        """One row per window of ``by`` (not the whole), one column per metric's value: the
        realised value, else the estimated one (without labels)."""
        frame = self.to_frame()
        frame = frame[(frame["window"] != OVERALL) & (frame["segment"] == segment)]
        if frame.empty:
            return pd.DataFrame()
        order = [w.window for w in self.result.windows if w.window != OVERALL]
        realised, estimated = (
            frame[frame["estimated"] == flag].pivot(
                index="window", columns="metric", values="value"
            )
            for flag in (False, True)
        )
        return realised.combine_first(estimated).reindex(order)

    def __str__(self) -> str:
        result = self.result
        lines = [f"{self.title}: {self.severity.upper()} — {self.verdict}"]
        if result.windows:
            overall = result.windows[0]
            lines.append(
                f"task {result.task or 'unknown'}; {result.current_rows:,} rows, "
                f"{overall.labelled:,} labelled ({_pct(overall.label_coverage)})"
                + (
                    f", {overall.dropped:,} dropped (no usable prediction)"
                    if overall.dropped
                    else ""
                )
            )
        for value in self.result.values:
            if value.window == OVERALL and value.segment == OVERALL:
                lines.append(
                    f"  {value.metric:<24} {_num(value.value):>9}  baseline "
                    f"{_num(value.baseline):>9}  {_signed(value.change):>7}  {value.severity}"
                    + (f"  ({value.skipped})" if value.skipped else "")
                )
        if self.problems:
            lines.append("problems:")
            for value in self.problems[:10]:
                lines.append(
                    f"  {value.severity.upper():<8} {value.window} / {value.segment}: "
                    f"{value.metric} {_num(value.value)} vs {_num(value.baseline)} "
                    f"({_signed(value.change)})"
                )
        return "\n".join(lines)


def worse_by(value: MetricValue, info: MetricInfo | None) -> float:
    """How much worse than the baseline ``value`` is, relative (> 0 worse; ±inf from 0)."""
    if info is None or info.higher_is_better is None or not math.isfinite(value.change):
        return math.inf if value.change in (math.inf, -math.inf) else 0.0
    return -value.change if info.higher_is_better else value.change


def lead_values(
    problems: Sequence[MetricValue],
    metrics: Sequence[MetricInfo],
    window_order: Sequence[str],
) -> list[tuple[MetricValue, str | None]]:
    """One value per (metric, segment) with problems — the overall window's when it is a
    problem, else the worst window's — with the first window that had the problem; the most
    severe first, then whole-of-current before segments, headline metrics first, the largest
    change first. The first is what the verdict leads with."""
    infos = {m.name: m for m in metrics}
    groups: dict[tuple[str, str], list[MetricValue]] = {}
    for value in problems:
        groups.setdefault((value.metric, value.segment), []).append(value)
    leads = []
    for values in groups.values():
        overall = [v for v in values if v.window == OVERALL]
        lead = overall[0] if overall else values[0]
        windows = sorted((v.window for v in values if v.window != OVERALL), key=window_order.index)
        leads.append((lead, windows[0] if windows else None))
    leads.sort(
        key=lambda item: (
            -item[0].severity.rank,
            item[0].segment != OVERALL,
            not (infos.get(item[0].metric) and infos[item[0].metric].headline),
            -worse_by(item[0], infos.get(item[0].metric)),
        )
    )
    return leads


def _num(value: float) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def _signed(change: float) -> str:
    if change is None or math.isnan(change):
        return "–"
    if math.isinf(change):
        return "+∞" if change > 0 else "−∞"
    return f"{change:+.0%}".replace("-", "−")


def _pct(share: float) -> str:
    return "–" if not math.isfinite(share) else f"{share:.0%}"


# ---- the computation ----------------------------------------------------------------------


def _tolerances(tolerance: Mapping[str, Any] | None) -> tuple[Tolerance, dict[str, Tolerance]]:
    """The default tolerance and the per-metric ones."""

    def one(value: Any, where: str) -> Tolerance:
        if isinstance(value, Tolerance):
            return value
        if not isinstance(value, Mapping) or set(value) - {"warning", "critical"}:
            raise InputError(
                f"tolerance{where} must be {{'warning': 0.10, 'critical': 0.15}}; got {value!r}."
            )
        return Tolerance(**value)

    if tolerance is None:
        return Tolerance(), {}
    if isinstance(tolerance, Tolerance):
        return tolerance, {}
    if not isinstance(tolerance, Mapping):
        raise InputError(
            "tolerance must be {'warning': 0.10, 'critical': 0.15} or a mapping from a metric "
            f"name to one; got {type(tolerance).__name__}."
        )
    if set(tolerance) <= {"warning", "critical"}:
        return one(tolerance, ""), {}
    default = one(tolerance.get("*", {}), "['*']") if "*" in tolerance else Tolerance()
    return default, {k: one(v, f"[{k!r}]") for k, v in tolerance.items() if k != "*"}


def _business_specs(business: BusinessSpec | None) -> list[tuple[str, bool, Any]]:
    """(name, higher_is_better, column or function) per business outcome."""
    if business is None:
        return []
    if not isinstance(business, Mapping):
        raise InputError(
            "business must be a mapping {name: column or function(frame) -> float}; got "
            f"{type(business).__name__}."
        )
    specs = []
    for key, how in business.items():
        higher = True
        name = key
        if isinstance(key, tuple):
            if len(key) != 2 or key[1] not in ("higher", "lower"):
                raise InputError(
                    f"business key {key!r}: write (name, 'lower') or (name, 'higher')."
                )
            name, higher = key[0], key[1] == "higher"
        if isinstance(name, str) and name.endswith((":lower", ":higher")):
            name, direction = name.rsplit(":", 1)  # the form a notebook parameter can carry
            higher = direction == "higher"
        if not isinstance(name, str) or not name:
            raise InputError(f"business outcome names must be non-empty strings; got {name!r}.")
        if not (isinstance(how, str) or callable(how)):
            raise InputError(
                f"business[{name!r}] must be a column name or a function(frame) -> float; got "
                f"{type(how).__name__}."
            )
        specs.append((name, higher, how))
    return specs


def _truthy(values: pd.Series) -> np.ndarray:
    """Error flags: True, non-zero numbers, non-empty text; missing is no error."""
    if pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_numeric_dtype(values.dtype):
        numbers, _ = numeric_values(values)
        return np.nan_to_num(numbers) != 0
    text = values.astype("string").str.strip()
    return (text.notna() & (text != "")).to_numpy(dtype=bool, na_value=False)


class _Columns:
    """The roles a computation needs, found once."""

    def __init__(self, frame: pd.DataFrame, spec: Any, segments: Sequence[str] | str | None):
        declared = spec if isinstance(spec, ColumnSpec) else None
        if declared is None and isinstance(spec, Mapping):
            declared = ColumnSpec.from_dict(spec)
        if declared is not None:
            # The target may legitimately be absent (labels not arrived): resolve without it.
            present = {
                role: getattr(declared, role)
                for role in ("target", "prediction", "prediction_label", "timestamp", "id")
                if getattr(declared, role) is None or getattr(declared, role) in frame.columns
            }
            resolvable = dataclasses.replace(
                declared,
                **{
                    r: present.get(r)
                    for r in ("target", "prediction", "prediction_label", "timestamp", "id")
                },
                categorical=[c for c in declared.categorical if c in frame.columns],
                numerical=[c for c in declared.numerical if c in frame.columns],
                segments=[c for c in declared.segments if c in frame.columns],
                sensitive=[c for c in declared.sensitive if c in frame.columns],
                ignore=[c for c in declared.ignore if c in frame.columns],
            )
            self.resolved = resolve_spec(resolvable, frame, names=["current"])
            self.target = declared.target or self.resolved.target
        else:
            self.resolved = resolve_spec(spec, frame, names=["current"])
            self.target = self.resolved.target
        self.prediction = self.resolved.prediction
        self.prediction_label = self.resolved.prediction_label
        self.timestamp = self.resolved.timestamp
        if segments is None:
            chosen = list(declared.segments) if declared is not None else []
            chosen = chosen or [i.name for i in self.resolved.columns if i.segment]
        else:
            chosen = [segments] if isinstance(segments, str) else list(segments)
        missing = [c for c in chosen if c not in frame.columns]
        if missing:
            raise ColumnNotFoundError(
                f"segment column(s) {missing} are not in current (current has: "
                f"{', '.join(map(str, list(frame.columns)[:10]))}, …); pass segments=[…]."
            )
        self.segments = tuple(chosen)


def segment_rows(frame: pd.DataFrame, columns: Sequence[str]) -> list[tuple[str, np.ndarray]]:
    """``("all", every row)`` and ``("<column>=<value>", its rows)`` for the
    :data:`MAX_SEGMENT_VALUES` most frequent values of each segment column."""
    segments = [(OVERALL, np.arange(len(frame)))]
    for column in columns:
        labels = category_labels(frame[column])
        counts = labels.value_counts().head(MAX_SEGMENT_VALUES)
        codes = labels.to_numpy(dtype=object, na_value=None)
        for value in sorted(counts.index, key=str):
            segments.append((f"{column}={value}", np.flatnonzero(codes == value)))
    return segments


def metric_values(
    frame: pd.DataFrame,
    resolved: Any,
    *,
    segments: Sequence[str] | None = None,
    business: BusinessSpec | None = None,
    threshold: float = 0.5,
    task: str | None = None,
) -> dict[str, float]:
    """Every metric of ``frame`` as ``{"<metric>": value, "<metric>|<column>=<value>": …}``
    (what a baseline stores; NaN values left out), with ``rows`` (labelled rows used),
    ``error_rate`` when an ``error`` column exists and each business outcome."""
    target = resolved.target
    prediction = resolved.prediction
    if segments is None:
        segments = [i.name for i in resolved.columns if i.segment]
    segments = [c for c in segments if c in frame.columns]
    found: dict[str, float] = {}
    prepared = None
    predicted = [c for c in (prediction, resolved.prediction_label) if c is not None]
    if target is not None and target in frame.columns and any(c in frame for c in predicted):
        prepared = prepare_labels(
            frame,
            target,
            prediction,
            resolved.prediction_label,
            task=task,
            threshold=threshold,
            class_scores=resolved.class_scores,
        )
    business_specs = _business_specs(business)
    for segment, rows in segment_rows(frame, segments):
        suffix = "" if segment == OVERALL else f"|{segment}"
        if prepared is not None:
            arrays = prepared.arrays(rows)
            found["rows" + suffix] = len(arrays)
            for metric in _task_metrics(prepared):
                found[metric.name + suffix] = metric.compute(arrays)
        if ERROR_COLUMN in frame.columns:
            errors = _truthy(frame[ERROR_COLUMN])[rows]
            found["error_rate" + suffix] = float(errors.mean()) if errors.size else math.nan
        for column, _ in RESOURCE_COLUMNS:
            if column in frame.columns:
                found[column + suffix] = _finite_mean(numeric_values(frame[column])[0][rows])
        for name, _, how in business_specs:
            found[name + suffix] = _business_value(frame, rows, how, name)
    sensitive = [i.name for i in resolved.columns if i.sensitive and i.name in frame.columns]
    if prepared is not None and sensitive:
        found.update(fairness.fairness_figures(prepared, frame, sensitive))
    return {k: v for k, v in found.items() if isinstance(v, (int, float)) and math.isfinite(v)}


def _task_metrics(prepared: PreparedLabels, names: Sequence[str] | None = None) -> list:
    """The registered metrics of the task (or ``names``), and for a multiclass target each
    frequent class's precision, recall and F1 (:func:`~monitorkit.performance.metrics.
    class_metrics`), unless ``names`` picks metrics."""
    chosen = registry.metrics_for(prepared.task, names)
    if prepared.task == "multiclass" and names is None:
        labels, counts = np.unique(prepared.y_true[prepared.labelled], return_counts=True)
        frequent = labels[np.argsort(-counts, kind="stable")][: registry.MAX_CLASS_METRICS]
        chosen += registry.class_metrics(sorted(map(str, frequent)))
    return chosen


def _business_value(frame: pd.DataFrame, rows: np.ndarray, how: Any, name: str) -> float:
    if isinstance(how, str):
        values = _column_numbers(frame, how, name, side="the data")[rows]
        values = values[np.isfinite(values)]
        return float(values.mean()) if values.size else math.nan
    if rows.size == 0:
        return math.nan
    try:
        return float(how(frame.iloc[rows]))
    except Exception as exc:  # the user's function: named, with what it raised
        raise InputError(
            f"business[{name!r}]: the function raised {type(exc).__name__}: {exc} on "
            f"{rows.size:,} rows; it must take a DataFrame of rows (the columns of the data) "
            "and return a number."
        ) from exc


@dataclass
class _BaselineSide:
    """What a computation knows of the baseline: its figures, its name, and its rows (with
    their labels resolved) or its profile — the reference side of the ranked causes."""

    metrics: dict[str, float]
    latency: dict[str, Any]
    model: str | None = None
    frame: pd.DataFrame | None = None
    resolved: Any = None
    profile: Any = None
    calibration: Any = None  # estimation.Calibration: estimates where labels are missing


def _read_baseline(
    baseline: Any,
    columns: _Columns,
    segments: Sequence[str],
    business: Any,
    threshold: float,
    task: str | None,
) -> _BaselineSide:
    """The baseline's metrics, latency figures, model name, and rows or profile."""
    from monitorkit.baseline import Baseline, latency_figures
    from monitorkit.reference import Reference

    if isinstance(baseline, (str, os.PathLike)) and str(baseline).lower().endswith(".json"):
        baseline = Baseline.load(baseline)
    if isinstance(baseline, Reference):  # as_reference(...): its baseline, else its rows
        baseline = baseline.baseline or baseline.require_rows("performance against a baseline")
    if isinstance(baseline, Baseline):
        # A sample of its rows (sample_rows=…) lets the ranked causes subtract what was
        # always so; not when its categories are stored hashed (they would match nothing).
        sample = baseline.sample if baseline.hash_salt is None else None
        return _BaselineSide(
            dict(baseline.metrics),
            dict(baseline.latency),
            baseline.model,
            frame=sample,
            resolved=baseline.spec if sample is not None else None,
            profile=baseline.profile,
            calibration=baseline.calibration,
        )
    frame = read_frame(baseline, name="baseline")
    spec = columns.resolved.spec
    resolved = resolve_spec(
        dataclasses.replace(
            spec,
            target=columns.target,
            prediction=columns.prediction,
            prediction_label=columns.prediction_label,
        )
        if columns.target in frame.columns
        else spec,
        frame,
        names=["baseline"],
    )
    found = metric_values(
        frame, resolved, segments=segments, business=business, threshold=threshold, task=task
    )
    latency_column = next((c for c in LATENCY_COLUMNS if c in frame.columns), None)
    return _BaselineSide(
        found,
        latency_figures(frame, latency_column, resolved.timestamp),
        frame=frame,
        resolved=resolved,
        calibration=_quiet_calibration(frame, resolved),
    )


def _quiet_calibration(frame: pd.DataFrame, resolved: Any) -> Any:
    """The calibration of reference rows, or None without a word: reference rows that cannot
    be calibrated (too few, one class) are common and not the user's question here."""
    import warnings

    from monitorkit.baseline import baseline_calibration

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", estimation.CalibrationWarning)
        return baseline_calibration(frame, resolved)


class _Judge:
    """Compares one computed value with the baseline's and gives it a severity.

    Holds what every cell shares: the metrics' directions and tolerances and the baseline's
    figures. The interval (``bounds``) is computed only when it is cheap (``cheap``) or can
    decide the severity (the change is past the warning tolerance).
    """

    def __init__(
        self,
        infos: Mapping[str, MetricInfo],
        base_metrics: Mapping[str, Any],
        base_latency: Mapping[str, Any],
    ) -> None:
        self.infos = infos
        self.base_metrics = base_metrics
        self.base_latency = base_latency
        # The segment columns the baseline was built with (its keys "<figure>|<column>=<value>").
        self.base_segment_columns = {
            key.split("|", 1)[1].split("=", 1)[0]
            for key in base_metrics
            if "|" in key and "=" in key.split("|", 1)[1]
        }

    def baseline_value(self, name: str, segment: str) -> float:
        """The baseline's value of ``name`` in ``segment``.

        A segment the baseline holds is compared with its own value only (NaN when the
        metric was undefined there). A value of a segment column the baseline was built with,
        but new since (a new scanner model), is compared with the whole baseline: the model's
        usual performance is what a new group is expected to get. A segment column the
        baseline was built without gets no baseline (NaN): comparing its segments with the
        whole would alarm on a segment that was always worse. Latency and throughput are
        stored for the whole baseline only."""
        if segment != OVERALL:
            column = segment.split("=", 1)[0]
            if f"rows|{segment}" in self.base_metrics or f"{name}|{segment}" in self.base_metrics:
                base = self.base_metrics.get(f"{name}|{segment}", math.nan)
            elif column in self.base_segment_columns and not name.startswith(
                ("latency_p", "throughput")
            ):
                base = self.base_metrics.get(name, math.nan)  # a new value: the whole's
            else:
                base = math.nan
        elif name.startswith("latency_p"):
            base = self.base_latency.get(dict((n, k) for n, _, k in _LATENCY)[name], math.nan)
        elif name == "throughput":
            base = self.base_latency.get("throughput_rows_per_s", math.nan)
        else:
            base = self.base_metrics.get(name, math.nan)
        return float(base) if isinstance(base, (int, float)) else math.nan

    def __call__(
        self,
        window: str,
        name: str,
        segment: str,
        value: float,
        n: int,
        skipped: str | None,
        bounds: Callable[[], tuple[float, float]],
        cheap: bool,
        rows_used: int,
        estimated: bool = False,
    ) -> MetricValue:
        info = self.infos[name]
        base = self.baseline_value(name, segment)
        change = relative_change(value, base)
        if skipped is None and not math.isfinite(value):
            skipped = "undefined on these rows"
        if skipped is None and not math.isfinite(base):
            if segment == OVERALL:
                skipped = "no baseline value"
            elif f"rows|{segment}" in self.base_metrics:
                skipped = "no baseline value for this segment (undefined on its baseline rows)"
            else:
                skipped = (
                    "no baseline value for this segment (build the baseline with its column "
                    "among the spec's segments)"
                )
        if skipped is None and info.higher_is_better is None:
            skipped = "shown, not judged"
        worse_by = math.nan
        if math.isfinite(change) or math.isinf(change):
            worse_by = -change if info.higher_is_better else change
        lower = upper = math.nan
        if cheap or (skipped is None and worse_by > info.tolerance.warning):
            lower, upper = bounds()
            # The baseline is a sample too: widen for its error, assuming the same spread
            # per row, by sqrt(1 + rows here / baseline rows).
            base_rows = self.base_metrics.get(
                "rows" if segment == OVERALL else f"rows|{segment}", self.base_metrics.get("rows")
            )
            if isinstance(base_rows, (int, float)) and base_rows > 0 and rows_used > 0:
                widen = math.sqrt(1 + rows_used / base_rows)
                lower = value - (value - lower) * widen
                upper = value + (upper - value) * widen
        severity = Severity.OK
        if skipped is None:
            severity = info.tolerance.judge(worse_by, base, lower, upper)
        return MetricValue(
            window=window,
            segment=segment,
            metric=name,
            value=value,
            baseline=base,
            change=change,
            severity=severity,
            n=n,
            lower=lower,
            upper=upper,
            estimated=estimated,
            skipped=skipped,
        )


def relative_change(value: float, base: float) -> float:
    """``(value − base) / |base|``; 0 when both are 0, ±inf from a zero base, NaN when
    either is missing."""
    if not (math.isfinite(value) and math.isfinite(base)):
        return math.nan
    if base != 0:
        return (value - base) / abs(base)
    return 0.0 if value == base else math.copysign(math.inf, value - base)


def compute_performance(
    current: Any,
    spec: ColumnSpec | Mapping[str, Any] | None = None,
    baseline: Any = None,
    by: str | int | None = None,
    segments: Sequence[str] | str | None = None,
    *,
    threshold: float = 0.5,
    metrics: Sequence[str] | None = None,
    business: BusinessSpec | None = None,
    tolerance: Mapping[str, Any] | None = None,
    task: str | None = None,
    fairness_rule: Any = None,
) -> PerformanceResult:
    """The :class:`PerformanceResult` of :class:`PerformanceReport` (same parameters)."""
    from monitorkit.performance import merged

    if merged.is_dask_frame(current):  # per-partition states, merged (see merged.py)
        options = {"threshold": threshold, "metrics": metrics, "business": business}
        options |= {"tolerance": tolerance, "task": task, "fairness_rule": fairness_rule}
        return merged.compute_merged(current, spec, baseline, by, segments, **options)
    from monitorkit.baseline import Baseline
    from monitorkit.windows import assign_windows

    if not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise InputError(f"threshold must be a score in [0, 1]; got {threshold!r}.")
    frame = read_frame(current, name="current")
    from monitorkit.reference import Reference

    if isinstance(baseline, (str, os.PathLike)) and str(baseline).lower().endswith(".json"):
        baseline = Baseline.load(baseline)  # its spec (roles, segments, class scores) applies
    if spec is None and isinstance(baseline, Reference) and baseline.baseline is not None:
        spec = baseline.baseline.spec.spec
    if spec is None and isinstance(baseline, Baseline):
        spec = baseline.spec.spec
    columns = _Columns(frame, spec, segments)
    default_tolerance, tolerances = _tolerances(tolerance)
    business_specs = _business_specs(business)
    has_baseline = baseline is not None
    base = (
        _read_baseline(baseline, columns, columns.segments, business, threshold, task)
        if has_baseline
        else _BaselineSide({}, {})
    )
    base_metrics, base_latency, model = base.metrics, base.latency, base.model

    prepared: PreparedLabels | None = None
    note = None
    if columns.target is None or columns.target not in frame.columns:
        note = "no labels in current yet" + (
            f" (no column '{columns.target}')" if columns.target else " (no target column)"
        )
    elif columns.prediction is None and columns.prediction_label is None:
        note = "no prediction column: model metrics need one (ColumnSpec(prediction=…))"
        if any(name in registry.METRICS for name in base_metrics):
            # The baseline's model metrics were computed from a prediction current lacks.
            note = "the baseline has model metrics, but current has no prediction column"
    else:
        prepared = prepare_labels(
            frame,
            columns.target,
            columns.prediction,
            columns.prediction_label,
            task=task,
            threshold=threshold,
            class_scores=columns.resolved.class_scores,
        )
        if prepared is None:
            note = f"no labels in current yet (column '{columns.target}' is empty)"
    chosen = _task_metrics(prepared, metrics) if prepared is not None else []
    if prepared is not None and prepared.y_score is None:
        chosen = [m for m in chosen if not m.needs_score]  # labels only: no ROC AUC, log loss

    latency_column = next((c for c in LATENCY_COLUMNS if c in frame.columns), None)
    latency_values = None
    if latency_column is not None:
        latency_values, _ = numeric_values(frame[latency_column])
    errors = _truthy(frame[ERROR_COLUMN]) if ERROR_COLUMN in frame.columns else None
    resources = {
        column: numeric_values(frame[column])[0]
        for column, _ in RESOURCE_COLUMNS
        if column in frame.columns
    }
    timestamps = None
    if columns.timestamp is not None and columns.timestamp in frame.columns:
        from monitorkit.windows import utc_times

        timestamps = utc_times(frame[columns.timestamp])
        if timestamps.notna().sum() <= 1:
            timestamps = None
    infos = metric_infos(
        chosen,
        business_specs,
        (default_tolerance, tolerances),
        latency=latency_column is not None,
        errors=errors is not None,
        resources=list(resources),
        throughput=timestamps is not None,
    )
    info_of = {i.name: i for i in infos}

    window_rows: list[tuple[str, np.ndarray, str | None]] = [(OVERALL, np.arange(len(frame)), None)]
    if by is not None:
        cut = assign_windows(frame, by, columns.timestamp)
        for window, rows in zip(cut.windows, cut.row_positions()):
            window_rows.append((window.label, rows, window.iso_start()))
    seconds = _window_seconds(timestamps, cut.windows if by is not None else ())
    segment_list = segment_rows(frame, columns.segments)
    estimates = _estimable_scores(frame, columns, prepared, base.calibration, task) is not None
    tests = len(window_rows) * len(segment_list) * judged_tests(infos, chosen, estimates)
    level = registry.cell_confidence(tests)
    class_level = registry.class_confidence(chosen, tests)
    labelled = prepared.labelled if prepared is not None else np.zeros(len(frame), dtype=bool)

    judge = _Judge(info_of, base_metrics, base_latency)

    business_numbers = {
        name: _column_numbers(frame, how, name)
        for name, _, how in business_specs
        if isinstance(how, str)
    }
    values: list[MetricValue] = []
    windows: list[PerformanceWindow] = []
    min_rows = registry.MIN_LABELLED_ROWS
    for window, rows, start in window_rows:
        confusion: tuple = ()
        dropped = 0
        if prepared is not None:
            all_arrays = prepared.arrays(rows)
            dropped = int(labelled[rows].sum()) - len(all_arrays)
            confusion = confusion_counts(all_arrays, prepared.classes)
        windows.append(
            PerformanceWindow(
                window=window,
                rows=int(rows.size),
                labelled=int(labelled[rows].sum()),
                dropped=dropped,
                start=start,
                confusion=confusion,
            )
        )
        in_window = np.zeros(len(frame), dtype=bool)
        in_window[rows] = True
        for segment, seg_rows in segment_list:
            part = seg_rows[in_window[seg_rows]] if window != OVERALL else seg_rows
            if prepared is not None:
                arrays = prepared.arrays(part)
                for metric in chosen:
                    values.append(
                        judge(
                            window,
                            metric.name,
                            segment,
                            metric.compute(arrays),
                            len(arrays),
                            metric.too_few(arrays),
                            lambda m=metric, a=arrays: m.interval(
                                a, confidence=class_level if m.view is not None else level
                            ),
                            metric.proportion is not None or metric.per_row is not None,
                            len(arrays),
                        )
                    )
            for name, _, how in business_specs:
                if isinstance(how, str):
                    numbers = business_numbers[name][part]
                    numbers = numbers[np.isfinite(numbers)]
                    value = float(numbers.mean()) if numbers.size else math.nan
                    n = int(numbers.size)
                    bounds = lambda v=numbers: registry.mean_interval(v, level)  # noqa: E731
                    cheap = True
                else:
                    value = _business_value(frame, part, how, name)
                    n = int(part.size)
                    bounds = lambda p=part, f=how: registry.bootstrap(  # noqa: E731
                        lambda r: float(f(frame.iloc[p[r]])), p.size, confidence=level
                    )
                    cheap = False
                skipped = f"too few rows ({n} < {min_rows})" if n < min_rows else None
                values.append(judge(window, name, segment, value, n, skipped, bounds, cheap, n))
            if latency_values is not None:
                times = latency_values[part]
                times = times[np.isfinite(times)]
                skipped = (
                    f"too few rows ({times.size} < {min_rows})" if times.size < min_rows else None
                )
                for name, q, _ in _LATENCY:
                    value = float(np.percentile(times, q)) if times.size else math.nan
                    values.append(
                        judge(
                            window,
                            name,
                            segment,
                            value,
                            int(times.size),
                            skipped,
                            lambda t=times, q=q: registry.quantile_interval(t, q / 100, level),
                            True,
                            int(times.size),
                        )
                    )
            if errors is not None:
                flags = errors[part]
                value = float(flags.mean()) if flags.size else math.nan
                skipped = (
                    f"too few rows ({flags.size} < {min_rows})" if flags.size < min_rows else None
                )
                values.append(
                    judge(
                        window,
                        "error_rate",
                        segment,
                        value,
                        int(flags.size),
                        skipped,
                        lambda f=flags: registry.wilson(int(f.sum()), int(f.size), level),
                        True,
                        int(flags.size),
                    )
                )
            for name, all_numbers in resources.items():
                numbers = all_numbers[part]
                numbers = numbers[np.isfinite(numbers)]
                n = int(numbers.size)
                skipped = f"too few rows ({n} < {min_rows})" if n < min_rows else None
                values.append(
                    judge(
                        window,
                        name,
                        segment,
                        float(numbers.mean()) if n else math.nan,
                        n,
                        skipped,
                        lambda v=numbers: registry.mean_interval(v, level),
                        True,
                        n,
                    )
                )
            if timestamps is not None:
                span = seconds.get(window, math.nan)
                values.append(
                    judge(
                        window,
                        "throughput",
                        segment,
                        part.size / span if span > 0 else math.nan,
                        int(part.size),
                        None,
                        lambda: (math.nan, math.nan),
                        False,
                        int(part.size),
                    )
                )

    causes = _rank_causes(
        frame,
        columns,
        prepared,
        {m.name: m for m in chosen},
        values,
        infos,
        window_rows,
        segment_list,
        base,
        {name: how for name, _, how in business_specs},
        latency_column,
        threshold,
    )
    curve: tuple[tuple[float, float, int], ...] = ()
    if prepared is not None and prepared.task == "binary" and prepared.y_score is not None:
        whole = prepared.arrays(np.arange(len(frame)))
        counts, label_sums, score_sums = registry.calibration_bins(whole.y_true, whole.y_score)
        curve = tuple(
            (float(score_sums[i] / counts[i]), float(label_sums[i] / counts[i]), int(counts[i]))
            for i in np.flatnonzero(counts)
        )
    sensitive = [
        i.name for i in columns.resolved.columns if i.sensitive and i.name in frame.columns
    ]
    groups: tuple = ()
    gaps: tuple = ()
    if sensitive and prepared is not None:
        groups, gaps = fairness.compute_fairness(
            prepared,
            frame,
            sensitive,
            window_rows,
            confidence=registry.cell_confidence(len(window_rows) * len(sensitive)),
            rule=fairness_rule,
            baseline=base_metrics,
        )
    estimated, shifts = _estimate(
        frame,
        columns,
        prepared,
        base.calibration,
        values,
        window_rows,
        judge,
        level,
        threshold,
        metrics,
        task,
    )
    return PerformanceResult(
        spec=columns.resolved,
        task=prepared.task if prepared is not None else None,
        target=columns.target,
        prediction=columns.prediction,
        threshold=float(threshold),
        by=None if by is None else str(by),
        current_rows=len(frame),
        metrics=tuple(judge.infos.values()),  # with the estimated metrics' when labels lack
        values=tuple(values),
        windows=tuple(windows),
        segments=columns.segments,
        classes=prepared.classes if prepared is not None else (),
        baseline_model=model,
        has_baseline=has_baseline,
        note=note,
        causes=causes,
        calibration_curve=curve,
        fairness_groups=groups,
        fairness=gaps,
        estimated=tuple(estimated),
        concept_shifts=tuple(shifts),
    )


def _rank_causes(
    frame: pd.DataFrame,
    columns: _Columns,
    prepared: PreparedLabels | None,
    chosen: Mapping[str, registry.Metric],
    values: Sequence[MetricValue],
    infos: Sequence[MetricInfo],
    window_rows: Sequence[tuple[str, np.ndarray, str | None]],
    segment_list: Sequence[tuple[str, np.ndarray]],
    base: _BaselineSide,
    business: Mapping[str, Any],
    latency_column: str | None,
    threshold: float,
) -> tuple[Cause, ...]:
    """The ranked causes (:mod:`monitorkit.performance.causes`) of the value the verdict
    leads with, or () when nothing is wrong or the metric cannot be recomputed on rows."""
    info_of = {i.name: i for i in infos}
    problems = sorted(  # in the order of PerformanceReport.problems
        (v for v in values if v.severity > Severity.OK),
        key=lambda v: (-v.severity.rank, -worse_by(v, info_of.get(v.metric))),
    )
    leads = lead_values(problems, infos, [w for w, _, _ in window_rows])
    if not leads:
        return ()
    lead = leads[0][0]
    info = info_of[lead.metric]

    def computer(side: pd.DataFrame, labels: PreparedLabels | None):
        name = lead.metric
        if name in chosen:
            if labels is None:
                return None
            metric = chosen[name]
            return lambda rows: metric.compute(labels.arrays(rows))
        if name in business:
            how = business[name]
            if isinstance(how, str):
                if how not in side.columns:
                    return None
                numbers = numeric_values(side[how])[0]
                return lambda rows: _finite_mean(numbers[rows])
            return lambda rows: float(how(side.iloc[rows])) if rows.size else math.nan
        if name.startswith("latency_p") and latency_column in side.columns:
            times = numeric_values(side[latency_column])[0]
            q = next(q for n, q, _ in _LATENCY if n == name)
            return lambda rows: _finite_percentile(times[rows], q)
        if name == "error_rate" and ERROR_COLUMN in side.columns:
            flags = _truthy(side[ERROR_COLUMN]).astype(float)
            return lambda rows: float(flags[rows].mean()) if rows.size else math.nan
        return None

    compute = computer(frame, prepared)
    if compute is None or info.higher_is_better is None:
        return ()
    window_of = dict((w, rows) for w, rows, _ in window_rows)
    segment_of = dict(segment_list)
    ref_compute = None
    ref_segments: dict[str, np.ndarray] = {}
    if base.frame is not None:
        ref_labels = None
        resolved = base.resolved
        if lead.metric in chosen and resolved is not None and resolved.target in base.frame.columns:
            ref_labels = prepare_labels(
                base.frame,
                resolved.target,
                resolved.prediction,
                resolved.prediction_label,
                task=prepared.task if prepared is not None else None,
                threshold=threshold,
                class_scores=resolved.class_scores
                if set(resolved.spec.class_score_columns) <= set(base.frame.columns)
                else None,
            )
        ref_compute = computer(base.frame, ref_labels)
        if ref_compute is not None:
            ref_segments = dict(segment_rows(base.frame, columns.segments))
    # Inputs only: business outcome columns and the serving figures (latency, errors,
    # resources) are results of the predictions, not where a drop comes from.
    outcomes = {how for how in business.values() if isinstance(how, str)}
    outcomes |= set(LATENCY_COLUMNS) | {ERROR_COLUMN} | {c for c, _ in RESOURCE_COLUMNS}
    features = [
        (i.name, "numeric" if i.kind == "numeric" else "categorical")
        for i in columns.resolved.columns
        if (i.role == "feature" or i.segment)
        and i.kind in ("numeric", "categorical", "boolean")
        and i.name in frame.columns
        and i.name not in outcomes
    ]
    first_window = None
    if len(window_rows) > 1:
        position_window = np.full(len(frame), len(window_rows), dtype=np.int64)
        for index, (_, rows, _) in reversed(list(enumerate(window_rows[1:], start=1))):
            position_window[rows] = index

        def first_window(positions: np.ndarray) -> str | None:
            index = int(position_window[positions].min()) if positions.size else len(window_rows)
            if index >= len(window_rows):
                return None
            label, _, start = window_rows[index]
            return start[:10] if start else label

    def rank(segment: str) -> tuple[Cause, ...]:
        value = next(
            (
                v
                for v in values
                if (v.metric, v.window, v.segment) == (lead.metric, lead.window, segment)
            ),
            None,
        )
        if value is None or not math.isfinite(value.baseline):
            return ()
        reference = None
        if ref_compute is not None and segment in ref_segments:
            reference = causes.Side(base.frame, ref_segments[segment], ref_compute)
        return causes.rank_causes(
            metric=lead.metric,
            window=lead.window,
            segment=segment,
            higher_is_better=bool(info.higher_is_better),
            baseline_value=value.baseline,
            current=causes.Side(
                frame, np.intersect1d(window_of[lead.window], segment_of[segment]), compute
            ),
            reference=reference,
            columns=features,
            profiles=base.profile,
            first_seen=first_window,
        )

    # The whole of current first, where segments and features compete; a drop confined to
    # the lead's segment (too small to move the whole) is then looked for inside it.
    return rank(OVERALL) or (rank(lead.segment) if lead.segment != OVERALL else ())


_ESTIMATE_NEEDS = {
    "recall": ("positives",),
    "f1": ("positives", "predicted positives"),
    "precision": ("predicted positives",),
    "roc_auc": ("positives", "negatives"),
}


def _estimate(
    frame: pd.DataFrame,
    columns: _Columns,
    prepared: PreparedLabels | None,
    calibration: Any,
    values: Sequence[MetricValue],
    window_rows: Sequence[tuple[str, np.ndarray, str | None]],
    judge: _Judge,
    level: float,
    threshold: float,
    chosen_names: Sequence[str] | None,
    task: str | None,
) -> tuple[list[MetricValue], list[ConceptShift]]:
    """Estimated metrics per window of the whole of current from the baseline's calibration
    (CBPE, see :mod:`monitorkit.performance.estimation`), judged where no realised value is;
    where a realised value is judged, a realised value outside the estimate's band is a
    concept shift.

    Not per segment: the calibration is fitted on the whole reference, so within a segment
    the model may be over- or under-confident and the estimate biased against that segment's
    realised baseline. Like realised values, an estimate needs :data:`MIN_LABELLED_ROWS` rows
    and, for class-based metrics, :data:`MIN_CLASS_ROWS` expected positives (recall, F1, ROC
    AUC), predicted positives (precision) and expected negatives (ROC AUC)."""
    scores = _estimable_scores(frame, columns, prepared, calibration, task)
    if scores is None:
        return [], []
    predicted = None
    label_column = columns.prediction_label
    if prepared is not None and label_column is not None:
        predicted = np.where(np.isfinite(scores), prepared.y_pred, np.nan)
    elif label_column is not None and label_column in frame.columns:
        numbers, _ = numeric_values(frame[label_column])
        if np.isin(numbers[np.isfinite(numbers)], (0.0, 1.0)).all():
            predicted = numbers
    if predicted is None:
        predicted = np.where(np.isfinite(scores), (scores >= threshold).astype(float), np.nan)
    name = f"current's prediction column '{columns.prediction}'"
    guesses = [
        (window, estimation.estimate(calibration, scores[rows], y_pred=predicted[rows],
                                     confidence=level, name=name))
        for window, rows, _ in window_rows  # the whole of current only (docstring)
    ]  # fmt: skip
    return judge_estimates(guesses, values, judge, chosen_names)


def _estimable_scores(
    frame: pd.DataFrame,
    columns: _Columns,
    prepared: PreparedLabels | None,
    calibration: Any,
    task: str | None,
) -> np.ndarray | None:
    """current's scores when estimation applies (a calibration, a binary task or none yet,
    some finite score), else None."""
    if calibration is None or columns.prediction is None or columns.prediction not in frame:
        return None
    if task not in (None, "binary") or (prepared is not None and prepared.task != "binary"):
        return None
    scores, _ = numeric_values(frame[columns.prediction])
    return scores if np.isfinite(scores).any() else None


def judge_estimates(
    guesses: Sequence[tuple[str, Mapping[str, Any]]],
    values: Sequence[MetricValue],
    judge: _Judge,
    chosen_names: Sequence[str] | None,
) -> tuple[list[MetricValue], list[ConceptShift]]:
    """The estimated values of the whole of current, one window's :func:`estimation.estimate`
    result per ``(window, guess)``, judged where no realised value is (too few rows, or too
    few expected positives, predicted positives or negatives for the metrics that need them,
    are never judged); where a realised value in ``values`` is judged and leaves the
    estimate's band, a concept shift. Shared by the pandas and the Dask path."""
    names = [m for m in estimation.ESTIMATED_METRICS if chosen_names is None or m in chosen_names]
    for name in names:
        if name not in judge.infos:
            metric = registry.METRICS[name]
            judge.infos[name] = MetricInfo(
                name, metric.label, "model", metric.higher_is_better, headline=metric.headline
            )
    realised = {
        (v.window, v.segment, v.metric): v
        for v in values
        if v.metric in names and not v.estimated and v.skipped is None
    }
    min_rows = registry.MIN_LABELLED_ROWS
    found: list[MetricValue] = []
    shifts: list[ConceptShift] = []
    segment = OVERALL
    for window, guess in guesses:
        n = int(guess["rows"])
        expected = {
            "positives": guess["tp"] + guess["fn"],
            "predicted positives": guess["tp"] + guess["fp"],
            "negatives": guess["fp"] + guess["tn"],
        }
        for name in names:
            band = guess[name]
            known = realised.get((window, segment, name))
            skipped = f"too few rows ({n} < {min_rows})" if n < min_rows else None
            for what in _ESTIMATE_NEEDS.get(name, ()):
                if skipped is None and expected[what] < registry.MIN_CLASS_ROWS:
                    skipped = (
                        f"too few expected {what} ({expected[what]:.0f} < "
                        f"{registry.MIN_CLASS_ROWS})"
                    )
            if known is not None:
                skipped = "realised value judged"
                if estimation.diverges(band, known.value):
                    shifts.append(
                        ConceptShift(
                            window, segment, name, known.value, band.value, band.lower, band.upper
                        )
                    )
            found.append(
                judge(
                    window,
                    name,
                    segment,
                    band.value,
                    n,
                    skipped,
                    lambda b=band: (b.lower, b.upper),
                    True,
                    0,  # the band is the estimate's own spread: no widening
                    estimated=True,
                )
            )
    return found, shifts


def judged_tests(
    infos: Sequence[MetricInfo], chosen: Sequence[registry.Metric], estimates: bool
) -> int:
    """How many tests each (window, segment) cell holds, for the Bonferroni share of the
    level: every judged metric (``higher_is_better`` known), the per-class metrics counted
    once (:func:`~monitorkit.performance.metrics.class_confidence` shares their level again),
    and, with estimation, the estimated metrics (judged where labels lack, compared with the
    realised values where they exist)."""
    per_class = {m.name for m in chosen if m.view is not None}
    judged = sum(1 for i in infos if i.higher_is_better is not None and i.name not in per_class)
    extra = (1 if per_class else 0) + (len(estimation.ESTIMATED_METRICS) if estimates else 0)
    return max(1, judged + extra)


def metric_infos(
    chosen: Sequence[registry.Metric],
    business_specs: Sequence[tuple[str, bool, Any]],
    tolerance: tuple[Tolerance, Mapping[str, Tolerance]],
    *,
    latency: bool,
    errors: bool,
    resources: Sequence[str],
    throughput: bool,
) -> list[MetricInfo]:
    """What each judged figure of a report is (group, label, direction, tolerance), in the
    order the report shows them: model metrics, business outcomes, latency percentiles, error
    rate, resource columns, throughput. Shared by the pandas and the Dask path."""
    default, per_metric = tolerance
    known = set(registry.METRICS) | {name for name, _, _ in business_specs}
    known |= {name for name, _, _ in _LATENCY} | {"error_rate", *dict(RESOURCE_COLUMNS)}
    known |= {m.name for m in chosen}  # per-class metrics (recall[cat]) are made per report
    unknown = sorted(set(per_metric) - known)
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], sorted(known), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise InputError(
            f"tolerance for unknown metric(s) {', '.join(map(repr, unknown))}{hint}; name a "
            "metric of the report (scikit-learn scorer names: 'recall', 'roc_auc', 'mae', …), "
            "a business outcome, 'latency_p95', 'error_rate', or '*' for every metric."
        )

    def info(name: str, label: str, group: str, higher: bool | None, headline=False):
        return MetricInfo(name, label, group, higher, per_metric.get(name, default), headline)

    infos = [info(m.name, m.label, "model", m.higher_is_better, m.headline) for m in chosen]
    infos += [
        info(name, name.replace("_", " "), "business", higher, True)
        for name, higher, _ in business_specs
    ]
    if latency:
        infos += [info(name, f"latency p{q} (ms)", "operational", False) for name, q, _ in _LATENCY]
    if errors:
        infos.append(info("error_rate", "error rate", "operational", False))
    labels = dict(RESOURCE_COLUMNS)
    infos += [info(c, labels[c], "operational", False) for c in resources]
    if throughput:
        infos.append(MetricInfo("throughput", "throughput (rows/s)", "operational", None))
    return infos


def _window_seconds(times: pd.Series | None, windows: Sequence[Any]) -> dict[str, float]:
    """:func:`window_seconds` of current's timestamps and its time windows (chunks, ``by``
    an integer, have no duration)."""
    if times is None:
        return {}
    spans = [(w.label, w.start, w.end) for w in windows if w.start is not None]
    return window_seconds(times.min(), times.max(), spans)


def window_seconds(
    first: Any, last: Any, spans: Sequence[tuple[str, Any, Any]]
) -> dict[str, float]:
    """Seconds each window covers for throughput: ``last − first`` for the whole, and each
    ``(label, start, end)`` window clipped to that span (a first or last window that the data
    covers in part is not read as a slump)."""
    found = {OVERALL: (last - first).total_seconds()}
    for label, start, end in spans:
        found[label] = max((min(end, last) - max(start, first)).total_seconds(), 0.0)
    return found


def _finite_mean(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else math.nan


def _finite_percentile(values: np.ndarray, q: float) -> float:
    values = values[np.isfinite(values)]
    return float(np.percentile(values, q)) if values.size else math.nan


def _column_numbers(
    frame: pd.DataFrame, column: str, name: str, side: str = "current"
) -> np.ndarray:
    """A business column's values as numbers; a column holding text (or ±inf) raises: its
    mean would silently leave those rows out."""
    if column not in frame.columns:
        raise ColumnNotFoundError(
            f"business[{name!r}] reads column '{column}', which is not in {side} ({side} "
            f"has: {', '.join(map(str, list(frame.columns)[:10]))}, …)."
        )
    values, invalid = numeric_values(frame[column])
    if invalid:
        present = frame[column].dropna()
        numbers = pd.to_numeric(present, errors="coerce")
        bad = present[numbers.isna() | np.isinf(numbers.astype(float))]
        example = f" (e.g. {str(bad.iloc[0])[:40]!r})" if len(bad) else ""
        raise InputError(
            f"business[{name!r}] reads column '{column}', which holds {invalid:,} values that "
            f"are not finite numbers{example}; a business outcome is the mean of a numeric "
            "column (0/1 for a rate): convert the column, or give a function of the rows."
        )
    return values
