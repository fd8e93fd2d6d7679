"""Performance of a Dask DataFrame: per-partition states, merged, judged as for pandas.

``PerformanceReport(current=dask_dataframe, …)`` (needs ``pip install 'monitorkit[dask]'``)
never brings the rows to the client. It makes two passes over the partitions:

1. a *scan* of each partition: its rows, the range of its timestamps and scores, the target's
   distinct values (for the task and the positive class), the counts of each segment value;
2. a *state* of each partition for every (window, segment) cell — counts and sums that add
   up — merged pairwise as a balanced tree of tasks; the client receives one merged state.

The metrics of each cell are read from the merged state and judged by the same rules as the
pandas report (:class:`monitorkit.performance.report._Judge`: the same baseline values,
tolerances, minimum rows and Bonferroni level). What a cell's state holds, and how exact the
metric read from it is:

exact (counts; the value equals the pandas report's)
    rows, labelled and dropped rows, confusion matrices; accuracy, precision, recall, F1,
    balanced accuracy, positive rate (binary, from the 2×2 counts); the multiclass metrics
    (scikit-learn on the distinct (true, predicted) pairs weighted by their counts); error
    rate; click-through rate and hit rate@k (ranking).
exact up to floating-point summation order (sums; relative differences ~1e-12)
    log loss, Brier score, calibration error (its 10 bins are fixed), MAE, RMSE, MAPE (sum of
    absolute percentage errors / rows with a non-zero target), mean error, R² (sums of the
    target shifted by its global mean, so that no cancellation loses digits), precision@k,
    MRR, business columns (``business={name: column}``: count, sum and sum of squares).
binned (ROC AUC and average precision)
    The scores are counted per class in :data:`SCORE_BINS` (4,096) equal-width bins over
    ``[0, 1]`` — or over the scores' global range when some score lies outside it — and all
    rows of a bin are treated as tied. A pair of a positive and a negative row in different
    bins is ordered exactly as by their scores, so the binned ROC AUC differs from the exact
    one only through pairs that share a bin: by at most ``½ · Σ_b pos_b · neg_b / (P · N)``,
    half the share of positive–negative pairs in the same bin (:func:`auc_binning_error`).
    For average precision, each positive of bin ``b`` is credited with the precision at the
    end of its bin instead of at its own score; the difference is at most ``Σ_b (pos_b / P) ·
    (hi_b − lo_b)``, where ``[lo_b, hi_b]`` holds every precision reachable inside the bin
    (:func:`average_precision_binning_error`). Both bounds are computed from the state
    itself. Scores with few distinct values (each in a bin of its own) give the exact value;
    smooth scores over ``[0, 1]`` put about ``1/4096`` of the pairs in a shared bin, so the
    ROC AUC bound is then about 1e-4 (the benchmark measures it).
approximate (a mergeable sketch)
    latency p50 / p95 / p99: an Apache DataSketches KLL sketch per cell (``k = 200``; the rank
    of the value returned is within ±1.33% of the asked rank with 99% confidence); its
    interval is the sketch's quantiles at the ranks ``q ∓ z·√(q(1−q)/n)``.
fairness (binary, the spec's ``sensitive`` columns; exact)
    per sensitive column, the usable rows of each (window, group) as tn, fp, fn, tp; the
    groups are :func:`~monitorkit.performance.fairness.choose_groups`' over the whole frame
    (its 50 most frequent values, a tie at the last place broken by the order values are
    first seen, partition by partition, as on the pandas path), and
    :func:`~monitorkit.performance.fairness.judge_counts` turns the merged counts into the
    pandas report's group rates and gaps — equal to them.
estimation without labels (a baseline with a calibration; whole of current, per window)
    per window the rows and the expected tp, fp, fn, tn (sums of the calibrated
    probabilities: equal to pandas' up to summation order), and the weights ``1 − p`` and
    ``p`` per score bin, from which the expected ROC AUC is read as the realised one is
    (binned: within about 1e-4 of the pandas estimate on smooth scores). Judged, and concept
    shifts found, by the pandas report's
    :func:`~monitorkit.performance.report.judge_estimates`. Predicted labels come from the
    labels' own (with ``prediction_label``), else a ``prediction_label`` column holding only
    0 and 1 across all partitions, else ``score >= threshold``.
not computed on Dask input (shown with the reason, never judged)
    median absolute error (a median does not merge), metrics registered without a merged
    form (:func:`register_merged`), business outcomes given as functions of the frame, and the
    ranked causes of a drop (they compare rows with the reference: compute them on a sample).

Intervals: proportions get the same Wilson interval, per-row means the same normal interval
(their standard deviation from the sum of squares), F1 and balanced accuracy the same closed
forms from the confusion counts as in the pandas report; average precision the logit
interval of its binned value; ROC AUC the Hanley–McNeil standard error. The metrics the
pandas report bounds with a bootstrap of rows (R², the multiclass macro and weighted
precision, recall and F1) get none here, and are shown but not judged
(:data:`NO_MERGED_INTERVAL`): without an interval, noise in a small window would alarm.

Windows: time windows (``by="1D"``, ``"W-MON"``, …) are cut with the edges
:func:`monitorkit.windows.assign_windows` would cut on the whole frame (the time range is
found in the scan), so the labels and rows of each window are the pandas report's. An
integer ``by`` cuts equal chunks in row order, as for pandas (the scan gives each partition's
first row). Segments are the :data:`~monitorkit.performance.report.MAX_SEGMENT_VALUES` most
frequent values of each segment column over all partitions (ties at the last place may be
broken differently than by pandas).

Ranking input: Dask turns object columns into strings by default (its ``dataframe.convert-string``
option), lists of recommendations included; such a frame is refused with that explanation.
Keep the lists with ``dask.config.set({"dataframe.convert-string": False})`` or a pyarrow
list column (as parquet stores them).

The partitions are computed by the active Dask scheduler (a ``distributed.Client`` when one
is set up, else Dask's default).
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from monitorkit.errors import ColumnSpecError, InputError, require
from monitorkit.performance import metrics as registry
from monitorkit.performance.labels import (
    _positive_of,
    infer_task,
    prepare_labels,
    with_declared_classes,
)
from monitorkit.performance.results import (
    OVERALL,
    MetricValue,
    PerformanceResult,
    PerformanceWindow,
)
from monitorkit.schema import ColumnSpec, category_labels, numeric_values

SCORE_BINS = 4096
"""Equal-width score bins per class of the ROC AUC / average precision state."""

MAX_DISTINCT = 2000
"""Distinct target (and multiclass prediction) values the scan keeps; more classes raise."""

_CALIBRATION_BINS = 10
_MAX_CONFUSION_CELLS = 20_000_000  # (window, segment) cells × classes²: beyond, raise


def is_dask_frame(data: Any) -> bool:
    """Whether ``data`` is a Dask DataFrame (checked by module, without importing Dask)."""
    module = type(data).__module__
    return module.startswith("dask.") or module.startswith("dask_expr")


# ---- pass 1: the scan ----------------------------------------------------------------------


@dataclass
class _Scan:
    """What one partition (or several, merged) says about the whole frame."""

    rows: int = 0
    first: pd.Timestamp | None = None
    last: pd.Timestamp | None = None
    timed: int = 0
    target_values: pd.Series | None = None  # distinct present values, at most MAX_DISTINCT
    target_more: bool = False
    label_strings: set = field(default_factory=set)  # target ∪ prediction labels, as text
    target_strings: set = field(default_factory=set)
    holds_lists: bool | None = None
    has_score: bool = False
    score_low: float = math.inf
    score_high: float = -math.inf
    target_sum: float = 0.0
    target_count: int = 0
    segment_counts: dict = field(default_factory=dict)
    sensitive_counts: dict = field(default_factory=dict)  # rows per value (missing left out)
    sensitive_missing: dict = field(default_factory=dict)  # rows with a missing value
    label_01: bool = True  # estimation: the prediction_label column holds only 0 and 1


def _scan_partition(part: pd.DataFrame, plan: dict[str, Any]) -> _Scan:
    from monitorkit.performance.labels import _holds_lists
    from monitorkit.windows import utc_times

    scan = _Scan(rows=len(part))
    timestamp = plan["timestamp"]
    if timestamp is not None and timestamp in part.columns and len(part):
        times = utc_times(part[timestamp], timestamp)
        scan.timed = int(times.notna().sum())
        if scan.timed:
            scan.first, scan.last = times.min(), times.max()
    target, predicted = plan["target"], plan["predicted"]
    if target is not None and predicted is not None:
        truth = part[target]
        shown = part[predicted]
        if shown.notna().any():
            scan.holds_lists = _holds_lists(shown)
        present = truth.dropna()
        distinct = present.drop_duplicates()
        scan.target_more = len(distinct) > MAX_DISTINCT
        scan.target_values = distinct.head(MAX_DISTINCT)
        if not scan.holds_lists:
            if plan["text_labels"]:
                scan.target_strings = set(present.astype("string").unique()[: MAX_DISTINCT + 1])
                labels = part[plan["label_column"]].dropna().astype("string").unique()
                scan.label_strings = scan.target_strings | set(labels[: MAX_DISTINCT + 1])
            if plan["prediction"] is not None:
                scores, _ = numeric_values(part[plan["prediction"]])
                finite = scores[np.isfinite(scores)]
                numeric = pd.api.types.is_numeric_dtype(part[plan["prediction"]].dtype)
                scan.has_score = bool(numeric or finite.size)
                if finite.size:
                    scan.score_low, scan.score_high = float(finite.min()), float(finite.max())
            if pd.api.types.is_numeric_dtype(truth.dtype) and not pd.api.types.is_bool_dtype(
                truth.dtype
            ):
                numbers, _ = numeric_values(truth)
                numbers = numbers[np.isfinite(numbers)]
                scan.target_sum, scan.target_count = float(numbers.sum()), int(numbers.size)
    for column in plan["segments"]:
        scan.segment_counts[column] = category_labels(part[column]).value_counts(sort=False)
    if plan["estimate"] and plan["prediction"] is not None:
        scores, _ = numeric_values(part[plan["prediction"]])
        finite = scores[np.isfinite(scores)]
        if finite.size:
            scan.score_low = min(scan.score_low, float(finite.min()))
            scan.score_high = max(scan.score_high, float(finite.max()))
        column = plan["label_column"]
        if column is not None and column in part.columns:
            numbers, _ = numeric_values(part[column])
            scan.label_01 = bool(np.isin(numbers[np.isfinite(numbers)], (0.0, 1.0)).all())
    for column in plan["sensitive"]:
        labels = category_labels(part[column])
        scan.sensitive_counts[column] = labels.value_counts(sort=False)
        scan.sensitive_missing[column] = int(labels.isna().sum())
    return scan


def _merge_scans(scans: Sequence[_Scan]) -> _Scan:
    total = _Scan(rows=sum(s.rows for s in scans))
    timed = [s for s in scans if s.timed]
    if timed:
        total.first = min(s.first for s in timed)
        total.last = max(s.last for s in timed)
    total.timed = sum(s.timed for s in scans)
    values = [s.target_values for s in scans if s.target_values is not None]
    if values:
        distinct = pd.concat(values).drop_duplicates()
        total.target_more = any(s.target_more for s in scans) or len(distinct) > MAX_DISTINCT
        total.target_values = distinct.head(MAX_DISTINCT)
    for scan in scans:
        total.label_strings |= scan.label_strings
        total.target_strings |= scan.target_strings
        total.has_score |= scan.has_score
        total.score_low = min(total.score_low, scan.score_low)
        total.score_high = max(total.score_high, scan.score_high)
        total.label_01 &= scan.label_01
        total.target_sum += scan.target_sum
        total.target_count += scan.target_count
        if scan.holds_lists is not None:
            total.holds_lists = bool(total.holds_lists) or scan.holds_lists
        for found, into in (
            (scan.segment_counts, total.segment_counts),
            (scan.sensitive_counts, total.sensitive_counts),
        ):
            for column, counts in found.items():
                before = into.get(column)
                # Summed in the order values were first seen, partition by partition (as the
                # pandas path sees them): Series.add would sort the labels.
                into[column] = (
                    counts
                    if before is None
                    else pd.concat([before, counts]).groupby(level=0, sort=False).sum()
                )
        for column, missing in scan.sensitive_missing.items():
            total.sensitive_missing[column] = total.sensitive_missing.get(column, 0) + missing
    return total


# ---- pass 2: the states --------------------------------------------------------------------


@dataclass
class _Plan:
    """Everything a partition's state needs to know about the whole frame (picklable)."""

    task: str | None
    target: str | None
    prediction: str | None
    prediction_label: str | None
    threshold: float
    positive: Any
    labels: tuple[str, ...]  # multiclass: every label of target and prediction, sorted
    score_low: float
    score_high: float
    shift: float  # regression: the target's global mean, subtracted before summing squares
    ranking_ks: tuple[int, ...]
    timestamp: str | None
    edges: np.ndarray | None  # time windows: datetime64[ns] edges
    chunks: int | None  # integer by
    total_rows: int
    n_windows: int
    segments: tuple[tuple[str, tuple[str, ...]], ...]  # (column, chosen values)
    business: tuple[tuple[str, str], ...]  # (name, column)
    latency: str | None
    error: bool
    # Fairness (binary): (sensitive column, its kept values, group names, reasons) — what
    # fairness.choose_groups gives over the whole frame.
    sensitive: tuple[tuple[str, tuple, tuple, tuple], ...] = ()
    # Estimation without labels (the baseline's calibration), and where predicted labels come
    # from: "labels" (the prepared ones), "column" (prediction_label, 0/1) or "threshold".
    calibration: Any = None
    estimate_from: str = "threshold"

    @property
    def width(self) -> int:
        """Window slots per segment: slot 0 holds rows in no window, slot w + 1 window w."""
        return self.n_windows + 1

    @property
    def cells(self) -> int:
        return (1 + sum(len(v) for _, v in self.segments)) * self.width


