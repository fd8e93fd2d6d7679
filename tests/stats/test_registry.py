"""The drift-method registry: specs, lookup messages, custom registration, drift decisions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from monitorkit.errors import InputError
from monitorkit.stats import (
    COLUMN_KINDS,
    DriftMethod,
    MethodResult,
    available_methods,
    get_method,
    register_method,
    unregister_method,
)

pytestmark = pytest.mark.filterwarnings("error")

NUMERIC = [
    "anderson",
    "cramer_von_mises",
    "empirical_mmd",
    "energy",
    "hellinger",
    "jensen_shannon",
    "kl_div",
    "ks",
    "mann_whitney",
    "psi",
    "t_test",
    "wasserstein",
]
CATEGORICAL = ["chi2", "hellinger", "jensen_shannon", "kl_div", "l_infinity", "psi", "tvd"]


def test_built_in_methods_per_kind():
    assert available_methods("numeric") == NUMERIC
    assert available_methods("categorical") == CATEGORICAL
    assert available_methods("boolean") == sorted(CATEGORICAL + ["fisher_exact", "z"])
    assert available_methods() == sorted(set(NUMERIC + CATEGORICAL + ["fisher_exact", "z"]))


@pytest.mark.parametrize("name", available_methods())
def test_built_in_specs_are_consistent(name):
    method = get_method(name)
    assert method.name == name and method.label and method.description.endswith(".")
    low, high = method.statistic_range
    if method.threshold_on == "p_value":
        assert method.drift_when == "below" and method.default_threshold == 0.05
    else:
        assert method.drift_when == "above" and low <= method.default_threshold <= high
    for kind in method.kinds:
        assert callable(method.func_for(kind))


def test_defaults_from_the_literature():
    thresholds = {name: get_method(name).default_threshold for name in available_methods()}
    assert thresholds["psi"] == 0.2
    assert all(
        thresholds[name] == 0.1
        for name in [
            "jensen_shannon",
            "hellinger",
            "kl_div",
            "wasserstein",
            "energy",
            "tvd",
            "l_infinity",
        ]
    )
    assert [name for name in available_methods() if get_method(name).cost == "expensive"] == [
        "empirical_mmd"
    ]


def test_shared_entries_dispatch_by_kind():
    psi = get_method("psi")
    assert psi.func_for("numeric") is psi.numeric_func
    assert psi.func_for("categorical") is psi.counts_func is psi.func_for("boolean")
    assert psi.numeric_func is not psi.counts_func


def test_unknown_name_lists_methods_and_suggests_the_closest():
    with pytest.raises(InputError) as excinfo:
        get_method("kss")
    message = str(excinfo.value)
    assert message.startswith("unknown drift method 'kss' (did you mean 'ks'?); ")
    assert "for numeric columns: " + ", ".join(NUMERIC) in message
    assert "for categorical columns: " + ", ".join(CATEGORICAL) in message
    assert "for boolean columns: " in message


def test_unknown_name_without_a_close_match_has_no_suggestion():
    with pytest.raises(InputError, match=r"^unknown drift method 'qqqqqq'; available") as excinfo:
        get_method("qqqqqq")
    assert "did you mean" not in str(excinfo.value)


def test_method_that_does_not_apply_to_a_kind():
    with pytest.raises(InputError, match=r"'chi2' does not apply to numeric columns.*anderson"):
        get_method("chi2", kind="numeric")
    with pytest.raises(InputError, match="unknown column kind 'text'"):
        available_methods("text")


@pytest.fixture
def cleanup():
    names: list[str] = []
    yield names
    for name in names:
        if name in available_methods():
            unregister_method(name)


def test_register_a_custom_method_with_the_decorator(cleanup):
    cleanup.append("mean_shift")

    @register_method(
        "mean_shift",
        label="Mean shift",
        kinds={"numeric"},
        default_threshold=0.5,
        threshold_on="statistic",
        drift_when="above",
        statistic_range=(0.0, math.inf),
        description="Absolute difference of the means.",
    )
    def mean_shift(reference, current):
        return MethodResult(abs(float(current.mean() - reference.mean())), None)

    assert callable(mean_shift) and mean_shift.__name__ == "mean_shift"  # returned unchanged
    method = get_method("mean_shift", kind="numeric")
    assert "mean_shift" in available_methods("numeric")
    assert "mean_shift" not in available_methods("categorical")
    result = method.func_for("numeric")(np.array([0.0, 1.0]), np.array([1.0, 2.0]))
    assert result.statistic == 1.0 and method.is_drift(result)

    with pytest.raises(InputError, match="'mean_shift' is already registered.*replace=True"):
        register_method(
            "mean_shift",
            label="Other",
            kinds={"numeric"},
            default_threshold=1.0,
            threshold_on="statistic",
            drift_when="above",
            statistic_range=(0.0, math.inf),
            description="Another.",
        )(mean_shift)
    assert get_method("mean_shift").label == "Mean shift"


def test_register_with_replace_overwrites(cleanup):
    cleanup.append("share_gap")
    spec = dict(
        kinds={"categorical", "boolean"},
        threshold_on="statistic",
        drift_when="above",
        statistic_range=(0.0, 1.0),
        description="Gap.",
    )
    register_method("share_gap", label="First", default_threshold=0.1, **spec)(lambda r, c: None)
    register_method("share_gap", label="Second", default_threshold=0.2, replace=True, **spec)(
        lambda r, c: None
    )
    assert get_method("share_gap").label == "Second"
    assert get_method("share_gap").counts_func is not None


def test_register_a_method_for_both_conventions(cleanup):
    cleanup.append("both")
    method = register_method(
        "both",
        label="Both",
        kinds=["numeric", "categorical"],
        default_threshold=0.05,
        threshold_on="p_value",
        drift_when="below",
        statistic_range=(0.0, 1.0),
        description="Both.",
        numeric_func=lambda r, c: "numeric",
        counts_func=lambda r, c: "counts",
    )
    assert isinstance(method, DriftMethod) and get_method("both") is method
    assert method.func_for("numeric")(None, None) == "numeric"
    assert method.func_for("categorical")(None, None) == "counts"
    with pytest.raises(InputError, match="does not apply to boolean"):
        method.func_for("boolean")


def test_decorator_refuses_mixed_conventions():
    with pytest.raises(InputError, match="numeric_func=..., counts_func="):
        register_method(
            "mixed",
            label="Mixed",
            kinds={"numeric", "boolean"},
            default_threshold=0.1,
            threshold_on="statistic",
            drift_when="above",
            statistic_range=(0.0, 1.0),
            description="Mixed.",
        )(lambda r, c: None)
    assert "mixed" not in available_methods()


@pytest.mark.parametrize(
    "change, match",
    [
        ({"name": "Bad Name"}, "lower-case"),
        ({"kinds": {"text"}}, "kinds must be"),
        ({"kinds": set()}, "kinds must be"),
        ({"threshold_on": "pvalue"}, "threshold_on"),
        ({"drift_when": "over"}, "drift_when"),
        ({"cost": "free"}, "cost"),
        ({"default_threshold": float("nan")}, "default_threshold"),
        ({"statistic_range": (1.0, 0.0)}, "statistic_range"),
        ({"statistic_range": 3}, "statistic_range"),
        ({"description": ""}, "description"),
    ],
)
def test_invalid_specs_are_refused(change, match):
    spec = dict(
        name="valid_name",
        label="Valid",
        kinds={"numeric"},
        default_threshold=0.1,
        threshold_on="statistic",
        drift_when="above",
        statistic_range=(0.0, 1.0),
        description="Valid.",
    )
    spec.update(change)
    with pytest.raises(InputError, match=match):
        register_method(**spec)(lambda r, c: None)
    assert "valid_name" not in available_methods()


def test_unregister_unknown_name():
    with pytest.raises(InputError, match="unknown drift method 'nope'"):
        unregister_method("nope")


def test_is_drift_applies_threshold_on_and_direction():
    ks, psi = get_method("ks"), get_method("psi")
    assert ks.is_drift(MethodResult(0.3, 0.01))
    assert not ks.is_drift(MethodResult(0.3, 0.05))  # p < 0.05 strictly
    assert ks.is_drift(MethodResult(0.3, 0.05), threshold=0.1)
    assert psi.is_drift(MethodResult(0.2, None))  # PSI >= 0.2
    assert not psi.is_drift(MethodResult(0.19, None))
    assert not psi.is_drift(MethodResult(0.3, None), threshold=0.5)
    # a degenerate result is a finding, not drift
    assert not ks.is_drift(MethodResult(math.nan, math.nan))
    assert not psi.is_drift(MethodResult(math.nan, None))
    with pytest.raises(InputError, match="p_value=None"):
        ks.is_drift(MethodResult(0.3, None))


def test_method_result_is_a_plain_value():
    result = MethodResult(0.25, None)
    assert result.to_dict() == {"statistic": 0.25, "p_value": None}
    with pytest.raises(AttributeError):
        result.statistic = 1.0  # frozen


def test_built_in_results_are_python_floats():
    reference, current = np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 3.0, 4.0, 5.0])
    for name in available_methods("numeric"):
        result = get_method(name).func_for("numeric")(reference, current)
        assert type(result.statistic) is float
        assert result.p_value is None or type(result.p_value) is float


def test_column_kinds():
    assert COLUMN_KINDS == ("numeric", "categorical", "boolean")
