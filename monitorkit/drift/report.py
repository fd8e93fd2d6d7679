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
   its values and its missing rate). On data that did not change, the chance that *any*
   column of the report is flagged is then at most 5%, at every sample size;
2. **a difference that matters** — the effect size is at least ``min_effect = 0.03``. The
   effect size is on one scale for every kind: the share of rows whose value would have to
   move to turn one distribution into the other at the worst point — the Kolmogorov–Smirnov
   distance ``D`` for numeric columns, the total variation distance ``½ Σ |p_c − q_c|`` for
   categorical and boolean ones (both in [0, 1]). On big samples, this keeps tiny but
   "significant" wiggles quiet.

A column is also drifted when its **missing rate** moved: a two-proportion z-test below the
same corrected threshold and an absolute change of at least ``min_effect``.

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
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields, replace
from typing import Any

import pandas as pd

from monitorkit.drift.columns import (
    choose_columns,
    column_result,
    method_for,
    prepare,
    quiet_statistics,
    rank,
)
from monitorkit.drift.multivariate import multivariate_drift, multivariate_windows
from monitorkit.drift.over_time import window_labels, windows_drift
from monitorkit.drift.profile import drift_from_profile, profile_of
from monitorkit.drift.results import (
    DRIFT_SCHEMA_VERSION,
    ColumnDrift,
    DecisionRule,
    DriftResult,
    WindowDrift,
)
from monitorkit.drift.rule import judge_column, values_drifted
from monitorkit.errors import ColumnSpecError
from monitorkit.report import Report
from monitorkit.schema import ColumnSpec, list_names, read_frame, resolve_spec
from monitorkit.severity import Severity


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
        (``"1D"``, ``"1W"``) or an integer (that many equal-size chunks in row order).
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
        raise ColumnSpecError(
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
        present_both = [c for c in result.columns if not c.skipped.startswith("only in")]
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
        """One row per (window, column): statistic, p_value, effect_size, drifted."""
        rows = []
        for w in self.result.windows:
            for i, column in enumerate(w.columns):
                rows.append(
                    {
                        "window": w.window,
                        "rows": w.rows,
                        "column": column,
                        "statistic": w.statistic[i],
                        "p_value": w.p_value[i],
                        "effect_size": w.effect_size[i],
                        "drifted": w.drifted[i],
                    }
                )
        return pd.DataFrame(rows)

    def first_drifted_window(self, column: str) -> str | None:
        """The first window in which ``column`` drifted (with ``by=``), or None."""
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
                    if column in by_rule
                    else w.drifted[i]
                    for i, column in enumerate(w.columns)
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
    """Compute a :class:`DriftResult` (what :class:`DriftReport` holds); see its parameters."""
    reference_profile = profile_of(reference)
    if reference_profile is not None and getattr(reference, "hash_salt", None):
        current = reference.prepare_current(current)  # a baseline that stores hashed values
    if reference_profile is not None and isinstance(
        getattr(reference, "sample", None), pd.DataFrame
    ):
        reference = reference.sample  # a baseline that keeps raw rows: exact tests
    elif reference_profile is not None:
        return drift_from_profile(
            reference_profile,
            current,
            method=method,
            threshold=threshold,
            by=by,
            columns=columns,
            rule=rule or DecisionRule(),
        )
    reference = read_frame(reference, name="reference")
    current = read_frame(current, name="current")
    resolved = resolve_spec(spec, reference, current)
    rule = rule or DecisionRule()
    chosen = choose_columns(resolved, columns, reference, current)
    workers = n_jobs or os.cpu_count() or 1

    with quiet_statistics(), ThreadPoolExecutor(max_workers=workers) as pool:
        prepared = list(
            pool.map(lambda info: prepare(info, reference, current, by is not None), chosen)
        )
        tested = [p for p in prepared if p.skipped is None]
        rule = replace(rule, n_tests=2 * len(tested))
        methods = {p.column: method_for(p, method, threshold) for p in prepared}
        results = list(pool.map(lambda p: column_result(p, methods[p.column], rule), prepared))

        windows: tuple[WindowDrift, ...] = ()
        labels = None
        if by is not None:
            labels = window_labels(current, by, resolved.timestamp)
            windows = windows_drift(pool, tested, labels, methods, rule)

    results.sort(key=rank)
    multivariate_result = None
    if multivariate:
        multivariate_result, current_errors, current_rows, holdout_errors = multivariate_drift(
            reference, current, prepared
        )
        if labels is not None and current_errors is not None:
            windows = multivariate_windows(
                windows, labels, current_errors, current_rows, holdout_errors
            )
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
    )
