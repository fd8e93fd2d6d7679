"""Evaluate alert rules on a run's figures and its history — the same in a notebook and a run.

A rule is evaluated over a sequence of *points* (a run's time and its flat figures): the
earlier runs of ``reports/<model>/index.jsonl``, then the current one. Each point is scored
(:class:`~monitorkit.alerts.rules.Comparison`), and a small state machine walks the sequence:
an alert *fires* after ``for_runs`` consecutive breaching runs and *resolves* after
``resolve_after`` consecutive clear runs (with ``hysteresis`` moving the thresholds to the safe
side while it fires). Runs at which an alert was firing are left out of the dynamic bands, so a
lasting regression does not become the new normal. Walking the whole history is also the
replay: how often would this rule have fired?
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitorkit.alerts.baselines import (
    ewma_band,
    prediction_multiplier,
    prediction_score,
    rolling_band,
    seasonal_values,
)
from monitorkit.alerts.results import (
    Alert,
    AlertReport,
    AlertsResult,
    RuleReplay,
    finite_or_none,
)
from monitorkit.alerts.rules import AlertConfig, AlertConfigError, Comparison, Rule, load_config
from monitorkit.severity import Severity

_WEEKDAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


@dataclass(frozen=True)
class Point:
    """One run: when it started, its figures, its id."""

    time: dt.datetime
    figures: Mapping[str, Any]
    run_id: str | None = None


def fingerprint(model: str | None, rule: str, subject: str) -> str:
    """A stable id of an alert: the first 16 hex digits of SHA-256 over model, rule, subject."""
    text = "\x1f".join([model or "", rule, subject])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# --------------------------------------------------------------------------------------------
# Inputs: reports, summaries, figures, index records, a model folder
# --------------------------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _parse_time(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if hasattr(value, "to_pydatetime"):
        return _parse_time(value.to_pydatetime())
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
    return None


def report_figures(*reports: Any) -> dict[str, Any]:
    """Figures of reports as a run publishes them: ``<kind>.<figure>``."""
    figures: dict[str, Any] = {}
    for report in reports:
        figures.update({f"{report.kind}.{k}": v for k, v in report.figures.items()})
    return figures


def _record_point(record: Mapping[str, Any], now: dt.datetime) -> Point:
    time = _parse_time(record.get("started_at") or record.get("time")) or now
    return Point(time, dict(record.get("figures") or {}), record.get("run_id"))


def _is_report(value: Any) -> bool:
    return hasattr(value, "figures") and hasattr(value, "kind") and not isinstance(value, Mapping)


def to_points(source: Any, now: dt.datetime | None = None) -> list[Point]:
    """The runs in ``source``, oldest first.

    ``source`` may be a report or a list of reports (one run: their figures as
    ``<kind>.<figure>``), a mapping of figures, a ``summary.json`` / ``index.jsonl`` record, a
    list of records, a model folder (``reports/<model>``) or an ``index.jsonl`` / ``summary.json``
    path. Failed runs are left out of a history.
    """
    now = now or _now()
    if source is None:
        return []
    if _is_report(source):
        return [Point(now, report_figures(source))]
    if isinstance(source, Point):
        return [source]
    if isinstance(source, (str, os.PathLike)):
        return _points_from_path(Path(source), now)
    if isinstance(source, Mapping):
        if "figures" in source:
            return [_record_point(source, now)]
        return [Point(now, dict(source))]
    if hasattr(source, "to_dict") and hasattr(source, "columns"):  # a history frame
        records = []
        for row in source.to_dict(orient="records"):
            meta = {"run_id", "started_at", "status", "severity", "exit_code", "duration_s"}
            figures = {k: v for k, v in row.items() if k not in meta | {"verdict", "inputs"}}
            records.append({**row, "figures": figures})
        return to_points(records, now)
    items = list(source)
    if items and all(_is_report(item) for item in items):
        return [Point(now, report_figures(*items))]
    points = []
    for item in items:
        if isinstance(item, Mapping) and item.get("status") not in (None, "succeeded"):
            continue
        points.extend(to_points(item, now))
    return points


def _points_from_path(path: Path, now: dt.datetime) -> list[Point]:
    from monitorkit import store

    if path.is_dir():
        if (path / store.INDEX_NAME).is_file():
            return to_points(store.read_index(path), now)
        if (path / store.SUMMARY_NAME).is_file():
            return to_points(store.read_summary(path), now)
        raise AlertConfigError(
            f"{path} holds neither {store.INDEX_NAME} (a model folder) nor {store.SUMMARY_NAME} "
            "(a run folder)."
        )
    if path.name == store.INDEX_NAME:
        return to_points(store.read_index(path.parent), now)
    if path.suffix == ".jsonl":
        lines = path.read_text(encoding="utf-8").splitlines()
        return to_points([json.loads(line) for line in lines if line.strip()], now)
    return to_points(store.read_json_file(path, "summary or report file"), now)


# --------------------------------------------------------------------------------------------
# Scoring one point
# --------------------------------------------------------------------------------------------


@dataclass
class _Check:
    value: float | None
    score: float | None = None
    baseline: float | None = None
    lower: float | None = None
    upper: float | None = None
    rows: float | None = None
    skipped: str | None = None
    history: int = 0
    context: str = ""
    warming_up: bool = False  # too little history yet; the value itself counts for later runs


def _pattern(rule: Rule) -> re.Pattern[str]:
    text = rule.figure + (f"|{rule.segment}" if rule.segment else "")
    return re.compile("^" + ".*".join(re.escape(part) for part in text.split("*")) + "$")


def _subjects(rule: Rule, points: Sequence[Point]) -> list[str]:
    pattern = _pattern(rule)
    if "*" not in rule.figure and not (rule.segment and "*" in rule.segment):
        name = rule.figure + (f"|{rule.segment}" if rule.segment else "")
        return [name] if any(name in p.figures for p in points) else []
    found: dict[str, None] = {}
    for point in points:
        for name in point.figures:
            if pattern.match(name):
                found[name] = None
    return sorted(found)


def _rows(rule: Rule, subject: str, figures: Mapping[str, Any]) -> float | None:
    """The rows behind ``subject``: ``rows_figure`` when the rule names one, else the
    figure's own count (``performance.recall.rows``), else its report's labelled or all rows.
    A segment's subject (``performance.recall|region=north``) is counted in that segment
    only (``….rows|region=north``): never by the rows of the whole."""
    name, bar, segment = subject.partition("|")
    tail = bar + segment
    kind = name.split(".", 1)[0]
    if rule.rows_figure:
        candidates = [rule.rows_figure]
    elif tail:
        candidates = [f"{name}.rows{tail}", f"{kind}.labelled_rows{tail}", f"{kind}.rows{tail}"]
    else:
        candidates = [f"{name}.rows", f"{kind}.labelled_rows", f"{kind}.rows"]
        candidates.append("data_overview.current_rows")
    for name in candidates:
        value = finite_or_none(figures.get(name))
        if value is not None:
            return value
    return None


def _limits(comparison: Comparison, centre: float, spread: float, k: float) -> tuple:
    if comparison.direction == "up":
        return None, centre + k * spread
    if comparison.direction == "down":
        return centre + k * spread, None  # k is negative for "down"
    return centre - k * spread, centre + k * spread


def _reached_threshold(comparison: Comparison, score: float | None) -> float:
    """The threshold of the worst severity ``score`` reached, else the mildest one."""
    reached = comparison.breach(score) if score is not None else Severity.OK
    values = dict(comparison.thresholds)
    if reached != Severity.OK and reached.value in values:
        return values[reached.value]
    return comparison.thresholds[0][1]


def _score(
    rule: Rule,
    subject: str,
    point: Point,
    earlier: Sequence[tuple[dt.datetime, float]],
) -> _Check:
    comparison = rule.comparison
    published = point.figures.get(subject)
    value = finite_or_none(published)
    rows = _rows(rule, subject, point.figures)
    if isinstance(published, (str, bytes)):
        # "0.5" would convert, but a figure published as text is a mistake in the notebook
        # that published it: say so instead of judging it as a number.
        return _Check(
            None,
            rows=rows,
            skipped=f"`{subject}` was published as the string {published!r}, not a number; "
            "publish figures as real numbers (float(…))",
        )
    if value is None:
        return _Check(None, rows=rows, skipped=f"`{subject}` has no value in this run")
    if rule.min_rows is not None:
        if rows is None:
            return _Check(
                value,
                skipped=f"no row count to check min_rows {rule.min_rows} against (set rows_figure)",
            )
        if rows < rule.min_rows:
            return _Check(
                value,
                rows=rows,
                skipped=f"{rows:,.0f} rows, fewer than min_rows {rule.min_rows:,}",
            )
    if comparison.kind in ("above", "below"):
        threshold = _reached_threshold(comparison, value)
        lower, upper = (None, threshold) if comparison.kind == "above" else (threshold, None)
        return _Check(value, score=value, lower=lower, upper=upper, rows=rows)
    if comparison.kind == "change_from_baseline":
        if comparison.baseline is not None:
            baseline = comparison.baseline
        else:
            # A segment is compared with the same segment of the baseline.
            figure, bar, segment = subject.partition("|")
            name = comparison.baseline_figure or f"{figure}.baseline{bar}{segment}"
            baseline = finite_or_none(point.figures.get(name))
            if baseline is None:
                return _Check(value, rows=rows, skipped=f"no baseline: `{name}` has no value")
        if baseline == 0:
            return _Check(value, baseline=0.0, rows=rows, skipped="the baseline is 0")
        change = (value - baseline) / abs(baseline)
        threshold = _reached_threshold(comparison, change)
        lower, upper = _limits(comparison, baseline, abs(baseline), threshold)
        return _Check(value, change, baseline, lower, upper, rows=rows)
    # band, seasonal
    if comparison.kind == "band":
        values = [v for _, v in earlier]
        if comparison.method == "rolling":
            band = rolling_band(values, comparison.window)
            context = f"the rolling mean of the last {min(len(values), comparison.window)} runs"
        else:
            band = ewma_band(values, comparison.alpha, comparison.window)
            context = f"the EWMA of the last {min(len(values), comparison.window)} runs"
        have = min(len(values), comparison.window)
        if band is None or have < comparison.min_history:
            return _Check(
                value,
                rows=rows,
                skipped=f"{have} earlier run(s) to build the band from (needs "
                f"{comparison.min_history})",
                history=have,
                warming_up=True,
            )
    else:
        values = seasonal_values(
            earlier,
            point.time,
            match=comparison.match,
            weeks=comparison.weeks,
            tolerance_hours=comparison.tolerance_hours,
        )
        season = {
            "weekday": _WEEKDAYS[point.time.weekday()],
            "hour": f"runs at {point.time:%H}h",
            "weekday_hour": f"{_WEEKDAYS[point.time.weekday()]} at {point.time:%H}h",
        }[comparison.match]
        context = (
            f"the mean of {len(values)} earlier {season} over the last {comparison.weeks} weeks"
        )
        band = rolling_band(values)
        if band is None or len(values) < comparison.min_history:
            return _Check(
                value,
                rows=rows,
                skipped=f"{len(values)} earlier {season} in the last {comparison.weeks} weeks "
                f"(needs {comparison.min_history})",
                history=len(values),
                warming_up=True,
            )
    spread = max(band.spread, comparison.min_std)
    if _small_sample_corrected(comparison):
        # A spread estimated from a few runs is itself uncertain: judge against the Student-t
        # prediction interval, with the score in known-σ standard deviations of equal tail
        # probability, so that k means the same false-alarm rate at any number of runs.
        score = prediction_score(value, band.centre, spread, band.n)
        k = _reached_threshold(comparison, score)
        multiplier = prediction_multiplier(k, band.n)
    else:
        score = band.score(value, comparison.min_std)
        multiplier = k = _reached_threshold(comparison, score)
    lower, upper = _limits(comparison, band.centre, spread, multiplier)
    return _Check(value, score, band.centre, lower, upper, rows, history=band.n, context=context)


def _small_sample_corrected(comparison: Comparison) -> bool:
    """Rolling and seasonal bands use the sample standard deviation of equally weighted runs:
    the Student-t prediction interval applies. The EWMA spread is a weighted, biased estimate
    for which it does not; ``k`` multiplies it as written."""
    return comparison.kind == "seasonal" or comparison.method == "rolling"


def _reason(rule: Rule, subject: str, check: _Check, severity: Severity) -> str:
    comparison = rule.comparison
    if check.skipped:
        return f"not judged: {check.skipped}"
    value = f"`{subject}` is {check.value:.4g}"
    reached = severity != Severity.OK
    past = f"past the {severity} threshold" if reached else "within the thresholds"
    if comparison.kind in ("above", "below"):
        threshold = check.upper if comparison.kind == "above" else check.lower
        if reached:
            return f"{value}, {comparison.kind} the {severity} threshold {threshold:.4g}"
        return f"{value}, not {comparison.kind} {threshold:.4g}"
    if comparison.kind == "change_from_baseline":
        threshold = _reached_threshold(comparison, check.score)
        return (
            f"{value} against a baseline of {check.baseline:.4g} ({check.score:+.1%}); {past} "
            f"({threshold:+.0%})"
        )
    where = "above" if check.score >= 0 else "below"
    band = (
        f"band {check.lower:.4g} – {check.upper:.4g}"
        if check.lower is not None and check.upper is not None
        else f"limit {check.lower if check.lower is not None else check.upper:.4g}"
    )
    distance = abs(check.score)
    distance_text = "∞" if math.isinf(distance) else f"{distance:.1f}"
    if _small_sample_corrected(comparison):
        band += f", the prediction interval from {check.history} earlier runs"
    return (
        f"{value}, {distance_text} standard deviations {where} {check.context} "
        f"({check.baseline:.4g}; {band}); {past}"
    )


# --------------------------------------------------------------------------------------------
# The walk over the runs
# --------------------------------------------------------------------------------------------


@dataclass
class _Walk:
    firing: bool = False
    severity: Severity = Severity.OK
    breach_streak: int = 0
    clear_streak: int = 0
    since: str | None = None
    judged: int = 0
    breaching: int = 0
    firing_runs: int = 0
    fired: int = 0
    normal: list[tuple[dt.datetime, float]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)


def _walk(rule: Rule, subject: str, points: Sequence[Point], keep_steps: bool) -> tuple:
    """Score every point in order; the last point's check, breach severity and the walk."""
    walk = _Walk()
    check = _Check(None)
    breach = Severity.OK
    for point in points:
        check = _score(rule, subject, point, walk.normal)
        breach = Severity.OK
        if check.skipped is None:
            walk.judged += 1
            margin = rule.hysteresis if walk.firing else 0.0
            breach = rule.comparison.breach(check.score, margin)
            if breach > Severity.OK:
                walk.breaching += 1
                walk.breach_streak += 1
                walk.clear_streak = 0
            else:
                walk.clear_streak += 1
                walk.breach_streak = 0
            if not walk.firing and walk.breach_streak >= rule.for_runs:
                walk.firing, walk.fired = True, walk.fired + 1
                walk.since = point.run_id or point.time.isoformat()
            elif walk.firing and walk.clear_streak >= rule.resolve_after:
                walk.firing, walk.since = False, None
            if walk.firing:
                walk.firing_runs += 1
                if breach > Severity.OK:
                    walk.severity = breach
            else:
                walk.severity = Severity.OK
        if (
            not walk.firing
            and check.value is not None
            and (check.skipped is None or check.warming_up)
        ):
            walk.normal.append((point.time, check.value))
        if keep_steps:
            walk.steps.append(
                {
                    "time": point.time,
                    "run_id": point.run_id,
                    "rule": rule.name,
                    "subject": subject,
                    "value": check.value,
                    "score": check.score,
                    "baseline": check.baseline,
                    "lower": check.lower,
                    "upper": check.upper,
                    "breach": str(breach),
                    "status": _status(walk, check, breach),
                    "severity": str(walk.severity if walk.firing else Severity.OK),
                    "reason": _reason(rule, subject, check, breach),
                }
            )
    return check, breach, walk


