"""Drift: has the data the model sees moved away from its reference?

:class:`DriftReport` compares every column of ``current`` with ``reference`` and answers, per
column, *did it move, by how much, and how sure are we*; then the same for the whole table
(share of drifted columns, and a multivariate check that catches a change in how features
relate when each one alone looks unchanged), and, with ``by=``, *since when*.

The default decision rule
-------------------------
A p-value alone answers "is there any difference at all?", which on a million rows is almost
always yes (the p-value trap), and on a hundred rows is noise. So by default a column is
*drifted* only when both hold:

1. **significance, corrected for the number of tests** — the test's p-value is below
   ``alpha / n_tests`` (Bonferroni; ``alpha = 0.05``, ``n_tests`` = two tests per tested column:
   its values and its missing rate, plus the window tests with ``by=``, below). On data that
   did not change, the chance that *anything* in the report is flagged is then at most 5%, at
   every sample size;
2. **a difference that matters** — the effect size is at least ``min_effect = 0.03``. The
   effect size is on one scale for every kind: the share of rows whose value would have to
   move to turn one distribution into the other at the worst point — the Kolmogorov–Smirnov
   distance ``D`` for numeric columns, the total variation distance ``½ Σ |p_c − q_c|`` for
   categorical and boolean ones (both in [0, 1]). On big samples, this keeps tiny but
   "significant" wiggles quiet.

A column is also drifted when its **missing rate** moved: a two-proportion z-test below the
same corrected threshold and an absolute change of at least ``min_effect``.

Windows (``by=``) are tests too, and they join the same family, so that asking *since when*
does not multiply false alarms (without this, daily windows over six weeks flagged something
in half of the reports on unchanged data). :func:`monitorkit.windows.assign_windows` cuts
``current`` (anchoring, UTC, labels, at most ``MAX_WINDOWS = 200``); a window with fewer than
``MIN_WINDOW_ROWS = 30`` rows is shown but not tested and never flagged. Then::

    n_tests = 2 × tested columns                       (values, missing rate)
            + tested columns × tested windows           (each column in each window)
            + windows judged by the multivariate check  (one each, when computed)

and every one of them — column, window, multivariate window — is judged at ``alpha /
n_tests`` (with rule 2's ``min_effect`` as well). A window's multivariate check is a rank
test (Mann–Whitney) of its rows' PCA reconstruction errors against held-out reference rows,
whose effect is the rank-biserial difference; see
:func:`monitorkit.drift.multivariate.window_errors`. Bonferroni then bounds the chance that a
report on unchanged data flags *anything* by ``alpha``; with hundreds of nearly independent
window tests the bound is nearly reached (about ``1 − e^−alpha`` ≈ 4.9% for exact tests), so
expect close to 5% rather than far below it. :meth:`DriftReport.with_rule` keeps ``n_tests``.
The overall multivariate check keeps its own ``± 3 sd`` band (see
:class:`~monitorkit.drift.MultivariateDrift`).

Severity: ``critical`` when the effect (or the missing-rate change) is at least
``critical_effect = 0.2``, ``warning`` when drifted with a smaller effect, ``ok`` otherwise.
The report's severity is the worst column severity; it is ``critical`` as well when the
*dataset* drifted: at least ``dataset_share = 0.5`` of the tested feature columns drifted.

The default methods are ``ks`` (two-sample Kolmogorov–Smirnov) for numeric columns and
``chi2`` (chi-square test of homogeneity, rare categories pooled) for categorical and boolean
ones. Asking for another ``method`` or giving a ``threshold`` replaces rule 1–2 for those
columns with that method's own rule: ``p_value < threshold`` for tests, ``statistic >=
threshold`` for distances (see :mod:`monitorkit.stats`), with the method's default threshold
when none is given.

NaN policy: missing values (None, NaN, NaT) never enter a distribution test; their rate is
tested separately (above). In a numeric column, ±inf and strings that are not numbers are
counted as ``invalid`` on each side and left out of the test too (they are data-quality
findings). Columns that cannot be compared as distributions are listed as *skipped* with the
reason: identifiers, free text, date-times, constant columns (one value on both sides),
columns that are entirely missing on both sides, categorical columns with so many distinct
values that they behave as identifiers, and columns present on one side only.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields, replace
from typing import Any

import pandas as pd

from monitorkit.drift.columns import (
    DEFAULT_METHODS,
    TESTED_KINDS,
    choose_columns,
    column_result,
    ignored_columns,
    method_for,
    prepare,
    quiet_statistics,
    rank,
)
from monitorkit.drift.multivariate import (
    multivariate_drift,
    multivariate_windows,
    window_error_drifted,
    window_errors,
)
from monitorkit.drift.options import choose_methods
from monitorkit.drift.over_time import window_tests, windows_drift
from monitorkit.drift.profile import drift_from_profile
from monitorkit.drift.results import (
    DRIFT_SCHEMA_VERSION,
    ColumnDrift,
    DecisionRule,
    DriftResult,
    WindowDrift,
)
from monitorkit.drift.rule import judge_column, values_drifted
from monitorkit.errors import ColumnNotFoundError
from monitorkit.profiles import Profile, profile
from monitorkit.reference import as_reference, is_summary, match_hashing
from monitorkit.report import Report
from monitorkit.schema import ColumnSpec, list_names, resolve_spec
from monitorkit.severity import Severity
from monitorkit.windows import WindowWarning, assign_windows


class DriftReport(Report, kind="drift"):
    """Compare ``current`` with ``reference`` column by column, as a whole and over time.

    Parameters
    ----------
    reference, current
        DataFrames, or anything :func:`monitorkit.read_frame` reads (parquet, CSV, …).
    spec
        A :class:`~monitorkit.ColumnSpec` (or dict of its fields); roles not given are inferred.
    method
        A drift method name for every column (``"psi"``), or a mapping from column name or
        kind (``"numeric"``, ``"categorical"``, ``"boolean"``) to a method name. None: the
        default rule (module docstring). Methods: :func:`monitorkit.stats.available_methods`.
    threshold
        One threshold, or a mapping from column name or kind to a threshold, replacing the
        method's default (p-value threshold for tests, statistic threshold for distances).
    by
        Split ``current`` into windows: a pandas offset alias over the timestamp column
        (``"6h"``, ``"1D"``, ``"W-MON"``, ``"2W"``, ``"MS"``, ``"QE"``; cut in UTC) or an
        integer (that many equal-size chunks in row order). At most 200 windows; windows of
        fewer than 30 rows are shown but not tested. See :mod:`monitorkit.windows`.
    columns
        Only these columns (default: every feature, the target and the prediction).
    multivariate
        Compute the PCA reconstruction drift (default True; cheap).
    domain_classifier
        Train a classifier to tell reference from current (default False; needs
        ``pip install 'monitorkit[ml]'``).
    rule
        A :class:`DecisionRule` replacing the default alpha / effect thresholds.
    n_jobs
        Threads over columns (default: the number of CPUs).

    Examples
    --------
    >>> import monitorkit as mk
    >>> ref, cur, truth = mk.datasets.load_scenario("seasonal_retail", n_rows=5_000)
    >>> drift = mk.DriftReport(ref, cur)
    >>> "temperature_c" in drift.drifted_columns
    True
    """

    schema_version = DRIFT_SCHEMA_VERSION
    result_type = DriftResult
    title = "Drift"

    def __init__(
        self,
        reference: Any,
        current: Any,
        spec: ColumnSpec | Mapping[str, Any] | None = None,
        method: str | Mapping[str, str] | None = None,
        threshold: float | Mapping[str, float] | None = None,
        by: str | int | None = None,
        *,
        columns: Sequence[str] | None = None,
        multivariate: bool = True,
        domain_classifier: bool = False,
        rule: DecisionRule | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.result = compute_drift(
            reference,
            current,
            spec=spec,
            method=method,
            threshold=threshold,
            by=by,
            columns=columns,
            multivariate=multivariate,
            domain_classifier=domain_classifier,
            rule=rule,
            n_jobs=n_jobs,
        )

    # ---- views ---------------------------------------------------------------------------

    @property
    def columns(self) -> tuple[ColumnDrift, ...]:
        """Per-column results: target and prediction first, then by effect size."""
        return self.result.columns

    def __getitem__(self, column: str) -> ColumnDrift:
        for item in self.result.columns:
            if item.column == column:
                return item
        raise ColumnNotFoundError(
            f"no column {column!r} in this drift report; it has: "
            f"{list_names([c.column for c in self.result.columns], near=column)}."
        )

    @property
    def drifted_columns(self) -> list[str]:
        return [c.column for c in self.result.columns if c.drifted]

    @property
    def skipped_columns(self) -> dict[str, str]:
        return {c.column: c.skipped for c in self.result.columns if c.skipped}

    @property
    def tested_features(self) -> list[ColumnDrift]:
        return [c for c in self.result.columns if c.role == "feature" and not c.skipped]

    @property
    def share_drifted(self) -> float:
        """Share of tested feature columns that drifted (0 to 1)."""
        tested = self.tested_features
        return sum(c.drifted for c in tested) / len(tested) if tested else 0.0

    @property
    def dataset_drifted(self) -> bool:
        return bool(self.tested_features) and self.share_drifted >= self.result.rule.dataset_share

    @property
    def not_judged(self) -> str | None:
        """Why nothing could be compared (no column in common, no rows, every column skipped),
        or None. Such a report is never ``ok``: it is critical, and a run of it fails."""
        result = self.result
        if result.reference_rows == 0 or result.current_rows == 0:
            empty = "reference" if result.reference_rows == 0 else "current"
            return f"{empty} has no rows: there is nothing to compare"
        if any(not c.skipped for c in result.columns):
            return None
        one_sided = ("only in ", "no labels in current")
        present_both = [c for c in result.columns if not c.skipped.startswith(one_sided)]
        if not present_both:
            return (
                "reference and current have no column in common (was the file read with the "
                "wrong delimiter, or were the columns renamed?)"
            )
        return f"none of the {len(result.columns)} columns could be tested for drift"

    @property
    def severity(self) -> Severity:
        """The worst column (and multivariate) severity; critical when the dataset drifted
        (at least ``rule.dataset_share`` of tested features) or when nothing could be judged."""
        if self.not_judged or self.dataset_drifted:
            return Severity.CRITICAL
        extras = (self.result.multivariate, self.result.domain_classifier)
        return Severity.worst(
            [c.severity for c in self.result.columns]
            + [e.severity for e in extras if e is not None]
        )

    @property
    def verdict(self) -> str:
        """One sentence: how many columns drifted, led by which."""
        if self.not_judged:
            return f"drift could not be judged: {self.not_judged}"
        tested = [c for c in self.result.columns if not c.skipped]
        drifted = [c for c in tested if c.drifted]
        if not drifted:
            text = f"no drift in {len(tested)} tested columns"
        else:
            leaders = ", ".join(f"`{c.column}`" for c in drifted[:3])
            text = f"{len(drifted)} of {len(tested)} columns drifted, led by {leaders}"
        multivariate = self.result.multivariate
        if multivariate is not None and multivariate.drifted:
            text += "; the joint distribution of the features moved (PCA reconstruction error)"
        return text

    @property
    def figures(self) -> dict[str, float]:
        """Flat named numbers for summaries, history, alert rules and gauges.

        ``share_drifted`` (of tested features), ``drifted_columns``, ``tested_columns``,
        ``dataset_drifted`` (0/1), ``multivariate.error`` and ``multivariate.drifted`` when
        computed, and per tested column ``column.<name>.statistic`` / ``.p_value`` /
        ``.effect_size`` / ``.drifted`` (0/1) / ``.missing_rate_change``. Values that are not
        finite numbers are left out.
        """
        figures: dict[str, float] = {
            "share_drifted": self.share_drifted,
            "drifted_columns": len(self.drifted_columns),
            "tested_columns": sum(not c.skipped for c in self.result.columns),
            "dataset_drifted": int(self.dataset_drifted),
        }
        multivariate = self.result.multivariate
        if multivariate is not None and not multivariate.skipped:
            figures["multivariate.error"] = multivariate.current_error
            figures["multivariate.drifted"] = int(multivariate.drifted)
        for c in self.result.columns:
            if c.skipped:
                continue
            prefix = f"column.{c.column}."
            figures[prefix + "statistic"] = c.statistic
            figures[prefix + "p_value"] = c.p_value
            figures[prefix + "effect_size"] = c.effect_size
            figures[prefix + "drifted"] = int(c.drifted)
            figures[prefix + "missing_rate_change"] = c.missing_rate_change
        return {
            name: value
            for name, value in figures.items()
            if isinstance(value, (int, float)) and math.isfinite(value)
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per column: kind, method, statistic, p_value, threshold, drifted, severity…"""
        rows = []
        for c in self.result.columns:
            row = {f.name: getattr(c, f.name) for f in fields(c) if f.name != "distribution"}
            row["severity"] = str(c.severity)
            row["drifted"] = c.drifted
            row["missing_rate_change"] = c.missing_rate_change
            rows.append(row)
        return pd.DataFrame(rows)

    def over_time(self) -> pd.DataFrame:
        """One row per (window, column), in window order: ``window`` (label), ``start`` /
        ``end`` (ISO 8601 UTC, None for chunks), ``rows``, ``column``, ``statistic``,
        ``p_value``, ``effect_size``, ``drifted`` and ``skipped`` (why the window was not
        tested, e.g. too few rows; its statistics are then None)."""
        rows = []
        for w in self.result.windows:
            for i, column in enumerate(w.columns):
                rows.append(
                    {
                        "window": w.window,
                        "start": w.start,
                        "end": w.end,
                        "rows": w.rows,
                        "column": column,
                        "statistic": w.statistic[i],
                        "p_value": w.p_value[i],
                        "effect_size": w.effect_size[i],
                        "drifted": w.drifted[i],
                        "skipped": w.skipped,
                    }
                )
        columns = ["window", "start", "end", "rows", "column", "statistic", "p_value"]
        columns += ["effect_size", "drifted", "skipped"]
        return pd.DataFrame(rows, columns=columns)

    def first_drifted_window(self, column: str) -> str | None:
        """The label of the first window (in time or row order) in which ``column`` drifted
        (with ``by=``), or None. Windows with too few rows are never flagged."""
        for w in self.result.windows:
            if column in w.columns and w.drifted[w.columns.index(column)]:
                return w.window
        return None

    def with_rule(self, rule: DecisionRule | None = None, **changes: float) -> DriftReport:
        """The same report judged under another rule, from the stored statistics (no data).

        Give a :class:`DecisionRule`, or the fields to change: ``with_rule(min_effect=0.1)``.
        Statistics, p-values and effect sizes stay as they are; flags, thresholds and
        severities of the columns (and windows) that use the rule are re-evaluated.
        """
        current = self.result.rule
        new_rule = replace(rule or current, n_tests=current.n_tests, **changes)
        columns = sorted((judge_column(c, new_rule) for c in self.result.columns), key=rank)
        by_rule = {c.column for c in columns if c.decision == "rule"}
        windows = tuple(
            replace(
                w,
                drifted=tuple(
                    values_drifted(w.p_value[i], w.effect_size[i], new_rule)
                    if column in by_rule and w.tested
                    else w.drifted[i]
                    for i, column in enumerate(w.columns)
                ),
                multivariate_drifted=(
                    window_error_drifted(w.multivariate_p_value, w.multivariate_effect, new_rule)
                    if w.multivariate_drifted is not None
                    else None
                ),
            )
            for w in self.result.windows
        )
        result = replace(self.result, rule=new_rule, columns=tuple(columns), windows=windows)
        return DriftReport.from_result(result)

    # ---- display (monitorkit.display reads the finished result; imported on use) ---------

    def plot(self, column: str, ax: Any = None):
        """Reference vs current distribution of ``column``; returns the matplotlib Figure."""
        from monitorkit.display.plots import plot_column

        return plot_column(self, column, ax=ax)

    def plot_over_time(self, columns: Sequence[str] | None = None, ax: Any = None):
        """Effect size per window (needs ``by=``); returns the matplotlib Figure."""
        from monitorkit.display.plots import plot_over_time

        return plot_over_time(self, columns=columns, ax=ax)

    def widget(self):
        """The interactive explorer (ipywidgets) of this report."""
        from monitorkit.display.widgets import DriftExplorer

        return DriftExplorer(self).widget

    # ---- text -----------------------------------------------------------------------------

    def __str__(self) -> str:
        r = self.result
        lines = [
            f"Drift {self.severity.upper()}: {self.verdict}",
            f"reference {r.reference_rows:,} rows, current {r.current_rows:,} rows; "
            f"{self.share_drifted:.0%} of tested features drifted",
            f"rule: {r.rule.describe()}",
            "",
            f"{'column':<24} {'kind':<11} {'method':<7} {'statistic':>10} {'p_value':>9} "
            f"{'effect':>7}  severity",
        ]
        for c in r.columns:
            if c.skipped:
                continue
            lines.append(
                f"{c.column[:24]:<24} {c.kind:<11} {c.method or '':<7} "
                f"{_fmt(c.statistic):>10} {_fmt(c.p_value):>9} {_fmt(c.effect_size):>7}  "
                f"{c.severity}{' (missing rate)' if c.missing_drifted else ''}"
            )
        if self.skipped_columns:
            lines.append("")
            lines += [f"skipped {name}: {why}" for name, why in self.skipped_columns.items()]
        if r.multivariate is not None and not r.multivariate.skipped:
            m = r.multivariate
            lines += [
                "",
                f"multivariate (PCA reconstruction error): current {m.current_error:.4g}, "
                f"expected {m.lower:.4g} to {m.upper:.4g} -> {m.severity}",
            ]
        return "\n".join(lines)


