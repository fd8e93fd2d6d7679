"""Alert rules and channels: in code, or declared in a TOML file (``--alerts alerts.toml``).

A file holds ``[[channel]]`` and ``[[rule]]`` tables and an optional ``[defaults]`` table
(``docs/ALERTING.md`` is the full reference)::

    [[channel]]
    name = "ml-team"
    type = "slack"
    url_env = "SLACK_WEBHOOK_URL"   # secrets come from the environment, never from the file

    [[rule]]
    name = "recall drop"
    figure = "performance.recall"
    change_from_baseline = { warning = -0.10, critical = -0.15 }
    min_rows = 500
    channels = ["ml-team"]

Every rule turns a figure into a *score* and compares it with thresholds for ``warning`` and
``critical``:

``above`` / ``below``
    the figure itself (absolute thresholds).
``change_from_baseline``
    the relative change ``(value - baseline) / |baseline|`` against the training baseline (the
    figure ``<figure>.baseline`` a report publishes, or ``baseline = …``); ``true`` takes the
    defaults −10% warning, −15% critical (a drop; ``direction = "up"`` or ``"both"`` for others).
``band``
    how many standard deviations the figure is from the mean (or EWMA) of its last ``window``
    runs in ``reports/<model>/index.jsonl``.
``seasonal``
    the same, against earlier runs at the same weekday and/or hour over the last ``weeks``
    weeks (default 8).

Band and seasonal thresholds ``k`` (default 3 warning, 4 critical) are read as known-σ
standard deviations: a rolling or seasonal band from ``n`` runs is the Student-t prediction
interval ``mean ± t_{n-1}.isf(Φ(-k))·s·sqrt(1 + 1/n)``, which a new value of the same normal
noise leaves with probability ``2·(1 - Φ(k))`` whatever ``n`` (k = 3: 0.27%)
(:func:`monitorkit.alerts.baselines.prediction_multiplier`).

Mistakes raise :class:`AlertConfigError` naming the file, the rule or channel, the key, what
was found and the fix.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from monitorkit._toml import load_toml
from monitorkit.alerts.baselines import DEFAULT_WEEKS, SEASONAL_MATCHES
from monitorkit.errors import InputError
from monitorkit.severity import Severity

COMPARISONS = ("above", "below", "change_from_baseline", "band", "seasonal")
DIRECTIONS = ("up", "down", "both")
DEFAULT_CHANGE = {"warning": -0.10, "critical": -0.15}
DEFAULT_K = {"warning": 3.0, "critical": 4.0}
DEFAULT_MIN_HISTORY = 4
DEFAULT_COOLDOWN_S = 24 * 3600.0
BAND_METHODS = ("rolling", "ewma")


class AlertConfigError(InputError):
    """An alert rule, channel or rules file cannot be used as written (command line exit 2)."""


# --------------------------------------------------------------------------------------------
# What a rule compares
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """How a rule scores a figure, and the thresholds on that score.

    ``kind`` is one of :data:`COMPARISONS`; ``direction`` says which side breaches (``up``: a
    score at or above a threshold, ``down``: at or below, ``both``: ``|score|`` at or above);
    ``thresholds`` maps ``warning`` / ``critical`` to the threshold (for ``both``, positive).
    Band and seasonal comparisons score in standard deviations (``thresholds`` are ``k``).

    For a rolling band or a seasonal one, from ``n`` earlier runs of mean ``m`` and sample
    standard deviation ``s`` (``ddof=1``; at least ``min_std``), the score of a value ``x`` is
    ``sign(u)·Φ⁻¹(1 - T_{n-1}(-|u|))`` with ``u = (x - m) / (s·sqrt(1 + 1/n))``: the number of
    known-σ standard deviations with the same tail probability as ``x`` has under the Student-t
    prediction distribution of the next run. A score reaches ``k`` exactly when ``x`` is
    outside ``m ± t_{n-1}.isf(Φ(-k))·s·sqrt(1 + 1/n)`` — the band a run is shown against. When
    the runs are independent and normal, a new run breaches ``|k|`` (direction ``both``) with
    probability ``2·(1 - Φ(k))`` for every ``n`` (k = 3: 0.27%; k = 4: 0.006%), and ``k``
    alone as ``n`` grows. An EWMA band scores ``(x - centre) / spread`` (no correction: its
    spread is a weighted, biased estimate).
    """

    kind: str
    direction: str
    thresholds: tuple[tuple[str, float], ...]
    method: str = "rolling"  # band: rolling | ewma
    window: int = 20  # band: the last N runs
    alpha: float = 0.3  # band, ewma: weight of the newest run
    weeks: int = DEFAULT_WEEKS  # seasonal: the last K weeks
    match: str = "weekday"  # seasonal: weekday | hour | weekday_hour
    tolerance_hours: float = 1.0  # seasonal: a run a little late still counts as that week's
    min_history: int = DEFAULT_MIN_HISTORY  # band / seasonal: fewer earlier runs judge nothing
    min_std: float = 0.0  # band / seasonal: a floor on the spread (figure units)
    baseline: float | None = None  # change_from_baseline: a fixed baseline
    baseline_figure: str | None = None  # change_from_baseline: where the baseline is

    def threshold(self, severity: str) -> float | None:
        return dict(self.thresholds).get(severity)

    def breach(self, score: float, margin: float = 0.0) -> Severity:
        """The severity whose threshold ``score`` reaches. ``margin`` (hysteresis) moves every
        threshold that much towards the safe side, for an alert that is already firing."""
        worst = Severity.OK
        for severity, threshold in self.thresholds:
            if self.direction == "up":
                hit = score >= threshold - margin
            elif self.direction == "down":
                hit = score <= threshold + margin
            else:
                hit = abs(score) >= threshold - margin
            if hit and Severity(severity) > worst:
                worst = Severity(severity)
        return worst

    def describe(self) -> str:
        limits = ", ".join(f"{s} {_fmt(t)}" for s, t in self.thresholds)
        if self.kind == "above":
            return f"above ({limits})"
        if self.kind == "below":
            return f"below ({limits})"
        if self.kind == "change_from_baseline":
            limits = ", ".join(f"{s} {t:+.0%}" for s, t in self.thresholds)
            return f"change from baseline ({limits})"
        ks = ", ".join(f"{s} {t:g}σ" for s, t in self.thresholds)
        if self.kind == "band":
            if self.method == "rolling":
                return (
                    f"outside the t prediction interval of the last {self.window} runs at k "
                    f"standard deviations ({ks})"
                )
            return (
                f"outside the EWMA (alpha {self.alpha:g}) ± k·std of the last {self.window} "
                f"runs ({ks})"
            )
        return (
            f"outside the t prediction interval of the same {self.match.replace('_', ' and ')} "
            f"over the last {self.weeks} weeks at k standard deviations ({ks})"
        )


def _fmt(value: float) -> str:
    return f"{value:.4g}"


@dataclass(frozen=True)
class Rule:
    """One alert rule: a figure (a ``*`` glob matches several), a comparison, and when to fire.

    Parameters
    ----------
    name
        Unique; part of the alert's fingerprint.
    figure
        A figure name as published in ``summary.json`` (``performance.recall``); ``*`` matches
        any run of characters (``drift.column.*.statistic``): each match is its own alert.
    comparison
        :class:`Comparison` (build it with :func:`rule` or a TOML table).
    segment
        Read ``<figure>|<segment>`` (per-segment figures); ``"*"`` every segment.
    min_rows
        Judge only when the run's row count (``rows_figure``, else the figure's own
        ``<figure>.rows``, else its report's ``labelled_rows`` / ``rows``; for a segment, the
        counts of that segment) is at least this.
    for_runs
        Fire only after this many consecutive breaching runs (persistence).
    resolve_after
        Resolve only after this many consecutive clear runs.
    hysteresis
        While firing, the thresholds move this much (in score units) to the safe side.
    cooldown_s
        An open alert is re-sent after this many seconds (or at once when its severity rises).
    channels
        Channel names to notify.
    if_missing
        ``"error"``: a figure no run ever published is a mistake; ``"skip"``: judge nothing.
    """

    name: str
    figure: str
    comparison: Comparison
    segment: str | None = None
    min_rows: int | None = None
    rows_figure: str | None = None
    for_runs: int = 1
    resolve_after: int = 1
    hysteresis: float = 0.0
    cooldown_s: float = DEFAULT_COOLDOWN_S
    channels: tuple[str, ...] = ()
    if_missing: str = "error"
    description: str = ""

    def describe(self) -> str:
        subject = self.figure + (f" (segment {self.segment})" if self.segment else "")
        return f"{subject} {self.comparison.describe()}"


@dataclass(frozen=True)
class Channel:
    """A configured delivery channel: its ``name``, ``type`` (a registered channel type) and
    its ``options`` as written (names of environment variables, never secret values)."""

    name: str
    type: str
    options: tuple[tuple[str, Any], ...] = ()

    def option(self, key: str, default: Any = None) -> Any:
        return dict(self.options).get(key, default)


@dataclass(frozen=True)
class AlertConfig:
    """Rules and channels, as loaded from a file (:func:`load_config`) or built in code."""

    rules: tuple[Rule, ...] = ()
    channels: tuple[Channel, ...] = ()
    report_url: str | None = None  # a template: {model}, {run_id}
    history_runs: int = 500
    source: str = "<code>"

    def __post_init__(self) -> None:
        if self.report_url is not None:
            _check_report_url(self.report_url, self.source)

    def channel(self, name: str) -> Channel | None:
        return next((c for c in self.channels if c.name == name), None)


# --------------------------------------------------------------------------------------------
# Building rules in code
# --------------------------------------------------------------------------------------------


def rule(name: str, figure: str, **options: Any) -> Rule:
    """A :class:`Rule` from the same keys a ``[[rule]]`` table takes.

    >>> r = rule("recall drop", "performance.recall", change_from_baseline=True, min_rows=500)
    >>> r.comparison.kind, r.comparison.thresholds
    ('change_from_baseline', (('warning', -0.1), ('critical', -0.15)))
    """
    return _rule_from_table({"name": name, "figure": figure, **options}, f"rule {name!r}", {})


# --------------------------------------------------------------------------------------------
# The file
# --------------------------------------------------------------------------------------------

_RULE_KEYS = {
    "name",
    "figure",
    "segment",
    "min_rows",
    "rows_figure",
    "for_runs",
    "resolve_after",
    "hysteresis",
    "cooldown",
    "channels",
    "if_missing",
    "description",
    "direction",
    "baseline",
    "baseline_figure",
    "severity",
    *COMPARISONS,
}
_DEFAULT_KEYS = {"cooldown", "channels", "min_rows", "report_url", "history_runs", "for_runs"}


def load_config(source: str | os.PathLike | Mapping[str, Any] | AlertConfig) -> AlertConfig:
    """Read and validate an alerts TOML file (or its parsed mapping).

    Raises
    ------
    AlertConfigError
        The file is missing or not TOML, or a rule or channel is wrong; the message names
        the file, the ``[[rule]]`` or ``[[channel]]`` (by name or position), the key and the fix.
    """
    if isinstance(source, AlertConfig):
        return source
    if isinstance(source, Mapping):
        data, where = dict(source), "alerts"
    else:
        where = str(source)
        data = load_toml(source, "alerts file", AlertConfigError)
    unknown = set(data) - {"rule", "channel", "defaults"}
    if unknown:
        raise AlertConfigError(
            f"{where}: unknown table(s) {sorted(unknown)}; write [[rule]], [[channel]] and "
            "[defaults] tables."
        )
    defaults = data.get("defaults", {})
    if not isinstance(defaults, Mapping):
        raise AlertConfigError(f"{where}: [defaults] must be a table.")
    _check_keys(defaults, _DEFAULT_KEYS, f"{where}, [defaults]")
    channel_tables = _tables(data, "channel", where)
    rule_tables = _tables(data, "rule", where)
    from monitorkit.alerts.channels import check_channel

    channels = []
    for i, table in enumerate(channel_tables):
        label = f"{where}, [[channel]] {table.get('name', i + 1)!r}"
        channels.append(check_channel(table, label))
    names = [c.name for c in channels]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise AlertConfigError(f"{where}: channel name(s) {duplicated} used twice; rename one.")
    rules = []
    for i, table in enumerate(rule_tables):
        label = f"{where}, [[rule]] {table.get('name', i + 1)!r}"
        rules.append(_rule_from_table(table, label, defaults))
    rule_names = [r.name for r in rules]
    duplicated = sorted({n for n in rule_names if rule_names.count(n) > 1})
    if duplicated:
        raise AlertConfigError(
            f"{where}: rule name(s) {duplicated} used twice; names identify alerts, make them "
            "unique."
        )
    for r in rules:
        for name in r.channels:
            if name not in names:
                close = difflib.get_close_matches(name, names, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise AlertConfigError(
                    f"{where}, [[rule]] '{r.name}': channel '{name}'{hint} is not defined; "
                    f"defined channels: {', '.join(names) or 'none'} — add a [[channel]] table."
                )
    history_runs = _integer(defaults.get("history_runs", 500), f"{where}, [defaults]", 2)
    report_url = defaults.get("report_url")
    if report_url is not None:
        _check_report_url(report_url, f"{where}, [defaults]")
    return AlertConfig(tuple(rules), tuple(channels), report_url, history_runs, where)


REPORT_URL_FIELDS = ("model", "run_id")
"""The placeholders a ``report_url`` template may use."""


def _check_report_url(template: Any, where: str) -> None:
    """Refuse a ``report_url`` that is not a string or whose ``{placeholders}`` are not
    :data:`REPORT_URL_FIELDS` (found now, not when the first alert is sent)."""
    if not isinstance(template, str):
        raise AlertConfigError(f"{where}: 'report_url' must be a string.")
    known = ", ".join("{" + f + "}" for f in REPORT_URL_FIELDS)
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as error:  # a lone { or }
        raise AlertConfigError(
            f"{where}: 'report_url' is not a valid template ({error}); placeholders are "
            f"{known}, and a literal brace is written twice ({{{{ or }}}})."
        ) from None
    unknown = sorted({f for f in fields if f not in REPORT_URL_FIELDS})
    if unknown:
        raise AlertConfigError(
            f"{where}: 'report_url' uses the placeholder(s) "
            + ", ".join("{" + f + "}" for f in unknown)
            + f"; the ones filled in are {known}."
        )


def _tables(data: Mapping[str, Any], key: str, where: str) -> list[Mapping[str, Any]]:
    tables = data.get(key, [])
    if isinstance(tables, Mapping) or not isinstance(tables, list):
        raise AlertConfigError(f"{where}: write [[{key}]] (an array of tables), not [{key}].")
    for table in tables:
        if not isinstance(table, Mapping):
            raise AlertConfigError(f"{where}: every {key} must be a [[{key}]] table.")
    return tables


def _check_keys(table: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    allowed = sorted(allowed)
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise AlertConfigError(
                f"{where}: unknown key '{key}'{hint}; keys: {', '.join(allowed)}."
            )


def _integer(value: Any, where: str, minimum: int, key: str = "history_runs") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise AlertConfigError(
            f"{where}: '{key}' must be a whole number of at least {minimum}; got {value!r}."
        )
    return value


def _number(value: Any, where: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise AlertConfigError(f"{where}: '{key}' must be a number; got {value!r}.")
    return float(value)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any, where: str, key: str = "cooldown") -> float:
    """Seconds from ``"90s"``, ``"30m"``, ``"4h"``, ``"1d"``, ``"2w"`` or a number of seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    match = _DURATION.match(value) if isinstance(value, str) else None
    if not match:
        raise AlertConfigError(
            f'{where}: \'{key}\' must be a duration like "30m", "4h", "1d" or a number of '
            f"seconds; got {value!r}."
        )
    return float(match.group(1)) * _SECONDS[match.group(2)]