def _window_codes(part: pd.DataFrame, offset: int, plan: _Plan) -> np.ndarray:
    from monitorkit.windows import utc_times

    n = len(part)
    if plan.chunks is not None:
        return np.arange(offset, offset + n, dtype=np.int64) * plan.chunks // plan.total_rows
    codes = np.full(n, -1, dtype=np.int64)
    if plan.edges is None:
        return codes
    times = utc_times(part[plan.timestamp], plan.timestamp)
    timed = times.notna().to_numpy()
    values = times.to_numpy(dtype="datetime64[ns]")[timed]
    codes[timed] = np.searchsorted(plan.edges, values, "right") - 1
    return codes


def _cells_of(part: pd.DataFrame, offset: int, plan: _Plan) -> tuple[np.ndarray, np.ndarray]:
    """(row positions, cell ids): each row once for the whole-segment cells and once more
    for each segment column whose value is one of the chosen segments."""
    slot = _window_codes(part, offset, plan) + 1
    rows = [np.arange(len(part))]
    cells = [slot]
    first = 1
    for column, values in plan.segments:
        labels = category_labels(part[column]).to_numpy(dtype=object, na_value=None)
        index = pd.Index(values).get_indexer(labels)
        chosen = np.flatnonzero(index >= 0)
        rows.append(chosen)
        cells.append((first + index[chosen]) * plan.width + slot[chosen])
        first += len(values)
    return np.concatenate(rows), np.concatenate(cells)


def _sums(cells: np.ndarray, total: int, weights: np.ndarray | None = None) -> np.ndarray:
    return np.bincount(cells, weights=weights, minlength=total)


def _binned(cells: np.ndarray, total: int, width: int, sub: np.ndarray, weights=None):
    found = np.bincount(cells * width + sub, weights=weights, minlength=total * width)
    return found.reshape(total, width)


