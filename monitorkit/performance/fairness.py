"""Fairness of a binary classifier: are its decisions and errors shared alike between groups?

For each sensitive attribute (a column, e.g. ``gender``), each of its groups (a value of the
column) and each window, :func:`compute_fairness` counts the group's usable rows (a label and
a usable prediction: the same rows as the performance metrics, so that the four rates of a
group describe the same people) and gives (:class:`GroupRates`):

* ``selection_rate``: predicted positives / rows, P(ŷ = 1 | group);
* ``true_positive_rate``: true positives / positives, P(ŷ = 1 | y = 1, group);
* ``false_positive_rate``: false positives / negatives, P(ŷ = 1 | y = 0, group);
* ``accuracy``: (true positives + true negatives) / rows.

Across the groups taking part (see minimum sizes) it gives four gaps (:class:`FairnessGap`),
fairlearn's definitions with ``method="between_groups"`` (and ``agg="worst_case"``):

* ``demographic_parity_difference``: max − min selection rate
  (:func:`fairlearn.metrics.demographic_parity_difference`);
* ``demographic_parity_ratio``: min / max selection rate
  (:func:`fairlearn.metrics.demographic_parity_ratio`; NaN when no group has a predicted
  positive, as there);
* ``equal_opportunity_difference``: max − min true-positive rate
  (:func:`fairlearn.metrics.equal_opportunity_difference`);
* ``equalized_odds_difference``: the larger of the true-positive-rate difference and the
  false-positive-rate difference (:func:`fairlearn.metrics.equalized_odds_difference`).

A difference of 0 and a ratio of 1 mean no gap. Which side is harmed depends on whether the
positive class is the favourable one (a loan approved, or a transaction blocked), so a gap
names its ``lowest_group`` and ``highest_group`` (of the rate that sets its value) rather
than a "worst" one.

Minimum sizes (:class:`FairnessRule`): a group takes part in the gaps of a window only with
``min_group_rows`` (50) usable rows; in the true-positive-rate gaps only with
``min_class_rows`` (30, as :data:`~monitorkit.performance.metrics.MIN_CLASS_ROWS`) positives,
in the false-positive-rate ones only with as many negatives (equalized odds needs both). A
group too small is still listed, with ``skipped="too few rows (n < 50)"``; a gap with fewer
than two groups taking part is NaN and skipped with the reason.

NaN policy: rows without a label or a usable prediction are left out (as for the metrics).
Rows whose sensitive value is missing form the group ``"(missing)"``, which is listed (so one
sees whether people with no recorded value are treated differently) but never takes part in
a gap: it is an unknown mix of groups, and fairlearn refuses missing sensitive values. Beyond
the :data:`MAX_GROUPS` (50) most frequent values of a column, the rarer ones are listed
together as ``"(other)"``, also never compared (a continuous column declared sensitive would
otherwise give a group per value; bin it first). A rate without rows to count (no positive
for the true-positive rate) is NaN, never 0 — where fairlearn's ``true_positive_rate`` gives 0
for a group with no positive, such a group here takes no part in the gap.

Judging (:class:`FairnessRule`): a difference above 0.10 warns and above 0.20 is critical; a
ratio below 0.9 warns and below 0.8 is critical (the four-fifths rule of US employment
practice). A gap alarms only when it is also statistically real: its confidence interval
must exclude "no gap". The interval is that of the gap between the two extreme groups:

* differences: Newcombe's hybrid Wilson score interval for a difference of two proportions
  (Newcombe 1998, method 10) of ``d = p₁ − p₂``: from ``d − sqrt((p₁ − l₁)² + (u₂ − p₂)²)``
  to ``d + sqrt((u₁ − p₁)² + (p₂ − l₂)²)``, ``[lᵢ, uᵢ]`` the Wilson intervals of the rates;
* the ratio: Katz's log interval ``exp(log r ± z · sqrt(1/x₁ − 1/n₁ + 1/x₂ − 1/n₂))`` (x
  selected rows of n), with 0.5 added to every cell of the 2 × 2 table when a count is 0;
* equalized odds: ``[max(L_tpr, L_fpr), max(U_tpr, U_fpr)]`` from the intervals of the
  true-positive-rate and false-positive-rate differences (it holds the larger of the two
  gaps whenever both intervals hold theirs).

The level is shared (Bonferroni) between the four tests of a (window, attribute) — the
selection-rate difference and ratio, the true-positive-rate difference and the
false-positive-rate difference, which equalized odds reuses — and between the ``k(k − 1)/2``
pairs of the ``k`` compared groups (the extreme pair is picked after looking at the data):
each interval is at level ``1 − (1 − confidence) / (4 · k(k − 1)/2)``. So, with groups that do
not differ, an attribute alarms in a window in at most ``1 − confidence`` of cases, whatever
its number of groups. ``confidence`` is the level of one (window, attribute) cell; a report
judging many cells passes the level it has already shared between them.

Only binary tasks have these rates: for a multiclass or regression task (or no labels) the
functions return nothing.

>>> import numpy as np, pandas as pd
>>> from monitorkit.performance.labels import prepare_labels
>>> frame = pd.DataFrame({"group": ["a"] * 200 + ["b"] * 200,
...                       "label": np.tile([0, 1], 200),
...                       "decision": [1] * 120 + [0] * 80 + [1] * 60 + [0] * 140})
>>> prepared = prepare_labels(frame, "label", None, "decision")
>>> figures = fairness_figures(prepared, frame, ["group"])
>>> figures["demographic_parity_difference|group"], figures["demographic_parity_ratio|group"]
(0.3, 0.5)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from monitorkit.errors import ColumnNotFoundError, InputError
from monitorkit.performance.labels import PreparedLabels
from monitorkit.performance.metrics import CONFIDENCE, MIN_CLASS_ROWS, _z, wilson
from monitorkit.schema import category_labels
from monitorkit.severity import Severity

MAX_GROUPS = 50
"""Per sensitive column, the most frequent values that are groups (the rest: ``"(other)"``)."""

MIN_GROUP_ROWS = 50
"""Usable rows a group needs in a window before it takes part in that window's gaps."""