def _thresholds(
    value: Any, where: str, key: str, default_severity: str
) -> tuple[tuple[str, float], ...]:
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in ("warning", "critical")]
        if unknown:
            raise AlertConfigError(
                f"{where}: '{key}' takes warning and/or critical; got '{unknown[0]}' — write "
                f"{key} = {{ warning = …, critical = … }}."
            )
        if not value:
            raise AlertConfigError(f"{where}: '{key}' needs a warning and/or critical threshold.")
        return tuple(
            (s, _number(value[s], where, f"{key}.{s}"))
            for s in ("warning", "critical")
            if s in value
        )
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return ((default_severity, _number(value, where, key)),)
    raise AlertConfigError(
        f"{where}: '{key}' must be a number or a table {{ warning = …, critical = … }}; got "
        f"{value!r}."
    )


def _rule_from_table(table: Mapping[str, Any], where: str, defaults: Mapping[str, Any]) -> Rule:
    _check_keys(table, _RULE_KEYS, where)
    for key in ("name", "figure"):
        if not isinstance(table.get(key), str) or not table[key].strip():
            raise AlertConfigError(
                f"{where}: every [[rule]] needs '{key}' (a non-empty string); got "
                f"{table.get(key)!r}."
            )
    comparisons = [k for k in COMPARISONS if k in table]
    if len(comparisons) != 1:
        raise AlertConfigError(
            f"{where}: give exactly one comparison ({', '.join(COMPARISONS)}); got "
            f"{comparisons or 'none'}."
        )
    severity = table.get("severity", "warning")
    if severity not in ("warning", "critical"):
        raise AlertConfigError(
            f"{where}: 'severity' must be warning or critical; got {severity!r}."
        )
    comparison = _comparison(comparisons[0], table, where, severity)
    segment = table.get("segment")
    if segment is not None and (not isinstance(segment, str) or not segment):
        raise AlertConfigError(f"{where}: 'segment' must be a segment name or \"*\".")
    min_rows = table.get("min_rows", defaults.get("min_rows"))
    if min_rows is not None:
        min_rows = _integer(min_rows, where, 0, "min_rows")
    rows_figure = table.get("rows_figure")
    if rows_figure is not None and not isinstance(rows_figure, str):
        raise AlertConfigError(f"{where}: 'rows_figure' must be a figure name.")
    channels = table.get("channels", defaults.get("channels", []))
    if isinstance(channels, str):
        channels = [channels]
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise AlertConfigError(
            f"{where}: 'channels' must be a list of channel names; got {channels!r}."
        )
    if_missing = table.get("if_missing", "error")
    if if_missing not in ("error", "skip"):
        raise AlertConfigError(f'{where}: \'if_missing\' must be "error" or "skip".')
    hysteresis = _number(table.get("hysteresis", 0.0), where, "hysteresis")
    if hysteresis < 0:
        raise AlertConfigError(f"{where}: 'hysteresis' must be 0 or more; got {hysteresis!r}.")
    return Rule(
        name=table["name"].strip(),
        figure=table["figure"].strip(),
        comparison=comparison,
        segment=segment,
        min_rows=min_rows,
        rows_figure=rows_figure,
        for_runs=_integer(table.get("for_runs", defaults.get("for_runs", 1)), where, 1, "for_runs"),
        resolve_after=_integer(table.get("resolve_after", 1), where, 1, "resolve_after"),
        hysteresis=hysteresis,
        cooldown_s=parse_duration(
            table.get("cooldown", defaults.get("cooldown", DEFAULT_COOLDOWN_S)), where
        ),
        channels=tuple(channels),
        if_missing=if_missing,
        description=str(table.get("description", "")),
    )