def _partition_state(part: pd.DataFrame, offset: int, plan: _Plan) -> dict[str, Any]:
    """The sums and counts of one partition, per cell (see the module docstring)."""
    from monitorkit.performance.report import _truthy

    rows, cells = _cells_of(part, offset, plan)
    total = plan.cells
    state: dict[str, Any] = {"rows": _sums(cells, total)}
    prepared = None
    if plan.task is not None:
        prepared = prepare_labels(
            part,
            plan.target,
            plan.prediction,
            plan.prediction_label,
            task=plan.task,
            threshold=plan.threshold,
            positive=plan.positive,
        )
    if prepared is not None:
        state["labelled"] = _sums(cells[prepared.labelled[rows]], total)
        keep = prepared.usable[rows]
        used, at = rows[keep], cells[keep]
        state["usable"] = _sums(at, total)
        state.update(_label_sums(prepared, used, at, total, plan))
        if plan.task == "binary":
            state.update(_fairness_counts(part, prepared, cells[: len(part)], plan))
    if plan.calibration is not None:
        state.update(_estimate_sums(part, prepared, cells[: len(part)], plan))
    for name, column in plan.business:
        numbers, _ = numeric_values(part[column])
        numbers = numbers[rows]
        finite = np.isfinite(numbers)
        numbers, at = numbers[finite], cells[finite]
        state[f"business:{name}"] = np.stack(
            [
                _sums(at, total).astype(float),
                _sums(at, total, numbers),
                _sums(at, total, numbers**2),
            ],
            axis=1,
        )
    if plan.error:
        flags = _truthy(part["error"])[rows]
        state["errors"] = _sums(cells[flags], total)
    if plan.latency is not None:
        times, _ = numeric_values(part[plan.latency])
        times = times[rows]
        finite = np.isfinite(times)
        state["latency"] = _sketches(cells[finite], times[finite])
    return state


def _score_bins(scores: np.ndarray, plan: _Plan) -> np.ndarray:
    """Each score's bin among :data:`SCORE_BINS` equal-width bins over the plan's range."""
    low, high = plan.score_low, plan.score_high
    span = high - low
    if not span > 0:
        return np.zeros(scores.size, dtype=np.int64)
    return np.clip(((scores - low) / span * SCORE_BINS).astype(np.int64), 0, SCORE_BINS - 1)


def _estimate_sums(part: pd.DataFrame, prepared, slots: np.ndarray, plan: _Plan) -> dict:
    """Per window slot, the sums CBPE needs (estimation.py, whole of current only): rows and
    the expected tp, fp, fn, tn (``estimate``), and the calibrated probabilities' weights
    ``1 − p`` and ``p`` per score bin (``estimate_histogram``, for the expected ROC AUC)."""
    scores, _ = numeric_values(part[plan.prediction])
    finite = np.isfinite(scores)
    if plan.estimate_from == "labels" and prepared is not None:
        predicted = np.where(finite, prepared.y_pred, np.nan)
    elif plan.estimate_from == "column":
        predicted, _ = numeric_values(part[plan.prediction_label])
    else:
        predicted = np.where(finite, (scores >= plan.threshold).astype(float), np.nan)
    keep = finite & np.isfinite(predicted)
    scores, predicted, at = scores[keep], predicted[keep], slots[keep]
    p = plan.calibration.apply(scores)
    weights = (np.ones(p.size), p * predicted, (1 - p) * predicted, p * (1 - predicted),
               (1 - p) * (1 - predicted))  # fmt: skip
    sums = np.stack([_sums(at, plan.width, w) for w in weights], axis=1)
    bins = _score_bins(scores, plan)
    histogram = np.concatenate(
        [
            _binned(at, plan.width, SCORE_BINS, bins, 1 - p),
            _binned(at, plan.width, SCORE_BINS, bins, p),
        ],
        axis=1,
    )
    return {"estimate": sums, "estimate_histogram": histogram}


def _fairness_counts(part: pd.DataFrame, prepared, slots: np.ndarray, plan: _Plan) -> dict:
    """Per sensitive column: the usable rows of each (window slot, group) as tn, fp, fn, tp,
    shape ``(width, groups, 4)`` — what :func:`fairness.judge_counts` reads."""
    from monitorkit.performance.fairness import group_index

    found = {}
    usable = prepared.usable
    outcome = prepared.y_true[usable].astype(np.int64) * 2 + prepared.y_pred[usable]
    for column, kept, names, _ in plan.sensitive:
        size = 4 * len(names)
        group = group_index(part[column], kept, names)[usable]
        codes = slots[usable] * size + group * 4 + outcome.astype(np.int64)
        counts = np.bincount(codes, minlength=plan.width * size)
        found[f"fairness:{column}"] = counts.reshape(plan.width, len(names), 4)
    return found


def _label_sums(prepared, used, at, total, plan: _Plan) -> dict[str, np.ndarray]:
    task = plan.task
    if task == "binary":
        y, p = prepared.y_true[used], prepared.y_pred[used]
        found = {"confusion": _binned(at, total, 4, y * 2 + p).reshape(total, 2, 2)}
        if prepared.y_score is not None:
            score = prepared.y_score[used].astype(float)
            bins = _score_bins(score, plan)
            found["histogram"] = _binned(at, total, 2 * SCORE_BINS, y * SCORE_BINS + bins)
            edges = np.linspace(0.0, 1.0, _CALIBRATION_BINS + 1)
            ids = np.searchsorted(edges[1:-1], score)
            found["calibration"] = np.stack(
                [
                    _binned(at, total, _CALIBRATION_BINS, ids).astype(float),
                    _binned(at, total, _CALIBRATION_BINS, ids, y.astype(float)),
                    _binned(at, total, _CALIBRATION_BINS, ids, score),
                ],
                axis=1,
            )
            clipped = np.clip(score, registry._EPS, 1 - registry._EPS)
            losses = -(y * np.log(clipped) + (1 - y) * np.log(1 - clipped))
            squared = (score - y) ** 2
            found["log_loss"] = _moments(at, total, losses)
            found["brier"] = _moments(at, total, squared)
        return found
    if task == "multiclass":
        size = len(plan.labels)
        index = pd.Index(plan.labels)
        t = index.get_indexer(prepared.y_true[used])
        p = index.get_indexer(prepared.y_pred[used])
        return {
            "confusion": _binned(at, total, size * size, t * size + p).reshape(total, size, size)
        }
    if task == "regression":
        y, p = prepared.y_true[used], prepared.y_pred[used]
        error = p - y
        nonzero = y != 0
        ape = np.abs(error[nonzero]) / np.abs(y[nonzero])
        return {
            "error": _moments(at, total, error),
            "absolute": _moments(at, total, np.abs(error)),
            "squared": _moments(at, total, error**2),
            "ape": _moments(at[nonzero], total, ape),
            "target": _moments(at, total, y - plan.shift),
        }
    # ranking
    first, cumulative = prepared.y_true[used], prepared.y_pred[used]
    found = {
        "clicked": _sums(at[first > 0], total),
        "reciprocal": _moments(
            at, total, np.divide(1.0, first, out=np.zeros(first.size), where=first > 0)
        ),
    }
    depth = cumulative.shape[1] if cumulative.ndim == 2 else 0
    for k in plan.ranking_ks:
        found[f"hit@{k}"] = _sums(at[(first >= 1) & (first <= k)], total)
        hits = cumulative[:, min(k, depth) - 1] / k if depth else np.zeros(first.size)
        found[f"precision@{k}"] = _moments(at, total, hits.astype(float))
    return found


def _moments(cells: np.ndarray, total: int, values: np.ndarray) -> np.ndarray:
    """Per cell: count, sum, sum of squares."""
    return np.stack(
        [
            _sums(cells, total).astype(float),
            _sums(cells, total, values),
            _sums(cells, total, values**2),
        ],
        axis=1,
    )


def _sketches(cells: np.ndarray, values: np.ndarray) -> dict[int, bytes]:
    ds = require("datasketches", "dask", "Latency percentiles of a Dask DataFrame")
    from monitorkit.profiles import KLL_K

    order = np.argsort(cells, kind="stable")
    cells, values = cells[order], values[order]
    found = {}
    starts = np.flatnonzero(np.r_[True, np.diff(cells) != 0]) if cells.size else []
    ends = list(starts[1:]) + [cells.size] if cells.size else []
    for start, end in zip(starts, ends):
        sketch = ds.kll_doubles_sketch(KLL_K)
        sketch.update(values[start:end])
        found[int(cells[start])] = sketch.serialize()
    return found


