"""The registry of data-quality checks, and the built-in ones.

A check is a small pure function registered with :func:`register_check`. A *column* check
receives a :class:`ColumnContext` (the reference's :class:`ColumnExpectation` of the column and
the current values) and returns :class:`Problem` s; a *table* check receives a
:class:`TableContext`. The report turns each problem into a
:class:`~monitorkit.quality.results.Finding`: its rate is ``count`` over the rows of current
unless the problem says otherwise, and its severity comes from the thresholds (a warning from
1% of the rows, critical from 5%, never from fewer than 5 rows) unless the problem fixes it —
schema breaks are critical whatever their size.

The checks that allow the reference's own share of odd values test that the excess is not
chance, at :data:`EXCESS_ALPHA` (0.1%). With ``by=`` each check also runs on every window of
current; those runs share the level (Bonferroni: 0.1% over the number of windows), so that
forty windows do not make a false alarm forty times as likely.

Built-in checks (``available_checks()`` lists them with their labels):

=========================  =======================================================================
``schema.delimiter``       current is one column whose name joins the reference's names with another
                           delimiter (critical)
``schema.no_common``       no column of current is in the reference (critical)
``schema.missing_column``  a reference column is absent from current (critical; the target only
                           gets a note: labels often arrive later)
``schema.unexpected``      a column of current the reference never had (warning)
``schema.unparseable``     a numeric column holds text that is not a number (``"$12.50"``,
                           ``"12,50"``, ``"unknown"``): its share, and the formats seen
``completeness.missing``   the missing rate rose: the rise (absolute, in rows) is judged by the
                           thresholds, and only when a two-proportion z-test finds it
                           significant at 0.1% (a guard at small n)
``completeness.all_missing`` every value missing in current, not in the reference (critical)
``validity.infinite``      ``±inf`` values
``validity.out_of_range``  values below the reference minimum or above its maximum, when more
                           than chance puts there (:func:`beyond_range_p_value`: the range is the
                           reference sample's own, so a binomial would understate chance)
``validity.outliers``      values inside the training range but outside the robust bounds
                           (``Q1 − 3·IQR``, ``Q3 + 3·IQR``), beyond the reference's own share
                           outside them (Fisher's exact test: that share is itself measured; from
                           a profile, widened by the sketch's rank error)
``categories.unseen``      rows whose category the reference never had, beyond the share that
                           sampling alone brings (the Good–Turing estimate: reference categories
                           seen once, over reference rows)
``categories.variant``     unseen values equal to a known category up to case and surrounding
                           spaces (``"Paris "``, ``"PARIS"``)
``categories.disappeared`` categories with at least 1% of the reference rows absent from current
                           (rate: their reference share), when current has rows enough to expect
                           at least 10 of them
``shape.changed``          text values whose shape (:func:`monitorkit.shapes.value_shape`) the
                           reference never had, beyond the Good–Turing share
``constant``               a column constant (one value) or near-constant (one value in 99% of
                           rows) in current that was not in the reference (at most 90%), when
                           one value's share is significantly above the reference's top share
``duplicates.rows``        rows identical to an earlier row in every column, beyond what the
                           reference repeats at the same size (:func:`expected_repeats`: a
                           table of few categories repeats rows by nature)
``duplicates.id``          ids that appear more than once, beyond the reference's repeats alike
``time.future``            timestamps more than 5 minutes after the report was computed
``time.out_of_order``      rows earlier than the row before them, when the reference rows were in
                           order
``time.gap``               a pause in current longer than twice the reference's longest, at
                           current's pace (from a baseline: 50 mean intervals, at least a day)
``rules``                  the user's rules (:mod:`monitorkit.quality.rules`)
=========================  =======================================================================
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from monitorkit.errors import InputError
from monitorkit.quality.expectations import ColumnExpectation
from monitorkit.quality.results import EXAMPLE_CHARS, MAX_EXAMPLES
from monitorkit.schema import category_labels
from monitorkit.severity import Severity
from monitorkit.shapes import shapes_of

ALL_KINDS = ("numeric", "categorical", "boolean", "datetime", "text", "id")
MISSING_RATE_ALPHA = 0.001  # the significance guard of the missing-rate check
FUTURE_TOLERANCE = pd.Timedelta(minutes=5)


@dataclass(frozen=True)
class Problem:
    """What a check found: ``count`` rows (or values) affected, in words, with examples.

    ``rate`` defaults to ``count`` over the rows of current; ``severity`` defaults to the
    thresholds' verdict on ``count`` and ``rate``.
    """

    count: int
    message: str
    examples: tuple[str, ...] = ()
    rate: float | None = None
    severity: Severity | None = None
    column: str | None = None  # table checks name the column they are about


@dataclass(frozen=True)
class ColumnContext:
    """One column of current beside the reference's expectation of it.

    The coerced views (``numbers``, ``unparseable``, ``labels``) are computed once, on first
    use, and shared by every check of the column.
    """

    column: str
    expected: ColumnExpectation
    values: pd.Series  # current values, as read
    rows: int  # rows of current (or of the window)
    comparisons: int = 1  # windows the check runs on (by=): the significance level is shared

    @property
    def alpha(self) -> float:
        """The significance level of this run of a check: :data:`EXCESS_ALPHA` shared
        (Bonferroni) between the ``comparisons`` windows, so that many windows do not make
        a false alarm likely."""
        return EXCESS_ALPHA / max(self.comparisons, 1)

    @functools.cached_property
    def numbers(self) -> np.ndarray:
        """The values as float64 (NaN for missing values and text that is not a number)."""
        return self._parsed[0]

    @functools.cached_property
    def unparseable(self) -> np.ndarray:
        """A mask of the values that are text but not a number."""
        return self._parsed[1]

    @functools.cached_property
    def _parsed(self) -> tuple[np.ndarray, np.ndarray]:
        values = self.values
        if pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_numeric_dtype(values.dtype):
            return values.to_numpy(dtype=float, na_value=np.nan), np.zeros(len(values), bool)
        parsed = pd.to_numeric(values, errors="coerce")
        array = parsed.to_numpy(dtype=float, na_value=np.nan)
        return array, (parsed.isna() & values.notna()).to_numpy()

    @functools.cached_property
    def labels(self) -> pd.Series:
        """The non-missing values as category labels (text)."""
        kind = "boolean" if self.expected.kind == "boolean" else "categorical"
        return category_labels(self.values, kind).dropna()


@dataclass(frozen=True)
class TableContext:
    """The whole of current beside the reference's columns."""

    expected: Mapping[str, ColumnExpectation]
    current: pd.DataFrame
    reference_columns: tuple[str, ...]
    timestamp: str | None = None
    id: str | None = None
    target: str | None = None
    reference_in_order: bool | None = None  # None: unknown (no reference rows)
    now: pd.Timestamp = field(default_factory=lambda: pd.Timestamp.now(tz="UTC"))
    # How the reference repeats itself: the sizes of its groups of identical rows (over the
    # columns it shares with current) and of equal ids; None when unknown (a profile).
    reference_row_groups: np.ndarray | None = field(default=None, repr=False, compare=False)
    reference_id_groups: np.ndarray | None = field(default=None, repr=False, compare=False)
    comparisons: int = 1  # windows the checks run on (by=): the significance level is shared
    # The reference's pace: its longest pause between rows (seconds; None without rows) and
    # its rows per day over its timestamp span (rows or a baseline's profile).
    reference_longest_gap: float | None = None
    reference_rows_per_day: float | None = None

    @property
    def alpha(self) -> float:
        """As :attr:`ColumnContext.alpha`."""
        return EXCESS_ALPHA / max(self.comparisons, 1)