_BAND_KEYS = {
    "band": {"k", "method", "window", "alpha", "min_history", "min_std"},
    "seasonal": {"k", "weeks", "match", "tolerance_hours", "min_history", "min_std"},
}


def _comparison(kind: str, table: Mapping[str, Any], where: str, severity: str) -> Comparison:
    value = table[kind]
    direction = table.get("direction")
    if direction is not None and direction not in DIRECTIONS:
        raise AlertConfigError(
            f"{where}: 'direction' must be one of {', '.join(DIRECTIONS)}; got {direction!r}."
        )
    for key in ("baseline", "baseline_figure"):
        if key in table and kind != "change_from_baseline":
            raise AlertConfigError(f"{where}: '{key}' belongs to change_from_baseline rules.")
    if kind in ("above", "below"):
        if direction is not None:
            raise AlertConfigError(
                f"{where}: '{kind}' says the direction already; remove 'direction'."
            )
        thresholds = _thresholds(value, where, kind, severity)
        _check_order(thresholds, "up" if kind == "above" else "down", where, kind)
        return Comparison(kind, "up" if kind == "above" else "down", thresholds)
    if kind == "change_from_baseline":
        if value is True:
            wanted = direction or "down"
            defaults = dict(DEFAULT_CHANGE)
            if wanted != "down":
                defaults = {s: abs(t) for s, t in defaults.items()}
            thresholds = tuple(defaults.items())
            direction = wanted
        else:
            thresholds = _thresholds(value, where, kind, severity)
            signs = {math.copysign(1, t) for _, t in thresholds}
            if direction is None:
                if len(signs) > 1:
                    raise AlertConfigError(
                        f"{where}: change_from_baseline thresholds have mixed signs; use "
                        "negative ones for a drop, positive ones for a rise, or direction = "
                        '"both" with positive ones.'
                    )
                direction = "down" if signs == {-1.0} else "up"
            elif direction == "both" and signs != {1.0}:
                raise AlertConfigError(
                    f'{where}: with direction = "both" give positive change thresholds '
                    "(0.10 means ±10%)."
                )
        _check_order(thresholds, direction, where, kind)
        baseline = table.get("baseline")
        if baseline is not None:
            baseline = _number(baseline, where, "baseline")
        baseline_figure = table.get("baseline_figure")
        if baseline_figure is not None and not isinstance(baseline_figure, str):
            raise AlertConfigError(f"{where}: 'baseline_figure' must be a figure name.")
        return Comparison(
            kind, direction, thresholds, baseline=baseline, baseline_figure=baseline_figure
        )
    # band, seasonal
    if value is True:
        value = {}
    if not isinstance(value, Mapping):
        raise AlertConfigError(
            f"{where}: '{kind}' must be a table, e.g. {kind} = {{ k = {{ warning = 2, critical = "
            "3 }} }}, or true for the defaults."
        )
    _check_keys(value, _BAND_KEYS[kind], f"{where}, {kind}")
    thresholds = _thresholds(value.get("k", DEFAULT_K), where, f"{kind}.k", severity)
    if any(t <= 0 for _, t in thresholds):
        raise AlertConfigError(f"{where}: '{kind}.k' must be positive (standard deviations).")
    direction = direction or "both"
    if direction == "down":
        thresholds = tuple((s, -t) for s, t in thresholds)
    _check_order(thresholds, direction, where, f"{kind}.k")
    min_std = _number(value.get("min_std", 0.0), where, f"{kind}.min_std")
    if min_std < 0:
        raise AlertConfigError(
            f"{where}: '{kind}.min_std' is a floor on the spread, in the figure's units: 0 or "
            f"more; got {min_std!r}."
        )
    options: dict[str, Any] = {
        "min_history": _integer(
            value.get("min_history", DEFAULT_MIN_HISTORY), where, 2, f"{kind}.min_history"
        ),
        "min_std": min_std,
    }
    if kind == "band":
        method = value.get("method", "rolling")
        if method not in BAND_METHODS:
            raise AlertConfigError(
                f"{where}: 'band.method' must be one of {', '.join(BAND_METHODS)}; got {method!r}."
            )
        alpha = _number(value.get("alpha", 0.3), where, "band.alpha")
        if not 0 < alpha <= 1:
            raise AlertConfigError(f"{where}: 'band.alpha' must be in (0, 1]; got {alpha!r}.")
        options.update(
            method=method,
            window=_integer(value.get("window", 20), where, 2, "band.window"),
            alpha=alpha,
        )
    else:
        match = value.get("match", "weekday")
        if match not in SEASONAL_MATCHES:
            raise AlertConfigError(
                f"{where}: 'seasonal.match' must be one of {', '.join(SEASONAL_MATCHES)}; got "
                f"{match!r}."
            )
        tolerance_hours = _number(
            value.get("tolerance_hours", 1.0), where, "seasonal.tolerance_hours"
        )
        if tolerance_hours < 0:
            raise AlertConfigError(
                f"{where}: 'seasonal.tolerance_hours' is how late a run may start and still "
                f"count as its week's: 0 or more hours; got {tolerance_hours!r}."
            )
        options.update(
            weeks=_integer(value.get("weeks", DEFAULT_WEEKS), where, 1, "seasonal.weeks"),
            match=match,
            tolerance_hours=tolerance_hours,
        )
    return Comparison(kind, direction, thresholds, **options)


def _check_order(
    thresholds: tuple[tuple[str, float], ...], direction: str, where: str, key: str
) -> None:
    values = dict(thresholds)
    if "warning" not in values or "critical" not in values:
        return
    warning, critical = values["warning"], values["critical"]
    wrong = {
        "up": critical < warning,
        "down": critical > warning,
        "both": abs(critical) < abs(warning),
    }[direction]
    if wrong:
        raise AlertConfigError(
            f"{where}: '{key}' critical ({critical:g}) is less extreme than warning "
            f"({warning:g}); critical must lie beyond warning."
        )


def channel_secrets(config: AlertConfig, environ: Mapping[str, str] | None = None) -> list[str]:
    """The values of every environment variable the channels name (to scrub them from text)."""
    environ = os.environ if environ is None else environ
    values = []
    for channel in config.channels:
        for key, name in channel.options:
            if key.endswith("_env") and isinstance(name, str) and environ.get(name):
                values.append(environ[name])
    return values


__all__ = [
    "AlertConfig",
    "AlertConfigError",
    "Channel",
    "Comparison",
    "Rule",
    "channel_secrets",
    "load_config",
    "parse_duration",
    "rule",
]
