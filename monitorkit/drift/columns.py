"""One column, prepared once and compared: coercion, method choice, statistics, pictures."""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from monitorkit import stats
from monitorkit.drift.options import MethodChoice, choose_methods, option_for
from monitorkit.drift.results import ColumnDrift, DecisionRule, Distribution, optional_float
from monitorkit.drift.rule import judge_column, missing_rate_p_value
from monitorkit.errors import ColumnSpecError
from monitorkit.schema import ResolvedSpec, category_labels, infer_kind, numeric_values
from monitorkit.severity import Severity

DEFAULT_METHODS = {"numeric": "ks", "categorical": "chi2", "boolean": "chi2"}
TESTED_KINDS = ("numeric", "categorical", "boolean")
HISTOGRAM_BINS = 20
_TOP_CATEGORIES = 20
_MAX_CATEGORIES = 10_000  # more distinct values than this (and mostly unique) behave as ids


@dataclass
class Prepared:
    """One column, coerced once and shared by the overall test and every window."""

    column: str
    kind: str
    role: str
    reference_rows: int
    current_rows: int
    reference_missing: int
    current_missing: int
    reference_invalid: int = 0
    current_invalid: int = 0
    reference_sorted: np.ndarray | None = None  # numeric
    current_values: np.ndarray | None = None  # numeric, in row order: kept only for by=
    current_sorted: np.ndarray | None = None  # numeric, finite, sorted
    categories: pd.Index | None = None  # categorical: labels, reference first
    reference_counts: np.ndarray | None = None
    current_codes: np.ndarray | None = None  # categorical: code per current row, -1 missing
    skipped: str | None = None
    unseen_categories: int = 0  # categorical: categories in current, not in reference