@dataclass(frozen=True)
class QualityCheck:
    """A registered check: name, label, scope (column or table), kinds it applies to."""

    name: str
    label: str
    func: Callable[[Any], Iterable[Problem]]
    scope: str = "column"
    kinds: tuple[str, ...] = ALL_KINDS
    per_window: bool = True  # also run on each window of current (by=)


_REGISTRY: dict[str, QualityCheck] = {}


def register_check(
    name: str,
    *,
    label: str,
    scope: str = "column",
    kinds: Iterable[str] = ALL_KINDS,
    per_window: bool = True,
):
    """Register the decorated function as the quality check ``name``.

    A column check takes a :class:`ColumnContext`, a table check a :class:`TableContext`; both
    return an iterable of :class:`Problem` (empty when all is well).

    Examples
    --------
    >>> from monitorkit.quality import checks
    >>> from monitorkit.quality.checks import Problem, register_check
    >>> @register_check("negative_price", label="negative prices", kinds=("numeric",))
    ... def negative_price(ctx):
    ...     count = int((ctx.numbers < 0).sum())
    ...     if count:
    ...         yield Problem(count, f"{count:,} negative values")
    >>> checks.available_checks()["negative_price"]
    'negative prices'
    >>> del checks._REGISTRY["negative_price"]  # (this example leaves the registry as it was)
    """
    if scope not in ("column", "table"):
        raise InputError(f"scope must be 'column' or 'table'; got {scope!r}.")
    kinds = tuple(kinds)
    unknown = [k for k in kinds if k not in ALL_KINDS]
    if unknown:
        raise InputError(f"unknown kinds {unknown}; kinds are: {', '.join(ALL_KINDS)}.")

    def register(func: Callable[[Any], Iterable[Problem]]):
        _REGISTRY[name] = QualityCheck(
            name=name, label=label, func=func, scope=scope, kinds=kinds, per_window=per_window
        )
        return func

    return register


