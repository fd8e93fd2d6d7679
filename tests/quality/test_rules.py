"""User rules: in text, in code and in TOML files; what breaks each; and bad rules refused
with the fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import monitorkit as mk
from monitorkit.errors import InputError
from monitorkit.quality.rules import Rule, load_rules, parse_rule, parse_rules
from monitorkit.severity import Severity


def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    n = 200
    reference = pd.DataFrame(
        {
            "id": [f"u{i}" for i in range(n)],
            "age": np.arange(n) % 80 + 18,
            "amount": np.linspace(0, 500, n),
            "country": ["FR", "DE"] * (n // 2),
            "email": [f"user{i}@example.org" for i in range(n)],
        }
    )
    current = reference.copy()
    current["id"] = [f"u{n + i}" for i in range(n)]
    return reference, current


def broken(report) -> dict[str, tuple[int, Severity]]:
    return {f.column: (f.count, f.severity) for f in report.findings if f.check == "rules"}


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("age between 0 and 120", Rule("age", "between", [0.0, 120.0])),
        ("amount >= 0", Rule("amount", ">=", 0.0)),
        ("amount<10.5", Rule("amount", "<", 10.5)),
        ("amount != -1", Rule("amount", "!=", -1.0)),
        ("country in [FR, DE]", Rule("country", "in", ["FR", "DE"])),
        ("country in ['FR', \"DE\"]", Rule("country", "in", ["FR", "DE"])),
        ('email matches "^[^@]+@"', Rule("email", "matches", "^[^@]+@")),
        ("email matches '^a b$'", Rule("email", "matches", "^a b$")),
        ("id not null", Rule("id", "not_null")),
        ("id unique", Rule("id", "unique")),
        ("customer age between 18 and 99", Rule("customer age", "between", [18.0, 99.0])),
        ("`age` BETWEEN 0 AND 120", Rule("age", "between", [0.0, 120.0])),
    ],
)
def test_text_rules_parse(text, rule):
    assert parse_rule(text) == rule
    assert parse_rule(rule.describe()) == rule  # what a finding shows reads back


def test_each_condition_counts_exactly_the_rows_that_break_it():
    reference, current = frames()
    current.loc[:5, "age"] = [150, -1, 121, 200, 0, 130]  # five outside [0, 120]; 0 is inside
    current.loc[10:12, "amount"] = [-0.01, -5, -100]
    current.loc[20:26, "country"] = ["ES", "fr", "FR ", "IT", "DE", "FR", None]
    current.loc[30:35, "email"] = ["no-at-sign", "@example.org", None, "a@b", "x", "y@"]
    current.loc[40:42, "id"] = [None, None, "u200"]  # two missing; u200 repeats row 0's id
    rules = [
        "age between 0 and 120",
        "amount >= 0",
        "country in [FR, DE]",
        'email matches "^[^@]+@"',
        "id not null",
    ]
    report = mk.QualityReport(reference, current, rules=rules)
    assert broken(report) == {
        "age": (5, Severity.WARNING),  # 2.5%
        "amount": (3, Severity.OK),  # 1.5%, but fewer than 5 rows
        "country": (4, Severity.OK),  # missing values break only "not null"
        "email": (3, Severity.OK),
        "id": (2, Severity.OK),
    }
    age = next(f for f in report.findings if f.check == "rules" and f.column == "age")
    assert "`age between 0 and 120`" in age.message
    assert set(age.examples) == {"150", "-1", "121", "200", "130"}
    unique = mk.QualityReport(reference, current, rules="id unique")
    assert broken(unique) == {"id": (1, Severity.OK)}  # "u200" repeats; missing ids do not


def test_text_that_is_not_a_number_breaks_a_numeric_rule():
    reference, current = frames()
    current["amount"] = current["amount"].astype(object)
    current.loc[:9, "amount"] = "unknown"
    report = mk.QualityReport(reference, current, rules=["amount >= 0"])
    assert broken(report) == {"amount": (10, Severity.CRITICAL)}


def test_in_compares_as_text():
    reference = pd.DataFrame({"code": [1, 2, 3, 1] * 10, "x": range(40)})
    report = mk.QualityReport(reference, reference, rules=["code in [1, 2]"])
    assert broken(report) == {"code": (10, Severity.CRITICAL)}


def test_a_float_column_of_whole_numbers_is_in_a_list_of_whole_numbers():
    reference = pd.DataFrame({"code": [1.0, 2.0, np.nan, 1.0] * 10, "x": range(40)})
    report = mk.QualityReport(reference, reference, rules=["code in [1, 2]"])
    assert broken(report) == {}


def test_a_rule_severity_is_fixed_and_thresholds_apply_to_rules():
    reference, current = frames()
    current.loc[:1, "age"] = 150  # two rows: ok by the thresholds
    fixed = mk.QualityReport(
        reference, current, rules=[Rule("age", "between", [0, 120], severity=Severity.CRITICAL)]
    )
    assert broken(fixed) == {"age": (2, Severity.CRITICAL)}
    assert fixed.severity == Severity.CRITICAL
    loose = mk.QualityReport(
        reference, current, rules="age between 0 and 120", thresholds={"rules": {"min_count": 1}}
    )
    assert broken(loose) == {"age": (2, Severity.WARNING)}


TOML = """
[[rule]]
column = "age"
between = [0, 120]

