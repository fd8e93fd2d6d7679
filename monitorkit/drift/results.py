"""The drift report's results: frozen dataclasses of plain values (no frames, no widgets).

What is derived from stored measurements is a property (``ColumnDrift.drifted``,
``ColumnDrift.missing_rate_change``), so nothing is stored twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitorkit.errors import InputError
from monitorkit.schema import ResolvedSpec
from monitorkit.severity import Severity

DRIFT_SCHEMA_VERSION = 2


@dataclass(frozen=True)
class DecisionRule:
    """The default rule that turns statistics into flags (see the module docstring)."""

    alpha: float = 0.05
    min_effect: float = 0.03
    critical_effect: float = 0.2
    dataset_share: float = 0.5
    # filled in by the report: two per tested column (values, missing rate), plus one per
    # tested column per tested window with by=
    n_tests: int = 0

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
            f"(Bonferroni over {self.n_tests} tests: columns, and windows with by=) and its "
            f"effect size (KS distance or total variation) >= {self.min_effect:g}, or when its "
            "missing rate moved by >= "
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
    """One column compared: its measurements and the rule's verdict on them.

    ``statistic`` / ``p_value`` are the method's; ``effect_size`` is the share of rows that
    moved (KS distance for numeric columns, debiased total variation for categorical and
    boolean ones; see :mod:`monitorkit.drift`). ``values_drifted``, ``missing_drifted``,
    ``threshold`` and ``severity`` are what :func:`~monitorkit.drift.judge_column` decided.
    """

    column: str
    kind: str
    role: str
    method: str | None
    statistic: float | None
    p_value: float | None
    threshold: float | None
    severity: Severity = Severity.OK
    values_drifted: bool = False  # the verdict on the values alone (missing rate aside)
    missing_drifted: bool = False  # the verdict on the missing rate
    effect_size: float | None = None
    reference_count: int = 0
    current_count: int = 0
    reference_missing_rate: float = 0.0
    current_missing_rate: float = 0.0
    missing_p_value: float | None = None
    reference_invalid: int = 0
    current_invalid: int = 0
    unseen_categories: int = 0  # categories in current never seen in reference
    skipped: str | None = None
    distribution: Distribution | None = None
    decision: str = "rule"  # "rule": the DecisionRule; "method": the method's own threshold

    @property
    def drifted(self) -> bool:
        """Its values or its missing rate drifted."""
        return self.values_drifted or self.missing_drifted

    @property
    def missing_rate_change(self) -> float:
        return self.current_missing_rate - self.reference_missing_rate


@dataclass(frozen=True)
class WindowDrift:
    """One window of ``current`` (``by=``) compared with the whole reference.

    Windows are cut by :func:`monitorkit.windows.assign_windows` (labels, anchoring, UTC).
    ``window`` is the label (the start in ISO 8601 for time windows, ``chunk 01`` … for
    chunks); ``start`` (inclusive) and ``end`` (exclusive) are ISO 8601 UTC date-times, None
    for chunks. ``columns`` / ``statistic`` / ``p_value`` / ``effect_size`` / ``drifted`` are
    parallel tuples, one entry per tested column, measured on the window's rows against the
    whole reference and judged by the report's rule (``p_value < alpha / n_tests``, the
    window tests being part of ``n_tests``).

    ``skipped`` says why the window was not tested (``"too few rows (12 < 30)"``: fewer than
    :data:`monitorkit.windows.MIN_WINDOW_ROWS`); its statistics are then None and it is never
    flagged. ``multivariate_error`` is the mean PCA reconstruction error of the window's rows
    (of the multivariate sample; None when the sample holds none of them: no error).
    ``multivariate_effect`` (rank-biserial, in [−1, 1], positive: larger errors than the
    reference's) and ``multivariate_p_value`` compare the window's errors with the held-out
    reference rows' errors (:func:`monitorkit.drift.multivariate.window_errors`);
    ``multivariate_drifted`` is True when ``multivariate_p_value < alpha / n_tests`` and
    ``|multivariate_effect| >= min_effect``, None when not judged (too few sampled rows, no
    multivariate check) — never True for a window without an error.
    """

    window: str
    rows: int
    columns: tuple[str, ...]
    statistic: tuple[float | None, ...]
    p_value: tuple[float | None, ...]
    effect_size: tuple[float | None, ...]
    drifted: tuple[bool, ...]
    multivariate_error: float | None = None
    multivariate_drifted: bool | None = None
    start: str | None = None
    end: str | None = None
    skipped: str | None = None
    multivariate_effect: float | None = None
    multivariate_p_value: float | None = None

    @property
    def tested(self) -> bool:
        """The window's columns were tested (it had enough rows)."""
        return self.skipped is None


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
    severity: Severity
    skipped: str | None = None

    @classmethod
    def not_computed(cls, reason: str, columns: tuple[str, ...] = ()) -> MultivariateDrift:
        """The check skipped, saying why (its numbers NaN, never drifted)."""
        nan = float("nan")
        return cls(
            columns=tuple(columns),
            n_components=0,
            variance_kept=nan,
            reference_error=nan,
            reference_error_sd=nan,
            lower=nan,
            upper=nan,
            current_error=nan,
            drifted=False,
            severity=Severity.OK,
            skipped=reason,
        )


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
    severity: Severity
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
    untimed_rows: int = 0  # rows of current without a readable timestamp: in no window


def optional_float(value: Any) -> float | None:
    """``float(value)``, or None for None (a statistic that was not computed)."""
    if value is None:
        return None
    return float(value)


# --------------------------------------------------------------------------------------------