@contextlib.contextmanager
def quiet_statistics() -> Iterator[None]:
    """Silence notices the report already carries (NaN statistics, scipy's capped p-values).

    Set once around the thread pool: ``warnings.catch_warnings`` inside worker threads is not
    thread-safe, so filters set there could be undone by another thread mid-computation.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.DegenerateStatisticWarning)
        warnings.filterwarnings("ignore", message=r"p-value (capped|floored)", category=UserWarning)
        yield


def rank(result: ColumnDrift) -> tuple:
    role_order = {"target": 0, "prediction": 1, "prediction_label": 2}
    effect = result.effect_size if result.effect_size is not None else -1.0
    if math.isnan(effect):
        effect = -1.0
    missing_move = abs(result.missing_rate_change)
    return (
        role_order.get(result.role, 3),
        result.skipped is not None,
        -Severity(result.severity).rank,
        -max(effect, missing_move if result.missing_drifted else -1.0),
        result.column,
    )


def choose_columns(
    resolved: ResolvedSpec,
    columns: Sequence[str] | None,
    reference: pd.DataFrame,
    current: pd.DataFrame,
):
    if columns is not None:
        if isinstance(columns, str):
            columns = [columns]
        unknown = [c for c in columns if c not in resolved]
        if unknown:
            raise ColumnSpecError(
                f"columns {unknown} are in neither reference nor current; available: "
                f"{', '.join(resolved.names[:12])}{' …' if len(resolved.names) > 12 else ''}."
            )
        return [resolved[c] for c in columns]
    return list(resolved.columns)


IGNORED = "ignored by request (ColumnSpec(ignore=...))"


def ignored_columns(
    resolved: ResolvedSpec, reference: pd.DataFrame, current: pd.DataFrame
) -> list[ColumnDrift]:
    """The columns the spec leaves out (``ignore=``), listed as skipped so a reader sees them."""
    found = []
    for name in resolved.spec.ignore if resolved.spec is not None else ():
        frame = reference if name in reference.columns else current
        if name in frame.columns:
            kind = infer_kind(frame[name])[0]
            found.append(
                ColumnDrift(
                    column=name,
                    kind=kind,
                    role="feature",
                    method=None,
                    statistic=None,
                    p_value=None,
                    threshold=None,
                    skipped=IGNORED,
                )
            )
    return found


def absent_reason(column: str, role: str, missing_from: str) -> str:
    """Why a column present on one side only is skipped (labels that have not arrived yet are
    normal in production, and said so)."""
    if role == "target" and missing_from == "current":
        return f"no labels in current yet: '{column}' is not in current"
    other = "reference" if missing_from == "current" else "current"
    return f"only in {other}: {missing_from} has no column '{column}'"


def prepare(
    info, reference: pd.DataFrame, current: pd.DataFrame, keep_current: bool = False
) -> Prepared:
    name = info.name
    for frame, side in ((reference, "reference"), (current, "current")):
        if name not in frame.columns:
            return Prepared(
                column=name,
                kind=info.kind,
                role=info.role,
                reference_rows=len(reference),
                current_rows=len(current),
                reference_missing=0,
                current_missing=0,
                skipped=absent_reason(name, info.role, side),
            )
    ref_values, cur_values = reference[name], current[name]
    prepared = Prepared(
        column=name,
        kind=info.kind,
        role=info.role,
        reference_rows=len(ref_values),
        current_rows=len(cur_values),
        reference_missing=int(ref_values.isna().sum()),
        current_missing=int(cur_values.isna().sum()),
    )
    if info.role == "timestamp":
        prepared.skipped = "the time of each row, used to cut windows (by=), not compared"
        return prepared
    if info.kind not in TESTED_KINDS:
        prepared.skipped = {
            "id": "identifier: unique per row, not a distribution",
            "text": "free text: compare it with a text-specific check",
            "datetime": "date-time: drift over time is shown with by=",
        }[info.kind]
        return prepared
    if prepared.reference_missing == len(ref_values) and prepared.current_missing == len(
        cur_values
    ):
        prepared.skipped = "all values missing on both sides"
        return prepared
    if info.kind == "numeric":
        prepare_numeric(prepared, ref_values, cur_values, keep_current)
    else:
        prepare_categorical(prepared, ref_values, cur_values, info.kind)
    return prepared


def prepare_numeric(
    prepared: Prepared, ref_values: pd.Series, cur_values: pd.Series, keep_current: bool
) -> None:
    """Sorted finite values of both sides (and current in row order when windows need it)."""
    ref_array, prepared.reference_invalid = numeric_values(ref_values)
    cur_array, prepared.current_invalid = numeric_values(cur_values)
    prepared.reference_sorted = stats.prepare_numeric(ref_array)
    del ref_array
    current_sorted = stats.prepare_numeric(cur_array)
    if keep_current:
        prepared.current_values = cur_array  # windows need the values in row order
    del cur_array
    prepared.current_sorted = current_sorted
    ref_sorted = prepared.reference_sorted
    if (
        ref_sorted.size
        and current_sorted.size
        and ref_sorted[0] == ref_sorted[-1] == current_sorted[0] == current_sorted[-1]
    ):
        prepared.skipped = f"constant: every value is {ref_sorted[0]:g} on both sides"


def prepare_categorical(
    prepared: Prepared, ref_values: pd.Series, cur_values: pd.Series, kind: str
) -> None:
    ref_labels = category_labels(ref_values, kind)
    cur_labels = category_labels(cur_values, kind)
    ref_codes, ref_uniques = pd.factorize(ref_labels, use_na_sentinel=True)
    categories = pd.Index(ref_uniques)
    cur_codes = categories.get_indexer(cur_labels)
    unseen = (cur_codes == -1) & cur_labels.notna().to_numpy()
    if unseen.any():
        new_codes, new_uniques = pd.factorize(cur_labels[unseen])
        cur_codes[unseen] = new_codes + len(categories)
        categories = categories.append(pd.Index(new_uniques))
    prepared.categories = categories
    prepared.reference_counts = np.bincount(ref_codes[ref_codes >= 0], minlength=len(categories))
    prepared.current_codes = cur_codes
    prepared.unseen_categories = len(categories) - len(ref_uniques)
    distinct = len(categories)
    rows = len(ref_values) + len(cur_values)
    if distinct > _MAX_CATEGORIES and distinct > 0.5 * rows:
        prepared.skipped = (
            f"{distinct:,} distinct values in {rows:,} rows: behaves as an identifier, not a "
            "category; declare it as the id or drop it"
        )
    elif distinct == 1:
        prepared.skipped = f"constant: every value is '{categories[0]}' on both sides"


def current_counts(prepared: Prepared, rows: np.ndarray | slice | None = None) -> np.ndarray:
    codes = prepared.current_codes if rows is None else prepared.current_codes[rows]
    return np.bincount(codes[codes >= 0], minlength=len(prepared.categories))


def method_for(
    prepared: Prepared,
    method: str | Mapping[str, str] | None,
    threshold: float | Mapping[str, float] | None,
) -> MethodChoice:
    """(method, threshold, uses the default rule) for one column; see
    :func:`~monitorkit.drift.options.choose_methods`, which checks the options first."""
    if prepared.skipped is not None:
        return MethodChoice(None, None, False)
    choices = choose_methods(
        {prepared.column: prepared.kind}, method, threshold, defaults=DEFAULT_METHODS
    )
    return choices[prepared.column]


def lookup_option(option: Any, column: str, kind: str) -> Any:
    """The value of a per-column / per-kind option (or the one value) for a column."""
    return option_for(option, column, kind)


def run_method(
    prepared: Prepared,
    method: stats.DriftMethod,
    reference_sorted: np.ndarray | None,
    current_sorted: np.ndarray | None,
    reference_counts: np.ndarray | None,
    current_counts: np.ndarray | None,
) -> tuple[stats.MethodResult, float]:
    """Run ``method`` and the effect size on one comparison.

    The effect size is the KS distance for numeric columns, and for categorical and boolean
    ones the total variation distance less its expectation when nothing changed
    (:func:`~monitorkit.stats.categorical.debiased_tvd`): the share of rows that moved beyond
    sampling noise, which otherwise grows with the number of categories.
    """
    func = method.func_for(prepared.kind)
    with warnings.catch_warnings():
        # Degenerate statistics (an empty side) are NaN, reported as such in the result.
        warnings.simplefilter("ignore", stats.DegenerateStatisticWarning)
        if prepared.kind == "numeric":
            result = func(reference_sorted, current_sorted)
            if method.name == "ks":
                effect = result.statistic
            else:
                effect = stats.numeric.ks(
                    reference_sorted, current_sorted, method="limit"
                ).statistic
        else:
            result = func(reference_counts, current_counts)
            effect = stats.categorical.debiased_tvd(reference_counts, current_counts).statistic
    return result, float(effect)


def column_result(
    prepared: Prepared,
    choice: tuple[stats.DriftMethod | None, float | None, bool],
    rule: DecisionRule,
) -> ColumnDrift:
    method, threshold, default_rule = choice
    reference_rows, current_rows = prepared.reference_rows, prepared.current_rows
    base = dict(
        column=prepared.column,
        kind=prepared.kind,
        role=prepared.role,
        reference_missing_rate=prepared.reference_missing / reference_rows
        if reference_rows
        else 0.0,
        current_missing_rate=prepared.current_missing / current_rows if current_rows else 0.0,
        reference_invalid=prepared.reference_invalid,
        current_invalid=prepared.current_invalid,
    )
    if prepared.skipped is not None or method is None:
        return ColumnDrift(
            **base,
            method=None,
            statistic=None,
            p_value=None,
            threshold=None,
            skipped=prepared.skipped,
        )
    if prepared.kind == "numeric":
        reference_sorted = prepared.reference_sorted
        current_sorted = prepared.current_sorted
        result, effect = run_method(prepared, method, reference_sorted, current_sorted, None, None)
        counts = (int(reference_sorted.size), int(current_sorted.size))
        distribution = numeric_distribution(reference_sorted, current_sorted)
        unseen = 0
    else:
        reference_counts = prepared.reference_counts
        counts_now = current_counts(prepared)
        result, effect = run_method(prepared, method, None, None, reference_counts, counts_now)
        counts = (int(reference_counts.sum()), int(counts_now.sum()))
        distribution = categorical_distribution(prepared.categories, reference_counts, counts_now)
        unseen = prepared.unseen_categories
    unjudged = ColumnDrift(
        **base,
        method=method.name,
        statistic=optional_float(result.statistic),
        p_value=optional_float(result.p_value),
        threshold=threshold,
        effect_size=optional_float(effect),
        reference_count=counts[0],
        current_count=counts[1],
        missing_p_value=missing_rate_p_value(
            prepared.reference_missing,
            prepared.reference_rows,
            prepared.current_missing,
            prepared.current_rows,
        ),
        unseen_categories=unseen,
        decision="rule" if default_rule else "method",
        values_drifted=False if default_rule else bool(method.is_drift(result, threshold)),
        distribution=distribution,
    )
    return judge_column(unjudged, rule)


def numeric_distribution(reference_sorted: np.ndarray, current_sorted: np.ndarray) -> Distribution:
    if reference_sorted.size == 0 and current_sorted.size == 0:
        return Distribution(bins=(), reference=(), current=())
    pooled_low = min(_quantile(reference_sorted, 0.005), _quantile(current_sorted, 0.005))
    pooled_high = max(_quantile(reference_sorted, 0.995), _quantile(current_sorted, 0.995))
    if not pooled_high > pooled_low:
        pooled_high = pooled_low + 1.0
    edges = np.linspace(pooled_low, pooled_high, HISTOGRAM_BINS + 1)

    def shares(sorted_values: np.ndarray) -> tuple[float, ...]:
        if sorted_values.size == 0:
            return tuple(0.0 for _ in range(HISTOGRAM_BINS))
        # Counts between interior edges by binary search on the sorted values (no sort).
        positions = np.searchsorted(sorted_values, edges[1:-1], side="left")
        bounds = np.concatenate(([0], positions, [sorted_values.size]))
        return tuple((np.diff(bounds) / sorted_values.size).tolist())

    return Distribution(
        bins=tuple(edges.tolist()),
        reference=shares(reference_sorted),
        current=shares(current_sorted),
    )


def _quantile(sorted_values: np.ndarray, q: float) -> float:
    if sorted_values.size == 0:
        return math.inf if q < 0.5 else -math.inf
    return float(sorted_values[min(int(q * sorted_values.size), sorted_values.size - 1)])


def categorical_distribution(
    categories: Sequence[Any], reference_counts: np.ndarray, current_counts: np.ndarray
) -> Distribution:
    """Shares of the most frequent categories (either side) and "(other)" for the rest."""
    reference_share = reference_counts / max(reference_counts.sum(), 1)
    current_share = current_counts / max(current_counts.sum(), 1)
    order = np.argsort(-np.maximum(reference_share, current_share), kind="stable")
    top = order[:_TOP_CATEGORIES]
    labels = [str(categories[i]) for i in top]
    ref_top = reference_share[top].tolist()
    cur_top = current_share[top].tolist()
    if len(order) > _TOP_CATEGORIES:
        labels.append("(other)")
        ref_top.append(float(1 - sum(ref_top)))
        cur_top.append(float(1 - sum(cur_top)))
    return Distribution(bins=tuple(labels), reference=tuple(ref_top), current=tuple(cur_top))


# --------------------------------------------------------------------------------------------
# Drift over time
# --------------------------------------------------------------------------------------------
