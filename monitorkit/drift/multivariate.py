"""Multivariate drift: PCA reconstruction error of current against the reference.

The overall check is described on :class:`~monitorkit.drift.MultivariateDrift`. With ``by=``,
each window is checked too (:func:`window_errors`): a rank test of its rows' reconstruction
errors against the held-out reference rows' errors, judged like every other test of the report
(``p_value < alpha / n_tests`` and an effect of at least ``min_effect``), each judged window
counting as one test in ``n_tests``, so that checking many windows does not multiply false
alarms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from monitorkit.drift.columns import Prepared
from monitorkit.drift.results import DecisionRule, MultivariateDrift, WindowDrift
from monitorkit.schema import category_labels, numeric_values
from monitorkit.severity import Severity
from monitorkit.windows import MIN_WINDOW_ROWS, Windows

# --------------------------------------------------------------------------------------------
# Multivariate drift
# --------------------------------------------------------------------------------------------

_PCA_VARIANCE = 0.65
_PCA_MAX_ROWS = 100_000  # rows of current (and twice that of reference) the check uses
_PCA_MIN_ROWS = 100


def _multivariate_rows(n: int, limit: int, seed: int) -> np.ndarray:
    """Sorted row positions: all rows up to ``limit``, else a seeded random sample."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def _multivariate_inputs(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    prepared: list[Prepared],
    reference_rows: np.ndarray,
    current_rows: np.ndarray,
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Standardised feature matrices of the chosen reference and current rows."""
    usable = [
        p
        for p in prepared
        if p.skipped is None
        and p.role == "feature"
        and p.kind in ("numeric", "boolean")
        and p.column in reference.columns
        and p.column in current.columns
    ]
    columns = []
    ref_matrix = np.empty((reference_rows.size, len(usable)))
    cur_matrix = np.empty((current_rows.size, len(usable)))
    for p in usable:
        ref_values = reference[p.column].iloc[reference_rows]
        if p.kind == "numeric":
            ref_array, _ = numeric_values(ref_values)
            cur_array, _ = numeric_values(current[p.column].iloc[current_rows])
        else:
            ref_array = _boolean_floats(ref_values)
            cur_array = _boolean_floats(current[p.column].iloc[current_rows])
        ref_finite = np.isfinite(ref_array)
        if not ref_finite.any():
            continue
        mean = ref_array[ref_finite].mean()
        sd = ref_array[ref_finite].std()
        if not np.isfinite(sd) or sd == 0:
            continue
        i = len(columns)
        columns.append(p.column)
        # Standardised with the reference's mean and sd; missing and infinite values at 0.
        ref_matrix[:, i] = np.where(ref_finite, (ref_array - mean) / sd, 0.0)
        cur_matrix[:, i] = np.where(np.isfinite(cur_array), (cur_array - mean) / sd, 0.0)
    return columns, ref_matrix[:, : len(columns)], cur_matrix[:, : len(columns)]


def _boolean_floats(values: pd.Series) -> np.ndarray:
    labels = category_labels(values, "boolean")
    return labels.map({"True": 1.0, "False": 0.0}).to_numpy(dtype=float, na_value=np.nan)


@dataclass(frozen=True)
class _PcaModel:
    components: np.ndarray  # (k, d)
    variance_kept: float


def _fit_pca(matrix: np.ndarray) -> _PcaModel:
    centred = matrix - matrix.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    variance = singular**2
    share = np.cumsum(variance) / variance.sum()
    k = int(np.searchsorted(share, _PCA_VARIANCE) + 1)
    k = min(k, matrix.shape[1] - 1)
    return _PcaModel(components=vt[:k], variance_kept=float(share[k - 1]))


def _reconstruction_error(model: _PcaModel, matrix: np.ndarray) -> np.ndarray:
    projected = matrix @ model.components.T
    residual = matrix - projected @ model.components
    return np.sqrt(np.einsum("ij,ij->i", residual, residual))


def _error_band(holdout_errors: np.ndarray, size: int) -> tuple[float, float, float]:
    """Expected mean error and its ``± 3 sd`` band for a sample of ``size`` rows.

    The sd is that of the mean error of chunks of ``size`` rows of the held-out reference
    (capped at 10,000 rows, at least 5 chunks), so a small window gets a wider band.
    """
    chunk = max(int(min(size, 10_000, holdout_errors.size // 5)), 1)
    n_chunks = holdout_errors.size // chunk
    chunk_means = holdout_errors[: n_chunks * chunk].reshape(n_chunks, chunk).mean(axis=1)
    centre = float(holdout_errors.mean())
    spread = float(chunk_means.std(ddof=1)) if n_chunks > 1 else 0.0
    return centre, centre - 3 * spread, centre + 3 * spread


def multivariate_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    prepared: list[Prepared],
) -> tuple[MultivariateDrift, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """The overall result; the per-row errors of (sampled) current rows and their positions;
    the errors of the held-out reference rows."""
    reference_rows = _multivariate_rows(len(reference), 2 * _PCA_MAX_ROWS, seed=0)
    current_rows = _multivariate_rows(len(current), _PCA_MAX_ROWS, seed=1)
    columns, ref_matrix, cur_matrix = _multivariate_inputs(
        reference, current, prepared, reference_rows, current_rows
    )

    def skipped(reason: str):
        return MultivariateDrift.not_computed(reason, tuple(columns)), None, None, None

    if len(columns) < 2:
        return skipped("needs at least 2 numeric or boolean feature columns that vary")
    if len(reference) < 2 * _PCA_MIN_ROWS:
        return skipped(f"needs at least {2 * _PCA_MIN_ROWS} reference rows")
    order = np.random.default_rng(0).permutation(len(ref_matrix))
    half = len(order) // 2
    model = _fit_pca(ref_matrix[order[:half]])
    holdout_errors = _reconstruction_error(model, ref_matrix[order[half:]])
    current_errors = _reconstruction_error(model, cur_matrix)
    centre, lower, upper = _error_band(holdout_errors, len(current_rows))
    current_error = float(current_errors.mean())
    drifted = not (lower <= current_error <= upper)
    relative = abs(current_error - centre) / centre if centre > 0 else 0.0
    severity = Severity.OK
    if drifted:
        severity = Severity.CRITICAL if relative >= 0.2 else Severity.WARNING
    result = MultivariateDrift(
        columns=tuple(columns),
        n_components=int(model.components.shape[0]),
        variance_kept=model.variance_kept,
        reference_error=centre,
        reference_error_sd=(upper - centre) / 3,
        lower=lower,
        upper=upper,
        current_error=current_error,
        drifted=bool(drifted),
        severity=severity,
    )
    return result, current_errors, current_rows, holdout_errors


@dataclass(frozen=True)
class WindowErrors:
    """The multivariate check of each window, before any rule (see :func:`window_errors`).

    Arrays in window order: ``error`` the mean reconstruction error of the window's sampled
    rows (NaN when the sample holds none: no error, None in the results), ``effect`` the
    rank-biserial difference and ``p_value`` its two-sided p-value (both NaN when the window
    is not judged).
    """

    error: np.ndarray
    effect: np.ndarray
    p_value: np.ndarray

    @property
    def tests(self) -> int:
        """How many windows are judged: one test each in the report's Bonferroni family."""
        return int(np.isfinite(self.p_value).sum())


