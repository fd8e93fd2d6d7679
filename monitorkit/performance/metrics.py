"""The registry of performance metrics: small pure functions over label arrays.

Every metric is a :class:`Metric`: a name (scikit-learn's scorer name where there is one), a
human label, the tasks it applies to (``binary``, ``multiclass``, ``regression``,
``ranking``), its
direction (``higher_is_better``: True for recall, False for log loss or MAE, None for a metric
that is shown but never judged), the function computing it from :class:`LabelArrays`, and how
its confidence interval is found:

* ``proportion`` metrics (``accuracy``; binary ``precision``, ``recall``, ``positive_rate``)
  get the Wilson score interval of their count over their denominator;
* ``per_row`` metrics, means of a per-row loss (``log_loss``, ``brier``, ``mae``, ``mape``,
  ``mean_error``; ``rmse`` as the square root of the interval of the squared error), get the
  normal interval of that mean (mean ± z·sd/√n);
* closed forms where they exist: ``roc_auc`` DeLong's variance of the AUC (from the placement
  values, :func:`delong_variance`); binary ``f1`` the delta method on the confusion counts
  (Var = 4·p·(q + r)·(p + q + r) / (n·D⁴), p, q, r the shares of true positives, false
  positives and false negatives, D = 2p + q + r); ``balanced_accuracy`` the per-class recalls
  as independent proportions (Var = Σ r_k(1 − r_k)/n_k / K²); ``average_precision`` the logit
  interval logit(AP) ± z/√(P·AP·(1 − AP)), P the positives (Boyd, Eng & Page 2013);
  ``median_absolute_error`` order statistics — each value ± z·sd, clipped to [0, 1] for
  scores;
* all others (``r2``, multiclass ``f1`` and ``f1_weighted``) get a normal bootstrap interval
  (value ± z · the standard deviation over :data:`BOOTSTRAP_RESAMPLES` (200) resamples of the
  rows, seed 0), computed only where it decides something (a change past the warning
  tolerance).

A report judges many (window, segment) cells and metrics at once, so it widens every
interval to the level :func:`cell_confidence` gives for all of its tests (Bonferroni; see
:func:`monitorkit.performance.report.judged_tests`).

Definitions (``y_true``, ``y_pred`` labels, ``y_score`` the positive class's probability):

* binary ``precision`` / ``recall`` / ``f1`` are about the positive class (1); multiclass
  ones are macro averages, and ``f1_weighted`` weights classes by their support. An undefined
  value (no predicted positive for precision) is NaN, never 0.
* ``log_loss``: natural log, probabilities clipped to ``[eps, 1 - eps]`` (float64 eps), as
  :func:`sklearn.metrics.log_loss`.
* multiclass score metrics, only when the spec declares the model's per-class probabilities
  (``ColumnSpec(class_scores={class: column})``; ``y_score`` is then the rows × classes
  matrix P, columns in the order of ``LabelArrays.classes``, Y the one-hot target):

  - ``roc_auc``: the mean over classes of the one-vs-rest ROC AUC of P[:, k] (as
    ``sklearn.metrics.roc_auc_score(y, P, multi_class="ovr", average="macro",
    labels=classes)``);
  - ``average_precision``: the mean over classes of the one-vs-rest average precision of
    P[:, k] (as ``average_precision_score(Y, P, average="macro")``);
  - ``log_loss``: the mean over rows of −ln clip(P[i, y_i], eps, 1 − eps), float64 eps (as
    ``sklearn.metrics.log_loss(y, P, labels=classes)`` since scikit-learn 1.5: each
    probability clipped on its own, rows *not* renormalised to sum to 1);
  - ``brier``: the mean over rows of Σ_k (P[i, k] − Y[i, k])², in [0, 2] (as
    ``sklearn.metrics.brier_score_loss(y, P, labels=classes)``, scikit-learn ≥ 1.7, whose
    binary form is the familiar (p − y)² in [0, 1]).

  Rows with a missing score of any class are left out of these four only. ROC AUC and
  average precision are NaN when a class of ``classes`` has no row in the window (ROC AUC
  also when one class has every row), and are judged only with :data:`MIN_CLASS_ROWS` rows
  of each class and of the rest; their intervals are the bootstrap's, log loss's and
  Brier's the normal interval of the per-row mean.
* ``calibration_error``: expected calibration error over 10 equal-width bins of the score,
  ``(0, 0.1], (0.1, 0.2], …, (0.9, 1]`` (0 in the first, as
  :func:`sklearn.calibration.calibration_curve`): Σ (rows in bin / rows) ·
  |mean label − mean score|. It is shown, not judged: with few rows the binned estimate is
  biased upward, so a small window would look worse calibrated than it is.
* ``positive_rate``: the share of the target that is positive (prevalence); shown, not judged
  (a change of prevalence is the drift report's business, not a model failure).
* ``mape``: mean of |y_pred − y_true| / |y_true| over the rows with ``y_true ≠ 0`` (rows with
  a zero target are left out, since their percentage error is undefined).
* ``mean_error``: mean of ``y_pred − y_true`` (bias; positive means over-predicting); shown,
  not judged (the relative change of a bias near zero means nothing).

Ranking / recommendation (``ranking``: the prediction is the list of items shown, best first;
the target the clicked item, missing for no click, or a list of clicked items). A position of
the list is a *hit* when its item was clicked (items compare with ``==``, so ``5`` and ``5.0``
match, ``"5"`` and ``5`` do not). Every row with a list counts, rows without a click included:

* ``click_through_rate``: the share of rows with at least one hit anywhere in the list (a
  click on an item that was not shown is no hit; an empty list has none);
* ``hit_rate@k``: the share of rows with a hit among the first ``k`` positions (equal to
  :func:`sklearn.metrics.top_k_accuracy_score` when one item is clicked per row and the list
  ranks every item);
* ``precision@k``: the mean over rows of (hits among the first ``k`` positions) / ``k``; the
  denominator is ``k`` even when fewer than ``k`` items were shown (a missing item is a miss);
* ``mrr``: the mean over rows of 1 / (position of the first hit), 0 for a row without a hit.

``k`` is 1, 5 and 10 (:data:`RANKING_KS`); add others with :func:`register_ranking_metrics`.
Click-through and hit rates get Wilson intervals, precision@k and MRR the normal interval of
their per-row mean.

Minimum rows: a metric is computed on a window only when it has :data:`MIN_LABELLED_ROWS`
(100) labelled rows, and for the metrics that need a class (``Metric.min_class``) also
:data:`MIN_CLASS_ROWS` (30) rows of it: recall and f1 need 30 positives, precision 30
predicted positives, ``roc_auc`` / ``average_precision`` / ``balanced_accuracy`` 30 of each
class. Smaller windows show their value but are marked "too few rows" and never alarm.

Register your own with :func:`register_metric`.

>>> import numpy as np
>>> arrays = LabelArrays("binary", np.array([1, 0, 1, 1]), np.array([1, 0, 0, 1]), None)
>>> METRICS["recall"].compute(arrays)
0.6666666666666666
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from monitorkit.errors import InputError

MIN_LABELLED_ROWS = 100
"""Labelled rows a window needs before its metrics are judged."""

MIN_CLASS_ROWS = 30
"""Rows of a class (or predicted positives) a class-based metric needs before it is judged."""

BOOTSTRAP_RESAMPLES = 200
"""Resamples of the percentile bootstrap interval (seeded, so results repeat)."""

CONFIDENCE = 0.95
"""Level of a confidence interval on its own; a report shares it between its cells (see
:func:`cell_confidence`)."""


def cell_confidence(cells: int, confidence: float = CONFIDENCE) -> float:
    """The level of each interval when ``cells`` (window, segment) cells are judged at once:
    ``1 − (1 − confidence) / cells`` (Bonferroni), so that a report of 40 daily windows by 8
    segments raises no more false alarms by chance than a report of one window."""
    return 1 - (1 - confidence) / max(int(cells), 1)


TASKS = ("binary", "multiclass", "regression", "ranking")

RANKING_KS = (1, 5, 10)
"""The cut-offs ``k`` of the built-in ``hit_rate@k`` and ``precision@k``."""
_EPS = np.finfo(np.float64).eps


@dataclass(frozen=True)
class LabelArrays:
    """Aligned arrays of one window (rows with a missing label or prediction left out).

    ``binary``: ``y_true`` and ``y_pred`` are 0/1 integers and ``y_score`` the positive
    class's score (or None). ``multiclass``: labels as strings; ``y_score`` None, or the
    rows × classes matrix of the model's per-class probabilities (NaN where a row's score is
    missing), its columns in the order of ``classes``. ``regression``:
    floats, no score. ``ranking``: ``y_true`` is the 1-based position of the first hit
    (clicked item) in the list shown, 0 when none; ``y_pred`` a 2-D integer array, the hits
    among the first 1, 2, …, ``depth`` positions (cumulative, one column per position; see
    :func:`ranking_depth`); no score.
    """

    task: str
    y_true: np.ndarray
    y_pred: np.ndarray
    y_score: np.ndarray | None = None
    classes: tuple[str, ...] = ()  # multiclass: the columns of a 2-D y_score

    def __len__(self) -> int:
        return int(self.y_true.size)

    def take(self, rows: np.ndarray) -> LabelArrays:
        score = None if self.y_score is None else self.y_score[rows]
        return LabelArrays(self.task, self.y_true[rows], self.y_pred[rows], score, self.classes)


@dataclass(frozen=True)
class Metric:
    """One metric: what it is, which way is better, how it is computed and bounded."""

    name: str
    label: str
    tasks: tuple[str, ...]
    higher_is_better: bool | None
    function: Callable[[LabelArrays], float]
    needs_score: bool = False
    min_class: str | None = None  # "positives", "predicted", "both", "each"
    proportion: Callable[[LabelArrays], tuple[int, int] | None] | None = None
    per_row: Callable[[LabelArrays], np.ndarray] | None = None
    root: bool = False  # the metric is the square root of the mean of per_row (rmse)
    headline: bool = False  # leads a verdict before other metrics of the same severity
    k: int | None = None  # ranking: the cut-off of hit_rate@k / precision@k
    # For the bootstrap: given the arrays, a function of a resample's row positions giving
    # exactly compute(arrays.take(rows)), faster (no copy, no sort per resample); or None.
    resampled: Callable[[LabelArrays], Callable[[np.ndarray], float] | None] | None = None
    # A closed-form interval (arrays, confidence) -> (lower, upper), or None where it does not
    # apply (then the bootstrap): DeLong for ROC AUC, the delta method for F1, ….
    analytic: Callable[[LabelArrays, float], tuple[float, float] | None] | None = None
    # The arrays the metric reads, from the report's (e.g. one class against the rest of a
    # multiclass target: :func:`class_metrics`); None: as they are.
    view: Callable[[LabelArrays], LabelArrays] | None = None

    @property
    def judged(self) -> bool:
        """Whether a change of this metric can raise a warning (it has a direction)."""
        return self.higher_is_better is not None

    def compute(self, arrays: LabelArrays) -> float:
        """The metric's value; NaN when it is undefined on these rows (empty, one class)."""
        if self.view is not None:
            arrays = self.view(arrays)
        if len(arrays) == 0 or (self.needs_score and arrays.y_score is None):
            return math.nan
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # undefined values come back as NaN instead
            try:
                return float(self.function(arrays))
            except ValueError:
                return math.nan

    def too_few(self, arrays: LabelArrays) -> str | None:
        """Why these rows are too few to judge the metric on, or None."""
        if self.view is not None:
            arrays = self.view(arrays)
        if self.needs_score and _class_matrix(arrays):
            arrays = _scored(arrays)  # rows with every class's score
        n = len(arrays)
        if n < MIN_LABELLED_ROWS:
            return f"too few rows ({n} < {MIN_LABELLED_ROWS})"
        if self.min_class is None:
            return None
        if arrays.task == "binary":
            positives = int(arrays.y_true.sum())
            counts = {
                "positives": [("positives", positives)],
                "predicted": [("predicted positives", int(arrays.y_pred.sum()))],
                "positives_and_predicted": [
                    ("positives", positives),
                    ("predicted positives", int(arrays.y_pred.sum())),
                ],
                "both": [("positives", positives), ("negatives", n - positives)],
            }.get(self.min_class, [])
        elif self.needs_score and _class_matrix(arrays):
            # One class against the rest, for every class the scores cover (absent ones too).
            sizes = _one_hot(arrays).sum(axis=0)
            k = int(np.argmin(np.minimum(sizes, n - sizes)))
            smallest = int(min(sizes[k], n - sizes[k]))
            side = "rows of" if sizes[k] <= n - sizes[k] else "rows not of"
            counts = [(f"{side} class '{arrays.classes[k]}'", smallest)]
        else:
            _, sizes = np.unique(arrays.y_true, return_counts=True)
            counts = [("rows of the smallest class", int(sizes.min()))]
        for what, count in counts:
            if count < MIN_CLASS_ROWS:
                return f"too few rows ({count} {what} < {MIN_CLASS_ROWS})"
        return None

    def interval(
        self, arrays: LabelArrays, *, seed: int = 0, confidence: float = CONFIDENCE
    ) -> tuple[float, float]:
        """The ``confidence`` interval of the metric (see the module docstring for which)."""
        if self.view is not None:
            arrays = self.view(arrays)
        if len(arrays) == 0:
            return math.nan, math.nan
        counts = None if self.proportion is None else self.proportion(arrays)
        if counts is not None:
            return wilson(*counts, confidence=confidence)
        if self.per_row is not None:
            values = self.per_row(arrays)
            values = values[np.isfinite(values)]
            low, high = mean_interval(values, confidence)
            if self.root:
                return math.sqrt(max(low, 0.0)), math.sqrt(max(high, 0.0))
            return low, high
        if self.analytic is not None and not (self.needs_score and arrays.y_score is None):
            found = self.analytic(arrays, confidence)
            if found is not None:
                return found
        statistic = None
        if self.resampled is not None and not (self.needs_score and arrays.y_score is None):
            statistic = self.resampled(arrays)
        if statistic is None:
            statistic = lambda rows: self.compute(arrays.take(rows))  # noqa: E731
        return bootstrap(statistic, len(arrays), seed=seed, confidence=confidence)