def merge(one: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """Two partition states as the state of both (counts and sums add, sketches merge)."""
    merged = dict(one)
    for key, value in other.items():
        if key not in merged:
            merged[key] = value
        elif key == "latency":
            merged[key] = _merge_sketches(merged[key], value)
        else:
            merged[key] = merged[key] + value
    return merged


def _merge_sketches(one: dict[int, bytes], other: dict[int, bytes]) -> dict[int, bytes]:
    ds = require("datasketches", "dask", "Latency percentiles of a Dask DataFrame")
    merged = dict(one)
    for cell, data in other.items():
        if cell in merged:
            sketch = ds.kll_doubles_sketch.deserialize(merged[cell])
            sketch.merge(ds.kll_doubles_sketch.deserialize(data))
            merged[cell] = sketch.serialize()
        else:
            merged[cell] = data
    return merged


# ---- metrics from a cell's state -----------------------------------------------------------


class Cell:
    """The merged state of one (window, segment) cell."""

    def __init__(self, task: str | None, parts: dict[str, Any], labels: tuple[str, ...]):
        self.task = task
        self.parts = parts
        self.labels = labels

    def __getitem__(self, key: str) -> Any:
        return self.parts[key]

    def has(self, key: str) -> bool:
        return key in self.parts

    @property
    def n(self) -> int:
        return int(self.parts.get("usable", 0))

    def counts(self) -> tuple[int, int, int, int]:
        """(tp, fp, fn, tn) of a binary task."""
        c = self["confusion"]
        return int(c[1, 1]), int(c[0, 1]), int(c[1, 0]), int(c[0, 0])


def _mean(moments: np.ndarray) -> float:
    count, total, _ = moments
    return float(total / count) if count else math.nan


def _mean_bounds(moments: np.ndarray, confidence: float, root: bool = False):
    """:func:`~monitorkit.performance.metrics.mean_interval` from count, sum, sum of squares."""
    count, total, squares = moments
    if count < 2:
        return math.nan, math.nan
    mean = total / count
    variance = max((squares - total * total / count) / (count - 1), 0.0)
    half = registry._z(confidence) * math.sqrt(variance) / math.sqrt(count)
    low, high = mean - half, mean + half
    if root:
        return math.sqrt(max(low, 0.0)), math.sqrt(max(high, 0.0))
    return low, high


def _binary_value(name: str) -> Callable[[Cell], float]:
    def value(cell: Cell) -> float:
        tp, fp, fn, tn = cell.counts()
        ratio = registry._ratio
        if name == "accuracy":
            return (tp + tn) / cell.n
        if name == "precision":
            return ratio(tp, tp + fp)
        if name == "recall":
            return ratio(tp, tp + fn)
        if name == "f1":
            return ratio(2 * tp, 2 * tp + fp + fn)
        if name == "positive_rate":
            return (tp + fn) / cell.n
        rates = [r for r in (ratio(tp, tp + fn), ratio(tn, tn + fp)) if not math.isnan(r)]
        return float(np.mean(rates)) if rates else math.nan  # balanced_accuracy

    return value


def _binary_proportion(name: str) -> Callable[[Cell], tuple[int, int]]:
    def counts(cell: Cell) -> tuple[int, int]:
        tp, fp, fn, tn = cell.counts()
        return {
            "accuracy": (tp + tn, cell.n),
            "precision": (tp, tp + fp),
            "recall": (tp, tp + fn),
            "positive_rate": (tp + fn, cell.n),
        }[name]

    return counts


def _histograms(cell: Cell) -> tuple[np.ndarray, np.ndarray]:
    histogram = cell["histogram"]
    return histogram[SCORE_BINS:].astype(float), histogram[:SCORE_BINS].astype(float)


def binned_roc_auc(positives: np.ndarray, negatives: np.ndarray) -> float:
    """ROC AUC from per-bin counts of positives and negatives (bins ascending in score; rows
    of one bin tied): Σ_b pos_b · (negatives below b + ½ neg_b) / (P · N)."""
    p, n = positives.sum(), negatives.sum()
    if not p or not n:
        return math.nan
    below = np.cumsum(negatives) - negatives
    return float(np.sum(positives * (below + negatives / 2)) / (p * n))


def auc_binning_error(positives: np.ndarray, negatives: np.ndarray) -> float:
    """The largest difference between :func:`binned_roc_auc` and the exact ROC AUC of the
    same rows: half the share of positive–negative pairs that share a bin."""
    p, n = positives.sum(), negatives.sum()
    if not p or not n:
        return math.nan
    return float(np.sum(positives * negatives) / (2 * p * n))


def _ap_blocks(positives: np.ndarray, negatives: np.ndarray):
    """Bins holding rows, highest scores first: (positives, rows, tp and predicted before)."""
    filled = (positives + negatives) > 0
    pos, rows = positives[filled][::-1], (positives + negatives)[filled][::-1]
    tp_after, predicted_after = np.cumsum(pos), np.cumsum(rows)
    return pos, rows, tp_after - pos, predicted_after - rows


def binned_average_precision(positives: np.ndarray, negatives: np.ndarray) -> float:
    """Average precision with each bin one threshold (as sklearn's tie blocks): Σ_b
    (pos_b / P) · precision at the end of bin b, bins from the highest score down."""
    p = positives.sum()
    if not p:
        return math.nan
    pos, rows, tp_before, predicted_before = _ap_blocks(positives, negatives)
    precision = (tp_before + pos) / (predicted_before + rows)
    return float(np.sum(pos / p * precision))


def average_precision_binning_error(positives: np.ndarray, negatives: np.ndarray) -> float:
    """The largest difference between :func:`binned_average_precision` and the exact
    average precision: Σ_b (pos_b / P) · (hi_b − lo_b), where a positive of bin b sees a
    precision between lo_b = (TP + 1) / (predicted + rows_b) and hi_b = the larger of
    (TP + 1) / (predicted + 1) and (TP + pos_b) / (predicted + pos_b) (TP, predicted: the
    counts above the bin), whatever the order of the scores inside the bin."""
    p = positives.sum()
    if not p:
        return math.nan
    pos, rows, tp_before, predicted_before = _ap_blocks(positives, negatives)
    has = pos > 0
    pos, rows, tp_before, predicted_before = (
        pos[has],
        rows[has],
        tp_before[has],
        predicted_before[has],
    )
    low = (tp_before + 1) / (predicted_before + rows)
    high = np.maximum(
        (tp_before + 1) / (predicted_before + 1), (tp_before + pos) / (predicted_before + pos)
    )
    return float(np.sum(pos / p * (high - low)))


def _auc_bounds(cell: Cell, confidence: float) -> tuple[float, float]:
    """Hanley & McNeil (1982): the standard error of an AUC A from P positives, N negatives."""
    positives, negatives = _histograms(cell)
    area = binned_roc_auc(positives, negatives)
    p, n = positives.sum(), negatives.sum()
    if not math.isfinite(area) or p < 2 or n < 2:
        return math.nan, math.nan
    q1, q2 = area / (2 - area), 2 * area * area / (1 + area)
    variance = (area * (1 - area) + (p - 1) * (q1 - area**2) + (n - 1) * (q2 - area**2)) / (p * n)
    half = registry._z(confidence) * math.sqrt(max(variance, 0.0))
    return area - half, area + half


def _calibration(cell: Cell) -> float:
    counts, labels, scores = cell["calibration"]
    filled = counts > 0
    return float(np.abs(labels[filled] - scores[filled]).sum() / cell.n)


def _multiclass(name: str) -> Callable[[Cell], float]:
    def value(cell: Cell) -> float:
        import sklearn.metrics as skm

        confusion = cell["confusion"]
        if name == "accuracy":
            return float(np.trace(confusion) / cell.n)
        t, p = np.nonzero(confusion)
        labels = np.asarray(cell.labels, dtype=object)
        y_true, y_pred, weight = labels[t].astype(str), labels[p].astype(str), confusion[t, p]
        if name == "balanced_accuracy":
            return skm.balanced_accuracy_score(y_true, y_pred, sample_weight=weight)
        function = {"precision": skm.precision_score, "recall": skm.recall_score}.get(
            name, skm.f1_score
        )
        average = "weighted" if name == "f1_weighted" else "macro"
        return function(y_true, y_pred, average=average, zero_division=np.nan, sample_weight=weight)

    return value


def _r2(cell: Cell) -> float:
    count, total, squares = cell["target"]
    spread = squares - total * total / count if count else 0.0
    if count < 2 or spread <= 1e-12 * squares:  # a constant target (as metrics._r2: NaN)
        return math.nan
    return 1 - cell["squared"][1] / spread


@dataclass(frozen=True)
class MergedMetric:
    """How a registered metric is read from a merged cell state: its value, and its
    interval at a confidence level (None: no interval on Dask input)."""

    value: Callable[[Cell], float]
    bounds: Callable[[Cell, float], tuple[float, float]] | None = None


MERGED: dict[tuple[str, str], MergedMetric] = {}
"""(task, metric name) → its merged form. Metrics without one are shown, not computed."""

NOT_MERGED: dict[str | tuple[str, str], str] = {
    "median_absolute_error": "a median does not merge across partitions",
}
"""Why a metric (by name, or by (task, name)) has no merged form, as the report shows it."""
for _name in ("roc_auc", "average_precision", "log_loss", "brier"):
    NOT_MERGED[("multiclass", _name)] = (
        "multiclass scores (ColumnSpec.class_scores) are not merged across partitions yet; "
        "compute the report on a pandas frame (e.g. current.compute()) for it"
    )


NO_MERGED_INTERVAL = (
    "shown, not judged on Dask input: its interval (a bootstrap of rows in the pandas "
    "report) does not merge, and without one noise would alarm"
)


def register_merged(task: str, name: str, merged: MergedMetric) -> MergedMetric:
    """Give the registered metric ``name`` a merged form for Dask input of ``task``."""
    MERGED[(task, name)] = merged
    return merged


def _wilson(counts: Callable[[Cell], tuple[int, int]]):
    return lambda cell, level: registry.wilson(*counts(cell), confidence=level)


def _moment_metric(key: str, root: bool = False) -> MergedMetric:
    def value(cell: Cell) -> float:
        mean = _mean(cell[key])
        return math.sqrt(mean) if root and math.isfinite(mean) else mean

    return MergedMetric(value, lambda cell, level: _mean_bounds(cell[key], level, root))


for _name in ("accuracy", "precision", "recall", "positive_rate"):
    register_merged(
        "binary", _name, MergedMetric(_binary_value(_name), _wilson(_binary_proportion(_name)))
    )


def _f1_bounds(cell: Cell, level: float) -> tuple[float, float]:
    tp, fp, fn, _ = cell.counts()
    return registry.f1_interval_of_counts(tp, fp, fn, cell.n, level)


def _balanced_bounds(cell: Cell, level: float) -> tuple[float, float]:
    """The pandas report's interval (per-class proportions) from the confusion matrix."""
    confusion = np.asarray(cell["confusion"])
    return registry.balanced_accuracy_interval_of_counts(
        np.diag(confusion), confusion.sum(axis=1), level
    )


def _average_precision_bounds(cell: Cell, level: float) -> tuple[float, float]:
    positives, negatives = _histograms(cell)
    ap = binned_average_precision(positives, negatives)
    return registry.average_precision_interval_of(ap, int(positives.sum()), level)


register_merged("binary", "f1", MergedMetric(_binary_value("f1"), _f1_bounds))
register_merged(
    "binary",
    "balanced_accuracy",
    MergedMetric(_binary_value("balanced_accuracy"), _balanced_bounds),
)
register_merged(
    "binary",
    "roc_auc",
    MergedMetric(lambda cell: binned_roc_auc(*_histograms(cell)), _auc_bounds),
)
register_merged(
    "binary",
    "average_precision",
    MergedMetric(
        lambda cell: binned_average_precision(*_histograms(cell)), _average_precision_bounds
    ),
)
register_merged("binary", "log_loss", _moment_metric("log_loss"))
register_merged("binary", "brier", _moment_metric("brier"))
register_merged("binary", "calibration_error", MergedMetric(_calibration))
register_merged(
    "multiclass",
    "accuracy",
    MergedMetric(
        _multiclass("accuracy"),
        _wilson(lambda cell: (int(np.trace(cell["confusion"])), cell.n)),
    ),
)
register_merged(
    "multiclass",
    "balanced_accuracy",
    MergedMetric(_multiclass("balanced_accuracy"), _balanced_bounds),
)
for _name in ("precision", "recall", "f1", "f1_weighted"):
    register_merged("multiclass", _name, MergedMetric(_multiclass(_name)))
register_merged("regression", "mae", _moment_metric("absolute"))
register_merged("regression", "rmse", _moment_metric("squared", root=True))
register_merged("regression", "mape", _moment_metric("ape"))
register_merged("regression", "mean_error", _moment_metric("error"))
register_merged("regression", "r2", MergedMetric(_r2))
register_merged(
    "ranking",
    "click_through_rate",
    MergedMetric(
        lambda cell: int(cell["clicked"]) / cell.n,
        _wilson(lambda cell: (int(cell["clicked"]), cell.n)),
    ),
)
register_merged("ranking", "mrr", _moment_metric("reciprocal"))


def _ranking_merged(k: int) -> tuple[MergedMetric, MergedMetric]:
    hits = MergedMetric(
        lambda cell: int(cell[f"hit@{k}"]) / cell.n,
        _wilson(lambda cell: (int(cell[f"hit@{k}"]), cell.n)),
    )
    return hits, _moment_metric(f"precision@{k}")


def _too_few(metric: registry.Metric, cell: Cell) -> str | None:
    """:meth:`~monitorkit.performance.metrics.Metric.too_few` from the cell's counts."""
    n = cell.n
    low = registry.MIN_LABELLED_ROWS
    if n < low:
        return f"too few rows ({n} < {low})"
    if metric.min_class is None:
        return None
    if cell.task == "binary" or metric.view is not None:
        tp, fp, fn, _ = (
            cell.counts() if cell.task == "binary" else (*_class_counts(cell, metric.name), 0)
        )
        positives, predicted = tp + fn, tp + fp
        counts = {
            "positives": [("positives", positives)],
            "predicted": [("predicted positives", predicted)],
            "positives_and_predicted": [
                ("positives", positives),
                ("predicted positives", predicted),
            ],
            "both": [("positives", positives), ("negatives", n - positives)],
        }.get(metric.min_class, [])
    else:
        sizes = cell["confusion"].sum(axis=1)
        counts = [("rows of the smallest class", int(sizes[sizes > 0].min()))]
    for what, count in counts:
        if count < registry.MIN_CLASS_ROWS:
            return f"too few rows ({count} {what} < {registry.MIN_CLASS_ROWS})"
    return None


def _class_counts(cell: Cell, name: str) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) of the class of a per-class metric
    (``recall[cat]``) against the rest, from the cell's confusion matrix."""
    cls = name[name.index("[") + 1 : -1]
    labels = [str(label) for label in cell.labels]
    if cls not in labels:
        return 0, 0, 0
    k = labels.index(cls)
    confusion = cell["confusion"]
    tp = int(confusion[k, k])
    return tp, int(confusion[:, k].sum()) - tp, int(confusion[k, :].sum()) - tp


