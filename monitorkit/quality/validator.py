"""Check incoming requests, row by row, against a baseline and the user's rules.

:class:`QualityReport <monitorkit.quality.report.QualityReport>` judges a whole batch (rates,
significance, severities); a :class:`Validator` says which *rows* are wrong, for the serving
path: :meth:`Validator.check` takes one request (a dict) in pure Python, without pandas, and
:meth:`Validator.validate` takes a batch (a DataFrame) with numpy and pandas, no loop over
rows. Both apply the same checks, per field:

=========================  =====================================================================
``schema.missing_column``  a required column (default: the baseline's features) is absent; once
                           per batch (``row`` is missing), once per request
``completeness.missing``   a missing value (None, NaN, ``pd.NA``) in a column that had no missing
                           value in training
``schema.unparseable``     a numeric column holds text that is not a number (``"$12.50"``,
                           ``"nan"``); text that is a number (``"12.5"``) is read as that number
``validity.infinite``      ``±inf`` in a numeric column
``validity.out_of_range``  a finite number below the training minimum or above its maximum
``categories.unseen``      a category the baseline never had, when it knows its categories
                           exactly (at most 10,000); booleans are labelled as
                           :func:`~monitorkit.schema.category_labels` does
``rules``                  a user rule broken (:mod:`monitorkit.quality.rules`; ``unique``
                           compares the rows of a batch, so a single request never breaks it)
=========================  =====================================================================

Unlike the report's checks of the same names, nothing here is a rate or a test: one value
outside the range is one finding. A problem is a *finding*, never an exception; a caller
mistake (a rule on an unknown column, an unknown check) raises
:class:`~monitorkit.errors.InputError`.

Values are compared as the report compares them: category labels are the values as text
(``1`` and ``"1"`` are one category, ``1.0`` is another), hashed with the baseline's salt when
it stores categories hashed; a number given as text is parsed as :func:`pandas.to_numeric`
parses it (ASCII only, no ``_`` separators). A text of more than 17 significant digits may round
differently (by one unit in the last place) in :meth:`~Validator.check` and in
:meth:`~Validator.validate`.

Examples
--------
>>> import pandas as pd
>>> import monitorkit as mk
>>> training = pd.DataFrame({"age": [18, 35, 64, 80], "plan": ["free", "pro", "pro", "free"]})
>>> validator = mk.Baseline.from_frame(training).validator(rules=["age >= 21"])
>>> [(v.column, v.check, v.value) for v in validator.check({"age": 99, "plan": "gold"})]
[('age', 'validity.out_of_range', '99'), ('plan', 'categories.unseen', 'gold')]
>>> validator.validate(pd.DataFrame({"age": [30, 19]}))[["row", "column", "check"]]
   row column                  check
0  <NA>   plan  schema.missing_column
1     1    age                  rules
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from monitorkit.errors import InputError
from monitorkit.quality.results import EXAMPLE_CHARS
from monitorkit.quality.rules import COMPARISONS, allowed_numbers

#: The checks a :class:`Validator` runs, in the order its findings are sorted, with labels.
VALIDATOR_CHECKS: dict[str, str] = {
    "schema.missing_column": "required column absent",
    "completeness.missing": "missing value in a column never missing in training",
    "schema.unparseable": "text in a numeric column",
    "validity.infinite": "infinite value",
    "validity.out_of_range": "outside the training range",
    "categories.unseen": "unseen category",
    "rules": "user rule broken",
}
FINDING_COLUMNS = ("row", "column", "check", "value", "message")
SUMMARY_COLUMNS = ("column", "check", "rows", "message")

_TRUTHY = frozenset({"true", "yes", "t", "y", "1"})  # as schema.category_labels(kind="boolean")
_ABSENT = object()  # a field the request does not have
_LARGEST = float(np.finfo(float).max)
_NA, _NAT = pd.NA, pd.NaT  # compared by identity: check() calls nothing of pandas


@dataclass(frozen=True, slots=True)
class Violation:
    """One problem of one request: which column, which check, the value as text (cut to 60
    characters; None when the value or the column is missing), and a message."""

    column: str
    check: str
    value: str | None
    message: str


@dataclass(frozen=True)
class _Column:
    """What the validator knows of one column, computed once at construction."""

    name: str
    kind: str  # numeric, categorical, boolean, or other (not profiled: rules only)
    required: bool
    never_missing: bool  # no missing value in training
    minimum: float | None
    maximum: float | None
    categories: frozenset[str] | None  # exact labels (hashed when the baseline hashes)
    rules: tuple[Any, ...]
    messages: Mapping[str, str]


class Validator:
    """Per-row checks of requests against a baseline (see the module docstring).

    Parameters
    ----------
    baseline
        A :class:`~monitorkit.Baseline`, a :class:`~monitorkit.Profile`, or the path of a
        baseline saved as JSON: its profiles give each column's range, categories and missing
        count; its spec the kinds and roles.
    rules
        User rules: a :class:`~monitorkit.quality.rules.Rule`, its text
        (``"age between 0 and 120"``), a list of them, or a path to a TOML file of
        ``[[rule]]`` tables (:func:`~monitorkit.quality.rules.parse_rules`).
    required
        Columns every request must have (default: the baseline's features; the target, the
        prediction, ids and timestamps are checked when present, never required).
    checks
        Only these checks (names of :data:`VALIDATOR_CHECKS`; default: all).

    Raises
    ------
    InputError
        A rule that cannot be read or names a column the baseline does not have; an unknown
        required column or check; data without a profile (rows: capture a baseline first).

    Examples
    --------
    >>> import pandas as pd, monitorkit as mk
    >>> baseline = mk.Baseline.from_frame(pd.DataFrame({"amount": [1.5, 20.0, 7.25]}))
    >>> validator = baseline.validator(rules="amount > 0")
    >>> validator.check({"amount": "$3"})
    [Violation(column='amount', check='schema.unparseable', value='$3', message='text that is not a number in numeric column `amount`'), Violation(column='amount', check='rules', value='$3', message='breaks the rule `amount > 0`')]
    """  # noqa: E501

    def __init__(
        self,
        baseline: Any,
        rules: Any = None,
        *,
        required: Iterable[str] | None = None,
        checks: Iterable[str] | None = None,
    ) -> None:
        from monitorkit.quality.expectations import from_profile
        from monitorkit.quality.rules import parse_rules
        from monitorkit.reference import as_reference

        side = as_reference(baseline, "baseline")
        if side.profile is None:
            raise InputError(
                "a Validator needs a baseline or a profile (ranges, categories, missing counts), "
                "not rows; capture one first: mk.Baseline.from_frame(training_data)."
            )
        profile = side.profile
        spec = profile.spec
        names = spec.names
        self.hash_salt: str | None = side.hash_salt
        self.checks: tuple[str, ...] = _checked_names(checks)
        self.required: tuple[str, ...] = _required(required, spec)
        self.rules: tuple[Any, ...] = tuple(parse_rules(rules, columns=names))

        enabled = set(self.checks)
        plans = []
        for info in spec.columns:
            expected = (
                from_profile(profile, info.name, info.role)
                if info.name in profile.columns
                else None
            )
            kind = expected.kind if expected is not None else "other"
            if kind not in ("numeric", "categorical", "boolean"):
                kind = "other"
            never_missing = (
                expected is not None and expected.rows > 0 and expected.missing == 0
            ) and "completeness.missing" in enabled
            minimum = maximum = None
            if kind == "numeric" and "validity.out_of_range" in enabled:
                minimum, maximum = expected.minimum, expected.maximum
            categories = None
            if kind in ("categorical", "boolean") and "categories.unseen" in enabled:
                categories = expected.category_set if expected.categories is not None else None
            column_rules = tuple(r for r in self.rules if r.column == info.name)
            plans.append(
                _Column(
                    name=info.name,
                    kind=kind,
                    required=info.name in self.required and "schema.missing_column" in enabled,
                    never_missing=never_missing,
                    minimum=minimum,
                    maximum=maximum,
                    categories=categories,
                    rules=column_rules if "rules" in enabled else (),
                    messages=_messages(
                        info.name, expected, minimum, maximum, categories, column_rules
                    ),
                )
            )
        self._columns: tuple[_Column, ...] = tuple(plans)
        self._unparseable = "schema.unparseable" in enabled
        self._infinite = "validity.infinite" in enabled
        self._steps = tuple(self._step(plan) for plan in plans)

    # ---- one request -----------------------------------------------------------------------

    def check(self, record: Mapping[str, Any]) -> list[Violation]:
        """The problems of one request, a mapping of column name to value (pure Python).

        Fields the baseline does not know are ignored; an absent required field is a
        ``schema.missing_column`` finding. Returns an empty list when all is well.
        """
        found: list[Violation] = []
        for step in self._steps:
            step(record, found)
        return found

    def _step(self, plan: _Column) -> Callable[[Mapping[str, Any], list], None]:
        """A function checking ``plan``'s field of one record (plain floats, sets, regexes)."""
        name, messages, required = plan.name, plan.messages, plan.required
        never_missing = plan.never_missing
        rule_tests = tuple(
            (_rule_test(rule), messages[f"rule:{index}"]) for index, rule in enumerate(plan.rules)
        )

        def absent_or_missing(value: Any, found: list) -> bool:
            if value is _ABSENT:
                if required:
                    found.append(Violation(name, "schema.missing_column", None, messages["absent"]))
                return True
            if _is_missing(value):
                if never_missing:
                    found.append(Violation(name, "completeness.missing", None, messages["missing"]))
                for test, message in rule_tests:
                    if test(value, True):
                        found.append(Violation(name, "rules", None, message))
                return True
            return False

        def apply_rules(value: Any, found: list) -> None:
            for test, message in rule_tests:
                if test(value, False):
                    found.append(Violation(name, "rules", _text(value), message))

        if plan.kind == "numeric":
            low = plan.minimum if plan.minimum is not None else -_LARGEST
            high = plan.maximum if plan.maximum is not None else _LARGEST
            unparseable, infinite = self._unparseable, self._infinite

            def numeric(record: Mapping[str, Any], found: list) -> None:
                value = record.get(name, _ABSENT)
                kind = type(value)
                # The common case first: a finite number inside the training range.
                if (kind is float or kind is int) and low <= value <= high:
                    if rule_tests:
                        apply_rules(value, found)
                    return
                if absent_or_missing(value, found):
                    return
                number = _number(value)
                if number is None:
                    if unparseable:
                        found.append(
                            Violation(name, "schema.unparseable", _text(value), messages["text"])
                        )
                elif number in (math.inf, -math.inf):
                    if infinite:
                        found.append(
                            Violation(name, "validity.infinite", _text(value), messages["inf"])
                        )
                elif not low <= number <= high:
                    found.append(
                        Violation(name, "validity.out_of_range", _text(value), messages["range"])
                    )
                apply_rules(value, found)

            return numeric

        if plan.kind in ("categorical", "boolean"):
            categories = plan.categories
            boolean = plan.kind == "boolean"
            salt = self.hash_salt if plan.kind == "categorical" else None

            def categorical(record: Mapping[str, Any], found: list) -> None:
                value = record.get(name, _ABSENT)
                if type(value) is str and salt is None and not boolean:
                    if categories is None or value in categories:
                        if rule_tests:
                            apply_rules(value, found)
                        return
                elif absent_or_missing(value, found):
                    return
                if categories is not None:
                    label = _boolean_label(value) if boolean else _label(value)
                    if salt is not None:
                        label = _hashed(salt, label)
                    if label not in categories:
                        found.append(
                            Violation(name, "categories.unseen", _text(value), messages["unseen"])
                        )
                apply_rules(value, found)

            return categorical

        def other(record: Mapping[str, Any], found: list) -> None:
            value = record.get(name, _ABSENT)
            if not absent_or_missing(value, found):
                apply_rules(value, found)

        return other

    # ---- a batch ---------------------------------------------------------------------------

    def validate(self, data: Any) -> pd.DataFrame:
        """The problems of a batch: one row per (row, column, check), and per rule broken.

        Parameters
        ----------
        data
            A DataFrame, or anything :func:`monitorkit.read_frame` reads.

        Returns
        -------
        pandas.DataFrame
            Columns ``row`` (the position of the offending row in ``data``, from 0; missing
            for a required column that is absent, reported once), ``column``, ``check`` (a name
            of :data:`VALIDATOR_CHECKS`), ``value`` (the value as text, cut to 60 characters;
            missing when the value is missing) and ``message``; sorted by row, then column in
            the baseline's order, then check. Empty (with these columns) when all is well.
            ``data.iloc[findings["row"].dropna()]`` are the offending rows.
        """
        from monitorkit.schema import read_frame

        frame = read_frame(data, name="data")
        rows, orders, texts, found = [], [], [], []
        for order, (plan, check, positions, message, show) in enumerate(self._scan(frame)):
            rows.append(positions)
            orders.append(np.full(len(positions), order))
            texts.append(
                _texts(frame[plan.name], positions) if show else np.full(len(positions), None)
            )
            found.append((plan.name, check, message))
        if not found:
            return _empty_findings()
        row, order = np.concatenate(rows), np.concatenate(orders)
        # _scan yields in column, then check, then rule order: sort by row, then that order
        # (a required column that is absent, row -1, first).
        sort = np.lexsort((order, row))
        row, order = row[sort], order[sort]
        column, check, message = (np.array(values, dtype=object) for values in zip(*found))
        return pd.DataFrame(
            {
                "row": pd.array(np.where(row < 0, None, row), dtype="Int64"),
                "column": column[order],
                "check": check[order],
                "value": pd.array(np.concatenate(texts)[sort], dtype="string"),
                "message": message[order],
            }
        )

    def summary(self, data: Any) -> pd.DataFrame:
        """Rows affected per (column, check), and per rule: columns ``column``, ``check``,
        ``rows``, ``message``; most rows first. A required column that is absent counts every
        row. Computed from the same masks as :meth:`validate`, without the per-row table."""
        from monitorkit.schema import read_frame

        frame = read_frame(data, name="data")
        found = [
            {
                "column": plan.name,
                "check": check,
                "rows": len(frame) if check == "schema.missing_column" else len(positions),
                "message": message,
            }
            for plan, check, positions, message, _ in self._scan(frame)
        ]
        return summary_frame(found)

    def _scan(self, frame: pd.DataFrame):
        """``(plan, check, positions, message, show_value)`` per non-empty problem, in the
        order the findings are sorted (columns in the baseline's order, then checks).
        Positions are -1 for a required column that is absent."""
        for plan in self._columns:
            if plan.name not in frame.columns:
                if plan.required:
                    absent = np.array([-1])
                    yield plan, "schema.missing_column", absent, plan.messages["absent"], False
                continue
            values = frame[plan.name]
            found: list[tuple[str, np.ndarray, str, bool]] = []
            if plan.never_missing:
                missing = values.isna().to_numpy(dtype=bool)
                found.append(("completeness.missing", missing, plan.messages["missing"], False))
            if plan.kind == "numeric":
                numbers, unparseable = _numbers(values)
                infinite = np.isinf(numbers)
                if self._unparseable:
                    found.append(("schema.unparseable", unparseable, plan.messages["text"], True))
                if self._infinite:
                    found.append(("validity.infinite", infinite, plan.messages["inf"], True))
                if plan.minimum is not None and plan.maximum is not None:
                    with np.errstate(invalid="ignore"):
                        outside = (numbers < plan.minimum) | (numbers > plan.maximum)
                    found.append(
                        ("validity.out_of_range", outside & ~infinite, plan.messages["range"], True)
                    )
            elif plan.categories is not None:
                found.append(
                    ("categories.unseen", self._unseen(values, plan), plan.messages["unseen"], True)
                )
            for index, rule in enumerate(plan.rules):
                broken = rule.broken(values).to_numpy(dtype=bool, na_value=False)
                show = rule.condition != "not_null"
                found.append(("rules", broken, plan.messages[f"rule:{index}"], show))
            for check, mask, message, show in found:
                positions = np.flatnonzero(mask)
                if positions.size:
                    yield plan, check, positions, message, show

    def _unseen(self, values: pd.Series, plan: _Column) -> np.ndarray:
        from monitorkit.schema import category_labels

        labels = category_labels(values, plan.kind)
        if self.hash_salt is not None and plan.kind == "categorical":
            uniques = labels.dropna().unique()
            digests = {value: _hashed(self.hash_salt, str(value)) for value in uniques}
            labels = labels.map(digests).astype("string")
        known = labels.isin(list(plan.categories)).to_numpy(dtype=bool, na_value=False)
        return labels.notna().to_numpy(dtype=bool) & ~known

    # ---- views -----------------------------------------------------------------------------

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns checked, in the baseline's order."""
        return tuple(plan.name for plan in self._columns)

    def __repr__(self) -> str:
        known = sum(plan.categories is not None for plan in self._columns)
        ranges = sum(plan.minimum is not None for plan in self._columns)
        return (
            f"<Validator of {len(self._columns)} columns ({len(self.required)} required, "
            f"{ranges} ranges, {known} category sets), {len(self.rules)} rules>"
        )


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