METRICS: dict[str, Metric] = {}


def register_metric(metric: Metric) -> Metric:
    """Add ``metric`` to the registry (replacing one of the same name)."""
    unknown = set(metric.tasks) - set(TASKS)
    if unknown:
        raise InputError(
            f"metric {metric.name!r}: unknown task(s) {sorted(unknown)}; tasks are "
            f"{', '.join(TASKS)}."
        )
    METRICS[metric.name] = metric
    return metric


def ranking_depth() -> int:
    """The list positions ranking arrays keep: the largest ``k`` of a registered ranking
    metric (10 with the built-in ones)."""
    ks = [m.k for m in METRICS.values() if "ranking" in m.tasks and m.k is not None]
    return max(ks, default=1)


def metrics_for(task: str, names: list[str] | tuple[str, ...] | None = None) -> list[Metric]:
    """The metrics of ``task`` (all, or ``names`` in that order); unknown names raise."""
    if names is None:
        return [m for m in METRICS.values() if task in m.tasks]
    chosen = []
    for name in names:
        if name not in METRICS:
            raise InputError(f"unknown metric {name!r}; available: {', '.join(METRICS)}.")
        if task not in METRICS[name].tasks:
            raise InputError(
                f"metric {name!r} does not apply to a {task} target; {task} metrics: "
                f"{', '.join(m.name for m in METRICS.values() if task in m.tasks)}."
            )
        chosen.append(METRICS[name])
    return chosen


