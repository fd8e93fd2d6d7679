"""Data quality: is current data broken, compared with what the reference (or baseline) says?

:class:`QualityReport` runs every registered check (:mod:`monitorkit.quality.checks`) on each
column of current against the reference's expectation of it
(:mod:`monitorkit.quality.expectations`), plus the table checks (schema, duplicates, time,
volume) and the user's rules (:mod:`monitorkit.quality.rules`). Each problem becomes a
:class:`~monitorkit.quality.results.Finding` with the rows it affects, a message, examples and a
severity: a warning from 1% of the rows, critical from 5% (never from fewer than 5 rows), and
critical for schema breaks whatever their size. With ``by=`` every check also runs on each
window of current (sharing the significance level of its tests between the windows), and
each finding says ``since`` which window it reached a warning. The volume check judges every
whole window, even one too small to check (an outage is a window without rows), against the
reference's quiet windows of the same length (the 5th percentile of their rows), so that
nights and weekends the reference also had are not alarms.

A report whose current has no column in common with the reference is never ``ok``: its
``not_judged`` says why, its severity is critical, and a run of it fails.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from monitorkit.errors import InputError
from monitorkit.quality import checks as registry
from monitorkit.quality.expectations import ColumnExpectation, from_frame, from_profile
from monitorkit.quality.results import (
    QUALITY_SCHEMA_VERSION,
    Finding,
    QualityResult,
    QualityWindow,
    Thresholds,
)
from monitorkit.report import Report
from monitorkit.schema import ColumnSpec, read_frame, resolve_spec
from monitorkit.severity import Severity

VOLUME_WARNING = 0.5  # a window with less than half its expected rows warns
VOLUME_CRITICAL = 0.2  # ... less than a fifth is critical


class QualityReport(Report, kind="quality"):
    """Check ``current`` for broken data against ``reference``.

    Parameters
    ----------
    reference
        A DataFrame, a path or glob, a :class:`~monitorkit.Profile` or a
        :class:`~monitorkit.Baseline` (its profiles hold the ranges, quantiles, categories and
        formats the checks need; no rows are required).
    current
        The data to check: a DataFrame or anything :func:`monitorkit.read_frame` reads.
    spec
        A :class:`~monitorkit.ColumnSpec`; roles not given are inferred (from a baseline: the
        roles it was captured with).
    rules
        User rules: a list of :class:`~monitorkit.quality.rules.Rule` or of their text
        (``"age between 0 and 120"``), or a path to a TOML file of them.
    by
        Windows of current (``"1D"``, ``"W-MON"``, an integer): findings per window and since
        when; also the volume check (rows per window against the reference's quiet windows
        of the same length; from a baseline, weekly or longer windows against its mean rate).
    thresholds
        :class:`~monitorkit.quality.results.Thresholds` for every check, or a mapping from a
        check name, a column name, or ``"column:check"`` to a Thresholds or to
        ``{"warning": …, "critical": …}`` (``"*"`` for the default).
    checks
        Only these checks (names from :func:`monitorkit.quality.checks.available_checks`).

    Examples
    --------
    >>> import monitorkit as mk
    >>> ref, cur, truth = mk.datasets.load_scenario("corrupted_inputs", n_rows=4_000)
    >>> quality = mk.QualityReport(ref, cur)
    >>> quality.severity
    <Severity.CRITICAL: 'critical'>
    >>> "price_usd" in set(quality.to_frame()["column"])
    True
    """

    schema_version = QUALITY_SCHEMA_VERSION
    result_type = QualityResult
    title = "Data quality"

    def __init__(
        self,
        reference: Any,
        current: Any,
        spec: ColumnSpec | Mapping[str, Any] | None = None,
        rules: Any = None,
        by: str | int | None = None,
        *,
        thresholds: Thresholds | Mapping[str, Any] | None = None,
        checks: Sequence[str] | None = None,
    ) -> None:
        self.result = compute_quality(
            reference,
            current,
            spec=spec,
            rules=rules,
            by=by,
            thresholds=thresholds,
            checks=checks,
        )

    # ---- views ---------------------------------------------------------------------------

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every finding, worst first."""
        return self.result.findings

    @property
    def problems(self) -> list[Finding]:
        """The findings at warning or above."""
        return [f for f in self.result.findings if f.severity > Severity.OK]

    @property
    def not_judged(self) -> str | None:
        """Why current could not be checked at all (no column in common), or None."""
        for finding in self.result.findings:
            if finding.check in ("schema.no_common", "schema.delimiter"):
                return finding.message
        if self.result.current_rows == 0:
            return "current has no rows: there is nothing to check"
        return None

    @property
    def severity(self) -> Severity:
        """The worst finding's severity (critical when nothing could be checked)."""
        if self.not_judged:
            return Severity.CRITICAL
        return Severity.worst(f.severity for f in self.result.findings)

    @property
    def verdict(self) -> str:
        """One sentence: the worst problems, or that there are none."""
        if self.not_judged:
            return f"data quality could not be judged: {self.not_judged}"
        problems = self.problems
        checked = len(self.result.columns)
        if not problems:
            return f"no data-quality problems in {checked} columns checked"
        columns = {f.column for f in problems if f.column}
        leaders = "; ".join(
            (f"`{f.column}` " if f.column and f"`{f.column}`" not in f.message else "")
            + _short(f.message)
            for f in problems[:3]
        )
        return f"{len(problems)} problems in {len(columns)} of {checked} columns: {leaders}"

    @property
    def figures(self) -> dict[str, float]:
        """Flat named numbers: ``problems``, ``critical``, ``warnings``,
        ``columns_with_problems``, ``rows``; ``missing_rate.<column>`` for every column checked
        (current's missing rate); ``<check>.<column>`` (the affected share) per finding at
        warning or above."""
        problems = self.problems
        figures: dict[str, float] = {
            "problems": len(problems),
            "critical": sum(f.severity == Severity.CRITICAL for f in problems),
            "warnings": sum(f.severity == Severity.WARNING for f in problems),
            "columns_with_problems": len({f.column for f in problems if f.column}),
            "rows": self.result.current_rows,
        }
        for column, rate in self.result.missing_rates:
            figures[f"missing_rate.{column}"] = rate
        for f in problems:
            if f.column and math.isfinite(f.rate):
                figures[f"{f.check}.{f.column}"] = f.rate
        return {k: v for k, v in figures.items() if math.isfinite(v)}

    def to_frame(self) -> pd.DataFrame:
        """One row per finding: column, check, severity, count, rate, message, examples, since."""
        columns = ["column", "check", "severity", "count", "rate", "message", "examples", "since"]
        return pd.DataFrame(
            [
                {
                    "column": f.column,
                    "check": f.check,
                    "severity": str(f.severity),
                    "count": f.count,
                    "rate": f.rate,
                    "message": f.message,
                    "examples": list(f.examples),
                    "since": f.since,
                }
                for f in self.result.findings
            ],
            columns=columns,
        )

    def over_time(self) -> pd.DataFrame:
        """One row per (window, finding at warning or above), with the window's rows."""
        rows = []
        for w in self.result.windows:
            for f in w.findings:
                rows.append(
                    {
                        "window": w.window,
                        "rows": w.rows,
                        "column": f.column,
                        "check": f.check,
                        "severity": str(f.severity),
                        "count": f.count,
                        "rate": f.rate,
                    }
                )
        return pd.DataFrame(
            rows, columns=["window", "rows", "column", "check", "severity", "count", "rate"]
        )

    def __str__(self) -> str:
        r = self.result
        lines = [
            f"Data quality {self.severity.upper()}: {self.verdict}",
            f"current {r.current_rows:,} rows, {len(r.columns)} columns checked against "
            f"{'the reference rows' if r.reference_has_rows else 'a profile'} "
            f"({r.reference_rows:,} rows)",
        ]
        shown = [f for f in r.findings if f.severity > Severity.OK]
        if shown:
            lines += ["", f"{'severity':<9} {'column':<24} {'check':<24} {'rate':>7}  message"]
            for f in shown:
                rate = "-" if not math.isfinite(f.rate) else f"{f.rate:.1%}"
                since = f" (since {f.since})" if f.since else ""
                lines.append(
                    f"{f.severity:<9} {(f.column or '(table)')[:24]:<24} {f.check:<24} "
                    f"{rate:>7}  {f.message}{since}"
                )
        notes = [f for f in r.findings if f.severity == Severity.OK]
        if notes:
            lines += ["", f"{len(notes)} finding(s) below the thresholds or notes"]
        return "\n".join(lines)