def _status(walk: _Walk, check: _Check, breach: Severity) -> str:
    if walk.firing:
        return "firing"
    if check.skipped:
        return "skipped"
    return "pending" if breach > Severity.OK else "ok"


def _rules_of(rules: Any) -> tuple[AlertConfig, tuple[Rule, ...]]:
    if isinstance(rules, Rule):
        return AlertConfig(rules=(rules,)), (rules,)
    if isinstance(rules, (list, tuple)) and all(isinstance(r, Rule) for r in rules):
        return AlertConfig(rules=tuple(rules)), tuple(rules)
    config = load_config(rules)
    return config, config.rules


def _sequence(
    source: Any, history: Any, now: dt.datetime, limit: int
) -> tuple[list[Point], Point | None]:
    points = to_points(source, now)
    if history is not None:
        earlier = to_points(history, now)
    else:
        earlier, points = points[:-1], points[-1:]
    if points:
        current = points[-1]
        earlier = [
            p
            for p in earlier
            if p.time <= current.time and (current.run_id is None or p.run_id != current.run_id)
        ]
    earlier.sort(key=lambda p: p.time)
    sequence = earlier[-limit:] + points[-1:]
    return sequence, (points[-1] if points else None)


def _unknown_figure(rule: Rule, points: Sequence[Point]) -> str:
    import difflib

    names = sorted({name for p in points for name in p.figures})
    base = rule.figure + (f"|{rule.segment}" if rule.segment else "")
    close = difflib.get_close_matches(base, names, n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    kinds = sorted({n.split(".", 1)[0] for n in names})
    return (
        f"rule '{rule.name}': no run published the figure '{base}'{hint}; figures come from "
        f"the reports of a run, named <kind>.<figure> (kinds here: {', '.join(kinds) or 'none'})"
        ' — fix the name, or set if_missing = "skip" for a figure that may be absent.'
    )


def evaluate(
    reports_or_history: Any,
    rules: Any,
    *,
    history: Any = None,
    model: str | None = None,
    now: dt.datetime | None = None,
    run_id: str | None = None,
) -> AlertReport:
    """The alerts that fire at the latest run, with why — and how often each rule would have
    fired over the history.

    Parameters
    ----------
    reports_or_history
        The current run: a report, a list of reports, a mapping of figures or a
        ``summary.json`` record — or a whole history (``reports/<model>``, its
        ``index.jsonl``, a list of index records), whose last run is the current one.
    rules
        A TOML file path, an :class:`~monitorkit.alerts.rules.AlertConfig`, a
        :class:`~monitorkit.alerts.rules.Rule` or a list of them.
    history
        Earlier runs when ``reports_or_history`` is the current run only (same forms).
    model
        The model name (part of each alert's fingerprint).
    now
        The time of the current run when it has none of its own (default: now, UTC).

    Returns
    -------
    AlertReport
        ``kind`` ``"alerts"``: ``firing``, ``to_frame()`` (every rule and subject with value,
        baseline, band, score and reason), ``replay_frame()`` (runs judged, breaching, firing,
        times fired), severity, verdict, figures.

    Raises
    ------
    AlertConfigError
        A rule names a figure no run published (unless ``if_missing = "skip"``), or the rules
        themselves are invalid.

    Examples
    --------
    >>> from monitorkit.alerts import evaluate, rule
    >>> report = evaluate({"performance.recall": 0.4, "performance.recall.baseline": 0.8},
    ...                   rule("recall drop", "performance.recall", change_from_baseline=True))
    >>> [(a.rule, a.status, str(a.severity)) for a in report.firing]
    [('recall drop', 'firing', 'critical')]
    """
    now = now or _now()
    config, rule_list = _rules_of(rules)
    sequence, current = _sequence(reports_or_history, history, now, config.history_runs)
    alerts: list[Alert] = []
    replays: list[RuleReplay] = []
    if current is not None:
        for rule in rule_list:
            subjects = _subjects(rule, sequence)
            if not subjects:
                if rule.if_missing == "error":
                    raise AlertConfigError(_unknown_figure(rule, sequence))
                alerts.append(
                    Alert(
                        rule=rule.name,
                        subject=rule.figure,
                        status="skipped",
                        severity=Severity.OK,
                        value=None,
                        comparison=rule.comparison.kind,
                        reason=f"not judged: no run published `{rule.figure}`",
                        fingerprint=fingerprint(model, rule.name, rule.figure),
                        channels=rule.channels,
                        rule_text=rule.describe(),
                    )
                )
                continue
            for subject in subjects:
                check, breach, walk = _walk(rule, subject, sequence, keep_steps=False)
                status = _status(walk, check, breach)
                severity = walk.severity if walk.firing else Severity.OK
                reason = _reason(rule, subject, check, breach if not walk.firing else severity)
                if walk.firing and check.skipped:
                    reason = f"still open since {walk.since}; this run {reason}"
                elif status == "pending":
                    reason += f" — {walk.breach_streak} of {rule.for_runs} breaching runs needed"
                alerts.append(
                    Alert(
                        rule=rule.name,
                        subject=subject,
                        status=status,
                        severity=severity,
                        value=check.value,
                        comparison=rule.comparison.kind,
                        reason=reason,
                        fingerprint=fingerprint(model, rule.name, subject),
                        baseline=check.baseline,
                        lower=check.lower,
                        upper=check.upper,
                        score=finite_or_none(check.score),
                        since=walk.since,
                        streak=walk.breach_streak,
                        rows=check.rows,
                        channels=rule.channels,
                        rule_text=rule.describe(),
                    )
                )
                replays.append(
                    RuleReplay(
                        rule.name,
                        subject,
                        walk.judged,
                        walk.breaching,
                        walk.firing_runs,
                        walk.fired,
                    )
                )
    result = AlertsResult(
        model=model,
        evaluated_at=(current.time if current else now).isoformat(),
        run_id=run_id or (current.run_id if current else None),
        rules=len(rule_list),
        history_runs=max(len(sequence) - 1, 0),
        alerts=tuple(alerts),
        replay=tuple(replays),
    )
    return AlertReport.from_result(result)


def replay(history: Any, rules: Any, *, now: dt.datetime | None = None):
    """Every run of ``history`` (oldest first) judged by every rule, as a flat table.

    One row per (run, rule, subject): ``time``, ``run_id``, ``value``, ``score``,
    ``baseline``, ``lower``, ``upper``, ``breach`` (the severity this run alone reached),
    ``status`` (``firing``, ``pending``, ``ok``, ``skipped``), ``severity`` (of the alert while
    firing), ``reason``. ``frame.groupby("rule")["status"].value_counts()`` says how often a rule
    would have fired.
    """
    import pandas as pd

    now = now or _now()
    config, rule_list = _rules_of(rules)
    points = sorted(to_points(history, now), key=lambda p: p.time)
    steps: list[dict[str, Any]] = []
    for rule in rule_list:
        subjects = _subjects(rule, points)
        if not subjects and rule.if_missing == "error":
            raise AlertConfigError(_unknown_figure(rule, points))
        for subject in subjects:
            steps.extend(_walk(rule, subject, points, keep_steps=True)[2].steps)
    columns = [
        "time",
        "run_id",
        "rule",
        "subject",
        "value",
        "score",
        "baseline",
        "lower",
        "upper",
        "breach",
        "status",
        "severity",
        "reason",
    ]
    return pd.DataFrame(steps, columns=columns)