def summary_frame(found: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Rows of ``column, check, rows, message`` as a frame: most rows first, then by column,
    check (in the order of :data:`VALIDATOR_CHECKS`) and message."""
    order = {name: i for i, name in enumerate(VALIDATOR_CHECKS)}
    found = sorted(
        found, key=lambda f: (-f["rows"], f["column"], order.get(f["check"], 99), f["message"])
    )
    summary = pd.DataFrame(found, columns=list(SUMMARY_COLUMNS))
    summary["rows"] = summary["rows"].astype("int64")
    return summary


def summarize(findings: pd.DataFrame, rows: int | None = None) -> pd.DataFrame:
    """The :meth:`Validator.summary` of a :meth:`Validator.validate` result, counted from its
    rows; a required column that is absent counts ``rows`` (the rows validated; 1 if None)."""
    if findings.empty:
        return summary_frame([])
    counts = findings.groupby(["column", "check", "message"], sort=False).size()
    return summary_frame(
        {
            "column": column,
            "check": check,
            "rows": rows if check == "schema.missing_column" and rows is not None else int(n),
            "message": message,
        }
        for (column, check, message), n in counts.items()
    )


def _empty_findings() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": pd.array([], dtype="Int64"),
            "column": pd.Series([], dtype=object),
            "check": pd.Series([], dtype=object),
            "value": pd.array([], dtype="string"),
            "message": pd.Series([], dtype=object),
        }
    )


def _texts(values: pd.Series, positions: np.ndarray) -> np.ndarray:
    """``str`` of the values at ``positions``, cut to EXAMPLE_CHARS (as :func:`_text`)."""
    texts = values.iloc[positions].astype(str)
    long = texts.str.len() > EXAMPLE_CHARS
    if long.any():
        texts = texts.where(~long, texts.str.slice(0, EXAMPLE_CHARS - 1) + "…")
    return texts.to_numpy(dtype=object)


# --------------------------------------------------------------------------------------------
# Construction helpers
# --------------------------------------------------------------------------------------------


def _checked_names(checks: Iterable[str] | None) -> tuple[str, ...]:
    if checks is None:
        return tuple(VALIDATOR_CHECKS)
    names = (checks,) if isinstance(checks, str) else tuple(checks)
    for name in names:
        if name not in VALIDATOR_CHECKS:
            close = difflib.get_close_matches(str(name), list(VALIDATOR_CHECKS), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise InputError(
                f"checks: unknown validator check '{name}'{hint}; available: "
                f"{', '.join(VALIDATOR_CHECKS)}."
            )
    return tuple(name for name in VALIDATOR_CHECKS if name in names)


def _required(required: Iterable[str] | None, spec: Any) -> tuple[str, ...]:
    if required is None:
        return tuple(spec.features)
    names = (required,) if isinstance(required, str) else tuple(required)
    for name in names:
        if name not in spec.names:
            from monitorkit.schema import list_names

            raise InputError(
                f"required: the baseline has no column '{name}' (it has: "
                f"{list_names(spec.names, near=str(name))}); name columns it has."
            )
    return names


def _messages(
    column: str,
    expected: Any,
    minimum: float | None,
    maximum: float | None,
    categories: frozenset[str] | None,
    rules: Iterable[Any],
) -> dict[str, str]:
    rows = expected.rows if expected is not None else 0
    messages = {
        "absent": f"required column `{column}` is absent",
        "missing": f"missing value; `{column}` had none in training ({rows:,} rows)",
        "text": f"text that is not a number in numeric column `{column}`",
        "inf": f"±inf in `{column}`",
        "range": f"outside the training range [{minimum:g}, {maximum:g}]"
        if minimum is not None and maximum is not None
        else "",
        "unseen": f"a category the baseline never had ({len(categories):,} known)"
        if categories is not None
        else "",
    }
    for index, rule in enumerate(rules):
        messages[f"rule:{index}"] = f"breaks the rule `{rule.describe()}`"
    return messages


# --------------------------------------------------------------------------------------------
# Values, one at a time (check) and by column (validate), with the same meaning
# --------------------------------------------------------------------------------------------


def _is_missing(value: Any) -> bool:
    """As :func:`pandas.isna` of one value: None, NaN (any float), ``pd.NA``, ``NaT``."""
    if value is None or value is _NA or value is _NAT:
        return True
    try:
        return bool(value != value)
    except (TypeError, ValueError):
        return False


def _number(value: Any) -> float | None:
    """The value as a float, as :func:`pandas.to_numeric` reads it; None for text that is not
    a number (``"nan"`` included: pandas reads it as NaN, which the report counts as text)."""
    kind = type(value)
    if kind is float or kind is int or kind is bool:
        return float(value)
    if isinstance(value, str):
        if not value.isascii() or "_" in value:
            return None  # pandas reads neither other digits nor 1_000
        try:
            number = float(value)
        except ValueError:
            return None
        return None if number != number else number
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return None if number != number else number


def _numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A column as float64 (NaN where missing or not a number) and the mask of text that is
    not a number (:func:`_number` for a whole column)."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return values.to_numpy(dtype=float, na_value=np.nan), np.zeros(len(values), bool)
    if pd.api.types.is_timedelta64_dtype(dtype):
        seconds = values.dt.total_seconds().to_numpy(dtype=float, na_value=np.nan)
        return seconds, np.zeros(len(values), bool)
    present = values.notna().to_numpy(dtype=bool)
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return np.full(len(values), np.nan), present
    parsed = pd.to_numeric(values, errors="coerce")
    numbers = np.asarray(parsed.to_numpy(dtype=float, na_value=np.nan), dtype=float)
    return numbers, present & np.isnan(numbers)


def _label(value: Any) -> str:
    """The category label of one value, as ``Series.astype("string")`` gives it."""
    return value if type(value) is str else str(value)


def _boolean_label(value: Any) -> str:
    """As :func:`~monitorkit.schema.category_labels` with ``kind="boolean"``, for one value."""
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, (int, float, np.number)):
        return "True" if value != 0 else "False"
    return "True" if str(value).strip().lower() in _TRUTHY else "False"


def _hashed(salt: str, label: str) -> str:
    """As :func:`monitorkit.baseline.hash_frame` hashes a category."""
    return hashlib.sha256((salt + label).encode()).hexdigest()[:16]


def _text(value: Any) -> str:
    text = value if type(value) is str else str(value)
    if len(text) > EXAMPLE_CHARS:
        text = text[: EXAMPLE_CHARS - 1] + "…"
    return text


def _rule_test(rule: Any) -> Callable[[Any, bool], bool]:
    """``test(value, missing) -> broken`` for one value, as ``rule.broken`` for a column."""
    condition, target = rule.condition, rule.value
    if condition == "not_null":
        return lambda value, missing: missing
    if condition == "unique":
        return lambda value, missing: False  # one request repeats nothing
    if condition == "in":
        allowed = frozenset(str(v) for v in target)
        numbers = allowed_numbers(target)

        def outside(value: Any, missing: bool) -> bool:
            if missing or _label(value) in allowed:
                return False
            return not numbers or _number(value) not in numbers

        return outside
    if condition == "matches":
        pattern = re.compile(target)
        return lambda value, missing: not missing and pattern.match(_label(value)) is None
    if condition == "between":
        low, high = target

        def between(value: Any, missing: bool) -> bool:
            if missing:
                return False
            number = _number(value)
            return number is None or not low <= number <= high

        return between
    compare = COMPARISONS[condition]

    def comparison(value: Any, missing: bool) -> bool:
        if missing:
            return False
        number = _number(value)
        return number is None or not compare(number, target)

    return comparison
