"""Multivariate drift: PCA reconstruction error of current against the reference."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from monitorkit.drift.columns import Prepared
from monitorkit.drift.results import MultivariateDrift, WindowDrift
from monitorkit.schema import category_labels, numeric_values
from monitorkit.severity import Severity

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
        nan = float("nan")
        result = MultivariateDrift(
            columns=tuple(columns),
            n_components=0,
            variance_kept=nan,
            reference_error=nan,
            reference_error_sd=nan,
            lower=nan,
            upper=nan,
            current_error=nan,
            drifted=False,
            severity=Severity.OK,
            skipped=reason,
        )
        return result, None, None, None

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


def multivariate_windows(
    windows: tuple[WindowDrift, ...],
    labels: pd.Series,
    current_errors: np.ndarray,
    current_rows: np.ndarray,
    holdout_errors: np.ndarray,
) -> tuple[WindowDrift, ...]:
    """Add each window's mean reconstruction error, judged against a band for its size."""
    window_of_row = labels.to_numpy()[current_rows]
    grouped = pd.Series(current_errors).groupby(window_of_row)
    means, sizes = grouped.mean(), grouped.size()
    updated = []
    for w in windows:
        error = float(means.get(w.window, float("nan")))
        _, lower, upper = _error_band(holdout_errors, int(sizes.get(w.window, w.rows)))
        updated.append(
            replace(w, multivariate_error=error, multivariate_drifted=not lower <= error <= upper)
        )
    return tuple(updated)