def _class_form(name: str) -> MergedMetric:
    """A per-class metric (:func:`~monitorkit.performance.metrics.class_metrics`) from the
    confusion matrix: the binary value of the class against the rest, Wilson intervals for
    precision and recall, the delta method for F1 (as on pandas rows)."""
    base = name[: name.index("[")]

    def value(cell: Cell) -> float:
        tp, fp, fn = _class_counts(cell, name)
        top, bottom = {"precision": (tp, tp + fp), "recall": (tp, tp + fn)}.get(
            base, (2 * tp, 2 * tp + fp + fn)
        )
        return top / bottom if bottom else math.nan

    def bounds(cell: Cell, level: float) -> tuple[float, float]:
        tp, fp, fn = _class_counts(cell, name)
        if base in ("precision", "recall"):
            return registry.wilson(tp, tp + (fp if base == "precision" else fn), level)
        return registry.f1_interval_of_counts(tp, fp, fn, cell.n, level)

    return MergedMetric(value, bounds)


def _merged_form(task: str, metric: registry.Metric) -> MergedMetric | str:
    """The metric's merged form, or why it has none."""
    if task == "multiclass" and metric.view is not None and "[" in metric.name:
        return _class_form(metric.name)
    if task == "ranking" and metric.k is not None and (task, metric.name) not in MERGED:
        hits, precision = _ranking_merged(metric.k)
        return hits if metric.name.startswith("hit_rate@") else precision
    if (task, metric.name) in MERGED:
        return MERGED[(task, metric.name)]
    reason = NOT_MERGED.get((task, metric.name)) or NOT_MERGED.get(
        metric.name, "it has no merged form (register_merged)"
    )
    return f"not computed on Dask input: {reason}"


# ---- the report ----------------------------------------------------------------------------


