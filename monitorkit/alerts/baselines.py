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

NaN and infinite values are left out before anything is computed.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

SEASONAL_MATCHES = ("weekday", "hour", "weekday_hour")


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
    weeks: int = 4,
    tolerance_hours: float = 0.0,
) -> list[float]:
    """The finite values of earlier ``(time, value)`` points in the same season as ``now``
    (:func:`same_season`), oldest first."""
    return _finite(
        [value for when, value in points if same_season(when, now, match, weeks, tolerance_hours)]
    )