def _short(message: str, width: int = 70) -> str:
    return message if len(message) <= width else message[: width - 1] + "…"


# --------------------------------------------------------------------------------------------
# Computation
# --------------------------------------------------------------------------------------------


def compute_quality(
    reference: Any,
    current: Any,
    *,
    spec: ColumnSpec | Mapping[str, Any] | None = None,
    rules: Any = None,
    by: str | int | None = None,
    thresholds: Thresholds | Mapping[str, Any] | None = None,
    checks: Sequence[str] | None = None,
) -> QualityResult:
    """Compute a :class:`QualityResult` (what :class:`QualityReport` holds)."""
    from monitorkit.quality.rules import parse_rules
    from monitorkit.reference import as_reference

    side = as_reference(reference, "reference")
    frame = read_frame(current, name="current")
    if side.hash_salt is not None:
        from monitorkit.baseline import hash_frame

        frame = hash_frame(frame, side.profile.spec, side.hash_salt)
    selected = _select_checks(checks)
    judge = _threshold_lookup(thresholds)
    declared = ColumnSpec.from_dict(spec) if isinstance(spec, Mapping) else spec
    ignored = set(declared.ignore) if isinstance(declared, ColumnSpec) else set()
    frame = frame.drop(columns=[c for c in frame.columns if c in ignored])

    if side.frame is not None:
        resolved = resolve_spec(spec, side.frame, frame if len(frame.columns) else None)
        reference_columns = tuple(str(c) for c in side.frame.columns if c not in ignored)
        described = [
            c for c in resolved.columns if c.name in side.frame.columns and c.role != "timestamp"
        ]
        expected = dict(
            zip(
                (c.name for c in described),
                _map_columns(lambda c: from_frame(side.frame, c.name, c.kind, c.role), described),
            )
        )
        in_order = _in_order(side.frame, resolved.timestamp)
        reference_rows = len(side.frame)
    else:
        # The roles the baseline was captured with; roles declared now take precedence.
        resolved = side.profile.spec
        if declared is not None and any(
            getattr(declared, role) for role in ("target", "timestamp", "id")
        ):
            resolved = replace(
                resolved,
                columns=tuple(
                    replace(c, role=_declared_role(declared, c.name) or c.role)
                    for c in resolved.columns
                ),
            )
        reference_columns = tuple(c for c in side.profile.spec.names if c not in ignored)
        profiled = set(side.profile.columns) | set(side.profile.text)
        expected = {
            c.name: from_profile(side.profile, c.name, c.role)
            for c in side.profile.spec.columns
            if c.name in profiled
        }
        in_order = None
        reference_rows = side.rows
    user_rules = parse_rules(rules, columns=set(reference_columns) | set(map(str, frame.columns)))
    _check_threshold_keys(thresholds, set(reference_columns) | set(map(str, frame.columns)))

    table = registry.TableContext(
        expected=expected,
        current=frame,
        reference_columns=reference_columns,
        timestamp=resolved.timestamp if resolved is not None else None,
        id=resolved.id if resolved is not None else None,
        target=resolved.target if resolved is not None else None,
        reference_in_order=in_order,
        **_reference_repeats(side.frame, frame, resolved.id if resolved is not None else None),
        **_reference_pace(side, resolved.timestamp if resolved is not None else None),
    )
    findings = _run(table, expected, selected, user_rules, judge, window=None)
    checked = tuple(c for c in expected if c in frame.columns)

    windows: tuple[QualityWindow, ...] = ()
    if by is not None and len(frame):
        windows, findings = _windows(
            frame, by, table, expected, selected, user_rules, judge, side, findings
        )
    findings.sort(key=_rank)
    missing_rates = tuple(
        (c, float(frame[c].isna().mean()) if len(frame) else 0.0) for c in checked
    )
    return QualityResult(
        spec=resolved,
        reference_rows=int(reference_rows),
        current_rows=int(len(frame)),
        columns=checked,
        findings=tuple(findings),
        thresholds=judge("*", None),
        windows=windows,
        by=None if by is None else str(by),
        reference_has_rows=side.frame is not None,
        missing_rates=missing_rates,
    )


