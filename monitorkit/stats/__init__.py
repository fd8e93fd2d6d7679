"""Drift statistics: a registry of small pure functions over numpy arrays.

numpy and scipy only; no pandas and no display packages. Each registered
:class:`DriftMethod` declares its column kinds, default threshold and direction, and holds
up to two functions with fixed calling conventions:

- numeric columns: ``numeric_func(reference, current, **options)`` on arrays from
  :func:`prepare_numeric` (float64, finite, sorted ascending — prepared once per column
  and shared by every method);
- categorical and boolean columns: ``counts_func(reference_counts, current_counts,
  **options)`` on count arrays from :func:`align_counts` (aligned over the union of
  categories, missing values not counted).

Both return a :class:`MethodResult` ``(statistic, p_value)``. Degenerate inputs give NaN
and a :class:`DegenerateStatisticWarning`; caller mistakes raise
:class:`monitorkit.errors.InputError`.

Examples
--------
>>> import numpy as np
>>> from monitorkit import stats
>>> reference = stats.prepare_numeric(np.arange(100.0))
>>> current = stats.prepare_numeric(np.arange(100.0) + 50)
>>> method = stats.get_method("ks")
>>> result = method.func_for("numeric")(reference, current)
>>> result.statistic, method.is_drift(result)
(0.5, True)
"""

from __future__ import annotations

from monitorkit.stats import _builtins, categorical, numeric  # noqa: F401  (registers built-ins)
from monitorkit.stats._inputs import align_counts, prepare_numeric
from monitorkit.stats._registry import (
    COLUMN_KINDS,
    DriftMethod,
    available_methods,
    get_method,
    register_method,
    unregister_method,
)
from monitorkit.stats._results import DegenerateStatisticWarning, MethodResult
from monitorkit.stats.binning import (
    DEFAULT_EPSILON,
    DEFAULT_N_BINS,
    bin_counts,
    reference_quantile_edges,
    smoothed_proportions,
)

__all__ = [
    "COLUMN_KINDS",
    "DEFAULT_EPSILON",
    "DEFAULT_N_BINS",
    "DegenerateStatisticWarning",
    "DriftMethod",
    "MethodResult",
    "align_counts",
    "available_methods",
    "bin_counts",
    "categorical",
    "get_method",
    "numeric",
    "prepare_numeric",
    "reference_quantile_edges",
    "register_method",
    "smoothed_proportions",
    "unregister_method",
]
