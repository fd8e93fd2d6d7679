"""The band statistics against numpy / pandas and hand-computed cases (hypothesis)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from monitorkit.alerts.baselines import (
    Band,
    ewma_band,
    prediction_multiplier,
    prediction_score,
    rolling_band,
    same_season,
    seasonal_values,
)

values_strategy = st.lists(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False),
    min_size=2,
    max_size=60,
)


@given(values_strategy, st.integers(min_value=2, max_value=80))
def test_rolling_band_is_numpy_mean_and_sample_std_of_the_last_window(values, window):
    band = rolling_band(values, window)
    last = np.array(values[-window:])
    assert band.n == len(last)
    assert band.centre == pytest.approx(last.mean(), rel=1e-9, abs=1e-6)
    assert band.spread == pytest.approx(last.std(ddof=1), rel=1e-7, abs=1e-6)


@given(values_strategy, st.floats(min_value=0.01, max_value=1.0))
def test_ewma_band_is_pandas_ewm_without_adjustment(values, alpha):
    band = ewma_band(values, alpha)
    series = pd.Series(values, dtype=float)
    ewm = series.ewm(alpha=alpha, adjust=False)
    assert band.centre == pytest.approx(ewm.mean().iloc[-1], rel=1e-9, abs=1e-6)
    # Variances, with a tolerance on the scale of the values (pandas and the weighted sum
    # round differently when a weight is ~1e-16).
    scale = 1.0 + max(abs(v) for v in values) ** 2
    assert band.spread**2 == pytest.approx(ewm.var(bias=True).iloc[-1], rel=1e-6, abs=1e-9 * scale)


@given(values_strategy)
def test_ewma_with_alpha_1_is_the_last_value_and_no_spread(values):
    band = ewma_band(values, 1.0)
    assert band.centre == values[-1] and band.spread == 0.0


@given(values_strategy, st.floats(min_value=0.1, max_value=5))
def test_band_limits_and_score_agree(values, k):
    band = rolling_band(values)
    lower, upper = band.limits(k)
    if band.spread > 1e-9 * (1 + abs(band.centre)):  # a spread that is not rounding noise
        assert band.score(upper) == pytest.approx(k, rel=1e-6)
        assert band.score(lower) == pytest.approx(-k, rel=1e-6)
    assert band.score(band.centre) == 0.0


def test_hand_computed_cases():
    assert rolling_band([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]) == Band(5.0, math.sqrt(32 / 7), 8)
    # alpha 0.5 over [0, 2]: weights 0.5, 0.5 -> mean 1, variance 1
    assert ewma_band([0.0, 2.0], 0.5) == Band(1.0, 1.0, 2)
    assert rolling_band([1.0]) is None and rolling_band([1.0, float("nan")]) is None
    assert rolling_band([1.0, float("nan"), 3.0]) == Band(2.0, math.sqrt(2), 2)
    zero = Band(1.0, 0.0, 5)
    assert zero.score(1.0) == 0.0 and zero.score(1.5) == math.inf and zero.score(0.5) == -math.inf
    assert zero.score(1.5, min_spread=0.25) == 2.0
    with pytest.raises(ValueError, match="alpha"):
        ewma_band([1.0, 2.0], 0.0)


NOW = dt.datetime(2026, 3, 2, 6, 10, tzinfo=dt.timezone.utc)  # a Monday


@given(
    st.lists(st.integers(min_value=1, max_value=24 * 70), min_size=0, max_size=80),
    st.integers(min_value=1, max_value=8),
    st.sampled_from(["weekday", "hour", "weekday_hour"]),
)
def test_seasonal_values_are_exactly_the_same_season_within_the_weeks(hours_ago, weeks, match):
    points = [(NOW - dt.timedelta(hours=h), float(h)) for h in hours_ago]
    picked = seasonal_values(points, NOW, match=match, weeks=weeks)
    expected = []
    for when, value in points:
        age = NOW - when
        same_day, same_hour = when.weekday() == NOW.weekday(), when.hour == NOW.hour
        fits = {"weekday": same_day, "hour": same_hour, "weekday_hour": same_day and same_hour}
        if dt.timedelta(0) < age <= dt.timedelta(weeks=weeks) and fits[match]:
            expected.append(value)
    assert picked == expected


def test_seasonal_values_hand_case():
    points = [(NOW - dt.timedelta(weeks=w), 10.0 * w) for w in range(1, 7)]
    points += [(NOW - dt.timedelta(days=1), 99.0)]  # a Sunday: not a Monday
    assert seasonal_values(points, NOW, match="weekday", weeks=4) == [10.0, 20.0, 30.0, 40.0]
    late = NOW - dt.timedelta(weeks=4, minutes=30)
    assert same_season(late, NOW, "weekday", 4, tolerance_hours=1)
    assert not same_season(late, NOW, "weekday", 4, tolerance_hours=0)
    assert not same_season(NOW, NOW, "weekday", 4)  # the run itself is not its own history


# --------------------------------------------------------------------------------------------
# The small-sample correction: the Student-t prediction interval at the coverage of ±k σ
# --------------------------------------------------------------------------------------------


def test_prediction_multiplier_hand_computed_against_scipy_t():
    # t with 2 degrees of freedom has a closed-form quantile: (2p − 1) / sqrt(2p(1 − p)).
    p = stats.norm.cdf(3)  # the coverage of ±3σ: 0.99865 one-sided
    t2 = (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    assert t2 == pytest.approx(19.2067, abs=1e-4)
    assert prediction_multiplier(3.0, 3) == pytest.approx(t2 * math.sqrt(4 / 3), rel=1e-9)
    assert prediction_multiplier(3.0, 3) == pytest.approx(22.178, abs=1e-3)
    for k, n in [(2.0, 4), (3.0, 8), (4.0, 20), (3.0, 1000)]:
        expected = stats.t.ppf(stats.norm.cdf(k), n - 1) * math.sqrt(1 + 1 / n)
        assert prediction_multiplier(k, n) == pytest.approx(expected, rel=1e-9)
        assert prediction_multiplier(-k, n) == pytest.approx(-expected, rel=1e-9)
    assert prediction_multiplier(3.0, 1000) == pytest.approx(3.0, abs=0.02)  # → k as n grows
    assert math.isnan(prediction_multiplier(3.0, 1)) and math.isnan(prediction_score(1, 0, 1, 1))
    zero = prediction_score(1.5, 1.0, 0.0, 5), prediction_score(1.0, 1.0, 0.0, 5)
    assert zero == (math.inf, 0.0)


@given(
    st.floats(min_value=0.1, max_value=6),
    st.integers(min_value=2, max_value=200),
    st.floats(min_value=1e-3, max_value=1e3),
    st.floats(min_value=-1e3, max_value=1e3),
)
def test_the_score_at_the_limit_is_k(k, n, spread, centre):
    limit = centre + prediction_multiplier(k, n) * spread
    assert prediction_score(limit, centre, spread, n) == pytest.approx(k, rel=1e-6)
    assert prediction_multiplier(k, n) >= k  # never narrower than the known-σ band


@pytest.mark.parametrize("n", [3, 4, 8])
def test_a_new_normal_value_leaves_the_interval_at_the_nominal_rate(n):
    # Simulated: n earlier values and one new one, 400 000 times. Outside ±M(3, n)·s: the
    # nominal 2·(1 − Φ(3)) = 0.270% (binomial sd 0.008%); the plain ±3·s is far above it.
    rng = np.random.default_rng(n)
    earlier = rng.normal(size=(400_000, n))
    new = rng.normal(size=400_000)
    deviation = np.abs(new - earlier.mean(axis=1)) / earlier.std(axis=1, ddof=1)
    rate = (deviation >= prediction_multiplier(3.0, n)).mean()
    assert rate == pytest.approx(2 * stats.norm.sf(3), abs=5 * 0.00008)
    assert (deviation >= 3.0).mean() > 3 * rate