def compute_merged(
    current: Any,
    spec: ColumnSpec | Mapping[str, Any] | None = None,
    baseline: Any = None,
    by: str | int | None = None,
    segments: Sequence[str] | str | None = None,
    *,
    threshold: float = 0.5,
    metrics: Sequence[str] | None = None,
    business: Mapping[Any, Any] | None = None,
    tolerance: Mapping[str, Any] | None = None,
    task: str | None = None,
    fairness_rule: Any = None,
) -> PerformanceResult:
    """The :class:`PerformanceResult` of a Dask DataFrame ``current`` (module docstring; the
    parameters are :class:`~monitorkit.PerformanceReport`'s)."""
    from monitorkit.baseline import Baseline
    from monitorkit.performance import report as pandas_report
    from monitorkit.reference import Reference

    dask = require("dask", "dask", "Performance of a Dask DataFrame")
    if not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise InputError(f"threshold must be a score in [0, 1]; got {threshold!r}.")
    if task is not None and task not in registry.TASKS:
        raise InputError(f"task must be one of {', '.join(registry.TASKS)} or None; got {task!r}.")
    if isinstance(baseline, (str, os.PathLike)) and str(baseline).lower().endswith(".json"):
        baseline = Baseline.load(baseline)  # its spec applies, as on the pandas path
    if spec is None and isinstance(baseline, Reference) and baseline.baseline is not None:
        spec = baseline.baseline.spec.spec
    if spec is None and isinstance(baseline, Baseline):
        spec = baseline.spec.spec
    head = current.get_partition(0).compute()  # kinds are inferred from the first partition
    columns = pandas_report._Columns(head, spec, segments)
    default_tolerance, tolerances = pandas_report._tolerances(tolerance)
    business_specs = pandas_report._business_specs(business)
    for name, _, how in business_specs:
        if isinstance(how, str):
            pandas_report._column_numbers(head, how, name)  # raises naming a missing column
    has_baseline = baseline is not None
    base = (
        pandas_report._read_baseline(baseline, columns, columns.segments, business, threshold, task)
        if has_baseline
        else pandas_report._BaselineSide({}, {})
    )

    note = None
    target, prediction, label_column = columns.target, columns.prediction, columns.prediction_label
    if label_column is not None and label_column not in head.columns:
        label_column = None
    labels_possible = False
    if target is None or target not in head.columns:
        note = "no labels in current yet" + (
            f" (no column '{target}')" if target else " (no target column)"
        )
    elif prediction is None and label_column is None:
        note = "no prediction column: model metrics need one (ColumnSpec(prediction=…))"
        if any(name in registry.METRICS for name in base.metrics):
            note = "the baseline has model metrics, but current has no prediction column"
    else:
        labels_possible = True
    truth_dtype = head[target].dtype if labels_possible else None
    declared = with_declared_classes("binary", columns.resolved.class_scores) == "multiclass"
    text_labels = labels_possible and (
        task == "multiclass"
        or (
            task is None
            and (
                declared
                or (
                    not pd.api.types.is_numeric_dtype(truth_dtype)
                    and not pd.api.types.is_bool_dtype(truth_dtype)
                )
            )
        )
    )
    scan_plan = {
        "timestamp": columns.timestamp if columns.timestamp in head.columns else None,
        "target": target if labels_possible else None,
        "predicted": (prediction if prediction in head.columns else label_column)
        if labels_possible
        else None,
        "label_column": label_column or prediction,
        "prediction": prediction if prediction in head.columns else None,
        "text_labels": text_labels,
        "segments": columns.segments,
        "sensitive": [
            i.name
            for i in columns.resolved.columns
            if i.sensitive and i.name in head.columns and labels_possible
        ],
        # Estimation without labels (as report._estimate): a calibration and a score column.
        "estimate": base.calibration is not None
        and prediction in head.columns
        and task in (None, "binary"),
    }
    parts = current.to_delayed()
    scans = dask.compute(*[dask.delayed(_scan_partition)(p, scan_plan) for p in parts])
    scan = _merge_scans(scans)

    if labels_possible and not scan.holds_lists and task in (None, "ranking"):
        _refuse_text_lists(head[scan_plan["predicted"]])
    # The task, as prepare_labels would find it on the whole frame.
    found_task = None
    positive = None
    labels: tuple[str, ...] = ()
    if labels_possible:
        if task is not None:
            found_task = task
        elif scan.holds_lists:
            found_task = "ranking"
        elif scan.target_values is not None and len(scan.target_values):
            found_task = infer_task(scan.target_values.astype(truth_dtype))
            found_task = with_declared_classes(found_task, columns.resolved.class_scores)
        if found_task == "binary":
            positive = _positive_of(scan.target_values.astype(truth_dtype))
        if found_task == "multiclass":
            if len(scan.label_strings) > MAX_DISTINCT:
                raise InputError(
                    f"target '{target}' and its prediction hold more than {MAX_DISTINCT:,} "
                    "classes; a Dask frame's performance is computed for up to that many."
                )
            labels = tuple(sorted(scan.label_strings))
        if found_task is None:
            note = f"no labels in current yet (column '{target}' is empty)"
    classes = (
        ("0", "1")
        if found_task == "binary"
        else tuple(sorted(scan.target_strings))
        if found_task == "multiclass"
        else ()
    )

    chosen = registry.metrics_for(found_task, metrics) if found_task is not None else []
    if found_task == "multiclass" and metrics is None:
        # Each class's precision, recall and F1 (with more than MAX_CLASS_METRICS classes, the
        # first in sorted order: the pandas report takes the most frequent).
        chosen += registry.class_metrics(sorted(scan.target_strings))
    if found_task == "binary" and not scan.has_score:
        chosen = [m for m in chosen if not m.needs_score]
    if found_task == "multiclass" and not columns.resolved.class_scores:
        chosen = [m for m in chosen if not m.needs_score]  # labels only, as on pandas rows
    latency_column = next((c for c in pandas_report.LATENCY_COLUMNS if c in head.columns), None)
    has_errors = pandas_report.ERROR_COLUMN in head.columns
    resources = [
        (column, label)
        for column, label in pandas_report.RESOURCE_COLUMNS
        if column in head.columns
    ]
    throughput = scan.timed > 1 and scan.first is not None
    infos = pandas_report.metric_infos(
        chosen,
        business_specs,
        (default_tolerance, tolerances),
        latency=latency_column is not None,
        errors=has_errors,
        resources=[column for column, _ in resources],
        throughput=throughput,
    )

    # Windows, cut as assign_windows cuts the whole frame.
    cut, chunks, window_labels, window_starts = _cut_windows(
        by, scan, columns.timestamp, head.columns
    )
    edges = None if cut is None else cut.to_numpy(dtype="datetime64[ns]")

    chosen_segments = []
    for column in columns.segments:
        counts = scan.segment_counts.get(column, pd.Series(dtype=float))
        top = counts.sort_values(ascending=False, kind="stable").head(
            pandas_report.MAX_SEGMENT_VALUES
        )
        chosen_segments.append((column, tuple(sorted(map(str, top.index)))))
    score_low, score_high = 0.0, 1.0  # scores in [0, 1] (or none): bins over [0, 1]
    if scan.score_low <= scan.score_high and (scan.score_low < 0 or scan.score_high > 1):
        score_low, score_high = scan.score_low, scan.score_high
    plan = _Plan(
        task=found_task,
        target=target,
        prediction=prediction if prediction in head.columns else None,
        prediction_label=label_column,
        threshold=float(threshold),
        positive=positive,
        labels=labels,
        score_low=score_low,
        score_high=score_high,
        shift=scan.target_sum / scan.target_count if scan.target_count else 0.0,
        ranking_ks=tuple(sorted({m.k for m in chosen if m.k is not None})),
        timestamp=columns.timestamp,
        edges=edges,
        chunks=chunks,
        total_rows=scan.rows,
        n_windows=len(window_labels),
        segments=tuple(chosen_segments),
        business=tuple((n, how) for n, _, how in business_specs if isinstance(how, str))
        + tuple((column, column) for column, _ in resources),
        latency=latency_column,
        error=has_errors,
        sensitive=tuple(
            (column, *_sensitive_groups(scan, column)) for column in scan_plan["sensitive"]
        )
        if found_task == "binary"
        else (),
        calibration=base.calibration
        if scan_plan["estimate"]
        and found_task in (None, "binary")
        and scan.score_low <= scan.score_high  # some finite score
        else None,
        estimate_from="labels"
        if found_task == "binary" and label_column is not None
        else "column"
        if label_column is not None and label_column in head.columns and scan.label_01
        else "threshold",
    )
    if plan.calibration is not None and (scan.score_low < 0 or scan.score_high > 1):
        from monitorkit.performance.estimation import SCORE_RANGE_FIX

        raise InputError(  # as the pandas report's estimate refuses them
            f"current's prediction column '{plan.prediction}' has values outside [0, 1] "
            f"(min {scan.score_low:g}, max {scan.score_high:g}); {SCORE_RANGE_FIX}"
        )
    if found_task == "multiclass" and plan.cells * len(labels) ** 2 > _MAX_CONFUSION_CELLS:
        raise InputError(
            f"{len(labels):,} classes over {plan.cells:,} (window, segment) cells make "
            "confusion matrices too large to merge; use fewer windows or segments."
        )
    offsets = np.r_[0, np.cumsum([s.rows for s in scans])[:-1]]
    states = [
        dask.delayed(_partition_state)(part, int(start), plan)
        for part, start in zip(parts, offsets)
    ]
    while len(states) > 1:
        states = [
            dask.delayed(merge)(states[i], states[i + 1]) if i + 1 < len(states) else states[i]
            for i in range(0, len(states), 2)
        ]
    (state,) = dask.compute(states[0])

    seconds: dict[str, float] = {}
    if throughput:
        spans = list(zip(window_labels, cut[:-1], cut[1:])) if edges is not None else []
        seconds = pandas_report.window_seconds(scan.first, scan.last, spans)
    values, windows, judge, level = _judge_cells(
        state,
        plan,
        chosen,
        infos,
        business_specs,
        base,
        classes,
        window_labels,
        window_starts,
        [column for column, _ in resources],
        seconds if throughput else None,
    )
    extra: dict[str, Any] = {"calibration_curve": _calibration_curve(state, plan)}
    if plan.sensitive:
        extra["fairness_groups"], extra["fairness"] = _fairness(
            state, plan, window_labels, fairness_rule, base.metrics
        )
    if plan.calibration is not None:
        extra["estimated"], extra["concept_shifts"] = _estimates(
            state, plan, window_labels, values, judge, level, metrics
        )
    return PerformanceResult(
        spec=columns.resolved,
        task=found_task,
        target=target,
        prediction=prediction,
        threshold=float(threshold),
        by=None if by is None else str(by),
        current_rows=scan.rows,
        metrics=tuple(judge.infos.values()),  # with the estimated metrics' when labels lack
        values=tuple(values),
        windows=tuple(windows),
        segments=columns.segments,
        classes=classes,
        baseline_model=base.model,
        has_baseline=has_baseline,
        note=note,
        **extra,
    )


