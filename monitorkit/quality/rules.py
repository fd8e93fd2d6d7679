"""User rules: what the data must satisfy, in code, in text, or in a TOML file.

A rule names a column and a condition; the rows that break it become a finding of the check
``rules`` (severity from the thresholds, or the rule's own ``severity``). Conditions:

=====================  =========================  =============================================
text                   TOML keys                  broken by
=====================  =========================  =============================================
``age between 0 and 120``  ``between = [0, 120]``     numbers outside ``[low, high]`` (inclusive),
                                                  and text that is not a number
``amount >= 0``        ``">=" = 0`` (also ``>``,  numbers failing the comparison, and text that
                       ``<=``, ``<``, ``==``,     is not a number
                       ``!=``)
``country in [FR, DE]``  ``in = ["FR", "DE"]``    values not in the list (compared as text, and
                                                  as numbers: ``1.0`` is in ``[1]``)
``email matches "^[^@]+@[^@]+$"``  ``matches = "…"``  values the regular expression does not match
                                                  from their start (:func:`re.match`)
``id not null``        ``not_null = true``        missing values
``id unique``          ``unique = true``          values that repeat an earlier one
=====================  =========================  =============================================

Missing values break only ``not null``; every other condition judges the values present.

A TOML file (``rules = "rules.toml"``) holds ``[[rule]]`` tables::

    [[rule]]
    column = "age"
    between = [0, 120]

    [[rule]]
    column = "country"
    in = ["FR", "DE", "ES"]
    severity = "critical"     # optional: fixed, whatever the share of rows

Unknown keys, a condition of the wrong type and unknown columns are refused with the close
names.
"""

from __future__ import annotations

import difflib
import math
import operator
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from monitorkit._toml import load_toml
from monitorkit.errors import InputError
from monitorkit.quality.checks import Problem, examples
from monitorkit.severity import Severity

COMPARISONS = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
CONDITIONS = ("between", "in", "matches", "not_null", "unique", *COMPARISONS)


