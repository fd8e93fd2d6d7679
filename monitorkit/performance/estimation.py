"""Performance without labels: confidence-based performance estimation (CBPE), binary tasks.

When labels arrive late (or never), a binary classifier's accuracy, precision, recall, F1 and
ROC AUC can still be *estimated* from its scores, provided the scores can be turned into true
probabilities. This module does that in two steps.

Calibration (:func:`fit_calibration`, once, on the labelled reference)
    An isotonic regression of the label on the score
    (:class:`sklearn.isotonic.IsotonicRegression` with ``out_of_bounds="clip"``, ``y_min=0``,
    ``y_max=1``) maps a score ``s`` to ``p(s) = P(y = 1 | s)``. It is stored as its breakpoints
    (``X_thresholds_``, ``y_thresholds_``), so :meth:`Calibration.apply` is
    :func:`numpy.interp` on them — the very function ``IsotonicRegression.predict`` computes,
    to the last bit, but plain numbers that a baseline file can hold. Scores below the first
    or above the last breakpoint get the end values.

Estimation (:func:`estimate`, per window, no labels needed)
    With ``p_i`` the calibrated probability of row ``i`` and ``ŷ_i`` its predicted label
    (``y_pred`` when given, else ``score >= threshold``), the expected confusion matrix is

    * ``E[TP] = Σ p_i · ŷ_i``,  ``E[FP] = Σ (1 − p_i) · ŷ_i``,
    * ``E[FN] = Σ p_i · (1 − ŷ_i)``,  ``E[TN] = Σ (1 − p_i) · (1 − ŷ_i)``,

    and the metrics are those of that matrix: accuracy ``(TP + TN) / n``, precision
    ``TP / (TP + FP)``, recall ``TP / (TP + FN)``, F1 ``2·TP / (2·TP + FP + FN)`` (NaN where
    the denominator is 0, as for realised metrics). The estimated ROC AUC is the area under
    the *expected* ROC curve: rows sorted by score, highest first; at each distinct score the
    expected true-positive rate is ``Σ p`` of the rows scored at least as high over ``Σ p`` of
    all rows, the false-positive rate the same with ``1 − p``; the area by the trapezoid rule
    (ties between equal scores count ½, as for the realised ROC AUC). Equivalently
    ``Σ_{i,j} p_i (1 − p_j) · [s_i > s_j] (+ ½ for s_i = s_j) / (Σ p · Σ (1 − p))``. This is
    NannyML's CBPE (NannyML sorts without grouping ties).

The band
    A realised metric varies from window to window even when nothing changes, and more so in
    small windows. :func:`fit_calibration` measures that on the reference: its labelled rows
    are shuffled (``numpy.random.default_rng(seed)``, seed 0, so that a reference ordered by
    time or by label does not distort it) and cut into ``reference_rows // chunk_rows``
    chunks of ``chunk_rows`` rows (the remainder is left out), and the variance (``ddof=1``)
    of the realised metric over those chunks is taken; this is repeated for :data:`SHUFFLES`
    (10) shuffles and ``chunk_sd[metric]`` is the square root of the mean variance (one cut
    into 10 chunks alone would give a spread that is itself about ±25% off by chance).
    Chunks where the metric is undefined (no predicted positive for precision) are skipped;
    a metric defined in fewer than 2 chunks of most shuffles gets no band. For a
    window of ``n`` rows the band is::

        value ± z(confidence) · chunk_sd · sqrt(chunk_rows / n),  clipped to [0, 1]

    with ``z`` the two-sided normal quantile (1.96 at 95%). It is the range the *realised*
    metric is expected to fall in if the estimate is right. While the scores are distributed
    as in the reference it is, if anything, a little wide (the chunk-to-chunk spread also
    holds the variation of the scores, which the estimate follows). It scales every metric by
    the window's rows, whereas precision's spread really follows the predicted positives and
    recall's the positives: where a shift changes their share, those bands are somewhat too
    narrow or too wide. (In the tests, under a covariate shift that moves accuracy and recall
    by several band widths, about 97% of windows have the realised value inside the 95%
    band.)

Assumptions
    * No concept drift: ``P(y | score)`` is the same in production as in the reference.
      Covariate shift (the inputs, hence the scores, move) is what CBPE handles; a changed
      relation between inputs and outcome is what it cannot see. Where labels exist, compare:
      :func:`diverges` is True when the realised value leaves the band, and then the
      estimates are no longer valid (:data:`CONCEPT_DRIFT_MESSAGE`).
    * The calibration is estimated from the reference, so it is only as good as the
      reference is large and representative; scores outside the reference's range get the
      probability of its nearest end.
    * Scores are the positive class's probability (or any score in ``[0, 1]``; it need not be
      calibrated, isotonic regression only needs it to rank).

NaN policy
    Rows with a missing (NaN) score — or a missing ``y_pred`` when given — are left out of the
    estimate; ``rows`` in the result counts the rows used. Without any row every value is NaN.
    In :func:`fit_calibration`, rows with a missing label, score or prediction are left out.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> score = rng.random(2000)
>>> label = (rng.random(2000) < score).astype(int)  # the score is a true probability
>>> calibration = fit_calibration(label, score)
>>> estimates = estimate(calibration, rng.random(500))
>>> sorted(k for k in estimates if k in ESTIMATED_METRICS)
['accuracy', 'f1', 'precision', 'recall', 'roc_auc']
>>> 0.6 < estimates["accuracy"].value < 0.9
True
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from monitorkit.errors import InputError
from monitorkit.performance.metrics import CONFIDENCE, METRICS, LabelArrays, _z

ESTIMATED_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")
"""The metrics :func:`estimate` estimates (the registry's names)."""

CONFUSION_KEYS = ("tp", "fp", "fn", "tn")
"""Keys of the expected confusion counts in :func:`estimate`'s result."""

DEFAULT_CHUNKS = 10
"""By default the reference is cut into this many chunks to measure the band …"""

MIN_CHUNK_ROWS = 100
"""… of at least this many rows each."""

MIN_CHUNKS = 5
"""The fewest chunks the band is measured on; a smaller reference raises."""

SHUFFLES = 10
"""The reference is shuffled and cut into chunks this many times; the chunk-to-chunk variance
of each metric is averaged over them (one cut into 10 chunks alone gives a spread that is
itself ±25% off by chance)."""

CONCEPT_DRIFT_MESSAGE = (
    "the relation between inputs and outcome may have changed (concept drift): estimates are "
    "no longer valid"
)
"""What to say when :func:`diverges` is True."""


class CalibrationWarning(UserWarning):
    """A labelled reference could not be calibrated (e.g. a baseline captured without one)."""


@dataclass(frozen=True)
class Estimate:
    """An estimated metric and the band its realised value should fall in."""

    value: float
    lower: float
    upper: float

    def to_dict(self) -> dict[str, float]:
        return {"value": self.value, "lower": self.lower, "upper": self.upper}


@dataclass(frozen=True)
class Calibration:
    """Scores to probabilities (isotonic regression breakpoints) and the reference's spread.

    Attributes
    ----------
    x_thresholds, y_thresholds
        ``IsotonicRegression.X_thresholds_`` and ``y_thresholds_``: increasing scores and
        the probability at each; :meth:`apply` interpolates linearly between them.
    threshold
        Scores at or above it are predicted positive (when no predicted label is given).
    reference_rows
        Labelled rows with a score the calibration was fitted on.
    chunk_rows
        Rows per reference chunk that ``chunk_sd`` was measured on.
    chunk_sd
        ``{metric: standard deviation of the realised metric over reference chunks}``
        (module docstring); a metric without a defined spread is absent.
    """

    x_thresholds: tuple[float, ...]
    y_thresholds: tuple[float, ...]
    threshold: float = 0.5
    reference_rows: int = 0
    chunk_rows: int = 0
    chunk_sd: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        x = tuple(float(v) for v in self.x_thresholds)
        y = tuple(float(v) for v in self.y_thresholds)
        if not x or len(x) != len(y):
            raise InputError(
                f"Calibration needs as many x_thresholds as y_thresholds, at least one; got "
                f"{len(x)} and {len(y)}."
            )
        if any(b <= a for a, b in zip(x, x[1:])) or any(b < a for a, b in zip(y, y[1:])):
            raise InputError(
                "Calibration x_thresholds must increase strictly and y_thresholds must not "
                "decrease (as IsotonicRegression's); refit it with fit_calibration."
            )
        object.__setattr__(self, "x_thresholds", x)
        object.__setattr__(self, "y_thresholds", y)
        object.__setattr__(self, "threshold", float(self.threshold))
        object.__setattr__(self, "reference_rows", int(self.reference_rows))
        object.__setattr__(self, "chunk_rows", int(self.chunk_rows))
        object.__setattr__(self, "chunk_sd", {str(k): float(v) for k, v in self.chunk_sd.items()})

    def apply(self, scores: Any) -> np.ndarray:
        """Calibrated probabilities ``P(y = 1 | score)`` of ``scores`` (NaN stays NaN);
        equal to the fitted ``IsotonicRegression.predict``."""
        return np.interp(
            np.asarray(scores, dtype=np.float64),
            np.asarray(self.x_thresholds),
            np.asarray(self.y_thresholds),
        )

    def spread(self, metric: str, rows: int) -> float:
        """The standard deviation of the realised ``metric`` expected in a window of ``rows``
        rows: ``chunk_sd[metric] · sqrt(chunk_rows / rows)`` (NaN when unknown or no rows)."""
        sd = self.chunk_sd.get(metric)
        if sd is None or rows <= 0 or self.chunk_rows <= 0:
            return math.nan
        return sd * math.sqrt(self.chunk_rows / rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": "isotonic",
            "x_thresholds": list(self.x_thresholds),
            "y_thresholds": list(self.y_thresholds),
            "threshold": self.threshold,
            "reference_rows": self.reference_rows,
            "chunk_rows": self.chunk_rows,
            "chunk_sd": dict(self.chunk_sd),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        """Read what :meth:`to_dict` wrote (KeyError / TypeError / InputError when corrupt)."""
        if data.get("method", "isotonic") != "isotonic":
            raise InputError(f"unknown calibration method {data.get('method')!r}; known: isotonic.")
        return cls(
            x_thresholds=tuple(data["x_thresholds"]),
            y_thresholds=tuple(data["y_thresholds"]),
            threshold=data["threshold"],
            reference_rows=data["reference_rows"],
            chunk_rows=data["chunk_rows"],
            chunk_sd=dict(data.get("chunk_sd") or {}),
        )


# ---- input checks ----------------------------------------------------------------------------


SCORE_RANGE_FIX = (
    "confidence-based estimation needs the positive class's probability — pass "
    "predict_proba(X)[:, 1], or map a raw margin into [0, 1] (e.g. with a sigmoid) in the "
    "reference and in production alike."
)


def _scores(values: Any, name: str) -> np.ndarray:
    try:
        scores = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"{name} must be numbers (the positive class's probability); could not read them "
            f"as floats: {exc}"
        ) from exc
    finite = scores[np.isfinite(scores)]
    outside = finite[(finite < 0) | (finite > 1)]
    if np.isinf(scores).any() or outside.size:
        bad = np.concatenate([outside, scores[np.isinf(scores)]])
        raise InputError(
            f"{name} has {bad.size:,} value(s) outside [0, 1] (e.g. {bad[0]:g}; min "
            f"{bad.min():g}, max {bad.max():g}); {SCORE_RANGE_FIX}"
        )
    return scores


def _labels01(values: Any, name: str, rows: int) -> np.ndarray:
    """0/1 floats (NaN where missing), of ``rows`` rows."""
    try:
        labels = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"{name} must be 0/1 labels (or booleans); could not read them as numbers: {exc}"
        ) from exc
    if labels.size != rows:
        raise InputError(
            f"{name} has {labels.size:,} rows but the scores have {rows:,}; pass one value per "
            "score."
        )
    found = np.unique(labels[np.isfinite(labels)])
    if not set(found.tolist()) <= {0.0, 1.0}:
        shown = ", ".join(repr(v) for v in found[~np.isin(found, [0.0, 1.0])][:4].tolist())
        raise InputError(
            f"{name} must hold 0/1 labels (1 the positive class); found {shown}. Encode the "
            "target first (monitorkit.performance.labels.prepare_labels does it for a frame)."
        )
    return labels


