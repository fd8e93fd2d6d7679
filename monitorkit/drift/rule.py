"""The default decision rule: statistics in, flags and severities out (no data needed).

:func:`judge_column` is the one pure function that turns a column's stored statistics into
its flags; the computation and :meth:`DriftReport.with_rule` (re-judging without the data)
both call it, so the two can never disagree.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace

import numpy as np

from monitorkit import stats
from monitorkit.drift.results import ColumnDrift, DecisionRule, optional_float
from monitorkit.severity import Severity


def values_drifted(p_value: float | None, effect: float | None, rule: DecisionRule) -> bool:
    """The default rule on a column's values: corrected significance and a large enough effect."""
    if p_value is None or effect is None or math.isnan(p_value) or math.isnan(effect):
        return False
    return bool(p_value < rule.p_threshold and effect >= rule.min_effect)


def missing_rate_p_value(
    reference_missing: int, reference_rows: int, current_missing: int, current_rows: int
) -> float | None:
    """Two-proportion z-test of the missing rates (None when nothing is missing)."""
    if reference_missing == current_missing == 0:
        return None
    counts_ref = np.array([reference_rows - reference_missing, reference_missing])
    counts_cur = np.array([current_rows - current_missing, current_missing])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.DegenerateStatisticWarning)
        return optional_float(stats.categorical.z(counts_ref, counts_cur).p_value)


def judge_column(column: ColumnDrift, rule: DecisionRule) -> ColumnDrift:
    """Apply ``rule`` to a column's stored statistics: its flags, threshold and severity.

    Only numbers already in ``column`` are used, so flags can be re-evaluated under another
    rule (e.g. a threshold control in a widget) without the data.
    """
    if column.skipped is not None:
        return column
    values_moved = column.values_drifted
    threshold = column.threshold
    if column.decision == "rule":
        values_moved = values_drifted(column.p_value, column.effect_size, rule)
        threshold = rule.p_threshold
    change = abs(column.missing_rate_change)
    missing_drifted = (
        column.missing_p_value is not None
        and not math.isnan(column.missing_p_value)
        and column.missing_p_value < rule.p_threshold
        and change >= rule.min_effect
    )
    moved = max(
        (column.effect_size or 0.0) if values_moved else 0.0,
        change if missing_drifted else 0.0,
    )
    severity = Severity.OK
    if values_moved or missing_drifted:
        severity = Severity.CRITICAL if moved >= rule.critical_effect else Severity.WARNING
    return replace(
        column,
        threshold=threshold,
        values_drifted=bool(values_moved),
        missing_drifted=bool(missing_drifted),
        severity=severity,
    )