def _fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.2e}"
    return f"{value:.4f}"


def compute_drift(
    reference: Any,
    current: Any,
    *,
    spec: ColumnSpec | Mapping[str, Any] | None = None,
    method: str | Mapping[str, str] | None = None,
    threshold: float | Mapping[str, float] | None = None,
    by: str | int | None = None,
    columns: Sequence[str] | None = None,
    multivariate: bool = True,
    domain_classifier: bool = False,
    rule: DecisionRule | None = None,
    n_jobs: int | None = None,
) -> DriftResult:
    """Compute a :class:`DriftResult` (what :class:`DriftReport` holds); see its parameters.

    Either side may be rows (anything :func:`monitorkit.read_frame` reads), a
    :class:`~monitorkit.Profile` or a :class:`~monitorkit.Baseline`
    (:func:`monitorkit.reference.as_reference`). Rows on both sides (a baseline's sample
    counts) give exact tests; otherwise the sides are compared as profiles. ``method=`` and
    ``threshold=`` are checked before any column is computed
    (:func:`monitorkit.drift.options.choose_methods`).
    """
    rule = rule or DecisionRule()
    reference_side = as_reference(reference, name="reference")
    if spec is None:
        spec = reference_side.column_spec  # the roles a baseline or profile was captured with

    def check_options_of(reference_profile: Profile) -> None:
        names = reference_profile.columns if columns is None else columns
        names = [names] if isinstance(names, str) else names
        choose_methods(
            {n: reference_profile[n].kind for n in names if n in reference_profile.columns},
            method,
            threshold,
            defaults=DEFAULT_METHODS,
            known_columns=reference_profile.spec.names,
        )

    if not reference_side.has_rows and reference_side.hash_salt is None and not is_summary(current):
        # Rows against a profile: a log on disk is profiled batch by batch, not loaded whole.
        check_options_of(reference_side.profile)
        return drift_from_profile(
            reference_side.profile,
            current,
            method=method,
            threshold=threshold,
            by=by,
            columns=columns,
            rule=rule,
        )
    current_side = as_reference(current, name="current")
    reference_side, current_side = match_hashing(reference_side, current_side)
    if not (reference_side.has_rows and current_side.has_rows):
        # A profile on either side without rows on the other: compare profiles.
        if reference_side.has_rows:
            current_profile = current_side.profile
            reference_profile = profile(
                reference_side.frame,
                spec=current_profile.spec,
                histogram_edges=current_profile.histogram_edges(),
            )
        else:
            reference_profile = reference_side.profile
        check_options_of(reference_profile)
        return drift_from_profile(
            reference_profile,
            current_side.frame if current_side.has_rows else current_side.profile,
            method=method,
            threshold=threshold,
            by=by,
            columns=columns,
            rule=rule,
        )
    reference, current = reference_side.frame, current_side.frame
    resolved = resolve_spec(spec, reference, current)
    chosen = choose_columns(resolved, columns, reference, current)
    choose_methods(  # raises on a bad method= / threshold= before any column is computed
        {
            info.name: info.kind
            for info in chosen
            if info.kind in TESTED_KINDS and info.role != "timestamp"
        },
        method,
        threshold,
        defaults=DEFAULT_METHODS,
        known_columns=[*reference.columns, *current.columns],
    )
    workers = n_jobs or os.cpu_count() or 1
    # by= is checked (and current cut) before any column is computed.
    cut = None if by is None else assign_windows(current, by, resolved.timestamp)
    if cut is not None and cut.note:
        warnings.warn(cut.note, WindowWarning, stacklevel=3)

    with quiet_statistics(), ThreadPoolExecutor(max_workers=workers) as pool:
        prepared = list(
            pool.map(lambda info: prepare(info, reference, current, by is not None), chosen)
        )
        tested = [p for p in prepared if p.skipped is None]
        multivariate_result, errors_by_window = None, None
        if multivariate:
            multivariate_result, current_errors, current_rows, holdout_errors = multivariate_drift(
                reference, current, prepared
            )
            if cut is not None and current_errors is not None:
                errors_by_window = window_errors(cut, current_errors, current_rows, holdout_errors)
        # One Bonferroni family for the whole report: column, window and multivariate window
        # tests (module docstring).
        rule = replace(
            rule,
            n_tests=2 * len(tested)
            + window_tests(len(tested), cut)
            + (errors_by_window.tests if errors_by_window is not None else 0),
        )
        methods = {p.column: method_for(p, method, threshold) for p in prepared}
        results = list(pool.map(lambda p: column_result(p, methods[p.column], rule), prepared))

        windows: tuple[WindowDrift, ...] = ()
        if cut is not None:
            windows = windows_drift(pool, tested, cut, methods, rule)

    results += ignored_columns(resolved, reference, current)
    results.sort(key=rank)
    if errors_by_window is not None:
        windows = multivariate_windows(windows, errors_by_window, rule)
    domain_result = None
    if domain_classifier:
        from monitorkit.drift.domain import domain_classifier_drift

        features = [p.column for p in tested if p.role == "feature"]
        domain_result = domain_classifier_drift(reference, current, features, resolved)

    return DriftResult(
        spec=resolved,
        rule=rule,
        reference_rows=int(len(reference)),
        current_rows=int(len(current)),
        columns=tuple(results),
        multivariate=multivariate_result,
        domain_classifier=domain_result,
        windows=windows,
        by=None if by is None else str(by),
        untimed_rows=0 if cut is None else int(cut.untimed_rows),
    )