def _declared_role(spec: ColumnSpec, column: str) -> str | None:
    for role in ("target", "prediction", "prediction_label", "timestamp", "id"):
        if getattr(spec, role) == column:
            return role
    return None


def _reference_pace(side, timestamp: str | None) -> dict[str, float | None]:
    """The reference's longest pause between rows (seconds) and rows per day."""
    if side.frame is not None and timestamp is not None and timestamp in side.frame.columns:
        from monitorkit.windows import utc_times

        times = utc_times(side.frame[timestamp]).dropna()
        found = registry.longest_gap(times)
        span = (times.max() - times.min()).total_seconds() / 86_400 if len(times) > 1 else 0
        if found is None or span <= 0:
            return {}
        return {
            "reference_longest_gap": (found[1] - found[0]).total_seconds(),
            "reference_rows_per_day": len(times) / span,
        }
    if side.profile is not None and side.profile.time is not None:
        return {"reference_rows_per_day": side.profile.time.rows_per_day}
    return {}


def _map_columns(function, items: list) -> list:
    """``function`` over columns on a thread per CPU (numpy and arrow release the GIL while
    they sort and count), results in the order of ``items``."""
    workers = min(len(items), os.cpu_count() or 1)
    if workers < 2:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(function, items))


def _rank(finding: Finding) -> tuple:
    rate = finding.rate if math.isfinite(finding.rate) else 0.0
    return (-finding.severity.rank, -rate, finding.column or "", finding.check)


