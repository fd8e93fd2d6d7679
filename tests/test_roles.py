"""Roles a person would give, on column sets shaped like public datasets (issue: the first
hour on real data). Frames are written by the tests; nothing is downloaded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import monitorkit as mk
from monitorkit.schema import name_tokens

N = 400


def _rng() -> np.random.Generator:
    return np.random.default_rng(11)


def titanic() -> pd.DataFrame:
    rng = _rng()
    return pd.DataFrame(
        {
            "PassengerId": np.arange(1, N + 1),
            "Survived": rng.integers(0, 2, N),
            "Pclass": rng.integers(1, 4, N),
            "Name": [f"Passenger {i}, Mr. John Smith of Somewhere" for i in range(N)],
            "Sex": rng.choice(["male", "female"], N),
            "Age": rng.normal(30, 12, N).round(1),
            "SibSp": rng.integers(0, 5, N),
            "Parch": rng.integers(0, 4, N),
            "Ticket": [f"A/5 {x}" for x in rng.integers(10_000, 99_999, N)],
            "Fare": rng.lognormal(3, 1, N).round(2),
            "Cabin": rng.choice(["C85", "E46", None], N),
            "Embarked": rng.choice(["S", "C", "Q"], N),
        }
    )


def california_housing() -> pd.DataFrame:
    rng = _rng()
    return pd.DataFrame(
        {
            "MedInc": rng.lognormal(1, 0.3, N),
            "HouseAge": rng.integers(1, 52, N).astype(float),
            "AveRooms": rng.normal(5, 1, N),
            "Population": rng.integers(3, 5_000, N).astype(float),
            "Latitude": rng.uniform(32, 42, N),
            "Longitude": rng.uniform(-124, -114, N),
            "MedHouseVal": rng.lognormal(0.5, 0.5, N),
            "clf_target": rng.integers(0, 2, N),
            "y_pred": rng.integers(0, 2, N),
            "y_pred_proba": rng.random(N),
        }
    )


def adult_census() -> pd.DataFrame:
    rng = _rng()
    return pd.DataFrame(
        {
            "age": rng.integers(17, 90, N),
            "workclass": rng.choice(["Private", "Self-emp", "State-gov"], N),
            "fnlwgt": rng.integers(10_000, 1_000_000, N),
            "education": rng.choice(["Bachelors", "HS-grad", "Masters"], N),
            "education-num": rng.integers(1, 16, N),
            "marital-status": rng.choice(["Never-married", "Divorced"], N),
            "sex": rng.choice(["Male", "Female"], N),
            "capital-gain": rng.integers(0, 10_000, N),
            "hours-per-week": rng.integers(10, 80, N),
            "native-country": rng.choice(["United-States", "Mexico"], N),
            "class": rng.choice([">50K", "<=50K"], N),
        }
    )


def credit_default() -> pd.DataFrame:
    rng = _rng()
    frame = pd.DataFrame(
        {
            "ID": np.arange(1, N + 1),
            "LIMIT_BAL": rng.integers(10_000, 500_000, N).astype(float),
            "SEX": rng.integers(1, 3, N),
            "EDUCATION": rng.integers(1, 5, N),
            "AGE": rng.integers(21, 75, N),
            "PAY_0": rng.integers(-2, 8, N),
            "BILL_AMT1": rng.normal(50_000, 20_000, N),
            "PAY_AMT1": rng.lognormal(8, 1, N),
            "default payment next month": rng.integers(0, 2, N),
        }
    )
    return frame


def telco_churn() -> pd.DataFrame:
    rng = _rng()
    return pd.DataFrame(
        {
            "customerID": [f"{rng.integers(1000, 9999)}-{i:05d}" for i in range(N)],
            "gender": rng.choice(["Male", "Female"], N),
            "SeniorCitizen": rng.integers(0, 2, N),
            "is_senior": rng.integers(0, 2, N),
            "Partner": rng.choice(["Yes", "No"], N),
            "tenure": rng.integers(0, 72, N),
            "MonthlyCharges": rng.uniform(18, 120, N).round(2),
            "credit_score": rng.integers(300, 850, N),
            "churn_probability": rng.random(N),
            "Churn": rng.choice(["Yes", "No"], N),
        }
    )


CASES = [
    (titanic, {"id": "PassengerId", "target": "Survived"}),
    (
        california_housing,
        {"target": "clf_target", "prediction": "y_pred_proba", "prediction_label": "y_pred"},
    ),
    (adult_census, {"target": "class"}),
    (credit_default, {"id": "ID", "target": "default payment next month"}),
    (telco_churn, {"id": "customerID", "target": "Churn", "prediction": "churn_probability"}),
]


@pytest.mark.parametrize(("make", "expected"), CASES, ids=[c[0].__name__ for c in CASES])
def test_roles_a_person_would_give(make, expected):
    resolved = mk.ColumnSpec().resolve(make())
    found = {c.role: c.name for c in resolved.columns if c.role != "feature"}
    assert found == expected
    for column in resolved.columns:
        assert column.reason, column.name  # every role and kind says why


def test_scores_outside_zero_one_and_is_flags_stay_features():
    resolved = mk.ColumnSpec().resolve(telco_churn())
    assert resolved["credit_score"].role == "feature"
    assert resolved["is_senior"].role == "feature"


def test_a_unique_increasing_integer_is_an_id_whatever_its_name():
    frame = titanic().rename(columns={"PassengerId": "row"})
    assert mk.ColumnSpec().resolve(frame)["row"].kind == "id"
    shuffled = frame.assign(row=np.random.default_rng(1).permutation(frame["row"].to_numpy()))
    assert mk.ColumnSpec().resolve(shuffled)["row"].kind == "numeric"  # unique, not ordered


def test_an_uncertain_guess_says_so_and_how_to_change_it():
    frame = california_housing().assign(y_pred=lambda f: f["y_pred_proba"] * 3.0)
    info = mk.ColumnSpec().resolve(frame)["y_pred"]
    assert info.role == "prediction_label"
    assert "a guess" in info.reason and "prediction_label=" in info.reason


def test_declared_roles_win_over_inference():
    spec = mk.ColumnSpec(target="MedHouseVal", prediction="y_pred")
    resolved = spec.resolve(california_housing())
    assert resolved.target == "MedHouseVal" and resolved.prediction == "y_pred"
    assert resolved["clf_target"].role == "feature"


def test_titanic_id_no_longer_makes_a_report_critical():
    frame = titanic()
    reference, current = frame.iloc[:200], frame.iloc[200:]
    drift = mk.DriftReport(reference, current)
    assert "PassengerId" in drift.skipped_columns
    assert "PassengerId" not in drift.drifted_columns


@pytest.mark.parametrize(
    ("name", "tokens"),
    [
        ("PassengerId", ["passenger", "id"]),
        ("clf_target", ["clf", "target"]),
        ("y_pred_proba", ["y", "pred", "proba"]),
        ("HTTPStatusCode", ["http", "status", "code"]),
        ("default payment next month", ["default", "payment", "next", "month"]),
    ],
)
def test_name_tokens(name, tokens):
    assert name_tokens(name) == tokens