def _confidence(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise InputError(f"confidence must be between 0 and 1 (e.g. 0.95); got {confidence!r}.")
    return float(confidence)


# ---- fitting --------------------------------------------------------------------------------


def default_chunk_rows(reference_rows: int) -> int:
    """``max(MIN_CHUNK_ROWS, reference_rows // DEFAULT_CHUNKS)``: ten chunks of at least 100
    rows."""
    return max(MIN_CHUNK_ROWS, reference_rows // DEFAULT_CHUNKS)


def fit_calibration(
    y_true: Any,
    y_score: Any,
    *,
    y_pred: Any = None,
    threshold: float = 0.5,
    chunk_rows: int | None = None,
    seed: int = 0,
) -> Calibration:
    """Fit the calibration and measure the band on a labelled reference (module docstring).

    Parameters
    ----------
    y_true
        0/1 labels (1 the positive class; booleans are fine); NaN rows are left out.
    y_score
        The model's score for the positive class, in ``[0, 1]``; NaN rows are left out.
    y_pred
        Predicted 0/1 labels, when the model's decision is not ``score >= threshold`` (used
        for the spread of the realised metrics; give the same to :func:`estimate`).
    threshold
        Scores at or above it are predicted positive; stored in the calibration.
    chunk_rows
        Rows per reference chunk for the band; default :func:`default_chunk_rows`
        (``max(100, reference_rows // 10)``). The reference needs at least
        :data:`MIN_CHUNKS` (5) chunks, so by default 500 labelled rows with a score.
    seed
        Seed of the shuffle before the reference is cut into chunks.

    Returns
    -------
    Calibration

    Raises
    ------
    InputError
        Scores outside ``[0, 1]``, labels that are not 0/1, arrays of different lengths,
        only one class in the reference, or too few rows for the chunks.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> score = rng.random(1000)
    >>> calibration = fit_calibration((rng.random(1000) < score).astype(int), score)
    >>> calibration.reference_rows, calibration.chunk_rows
    (1000, 100)
    """
    from sklearn.isotonic import IsotonicRegression

    scores = _scores(y_score, "y_score")
    labels = _labels01(y_true, "y_true", scores.size)
    keep = np.isfinite(scores) & np.isfinite(labels)
    predicted = None
    if y_pred is not None:
        predicted = _labels01(y_pred, "y_pred", scores.size)
        keep &= np.isfinite(predicted)
    if isinstance(threshold, bool) or not (
        isinstance(threshold, numbers.Real) and 0 <= threshold <= 1
    ):
        raise InputError(f"threshold must be a number in [0, 1] (e.g. 0.5); got {threshold!r}.")
    scores, labels = scores[keep], labels[keep].astype(np.int64)
    rows = int(scores.size)
    if predicted is None:
        predicted = (scores >= threshold).astype(np.int64)
    else:
        predicted = predicted[keep].astype(np.int64)
    classes = np.unique(labels)
    if classes.size < 2:
        only = f"only class {int(classes[0])}" if classes.size else "no labelled row"
        raise InputError(
            f"the reference has {only} in y_true ({rows:,} labelled rows with a score); the "
            "calibration needs positives and negatives — fit it on a labelled validation set "
            "that holds both classes."
        )
    if chunk_rows is None:
        chunk_rows = default_chunk_rows(rows)
    elif isinstance(chunk_rows, bool) or not isinstance(chunk_rows, (int, np.integer)):
        raise InputError(f"chunk_rows must be a positive integer or None; got {chunk_rows!r}.")
    if chunk_rows < 1:
        raise InputError(f"chunk_rows must be a positive integer or None; got {chunk_rows!r}.")
    chunk_rows = int(chunk_rows)
    if rows < MIN_CHUNKS * chunk_rows:
        raise InputError(
            f"too few reference rows for the estimation band: {rows:,} labelled rows with a "
            f"score, {MIN_CHUNKS * chunk_rows:,} needed ({MIN_CHUNKS} chunks of {chunk_rows:,} "
            "rows); give a larger labelled reference, or a smaller chunk_rows=…."
        )
    isotonic = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1)
    isotonic.fit(scores, labels.astype(np.float64))
    return Calibration(
        x_thresholds=tuple(isotonic.X_thresholds_.tolist()),
        y_thresholds=tuple(isotonic.y_thresholds_.tolist()),
        threshold=float(threshold),
        reference_rows=rows,
        chunk_rows=chunk_rows,
        chunk_sd=_chunk_spread(labels, predicted, scores, chunk_rows, seed),
    )


def _chunk_spread(
    labels: np.ndarray, predicted: np.ndarray, scores: np.ndarray, chunk_rows: int, seed: int
) -> dict[str, float]:
    """Standard deviation of each realised metric over shuffled reference chunks, the variance
    pooled over :data:`SHUFFLES` shuffles (module docstring)."""
    rng = np.random.default_rng(seed)
    chunks = labels.size // chunk_rows
    variances: dict[str, list[float]] = {name: [] for name in ESTIMATED_METRICS}
    for _ in range(SHUFFLES):
        order = rng.permutation(labels.size)
        values: dict[str, list[float]] = {name: [] for name in ESTIMATED_METRICS}
        for chunk in range(chunks):
            rows = order[chunk * chunk_rows : (chunk + 1) * chunk_rows]
            arrays = LabelArrays("binary", labels[rows], predicted[rows], scores[rows])
            for name in ESTIMATED_METRICS:
                value = METRICS[name].compute(arrays)
                if math.isfinite(value):
                    values[name].append(value)
        for name, found in values.items():
            if len(found) >= 2:
                variances[name].append(float(np.var(found, ddof=1)))
    return {
        name: math.sqrt(float(np.mean(found)))
        for name, found in variances.items()
        if len(found) * 2 > SHUFFLES
    }


# ---- estimating -----------------------------------------------------------------------------


def _ratio(top: float, bottom: float) -> float:
    return top / bottom if bottom > 0 else math.nan


def expected_roc_auc(scores: np.ndarray, probabilities: np.ndarray) -> float:
    """Area under the expected ROC curve (module docstring) of rows with these raw
    ``scores`` and calibrated ``probabilities``; NaN when either expected class is empty."""
    positives = float(probabilities.sum())
    negatives = float((1 - probabilities).sum())
    if positives <= 0 or negatives <= 0:
        return math.nan
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores, sorted_p = scores[order], probabilities[order]
    ends = np.r_[np.flatnonzero(np.diff(sorted_scores)), sorted_scores.size - 1]
    true_positives = np.r_[0.0, np.cumsum(sorted_p)[ends]]
    false_positives = np.r_[0.0, np.cumsum(1 - sorted_p)[ends]]
    tpr = true_positives / true_positives[-1]
    fpr = false_positives / false_positives[-1]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def estimate(
    calibration: Calibration,
    y_score: Any,
    *,
    y_pred: Any = None,
    confidence: float = CONFIDENCE,
    name: str = "y_score",
) -> dict[str, Any]:
    """Estimate a binary classifier's performance on unlabelled rows (module docstring).

    Parameters
    ----------
    calibration
        From :func:`fit_calibration` (or a baseline's ``calibration``).
    y_score
        The scores of the rows (one window), in ``[0, 1]``; NaN rows are left out.
    y_pred
        Predicted 0/1 labels; default ``score >= calibration.threshold``. NaN rows are left
        out.
    confidence
        Level of the band (0.95 by default; a report judging many windows widens it, see
        :func:`monitorkit.performance.metrics.cell_confidence`).
    name
        What the scores are called in error messages (a report passes its column).

    Returns
    -------
    dict
        ``{metric: Estimate}`` for each of :data:`ESTIMATED_METRICS` (``accuracy``,
        ``precision``, ``recall``, ``f1``, ``roc_auc``); the expected confusion counts
        ``tp``, ``fp``, ``fn``, ``tn`` as floats; ``rows`` (int), the rows used.

    Examples
    --------
    >>> calibration = Calibration((0.0, 1.0), (0.0, 1.0), chunk_rows=100,
    ...                           chunk_sd={"accuracy": 0.05})
    >>> result = estimate(calibration, [0.9, 0.2, 0.6, 0.1])
    >>> round(result["tp"], 10), round(result["accuracy"].value, 10)
    (1.5, 0.8)
    >>> round(result["accuracy"].lower, 4), result["accuracy"].upper
    (0.31, 1.0)
    """
    confidence = _confidence(confidence)
    scores = _scores(y_score, name)
    keep = np.isfinite(scores)
    if y_pred is not None:
        predicted = _labels01(y_pred, "y_pred", scores.size)
        keep &= np.isfinite(predicted)
        predicted = predicted[keep]
    scores = scores[keep]
    if y_pred is None:
        predicted = (scores >= calibration.threshold).astype(np.float64)
    p = calibration.apply(scores)
    return estimate_from_counts(
        calibration,
        tp=float(np.sum(p * predicted)),
        fp=float(np.sum((1 - p) * predicted)),
        fn=float(np.sum(p * (1 - predicted))),
        tn=float(np.sum((1 - p) * (1 - predicted))),
        rows=int(scores.size),
        roc_auc=expected_roc_auc(scores, p) if scores.size else math.nan,
        confidence=confidence,
    )


def estimate_from_counts(
    calibration: Calibration,
    *,
    tp: float,
    fp: float,
    fn: float,
    tn: float,
    rows: int,
    roc_auc: float,
    confidence: float = CONFIDENCE,
) -> dict[str, Any]:
    """:func:`estimate`'s result from the expected confusion counts of ``rows`` rows and
    their expected ROC AUC, computed elsewhere (summed per partition of a Dask frame).

    >>> calibration = Calibration((0.0, 1.0), (0.0, 1.0), chunk_rows=100,
    ...                           chunk_sd={"accuracy": 0.05})
    >>> guess = estimate_from_counts(calibration, tp=1.5, fp=0.5, fn=0.3, tn=1.7, rows=4,
    ...                              roc_auc=0.8)
    >>> round(guess["accuracy"].value, 10), guess["precision"].value
    (0.8, 0.75)
    """
    confidence = _confidence(confidence)
    values = {
        "accuracy": _ratio(tp + tn, rows),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "roc_auc": float(roc_auc),
    }
    z = _z(confidence)
    result: dict[str, Any] = {}
    for name, value in values.items():
        half = z * calibration.spread(name, rows)
        if math.isnan(value) or math.isnan(half):
            result[name] = Estimate(value, math.nan, math.nan)
        else:
            result[name] = Estimate(value, max(0.0, value - half), min(1.0, value + half))
    result.update(tp=tp, fp=fp, fn=fn, tn=tn, rows=rows)
    return result


def diverges(estimate: Estimate, realised: float) -> bool:
    """True when the ``realised`` value lies outside the estimate's band: then the relation
    between inputs and outcome may have changed (concept drift) and the estimates are no
    longer valid (:data:`CONCEPT_DRIFT_MESSAGE`). False when either is unknown (NaN).

    >>> diverges(Estimate(0.9, 0.85, 0.95), 0.7), diverges(Estimate(0.9, 0.85, 0.95), 0.88)
    (True, False)
    """
    realised = float(realised)
    if not all(math.isfinite(v) for v in (realised, estimate.lower, estimate.upper)):
        return False
    return realised < estimate.lower or realised > estimate.upper