MISSING_GROUP = "(missing)"
OTHER_GROUP = "(other)"


@dataclass(frozen=True)
class FairnessMeasure:
    """What a gap measures: the rate it compares, ``difference`` (max − min, no gap = 0,
    larger is worse) or ``ratio`` (min / max, no gap = 1, smaller is worse)."""

    name: str
    label: str
    kind: str
    rates: tuple[str, ...]

    @property
    def no_gap(self) -> float:
        return 0.0 if self.kind == "difference" else 1.0

    @property
    def larger_is_worse(self) -> bool:
        return self.kind == "difference"


MEASURES: dict[str, FairnessMeasure] = {
    m.name: m
    for m in (
        FairnessMeasure(
            "demographic_parity_difference",
            "demographic parity difference",
            "difference",
            ("selection_rate",),
        ),
        FairnessMeasure(
            "demographic_parity_ratio",
            "demographic parity ratio (four-fifths rule)",
            "ratio",
            ("selection_rate",),
        ),
        FairnessMeasure(
            "equal_opportunity_difference",
            "equal opportunity difference",
            "difference",
            ("true_positive_rate",),
        ),
        FairnessMeasure(
            "equalized_odds_difference",
            "equalized odds difference",
            "difference",
            ("true_positive_rate", "false_positive_rate"),
        ),
    )
}


@dataclass(frozen=True)
class GroupRates:
    """One group of one sensitive attribute in one window: its usable rows ``n``, their
    ``positives`` / ``negatives`` (true class), and four rates (NaN where there is nothing to
    count). ``skipped`` says why the group takes part in no gap (too few rows, the missing
    values' or rare values' group), else None."""

    window: str
    attribute: str
    group: str
    n: int
    positives: int
    negatives: int
    selection_rate: float
    true_positive_rate: float
    false_positive_rate: float
    accuracy: float
    skipped: str | None = None