@dataclass(frozen=True)
class Rule:
    """One column and one condition (see the module docstring)."""

    column: str
    condition: str
    value: Any = None
    severity: Severity | None = None

    def __post_init__(self) -> None:
        if self.condition not in CONDITIONS:
            close = difflib.get_close_matches(self.condition, CONDITIONS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise InputError(
                f"rule on '{self.column}': unknown condition '{self.condition}'{hint}; "
                f"conditions: {', '.join(CONDITIONS)}."
            )
        value = self.value
        if self.condition == "between":
            if (
                not isinstance(value, (list, tuple))
                or len(value) != 2
                or not all(_is_number(v) for v in value)
                or value[0] > value[1]
            ):
                raise InputError(
                    f"rule '{self.column} between': give two numbers, low then high "
                    f"(e.g. [0, 120]); got {value!r}."
                )
        elif self.condition in COMPARISONS and not _is_number(value):
            raise InputError(
                f"rule '{self.column} {self.condition}': compare with a number; got {value!r}."
            )
        elif self.condition == "in" and (not isinstance(value, (list, tuple)) or not value):
            raise InputError(
                f"rule '{self.column} in': give a non-empty list of values; got {value!r}."
            )
        elif self.condition == "matches":
            if not isinstance(value, str):
                raise InputError(f"rule '{self.column} matches': give a regular expression.")
            try:
                re.compile(value)
            except re.error as exc:
                raise InputError(
                    f"rule '{self.column} matches': {value!r} is not a regular expression: {exc}."
                ) from exc

    def describe(self) -> str:
        if self.condition == "between":
            return f"{self.column} between {self.value[0]:g} and {self.value[1]:g}"
        if self.condition in ("not_null", "unique"):
            return f"{self.column} {self.condition.replace('_', ' ')}"
        if self.condition == "in":
            return f"{self.column} in [{', '.join(map(str, self.value))}]"
        if self.condition == "matches":
            return f'{self.column} matches "{self.value}"'
        return f"{self.column} {self.condition} {self.value:g}"

    def broken(self, values: pd.Series) -> pd.Series:
        """A boolean mask of the values that break the rule."""
        present = values.notna()
        if self.condition == "not_null":
            return ~present
        if self.condition == "unique":
            return present & values.duplicated()
        if self.condition in ("in", "matches"):
            text = values.astype("string")
            if self.condition == "in":
                ok = text.isin([str(v) for v in self.value])
                numbers = allowed_numbers(self.value)
                if numbers:  # 1.0 is in [1]: numbers compare as numbers too
                    ok = ok | pd.to_numeric(values, errors="coerce").isin(numbers)
            else:
                ok = text.str.match(self.value).fillna(False).astype(bool)
            return present & ~ok
        numbers = pd.to_numeric(values, errors="coerce")
        if self.condition == "between":
            ok = (numbers >= self.value[0]) & (numbers <= self.value[1])
        else:
            ok = COMPARISONS[self.condition](numbers, self.value)
        return present & ~ok.fillna(False).astype(bool)

    def evaluate(self, values: pd.Series, rows: int) -> Problem | None:
        """The problem this rule finds in ``values`` (None when every value keeps it)."""
        broken = self.broken(values)
        count = int(broken.sum())
        if count == 0:
            return None
        return Problem(
            count,
            f"{count:,} values break the rule `{self.describe()}`",
            examples(values[broken].astype(str)),
            severity=self.severity,
        )


def allowed_numbers(items: Iterable[Any]) -> frozenset[float]:
    """The items of an ``in`` list that are numbers (or text of numbers), as floats."""
    numbers = set()
    for item in items:
        try:
            number = float(item)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            numbers.add(number)
    return frozenset(numbers)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


_TEXT_PATTERNS = [
    (re.compile(r"^(?P<c>.+?)\s+between\s+(?P<a>\S+)\s+and\s+(?P<b>\S+)$", re.I), "between"),
    (re.compile(r"^(?P<c>.+?)\s+not\s+null$", re.I), "not_null"),
    (re.compile(r"^(?P<c>.+?)\s+unique$", re.I), "unique"),
    (re.compile(r"^(?P<c>.+?)\s+in\s+\[(?P<v>.*)\]$", re.I), "in"),
    (re.compile(r"^(?P<c>.+?)\s+matches\s+(?P<q>[\"'])(?P<v>.*)(?P=q)$", re.I), "matches"),
    (re.compile(r"^(?P<c>.+?)\s*(?P<op>>=|<=|==|!=|>|<)\s*(?P<v>\S+)$"), "compare"),
]


def parse_rule(text: str) -> Rule:
    """A :class:`Rule` from its text (``"age between 0 and 120"``; module docstring)."""
    stripped = text.strip()
    for pattern, condition in _TEXT_PATTERNS:
        match = pattern.match(stripped)
        if not match:
            continue
        column = match.group("c").strip().strip("`\"'")
        if condition == "between":
            return Rule(
                column,
                "between",
                [_number(match.group("a"), text), _number(match.group("b"), text)],
            )
        if condition in ("not_null", "unique"):
            return Rule(column, condition)
        if condition == "in":
            items = [v.strip().strip("\"'") for v in match.group("v").split(",") if v.strip()]
            return Rule(column, "in", items)
        if condition == "matches":
            return Rule(column, "matches", match.group("v"))
        return Rule(column, match.group("op"), _number(match.group("v"), text))
    raise InputError(
        f"cannot read the rule {text!r}; write e.g. 'age between 0 and 120', 'amount >= 0', "
        "'country in [FR, DE]', 'email matches \"^[^@]+@\"', 'id not null', 'id unique'."
    )


def _number(text: str, rule: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InputError(f"in the rule {rule!r}: {text!r} is not a number.") from None


def load_rules(path: str | os.PathLike) -> list[Rule]:
    """The rules of a TOML file of ``[[rule]]`` tables (module docstring)."""
    data = load_toml(path, "rules file")
    unknown = set(data) - {"rule"}
    if unknown:
        raise InputError(
            f"rules file '{path}': unknown table(s) {sorted(unknown)}; write [[rule]] tables."
        )
    return [
        _rule_from_table(table, f"{path}, rule {i + 1}")
        for i, table in enumerate(data.get("rule", []))
    ]


def _rule_from_table(table: Mapping[str, Any], where: str) -> Rule:
    if not isinstance(table, Mapping) or "column" not in table:
        raise InputError(f"{where}: every [[rule]] needs a 'column'.")
    allowed = {"column", "severity", *CONDITIONS}
    unknown = [k for k in table if k not in allowed]
    if unknown:
        close = difflib.get_close_matches(unknown[0], sorted(allowed), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise InputError(
            f"{where}: unknown key '{unknown[0]}'{hint}; keys: {', '.join(sorted(allowed))}."
        )
    conditions = [k for k in table if k in CONDITIONS]
    if len(conditions) != 1:
        raise InputError(
            f"{where}: give exactly one condition ({', '.join(CONDITIONS)}); got {conditions}."
        )
    (condition,) = conditions
    value = table[condition]
    if condition in ("not_null", "unique"):
        if value is not True:
            raise InputError(f"{where}: '{condition}' takes true; got {value!r}.")
        value = None
    severity = Severity.of(table["severity"]) if "severity" in table else None
    return Rule(str(table["column"]), condition, value, severity)


def parse_rules(rules: Any, columns: Iterable[str] = ()) -> list[Rule]:
    """Rules from ``rules=``: None, a TOML path, a :class:`Rule` or its text, or a list of
    them; rules on columns that exist nowhere are refused with the close names."""
    if rules is None:
        return []
    if isinstance(rules, (str, os.PathLike)) and str(rules).endswith(".toml"):
        parsed = load_rules(rules)
    else:
        items = [rules] if isinstance(rules, (str, Rule)) else list(rules)
        parsed = [item if isinstance(item, Rule) else parse_rule(str(item)) for item in items]
    known = set(columns)
    if known:
        for rule in parsed:
            if rule.column not in known:
                close = difflib.get_close_matches(rule.column, sorted(known), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise InputError(
                    f"rule `{rule.describe()}`: no column '{rule.column}'{hint} in reference or "
                    "current."
                )
    return parsed
