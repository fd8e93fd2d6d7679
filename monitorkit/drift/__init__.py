"""Drift: has the data the model sees moved away from its reference?

The package reads top-down, each module importing only those above it:

* :mod:`~monitorkit.drift.results` — the frozen result dataclasses and :class:`DecisionRule`;
* :mod:`~monitorkit.drift.rule` — :func:`judge_column`, the one pure function from stored
  statistics to flags and severities;
* :mod:`~monitorkit.drift.options` — ``method=`` / ``threshold=`` checked before any work;
* :mod:`~monitorkit.drift.columns` — one column prepared once, compared, pictured;
* :mod:`~monitorkit.drift.over_time` — windows of current (``by=``) against the reference;
* :mod:`~monitorkit.drift.multivariate` — PCA reconstruction-error drift;
* :mod:`~monitorkit.drift.domain` — the opt-in domain classifier;
* :mod:`~monitorkit.drift.profile` — drift from a profile or baseline (sketches, no rows);
* :mod:`~monitorkit.drift.report` — :class:`DriftReport`, which runs the above.

The decision rule, methods and NaN policy are documented in :mod:`monitorkit.drift.report`.
"""

from __future__ import annotations

from monitorkit.drift.report import DriftReport, compute_drift
from monitorkit.drift.results import (
    ColumnDrift,
    DecisionRule,
    Distribution,
    DomainClassifierDrift,
    DriftResult,
    MultivariateDrift,
    WindowDrift,
)
from monitorkit.drift.rule import judge_column, missing_rate_p_value

__all__ = [
    "ColumnDrift",
    "DecisionRule",
    "Distribution",
    "DomainClassifierDrift",
    "DriftReport",
    "DriftResult",
    "MultivariateDrift",
    "WindowDrift",
    "compute_drift",
    "judge_column",
    "missing_rate_p_value",
]