def _reference_repeats(
    reference: pd.DataFrame | None, current: pd.DataFrame, id_column: str | None
) -> dict[str, Any]:
    """How the reference repeats its rows (over the columns current shares) and its ids: the
    sizes of its groups of equal rows and ids (none known from a profile)."""
    if reference is None:
        return {}
    common = [c for c in current.columns if c in reference.columns]
    repeats: dict[str, Any] = {}
    if len(common) >= 2:
        hashes = pd.util.hash_pandas_object(reference[common], index=False)
        repeats["reference_row_groups"] = hashes.value_counts().to_numpy()
    if id_column is not None and id_column in reference.columns:
        repeats["reference_id_groups"] = reference[id_column].dropna().value_counts().to_numpy()
    return repeats


def _in_order(frame: pd.DataFrame, timestamp: str | None) -> bool | None:
    if timestamp is None or timestamp not in frame.columns:
        return None
    from monitorkit.windows import utc_times

    times = utc_times(frame[timestamp]).dropna()
    return bool(times.is_monotonic_increasing)


def _select_checks(names: Sequence[str] | None) -> list[registry.QualityCheck]:
    if names is None:
        return registry.checks()
    if isinstance(names, str):
        names = [names]
    return [registry.get_check(name) for name in names]


def _threshold_lookup(thresholds: Thresholds | Mapping[str, Any] | None):
    """A function ``(check, column) -> Thresholds`` from the ``thresholds=`` argument."""
    default = Thresholds()
    if thresholds is None:
        return lambda check, column: default
    if isinstance(thresholds, Thresholds):
        return lambda check, column: thresholds
    if not isinstance(thresholds, Mapping):
        raise InputError(
            "thresholds must be a Thresholds or a mapping of them; got "
            f"{type(thresholds).__name__}."
        )

    def as_thresholds(key: str, value: Any) -> Thresholds:
        if isinstance(value, Thresholds):
            return value
        if isinstance(value, Mapping):
            unknown = set(value) - {"warning", "critical", "min_count"}
            if unknown:
                raise InputError(
                    f"thresholds[{key!r}] has unknown keys {sorted(unknown)}; use warning, "
                    "critical and min_count."
                )
            return Thresholds(**{**default.__dict__, **value})
        raise InputError(f"thresholds[{key!r}] must be a mapping or Thresholds; got {value!r}.")

    table = {str(k): as_thresholds(str(k), v) for k, v in thresholds.items()}
    default = table.get("*", default)

    def lookup(check: str, column: str | None) -> Thresholds:
        for key in (f"{column}:{check}", check, column or "", "*"):
            if key in table:
                return table[key]
        return default

    return lookup