@dataclass(frozen=True)
class FairnessGap:
    """One gap measure of one sensitive attribute in one window.

    ``value`` is the measure across the ``groups`` groups taking part; ``baseline`` the
    baseline's value (NaN without one: shown only, severity does not depend on it);
    ``lower`` / ``upper`` the confidence interval of the gap between ``lowest_group`` and
    ``highest_group`` (the groups with the lowest and highest ``rate``, the rate that sets the
    value). ``skipped`` says why it was not judged (fewer than two groups, undefined).
    """

    window: str
    attribute: str
    measure: str
    value: float
    baseline: float
    lower: float
    upper: float
    severity: Severity
    rate: str
    lowest_group: str | None = None
    highest_group: str | None = None
    groups: int = 0
    skipped: str | None = None


def _number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


@dataclass(frozen=True)
class FairnessRule:
    """When a gap warns or is critical, and how big a group must be to be compared.

    A difference measure above ``difference_warning`` (0.10) warns, above
    ``difference_critical`` (0.20) is critical; the demographic parity ratio below
    ``ratio_warning`` (0.9) warns, below ``ratio_critical`` (0.8, the four-fifths rule) is
    critical — each only when the gap's confidence interval excludes no gap (0, or 1 for the
    ratio). A group takes part in a window's gaps with ``min_group_rows`` (50) usable rows, in
    true-positive-rate gaps with ``min_class_rows`` (30) positives, in false-positive-rate
    gaps with as many negatives.
    """

    difference_warning: float = 0.10
    difference_critical: float = 0.20
    ratio_warning: float = 0.90
    ratio_critical: float = 0.80
    min_group_rows: int = MIN_GROUP_ROWS
    min_class_rows: int = MIN_CLASS_ROWS

    def __post_init__(self) -> None:
        for name in (
            "difference_warning",
            "difference_critical",
            "ratio_warning",
            "ratio_critical",
        ):
            value = getattr(self, name)
            if not _number(value) or not 0 <= value <= 1:
                raise InputError(
                    f"fairness rule: {name} must be a number in [0, 1] (a gap of selection "
                    f"rates, e.g. 0.10); got {value!r}."
                )
        if self.difference_critical < self.difference_warning:
            raise InputError(
                f"fairness rule: difference_critical ({self.difference_critical}) must not be "
                f"below difference_warning ({self.difference_warning}); a larger difference "
                "is worse."
            )
        if self.ratio_critical > self.ratio_warning:
            raise InputError(
                f"fairness rule: ratio_critical ({self.ratio_critical}) must not be above "
                f"ratio_warning ({self.ratio_warning}); a smaller ratio is worse (0.8 is the "
                "four-fifths rule)."
            )
        for name in ("min_group_rows", "min_class_rows"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise InputError(
                    f"fairness rule: {name} must be a whole number of rows >= 1; got {value!r}."
                )

    @classmethod
    def of(cls, rule: FairnessRule | Mapping[str, Any] | None) -> FairnessRule:
        """``rule`` as a :class:`FairnessRule` (None: the defaults; a mapping of its fields)."""
        if rule is None:
            return cls()
        if isinstance(rule, cls):
            return rule
        if isinstance(rule, Mapping):
            fields = [f.name for f in dataclasses.fields(cls)]
            unknown = [k for k in rule if k not in fields]
            if unknown:
                raise InputError(
                    f"fairness rule: unknown field(s) {', '.join(map(repr, unknown))}; "
                    f"fields: {', '.join(fields)}."
                )
            return cls(**rule)
        raise InputError(
            "fairness rule must be a FairnessRule or a mapping of its fields (e.g. "
            f"{{'difference_warning': 0.05}}); got {type(rule).__name__}."
        )

    def judge(self, measure: str, value: float, lower: float, upper: float) -> Severity:
        """The severity of ``value`` of ``measure`` with interval ``[lower, upper]``: ok unless
        past a threshold and the interval excludes no gap."""
        if not math.isfinite(value):
            return Severity.OK
        if MEASURES[measure].kind == "ratio":
            if not (math.isfinite(upper) and upper < 1.0):
                return Severity.OK
            if value < self.ratio_critical:
                return Severity.CRITICAL
            return Severity.WARNING if value < self.ratio_warning else Severity.OK
        if not (math.isfinite(lower) and lower > 0.0):
            return Severity.OK
        if value > self.difference_critical:
            return Severity.CRITICAL
        return Severity.WARNING if value > self.difference_warning else Severity.OK


# ---- intervals ----------------------------------------------------------------------------


def newcombe_interval(
    successes_1: int,
    trials_1: int,
    successes_2: int,
    trials_2: int,
    confidence: float = CONFIDENCE,
) -> tuple[float, float]:
    """Newcombe's hybrid Wilson score interval of ``p₁ − p₂`` (``pᵢ = successesᵢ /
    trialsᵢ``; NaN without trials on either side)."""
    if trials_1 <= 0 or trials_2 <= 0:
        return math.nan, math.nan
    p1, p2 = successes_1 / trials_1, successes_2 / trials_2
    l1, u1 = wilson(successes_1, trials_1, confidence)
    l2, u2 = wilson(successes_2, trials_2, confidence)
    difference = p1 - p2
    lower = difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return max(-1.0, lower), min(1.0, upper)


def katz_interval(
    successes_1: int,
    trials_1: int,
    successes_2: int,
    trials_2: int,
    confidence: float = CONFIDENCE,
) -> tuple[float, float]:
    """Katz's log interval of the ratio ``p₁ / p₂`` (0.5 added to each cell of the 2 × 2
    table when a count of successes is 0; NaN without trials or without any success)."""
    if trials_1 <= 0 or trials_2 <= 0 or successes_1 + successes_2 == 0:
        return math.nan, math.nan
    ratio = math.inf if successes_2 == 0 else (successes_1 / trials_1) / (successes_2 / trials_2)
    x1, n1, x2, n2 = float(successes_1), float(trials_1), float(successes_2), float(trials_2)
    if successes_1 == 0 or successes_2 == 0:
        x1, n1, x2, n2 = x1 + 0.5, n1 + 1.0, x2 + 0.5, n2 + 1.0
    centre = math.log((x1 / n1) / (x2 / n2))
    half = _z(confidence) * math.sqrt(max(0.0, 1 / x1 - 1 / n1 + 1 / x2 - 1 / n2))
    lower, upper = math.exp(centre - half), math.exp(centre + half)
    # The interval always holds the estimate (the correction can move its centre).
    return min(lower, ratio), max(upper, ratio)


# ---- counting -----------------------------------------------------------------------------


def choose_groups(
    sizes: pd.Series, any_missing: bool
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str | None, ...]]:
    """The groups of one sensitive column from its rows per value (``sizes``: index the
    values as text, in the order first seen; the missing values not among them).

    Returns ``(kept, names, reasons)``: the :data:`MAX_GROUPS` most frequent values in label
    order (a tie at the last place goes to the value seen first), then ``"(other)"`` when
    there are more values and ``"(missing)"`` when ``any_missing``; ``reasons`` says why a
    group is never compared (None for the kept values).
    """
    order = np.argsort(-sizes.to_numpy(dtype=np.int64), kind="stable")[:MAX_GROUPS]
    kept = tuple(sorted(str(sizes.index[i]) for i in order))
    names: list[str] = list(kept)
    reasons: list[str | None] = [None] * len(kept)
    if len(sizes) > len(kept):
        names.append(OTHER_GROUP)
        reasons.append(
            f"{len(sizes) - len(kept)} rarer values together (only the {MAX_GROUPS} most "
            "frequent are groups): shown, not compared"
        )
    if any_missing:
        names.append(MISSING_GROUP)
        reasons.append("missing value: shown, not compared")
    return kept, tuple(names), tuple(reasons)


