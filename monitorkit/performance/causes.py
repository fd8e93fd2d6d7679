"""Where to look first: which feature values account for a metric's drop.

When a metric degrades in a cell (a window and segment of current), every feature column is
cut into bins — each category (the :data:`MAX_CATEGORIES` most frequent, missing values as
``(missing)``), or :data:`NUMERIC_BINS` quantile bins of a numeric column with edges from the
reference (its rows, else its profile's quantile sketch, else the cell's own values) — and
each bin ``b`` is scored by how much better the cell's metric would be without it::

    drag(b)      = M(cell without b) − M(cell)          (signed so that > 0 is "better without")
    explained(b) = drag_current(b) − drag_reference(b)

``M`` is the metric itself (recomputed on the rows, so it holds for any metric: recall, ROC
AUC, MAE, a business mean, a latency percentile). Subtracting the same drag on the reference
(when its labelled rows are known) leaves out bins that always pulled the metric down: what
remains is what changed. A drop spread evenly over every bin drags nothing — removing any one
bin leaves the metric as it was — so the ranking names a bin only when the drop is
concentrated there: a category that is new (``new_since`` names the first window it appeared
in), a range whose share grew, a value where the model got worse.

A bin is ranked when it holds at least :data:`MIN_BIN_ROWS` rows of the cell and explains at
least :data:`MIN_EXPLAINED` of the metric's change against the baseline; at most
:data:`MAX_CAUSES` bins are kept, most explained first. ``share`` / ``baseline_share`` are
the bin's share of the cell's rows and of the reference's rows (NaN when unknown).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from monitorkit.schema import category_labels, numeric_values

MAX_CATEGORIES = 20
NUMERIC_BINS = 5
MIN_BIN_ROWS = 30
MIN_EXPLAINED = 0.10
MAX_CAUSES = 5
MISSING = "(missing)"


@dataclass(frozen=True)
class Cause:
    """One bin of one column that accounts for part of a metric's change in a cell.

    ``value`` / ``baseline_value``: the metric on the bin's rows in the cell and in the
    reference; ``explained``: the share of the metric's change against the baseline that
    the bin accounts for (module docstring), from 0 to 1 or more.
    """

    metric: str
    window: str
    segment: str
    column: str
    bin: str
    rows: int
    share: float
    baseline_share: float
    value: float
    baseline_value: float
    explained: float
    new_since: str | None = None

    def describe(self) -> str:
        """``merchant_category = online (new since 2026-10-03), whose share rose from 8% to
        27%`` — the words the verdict uses."""
        where = f"{self.column} = {self.bin}" if not _is_range(self.bin) else self.bin
        text = where
        if self.new_since:
            text += f" (new since {self.new_since})"
        if math.isfinite(self.baseline_share) and math.isfinite(self.share):
            before, after = self.baseline_share, self.share
            if abs(after - before) >= 0.01:
                verb = "rose" if after > before else "fell"
                text += f", whose share {verb} from {before:.0%} to {after:.0%}"
            else:
                text += f" ({after:.0%} of rows, as in the baseline)"
        elif math.isfinite(self.share):
            text += f" ({self.share:.0%} of rows)"
        return text


def _is_range(label: str) -> bool:
    return any(sign in label for sign in ("≤", "<", ">"))


@dataclass
class Side:
    """The rows of one side (a cell of current, or the reference) and its metric."""

    frame: pd.DataFrame
    rows: np.ndarray
    compute: Callable[[np.ndarray], float]


def _bins(
    column: str,
    kind: str,
    current: pd.Series,
    reference: pd.Series | None,
    profile: Any,
) -> tuple[np.ndarray, np.ndarray | None, dict[str, float]]:
    """Bin labels per row of current and of the reference, and the reference's shares from
    its profile when there are no reference rows."""
    profile_shares: dict[str, float] = {}
    if kind == "numeric":
        values, _ = numeric_values(current)
        ref_values = numeric_values(reference)[0] if reference is not None else None
        ranks = np.linspace(0, 1, NUMERIC_BINS + 1)[1:-1]
        edges: np.ndarray | None = None
        if ref_values is not None and np.isfinite(ref_values).any():
            edges = np.nanquantile(ref_values, ranks)
        elif profile is not None and getattr(profile, "has_sketch", False):
            edges = np.asarray(profile.quantiles(ranks), dtype=float)
        elif np.isfinite(values).any():
            edges = np.nanquantile(values, ranks)
        if edges is None:
            return np.full(len(current), MISSING, dtype=object), None, {}
        edges = np.unique(edges[np.isfinite(edges)])
        labels = _range_labels(column, edges)

        def label(numbers: np.ndarray) -> np.ndarray:
            out = np.full(numbers.size, MISSING, dtype=object)
            finite = np.isfinite(numbers)
            out[finite] = np.asarray(labels, dtype=object)[
                np.searchsorted(edges, numbers[finite], side="left")
            ]
            return out

        if ref_values is None and profile is not None and getattr(profile, "has_sketch", False):
            cdf = np.r_[0.0, np.asarray(profile.cdf(edges), dtype=float), 1.0]
            if profile.rows:
                for name, share in zip(labels, np.diff(cdf)):
                    profile_shares[name] = float(share) * profile.count / profile.rows
                profile_shares[MISSING] = (profile.rows - profile.count) / profile.rows
        return (
            label(values),
            (label(ref_values) if ref_values is not None else None),
            profile_shares,
        )

    def categories(values: pd.Series) -> np.ndarray:
        return category_labels(values).astype(object).fillna(MISSING).to_numpy(dtype=object)

    if reference is None and profile is not None and hasattr(profile, "category_counts"):
        if profile.rows:
            counts = profile.category_counts()
            profile_shares = {str(k): v / profile.rows for k, v in counts.items()}
            profile_shares[MISSING] = profile.missing / profile.rows
    return (
        categories(current),
        categories(reference) if reference is not None else None,
        profile_shares,
    )


def _range_labels(column: str, edges: np.ndarray) -> list[str]:
    def num(x: float) -> str:
        return f"{x:.4g}"

    if edges.size == 0:
        return [f"{column} (any)"]
    labels = [f"{column} ≤ {num(edges[0])}"]
    labels += [f"{num(lo)} < {column} ≤ {num(hi)}" for lo, hi in zip(edges[:-1], edges[1:])]
    labels.append(f"{column} > {num(edges[-1])}")
    return labels


def _drag(side: Side, codes: np.ndarray, label: str, whole: float, sign: float) -> float:
    """``M(rows without the bin) − M(rows)`` in the good direction (> 0: better without)."""
    keep = side.rows[codes[side.rows] != label]
    if keep.size == 0:
        return math.nan
    return sign * (side.compute(keep) - whole)


def rank_causes(
    *,
    metric: str,
    window: str,
    segment: str,
    higher_is_better: bool,
    baseline_value: float,
    current: Side,
    reference: Side | None,
    columns: Sequence[tuple[str, str]],
    profiles: Any = None,
    first_seen: Callable[[np.ndarray], str | None] | None = None,
) -> tuple[Cause, ...]:
    """The bins that account most for ``metric``'s change in one cell (module docstring).

    ``columns`` are ``(name, kind)`` pairs with kind ``numeric`` or ``categorical``;
    ``profiles`` maps a column to the reference's profile (used when there are no reference
    rows); ``first_seen(positions)`` gives the label of the first window holding one of the
    positions of current.
    """
    sign = 1.0 if higher_is_better else -1.0
    whole = current.compute(current.rows)
    change = sign * (baseline_value - whole)  # > 0: the metric got worse by this much
    if not (math.isfinite(whole) and math.isfinite(change)) or change <= 0:
        return ()
    ref_whole = reference.compute(reference.rows) if reference is not None else math.nan
    found: list[Cause] = []
    for column, kind in columns:
        ref_series = reference.frame[column] if reference is not None else None
        if reference is not None and column not in reference.frame.columns:
            ref_series = None
        profile = None
        if profiles is not None:
            try:
                profile = profiles[column]
            except (KeyError, TypeError):
                profile = None
        codes, ref_codes, profile_shares = _bins(
            column, kind, current.frame[column], ref_series, profile
        )
        cell_codes = codes[current.rows]
        labels, counts = np.unique(cell_codes.astype(str), return_counts=True)
        order = np.argsort(-counts, kind="stable")[:MAX_CATEGORIES]
        if len(labels) < 2:
            continue  # one bin only (e.g. the cell's own segment): it cannot explain a part
        for index in order:
            label, rows = str(labels[index]), int(counts[index])
            if rows < MIN_BIN_ROWS:
                continue
            drag = _drag(current, codes, label, whole, sign)
            baseline_share = math.nan
            baseline_bin_value = math.nan
            new = False
            if reference is not None and ref_codes is not None:
                in_ref = ref_codes[reference.rows] == label
                baseline_share = float(in_ref.mean()) if reference.rows.size else math.nan
                new = not in_ref.any()
                if in_ref.any() and math.isfinite(ref_whole):
                    drag -= _drag(reference, ref_codes, label, ref_whole, sign)
                    baseline_bin_value = reference.compute(reference.rows[in_ref])
            elif profile_shares:
                baseline_share = profile_shares.get(label, 0.0)
                # Only an exact count can say a category is new (a sketch keeps the frequent).
                new = (
                    kind == "categorical"
                    and label not in profile_shares
                    and getattr(profile, "exact", False)
                )
            if not math.isfinite(drag) or drag / change < MIN_EXPLAINED:
                continue
            positions = current.rows[cell_codes == label]
            found.append(
                Cause(
                    metric=metric,
                    window=window,
                    segment=segment,
                    column=str(column),
                    bin=label,
                    rows=rows,
                    share=rows / current.rows.size,
                    baseline_share=baseline_share,
                    value=current.compute(positions),
                    baseline_value=baseline_bin_value,
                    explained=float(drag / change),
                    # the first window of all of current holding the value, not the cell's
                    new_since=(
                        first_seen(np.flatnonzero(codes == label)) if new and first_seen else None
                    ),
                )
            )
    found.sort(key=lambda c: -c.explained)
    return tuple(found[:MAX_CAUSES])