def _check_threshold_keys(thresholds: Any, columns: Iterable[str]) -> None:
    """Refuse a ``thresholds=`` key that names no check and no column (a misspelt key would
    silently change nothing), with the close name."""
    if not isinstance(thresholds, Mapping):
        return
    import difflib

    checks = sorted(set(registry.available_checks()) | {"rules", "volume"})
    columns = sorted(set(columns))

    def refuse(key: str, name: str, known: list[str], what: str) -> None:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise InputError(
            f"thresholds: {key!r} names no {what}: '{name}'{hint}. Keys are '*', a check "
            f"({', '.join(checks[:6])}, …), a column ({', '.join(columns[:6])}"
            f"{', …' if len(columns) > 6 else ''}), or 'column:check'."
        )

    for key in map(str, thresholds):
        if key == "*":
            continue
        if ":" in key:
            column, check = key.split(":", 1)
            if column not in columns:
                refuse(key, column, columns, "column")
            if check not in checks:
                refuse(key, check, checks, "check")
        elif key not in checks and key not in columns:
            close_check = difflib.get_close_matches(key, checks, n=1)
            refuse(key, key, checks if close_check else columns, "check or column")


def _run(
    table: registry.TableContext,
    expected: Mapping[str, ColumnExpectation],
    selected: list[registry.QualityCheck],
    user_rules: list,
    judge,
    *,
    window: str | None,
    comparisons: int = 1,
) -> list[Finding]:
    frame = table.current
    rows = len(frame)
    findings: list[Finding] = []

    def add(check: str, column: str | None, problem: registry.Problem) -> None:
        rate = problem.rate if problem.rate is not None else problem.count / max(rows, 1)
        severity = problem.severity
        if severity is None:
            severity = judge(check, column).judge(problem.count, rate)
        findings.append(
            Finding(
                column=problem.column or column,
                check=check,
                severity=Severity.of(severity),
                count=int(problem.count),
                rate=float(rate),
                message=problem.message,
                examples=tuple(problem.examples),
                window=window,
            )
        )

    active = [c for c in selected if window is None or c.per_window]
    for check in active:
        if check.scope == "table":
            for problem in check.func(table):
                add(check.name, problem.column, problem)

    def column_problems(column: str) -> list[tuple[str, registry.Problem]]:
        # One context per column: its coerced values are computed once for all its checks.
        expectation = expected[column]
        context = registry.ColumnContext(
            column=column,
            expected=expectation,
            values=frame[column],
            rows=rows,
            comparisons=comparisons,
        )
        return [
            (check.name, problem)
            for check in active
            if check.scope == "column" and expectation.kind in check.kinds
            for problem in check.func(context)
        ]

    columns = [c for c in expected if c in frame.columns]
    for column, problems in zip(columns, _map_columns(column_problems, columns)):
        for check_name, problem in problems:
            add(check_name, column, problem)
    for rule in user_rules:
        if rule.column not in frame.columns:
            continue
        problem = rule.evaluate(frame[rule.column], rows)
        if problem is not None:
            add("rules", rule.column, problem)
    return findings


