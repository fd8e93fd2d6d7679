"""Model performance: metrics, business outcomes and latency against the baseline.

* :mod:`~monitorkit.performance.results` — :class:`MetricValue`, :class:`Tolerance` and the
  result;
* :mod:`~monitorkit.performance.metrics` — the registry of metrics (scikit-learn's scorer
  names), their directions and confidence intervals;
* :mod:`~monitorkit.performance.labels` — labels and predictions as arrays, the task, and
  :func:`join_labels` for labels that arrive later;
* :mod:`~monitorkit.performance.report` — :class:`PerformanceReport`;
* :mod:`~monitorkit.performance.causes` — where to look first: the feature values that account
  for a metric's drop;
* :mod:`~monitorkit.performance.fairness` — gaps between the groups of sensitive attributes;
* :mod:`~monitorkit.performance.estimation` — estimation without labels (CBPE) from a
  calibration stored in the baseline;
* :mod:`~monitorkit.performance.merged` — the report on a Dask DataFrame, from per-partition
  states merged.
"""

from __future__ import annotations

from monitorkit.performance.labels import join_labels
from monitorkit.performance.metrics import METRICS, Metric, register_metric
from monitorkit.performance.report import PerformanceReport, compute_performance, metric_values
from monitorkit.performance.results import (
    MetricInfo,
    MetricValue,
    PerformanceResult,
    PerformanceWindow,
    Tolerance,
)

__all__ = [
    "METRICS",
    "Metric",
    "MetricInfo",
    "MetricValue",
    "PerformanceReport",
    "PerformanceResult",
    "PerformanceWindow",
    "Tolerance",
    "compute_performance",
    "join_labels",
    "metric_values",
    "register_metric",
]