def _sensitive_groups(scan: _Scan, column: str) -> tuple:
    """(kept values, group names, reasons) of a sensitive column over the whole frame."""
    from monitorkit.performance.fairness import choose_groups

    sizes = scan.sensitive_counts.get(column, pd.Series(dtype="int64"))
    sizes = pd.Series(sizes.to_numpy(), index=[str(v) for v in sizes.index])
    return choose_groups(sizes, scan.sensitive_missing.get(column, 0) > 0)


def _fairness(
    state: dict[str, Any],
    plan: _Plan,
    window_labels: Sequence[str],
    rule: Any,
    baseline: Mapping[str, Any],
) -> tuple[tuple, tuple]:
    """Group rates and gaps of every sensitive column from the merged counts, judged as
    the pandas report judges them (the same level, shared between windows and columns)."""
    from monitorkit.performance import fairness

    windows = [OVERALL, *window_labels]
    counted = []
    for column, _, names, reasons in plan.sensitive:
        slots = state[f"fairness:{column}"]  # slot 0: rows in no window; the whole: their sum
        counts = np.concatenate([slots.sum(axis=0, keepdims=True), slots[1:]])
        counted.append((column, names, reasons, counts))
    confidence = registry.cell_confidence(len(windows) * len(plan.sensitive))
    return fairness.judge_attributes(
        counted, windows, rule=rule, confidence=confidence, baseline=baseline
    )


def _estimates(
    state: dict[str, Any],
    plan: _Plan,
    window_labels: Sequence[str],
    values: Sequence[MetricValue],
    judge: Any,
    level: float,
    metrics: Sequence[str] | None,
) -> tuple[tuple, tuple]:
    """CBPE of the whole of current per window from the merged sums, judged by the pandas
    report's :func:`~monitorkit.performance.report.judge_estimates`. The expected confusion
    counts are sums (exact up to summation order); the expected ROC AUC is binned like the
    realised one (:func:`binned_roc_auc` on the ``1 − p`` and ``p`` weights per score bin)."""
    from monitorkit.performance import estimation
    from monitorkit.performance.report import judge_estimates

    sums, histogram = state["estimate"], state["estimate_histogram"]
    guesses = []
    for window, slot in [(OVERALL, None), *((w, i + 1) for i, w in enumerate(window_labels))]:
        here = sums.sum(axis=0) if slot is None else sums[slot]
        bins = histogram.sum(axis=0) if slot is None else histogram[slot]
        rows, tp, fp, fn, tn = (float(v) for v in here)
        guess = estimation.estimate_from_counts(
            plan.calibration,
            tp=tp,
            fp=fp,
            fn=fn,
            tn=tn,
            rows=round(rows),
            roc_auc=binned_roc_auc(bins[SCORE_BINS:], bins[:SCORE_BINS]),
            confidence=level,
        )
        guesses.append((window, guess))
    estimated, shifts = judge_estimates(guesses, values, judge, metrics)
    return tuple(estimated), tuple(shifts)


def _cut_windows(by: Any, scan: _Scan, timestamp: str | None, columns: Any):
    """(time edges or None, chunks or None, labels, ISO starts) of ``by`` over the whole
    frame — the windows :func:`~monitorkit.windows.assign_windows` cuts, with its errors."""
    from monitorkit.windows import MAX_WINDOWS, _edges, _parse_alias, _time_labels

    cut = None
    chunks = None
    window_labels: list[str] = []
    window_starts: list[str | None] = []
    if isinstance(by, bool):
        raise InputError(
            "by must be a pandas offset alias such as '1D' or an integer number of chunks; got "
            "a bool."
        )
    if isinstance(by, (int, np.integer)) and scan.rows:
        chunks = int(by)
        if chunks < 1 or chunks > scan.rows:
            raise InputError(
                f"by={chunks}: the number of chunks must be between 1 and the {scan.rows:,} "
                "rows of current."
            )
        if chunks > MAX_WINDOWS:
            raise InputError(
                f"by={chunks} would make {chunks} chunks, more than MAX_WINDOWS = "
                f"{MAX_WINDOWS}; pass by={MAX_WINDOWS} or fewer."
            )
        width = len(str(chunks))
        window_labels = [f"chunk {i + 1:0{width}d}" for i in range(chunks)]
        window_starts = [None] * chunks
    elif isinstance(by, str) and scan.rows:
        offset = _parse_alias(by)
        stamp = timestamp
        if stamp is None or stamp not in columns:
            raise ColumnSpecError(
                f"by={by!r} splits current by time, but no timestamp column was found or "
                "declared; pass spec=ColumnSpec(timestamp='your_time_column'), or an integer "
                "by= to split into equal chunks in row order."
            )
        if not scan.timed:
            raise InputError(
                f"by={by!r}: column '{stamp}' of current has no timestamp that can be read "
                "(every value is missing or not an ISO 8601 date-time); fix the column or pass "
                "an integer by= to split into equal chunks in row order."
            )
        cut = _edges(offset, scan.first, scan.last, by)
        window_labels = _time_labels(cut)
        window_starts = [cut[i].tz_localize("UTC").isoformat() for i in range(len(cut) - 1)]
    elif by is not None and not isinstance(by, (str, int, np.integer)):
        raise InputError(
            f"by must be a pandas offset alias or an integer number of chunks; got {by!r} of "
            f"type {type(by).__name__}."
        )

    return cut, chunks, window_labels, window_starts


def _calibration_curve(state: dict[str, Any], plan: _Plan) -> tuple:
    """(mean score, share positive, rows) per filled calibration bin of the whole."""
    if "calibration" not in state:
        return ()
    counts, label_sums, score_sums = _cell_parts(state, plan, 0, None)["calibration"]
    return tuple(
        (float(score_sums[i] / counts[i]), float(label_sums[i] / counts[i]), int(counts[i]))
        for i in np.flatnonzero(counts)
    )