MAX_CLASS_METRICS = 20
"""Classes of a multiclass target that get their own precision, recall and F1 (the most
frequent, in the order of :func:`class_metrics`' ``classes``)."""


def class_metrics(classes: Sequence[str]) -> list[Metric]:
    """Per-class ``precision[c]``, ``recall[c]`` and ``f1[c]`` of a multiclass target: the
    binary metric of class ``c`` against the rest (its intervals and minimum rows as for a
    binary target), for the first :data:`MAX_CLASS_METRICS` of ``classes``."""
    found = []
    for cls in list(classes)[:MAX_CLASS_METRICS]:

        def against_rest(a: LabelArrays, cls: str = cls) -> LabelArrays:
            return LabelArrays(
                "binary",
                (a.y_true == cls).astype(np.int64),
                (a.y_pred == cls).astype(np.int64),
            )

        for name in ("precision", "recall", "f1"):
            base = METRICS[name]
            found.append(
                dataclasses.replace(
                    base,
                    name=f"{name}[{cls}]",
                    label=f"{base.label} of {cls}",
                    tasks=("multiclass",),
                    headline=False,
                    resampled=None,
                    view=against_rest,
                )
            )
    return found


def class_confidence(chosen: Sequence[Metric], cells: int, confidence: float = CONFIDENCE) -> float:
    """The level of a per-class metric's interval: the cells' Bonferroni share
    (:func:`cell_confidence`) shared again between the per-class metrics, so that a target
    of many classes raises no more false alarms by chance than one of two."""
    per_class = sum(1 for m in chosen if m.view is not None)
    return cell_confidence(max(cells, 1) * max(per_class, 1), confidence)


