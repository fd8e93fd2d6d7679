"""Drift over time: each window of current (``by=``) against the whole reference."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from monitorkit.drift.columns import Prepared, current_counts, run_method
from monitorkit.drift.results import DecisionRule, WindowDrift, optional_float
from monitorkit.drift.rule import values_drifted
from monitorkit.errors import ColumnSpecError, InputError


def window_labels(current: pd.DataFrame, by: str | int, timestamp: str | None) -> pd.Series:
    """A window label per current row (None for rows without a timestamp)."""
    if isinstance(by, bool):
        raise InputError("by must be a pandas offset alias such as '1D' or an integer; got a bool.")
    if isinstance(by, (int, np.integer)):
        if by < 1 or by > len(current):
            raise InputError(
                f"by={by}: the number of chunks must be between 1 and the {len(current):,} rows "
                "of current."
            )
        chunk = np.arange(len(current)) * int(by) // len(current)
        return pd.Series([f"chunk {i + 1}" for i in chunk], index=current.index)
    if not isinstance(by, str):
        raise InputError(f"by must be an offset alias such as '1D' or an integer; got {by!r}.")
    if timestamp is None:
        raise ColumnSpecError(
            f"by={by!r} splits current by time, but no timestamp column was found or declared; "
            "pass spec=ColumnSpec(timestamp='your_time_column'), or an integer by= to split "
            "into equal chunks in row order."
        )
    times = current[timestamp]
    if not pd.api.types.is_datetime64_any_dtype(times.dtype):
        times = pd.to_datetime(times, errors="coerce", format="ISO8601")
    if times.dt.tz is not None:
        # Windows are cut in UTC, so that a day is the same day for every reader.
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    try:
        periods = times.dt.floor(by) if _is_fixed_frequency(by) else times.dt.to_period(by)
    except (ValueError, TypeError) as exc:
        raise InputError(
            f"by={by!r} is not a pandas offset alias (examples: '1h', '1D', '7D', '1W', 'MS'): "
            f"{exc}"
        ) from exc
    return periods.astype("string")


def _is_fixed_frequency(by: str) -> bool:
    try:
        pd.Timedelta(pd.tseries.frequencies.to_offset(by))
    except (ValueError, TypeError):
        return False
    return True


def windows_drift(
    pool: ThreadPoolExecutor,
    tested: list[Prepared],
    labels: pd.Series,
    methods: Mapping[str, tuple],
    rule: DecisionRule,
) -> tuple[WindowDrift, ...]:
    codes, names = pd.factorize(labels, sort=True)
    order = np.argsort(codes, kind="stable")
    boundaries = np.searchsorted(codes[order], np.arange(len(names) + 1))

    def one(window: int) -> WindowDrift:
        rows = order[boundaries[window] : boundaries[window + 1]]
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
            window=str(names[window]),
            rows=int(rows.size),
            columns=tuple(p.column for p in tested),
            statistic=tuple(statistic),
            p_value=tuple(p_values),
            effect_size=tuple(effects),
            drifted=tuple(flags),
        )

    return tuple(pool.map(one, range(len(names))))