[[rule]]
column = "country"
in = ["FR", "DE"]
severity = "critical"

[[rule]]
column = "amount"
">=" = 0

[[rule]]
column = "email"
matches = "^[^@]+@"

[[rule]]
column = "id"
unique = true

[[rule]]
column = "id"
not_null = true
"""


def test_rules_from_a_toml_file(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(TOML, encoding="utf-8")
    assert load_rules(path) == [
        Rule("age", "between", [0, 120]),
        Rule("country", "in", ["FR", "DE"], Severity.CRITICAL),
        Rule("amount", ">=", 0),
        Rule("email", "matches", "^[^@]+@"),
        Rule("id", "unique"),
        Rule("id", "not_null"),
    ]
    reference, current = frames()
    current.loc[:8, "age"] = 150
    current.loc[20, "country"] = "ES"
    for rules in (str(path), path):
        report = mk.QualityReport(reference, current, rules=rules)
        assert broken(report) == {
            "age": (9, Severity.WARNING),  # 4.5%
            "country": (1, Severity.CRITICAL),
        }


def _toml(tmp_path, text: str) -> str:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[rule]]\ncolumn = "age"\nbetwen = [0, 120]',
            "unknown key 'betwen' .*did you mean 'between'",
        ),
        ('[[rule]]\ncolumn = "age"\nbetween = [0, "120"]', "two numbers"),
        ('[[rule]]\ncolumn = "age"\nbetween = [120, 0]', "low then high"),
        ('[[rule]]\ncolumn = "age"\nbetween = [0, true]', "two numbers"),
        ('[[rule]]\ncolumn = "country"\nin = "FR"', "non-empty list"),
        ('[[rule]]\ncolumn = "amount"\n">=" = "0"', "compare with a number"),
        ('[[rule]]\ncolumn = "email"\nmatches = 5', "regular expression"),
        ('[[rule]]\ncolumn = "email"\nmatches = "(["', "not a regular expression"),
        ('[[rule]]\ncolumn = "id"\nunique = 1', "'unique' takes true"),
        ('[[rule]]\ncolumn = "id"\nnot_null = false', "'not_null' takes true"),
        ("[[rule]]\nbetween = [0, 1]", "needs a 'column'"),
        ('[[rule]]\ncolumn = "age"', "exactly one condition"),
        ('[[rule]]\ncolumn = "age"\nbetween = [0, 1]\n">=" = 0', "exactly one condition"),
        ('[[rule]]\ncolumn = "age"\nbetween = [0, 1]\nseverity = "red"', "ok, warning, critical"),
        ('[[rules]]\ncolumn = "age"\nbetween = [0, 1]', "unknown table"),
        ('[[rule]]\ncolumn = "agee"\nbetween = [0, 120]', "no column 'agee' .*did you mean 'age'"),
        ("[[rule]\ncolumn = 1", "not valid TOML"),
        ('[[rule]]\ncolumn = "age"\nbetween = [0, 120', "not valid TOML"),
    ],
)
def test_bad_rule_files_are_refused_with_the_fix(tmp_path, text, message):
    reference, current = frames()
    with pytest.raises(InputError, match=message):
        mk.QualityReport(reference, current, rules=_toml(tmp_path, text))


def test_a_missing_rule_file_is_named(tmp_path):
    reference, current = frames()
    with pytest.raises(InputError, match="does not exist"):
        mk.QualityReport(reference, current, rules=str(tmp_path / "nowhere.toml"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("agee between 0 and 120", "no column 'agee' .*did you mean 'age'"),
        ("age between 120 and 0", "low then high"),
        ("age between zero and 120", "'zero' is not a number"),
        ("amount >= lots", "'lots' is not a number"),
        ("country in []", "non-empty list"),
        ('email matches "(["', "not a regular expression"),
        ("age is young", "cannot read the rule"),
        ("emial not null", "did you mean 'email'"),
    ],
)
def test_bad_rule_texts_are_refused_with_the_fix(text, message):
    reference, current = frames()
    with pytest.raises(InputError, match=message):
        mk.QualityReport(reference, current, rules=[text])


def test_an_unknown_condition_in_code_suggests_the_close_one():
    with pytest.raises(InputError, match="did you mean 'between'"):
        Rule("age", "betwen", [0, 1])
    with pytest.raises(InputError, match="did you mean 'unique'"):
        load_rules_from_table({"column": "id", "uniqe": True})


def load_rules_from_table(table):
    from monitorkit.quality.rules import _rule_from_table

    return _rule_from_table(table, "test")


def test_rules_on_columns_of_current_only_are_allowed():
    reference, current = frames()
    current["discount"] = -1.0
    report = mk.QualityReport(reference, current, rules=["discount >= 0"])
    assert broken(report)["discount"] == (len(current), Severity.CRITICAL)
    assert parse_rules(None) == [] and parse_rules("age unique") == [Rule("age", "unique")]