# ---- intervals ---------------------------------------------------------------------------


def _z(confidence: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson(successes: int, trials: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of a proportion ``successes / trials`` (NaN without trials)."""
    if trials <= 0:
        return math.nan, math.nan
    z = _z(confidence)
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = (
        z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    )
    # The interval always holds p (exactly, also where rounding at 0 or 1 would put it out).
    return min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half))


def mean_interval(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Normal interval of a mean: mean ± z · sd / √n (sd with n − 1; NaN below 2 values)."""
    if values.size < 2:
        return math.nan, math.nan
    mean = float(values.mean())
    half = _z(confidence) * float(values.std(ddof=1)) / math.sqrt(values.size)
    return mean - half, mean + half


def bootstrap(
    statistic: Callable[[np.ndarray], float],
    n: int,
    *,
    seed: int = 0,
    confidence: float = CONFIDENCE,
) -> tuple[float, float]:
    """Bootstrap interval of ``statistic(rows)``: the statistic on all rows ± z · the standard
    deviation of its value over ``BOOTSTRAP_RESAMPLES`` resamples of ``n`` rows with
    replacement (``numpy.random.default_rng(seed)``). The normal form, not percentiles, so
    that the stricter levels of a report with many cells are reachable with 200 resamples."""
    if n < 2:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    values = np.array([statistic(rng.integers(0, n, n)) for _ in range(BOOTSTRAP_RESAMPLES)])
    values = values[np.isfinite(values)]
    if values.size < BOOTSTRAP_RESAMPLES // 2:
        return math.nan, math.nan
    centre = statistic(np.arange(n))
    half = _z(confidence) * float(values.std(ddof=1))
    return centre - half, centre + half


def quantile_interval(
    values: np.ndarray, q: float, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """Distribution-free interval of the ``q`` quantile from order statistics (binomial
    normal approximation: ranks n·q ∓ z·√(n·q·(1−q)))."""
    n = values.size
    if n < 2:
        return math.nan, math.nan
    ordered = np.sort(values)
    spread = _z(confidence) * math.sqrt(n * q * (1 - q))
    low = int(max(0, math.floor(n * q - spread) - 1))
    high = int(min(n - 1, math.ceil(n * q + spread)))
    return float(ordered[low]), float(ordered[high])


# ---- the built-in metrics -----------------------------------------------------------------


def _binary_counts(arrays: LabelArrays, among: np.ndarray) -> tuple[int, int] | None:
    """(true positives, rows of ``among`` that are 1): recall's or precision's counts."""
    if arrays.task != "binary":
        return None
    return int((arrays.y_true * arrays.y_pred).sum()), int(among.sum())


def _both_classes(arrays: LabelArrays) -> bool:
    return 0 < int(arrays.y_true.sum()) < len(arrays)


def _clipped(arrays: LabelArrays) -> np.ndarray:
    return np.clip(arrays.y_score.astype(float), _EPS, 1 - _EPS)


def _log_losses(arrays: LabelArrays) -> np.ndarray:
    """Per-row log loss; multiclass: −ln clip(P[i, y_i]) (NaN for a row without scores)."""
    if _class_matrix(arrays):
        p = np.clip(arrays.y_score.astype(float), _EPS, 1 - _EPS)
        return -np.log(np.sum(p * _one_hot(arrays), axis=1))
    p, y = _clipped(arrays), arrays.y_true
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def _brier_rows(arrays: LabelArrays) -> np.ndarray:
    """Per-row Brier score; multiclass: Σ_k (P[i, k] − Y[i, k])² (NaN without scores)."""
    if _class_matrix(arrays):
        return np.sum((arrays.y_score.astype(float) - _one_hot(arrays)) ** 2, axis=1)
    return (arrays.y_score - arrays.y_true) ** 2


def _finite_mean_of(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else math.nan


# ---- multiclass scores (ColumnSpec(class_scores=…)) ----------------------------------------


def _class_matrix(arrays: LabelArrays) -> bool:
    """Whether ``arrays`` hold a multiclass rows × classes probability matrix."""
    return arrays.task == "multiclass" and arrays.y_score is not None and arrays.y_score.ndim == 2


def _scored(arrays: LabelArrays) -> LabelArrays:
    """The rows whose every class score is there."""
    keep = np.isfinite(arrays.y_score).all(axis=1)
    return arrays if keep.all() else arrays.take(np.flatnonzero(keep))


def _one_hot(arrays: LabelArrays) -> np.ndarray:
    """Y: rows × classes, 1.0 where the row's label is the class."""
    return (arrays.y_true[:, None] == np.asarray(arrays.classes, dtype=object)[None, :]).astype(
        float
    )


def _one_vs_rest(arrays: LabelArrays, binary: Callable[[LabelArrays], float]) -> float:
    """The mean over classes of ``binary`` on each class's score against the rest (NaN when
    it is undefined for any class, e.g. a class with no row in the window)."""
    arrays = _scored(arrays)
    if len(arrays) == 0 or not arrays.classes:
        return math.nan
    truth = _one_hot(arrays).astype(np.int64)
    values = [
        binary(LabelArrays("binary", truth[:, k], truth[:, k], arrays.y_score[:, k]))
        for k in range(len(arrays.classes))
    ]
    return float(np.mean(values))


def _roc_auc(a: LabelArrays) -> float:
    return _one_vs_rest(a, _rank_auc) if _class_matrix(a) else _rank_auc(a)


def _average_precision(a: LabelArrays) -> float:
    if _class_matrix(a):
        return _one_vs_rest(a, _fast_average_precision)
    return _fast_average_precision(a)


def _log_loss(a: LabelArrays) -> float:
    return _finite_mean_of(_log_losses(a))


def _brier(a: LabelArrays) -> float:
    return _finite_mean_of(_brier_rows(a))


def calibration_bins(
    y_true: np.ndarray, y_score: np.ndarray, bins: int = 10
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, sum of labels and sum of scores in each of ``bins`` equal-width score bins over
    [0, 1] (a score on an inner edge belongs to the bin below it): the calibration curve
    (mean label against mean score per filled bin) and :func:`calibration_error`'s terms."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    ids = np.searchsorted(edges[1:-1], y_score)
    counts = np.bincount(ids, minlength=bins)
    label_sums = np.bincount(ids, weights=y_true.astype(float), minlength=bins)
    score_sums = np.bincount(ids, weights=y_score.astype(float), minlength=bins)
    return counts, label_sums, score_sums


def calibration_error(y_true: np.ndarray, y_score: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over ``bins`` equal-width bins (see the module docstring)."""
    if y_true.size == 0:
        return math.nan
    counts, label_sums, score_sums = calibration_bins(y_true, y_score, bins)
    filled = counts > 0
    gaps = np.abs(label_sums[filled] - score_sums[filled])  # = count · |mean y − mean p|
    return float(gaps.sum() / y_true.size)


def _nonzero(arrays: LabelArrays) -> np.ndarray:
    return arrays.y_true != 0


def _ape(arrays: LabelArrays) -> np.ndarray:
    keep = _nonzero(arrays)
    return np.abs(arrays.y_pred[keep] - arrays.y_true[keep]) / np.abs(arrays.y_true[keep])


def _mape(arrays: LabelArrays) -> float:
    values = _ape(arrays)
    return float(values.mean()) if values.size else math.nan


def _r2(arrays: LabelArrays) -> float:
    """1 − Σ(y − ŷ)² / Σ(y − ȳ)²; NaN for a constant target (sklearn returns 0 or 1 there)."""
    y = arrays.y_true
    total = float(np.sum((y - y.mean()) ** 2)) if y.size else 0.0
    if y.size < 2 or total == 0:
        return math.nan
    return 1 - float(np.sum((y - arrays.y_pred) ** 2)) / total


# Counting metrics are computed from the confusion counts in numpy (scikit-learn's input
# validation costs milliseconds a call, and a report computes thousands, bootstrap resamples
# included); they are tested against sklearn.metrics to the last digit. Multiclass ones follow
# sklearn's rules: the labels are the sorted union of y_true and y_pred; an undefined
# per-class value (zero_division=nan) is left out of the macro average; balanced accuracy
# averages the recall of the classes present in y_true.


def _class_counts(a: LabelArrays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per label of the union of y_true and y_pred (sorted): (true positives, rows with the
    label as truth, rows with it predicted)."""
    labels, codes = np.unique(np.concatenate([a.y_true, a.y_pred]), return_inverse=True)
    size, n = labels.size, len(a)
    truth, predicted = codes[:n], codes[n:]
    hits = truth[truth == predicted]
    return (
        np.bincount(hits, minlength=size).astype(float),
        np.bincount(truth, minlength=size).astype(float),
        np.bincount(predicted, minlength=size).astype(float),
    )


def _per_class(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    out = np.full(top.size, np.nan)
    np.divide(top, bottom, out=out, where=bottom > 0)
    return out


def _nanmean(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    keep = ~np.isnan(values)
    if not keep.any():
        return math.nan
    return float(np.average(values[keep], weights=None if weights is None else weights[keep]))


def _multiclass_f1(a: LabelArrays, weighted: bool = False) -> float:
    tp, truth, predicted = _class_counts(a)
    return _nanmean(_per_class(2 * tp, truth + predicted), truth if weighted else None)


def _counts(a: LabelArrays) -> tuple[int, int, int, int]:
    """(tp, fp, fn, tn) of a binary task."""
    tp = int(np.count_nonzero(a.y_true & a.y_pred))
    positives = int(np.count_nonzero(a.y_true))
    predicted = int(np.count_nonzero(a.y_pred))
    return tp, predicted - tp, positives - tp, len(a) - positives - predicted + tp


def _ratio(top: float, bottom: float) -> float:
    return top / bottom if bottom else math.nan


def _accuracy(a: LabelArrays) -> float:
    if a.task == "binary":
        return float(np.count_nonzero(a.y_true == a.y_pred) / len(a))
    return float(np.count_nonzero(a.y_true == a.y_pred) / len(a))


def _precision(a: LabelArrays) -> float:
    if a.task == "binary":
        tp, fp, _, _ = _counts(a)
        return _ratio(tp, tp + fp)
    tp, _, predicted = _class_counts(a)
    return _nanmean(_per_class(tp, predicted))


def _recall(a: LabelArrays) -> float:
    if a.task == "binary":
        tp, _, fn, _ = _counts(a)
        return _ratio(tp, tp + fn)
    tp, truth, _ = _class_counts(a)
    return _nanmean(_per_class(tp, truth))


def _f1(a: LabelArrays) -> float:
    if a.task == "binary":
        return _f1_of(*_counts(a))
    return _multiclass_f1(a)


def _balanced_accuracy(a: LabelArrays) -> float:
    if a.task == "binary":
        return _balanced_of(*_counts(a))
    tp, truth, _ = _class_counts(a)
    return _nanmean(_per_class(tp, truth))  # the recall of each class present in y_true


def _rank_auc(a: LabelArrays) -> float:
    """Mann–Whitney: the chance a random positive scores above a random negative (ties ½)."""
    from scipy.stats import rankdata

    positives = int(np.count_nonzero(a.y_true))
    negatives = len(a) - positives
    if not positives or not negatives:
        return math.nan
    ranks = rankdata(a.y_score)
    return float(
        (ranks[a.y_true == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives)
    )


def _fast_average_precision(a: LabelArrays) -> float:
    """Σ (R_k − R_{k−1}) · P_k over the distinct score thresholds, highest first (as
    sklearn.metrics.average_precision_score)."""
    positives = int(np.count_nonzero(a.y_true))
    if not positives:
        return math.nan
    order = np.argsort(-a.y_score, kind="mergesort")
    scores, truth = a.y_score[order], a.y_true[order]
    last = np.r_[np.flatnonzero(np.diff(scores)), scores.size - 1]  # end of each tie block
    tp = np.cumsum(truth)[last]
    predicted = last + 1
    precision = tp / predicted
    recall = tp / positives
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


# ---- the bootstrap without a copy and a sort per resample ---------------------------------
# A resample is a multiset of the rows: its metric depends only on how often each row was
# drawn. Sorting the rows once and weighting them by those counts gives the resample's tie
# blocks, counts and cumulative sums as whole numbers — the same numbers the copied, sorted
# resample gives — so every value is bit-for-bit the one of compute(arrays.take(rows)).


def _draw_counts(rows: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(rows, minlength=n)


def _resampled_counts(value: Callable[[int, int, int, int], float]):
    """A binary metric of the confusion counts (tp, fp, fn, tn), over resamples."""

    def factory(a: LabelArrays) -> Callable[[np.ndarray], float] | None:
        if a.task != "binary":
            return None
        cell = a.y_true * 2 + a.y_pred  # 0 tn, 1 fp, 2 fn, 3 tp

        def statistic(rows: np.ndarray) -> float:
            tn, fp, fn, tp = (int(c) for c in np.bincount(cell[rows], minlength=4))
            return value(tp, fp, fn, tn)

        return statistic

    return factory


def _sorted_blocks(scores: np.ndarray, descending: bool) -> tuple[np.ndarray, np.ndarray]:
    """The order of the rows by score and where each block of equal scores starts."""
    order = np.argsort(-scores if descending else scores, kind="mergesort")
    ordered = scores[order]
    return order, np.r_[0, np.flatnonzero(np.diff(ordered)) + 1]


def _blocks(
    weights: np.ndarray, truth: np.ndarray, starts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rows and positives drawn per tie block (no summing when every score is distinct)."""
    if starts.size == weights.size:
        return weights, weights * truth
    return np.add.reduceat(weights, starts), np.add.reduceat(weights * truth, starts)


def _resampled_auc(a: LabelArrays) -> Callable[[np.ndarray], float] | None:
    """:func:`_rank_auc` of a resample: rank sums from the weighted tie blocks (whole and
    half numbers, exact in float64 as rankdata's average ranks are)."""
    if a.task != "binary":
        return None  # multiclass: resamples of the rows, computed as they are
    n = len(a)
    order, starts = _sorted_blocks(a.y_score, descending=False)
    truth = a.y_true[order]

    def statistic(rows: np.ndarray) -> float:
        weights = _draw_counts(rows, n)[order]
        block_rows, block_positives = _blocks(weights, truth, starts)
        positives = int(block_positives.sum())
        negatives = int(block_rows.sum()) - positives
        if not positives or not negatives:
            return math.nan
        before = np.cumsum(block_rows) - block_rows
        rank_sum = float(np.sum(block_positives * (before + (block_rows + 1) / 2)))
        return float((rank_sum - positives * (positives + 1) / 2) / (positives * negatives))

    return statistic


def _resampled_average_precision(a: LabelArrays) -> Callable[[np.ndarray], float] | None:
    """:func:`_fast_average_precision` of a resample: the same tie blocks (those drawn), the
    same whole-number cumulative counts, so the same arrays are summed."""
    if a.task != "binary":
        return None
    n = len(a)
    order, starts = _sorted_blocks(a.y_score, descending=True)
    truth = a.y_true[order]

    def statistic(rows: np.ndarray) -> float:
        weights = _draw_counts(rows, n)[order]
        block_rows, block_positives = _blocks(weights, truth, starts)
        drawn = block_rows > 0
        block_positives = block_positives[drawn]
        positives = int(block_positives.sum())
        if not positives:
            return math.nan
        tp = np.cumsum(block_positives)
        precision = tp / np.cumsum(block_rows[drawn])
        recall = tp / positives
        return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))

    return statistic


def _resampled_median(values: np.ndarray) -> Callable[[np.ndarray], float]:
    """``np.median`` of a resample: the middle one or two of the values sorted once, found
    from the cumulative draws (the mean of two as np.median takes it)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    n = ordered.size
    middle = np.array([(n - 1) // 2, n // 2])

    def statistic(rows: np.ndarray) -> float:
        drawn = np.cumsum(_draw_counts(rows, n)[order])
        low, high = ordered[np.searchsorted(drawn, middle, side="right")]
        return float(low) if n % 2 else float(np.mean([low, high]))

    return statistic


def _f1_of(tp: int, fp: int, fn: int, tn: int) -> float:
    return _ratio(2 * tp, 2 * tp + fp + fn)


def _balanced_of(tp: int, fp: int, fn: int, tn: int) -> float:
    rates = [r for r in (_ratio(tp, tp + fn), _ratio(tn, tn + fp)) if not math.isnan(r)]
    return float(np.mean(rates)) if rates else math.nan


def _f1_interval(a: LabelArrays, confidence: float) -> tuple[float, float] | None:
    """Binary F1's delta-method interval from the confusion counts (multinomial): with
    p, q, r the shares of true positives, false positives and false negatives and
    D = 2p + q + r, Var(F1) = 4·p·(q + r)·(p + q + r) / (n·D⁴)."""
    if a.task != "binary":
        return None  # a macro average: the bootstrap
    tp = int(np.sum((a.y_true == 1) & (a.y_pred == 1)))
    fp = int(np.sum((a.y_true == 0) & (a.y_pred == 1)))
    fn = int(np.sum((a.y_true == 1) & (a.y_pred == 0)))
    return f1_interval_of_counts(tp, fp, fn, len(a), confidence)


def f1_interval_of_counts(
    tp: int, fp: int, fn: int, n: int, confidence: float
) -> tuple[float, float]:
    """:func:`_f1_interval` from the confusion counts of ``n`` rows."""
    d = 2 * tp + fp + fn
    if n == 0 or d == 0:
        return math.nan, math.nan
    f1 = 2 * tp / d
    p, wrong = tp / n, (fp + fn) / n
    var = 4 * p * wrong * (p + wrong) / (n * (d / n) ** 4)
    half = _z(confidence) * math.sqrt(var)
    return max(0.0, f1 - half), min(1.0, f1 + half)


def _balanced_accuracy_interval(a: LabelArrays, confidence: float) -> tuple[float, float]:
    """The mean of the per-class recalls, each a proportion of its class's rows, independent
    given the class sizes: Var = Σ r_k (1 − r_k) / n_k / K²."""
    classes, sizes = np.unique(a.y_true, return_counts=True)
    hits = np.array([np.sum(a.y_pred[a.y_true == c] == c) for c in classes])
    return balanced_accuracy_interval_of_counts(hits, sizes, confidence)


def balanced_accuracy_interval_of_counts(
    hits: np.ndarray, sizes: np.ndarray, confidence: float
) -> tuple[float, float]:
    """:func:`_balanced_accuracy_interval` from each present class's rows (``sizes``) and
    rows predicted as that class (``hits``, the confusion matrix's diagonal)."""
    sizes = np.asarray(sizes, dtype=float)
    present = sizes > 0
    if not present.any():
        return math.nan, math.nan
    recalls = np.asarray(hits, dtype=float)[present] / sizes[present]
    value = float(recalls.mean())
    var = float(np.sum(recalls * (1 - recalls) / sizes[present])) / recalls.size**2
    half = _z(confidence) * math.sqrt(var)
    return max(0.0, value - half), min(1.0, value + half)


def delong_variance(y_true: np.ndarray, y_score: np.ndarray) -> tuple[float, float]:
    """(ROC AUC, its DeLong variance) — the variance of the two-sample U statistic from its
    structural components (DeLong, DeLong & Clarke-Pearson 1988), computed with midranks
    (Sun & Xu 2014): V10 per positive, V01 per negative, Var = s²(V10)/m + s²(V01)/n."""
    from scipy.stats import rankdata

    positives, negatives = y_score[y_true == 1], y_score[y_true == 0]
    m, n = positives.size, negatives.size
    if m < 2 or n < 2:
        return math.nan, math.nan
    combined = rankdata(np.concatenate([positives, negatives]))
    within_positives = rankdata(positives)
    within_negatives = rankdata(negatives)
    v10 = (combined[:m] - within_positives) / n  # share of negatives below each positive
    v01 = 1.0 - (combined[m:] - within_negatives) / m  # share of positives above each negative
    auc = float(v10.mean())
    return auc, float(v10.var(ddof=1) / m + v01.var(ddof=1) / n)


def _roc_auc_interval(a: LabelArrays, confidence: float) -> tuple[float, float] | None:
    if a.task != "binary":
        return None  # a macro average over classes: the bootstrap
    auc, var = delong_variance(a.y_true, a.y_score)
    if not math.isfinite(var):
        return math.nan, math.nan
    half = _z(confidence) * math.sqrt(var)
    return max(0.0, auc - half), min(1.0, auc + half)


def _average_precision_interval(a: LabelArrays, confidence: float) -> tuple[float, float] | None:
    """The logit interval of average precision (Boyd, Eng & Page 2013):
    logit(AP) ± z / √(P · AP · (1 − AP)), P the number of positives."""
    if a.task != "binary":
        return None  # a macro average over classes: the bootstrap
    return average_precision_interval_of(
        _fast_average_precision(a), int(np.sum(a.y_true == 1)), confidence
    )


def average_precision_interval_of(
    ap: float, positives: int, confidence: float
) -> tuple[float, float]:
    """:func:`_average_precision_interval` of an average precision ``ap`` over ``positives``."""
    if not (0 < ap < 1) or positives == 0:
        return math.nan, math.nan
    centre = math.log(ap / (1 - ap))
    half = _z(confidence) / math.sqrt(positives * ap * (1 - ap))
    return 1 / (1 + math.exp(-(centre - half))), 1 / (1 + math.exp(-(centre + half)))


def _median_abs_interval(a: LabelArrays, confidence: float) -> tuple[float, float]:
    return quantile_interval(np.abs(a.y_pred - a.y_true), 0.5, confidence)


_CLASSIFICATION = ("binary", "multiclass")

for _metric in (
    Metric(
        "accuracy",
        "accuracy",
        _CLASSIFICATION,
        True,
        _accuracy,
        proportion=lambda a: (int((a.y_true == a.y_pred).sum()), len(a)),
        headline=True,
    ),
    Metric(
        "balanced_accuracy",
        "balanced accuracy",
        _CLASSIFICATION,
        True,
        _balanced_accuracy,
        min_class="both",
        headline=True,
        resampled=_resampled_counts(_balanced_of),
        analytic=_balanced_accuracy_interval,
    ),
    Metric(
        "precision",
        "precision",
        _CLASSIFICATION,
        True,
        _precision,
        min_class="predicted",
        proportion=lambda a: _binary_counts(a, a.y_pred),
        headline=True,
    ),
    Metric(
        "recall",
        "recall",
        _CLASSIFICATION,
        True,
        _recall,
        min_class="positives",
        proportion=lambda a: _binary_counts(a, a.y_true),
        headline=True,
    ),
    Metric(
        "f1",
        "F1",
        _CLASSIFICATION,
        True,
        _f1,
        min_class="positives_and_predicted",
        headline=True,
        resampled=_resampled_counts(_f1_of),
        analytic=_f1_interval,
    ),
    Metric(
        "f1_weighted",
        "F1 (weighted)",
        ("multiclass",),
        True,
        lambda a: _multiclass_f1(a, weighted=True),
        min_class="each",
        headline=True,
    ),
    Metric(
        "roc_auc",
        "ROC AUC",
        _CLASSIFICATION,
        True,
        _roc_auc,
        needs_score=True,
        min_class="both",
        headline=True,
        resampled=_resampled_auc,
        analytic=_roc_auc_interval,
    ),
    Metric(
        "average_precision",
        "average precision",
        _CLASSIFICATION,
        True,
        _average_precision,
        needs_score=True,
        min_class="both",
        resampled=_resampled_average_precision,
        analytic=_average_precision_interval,
    ),
    Metric(
        "log_loss",
        "log loss",
        _CLASSIFICATION,
        False,
        _log_loss,
        needs_score=True,
        per_row=_log_losses,
    ),
    Metric(
        "brier",
        "Brier score",
        _CLASSIFICATION,
        False,
        _brier,
        needs_score=True,
        per_row=_brier_rows,
    ),
    Metric(
        "calibration_error",
        "calibration error (ECE)",
        ("binary",),
        None,
        lambda a: calibration_error(a.y_true, a.y_score),
        needs_score=True,
    ),
    Metric(
        "positive_rate",
        "positive rate (target)",
        ("binary",),
        None,
        lambda a: float(a.y_true.mean()),
        proportion=lambda a: (int(a.y_true.sum()), len(a)),
    ),
    Metric(
        "mae",
        "MAE",
        ("regression",),
        False,
        lambda a: float(np.mean(np.abs(a.y_pred - a.y_true))),
        per_row=lambda a: np.abs(a.y_pred - a.y_true),
        headline=True,
    ),
    Metric(
        "rmse",
        "RMSE",
        ("regression",),
        False,
        lambda a: math.sqrt(float(np.mean((a.y_pred - a.y_true) ** 2))),
        per_row=lambda a: (a.y_pred - a.y_true) ** 2,
        root=True,
        headline=True,
    ),
    Metric("mape", "MAPE", ("regression",), False, _mape, per_row=_ape, headline=True),
    Metric("r2", "R²", ("regression",), True, _r2, headline=True),
    Metric(
        "median_absolute_error",
        "median absolute error",
        ("regression",),
        False,
        lambda a: float(np.median(np.abs(a.y_pred - a.y_true))),
        resampled=lambda a: _resampled_median(np.abs(a.y_pred - a.y_true)),
        analytic=_median_abs_interval,
    ),
    Metric(
        "mean_error",
        "mean error (bias)",
        ("regression",),
        None,
        lambda a: float((a.y_pred - a.y_true).mean()),
        per_row=lambda a: a.y_pred - a.y_true,
    ),
):
    register_metric(_metric)


# ---- ranking / recommendation -------------------------------------------------------------


def _hits_at(a: LabelArrays, k: int) -> np.ndarray:
    """Hits among the first ``k`` positions, per row."""
    if a.y_pred.ndim != 2 or a.y_pred.shape[1] == 0:
        return np.zeros(len(a))
    return a.y_pred[:, min(k, a.y_pred.shape[1]) - 1].astype(float)


def _hit_within(a: LabelArrays, k: int) -> np.ndarray:
    return (a.y_true >= 1) & (a.y_true <= k)


def _reciprocal_ranks(a: LabelArrays) -> np.ndarray:
    ranks = a.y_true.astype(float)
    return np.divide(1.0, ranks, out=np.zeros(ranks.size), where=ranks > 0)


def register_ranking_metrics(k: int) -> tuple[Metric, Metric]:
    """Register ``hit_rate@k`` and ``precision@k`` (module docstring) for the cut-off ``k``.

    >>> [m.name for m in register_ranking_metrics(3)]
    ['hit_rate@3', 'precision@3']
    >>> for name in ("hit_rate@3", "precision@3"):
    ...     _ = METRICS.pop(name)
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(f"a ranking cut-off k must be a positive integer; got {k!r}.")
    k = int(k)
    hit_rate = Metric(
        f"hit_rate@{k}",
        f"hit rate at {k}",
        ("ranking",),
        True,
        lambda a: float(_hit_within(a, k).mean()),
        proportion=lambda a: (int(_hit_within(a, k).sum()), len(a)),
        headline=k == max(RANKING_KS),
        k=k,
    )
    precision = Metric(
        f"precision@{k}",
        f"precision at {k}",
        ("ranking",),
        True,
        lambda a: float(_hits_at(a, k).mean() / k),
        per_row=lambda a: _hits_at(a, k) / k,
        k=k,
    )
    return register_metric(hit_rate), register_metric(precision)


register_metric(
    Metric(
        "click_through_rate",
        "click-through rate",
        ("ranking",),
        True,
        lambda a: float(np.count_nonzero(a.y_true) / len(a)),
        proportion=lambda a: (int(np.count_nonzero(a.y_true)), len(a)),
        headline=True,
    )
)
for _k in RANKING_KS:
    register_ranking_metrics(_k)
register_metric(
    Metric(
        "mrr",
        "mean reciprocal rank",
        ("ranking",),
        True,
        lambda a: float(_reciprocal_ranks(a).mean()),
        per_row=_reciprocal_ranks,
    )
)