def group_index(values: pd.Series, kept: Sequence[str], names: Sequence[str]) -> np.ndarray:
    """The index in ``names`` of each row's group (:func:`choose_groups`): its value's when
    kept, else ``"(other)"``'s; ``"(missing)"``'s for a missing value."""
    labels = category_labels(values)
    found = pd.Index(list(kept), dtype=object).get_indexer(
        labels.to_numpy(dtype=object, na_value=None)
    )
    missing = labels.isna().to_numpy()
    if OTHER_GROUP in names:
        found[(found < 0) & ~missing] = names.index(OTHER_GROUP)
    if MISSING_GROUP in names:
        found[missing] = names.index(MISSING_GROUP)
    return found


def _groups(values: pd.Series) -> tuple[np.ndarray, tuple[str, ...], tuple[str | None, ...]]:
    """(group index per row, group labels, why each group is never compared)."""
    labels = category_labels(values)
    codes, uniques = pd.factorize(labels, use_na_sentinel=True)
    sizes = pd.Series(
        np.bincount(codes[codes >= 0], minlength=len(uniques)), index=[str(u) for u in uniques]
    )
    kept, names, reasons = choose_groups(sizes, bool((codes < 0).any()))
    return group_index(labels, kept, names), names, reasons


def _rates(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Per group (rows of ``counts``: tn, fp, fn, tp) its rows, positives and four rates."""
    tn, fp, fn, tp = (counts[..., i].astype(float) for i in range(4))
    rows = tn + fp + fn + tp
    positives, negatives = tp + fn, tn + fp
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "n": rows,
            "positives": positives,
            "negatives": negatives,
            "selected": tp + fp,
            "tp": tp,
            "fp": fp,
            "selection_rate": np.where(rows > 0, (tp + fp) / rows, np.nan),
            "true_positive_rate": np.where(positives > 0, tp / positives, np.nan),
            "false_positive_rate": np.where(negatives > 0, fp / negatives, np.nan),
            "accuracy": np.where(rows > 0, (tp + tn) / rows, np.nan),
        }


# Per rate: (its numerator, its denominator) among _rates' entries.
_RATE_COUNTS = {
    "selection_rate": ("selected", "n"),
    "true_positive_rate": ("tp", "positives"),
    "false_positive_rate": ("fp", "negatives"),
}


_TESTS = 4
"""Tests sharing the level of a (window, attribute): selection-rate difference and ratio,
true-positive-rate difference, false-positive-rate difference (equalized odds reuses the
last two)."""


def _pair_level(confidence: float, compared: int) -> float:
    """The level of each pair's interval: ``1 − (1 − confidence) / (4 · k(k − 1)/2)`` for
    ``k`` compared groups (Bonferroni over the tests and the pairs)."""
    pairs = max(1, compared * (compared - 1) // 2)
    return 1 - (1 - confidence) / (_TESTS * pairs)


def _extremes(rates: np.ndarray, taking_part: np.ndarray) -> tuple[int, int]:
    """(lowest, highest) group index among ``taking_part`` (first in group order at a tie;
    two different groups)."""
    candidates = np.flatnonzero(taking_part)
    values = rates[candidates]
    low = int(candidates[int(np.argmin(values))])
    high = int(candidates[int(np.argmax(values))])
    if low == high:
        high = int(next(c for c in candidates if c != low))
    return low, high


def _gaps(
    window: str,
    attribute: str,
    names: tuple[str, ...],
    numbers: dict[str, np.ndarray],
    compared: np.ndarray,
    rule: FairnessRule,
    confidence: float,
    baseline: Mapping[str, Any],
) -> list[FairnessGap]:
    """The four gaps of one (window, attribute) from its groups' counts."""
    enough = {
        "selection_rate": compared,
        "true_positive_rate": compared & (numbers["positives"] >= rule.min_class_rows),
        "false_positive_rate": compared & (numbers["negatives"] >= rule.min_class_rows),
    }
    too_few = {
        "selection_rate": f"fewer than two groups with {rule.min_group_rows} rows",
        "true_positive_rate": (
            f"fewer than two groups with {rule.min_group_rows} rows and "
            f"{rule.min_class_rows} positives"
        ),
        "false_positive_rate": (
            f"fewer than two groups with {rule.min_group_rows} rows and "
            f"{rule.min_class_rows} negatives"
        ),
    }
    found = []
    for measure in MEASURES.values():
        key = f"{measure.name}|{attribute}"
        base = baseline.get(key, math.nan)
        base = float(base) if _number(base) else math.nan
        taking_part = np.logical_and.reduce([enough[r] for r in measure.rates])
        k = int(taking_part.sum())
        rate = measure.rates[0]
        if k < 2:
            reason = (
                too_few[rate]
                if len(measure.rates) == 1
                else (
                    f"fewer than two groups with {rule.min_group_rows} rows, "
                    f"{rule.min_class_rows} positives and {rule.min_class_rows} negatives"
                )
            )
            found.append(
                FairnessGap(
                    window,
                    attribute,
                    measure.name,
                    math.nan,
                    base,
                    math.nan,
                    math.nan,
                    Severity.OK,
                    rate,
                    groups=k,
                    skipped=reason,
                )
            )
            continue
        level = _pair_level(confidence, int(compared.sum()))
        parts = []
        for rate_name in measure.rates:
            top, bottom = _RATE_COUNTS[rate_name]
            low, high = _extremes(numbers[rate_name], taking_part)
            x_low, n_low = int(numbers[top][low]), int(numbers[bottom][low])
            x_high, n_high = int(numbers[top][high]), int(numbers[bottom][high])
            if measure.kind == "ratio":
                high_rate = numbers[rate_name][high]
                value = numbers[rate_name][low] / high_rate if high_rate > 0 else math.nan
                lower, upper = katz_interval(x_low, n_low, x_high, n_high, level)
            else:
                value = numbers[rate_name][high] - numbers[rate_name][low]
                lower, upper = newcombe_interval(x_high, n_high, x_low, n_low, level)
            parts.append((float(value), lower, upper, rate_name, low, high))
        value, lower, upper, rate, low, high = max(parts, key=lambda p: p[0])
        if len(parts) > 1:  # the interval of the larger of the two differences
            lower = max(p[1] for p in parts)
            upper = max(p[2] for p in parts)
        skipped = None
        if not math.isfinite(value):
            skipped = "undefined: no group taking part has a predicted positive"
            lower = upper = math.nan
        found.append(
            FairnessGap(
                window=window,
                attribute=attribute,
                measure=measure.name,
                value=value,
                baseline=base,
                lower=float(lower),
                upper=float(upper),
                severity=Severity.OK if skipped else rule.judge(measure.name, value, lower, upper),
                rate=rate,
                lowest_group=names[low],
                highest_group=names[high],
                groups=k,
                skipped=skipped,
            )
        )
    return found


def _sensitive_columns(frame: pd.DataFrame, sensitive: Sequence[str] | str, name: str) -> list:
    chosen = [sensitive] if isinstance(sensitive, str) else list(dict.fromkeys(sensitive))
    for column in chosen:
        if column not in frame.columns:
            shown = ", ".join(repr(str(c)) for c in list(frame.columns)[:10])
            more = ", …" if len(frame.columns) > 10 else ""
            raise ColumnNotFoundError(
                f"sensitive column '{column}' is not in {name} ({name} has: {shown}{more}); "
                "declare the sensitive attributes with ColumnSpec(sensitive=[…]) using columns "
                "of the data, or rename the column."
            )
    return chosen


def compute_fairness(
    prepared: PreparedLabels | None,
    frame: pd.DataFrame,
    sensitive: Sequence[str] | str,
    windows: Sequence[tuple[str, np.ndarray]],
    *,
    confidence: float = CONFIDENCE,
    rule: FairnessRule | Mapping[str, Any] | None = None,
    baseline: Mapping[str, float] | None = None,
    name: str = "current",
) -> tuple[tuple[GroupRates, ...], tuple[FairnessGap, ...]]:
    """Per sensitive attribute, group and window the group's rates, and the four gaps between
    groups, judged (see the module docstring for the exact definitions and the rule).

    Parameters
    ----------
    prepared
        The labels of ``frame`` (:func:`~monitorkit.performance.labels.prepare_labels`);
        anything but a binary task gives nothing.
    frame
        The rows ``prepared`` was made from (same length and order): where the sensitive
        columns are read.
    sensitive
        The sensitive attribute columns.
    windows
        ``(label, row positions)`` per window (further items of each tuple are ignored), the
        whole frame included when wanted (``("all", np.arange(len(frame)))``).
    confidence
        Level of each gap's interval in one window (a report judging many cells passes a
        level already shared between them).
    rule
        A :class:`FairnessRule` or a mapping of its fields; default thresholds 0.10 / 0.20
        (differences), 0.9 / 0.8 (ratio), groups of 50 rows, 30 positives / negatives.
    baseline
        ``{"<measure>|<attribute>": value}`` from the baseline (:func:`fairness_figures`),
        shown beside each gap (NaN where absent); severity does not depend on it.
    name
        What ``frame`` is called in error messages.

    Returns
    -------
    (group rates, gaps)
        :class:`GroupRates` per (attribute, window, group), groups in label order with
        ``"(other)"`` and ``"(missing)"`` last; :class:`FairnessGap` per (attribute, window,
        measure), measures in :data:`MEASURES` order.

    Raises
    ------
    ColumnNotFoundError
        A sensitive column is not in ``frame``.
    InputError
        ``frame`` and ``prepared`` differ in length, or a bad ``confidence`` / ``rule``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from monitorkit.performance.labels import prepare_labels
    >>> frame = pd.DataFrame({"sex": ["f", "m"] * 500, "label": [1, 1, 0, 0] * 250,
    ...                       "decision": [0, 1, 0, 1] * 250})
    >>> prepared = prepare_labels(frame, "label", None, "decision")
    >>> rates, gaps = compute_fairness(prepared, frame, ["sex"], [("all", np.arange(1000))])
    >>> [(g.group, g.selection_rate) for g in rates]
    [('f', 0.0), ('m', 1.0)]
    >>> gaps[1].measure, gaps[1].value, gaps[1].severity
    ('demographic_parity_ratio', 0.0, <Severity.CRITICAL: 'critical'>)
    """
    rule = FairnessRule.of(rule)
    if not _number(confidence) or not 0 < confidence < 1:
        raise InputError(f"confidence must be a level in (0, 1), e.g. 0.95; got {confidence!r}.")
    if baseline is None:
        baseline = {}
    if not isinstance(baseline, Mapping):
        raise InputError(
            "fairness baseline must be a mapping {'<measure>|<attribute>': value}; got "
            f"{type(baseline).__name__}."
        )
    columns = _sensitive_columns(frame, sensitive, name)
    if prepared is None or prepared.task != "binary" or not columns:
        return (), ()
    if len(frame) != len(prepared.usable):
        raise InputError(
            f"{name} has {len(frame):,} rows but its prepared labels have "
            f"{len(prepared.usable):,}; pass the frame the labels were prepared from."
        )
    # One code per row: group · 4 + y_true · 2 + y_pred (so bincount gives tn, fp, fn, tp per
    # group), -1 for rows without a usable label and prediction.
    outcome = prepared.y_true.astype(np.int64) * 2 + prepared.y_pred.astype(np.int64)
    window_rows = [(str(w[0]), np.asarray(w[1], dtype=np.intp)) for w in windows]
    counted = []
    for attribute in columns:
        group_of, names, reasons = _groups(frame[attribute])
        cell = np.where(prepared.usable, group_of * 4 + outcome, -1)
        g = len(names)
        counts = np.zeros((len(window_rows), g, 4), dtype=np.int64)
        for index, (_, rows) in enumerate(window_rows):
            codes = cell[rows]
            codes = codes[codes >= 0]
            counts[index] = np.bincount(codes, minlength=4 * g).reshape(g, 4)
        counted.append((attribute, names, reasons, counts))
    windows_labels = [window for window, _ in window_rows]
    return judge_attributes(
        counted, windows_labels, rule=rule, confidence=confidence, baseline=baseline
    )


def judge_attributes(
    counted: Sequence[tuple[str, Sequence[str], Sequence[str | None], np.ndarray]],
    windows: Sequence[str],
    *,
    rule: FairnessRule | Mapping[str, Any] | None = None,
    confidence: float = CONFIDENCE,
    baseline: Mapping[str, Any] | None = None,
) -> tuple[tuple[GroupRates, ...], tuple[FairnessGap, ...]]:
    """:func:`judge_counts` of each ``(attribute, names, reasons, counts)``, concatenated:
    what :func:`compute_fairness` returns, and the Dask path from its merged counts."""
    rates: list[GroupRates] = []
    gaps: list[FairnessGap] = []
    for attribute, names, reasons, counts in counted:
        found_rates, found_gaps = judge_counts(
            attribute,
            names,
            reasons,
            windows,
            counts,
            rule=rule,
            confidence=confidence,
            baseline=baseline,
        )
        rates.extend(found_rates)
        gaps.extend(found_gaps)
    return tuple(rates), tuple(gaps)


def judge_counts(
    attribute: str,
    names: Sequence[str],
    reasons: Sequence[str | None],
    windows: Sequence[str],
    counts: np.ndarray,
    *,
    rule: FairnessRule | Mapping[str, Any] | None = None,
    confidence: float = CONFIDENCE,
    baseline: Mapping[str, Any] | None = None,
) -> tuple[list[GroupRates], list[FairnessGap]]:
    """The group rates and gaps of one sensitive ``attribute`` from its counts: ``counts``
    of shape ``(len(windows), len(names), 4)`` holds each (window, group)'s usable rows as
    true negatives, false positives, false negatives, true positives. ``names`` and
    ``reasons`` are :func:`choose_groups`'. What :func:`compute_fairness` computes after
    counting — and what the Dask path computes from its merged counts."""
    rule = FairnessRule.of(rule)
    baseline = {} if baseline is None else baseline
    numbers = _rates(np.asarray(counts))
    never = np.array([r is not None for r in reasons], dtype=bool)
    names = tuple(names)
    rates: list[GroupRates] = []
    gaps: list[FairnessGap] = []
    for index, window in enumerate(windows):
        here = {key: values[index] for key, values in numbers.items()}
        compared = ~never & (here["n"] >= rule.min_group_rows)
        for group in range(len(names)):
            n = int(here["n"][group])
            skipped = reasons[group]
            if skipped is None and n < rule.min_group_rows:
                skipped = f"too few rows ({n} < {rule.min_group_rows})"
            rates.append(
                GroupRates(
                    window=window,
                    attribute=attribute,
                    group=names[group],
                    n=n,
                    positives=int(here["positives"][group]),
                    negatives=int(here["negatives"][group]),
                    selection_rate=float(here["selection_rate"][group]),
                    true_positive_rate=float(here["true_positive_rate"][group]),
                    false_positive_rate=float(here["false_positive_rate"][group]),
                    accuracy=float(here["accuracy"][group]),
                    skipped=skipped,
                )
            )
        gaps.extend(_gaps(window, attribute, names, here, compared, rule, confidence, baseline))
    return rates, gaps


def fairness_figures(
    prepared: PreparedLabels | None,
    frame: pd.DataFrame,
    sensitive: Sequence[str] | str,
    *,
    rule: FairnessRule | Mapping[str, Any] | None = None,
    name: str = "reference",
) -> dict[str, float]:
    """The four gaps on the whole of ``frame`` as ``{"<measure>|<attribute>": value}``: what
    a baseline stores and :func:`compute_fairness` takes as ``baseline=``. Gaps that are
    undefined or have fewer than two groups taking part (NaN) are left out.

    >>> import numpy as np, pandas as pd
    >>> from monitorkit.performance.labels import prepare_labels
    >>> frame = pd.DataFrame({"sex": ["f", "m"] * 500, "label": [1, 1, 0, 0] * 250,
    ...                       "decision": [1, 1, 0, 1] * 250})
    >>> prepared = prepare_labels(frame, "label", None, "decision")
    >>> fairness_figures(prepared, frame, "sex")["equalized_odds_difference|sex"]
    1.0
    """
    _, gaps = compute_fairness(
        prepared, frame, sensitive, [("all", np.arange(len(frame)))], rule=rule, name=name
    )
    return {f"{gap.measure}|{gap.attribute}": gap.value for gap in gaps if math.isfinite(gap.value)}
