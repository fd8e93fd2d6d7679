"""Validator: per-row findings of a batch (validate) and of one request (check), the same checks
on both paths, rules, and the `monitorkit validate` command."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import monitorkit as mk
from monitorkit.errors import InputError
from monitorkit.quality.validator import (
    FINDING_COLUMNS,
    SUMMARY_COLUMNS,
    VALIDATOR_CHECKS,
    Validator,
    Violation,
    summarize,
)

FEATURES = ["age", "income", "plan", "region", "active"]


def training_frame(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    income = rng.normal(50_000, 8_000, n).round(2)
    income[::25] = np.nan  # income has missing values in training; nothing else does
    region = rng.choice(["north", "south", "east"], n).astype(object)
    region[::40] = None  # region too
    frame = pd.DataFrame(
        {
            "request_id": [f"req-{i:05d}" for i in range(n)],
            "age": rng.integers(18, 81, n),
            "income": income,
            "plan": rng.choice(["free", "pro", "team"], n),
            "region": region,
            "active": np.ones(n, bool),  # a flag never off in training: False is unseen
            "label": rng.integers(0, 2, n),
        }
    )
    frame.loc[0, "age"], frame.loc[1, "age"] = 18, 80  # the training range is [18, 80]
    return frame


@pytest.fixture(scope="module")
def baseline() -> mk.Baseline:
    return mk.Baseline.from_frame(training_frame(), mk.ColumnSpec(target="label", id="request_id"))


@pytest.fixture(scope="module")
def validator(baseline) -> Validator:
    return baseline.validator()


def found(findings: pd.DataFrame) -> set[tuple]:
    """(row or None, column, check) of every finding."""
    return {
        (None if pd.isna(row) else int(row), column, check)
        for row, column, check in findings[["row", "column", "check"]].itertuples(index=False)
    }


def planted() -> pd.DataFrame:
    """Ten rows of training-like values, problems planted in known rows, `active` absent."""
    frame = training_frame(10).drop(columns=["active", "label"])
    frame["income"] = frame["income"].fillna(40_000.0).astype(object)
    frame["region"] = frame["region"].fillna("north")
    frame.loc[1, "age"] = 130  # above the training maximum (80)
    frame.loc[2, "income"] = "$12.50"  # text in a numeric column
    frame.loc[3, "income"] = math.inf
    frame.loc[4, "income"] = -math.inf
    frame.loc[5, "plan"] = "gold"  # unseen
    frame.loc[6, "plan"] = None  # plan never missing in training
    frame.loc[7, "region"] = None  # region had missing values: fine
    frame.loc[8, "region"] = "mars"  # unseen
    frame.loc[9, "income"] = "61000.5"  # text that is a number, inside the range: fine
    frame["age"] = frame["age"].astype(float)
    frame.loc[0, "age"] = np.nan  # age never missing in training
    return frame


# ---- validate on a batch -------------------------------------------------------------------


def test_validate_finds_exactly_the_planted_problems(validator):
    findings = validator.validate(planted())
    assert found(findings) == {
        (None, "active", "schema.missing_column"),
        (0, "age", "completeness.missing"),
        (1, "age", "validity.out_of_range"),
        (2, "income", "schema.unparseable"),
        (3, "income", "validity.infinite"),
        (4, "income", "validity.infinite"),
        (5, "plan", "categories.unseen"),
        (6, "plan", "completeness.missing"),
        (8, "region", "categories.unseen"),
    }
    assert len(findings) == 9  # one row per finding, none twice


def test_findings_table_structure_values_and_order(validator):
    data = planted()
    findings = validator.validate(data)
    assert tuple(findings.columns) == FINDING_COLUMNS
    assert str(findings["row"].dtype) == "Int64"
    assert set(findings["check"]) <= set(VALIDATOR_CHECKS)
    # the absent column first (no row), then by row
    assert pd.isna(findings["row"].iloc[0])
    rows = findings["row"].dropna().astype(int).tolist()
    assert rows == sorted(rows)
    by_key = {(r, c, k): v for r, c, k, v in findings[["row", "column", "check", "value"]].values}
    assert by_key[(2, "income", "schema.unparseable")] == "$12.50"
    assert by_key[(4, "income", "validity.infinite")] == "-inf"
    assert by_key[(1, "age", "validity.out_of_range")] == str(data.loc[1, "age"])
    assert by_key[(5, "plan", "categories.unseen")] == "gold"
    assert pd.isna(by_key[(6, "plan", "completeness.missing")])  # a missing value has no text
    # the offending rows are found by position
    offending = data.iloc[findings["row"].dropna().astype(int)]
    assert offending.loc[5, "plan"] == "gold" and offending.loc[8, "region"] == "mars"


def test_training_rows_validate_clean_against_their_own_baseline(baseline):
    training = training_frame()
    findings = baseline.validator().validate(training)
    assert findings.empty
    assert tuple(findings.columns) == FINDING_COLUMNS
    assert baseline.validator().summary(training).empty


def test_summary_counts_rows_per_column_and_check(validator):
    data = pd.concat([planted()] * 3, ignore_index=True)
    findings = validator.validate(data)
    summary = validator.summary(data)
    assert tuple(summary.columns) == SUMMARY_COLUMNS
    counts = {(c, k): n for c, k, n in summary[["column", "check", "rows"]].values}
    expected = findings.groupby(["column", "check"]).size().to_dict()
    expected[("active", "schema.missing_column")] = len(data)  # every row lacks it
    assert counts == expected
    assert counts[("income", "validity.infinite")] == 6
    assert summary["rows"].is_monotonic_decreasing
    assert summarize(findings, rows=len(data)).equals(summary)


def test_values_are_cut_to_60_characters(baseline):
    findings = baseline.validator().validate(
        pd.DataFrame({"plan": ["x" * 100], "age": [30], "income": [1.0], "active": [True]})
    )
    (value,) = findings.loc[findings["check"] == "categories.unseen", "value"]
    assert len(value) == 60 and value.endswith("…")
    (violation,) = [
        v for v in baseline.validator().check({"plan": "x" * 100}) if v.column == "plan"
    ]
    assert violation.value == value


def test_checks_and_required_options(baseline):
    data = planted()
    only = baseline.validator(checks=["validity.infinite"]).validate(data)
    assert found(only) == {(3, "income", "validity.infinite"), (4, "income", "validity.infinite")}
    relaxed = baseline.validator(required=["age"]).validate(data)
    assert not (relaxed["check"] == "schema.missing_column").any()
    strict = baseline.validator(required=["age", "label"]).validate(data)
    assert set(strict.loc[strict["check"] == "schema.missing_column", "column"]) == {"label"}


def test_hashed_categories_are_compared_hashed(baseline):
    hashed = mk.Baseline.from_frame(
        training_frame(), mk.ColumnSpec(target="label", id="request_id"), hash_categories=True
    )
    validator = hashed.validator()
    findings = validator.validate(planted())
    # the same problems as without hashing, and the values shown are the user's, not hashes
    assert found(findings) == found(baseline.validator().validate(planted()))
    assert "gold" in set(findings["value"].dropna())
    assert [v.check for v in validator.check({"plan": "pro"}) if v.column == "plan"] == []
    assert [v.check for v in validator.check({"plan": "gold"}) if v.column == "plan"] == [
        "categories.unseen"
    ]


# ---- rules ---------------------------------------------------------------------------------


def test_rules_find_the_rows_that_break_them(baseline):
    rules = [
        "age between 21 and 70",
        "income >= 0",
        "plan in [free, pro]",
        'request_id matches "req-"',
        "region not null",
        "request_id unique",
    ]
    data = pd.DataFrame(
        {
            "request_id": ["req-1", "req-2", "REQ-3", "req-1", "req-5"],
            "age": [30, 19, 30, 75, 30],
            "income": [10.0, -5.0, 10.0, 10.0, np.nan],
            "plan": ["free", "pro", "team", "free", "pro"],
            "region": ["north", None, "east", "south", "east"],
            "active": [True] * 5,
        }
    )
    findings = baseline.validator(rules=rules).validate(data)
    broken = findings[findings["check"] == "rules"]
    assert {(int(r), c) for r, c in broken[["row", "column"]].values} == {
        (1, "age"),  # 19 < 21
        (3, "age"),  # 75 > 70
        (1, "income"),  # -5 < 0; the missing income of row 4 breaks only `not null`
        (2, "plan"),  # team
        (2, "request_id"),  # REQ-3 does not match from its start
        (3, "request_id"),  # req-1 again
        (1, "region"),  # missing
    }
    assert broken["message"].str.startswith("breaks the rule `").all()
    # each rule names itself
    assert set(broken.loc[broken["column"] == "plan", "message"]) == {
        "breaks the rule `plan in [free, pro]`"
    }


def test_rules_from_a_toml_file(baseline, tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('[[rule]]\ncolumn = "age"\n"<" = 65\n')
    validator = baseline.validator(rules=str(path))
    assert [r.describe() for r in validator.rules] == ["age < 65"]
    assert [v.column for v in validator.check({"age": 70}) if v.check == "rules"] == ["age"]
    assert [v for v in validator.check({"age": 64}) if v.check == "rules"] == []


def test_unique_compares_rows_of_a_batch_never_one_request(baseline):
    validator = baseline.validator(rules=["plan unique"])
    assert not any(v.check == "rules" for v in validator.check({"plan": "pro"}))
    findings = validator.validate(pd.DataFrame({"plan": ["pro", "pro"]}))
    assert found(findings[findings["check"] == "rules"]) == {(1, "plan", "rules")}


@pytest.mark.parametrize(
    ("rules", "needle"),
    [
        ("agee > 3", "did you mean 'age'"),
        ("age is big", "cannot read the rule"),
        ("age between 5 and 1", "low then high"),
        ("plan matches '['", "not a regular expression"),
    ],
)
def test_bad_rules_raise_input_error(baseline, rules, needle):
    with pytest.raises(InputError, match="rule") as error:
        baseline.validator(rules=rules)
    assert needle in str(error.value)


def test_bad_options_raise_input_error(baseline):
    with pytest.raises(InputError, match="did you mean 'validity.infinite'"):
        baseline.validator(checks=["validity.infinte"])
    with pytest.raises(InputError, match="no column 'agee'"):
        baseline.validator(required=["agee"])
    with pytest.raises(InputError, match="not rows"):
        Validator(training_frame())


# ---- one request ---------------------------------------------------------------------------


def test_check_reports_missing_fields_and_ignores_unknown_ones(validator):
    record = {"age": 40, "income": 50_000.0, "plan": "pro", "unknown": "x"}
    violations = validator.check(record)
    assert {(v.column, v.check) for v in violations} == {
        ("region", "schema.missing_column"),
        ("active", "schema.missing_column"),
    }  # not the target (label) nor the id: never required
    assert all(v.value is None for v in violations)
    assert validator.check({**record, "region": "east", "active": True}) == []
    assert [v.check for v in validator.check({**record, "region": "east", "active": "no"})] == [
        "categories.unseen"
    ]  # never off in training


def test_check_findings_are_small_frozen_values(validator):
    (violation,) = validator.check(
        {"age": 99, "income": 50_000.0, "plan": "pro", "region": "east", "active": True}
    )
    assert violation == Violation(
        "age", "validity.out_of_range", "99", "outside the training range [18, 80]"
    )
    with pytest.raises(AttributeError):
        violation.value = "1"  # type: ignore[misc]


def test_check_imports_and_calls_nothing_of_pandas(validator, monkeypatch):
    import pandas

    def refuse(*args, **kwargs):
        raise AssertionError("check() called pandas")

    for name in ("isna", "to_numeric", "Series", "DataFrame"):
        monkeypatch.setattr(pandas, name, refuse)
    violations = validator.check({"age": "x", "income": None, "plan": 3, "region": None})
    assert {(v.column, v.check) for v in violations} == {
        ("age", "schema.unparseable"),
        ("plan", "categories.unseen"),
        ("active", "schema.missing_column"),
    }  # income and region had missing values in training


# Values each kind of column may receive: the right kind, the wrong kind, missing, odd text.
NUMBER_TEXT = st.floats(allow_nan=False, width=64).map(repr)
ODD_TEXT = st.sampled_from(
    ["abc", "$12.50", "nan", "NaN", "1_000", " 42 ", "", "١٢", "inf", "-Infinity", "1e999", "30"]
)
EDGE_NUMBERS = st.sampled_from([18, 80, 17.999, 80.5, 0, -0.0, 1.0, 1e300, math.inf, -math.inf])
NUMERIC_VALUES = st.one_of(
    st.none(),
    st.just(math.nan),
    EDGE_NUMBERS,
    st.floats(width=64),
    st.integers(-(2**53), 2**53),
    st.integers(0, 100),
    NUMBER_TEXT,
    ODD_TEXT,
    st.booleans(),
)
CATEGORY_VALUES = st.one_of(
    st.none(),
    st.just(math.nan),
    st.sampled_from(["free", "pro", "team", "north", "east", "gold", "Pro", " free", "1", "1.0"]),
    st.sampled_from([1, 1.0, 0, -0.0, 2.5, True, False]),
    st.integers(-3, 3),
    st.floats(-3, 3),
    st.text(max_size=8),
)
BOOLEAN_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 2),
    st.sampled_from([0.0, 1.0, -0.0, 0.5, math.nan]),
    st.sampled_from(["yes", "no", "maybe", "TRUE", " t ", "0", "1", "False"]),
)
RECORDS = st.fixed_dictionaries(
    {"request_id": st.text(max_size=6)},
    optional={
        "age": NUMERIC_VALUES,
        "income": NUMERIC_VALUES,
        "plan": CATEGORY_VALUES,
        "region": CATEGORY_VALUES,
        "active": BOOLEAN_VALUES,
        "label": BOOLEAN_VALUES,
    },
)
PROPERTY_RULES = [
    "age between 20 and 70",
    "income > 0",
    "plan in [free, pro, 1]",
    'region matches "[a-z]+$"',
    "region not null",
    "request_id unique",
    "label == 1",
]


@pytest.fixture(scope="module")
def ruled(baseline) -> Validator:
    return baseline.validator(rules=PROPERTY_RULES)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=RECORDS)
@example(  # the edges where one value's label or number differs most easily from a column's
    record={
        "request_id": "a",
        "age": "nan",
        "income": "1_000",
        "plan": 1.0,
        "active": 2,
        "region": "abc\n",
        "label": " t ",
    }  # fmt: skip
)
@example(record={"request_id": "b", "age": True, "income": -math.inf, "plan": True, "active": "0"})
def test_check_finds_what_validate_finds_on_a_one_row_frame(ruled, record):
    from_check = sorted((v.column, v.check, v.value, v.message) for v in ruled.check(record))
    findings = ruled.validate(pd.DataFrame([record]))
    assert set(findings["row"].dropna()) <= {0}
    from_validate = sorted(
        (c, k, None if pd.isna(v) else v, m)
        for c, k, v, m in findings[["column", "check", "value", "message"]].values
    )
    assert from_check == from_validate


def test_the_property_generator_reaches_every_check(ruled):
    """The property test above is only as good as its records: they reach every check."""
    from hypothesis import find

    for check in VALIDATOR_CHECKS:
        find(RECORDS, lambda r, check=check: any(v.check == check for v in ruled.check(r)))


# ---- the command ---------------------------------------------------------------------------


def monitorkit(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "monitorkit.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


@pytest.fixture(scope="module")
def cli_files(tmp_path_factory, baseline) -> Path:
    folder = tmp_path_factory.mktemp("validate")
    baseline.save(folder / "baseline.json")
    planted().to_csv(folder / "bad.csv", index=False)
    clean = training_frame(30)
    clean.to_parquet(folder / "clean.parquet")
    (folder / "rules.toml").write_text('[[rule]]\ncolumn = "age"\nbetween = [18, 60]\n')
    return folder


def test_cli_exits_0_when_nothing_is_wrong(cli_files):
    result = monitorkit("validate", "baseline.json", "clean.parquet", cwd=cli_files)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: no problems in 30 rows")


def test_cli_exits_3_and_lists_counts_and_first_rows(cli_files):
    result = monitorkit("validate", "baseline.json", "bad.csv", "--limit", "2", cwd=cli_files)
    assert result.returncode == 3, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("PROBLEMS: 9 findings in 5 columns; 8 of 10 rows offend")
    summary = lines[lines.index("column  check                  rows  message") + 1 :]
    assert any(line.split()[:3] == ["income", "validity.infinite", "2"] for line in summary)
    assert any(line.split()[:3] == ["active", "schema.missing_column", "10"] for line in summary)
    shown = result.stdout.split("findings of the first 2 offending rows:")[1].splitlines()
    rows = [line.split()[0] for line in shown if line.strip() and not line.startswith("row")]
    assert rows == ["-", "0", "1"]  # the absent column, then rows 0 and 1 only


def test_cli_json_and_rules(cli_files):
    result = monitorkit(
        "validate", "baseline.json", "clean.parquet", "--rules", "rules.toml", "--json",
        cwd=cli_files,
    )  # fmt: skip
    assert result.returncode == 3, result.stderr
    output = json.loads(result.stdout)
    ages = training_frame(30)["age"]
    assert output["rows"] == 30 and output["offending_rows"] == int((ages > 60).sum()) > 0
    assert output["summary"] == [
        {
            "column": "age",
            "check": "rules",
            "rows": int((ages > 60).sum()),
            "message": "breaks the rule `age between 18 and 60`",
        }
    ]
    first = output["first"]
    assert len({f["row"] for f in first}) == min(10, output["offending_rows"])
    assert all(int(f["value"]) > 60 for f in first)


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["missing.csv"], 2, "no such file"),
        (["bad.csv", "--rules", "agee > 1"], 2, "did you mean 'age'"),
        (["bad.csv", "--limit", "-1"], 2, "--limit"),
    ],
)
def test_cli_usage_errors_exit_2(cli_files, args, code, needle):
    result = monitorkit("validate", "baseline.json", *args, cwd=cli_files)
    assert result.returncode == code
    assert needle in result.stderr and result.stdout == ""


def test_cli_refuses_a_file_that_is_not_a_baseline(cli_files):
    (cli_files / "other.json").write_text('{"kind": "drift"}')
    result = monitorkit("validate", "other.json", "bad.csv", cwd=cli_files)
    assert result.returncode == 2 and "not a monitorkit baseline" in result.stderr