def _windows(
    frame: pd.DataFrame,
    by: str | int,
    table: registry.TableContext,
    expected: Mapping[str, ColumnExpectation],
    selected: list[registry.QualityCheck],
    user_rules: list,
    judge,
    side,
    findings: list[Finding],
) -> tuple[tuple[QualityWindow, ...], list[Finding]]:
    """Findings per window, ``since`` on the overall findings, and the volume check."""
    from monitorkit.windows import assign_windows

    cut = assign_windows(frame, by, table.timestamp)
    expected_rows = _expected_window_rows(side, table.timestamp, cut.windows)
    results = []
    first_warning: dict[tuple[str | None, str], str] = {}
    positions = cut.row_positions()
    # Each check runs once per tested window: they share its significance level (Bonferroni).
    comparisons = max(len(cut.tested), 1)
    for index, window in enumerate(cut.windows):
        # A window with too few rows is not checked, but its volume is judged: an outage is
        # exactly a window without rows.
        found = _volume(window, expected_rows, cut.windows)
        if not window.too_few_rows:
            window_table = replace(
                table, current=frame.iloc[positions[index]], comparisons=comparisons
            )
            found = [
                f
                for f in _run(
                    window_table,
                    expected,
                    selected,
                    user_rules,
                    judge,
                    window=window.label,
                    comparisons=comparisons,
                )
                if f.severity > Severity.OK
            ] + found
        for f in found:
            first_warning.setdefault((f.column, f.check), window.label)
        results.append(
            QualityWindow(
                window=window.label, rows=window.rows, findings=tuple(found), skipped=window.skipped
            )
        )
    findings = [replace(f, since=first_warning.get((f.column, f.check))) for f in findings]
    volume = [f for w in results for f in w.findings if f.check == "volume"]
    if volume:
        worst = max(volume, key=lambda f: (f.severity.rank, f.rate))
        findings.append(replace(worst, window=None, since=volume[0].window))
    return tuple(results), findings


def _expected_window_rows(side, timestamp: str | None, windows) -> Any:
    """A function giving the fewest rows a window of current may normally hold, or None.

    Traffic has daily and weekly rhythms, so a window is compared with the reference's quiet
    windows, not its mean: with reference rows, the reference is cut into windows of the
    same length (counted from the Unix epoch) and the 5th percentile of its whole windows'
    rows per day, times the window's length, is what a window may normally fall to. From a
    baseline only the mean rate is known, and only windows of at least a week (which hold a
    whole weekly rhythm) are judged against it.
    """
    lengths = [w.end - w.start for w in windows if w.start is not None]
    if timestamp is None or not lengths:
        return None
    if side.frame is not None and timestamp in side.frame.columns:
        from monitorkit.windows import utc_times

        times = utc_times(side.frame[timestamp]).dropna()
        if len(times) < 2:
            return None
        width = pd.Series(lengths).median()
        codes = ((times - pd.Timestamp("1970-01-01")) // width).to_numpy(dtype=np.int64)
        codes = codes - codes.min()
        whole = int(codes.max()) - 1  # the windows between the first and the last
        if whole > 0:
            # Counted sparsely: a long reference cut fine may have many empty windows.
            _, counts = np.unique(codes[(codes > 0) & (codes <= whole)], return_counts=True)
            empty = whole - counts.size
            if empty >= 0.05 * whole:
                return None  # a window without rows is usual in the reference
            counts = np.concatenate([np.zeros(empty), counts])
            quiet = float(np.quantile(counts, 0.05)) / (width.total_seconds() / 86_400)
            return lambda window: quiet * _days(window)
        span = (times.max() - times.min()).total_seconds() / 86_400
        per_day = len(times) / span if span > 0 else None
    elif side.profile is not None and side.profile.time is not None:
        per_day = side.profile.time.rows_per_day  # the span the baseline's timestamps cover
    else:
        per_day = None
    if per_day is None:
        return None
    return lambda window: per_day * _days(window) if _days(window) >= 7 else None


def _days(window) -> float:
    return (window.end - window.start).total_seconds() / 86_400


def _volume(window, expected_rows, all_windows: Iterable) -> list[Finding]:
    """A window with far fewer rows than the reference's quiet windows (or, from a baseline,
    its rate) give for its length (:func:`_expected_window_rows`).

    Only whole windows inside current's span are judged (the first and last are usually
    partial): below half the expected rows warns, below a fifth is critical.
    """
    all_windows = list(all_windows)
    if expected_rows is None or window.start is None or window in (all_windows[0], all_windows[-1]):
        return []
    expected = expected_rows(window)
    if expected is None or expected < 30:
        return []
    share = window.rows / expected
    if share >= VOLUME_WARNING:
        return []
    severity = Severity.CRITICAL if share < VOLUME_CRITICAL else Severity.WARNING
    return [
        Finding(
            column=None,
            check="volume",
            severity=severity,
            count=int(round(expected - window.rows)),
            rate=float(1 - share),
            message=f"{window.rows:,} rows in window {window.label}, {share:.0%} of the "
            f"{expected:,.0f} the reference's quiet windows give",
            window=window.label,
        )
    ]
