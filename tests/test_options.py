"""method= and threshold= are checked before any column is computed, with suggestions."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import monitorkit as mk
from monitorkit import stats
from monitorkit.drift import report as drift_report
from monitorkit.drift.columns import DEFAULT_METHODS
from monitorkit.drift.options import OPTION_KINDS, choose_methods, option_for
from monitorkit.errors import InputError


@pytest.fixture(scope="module")
def cars() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(11)

    def frame(n: int, shift: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "age": rng.normal(40 + shift, 10, n),
                "car_value": rng.gamma(3.0, 5_000 + 1_000 * shift, n),
                "city": rng.choice(["paris", "lyon", "lille"], n),
                "insured": rng.random(n) < 0.4,
            }
        )

    return frame(2_000, 0.0), frame(2_000, 1.5)


def _message(cars, **options) -> str:
    with pytest.raises(InputError) as error:
        mk.DriftReport(*cars, multivariate=False, **options)
    return str(error.value)


# ---- keys: columns or kinds ----------------------------------------------------------------


def test_a_misspelt_kind_is_named_with_the_kind_it_resembles(cars):
    message = _message(cars, method={"numerical": "psi"})
    assert "'numerical' is neither a column nor a kind; did you mean 'numeric'?" in message
    for kind in OPTION_KINDS:
        assert kind in message


def test_a_misspelt_column_is_named_with_the_column_it_resembles(cars):
    message = _message(cars, threshold={"car_valeu": 0.3})
    assert "'car_valeu' is neither a column nor a kind; did you mean 'car_value'?" in message
    assert message.startswith("threshold['car_valeu']")


def test_a_kind_that_is_not_tested_is_explained(cars):
    assert "datetime columns are not tested for drift" in _message(cars, method={"datetime": "psi"})


def test_a_key_far_from_everything_lists_what_is_valid(cars):
    message = _message(cars, method={"zzz": "psi"})
    assert "did you mean" not in message
    assert "'age'" in message and "numeric, categorical, boolean" in message


# ---- method names, from the registry -------------------------------------------------------


def test_an_unknown_method_lists_the_registered_ones(cars):
    for option in ("kss", {"age": "kss"}, {"numeric": "kss"}):
        message = _message(cars, method=option)
        assert "unknown drift method 'kss'" in message and "did you mean 'ks'" in message
        for name in stats.available_methods():
            assert name in message


def test_a_newly_registered_method_appears_in_the_message(cars):
    @stats.register_method(
        "options_test_gap",
        label="Gap",
        kinds=["numeric"],
        default_threshold=0.5,
        threshold_on="statistic",
        drift_when="above",
        statistic_range=(0.0, math.inf),
        description="a test method",
    )
    def gap(reference, current):
        return stats.MethodResult(abs(current.mean() - reference.mean()), None)

    try:
        assert "options_test_gap" in _message(cars, method="options_test_ga")
    finally:
        stats.unregister_method("options_test_gap")


def test_a_method_for_another_kind_names_column_kind_and_what_applies(cars):
    message = _message(cars, method={"city": "ks"})
    assert "does not apply to categorical column 'city'" in message
    for name in stats.available_methods("categorical"):
        assert name in message
    message = _message(cars, method="ks")  # one method for columns of every kind
    assert "'ks' does not apply to" in message and "method by kind" in message
    kind_keyed = _message(cars, method={"boolean": "anderson"})
    assert "method['boolean']" in kind_keyed and "does not apply to boolean" in kind_keyed


def test_a_method_that_is_not_a_name_is_refused(cars):
    assert "must be a method name" in _message(cars, method=["psi"])
    assert "method['age'] must be a method name" in _message(cars, method={"age": 3})


# ---- thresholds ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [
        (math.nan, "threshold must be a finite number"),
        ({"age": math.inf}, r"threshold['age'] must be a finite number"),
        ("high", "threshold must be a number"),
        (True, "threshold must be a number"),
        ({"age": "0.1"}, "threshold['age'] must be a number"),
    ],
)
def test_a_threshold_that_is_not_a_finite_number_is_refused(cars, threshold, expected):
    assert expected in _message(cars, threshold=threshold)


def test_a_threshold_outside_what_it_is_compared_with_is_refused(cars):
    assert "compared with the p-value of ks" in _message(cars, threshold={"age": 5})
    message = _message(cars, method={"age": "psi"}, threshold={"age": -1})
    assert "compared with the psi statistic" in message and "[0, inf]" in message


# ---- checked before any column is computed -------------------------------------------------


def test_options_are_checked_before_any_column_is_prepared(cars, monkeypatch):
    prepared = []
    original = drift_report.prepare
    monkeypatch.setattr(
        drift_report, "prepare", lambda *a, **k: prepared.append(a) or original(*a, **k)
    )
    for bad in ({"method": {"numerical": "psi"}}, {"threshold": {"car_valeu": 0.3}}):
        with pytest.raises(InputError):
            mk.DriftReport(*cars, multivariate=False, **bad)
    assert prepared == []
    mk.DriftReport(*cars, multivariate=False)
    assert len(prepared) == 4  # the patch does see columns being prepared


def test_the_profile_path_checks_options_too(cars):
    reference = mk.profile(cars[0])
    with pytest.raises(InputError, match="did you mean 'numeric'"):
        mk.DriftReport(reference, cars[1], method={"numerical": "psi"})
    with pytest.raises(InputError, match="did you mean 'car_value'"):
        mk.DriftReport(mk.Baseline.from_frame(cars[0]), cars[1], threshold={"car_valeu": 0.3})


# ---- valid keys still work -----------------------------------------------------------------


def test_a_kind_key_sets_the_method_of_every_column_of_that_kind(cars):
    drift = mk.DriftReport(*cars, method={"numeric": "psi"}, multivariate=False)
    assert drift["age"].method == drift["car_value"].method == "psi"
    assert drift["age"].threshold == stats.get_method("psi").default_threshold
    assert drift["city"].method == DEFAULT_METHODS["categorical"]
    assert drift["city"].decision == "rule" and drift["age"].decision == "method"


def test_a_column_key_sets_that_columns_threshold_only(cars):
    default = mk.DriftReport(*cars, multivariate=False)
    drift = mk.DriftReport(*cars, threshold={"age": 0.3}, multivariate=False)
    assert drift["age"].threshold == 0.3 and default["age"].threshold != 0.3
    assert drift["age"].decision == "method"
    assert drift["age"].values_drifted == (drift["age"].p_value < 0.3)
    for column in ("car_value", "city", "insured"):
        assert drift[column].threshold == default[column].threshold
        assert drift[column].decision == "rule"


def test_a_profile_reference_takes_valid_keys(cars):
    reference = mk.profile(cars[0])
    drift = mk.DriftReport(reference, cars[1], method={"numeric": "psi"}, threshold={"age": 0.5})
    assert drift["car_value"].method == "psi" and drift["age"].threshold == 0.5


def test_choose_methods_by_hand():
    defaults = {"numeric": "ks", "categorical": "chi2", "boolean": "chi2"}
    columns = {"age": "numeric", "fare": "numeric", "city": "categorical"}
    choices = choose_methods(
        columns,
        method={"numeric": "psi", "age": "wasserstein", "city": None},
        threshold={"fare": 0.25, "categorical": 0.01},
        defaults=defaults,
        known_columns=[*columns, "request_id"],
    )
    assert choices["age"].method.name == "wasserstein"  # the column's key wins over its kind's
    assert choices["age"].threshold == stats.get_method("wasserstein").default_threshold
    assert (choices["fare"].method.name, choices["fare"].threshold) == ("psi", 0.25)
    assert choices["city"] == (stats.get_method("chi2"), 0.01, False)  # threshold alone
    unset = choose_methods(columns, defaults=defaults, known_columns=columns)
    assert all(c.default_rule and c.threshold is None for c in unset.values())
    # a column of the data that is not tested (an id) is a valid key, and simply unused
    assert choose_methods(
        columns, threshold={"request_id": 0.1}, defaults=defaults, known_columns=["request_id"]
    )["age"].default_rule
    assert option_for(0.2, "any", "boolean") == 0.2
