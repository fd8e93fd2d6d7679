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

import contextlib
import json
import math
import os
import warnings
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from monitorkit import stats
from monitorkit.errors import ColumnSpecError, InputError, ReportFormatError
from monitorkit.schema import (
    ColumnSpec,
    ResolvedSpec,
    category_labels,
    numeric_values,
    read_frame,
    resolve_spec,
)

DRIFT_SCHEMA_VERSION = 1
DEFAULT_METHODS = {"numeric": "ks", "categorical": "chi2", "boolean": "chi2"}
TESTED_KINDS = ("numeric", "categorical", "boolean")
SEVERITY_ORDER = {"ok": 0, "warning": 1, "critical": 2}
HISTOGRAM_BINS = 20
_TOP_CATEGORIES = 20
_MAX_CATEGORIES = 10_000  # more distinct values than this (and mostly unique) behave as ids


# --------------------------------------------------------------------------------------------
# Results: plain values
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionRule:
    """The default rule that turns statistics into flags (see the module docstring)."""

    alpha: float = 0.05
    min_effect: float = 0.03
    critical_effect: float = 0.2
    dataset_share: float = 0.5
    n_tests: int = 0  # filled in by the report: two per tested column

    def __post_init__(self) -> None:
        for name in ("alpha", "min_effect", "critical_effect", "dataset_share"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0 < value <= 1:
                raise InputError(f"DecisionRule.{name} must be a number in (0, 1]; got {value!r}.")

    @property
    def p_threshold(self) -> float:
        """The corrected significance threshold ``alpha / n_tests``."""
        return self.alpha / max(self.n_tests, 1)

    def describe(self) -> str:
        return (
            f"a column drifted when its test's p-value < {self.alpha:g}/{self.n_tests} "
            f"(Bonferroni over {self.n_tests} tests) and its effect size (KS distance or total "
            f"variation) >= {self.min_effect:g}, or when its missing rate moved by >= "
            f"{self.min_effect:g} with the same significance; critical at effect >= "
            f"{self.critical_effect:g}; the dataset drifted when >= {self.dataset_share:.0%} "
            "of tested feature columns drifted"
        )


@dataclass(frozen=True)
class Distribution:
    """A small picture of one column on both sides, enough to plot without the data.

    Numeric: ``bins`` are the ``len(reference)+1`` edges of a histogram on equal-width bins
    between the pooled 0.5% and 99.5% quantiles (values outside are counted in the end bins).
    Categorical/boolean: ``bins`` are the labels of the most frequent categories (on either
    side) and ``"(other)"`` for the rest. ``reference`` and ``current`` are shares (sum to 1).
    """

    bins: tuple[Any, ...]
    reference: tuple[float, ...]
    current: tuple[float, ...]


@dataclass(frozen=True)
class ColumnDrift:
    """The verdict for one column."""

    column: str
    kind: str
    role: str
    method: str | None
    statistic: float | None
    p_value: float | None
    threshold: float | None
    drifted: bool
    severity: str
    effect_size: float | None = None
    reference_count: int = 0
    current_count: int = 0
    reference_missing_rate: float = 0.0
    current_missing_rate: float = 0.0
    missing_p_value: float | None = None
    missing_drifted: bool = False
    reference_invalid: int = 0
    current_invalid: int = 0
    unseen_categories: int = 0  # categories in current never seen in reference
    skipped: str | None = None
    distribution: Distribution | None = None
    decision: str = "rule"  # "rule": the DecisionRule; "method": the method's own threshold
    values_drifted: bool = False  # the verdict on the values alone (missing rate aside)

    @property
    def missing_rate_change(self) -> float:
        return self.current_missing_rate - self.reference_missing_rate


@dataclass(frozen=True)
class WindowDrift:
    """One window of ``current`` (``by=``) compared with the whole reference."""

    window: str
    rows: int
    columns: tuple[str, ...]
    statistic: tuple[float | None, ...]
    p_value: tuple[float | None, ...]
    effect_size: tuple[float | None, ...]
    drifted: tuple[bool, ...]
    multivariate_error: float | None = None
    multivariate_drifted: bool | None = None


@dataclass(frozen=True)
class MultivariateDrift:
    """Data-reconstruction drift: PCA fitted on the reference, error on current.

    Numeric and boolean feature columns are standardised with the reference mean and standard
    deviation (missing values set to the reference mean, i.e. 0); a PCA keeping enough
    components to explain ``variance_kept`` (65%) of the reference variance is fitted on half
    of the reference rows (chosen at random, seeded). The reconstruction error of a row is the
    Euclidean norm of what the components cannot express. The expected error and its
    variability come from the *other* half of the reference cut into chunks of the current's
    size (at most 10 000 rows, at least 5 chunks); drifted when the current mean error is
    outside ``mean ± 3 sd`` of the chunks' mean errors. A changed correlation between features
    raises the error even when every single column looks unchanged. Past 200,000 reference and
    100,000 current rows a seeded random sample of that many rows is used: the mean error of
    100,000 rows is far more precise than the band it is judged against.
    """

    columns: tuple[str, ...]
    n_components: int
    variance_kept: float
    reference_error: float
    reference_error_sd: float
    lower: float
    upper: float
    current_error: float
    drifted: bool
    severity: str
    skipped: str | None = None


@dataclass(frozen=True)
class DomainClassifierDrift:
    """Can a classifier tell reference rows from current rows? (opt-in, needs scikit-learn)

    A histogram gradient-boosting classifier is trained on up to ``max_rows`` rows per side
    (features only; categoricals as integer codes) and scored by ROC AUC on a held-out third.
    0.5 means the two sides are indistinguishable. Drifted when the AUC minus 1.96 times its
    standard error (Hanley & McNeil 1982) is above ``auc_threshold`` (0.55). ``importance``
    is the permutation importance (mean drop in AUC when the column is shuffled).
    """

    auc: float
    auc_se: float
    auc_threshold: float
    drifted: bool
    severity: str
    columns: tuple[str, ...]
    importance: tuple[float, ...]


@dataclass(frozen=True)
class DriftResult:
    """Everything a :class:`DriftReport` computed, as plain values (JSON round trip)."""

    spec: ResolvedSpec
    rule: DecisionRule
    reference_rows: int
    current_rows: int
    columns: tuple[ColumnDrift, ...]
    multivariate: MultivariateDrift | None = None
    domain_classifier: DomainClassifierDrift | None = None
    windows: tuple[WindowDrift, ...] = ()
    by: str | None = None
    schema_version: int = DRIFT_SCHEMA_VERSION


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


class DriftReport:
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

    @classmethod
    def from_result(cls, result: DriftResult) -> DriftReport:
        report = cls.__new__(cls)
        report.result = result
        return report

    # ---- views ---------------------------------------------------------------------------

    @property
    def columns(self) -> tuple[ColumnDrift, ...]:
        """Per-column results: target and prediction first, then by effect size."""
        return self.result.columns

    def __getitem__(self, column: str) -> ColumnDrift:
        for item in self.result.columns:
            if item.column == column:
                return item
        raise KeyError(column)

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
    def severity(self) -> str:
        worst = max((SEVERITY_ORDER[c.severity] for c in self.result.columns), default=0)
        for extra in (self.result.multivariate, self.result.domain_classifier):
            if extra is not None:
                worst = max(worst, SEVERITY_ORDER[extra.severity])
        if self.dataset_drifted:
            worst = SEVERITY_ORDER["critical"]
        return next(name for name, rank in SEVERITY_ORDER.items() if rank == worst)

    @property
    def verdict(self) -> str:
        """One sentence: how many columns drifted, led by which."""
        tested = [c for c in self.result.columns if not c.skipped]
        drifted = [c for c in tested if c.drifted]
        if not tested:
            return "no column could be tested for drift"
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
    def figures(self) -> dict[str, Any]:
        """Key figures for a run summary."""
        return {
            "drifted_columns": len(self.drifted_columns),
            "tested_columns": sum(not c.skipped for c in self.result.columns),
            "share_drifted_features": round(self.share_drifted, 4),
            "dataset_drifted": self.dataset_drifted,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per column: kind, method, statistic, p_value, threshold, drifted, severity…"""
        rows = []
        for c in self.result.columns:
            row = {f.name: getattr(c, f.name) for f in fields(c) if f.name != "distribution"}
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
        columns = sorted((judge_column(c, new_rule) for c in self.result.columns), key=_rank)
        by_rule = {c.column for c in columns if c.decision == "rule"}
        windows = tuple(
            replace(
                w,
                drifted=tuple(
                    _values_drifted(w.p_value[i], w.effect_size[i], new_rule)
                    if column in by_rule
                    else w.drifted[i]
                    for i, column in enumerate(w.columns)
                ),
            )
            for w in self.result.windows
        )
        result = replace(self.result, rule=new_rule, columns=tuple(columns), windows=windows)
        return DriftReport.from_result(result)

    # ---- serialisation --------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data = _to_plain(asdict(self.result))
        data["spec"] = self.result.spec.to_dict()
        return {"kind": "drift", **data}

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftReport:
        version = data.get("schema_version")
        if version != DRIFT_SCHEMA_VERSION:
            raise ReportFormatError(
                f"drift report has schema_version {version!r}; this monitorkit reads version "
                f"{DRIFT_SCHEMA_VERSION}. Upgrade monitorkit to read newer reports."
            )
        try:
            columns = tuple(
                ColumnDrift(
                    **{
                        **c,
                        "distribution": Distribution(
                            **{k: tuple(v) for k, v in c["distribution"].items()}
                        )
                        if c.get("distribution")
                        else None,
                    }
                )
                for c in data["columns"]
            )
            windows = tuple(
                WindowDrift(**{k: tuple(v) if isinstance(v, list) else v for k, v in w.items()})
                for w in data.get("windows", ())
            )
            multivariate = data.get("multivariate")
            domain = data.get("domain_classifier")
            result = DriftResult(
                spec=ResolvedSpec.from_dict(data["spec"]),
                rule=DecisionRule(**data["rule"]),
                reference_rows=data["reference_rows"],
                current_rows=data["current_rows"],
                columns=columns,
                multivariate=MultivariateDrift(
                    **{k: tuple(v) if isinstance(v, list) else v for k, v in multivariate.items()}
                )
                if multivariate
                else None,
                domain_classifier=DomainClassifierDrift(
                    **{k: tuple(v) if isinstance(v, list) else v for k, v in domain.items()}
                )
                if domain
                else None,
                windows=windows,
                by=data.get("by"),
            )
        except (KeyError, TypeError) as exc:
            raise ReportFormatError(f"not a valid drift report: {exc}") from exc
        return cls.from_result(result)

    # ---- display (monitorkit.display reads the finished result; imported on use) ---------

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from monitorkit.display import mimebundle

        return mimebundle(self, include=include, exclude=exclude)

    def to_html(self, standalone: bool = True) -> str:
        """The static view: a whole offline page, or a fragment for embedding."""
        from monitorkit.display import report_html, report_page

        return report_page(self) if standalone else report_html(self)

    def save_html(self, path: str | os.PathLike) -> Path:
        """Write the static view as one self-contained, offline HTML file (never replaced)."""
        from monitorkit.store import write_atomic

        return write_atomic(path, self.to_html(standalone=True))

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

    def __repr__(self) -> str:
        return f"<DriftReport {self.severity.upper()}: {self.verdict}>"

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


def _to_plain(value: Any) -> Any:
    """Tuples to lists, numpy scalars to Python numbers (for JSON)."""
    if isinstance(value, dict):
        return {k: _to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


# --------------------------------------------------------------------------------------------
# Computation
# --------------------------------------------------------------------------------------------


@dataclass
class _Prepared:
    """One column, coerced once and shared by the overall test and every window."""

    column: str
    kind: str
    role: str
    reference_rows: int
    current_rows: int
    reference_missing: int
    current_missing: int
    reference_invalid: int = 0
    current_invalid: int = 0
    reference_sorted: np.ndarray | None = None  # numeric
    current_values: np.ndarray | None = None  # numeric, in row order: kept only for by=
    current_sorted: np.ndarray | None = None  # numeric, finite, sorted
    categories: pd.Index | None = None  # categorical: labels, reference first
    reference_counts: np.ndarray | None = None
    current_codes: np.ndarray | None = None  # categorical: code per current row, -1 missing
    skipped: str | None = None
    unseen_categories: int = 0  # categorical: categories in current, not in reference


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
    reference_profile = _profile_of(reference)
    if reference_profile is not None and getattr(reference, "hash_salt", None):
        current = reference.prepare_current(current)  # a baseline that stores hashed values
    if reference_profile is not None and isinstance(
        getattr(reference, "sample", None), pd.DataFrame
    ):
        reference = reference.sample  # a baseline that keeps raw rows: exact tests
    elif reference_profile is not None:
        return _drift_from_profile(
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
    chosen = _choose_columns(resolved, columns, reference, current)
    workers = n_jobs or os.cpu_count() or 1

    with _quiet_statistics(), ThreadPoolExecutor(max_workers=workers) as pool:
        prepared = list(
            pool.map(lambda info: _prepare(info, reference, current, by is not None), chosen)
        )
        tested = [p for p in prepared if p.skipped is None]
        rule = replace(rule, n_tests=2 * len(tested))
        methods = {p.column: _method_for(p, method, threshold) for p in prepared}
        results = list(pool.map(lambda p: _column_result(p, methods[p.column], rule), prepared))

        windows: tuple[WindowDrift, ...] = ()
        window_labels = None
        if by is not None:
            window_labels = _window_labels(current, by, resolved.timestamp)
            windows = _windows(pool, tested, window_labels, methods, rule)

    results.sort(key=_rank)
    multivariate_result = None
    if multivariate:
        multivariate_result, current_errors, current_rows, holdout_errors = _multivariate(
            reference, current, prepared
        )
        if window_labels is not None and current_errors is not None:
            windows = _multivariate_windows(
                windows, window_labels, current_errors, current_rows, holdout_errors
            )
    domain_result = None
    if domain_classifier:
        from monitorkit._domain import domain_classifier_drift

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


def _profile_of(data: Any) -> Any:
    """The Profile of a Profile or a Baseline; None for raw data."""
    from monitorkit.profiles import Profile

    if isinstance(data, Profile):
        return data
    profile_attribute = getattr(data, "profile", None)
    return profile_attribute if isinstance(profile_attribute, Profile) else None


def _drift_from_profile(
    reference: Any,
    current: Any,
    *,
    method: Any,
    threshold: Any,
    by: str | int | None,
    columns: Sequence[str] | None,
    rule: DecisionRule,
) -> DriftResult:
    """Drift against a reference profile (see :mod:`monitorkit._profile_drift`)."""
    from monitorkit._profile_drift import compare_profiles
    from monitorkit.profiles import Profile, profile, profile_frame

    current_profile = _profile_of(current)
    frame = None
    if current_profile is None and by is None and isinstance(current, (str, os.PathLike)):
        # A log on disk (file, folder or glob) is profiled batch by batch: bounded memory.
        current_profile = profile(
            current, spec=reference.spec, histogram_edges=reference.histogram_edges()
        )
    elif not isinstance(current_profile, Profile):
        frame = read_frame(current, name="current")
        present = ResolvedSpec(
            columns=tuple(c for c in reference.spec.columns if c.name in frame.columns),
            spec=reference.spec.spec,
        )
        current_profile = profile_frame(frame, present, reference.histogram_edges())
    chosen = list(columns) if columns is not None else None
    if chosen is not None:
        unknown = [c for c in chosen if c not in reference.columns]
        if unknown:
            raise ColumnSpecError(
                f"columns {unknown} are not in the reference profile; it has: "
                f"{', '.join(list(reference.columns)[:12])}."
            )
    names = chosen or list(reference.columns)
    tested = [n for n in names if n in current_profile.columns]
    rule = replace(rule, n_tests=2 * len(tested))
    results = compare_profiles(
        reference, current_profile, method=method, threshold=threshold, rule=rule, columns=names
    )
    results.sort(key=_rank)
    windows: tuple[WindowDrift, ...] = ()
    if by is not None:
        if frame is None:
            raise InputError(
                "by= needs the current rows, but current is a profile; pass the current data."
            )
        labels = _window_labels(frame, by, reference.spec.timestamp)
        codes, window_names = pd.factorize(labels, sort=True)
        window_list = []
        for index, window in enumerate(window_names):
            rows = frame.iloc[np.flatnonzero(codes == index)]
            window_results = compare_profiles(
                reference,
                profile_frame(rows, present, reference.histogram_edges()),
                method=method,
                threshold=threshold,
                rule=rule,
                columns=tested,
            )
            window_list.append(
                WindowDrift(
                    window=str(window),
                    rows=int(len(rows)),
                    columns=tuple(r.column for r in window_results),
                    statistic=tuple(r.statistic for r in window_results),
                    p_value=tuple(r.p_value for r in window_results),
                    effect_size=tuple(r.effect_size for r in window_results),
                    drifted=tuple(r.values_drifted for r in window_results),
                )
            )
        windows = tuple(window_list)
    nan = float("nan")
    multivariate = MultivariateDrift(
        columns=(),
        n_components=0,
        variance_kept=nan,
        reference_error=nan,
        reference_error_sd=nan,
        lower=nan,
        upper=nan,
        current_error=nan,
        drifted=False,
        severity="ok",
        skipped="needs reference rows; a profile keeps none (keep a sample)",
    )
    return DriftResult(
        spec=reference.spec,
        rule=rule,
        reference_rows=int(reference.rows),
        current_rows=int(current_profile.rows),
        columns=tuple(results),
        multivariate=multivariate,
        windows=windows,
        by=None if by is None else str(by),
    )


@contextlib.contextmanager
def _quiet_statistics() -> Iterator[None]:
    """Silence notices the report already carries (NaN statistics, scipy's capped p-values).

    Set once around the thread pool: ``warnings.catch_warnings`` inside worker threads is not
    thread-safe, so filters set there could be undone by another thread mid-computation.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.DegenerateStatisticWarning)
        warnings.filterwarnings("ignore", message=r"p-value (capped|floored)", category=UserWarning)
        yield


def _rank(result: ColumnDrift) -> tuple:
    role_order = {"target": 0, "prediction": 1, "prediction_label": 2}
    effect = result.effect_size if result.effect_size is not None else -1.0
    if math.isnan(effect):
        effect = -1.0
    missing_move = abs(result.missing_rate_change)
    return (
        role_order.get(result.role, 3),
        result.skipped is not None,
        -SEVERITY_ORDER[result.severity],
        -max(effect, missing_move if result.missing_drifted else -1.0),
        result.column,
    )


def _choose_columns(
    resolved: ResolvedSpec,
    columns: Sequence[str] | None,
    reference: pd.DataFrame,
    current: pd.DataFrame,
):
    if columns is not None:
        if isinstance(columns, str):
            columns = [columns]
        unknown = [c for c in columns if c not in resolved]
        if unknown:
            raise ColumnSpecError(
                f"columns {unknown} are in neither reference nor current; available: "
                f"{', '.join(resolved.names[:12])}{' …' if len(resolved.names) > 12 else ''}."
            )
        return [resolved[c] for c in columns]
    return list(resolved.columns)


def _prepare(
    info, reference: pd.DataFrame, current: pd.DataFrame, keep_current: bool = False
) -> _Prepared:
    name = info.name
    for frame, side, other in ((reference, "reference", "current"), (current, "current", "")):
        if name not in frame.columns:
            return _Prepared(
                column=name,
                kind=info.kind,
                role=info.role,
                reference_rows=len(reference),
                current_rows=len(current),
                reference_missing=0,
                current_missing=0,
                skipped=f"only in {other or 'reference'}: {side} has no column '{name}'",
            )
    ref_values, cur_values = reference[name], current[name]
    prepared = _Prepared(
        column=name,
        kind=info.kind,
        role=info.role,
        reference_rows=len(ref_values),
        current_rows=len(cur_values),
        reference_missing=int(ref_values.isna().sum()),
        current_missing=int(cur_values.isna().sum()),
    )
    if info.role == "timestamp":
        prepared.skipped = "the time of each row, used to cut windows (by=), not compared"
        return prepared
    if info.kind not in TESTED_KINDS:
        prepared.skipped = {
            "id": "identifier: unique per row, not a distribution",
            "text": "free text: compare it with a text-specific check",
            "datetime": "date-time: drift over time is shown with by=",
        }[info.kind]
        return prepared
    if prepared.reference_missing == len(ref_values) and prepared.current_missing == len(
        cur_values
    ):
        prepared.skipped = "all values missing on both sides"
        return prepared
    if info.kind == "numeric":
        _prepare_numeric(prepared, ref_values, cur_values, keep_current)
    else:
        _prepare_categorical(prepared, ref_values, cur_values, info.kind)
    return prepared


def _prepare_numeric(
    prepared: _Prepared, ref_values: pd.Series, cur_values: pd.Series, keep_current: bool
) -> None:
    """Sorted finite values of both sides (and current in row order when windows need it)."""
    ref_array, prepared.reference_invalid = numeric_values(ref_values)
    cur_array, prepared.current_invalid = numeric_values(cur_values)
    prepared.reference_sorted = stats.prepare_numeric(ref_array)
    del ref_array
    current_sorted = stats.prepare_numeric(cur_array)
    if keep_current:
        prepared.current_values = cur_array  # windows need the values in row order
    del cur_array
    prepared.current_sorted = current_sorted
    ref_sorted = prepared.reference_sorted
    if (
        ref_sorted.size
        and current_sorted.size
        and ref_sorted[0] == ref_sorted[-1] == current_sorted[0] == current_sorted[-1]
    ):
        prepared.skipped = f"constant: every value is {ref_sorted[0]:g} on both sides"


def _prepare_categorical(
    prepared: _Prepared, ref_values: pd.Series, cur_values: pd.Series, kind: str
) -> None:
    ref_labels = category_labels(ref_values, kind)
    cur_labels = category_labels(cur_values, kind)
    ref_codes, ref_uniques = pd.factorize(ref_labels, use_na_sentinel=True)
    categories = pd.Index(ref_uniques)
    cur_codes = categories.get_indexer(cur_labels)
    unseen = (cur_codes == -1) & cur_labels.notna().to_numpy()
    if unseen.any():
        new_codes, new_uniques = pd.factorize(cur_labels[unseen])
        cur_codes[unseen] = new_codes + len(categories)
        categories = categories.append(pd.Index(new_uniques))
    prepared.categories = categories
    prepared.reference_counts = np.bincount(ref_codes[ref_codes >= 0], minlength=len(categories))
    prepared.current_codes = cur_codes
    prepared.unseen_categories = len(categories) - len(ref_uniques)
    distinct = len(categories)
    rows = len(ref_values) + len(cur_values)
    if distinct > _MAX_CATEGORIES and distinct > 0.5 * rows:
        prepared.skipped = (
            f"{distinct:,} distinct values in {rows:,} rows: behaves as an identifier, not a "
            "category; declare it as the id or drop it"
        )
    elif distinct == 1:
        prepared.skipped = f"constant: every value is '{categories[0]}' on both sides"


def _current_counts(prepared: _Prepared, rows: np.ndarray | slice | None = None) -> np.ndarray:
    codes = prepared.current_codes if rows is None else prepared.current_codes[rows]
    return np.bincount(codes[codes >= 0], minlength=len(prepared.categories))


def _method_for(
    prepared: _Prepared,
    method: str | Mapping[str, str] | None,
    threshold: float | Mapping[str, float] | None,
) -> tuple[stats.DriftMethod | None, float | None, bool]:
    """(method, threshold, uses the default rule) for one column."""
    if prepared.skipped is not None:
        return None, None, False
    chosen = _lookup_option(method, prepared.column, prepared.kind)
    chosen_threshold = _lookup_option(threshold, prepared.column, prepared.kind)
    if chosen is not None and not isinstance(chosen, str):
        raise InputError(f"method for column '{prepared.column}' must be a name; got {chosen!r}.")
    if chosen_threshold is not None and not isinstance(chosen_threshold, (int, float)):
        raise InputError(
            f"threshold for column '{prepared.column}' must be a number; got {chosen_threshold!r}."
        )
    default = chosen is None and chosen_threshold is None
    name = chosen or DEFAULT_METHODS[prepared.kind]
    spec = stats.get_method(name, kind=prepared.kind)
    if chosen_threshold is None and not default:
        chosen_threshold = spec.default_threshold
    return spec, chosen_threshold, default


def _lookup_option(option: Any, column: str, kind: str) -> Any:
    """The value of a per-column / per-kind option (or the one value) for a column."""
    if isinstance(option, Mapping):
        if column in option:
            return option[column]
        return option.get(kind)
    return option


def _run_method(
    prepared: _Prepared,
    method: stats.DriftMethod,
    reference_sorted: np.ndarray | None,
    current_sorted: np.ndarray | None,
    reference_counts: np.ndarray | None,
    current_counts: np.ndarray | None,
) -> tuple[stats.MethodResult, float]:
    """Run ``method`` and the effect size (KS distance / total variation) on one comparison."""
    func = method.func_for(prepared.kind)
    with warnings.catch_warnings():
        # Degenerate statistics (an empty side) are NaN, reported as such in the result.
        warnings.simplefilter("ignore", stats.DegenerateStatisticWarning)
        if prepared.kind == "numeric":
            result = func(reference_sorted, current_sorted)
            if method.name == "ks":
                effect = result.statistic
            else:
                effect = stats.numeric.ks(
                    reference_sorted, current_sorted, method="limit"
                ).statistic
        else:
            result = func(reference_counts, current_counts)
            effect = stats.categorical.tvd(reference_counts, current_counts).statistic
    return result, float(effect)


def _values_drifted(p_value: float | None, effect: float | None, rule: DecisionRule) -> bool:
    """The default rule on a column's values: corrected significance and a large enough effect."""
    if p_value is None or effect is None or math.isnan(p_value) or math.isnan(effect):
        return False
    return bool(p_value < rule.p_threshold and effect >= rule.min_effect)


def missing_rate_p_value(
    reference_missing: int, reference_rows: int, current_missing: int, current_rows: int
) -> float | None:
    """Two-proportion z-test of the missing rates (None when nothing is missing)."""
    if reference_missing == current_missing == 0:
        return None
    counts_ref = np.array([reference_rows - reference_missing, reference_missing])
    counts_cur = np.array([current_rows - current_missing, current_missing])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.DegenerateStatisticWarning)
        return _float(stats.categorical.z(counts_ref, counts_cur).p_value)


def judge_column(column: ColumnDrift, rule: DecisionRule) -> ColumnDrift:
    """Apply ``rule`` to a column's stored statistics: its flags, threshold and severity.

    Only numbers already in ``column`` are used, so flags can be re-evaluated under another
    rule (e.g. a threshold control in a widget) without the data.
    """
    if column.skipped is not None:
        return column
    values_drifted = column.values_drifted
    threshold = column.threshold
    if column.decision == "rule":
        values_drifted = _values_drifted(column.p_value, column.effect_size, rule)
        threshold = rule.p_threshold
    change = abs(column.missing_rate_change)
    missing_drifted = (
        column.missing_p_value is not None
        and not math.isnan(column.missing_p_value)
        and column.missing_p_value < rule.p_threshold
        and change >= rule.min_effect
    )
    moved = max(
        (column.effect_size or 0.0) if values_drifted else 0.0,
        change if missing_drifted else 0.0,
    )
    severity = "ok"
    if values_drifted or missing_drifted:
        severity = "critical" if moved >= rule.critical_effect else "warning"
    return replace(
        column,
        threshold=threshold,
        values_drifted=bool(values_drifted),
        missing_drifted=bool(missing_drifted),
        drifted=bool(values_drifted or missing_drifted),
        severity=severity,
    )


def _column_result(
    prepared: _Prepared,
    choice: tuple[stats.DriftMethod | None, float | None, bool],
    rule: DecisionRule,
) -> ColumnDrift:
    method, threshold, default_rule = choice
    reference_rows, current_rows = prepared.reference_rows, prepared.current_rows
    base = dict(
        column=prepared.column,
        kind=prepared.kind,
        role=prepared.role,
        reference_missing_rate=prepared.reference_missing / reference_rows
        if reference_rows
        else 0.0,
        current_missing_rate=prepared.current_missing / current_rows if current_rows else 0.0,
        reference_invalid=prepared.reference_invalid,
        current_invalid=prepared.current_invalid,
    )
    if prepared.skipped is not None or method is None:
        return ColumnDrift(
            **base,
            method=None,
            statistic=None,
            p_value=None,
            threshold=None,
            drifted=False,
            severity="ok",
            skipped=prepared.skipped,
        )
    if prepared.kind == "numeric":
        reference_sorted = prepared.reference_sorted
        current_sorted = prepared.current_sorted
        result, effect = _run_method(prepared, method, reference_sorted, current_sorted, None, None)
        counts = (int(reference_sorted.size), int(current_sorted.size))
        distribution = _numeric_distribution(reference_sorted, current_sorted)
        unseen = 0
    else:
        reference_counts = prepared.reference_counts
        current_counts = _current_counts(prepared)
        result, effect = _run_method(prepared, method, None, None, reference_counts, current_counts)
        counts = (int(reference_counts.sum()), int(current_counts.sum()))
        distribution = categorical_distribution(
            prepared.categories, reference_counts, current_counts
        )
        unseen = prepared.unseen_categories
    unjudged = ColumnDrift(
        **base,
        method=method.name,
        statistic=_float(result.statistic),
        p_value=_float(result.p_value),
        threshold=threshold,
        drifted=False,
        severity="ok",
        effect_size=_float(effect),
        reference_count=counts[0],
        current_count=counts[1],
        missing_p_value=missing_rate_p_value(
            prepared.reference_missing,
            prepared.reference_rows,
            prepared.current_missing,
            prepared.current_rows,
        ),
        unseen_categories=unseen,
        decision="rule" if default_rule else "method",
        values_drifted=False if default_rule else bool(method.is_drift(result, threshold)),
        distribution=distribution,
    )
    return judge_column(unjudged, rule)


def _float(value: Any) -> float | None:
    if value is None:
        return None
    return float(value)


def _numeric_distribution(reference_sorted: np.ndarray, current_sorted: np.ndarray) -> Distribution:
    if reference_sorted.size == 0 and current_sorted.size == 0:
        return Distribution(bins=(), reference=(), current=())
    pooled_low = min(_quantile(reference_sorted, 0.005), _quantile(current_sorted, 0.005))
    pooled_high = max(_quantile(reference_sorted, 0.995), _quantile(current_sorted, 0.995))
    if not pooled_high > pooled_low:
        pooled_high = pooled_low + 1.0
    edges = np.linspace(pooled_low, pooled_high, HISTOGRAM_BINS + 1)

    def shares(sorted_values: np.ndarray) -> tuple[float, ...]:
        if sorted_values.size == 0:
            return tuple(0.0 for _ in range(HISTOGRAM_BINS))
        # Counts between interior edges by binary search on the sorted values (no sort).
        positions = np.searchsorted(sorted_values, edges[1:-1], side="left")
        bounds = np.concatenate(([0], positions, [sorted_values.size]))
        return tuple((np.diff(bounds) / sorted_values.size).tolist())

    return Distribution(
        bins=tuple(edges.tolist()),
        reference=shares(reference_sorted),
        current=shares(current_sorted),
    )


def _quantile(sorted_values: np.ndarray, q: float) -> float:
    if sorted_values.size == 0:
        return math.inf if q < 0.5 else -math.inf
    return float(sorted_values[min(int(q * sorted_values.size), sorted_values.size - 1)])


def categorical_distribution(
    categories: Sequence[Any], reference_counts: np.ndarray, current_counts: np.ndarray
) -> Distribution:
    """Shares of the most frequent categories (either side) and "(other)" for the rest."""
    reference_share = reference_counts / max(reference_counts.sum(), 1)
    current_share = current_counts / max(current_counts.sum(), 1)
    order = np.argsort(-np.maximum(reference_share, current_share), kind="stable")
    top = order[:_TOP_CATEGORIES]
    labels = [str(categories[i]) for i in top]
    ref_top = reference_share[top].tolist()
    cur_top = current_share[top].tolist()
    if len(order) > _TOP_CATEGORIES:
        labels.append("(other)")
        ref_top.append(float(1 - sum(ref_top)))
        cur_top.append(float(1 - sum(cur_top)))
    return Distribution(bins=tuple(labels), reference=tuple(ref_top), current=tuple(cur_top))


# --------------------------------------------------------------------------------------------
# Drift over time
# --------------------------------------------------------------------------------------------


def _window_labels(current: pd.DataFrame, by: str | int, timestamp: str | None) -> pd.Series:
    """A window label per current row (None for rows without a timestamp)."""
    if isinstance(by, bool):
        raise InputError("by must be a pandas offset alias such as '1D' or an integer; got a bool.")
    if isinstance(by, (int, np.integer)):
        if by < 1 or by > len(current):
            raise InputError(
                f"by={by}: the number of chunks must be between 1 and the {len(current):,} rows "
                "of current."
            )
        chunk = np.arange(len(current)) * int(by) // len(current)
        return pd.Series([f"chunk {i + 1}" for i in chunk], index=current.index)
    if not isinstance(by, str):
        raise InputError(f"by must be an offset alias such as '1D' or an integer; got {by!r}.")
    if timestamp is None:
        raise ColumnSpecError(
            f"by={by!r} splits current by time, but no timestamp column was found or declared; "
            "pass spec=ColumnSpec(timestamp='your_time_column'), or an integer by= to split "
            "into equal chunks in row order."
        )
    times = current[timestamp]
    if not pd.api.types.is_datetime64_any_dtype(times.dtype):
        times = pd.to_datetime(times, errors="coerce", format="ISO8601")
    if times.dt.tz is not None:
        # Windows are cut in UTC, so that a day is the same day for every reader.
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    try:
        periods = times.dt.floor(by) if _is_fixed_frequency(by) else times.dt.to_period(by)
    except (ValueError, TypeError) as exc:
        raise InputError(
            f"by={by!r} is not a pandas offset alias (examples: '1h', '1D', '7D', '1W', 'MS'): "
            f"{exc}"
        ) from exc
    return periods.astype("string")


def _is_fixed_frequency(by: str) -> bool:
    try:
        pd.Timedelta(pd.tseries.frequencies.to_offset(by))
    except (ValueError, TypeError):
        return False
    return True


def _windows(
    pool: ThreadPoolExecutor,
    tested: list[_Prepared],
    labels: pd.Series,
    methods: Mapping[str, tuple],
    rule: DecisionRule,
) -> tuple[WindowDrift, ...]:
    codes, names = pd.factorize(labels, sort=True)
    order = np.argsort(codes, kind="stable")
    boundaries = np.searchsorted(codes[order], np.arange(len(names) + 1))

    def one(window: int) -> WindowDrift:
        rows = order[boundaries[window] : boundaries[window + 1]]
        statistic, p_values, effects, flags = [], [], [], []
        for prepared in tested:
            method, threshold, default_rule = methods[prepared.column]
            if prepared.kind == "numeric":
                values = prepared.current_values[rows]
                window_sorted = np.sort(values[np.isfinite(values)])
                result, effect = _run_method(
                    prepared, method, prepared.reference_sorted, window_sorted, None, None
                )
            else:
                result, effect = _run_method(
                    prepared,
                    method,
                    None,
                    None,
                    prepared.reference_counts,
                    _current_counts(prepared, rows),
                )
            if default_rule:
                drifted = _values_drifted(_float(result.p_value), effect, rule)
            else:
                drifted = bool(method.is_drift(result, threshold))
            statistic.append(_float(result.statistic))
            p_values.append(_float(result.p_value))
            effects.append(_float(effect))
            flags.append(drifted)
        return WindowDrift(
            window=str(names[window]),
            rows=int(rows.size),
            columns=tuple(p.column for p in tested),
            statistic=tuple(statistic),
            p_value=tuple(p_values),
            effect_size=tuple(effects),
            drifted=tuple(flags),
        )

    return tuple(pool.map(one, range(len(names))))


# --------------------------------------------------------------------------------------------
# Multivariate drift
# --------------------------------------------------------------------------------------------

_PCA_VARIANCE = 0.65
_PCA_MAX_ROWS = 100_000  # rows of current (and twice that of reference) the check uses
_PCA_MIN_ROWS = 100


def _multivariate_rows(n: int, limit: int, seed: int) -> np.ndarray:
    """Sorted row positions: all rows up to ``limit``, else a seeded random sample."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def _multivariate_inputs(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    prepared: list[_Prepared],
    reference_rows: np.ndarray,
    current_rows: np.ndarray,
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Standardised feature matrices of the chosen reference and current rows."""
    usable = [
        p
        for p in prepared
        if p.skipped is None
        and p.role == "feature"
        and p.kind in ("numeric", "boolean")
        and p.column in reference.columns
        and p.column in current.columns
    ]
    columns = []
    ref_matrix = np.empty((reference_rows.size, len(usable)))
    cur_matrix = np.empty((current_rows.size, len(usable)))
    for p in usable:
        ref_values = reference[p.column].iloc[reference_rows]
        if p.kind == "numeric":
            ref_array, _ = numeric_values(ref_values)
            cur_array, _ = numeric_values(current[p.column].iloc[current_rows])
        else:
            ref_array = _boolean_floats(ref_values)
            cur_array = _boolean_floats(current[p.column].iloc[current_rows])
        ref_finite = np.isfinite(ref_array)
        if not ref_finite.any():
            continue
        mean = ref_array[ref_finite].mean()
        sd = ref_array[ref_finite].std()
        if not np.isfinite(sd) or sd == 0:
            continue
        i = len(columns)
        columns.append(p.column)
        # Standardised with the reference's mean and sd; missing and infinite values at 0.
        ref_matrix[:, i] = np.where(ref_finite, (ref_array - mean) / sd, 0.0)
        cur_matrix[:, i] = np.where(np.isfinite(cur_array), (cur_array - mean) / sd, 0.0)
    return columns, ref_matrix[:, : len(columns)], cur_matrix[:, : len(columns)]


def _boolean_floats(values: pd.Series) -> np.ndarray:
    labels = category_labels(values, "boolean")
    return labels.map({"True": 1.0, "False": 0.0}).to_numpy(dtype=float, na_value=np.nan)


@dataclass(frozen=True)
class _PcaModel:
    components: np.ndarray  # (k, d)
    variance_kept: float


def _fit_pca(matrix: np.ndarray) -> _PcaModel:
    centred = matrix - matrix.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    variance = singular**2
    share = np.cumsum(variance) / variance.sum()
    k = int(np.searchsorted(share, _PCA_VARIANCE) + 1)
    k = min(k, matrix.shape[1] - 1)
    return _PcaModel(components=vt[:k], variance_kept=float(share[k - 1]))


def _reconstruction_error(model: _PcaModel, matrix: np.ndarray) -> np.ndarray:
    projected = matrix @ model.components.T
    residual = matrix - projected @ model.components
    return np.sqrt(np.einsum("ij,ij->i", residual, residual))


def _error_band(holdout_errors: np.ndarray, size: int) -> tuple[float, float, float]:
    """Expected mean error and its ``± 3 sd`` band for a sample of ``size`` rows.

    The sd is that of the mean error of chunks of ``size`` rows of the held-out reference
    (capped at 10,000 rows, at least 5 chunks), so a small window gets a wider band.
    """
    chunk = max(int(min(size, 10_000, holdout_errors.size // 5)), 1)
    n_chunks = holdout_errors.size // chunk
    chunk_means = holdout_errors[: n_chunks * chunk].reshape(n_chunks, chunk).mean(axis=1)
    centre = float(holdout_errors.mean())
    spread = float(chunk_means.std(ddof=1)) if n_chunks > 1 else 0.0
    return centre, centre - 3 * spread, centre + 3 * spread


def _multivariate(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    prepared: list[_Prepared],
) -> tuple[MultivariateDrift, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """The overall result; the per-row errors of (sampled) current rows and their positions;
    the errors of the held-out reference rows."""
    reference_rows = _multivariate_rows(len(reference), 2 * _PCA_MAX_ROWS, seed=0)
    current_rows = _multivariate_rows(len(current), _PCA_MAX_ROWS, seed=1)
    columns, ref_matrix, cur_matrix = _multivariate_inputs(
        reference, current, prepared, reference_rows, current_rows
    )

    def skipped(reason: str):
        nan = float("nan")
        result = MultivariateDrift(
            columns=tuple(columns),
            n_components=0,
            variance_kept=nan,
            reference_error=nan,
            reference_error_sd=nan,
            lower=nan,
            upper=nan,
            current_error=nan,
            drifted=False,
            severity="ok",
            skipped=reason,
        )
        return result, None, None, None

    if len(columns) < 2:
        return skipped("needs at least 2 numeric or boolean feature columns that vary")
    if len(reference) < 2 * _PCA_MIN_ROWS:
        return skipped(f"needs at least {2 * _PCA_MIN_ROWS} reference rows")
    order = np.random.default_rng(0).permutation(len(ref_matrix))
    half = len(order) // 2
    model = _fit_pca(ref_matrix[order[:half]])
    holdout_errors = _reconstruction_error(model, ref_matrix[order[half:]])
    current_errors = _reconstruction_error(model, cur_matrix)
    centre, lower, upper = _error_band(holdout_errors, len(current_rows))
    current_error = float(current_errors.mean())
    drifted = not (lower <= current_error <= upper)
    relative = abs(current_error - centre) / centre if centre > 0 else 0.0
    severity = "ok" if not drifted else ("critical" if relative >= 0.2 else "warning")
    result = MultivariateDrift(
        columns=tuple(columns),
        n_components=int(model.components.shape[0]),
        variance_kept=model.variance_kept,
        reference_error=centre,
        reference_error_sd=(upper - centre) / 3,
        lower=lower,
        upper=upper,
        current_error=current_error,
        drifted=bool(drifted),
        severity=severity,
    )
    return result, current_errors, current_rows, holdout_errors


def _multivariate_windows(
    windows: tuple[WindowDrift, ...],
    labels: pd.Series,
    current_errors: np.ndarray,
    current_rows: np.ndarray,
    holdout_errors: np.ndarray,
) -> tuple[WindowDrift, ...]:
    """Add each window's mean reconstruction error, judged against a band for its size."""
    window_of_row = labels.to_numpy()[current_rows]
    grouped = pd.Series(current_errors).groupby(window_of_row)
    means, sizes = grouped.mean(), grouped.size()
    updated = []
    for w in windows:
        error = float(means.get(w.window, float("nan")))
        _, lower, upper = _error_band(holdout_errors, int(sizes.get(w.window, w.rows)))
        updated.append(
            replace(w, multivariate_error=error, multivariate_drifted=not lower <= error <= upper)
        )
    return tuple(updated)