def available_checks() -> dict[str, str]:
    """Every registered check's name and label."""
    return {name: check.label for name, check in _REGISTRY.items()}


def get_check(name: str) -> QualityCheck:
    """The check called ``name``; an error naming the close ones otherwise."""
    if name not in _REGISTRY:
        import difflib

        close = difflib.get_close_matches(name, list(_REGISTRY), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise InputError(
            f"unknown quality check '{name}'{hint}; available: {', '.join(_REGISTRY)}."
        )
    return _REGISTRY[name]


def checks() -> list[QualityCheck]:
    return list(_REGISTRY.values())


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def examples(values: Iterable[Any]) -> tuple[str, ...]:
    """Up to five distinct values as text, each cut to 60 characters."""
    shown: list[str] = []
    for value in values:
        text = str(value)
        if len(text) > EXAMPLE_CHARS:
            text = text[: EXAMPLE_CHARS - 1] + "…"
        if text not in shown:
            shown.append(text)
        if len(shown) == MAX_EXAMPLES:
            break
    return tuple(shown)


EXCESS_ALPHA = 0.001  # how sure a check must be that a share rose above what the reference expects


def significant_excess(
    count: int,
    n: int,
    expected_share: float,
    *,
    reference_n: int | None = None,
    alpha: float = EXCESS_ALPHA,
) -> bool:
    """Is ``count`` of ``n`` significantly above ``expected_share``? The guard of every check
    that allows the reference's own share of odd values (outliers, new categories, new
    formats, duplicates), so that sampling noise in a small window is not an alarm.

    One-sided exact binomial test at ``alpha`` (:data:`EXCESS_ALPHA`) when the share is known;
    when it was itself measured on ``reference_n`` reference values, one-sided Fisher exact
    test (hypergeometric) of ``count`` of ``n`` against ``round(expected_share ·
    reference_n)`` of ``reference_n``, which also allows the reference's own sampling error."""
    if n == 0 or count <= expected_share * n:
        return False
    if reference_n:
        from scipy.stats import hypergeom

        reference_count = int(round(min(expected_share, 1.0) * reference_n))
        total = reference_n + n
        p_value = float(hypergeom.sf(count - 1, total, reference_count + count, n))
        return p_value < alpha
    if expected_share <= 0:
        return count > 0
    from scipy.stats import binom

    return float(binom.sf(count - 1, n, min(expected_share, 1.0))) < alpha


def beyond_range_p_value(count: int, n: int, reference_n: int) -> float:
    """How likely ``count`` or more of ``n`` new values fall outside the range of
    ``reference_n`` reference values when all come from one distribution.

    The range is set by the reference's own extremes, so the new values outside it are not
    independent (one low reference minimum keeps them all in): of the ``N = n + reference_n``
    exchangeable values, ``a`` new ones below the reference minimum and ``b`` above its
    maximum means the ``a`` lowest and ``b`` highest are all new, with probability
    ``C(n, a + b) / C(N, a + b)``; summing over the ``k + 1`` splits of ``a + b = k`` bounds
    ``P(count >= k) <= (k + 1) · C(n, k) / C(N, k)`` (exact for continuous values;
    conservative with ties, where values equal to an extreme are inside).
    """
    if count <= 0:
        return 1.0
    if count > n:
        return 0.0
    from scipy.special import gammaln

    total = n + reference_n
    log_ratio = (
        gammaln(n + 1) - gammaln(n - count + 1) - gammaln(total + 1) + gammaln(total - count + 1)
    )
    return float(min(1.0, (count + 1) * math.exp(log_ratio)))


def _percent(share: float) -> str:
    if share >= 0.1:
        return f"{share:.0%}"
    if share >= 0.001:
        return f"{share:.1%}"
    return f"{share:.2%}"


# --------------------------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------------------------

_DELIMITERS = (";", "\t", "|", ",", ":")


@register_check("schema.delimiter", label="read with the wrong delimiter", scope="table",
                per_window=False)  # fmt: skip
def wrong_delimiter(ctx: TableContext) -> Iterable[Problem]:
    if len(ctx.current.columns) != 1 or len(ctx.reference_columns) < 2:
        return
    (name,) = ctx.current.columns
    name = str(name)
    for delimiter in _DELIMITERS:
        parts = [p.strip().strip('"') for p in name.split(delimiter)]
        if len(parts) > 1 and len(set(parts) & set(ctx.reference_columns)) >= 2:
            shown = repr(delimiter).strip("'")
            yield Problem(
                count=len(ctx.current),
                rate=1.0,
                severity=Severity.CRITICAL,
                message=f"current has 1 column `{name[:80]}`: is it delimited by '{shown}'? "
                f"Read it with that delimiter (e.g. sep='{shown}').",
            )
            return


@register_check("schema.no_common", label="no column in common", scope="table", per_window=False)
def no_common_columns(ctx: TableContext) -> Iterable[Problem]:
    common = set(map(str, ctx.current.columns)) & set(ctx.reference_columns)
    if not common and len(ctx.current.columns) != 1:
        shown = ", ".join(f"`{c}`" for c in list(ctx.current.columns)[:6])
        yield Problem(
            count=len(ctx.current),
            rate=1.0,
            severity=Severity.CRITICAL,
            message=f"no column of current is in the reference (current has {shown}): "
            "were the columns renamed, or is this another table?",
        )


@register_check("schema.missing_column", label="missing column", scope="table", per_window=False)
def missing_columns(ctx: TableContext) -> Iterable[Problem]:
    present = set(map(str, ctx.current.columns))
    if not present & set(ctx.reference_columns):
        return  # said once by schema.no_common / schema.delimiter
    for column in ctx.reference_columns:
        if column in present:
            continue
        if column == ctx.target:
            yield Problem(
                0,
                f"no labels in current yet (`{column}` is absent): checks that need labels "
                "are skipped",
                rate=0.0,
                severity=Severity.OK,
                column=column,
            )
            continue
        yield Problem(
            count=len(ctx.current),
            rate=1.0,
            severity=Severity.CRITICAL,
            message=f"`{column}` is in the reference but not in current",
            column=column,
        )


@register_check("schema.unexpected", label="unexpected column", scope="table", per_window=False)
def unexpected_columns(ctx: TableContext) -> Iterable[Problem]:
    if not set(map(str, ctx.current.columns)) & set(ctx.reference_columns):
        return
    for column in map(str, ctx.current.columns):
        if column not in ctx.reference_columns:
            yield Problem(
                count=0,
                rate=0.0,
                severity=Severity.WARNING,
                message=f"`{column}` is in current but the reference never had it",
                column=column,
            )


@register_check("schema.unparseable", label="text in a numeric column", kinds=("numeric",))
def unparseable_numbers(ctx: ColumnContext) -> Iterable[Problem]:
    bad = ctx.unparseable
    count = int(bad.sum())
    if count == 0:
        return
    texts = ctx.values[bad].astype("string")
    formats = shapes_of(texts).value_counts()
    seen = ", ".join(f"`{shape}`" for shape in examples(formats.index[:4]))
    yield Problem(
        count,
        f"{_percent(count / max(ctx.rows, 1))} of values are text that is not a number "
        f"(formats seen: {seen})",
        examples(texts),
    )


# --------------------------------------------------------------------------------------------
# Completeness
# --------------------------------------------------------------------------------------------


@register_check("completeness.missing", label="missing values rose")
def missing_rate_rose(ctx: ColumnContext) -> Iterable[Problem]:
    expected = ctx.expected
    missing = int(ctx.values.isna().sum())
    rows = len(ctx.values)
    if rows == 0 or missing == rows:
        return  # all missing: completeness.all_missing says it
    reference_rate, current_rate = expected.missing_rate, missing / rows
    rise = current_rate - reference_rate
    alpha = MISSING_RATE_ALPHA / max(ctx.comparisons, 1)
    if rise <= 0 or not _significant_rise(expected.missing, expected.rows, missing, rows, alpha):
        return
    relative = f", {current_rate / reference_rate:.1f}x" if reference_rate > 0 else ""
    yield Problem(
        count=int(round(rise * rows)),
        rate=rise,
        message=f"missing values rose from {_percent(reference_rate)} to "
        f"{_percent(current_rate)} of rows (+{rise * 100:.1f} points{relative})",
    )


def _significant_rise(
    ref_missing: int, ref_rows: int, cur_missing: int, cur_rows: int, alpha: float
) -> bool:
    """One-sided two-proportion z-test of a rise in the missing rate at ``alpha``."""
    if ref_rows == 0 or cur_rows == 0:
        return False
    pooled = (ref_missing + cur_missing) / (ref_rows + cur_rows)
    if pooled in (0.0, 1.0):
        return False
    se = math.sqrt(pooled * (1 - pooled) * (1 / ref_rows + 1 / cur_rows))
    z = (cur_missing / cur_rows - ref_missing / ref_rows) / se
    return 0.5 * math.erfc(z / math.sqrt(2)) < alpha


@register_check("completeness.all_missing", label="all values missing")
def all_missing(ctx: ColumnContext) -> Iterable[Problem]:
    rows = len(ctx.values)
    if rows and int(ctx.values.isna().sum()) == rows and ctx.expected.missing < ctx.expected.rows:
        yield Problem(
            rows,
            f"every value is missing in current ({_percent(ctx.expected.missing_rate)} in the "
            "reference)",
            severity=Severity.CRITICAL,
        )


# --------------------------------------------------------------------------------------------
# Validity
# --------------------------------------------------------------------------------------------


@register_check("validity.infinite", label="infinite values", kinds=("numeric",))
def infinite_values(ctx: ColumnContext) -> Iterable[Problem]:
    array = ctx.numbers
    bad = np.isinf(array)
    count = int(bad.sum())
    if count:
        yield Problem(count, f"{count:,} values are ±inf", examples(array[bad]))


@register_check("validity.out_of_range", label="outside the training range", kinds=("numeric",))
def out_of_range(ctx: ColumnContext) -> Iterable[Problem]:
    expected = ctx.expected
    if expected.minimum is None or expected.maximum is None:
        return
    array = ctx.numbers
    finite = np.isfinite(array)
    below = finite & (array < expected.minimum)
    above = finite & (array > expected.maximum)
    count = int(below.sum() + above.sum())
    # Under no change, each new value falls outside the range of n reference values with
    # probability 2 / (n + 1), but not independently: the exact bound of
    # beyond_range_p_value, not a binomial, says whether the count is chance.
    reference_n = max(expected.values - expected.invalid, 1)
    if beyond_range_p_value(count, int(finite.sum()), reference_n) >= ctx.alpha:
        return
    values = np.concatenate([array[above], array[below]])
    yield Problem(
        count,
        f"{count:,} values outside the training range [{expected.minimum:g}, "
        f"{expected.maximum:g}] ({int(below.sum()):,} below, {int(above.sum()):,} above)",
        examples(f"{v:g}" for v in values),
    )


@register_check(
    "validity.outliers", label="beyond the robust bounds, within the range", kinds=("numeric",)
)
def outliers(ctx: ColumnContext) -> Iterable[Problem]:
    expected = ctx.expected
    if expected.lower_fence is None or expected.upper_fence is None:
        return
    array = ctx.numbers
    finite = np.isfinite(array)
    # Values outside the training range are validity.out_of_range's; this check counts the
    # ones inside it but beyond the fences.
    inside = finite & (array >= expected.minimum) & (array <= expected.maximum)
    outside = inside & ((array < expected.lower_fence) | (array > expected.upper_fence))
    values = int(finite.sum())
    if values == 0:
        return
    share = outside.sum() / values
    # The reference's share is measured on its own values (Fisher's test allows its sampling
    # error); from a profile, the sketch's rank error widens it instead.
    allowed = min(expected.outside_fences + expected.outside_fences_error, 1.0)
    excess = share - allowed
    count = int(round(excess * values))
    reference_n = None if expected.outside_fences_error else expected.values - expected.invalid
    if not significant_excess(
        int(outside.sum()), values, allowed, reference_n=reference_n, alpha=ctx.alpha
    ):
        return
    yield Problem(
        count,
        f"{_percent(share)} of values outside the robust bounds [{expected.lower_fence:g}, "
        f"{expected.upper_fence:g}] ({_percent(allowed)} in the reference)",
        examples(f"{v:g}" for v in array[outside]),
        rate=excess * values / max(ctx.rows, 1),
    )


# --------------------------------------------------------------------------------------------
# Categories and shapes
# --------------------------------------------------------------------------------------------


def _good_turing(expected: ColumnExpectation) -> float:
    return expected.singletons / expected.values if expected.values else 0.0


@register_check("categories.unseen", label="unseen categories", kinds=("categorical",))
def unseen_categories(ctx: ColumnContext) -> Iterable[Problem]:
    expected = ctx.expected
    if expected.categories is None:
        return
    labels = ctx.labels
    if labels.empty:
        return
    unseen = ~labels.isin(expected.category_set)
    share = unseen.mean()
    allowed = _good_turing(expected)
    count = int(round((share - allowed) * len(labels)))
    if not significant_excess(int(unseen.sum()), len(labels), allowed, alpha=ctx.alpha):
        return
    new = labels[unseen].value_counts()
    yield Problem(
        count,
        f"{_percent(share)} of values are {len(new):,} categories the reference never had "
        f"(sampling alone would give about {_percent(allowed)})",
        examples(new.index),
        rate=count / max(ctx.rows, 1),
    )


def _normal_form(labels: pd.Series) -> pd.Series:
    return labels.str.strip().str.casefold()


@register_check("categories.variant", label="case or space variants", kinds=("categorical",))
def category_variants(ctx: ColumnContext) -> Iterable[Problem]:
    expected = ctx.expected
    if expected.categories is None:
        return
    known = pd.Series(sorted(expected.category_set), dtype="string")
    normal_known = set(_normal_form(known).dropna())
    labels = ctx.labels
    unseen = labels[~labels.isin(expected.category_set)]
    if unseen.empty:
        return
    variants = unseen[_normal_form(unseen).isin(normal_known)]
    if variants.empty:
        return
    yield Problem(
        len(variants),
        f"{len(variants):,} values differ from a known category only by case or spaces",
        examples(repr(v) for v in variants.value_counts().index),
    )


@register_check("categories.disappeared", label="categories disappeared", kinds=("categorical",))
def disappeared_categories(ctx: ColumnContext) -> Iterable[Problem]:
    expected = ctx.expected
    if expected.categories is None or not expected.values:
        return
    labels = ctx.labels
    present = set(labels.unique())
    gone = [
        (label, count / expected.values)
        for label, count in expected.categories
        if count / expected.values >= 0.01
        and count / expected.values * len(labels) >= 10
        and label not in present
    ]
    if not gone:
        return
    share = sum(s for _, s in gone)
    yield Problem(
        count=0,
        rate=share,
        severity=Severity.CRITICAL if share >= 0.05 else Severity.WARNING,
        message=f"{len(gone)} categories with {_percent(share)} of the reference rows are absent "
        "from current",
        examples=examples(label for label, _ in gone),
    )


@register_check("shape.changed", label="new value formats", kinds=("categorical", "text", "id"))
def shape_changed(ctx: ColumnContext) -> Iterable[Problem]:
    expected = ctx.expected
    if not expected.shapes:
        return
    labels = ctx.values.dropna().astype("string")
    if labels.empty:
        return
    counts = labels.value_counts()
    shapes = shapes_of(pd.Series(counts.index, index=counts.index, dtype="string"))
    known = {shape for shape, _ in expected.shapes}
    new = ~shapes.isin(known).to_numpy()
    share = counts[new].sum() / counts.sum()
    known_total = sum(count for _, count in expected.shapes)
    allowed = sum(1 for _, c in expected.shapes if c == 1) / known_total if known_total else 0.0
    count = int(round((share - allowed) * counts.sum()))
    if not significant_excess(int(counts[new].sum()), int(counts.sum()), allowed, alpha=ctx.alpha):
        return
    new_shapes = pd.Series(counts[new].to_numpy(), index=shapes[new].to_numpy())
    top = new_shapes.groupby(level=0).sum().sort_values(ascending=False)
    formats = ", ".join(f"`{shape}`" for shape in examples(top.index[:4]))
    yield Problem(
        count,
        f"{_percent(share)} of values have a format the reference never had ({formats})",
        examples(counts[new].index),
        rate=count / max(ctx.rows, 1),
    )


@register_check("constant", label="became constant", kinds=("numeric", "categorical", "boolean"))
def became_constant(ctx: ColumnContext) -> Iterable[Problem]:
    expected = ctx.expected
    if expected.kind == "numeric":
        # Finite numbers, as the reference's top share counts them (±inf and text that is
        # not a number are other checks' findings).
        finite = ctx.numbers[np.isfinite(ctx.numbers)]
        values = pd.Series(finite)
        if expected.minimum is None:  # the reference had no number: nothing to compare
            return
    else:
        values = ctx.values.dropna()
    if len(values) < 30 or expected.top_share > 0.9 or expected.values == 0:
        return
    if expected.kind == "numeric":
        # A value in 99% of the rows is the median: count it alone before counting them all.
        median = float(np.median(finite))
        if (finite == median).mean() < 0.99:
            return
    counts = (values if expected.kind == "numeric" else values.astype(str)).value_counts()
    top_share = counts.iloc[0] / len(values)
    # No value had more than top_share of the reference: is one value's share in current
    # above it by more than chance (a binary column at 90/10 is constant in 30 rows 4% of
    # the time)?
    if top_share < 0.99 or not significant_excess(
        int(counts.iloc[0]), len(values), expected.top_share, alpha=ctx.alpha
    ):
        return
    what = "constant" if len(counts) == 1 else f"near-constant ({_percent(top_share)} one value)"
    yield Problem(
        len(values),
        f"the column is {what} in current (`{examples(counts.index[:1])[0]}`); its most "
        "common value had "
        f"{_percent(expected.top_share)} of the reference",
        examples(counts.index[:1]),
        severity=Severity.WARNING,
    )


# --------------------------------------------------------------------------------------------
# Duplicates and time
# --------------------------------------------------------------------------------------------


def expected_repeats(group_sizes: np.ndarray, k: int) -> float:
    """Expected number of rows that repeat an earlier one among ``k`` rows drawn at random
    (without replacement) from a table whose equal rows come in groups of ``group_sizes``.

    ``k − Σ_g P(group g drawn at least once)``, with ``P(not drawn) = C(N − c_g, k) / C(N, k)``
    for a group of ``c_g`` of the ``N`` rows.
    """
    from scipy.special import gammaln

    sizes = np.asarray(group_sizes, dtype=float)
    total = float(sizes.sum())
    k = min(int(k), int(total))
    if k <= 0:
        return 0.0
    rest = total - sizes
    possible = rest >= k
    log_none = np.full(sizes.shape, -np.inf)
    log_none[possible] = (
        gammaln(rest[possible] + 1)
        - gammaln(rest[possible] - k + 1)
        - gammaln(total + 1)
        + gammaln(total - k + 1)
    )
    return float(k - np.sum(1.0 - np.exp(log_none)))


def _excess_repeats(
    current: pd.Series | pd.DataFrame, reference_groups: np.ndarray | None, alpha: float
) -> tuple[int, int, float] | None:
    """``(repeats, excess, reference share)`` when current repeats itself significantly more
    than the reference does at the same size, else None.

    Repeats grow with the number of rows (the birthday problem), so the two are compared at
    the size of the smaller: the reference's expected repeats among as many rows as current
    has (:func:`expected_repeats`), or, when current is the larger, current's expected
    repeats among as many rows as the reference has. A reference without repeats allows none.
    """
    rows = len(current)
    if isinstance(current, pd.DataFrame):
        # Rows hashed first (64-bit): only rows whose hashes repeat can be repeats.
        hashes = pd.util.hash_pandas_object(current, index=False)
        candidates = hashes.duplicated(keep=False).to_numpy()
        if not candidates.any():
            return None
        repeats = int(current[candidates].duplicated().sum())
    else:
        repeats = int(current.duplicated().sum())
    if repeats == 0:
        return None
    if reference_groups is None or not len(reference_groups) or np.max(reference_groups) == 1:
        return repeats, repeats, 0.0  # unknown, or a reference that never repeats itself
    reference_n = int(np.sum(reference_groups))
    size = min(rows, reference_n)
    reference_share = expected_repeats(reference_groups, size) / size
    if rows <= reference_n:
        current_share = repeats / rows
    else:
        current_groups = _group_sizes(current)
        current_share = expected_repeats(current_groups, size) / size
    observed = int(round(current_share * size))
    if not significant_excess(observed, size, reference_share, alpha=alpha):
        return None
    excess = int(round((current_share - reference_share) * rows))
    return repeats, excess, reference_share


def _group_sizes(values: pd.Series | pd.DataFrame) -> np.ndarray:
    """The sizes of the groups of equal rows (or values)."""
    if isinstance(values, pd.DataFrame):
        values = pd.util.hash_pandas_object(values, index=False)
    return values.value_counts(dropna=False).to_numpy()


@register_check("duplicates.rows", label="duplicate rows", scope="table")
def duplicate_rows(ctx: TableContext) -> Iterable[Problem]:
    if ctx.current.empty or ctx.current.shape[1] < 2:
        return
    found = _excess_repeats(ctx.current, ctx.reference_row_groups, ctx.alpha)
    if found is None:
        return
    count, excess, reference_share = found
    beyond = f" ({_percent(reference_share)} in the reference)" if reference_share else ""
    yield Problem(excess, f"{count:,} rows repeat an earlier row in every column{beyond}")


@register_check("duplicates.id", label="duplicate ids", scope="table")
def duplicate_ids(ctx: TableContext) -> Iterable[Problem]:
    if ctx.id is None or ctx.id not in ctx.current.columns:
        return
    ids = ctx.current[ctx.id].dropna()
    found = _excess_repeats(ids, ctx.reference_id_groups, ctx.alpha)
    if found is None:
        return
    count, excess, reference_share = found
    beyond = f" ({_percent(reference_share)} in the reference)" if reference_share else ""
    repeated = ids[ids.duplicated(keep=False)]
    yield Problem(
        excess,
        f"{count:,} rows repeat an id of an earlier row{beyond}",
        examples(repeated.astype(str).value_counts().index),
        column=ctx.id,
    )


def _utc(values: pd.Series) -> pd.Series:
    from monitorkit.windows import utc_times

    return utc_times(values)


@register_check("time.future", label="timestamps in the future", scope="table")
def future_timestamps(ctx: TableContext) -> Iterable[Problem]:
    if ctx.timestamp is None or ctx.timestamp not in ctx.current.columns:
        return
    times = _utc(ctx.current[ctx.timestamp])
    now = ctx.now.tz_convert("UTC").tz_localize(None) if ctx.now.tzinfo else ctx.now
    future = times > now + FUTURE_TOLERANCE
    count = int(future.sum())
    if count:
        yield Problem(
            count,
            f"{count:,} timestamps are later than the time of the check",
            examples(times[future].astype(str)),
            column=ctx.timestamp,
        )


GAP_FLOOR = pd.Timedelta(hours=1)  # a pause shorter than this is never a gap


def longest_gap(times: pd.Series) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The start and end of the longest pause between consecutive timestamps (sorted)."""
    ordered = np.sort(times.dropna().to_numpy().astype("datetime64[ns]"))
    if ordered.size < 2:
        return None
    steps = np.diff(ordered)
    at = int(np.argmax(steps))
    return pd.Timestamp(ordered[at]), pd.Timestamp(ordered[at + 1])


@register_check("time.gap", label="a gap in the timestamps", scope="table", per_window=False)
def time_gap(ctx: TableContext) -> Iterable[Problem]:
    """A pause in current longer than the reference ever paused, at current's pace.

    With reference rows: the longest pause of current beyond twice the reference's longest
    pause, scaled by the ratio of the two paces (rows per day). From a baseline's profile
    (no rows, only its pace): beyond 50 mean intervals between rows — for rows arriving at
    random, a pause that long has probability e^-50 — and at least a day. Never shorter than
    an hour.
    """
    if ctx.timestamp is None or ctx.timestamp not in ctx.current.columns:
        return
    times = _utc(ctx.current[ctx.timestamp]).dropna()
    now = ctx.now.tz_convert("UTC").tz_localize(None) if ctx.now.tzinfo else ctx.now
    times = times[times <= now + FUTURE_TOLERANCE]  # time.future's findings, not a pause
    found = longest_gap(times)
    if found is None or ctx.reference_rows_per_day is None:
        return
    start, end = found
    span_days = (times.max() - times.min()).total_seconds() / 86_400
    if span_days <= 0:
        return
    pace = (len(times) / span_days) / ctx.reference_rows_per_day  # current's rows per day,
    if ctx.reference_longest_gap is not None:  # relative to the reference's
        allowed = pd.Timedelta(seconds=2 * ctx.reference_longest_gap / max(pace, 1e-9))
        said = f"the reference's longest pause was {_duration(ctx.reference_longest_gap)}"
    else:
        mean_interval = 86_400 / (len(times) / span_days)
        allowed = max(pd.Timedelta(seconds=50 * mean_interval), pd.Timedelta(days=1))
        said = f"rows arrive every {_duration(mean_interval)} on average"
    allowed = max(allowed, GAP_FLOOR)
    if end - start <= allowed:
        return
    yield Problem(
        count=0,
        rate=float("nan"),
        severity=Severity.WARNING,
        message=f"no rows for {_duration((end - start).total_seconds())}, from "
        f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC ({said})",
        column=ctx.timestamp,
    )


def _duration(seconds: float) -> str:
    if seconds >= 2 * 86_400:
        return f"{seconds / 86_400:.1f} days"
    if seconds >= 2 * 3_600:
        return f"{seconds / 3_600:.1f} hours"
    if seconds >= 120:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds:.0f} seconds"


@register_check("time.out_of_order", label="timestamps out of order", scope="table")
def out_of_order(ctx: TableContext) -> Iterable[Problem]:
    if not ctx.reference_in_order or ctx.timestamp not in ctx.current.columns:
        return
    times = _utc(ctx.current[ctx.timestamp]).dropna()
    steps = np.diff(times.to_numpy().astype("datetime64[ns]").astype(np.int64))
    count = int((steps < 0).sum())
    if count:
        yield Problem(
            count,
            f"{count:,} rows are earlier than the row before them (the reference was in order)",
            column=ctx.timestamp,
        )