def _refuse_text_lists(shown: pd.Series) -> None:
    """Raise when a prediction of lists reached us as text (Dask's ``convert-string``)."""
    if not (pd.api.types.is_string_dtype(shown.dtype) or shown.dtype == object):
        return
    present = shown.dropna().head(20).astype(str).str.strip()
    if len(present) and (present.str.startswith("[") & present.str.endswith("]")).all():
        raise InputError(
            f"prediction column '{shown.name}' of the Dask frame holds text such as "
            f"{present.iloc[0][:40]!r}: lists of recommendations turned into strings, as Dask "
            "does to object columns by default; keep the lists with "
            "dask.config.set({'dataframe.convert-string': False}) before building the frame, "
            "or store them as a list column (pyarrow list type, e.g. in parquet)."
        )


def _cell_parts(state: dict[str, Any], plan: _Plan, segment: int, window: int | None):
    """The state of one cell: segment number ``segment``, window ``window`` (None: all)."""
    width = plan.width
    slots = range(segment * width, (segment + 1) * width)
    ids = list(slots) if window is None else [segment * width + window + 1]
    parts: dict[str, Any] = {}
    for key, value in state.items():
        if key.startswith(("fairness:", "estimate")):
            continue  # per window slot of the whole, not per cell: read by _fairness, _estimates
        if key == "latency":
            found = [value[i] for i in ids if i in value]
            parts[key] = found[0] if len(found) == 1 else _merge_all(found)
        else:
            parts[key] = value[ids].sum(axis=0)
    return parts


def _merge_all(sketches: list[bytes]) -> bytes | None:
    merged: dict[int, bytes] = {}
    for data in sketches:
        merged = _merge_sketches(merged, {0: data})
    return merged.get(0)


def _judge_cells(
    state,
    plan,
    chosen,
    infos,
    business_specs,
    base,
    classes,
    window_labels,
    window_starts,
    resources,
    seconds,
):
    from monitorkit.performance.report import _LATENCY, _Judge, judged_tests

    judge = _Judge({i.name: i for i in infos}, base.metrics, base.latency)
    segment_names = [OVERALL] + [f"{c}={v}" for c, values in plan.segments for v in values]
    windows_list = [(OVERALL, None, None)] + [
        (label, i, start) for i, (label, start) in enumerate(zip(window_labels, window_starts))
    ]
    tests = len(windows_list) * len(segment_names)
    tests *= judged_tests(infos, chosen, plan.calibration is not None)
    level = registry.cell_confidence(tests)
    class_level = registry.class_confidence(chosen, tests)
    forms = {m.name: _merged_form(plan.task, m) for m in chosen}
    min_rows = registry.MIN_LABELLED_ROWS
    values: list[MetricValue] = []
    windows: list[PerformanceWindow] = []
    for window, number, start in windows_list:
        whole = Cell(plan.task, _cell_parts(state, plan, 0, number), plan.labels)
        labelled = int(whole.parts.get("labelled", 0))
        windows.append(
            PerformanceWindow(
                window=window,
                rows=int(whole["rows"]),
                labelled=labelled,
                dropped=labelled - whole.n if plan.task is not None else 0,
                start=start,
                confusion=_confusion(whole, classes) if plan.task is not None else (),
            )
        )
        for index, segment in enumerate(segment_names):
            cell = (
                whole
                if index == 0
                else Cell(plan.task, _cell_parts(state, plan, index, number), plan.labels)
            )
            for metric in chosen:
                form = forms[metric.name]
                if isinstance(form, str):
                    value, skipped, bounds = math.nan, form, lambda: (math.nan, math.nan)
                else:
                    value = _safely(form.value, cell) if cell.n else math.nan
                    skipped = _too_few(metric, cell) if cell.n else f"too few rows (0 < {min_rows})"
                    judged = judge.infos[metric.name].higher_is_better is not None
                    if skipped is None and form.bounds is None and judged:
                        skipped = NO_MERGED_INTERVAL
                    bounds = (
                        (
                            lambda f=form, c=cell, m=metric: f.bounds(
                                c, class_level if m.view is not None else level
                            )
                        )
                        if form.bounds is not None and cell.n
                        else (lambda: (math.nan, math.nan))
                    )
                cheap = metric.proportion is not None or metric.per_row is not None
                values.append(
                    judge(
                        window,
                        metric.name,
                        segment,
                        _finite_or_nan(value),
                        cell.n,
                        skipped,
                        bounds,
                        cheap,
                        cell.n,
                    )
                )
            for name, _, how in business_specs:
                if isinstance(how, str):
                    moments = cell[f"business:{name}"]
                    n = int(moments[0])
                    value = _mean(moments)
                    skipped = f"too few rows ({n} < {min_rows})" if n < min_rows else None
                    bounds = lambda m=moments: _mean_bounds(m, level)  # noqa: E731
                else:
                    n = int(cell["rows"])
                    value = math.nan
                    skipped = (
                        "not computed on Dask input: a business function of the frame does not "
                        "merge across partitions (name a column instead)"
                    )
                    bounds = lambda: (math.nan, math.nan)  # noqa: E731
                values.append(judge(window, name, segment, value, n, skipped, bounds, True, n))
            if plan.latency is not None:
                sketch = cell.parts.get("latency")
                values.extend(_latency_values(judge, window, segment, sketch, level, _LATENCY))
            if plan.error:
                n = int(cell["rows"])
                errors = int(cell["errors"])
                skipped = f"too few rows ({n} < {min_rows})" if n < min_rows else None
                values.append(
                    judge(
                        window,
                        "error_rate",
                        segment,
                        errors / n if n else math.nan,
                        n,
                        skipped,
                        lambda e=errors, n=n: registry.wilson(e, n, level),
                        True,
                        n,
                    )
                )
            for name in resources:
                moments = cell[f"business:{name}"]
                n = int(moments[0])
                skipped = f"too few rows ({n} < {min_rows})" if n < min_rows else None
                bounds = lambda m=moments: _mean_bounds(m, level)  # noqa: E731
                values.append(
                    judge(window, name, segment, _mean(moments), n, skipped, bounds, True, n)
                )
            if seconds is not None:
                span = seconds.get(window, math.nan)
                rows = int(cell["rows"])
                values.append(
                    judge(
                        window,
                        "throughput",
                        segment,
                        rows / span if span > 0 else math.nan,
                        rows,
                        None,
                        lambda: (math.nan, math.nan),
                        False,
                        rows,
                    )
                )
    return values, windows, judge, level


def _safely(function: Callable[[Cell], float], cell: Cell) -> float:
    """The value, NaN where it is undefined (as :meth:`Metric.compute`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return float(function(cell))
        except (ValueError, ZeroDivisionError):
            return math.nan


def _finite_or_nan(value: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _confusion(cell: Cell, classes: tuple[str, ...]) -> tuple[tuple[int, ...], ...]:
    if cell.task == "binary" and cell.has("confusion"):
        c = cell["confusion"]
        return tuple(tuple(int(c[t, p]) for p in (0, 1)) for t in (0, 1))
    if cell.task == "multiclass" and cell.has("confusion"):
        where = [cell.labels.index(c) for c in classes]
        c = cell["confusion"]
        return tuple(tuple(int(c[t, p]) for p in where) for t in where)
    return ()


def _latency_values(judge, window, segment, sketch, level, latency) -> list[MetricValue]:
    min_rows = registry.MIN_LABELLED_ROWS
    found = []
    kll = None
    n = 0
    if sketch is not None:
        ds = require("datasketches", "dask", "Latency percentiles of a Dask DataFrame")
        kll = ds.kll_doubles_sketch.deserialize(sketch)
        n = int(kll.n)
    skipped = f"too few rows ({n} < {min_rows})" if n < min_rows else None
    for name, q, _ in latency:
        value = float(kll.get_quantile(q / 100)) if n else math.nan

        def bounds(q=q / 100):
            if n < 2:
                return math.nan, math.nan
            spread = registry._z(level) * math.sqrt(q * (1 - q) / n)
            return (
                float(kll.get_quantile(max(q - spread, 0.0))),
                float(kll.get_quantile(min(q + spread, 1.0))),
            )

        found.append(judge(window, name, segment, value, n, skipped, bounds, True, n))
    return found
