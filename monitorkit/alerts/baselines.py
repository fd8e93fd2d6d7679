"""Dynamic baselines from a model's report history: rolling bands, EWMA bands, seasonal picks.

Pure functions of numbers and times (no files, no rules): :mod:`monitorkit.alerts.evaluate`
feeds them the values a figure took in earlier runs.

* :func:`rolling_band` — the mean and the sample standard deviation (``ddof=1``) of the last
  ``window`` values: the band is ``mean ± k·std``.
* :func:`ewma_band` — the exponentially weighted mean and standard deviation of the values
  (``alpha`` the weight of the newest value; the recursion of ``pandas.Series.ewm(alpha=…,
  adjust=False)``, variance with ``bias=True``).
* :func:`seasonal_values` — of earlier runs, those at the same weekday and/or hour as now
  within the last ``weeks`` weeks, so that a weekly or daily pattern is compared with itself.
* :func:`prediction_multiplier` and :func:`prediction_score` — the small-sample correction of
  a band estimated from ``n`` values: the Student-t prediction interval for the next value,
  with ``k`` read as the coverage of ``±k`` standard deviations of a normal distribution.

NaN and infinite values are left out before anything is computed.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

SEASONAL_MATCHES = ("weekday", "hour", "weekday_hour")
DEFAULT_WEEKS = 8
"""A seasonal baseline looks back this many weeks by default."""


@dataclass(frozen=True)
class Band:
    """A centre and a spread: the band at ``k`` is ``[centre - k·spread, centre + k·spread]``.

    ``n`` is the number of values it was computed from.
    """

    centre: float
    spread: float
    n: int

    def limits(self, k: float) -> tuple[float, float]:
        return self.centre - k * self.spread, self.centre + k * self.spread

    def score(self, value: float, min_spread: float = 0.0) -> float:
        """How many spreads ``value`` lies from the centre (signed). A zero spread gives
        ±inf for any other value and 0 for the centre itself."""
        spread = max(self.spread, min_spread)
        difference = value - self.centre
        if spread > 0:
            return difference / spread
        if difference == 0:
            return 0.0
        return math.copysign(math.inf, difference)


def _finite(values: Sequence[float]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def rolling_band(values: Sequence[float], window: int | None = None) -> Band | None:
    """Mean and sample standard deviation (``ddof=1``) of the last ``window`` finite values
    (all when None). None with fewer than 2 values.

    >>> rolling_band([1.0, 2.0, 3.0, 4.0], window=3)
    Band(centre=3.0, spread=1.0, n=3)
    """
    finite = _finite(values)
    if window is not None:
        finite = finite[-window:] if window > 0 else []
    n = len(finite)
    if n < 2:
        return None
    mean = math.fsum(finite) / n
    variance = math.fsum((v - mean) ** 2 for v in finite) / (n - 1)
    return Band(mean, math.sqrt(variance), n)


def ewma_band(values: Sequence[float], alpha: float, window: int | None = None) -> Band | None:
    """Exponentially weighted mean and standard deviation of the last ``window`` finite values.

    With values ``x_0 … x_{n-1}`` (oldest first) the weights are ``(1-alpha)^(n-1)`` for
    ``x_0`` and ``alpha·(1-alpha)^(n-1-i)`` for ``x_i`` (i ≥ 1); they sum to 1. The mean is the
    weighted mean, the variance the weighted mean of squared deviations from it — what
    ``pandas.Series.ewm(alpha=alpha, adjust=False)`` gives with ``.mean()`` and
    ``.var(bias=True)``. None with fewer than 2 values.

    >>> ewma_band([1.0, 1.0, 1.0], alpha=0.5)
    Band(centre=1.0, spread=0.0, n=3)
    """
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha must be in (0, 1]; got {alpha!r}")
    finite = _finite(values)
    if window is not None:
        finite = finite[-window:] if window > 0 else []
    n = len(finite)
    if n < 2:
        return None
    weights = [(1 - alpha) ** (n - 1)] + [alpha * (1 - alpha) ** (n - 1 - i) for i in range(1, n)]
    total = math.fsum(weights)
    mean = math.fsum(w * v for w, v in zip(weights, finite)) / total
    variance = math.fsum(w * (v - mean) ** 2 for w, v in zip(weights, finite)) / total
    return Band(mean, math.sqrt(max(variance, 0.0)), n)


def same_season(
    when: dt.datetime, now: dt.datetime, match: str, weeks: int, tolerance_hours: float = 0.0
) -> bool:
    """True when ``when`` (earlier than ``now``) is in the same season as ``now``: the same
    weekday (``"weekday"``), hour of day (``"hour"``) or both (``"weekday_hour"``) — in
    ``now``'s time zone — and no more than ``weeks`` weeks (plus ``tolerance_hours``) before.
    """
    if match not in SEASONAL_MATCHES:
        raise ValueError(f"match must be one of {', '.join(SEASONAL_MATCHES)}; got {match!r}")
    if when.tzinfo is not None and now.tzinfo is not None:
        when = when.astimezone(now.tzinfo)
    age = now - when
    if age <= dt.timedelta(0) or age > dt.timedelta(weeks=weeks, hours=tolerance_hours):
        return False
    same_weekday = when.weekday() == now.weekday()
    same_hour = when.hour == now.hour
    if match == "weekday":
        return same_weekday
    if match == "hour":
        return same_hour
    return same_weekday and same_hour


def seasonal_values(
    points: Sequence[tuple[dt.datetime, float]],
    now: dt.datetime,
    *,
    match: str = "weekday",
    weeks: int = DEFAULT_WEEKS,
    tolerance_hours: float = 0.0,
) -> list[float]:
    """The finite values of earlier ``(time, value)`` points in the same season as ``now``
    (:func:`same_season`), oldest first."""
    return _finite(
        [value for when, value in points if same_season(when, now, match, weeks, tolerance_hours)]
    )


def prediction_multiplier(k: float, n: int) -> float:
    """The half-width, in sample standard deviations, of the prediction interval for one new
    value from ``n`` earlier ones, at the coverage that ``±k`` standard deviations have when
    the standard deviation is known.

    With ``n`` independent normal values of mean ``m`` and sample standard deviation ``s``
    (``ddof=1``), the next value ``x`` satisfies ``(x - m) / (s·sqrt(1 + 1/n)) ~ t_{n-1}``. The
    interval ``m ± M·s`` with

        ``M(k, n) = t_{n-1}.isf(Φ(-|k|)) · sqrt(1 + 1/n)``  (signed like ``k``)

    therefore holds the next value with probability ``2·Φ(|k|) - 1`` — exactly that of
    ``±k·σ`` for a known σ (k = 3: 99.73%; a value outside it on either side has probability
    0.27%). ``M`` tends to ``|k|`` as ``n`` grows; for few values it is much wider (k = 3:
    22.2 at n = 3, 10.3 at n = 4, 4.80 at n = 8, 3.53 at n = 20). ``n`` below 2 gives NaN.

    >>> round(prediction_multiplier(3.0, 8), 3)
    4.805
    """
    if n < 2 or not math.isfinite(k):
        return math.nan if n < 2 else k
    quantile = float(stats.t.isf(stats.norm.sf(abs(k)), n - 1))
    return math.copysign(quantile * math.sqrt(1 + 1 / n), k)


def prediction_score(value: float, centre: float, spread: float, n: int) -> float:
    """How unusual ``value`` is next to ``n`` earlier values of mean ``centre`` and sample
    standard deviation ``spread``, as the number of known-σ standard deviations with the same
    tail probability (signed; the inverse of :func:`prediction_multiplier`).

    ``u = (value - centre) / (spread·sqrt(1 + 1/n))`` is Student-t with ``n - 1`` degrees of
    freedom when the values are independent and normal; the score is
    ``sign(u)·Φ⁻¹(1 - T_{n-1}(-|u|))``, so ``|score| ≥ k`` exactly when ``value`` lies outside
    ``centre ± prediction_multiplier(k, n)·spread``. A zero spread gives ±inf for any other
    value and 0 for the centre itself; ``n`` below 2 gives NaN.

    >>> round(prediction_score(prediction_multiplier(3.0, 8), 0.0, 1.0, 8), 9)
    3.0
    """
    if n < 2:
        return math.nan
    difference = value - centre
    if difference == 0:
        return 0.0
    if not spread > 0:
        return math.copysign(math.inf, difference)
    u = abs(difference) / (spread * math.sqrt(1 + 1 / n))
    return math.copysign(float(stats.norm.isf(stats.t.sf(u, n - 1))), difference)