def window_errors(
    windows: Windows,
    current_errors: np.ndarray,
    current_rows: np.ndarray,
    holdout_errors: np.ndarray,
) -> WindowErrors:
    """Compare each window's reconstruction errors with the held-out reference rows' errors.

    Under no change the errors of a window's rows and of the ``h`` held-out reference rows are
    draws from one distribution (the PCA was fitted on the other half of the reference), so a
    rank test is exact in its assumptions whatever the errors' shape (they are skewed: a mean
    error band from the normal curve raises false alarms in its tail). For a window with ``m``
    sampled rows:

    * ``U = Σ_i #{holdout errors < e_i} + ½ #{holdout errors = e_i}`` over the window's rows
      (the Mann–Whitney statistic);
    * ``effect = 2 U / (m h) − 1``, the rank-biserial difference in [−1, 1]: the share of
      (window row, reference row) pairs where the window's error is larger minus the share
      where it is smaller (positive: the features fit the reference's structure worse);
    * ``p_value`` two-sided from the normal approximation, ``z = (|U − m h / 2| − ½) /
      sqrt(m h (m + h + 1) / 12)`` (continuity-corrected; without the tie correction, which
      could only lower the variance, so ties make it conservative).

    Judged only for windows that are tested (enough rows) and hold at least
    :data:`~monitorkit.windows.MIN_WINDOW_ROWS` rows of the multivariate sample; for the others
    ``effect`` and ``p_value`` are NaN. ``current_rows`` are the positions in current of the
    rows behind ``current_errors``; rows in no window (no timestamp) are left out.
    """
    n_windows = len(windows)
    window_of_row = windows.codes[current_rows]
    in_window = window_of_row >= 0
    codes, errors = window_of_row[in_window], current_errors[in_window]
    sizes = np.bincount(codes, minlength=n_windows).astype(float)
    sums = np.bincount(codes, weights=errors, minlength=n_windows)
    reference = np.sort(holdout_errors)
    h = float(reference.size)
    placement = (
        np.searchsorted(reference, errors, "left") + np.searchsorted(reference, errors, "right")
    ) / 2
    u = np.bincount(codes, weights=placement, minlength=n_windows)
    judged = sizes >= MIN_WINDOW_ROWS
    judged &= np.array([not w.too_few_rows for w in windows.windows], dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        error = np.where(sizes > 0, sums / sizes, np.nan)
        pairs = sizes * h
        effect = np.where(judged, 2 * u / pairs - 1, np.nan)
        sd = np.sqrt(pairs * (sizes + h + 1) / 12)
        z = np.maximum(np.abs(u - pairs / 2) - 0.5, 0) / sd
    p_value = np.array(
        [math.erfc(value / math.sqrt(2)) if ok else math.nan for value, ok in zip(z, judged)]
    )
    return WindowErrors(error=error, effect=effect, p_value=p_value)


def window_error_drifted(
    p_value: float | None, effect: float | None, rule: DecisionRule
) -> bool | None:
    """The default rule on a window's multivariate check: ``p_value < alpha / n_tests`` and
    ``|effect| >= min_effect``; None (not judged, never drifted) when either is missing or
    NaN, as for a window the multivariate sample did not reach."""
    if p_value is None or effect is None or math.isnan(p_value) or math.isnan(effect):
        return None
    return bool(p_value < rule.p_threshold and abs(effect) >= rule.min_effect)


def multivariate_windows(
    windows: tuple[WindowDrift, ...], errors: WindowErrors, rule: DecisionRule
) -> tuple[WindowDrift, ...]:
    """Add each window's multivariate check (:func:`window_errors`) judged by ``rule``."""
    updated = []
    for index, w in enumerate(windows):
        p_value = float(errors.p_value[index])
        effect = float(errors.effect[index])
        judged = math.isfinite(p_value)
        error = float(errors.error[index])
        updated.append(
            replace(
                w,
                multivariate_error=error if math.isfinite(error) else None,
                multivariate_effect=effect if judged else None,
                multivariate_p_value=p_value if judged else None,
                multivariate_drifted=window_error_drifted(p_value, effect, rule),
            )
        )
    return tuple(updated)
