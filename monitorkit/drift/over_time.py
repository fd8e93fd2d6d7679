"""Drift over time: each window of current (``by=``) against the whole reference.

Windows are cut by :func:`monitorkit.windows.assign_windows` (labels, anchoring, UTC, the
:data:`~monitorkit.windows.MAX_WINDOWS` cap). A window with fewer than
:data:`~monitorkit.windows.MIN_WINDOW_ROWS` rows is kept with ``skipped`` set and no
statistics: it is not tested and never flagged. In every tested window each tested column is
compared with the whole reference by the column's method; under the default rule the window is
flagged when ``p_value < alpha / n_tests`` and the effect size is at least ``min_effect``, where
``n_tests`` counts one test per tested column per tested window on top of the column tests
(:func:`window_tests`), so that the whole report holds one family-wise false-alarm rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from monitorkit.drift.columns import Prepared, current_counts, run_method
from monitorkit.drift.results import DecisionRule, WindowDrift, optional_float
from monitorkit.drift.rule import values_drifted
from monitorkit.windows import Window, Windows


def window_tests(tested_columns: int, windows: Windows | None) -> int:
    """Tests the windows add to the Bonferroni family: one per tested column per tested window.

    A window is tested when it has at least :data:`~monitorkit.windows.MIN_WINDOW_ROWS` rows.
    """
    if windows is None:
        return 0
    return tested_columns * len(windows.tested)


def untested_window(window: Window, columns: tuple[str, ...]) -> WindowDrift:
    """A window shown but not tested (too few rows): no statistics, no flags."""
    return WindowDrift(
        window=window.label,
        rows=window.rows,
        columns=columns,
        statistic=tuple(None for _ in columns),
        p_value=tuple(None for _ in columns),
        effect_size=tuple(None for _ in columns),
        drifted=tuple(False for _ in columns),
        start=window.iso_start(),
        end=window.iso_end(),
        skipped=window.skipped,
    )


def windows_drift(
    pool: ThreadPoolExecutor,
    tested: list[Prepared],
    windows: Windows,
    methods: Mapping[str, tuple],
    rule: DecisionRule,
) -> tuple[WindowDrift, ...]:
    """Each window's columns against the whole reference (``rule`` already counts the windows)."""
    positions = windows.row_positions()
    columns = tuple(p.column for p in tested)

    def one(index: int) -> WindowDrift:
        window = windows.windows[index]
        if window.too_few_rows:
            return untested_window(window, columns)
        rows = positions[index]
        statistic, p_values, effects, flags = [], [], [], []
        for prepared in tested:
            method, threshold, default_rule = methods[prepared.column]
            if prepared.kind == "numeric":
                values = prepared.current_values[rows]
                window_sorted = np.sort(values[np.isfinite(values)])
                result, effect = run_method(
                    prepared, method, prepared.reference_sorted, window_sorted, None, None
                )
            else:
                result, effect = run_method(
                    prepared,
                    method,
                    None,
                    None,
                    prepared.reference_counts,
                    current_counts(prepared, rows),
                )
            if default_rule:
                drifted = values_drifted(optional_float(result.p_value), effect, rule)
            else:
                drifted = bool(method.is_drift(result, threshold))
            statistic.append(optional_float(result.statistic))
            p_values.append(optional_float(result.p_value))
            effects.append(optional_float(effect))
            flags.append(drifted)
        return WindowDrift(
            window=window.label,
            rows=window.rows,
            columns=columns,
            statistic=tuple(statistic),
            p_value=tuple(p_values),
            effect_size=tuple(effects),
            drifted=tuple(flags),
            start=window.iso_start(),
            end=window.iso_end(),
        )

    return tuple(pool.map(one, range(len(windows))))
