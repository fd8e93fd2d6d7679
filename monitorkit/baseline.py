"""The training-time picture of a model: schema, profiles, metrics, latency, provenance.

A :class:`Baseline` is captured once, when the model is trained or validated
(:meth:`Baseline.from_frame`, or ``monitorkit baseline DATA -o FILE``), saved as JSON and
compared with production data months later — ``DriftReport(baseline, current)`` — without the
training rows: it stores no raw rows unless asked (``sample_rows=``).

Metrics on the given (validation) data, when it has a target and a prediction: every metric
of :mod:`monitorkit.performance.metrics` that applies to the task (accuracy, recall, ROC AUC, …
for classification; MAE, RMSE, R², … for regression), computed by the same code as
:class:`~monitorkit.PerformanceReport`, overall and per segment (``"recall|region=eu"``), with
the rows they were computed on (``"rows|…"``), and the business outcomes given with
``business=``. The keys of earlier versions (``accuracy``, ``positive_rate``,
``predicted_positive_rate``, ``roc_auc``, ``rows``, ``mae``, ``rmse``, ``mean_target``) keep
their meaning.

Calibration for estimation without labels (binary targets with a numeric score in [0, 1]):
the isotonic calibration of the score on the labelled rows and the spread of accuracy,
precision, recall, F1 and ROC AUC over reference chunks
(:func:`monitorkit.performance.estimation.fit_calibration`, labels and scores encoded by
:func:`~monitorkit.performance.labels.prepare_labels` as for the metrics, threshold 0.5), kept
in ``calibration`` so that production windows whose labels have not arrived can be estimated
from the baseline alone. It is None for other tasks, without labels or scores, and when it
cannot be fitted (one class only, fewer than 500 labelled rows with a score, scores outside
[0, 1]; a :class:`~monitorkit.performance.estimation.CalibrationWarning` says why). Files
written before it existed load with ``calibration=None``.

Latency (a numeric column named ``latency_ms``, or the one given): ``p50``, ``p95``, ``p99``
and ``mean`` in milliseconds; throughput in rows per second over the timestamp span.

Privacy: ``hash_categories=True`` stores categorical values as salted SHA-256 digests (16 hex
digits). Readers of the file no longer see the values, and drift is computed the same way
(current values are hashed with the baseline's salt). The salt is stored in the file, so this
hides values from casual reading but not from someone who can guess them: a column with few
possible values (countries, genders) can be recovered by hashing every candidate. Reports
then show hashes instead of category names.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from monitorkit._version import __version__
from monitorkit.errors import ColumnSpecError, InputError, ReportFormatError
from monitorkit.profiles import Profile, profile_frame
from monitorkit.provenance import git_state
from monitorkit.report import encode, register_kind
from monitorkit.schema import ColumnSpec, category_labels, numeric_values, read_frame, resolve_spec

if TYPE_CHECKING:
    from monitorkit.performance.estimation import Calibration

BASELINE_SCHEMA_VERSION = 1
LATENCY_NAMES = ("latency_ms", "latency")


@dataclass(frozen=True)
class Baseline:
    """What the model's data, quality and speed looked like when it was trained."""

    model: str
    model_version: str | None
    created_at: str
    profile: Profile
    metrics: Mapping[str, float] = field(default_factory=dict)
    latency: Mapping[str, float] = field(default_factory=dict)
    fingerprint: str = ""
    git_commit: str | None = None
    monitorkit_version: str = __version__
    sample: pd.DataFrame | None = field(default=None, compare=False, repr=False)
    hash_salt: str | None = None  # set when categorical values are stored hashed
    calibration: Calibration | None = None  # binary with labels and scores: for estimation
    schema_version: int = BASELINE_SCHEMA_VERSION

    @property
    def spec(self):
        return self.profile.spec

    @classmethod
    def from_frame(
        cls,
        data: Any,
        spec: ColumnSpec | Mapping[str, Any] | None = None,
        *,
        model: str = "model",
        model_version: str | None = None,
        latency: str | None = None,
        sample_rows: int | None = None,
        hash_categories: bool = False,
        histogram_edges: Mapping[str, Any] | None = None,
        seed: int = 0,
        business: Mapping[Any, Any] | None = None,
    ) -> Baseline:
        """Capture a baseline from training or validation data.

        Parameters
        ----------
        data
            A DataFrame or anything :func:`monitorkit.read_frame` reads.
        spec
            Column roles; the target and prediction roles enable the metrics.
        model, model_version
            What the baseline belongs to.
        latency
            The latency column in milliseconds (default: ``latency_ms`` when present).
        sample_rows
            Keep a uniform random sample of this many rows (seeded) so that drift can use
            exact tests and the multivariate check. None (default) keeps no rows.
        hash_categories
            Store categorical values as salted hashes (see the module docstring).
        histogram_edges
            Fixed histogram edges per numeric column (see :func:`monitorkit.profile`).
        business
            Business outcomes to store in ``metrics`` beside the model's, as in
            :class:`~monitorkit.PerformanceReport` (``{"click_through_rate": "clicked"}``).
        """
        frame = read_frame(data, name="data")
        resolved = resolve_spec(spec, frame, names=["data"])
        salt = secrets.token_hex(8) if hash_categories else None
        hashed = hash_frame(frame, resolved, salt) if salt else frame
        baseline_profile = profile_frame(hashed, resolved, histogram_edges)
        latency_column = latency or next((c for c in LATENCY_NAMES if c in frame.columns), None)
        if latency_column is not None and latency_column not in frame.columns:
            raise ColumnSpecError(
                f"latency column '{latency_column}' is not in the data; give the column of "
                "response times in milliseconds."
            )
        sample = None
        if sample_rows is not None:
            if not isinstance(sample_rows, int) or sample_rows < 1:
                raise InputError(f"sample_rows must be a positive integer; got {sample_rows!r}.")
            rows = np.random.default_rng(seed).permutation(len(hashed))[:sample_rows]
            sample = hashed.iloc[np.sort(rows)].reset_index(drop=True)
        return cls(
            model=model,
            model_version=model_version,
            created_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            profile=baseline_profile,
            metrics=model_metrics(frame, resolved, business=business),
            latency=latency_figures(frame, latency_column, resolved.timestamp),
            fingerprint=frame_fingerprint(frame),
            git_commit=_git_commit(),
            sample=sample,
            hash_salt=salt,
            calibration=baseline_calibration(frame, resolved),
        )

    # ---- persistence ----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        sample = None
        if self.sample is not None:
            sample = json.loads(self.sample.to_json(orient="split", date_format="iso", index=False))
        return {
            "kind": "baseline",
            "schema_version": self.schema_version,
            "model": self.model,
            "model_version": self.model_version,
            "created_at": self.created_at,
            "monitorkit_version": self.monitorkit_version,
            "fingerprint": self.fingerprint,
            "git_commit": self.git_commit,
            "metrics": dict(self.metrics),
            "latency": dict(self.latency),
            "hash_salt": self.hash_salt,
            "profile": self.profile.to_dict(),
            "sample": sample,
            "calibration": None if self.calibration is None else self.calibration.to_dict(),
        }

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(encode(self.to_dict()), indent=indent, allow_nan=False)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the baseline as JSON (atomically; an existing file is never replaced)."""
        from monitorkit.store import write_atomic

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return write_atomic(path, self.to_json())

    @classmethod
    def load(cls, path: str | os.PathLike) -> Baseline:
        """Read a baseline saved by :meth:`save`; corrupt or newer files raise clearly."""
        from monitorkit.store import read_json_file

        data = read_json_file(path, "baseline", "capture it again with Baseline.from_frame")
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "baseline") -> Baseline:
        if not isinstance(data, Mapping) or data.get("kind") != "baseline":
            raise ReportFormatError(f"{source} is not a monitorkit baseline (no kind 'baseline').")
        version = data.get("schema_version")
        if version != BASELINE_SCHEMA_VERSION:
            raise ReportFormatError(
                f"{source} has baseline schema_version {version!r}; this monitorkit "
                f"({__version__}) reads version {BASELINE_SCHEMA_VERSION}. Upgrade monitorkit "
                "to read baselines written by a newer one."
            )
        try:
            sample = None
            if data.get("sample") is not None:
                sample = pd.DataFrame(**data["sample"])
            calibration = None
            if data.get("calibration") is not None:
                from monitorkit.performance.estimation import Calibration

                calibration = Calibration.from_dict(data["calibration"])
            return cls(
                model=data["model"],
                model_version=data.get("model_version"),
                created_at=data["created_at"],
                profile=Profile.from_dict(data["profile"]),
                metrics=data.get("metrics", {}),
                latency=data.get("latency", {}),
                fingerprint=data.get("fingerprint", ""),
                git_commit=data.get("git_commit"),
                monitorkit_version=data.get("monitorkit_version", "unknown"),
                sample=sample,
                hash_salt=data.get("hash_salt"),
                calibration=calibration,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ReportFormatError(f"{source} is corrupt: {type(exc).__name__}: {exc}") from exc

    def check_matches(self, data: Any, name: str = "current"):
        """How ``data``'s columns compare with the baseline's (a
        :class:`~monitorkit.profiles.ColumnComparison`: missing, extra and retyped columns, and
        whether the labels are absent — which is normal for fresh production data). Falsy when
        everything matches; ``.raise_if_mismatched()`` raises naming the differences."""
        return self.profile.check_matches(read_frame(data, name=name), name=name)

    def validator(self, rules: Any = None, **options: Any):
        """A :class:`~monitorkit.quality.validator.Validator` of incoming requests against this
        baseline: per-row findings for a batch (``validate``), or for one request in pure
        Python (``check``). ``rules`` and ``options`` (``required=``, ``checks=``) as there.

        >>> import pandas as pd
        >>> baseline = Baseline.from_frame(pd.DataFrame({"age": [18, 35, 80]}))
        >>> [v.check for v in baseline.validator().check({"age": -1})]
        ['validity.out_of_range']
        """
        from monitorkit.quality.validator import Validator

        return Validator(self, rules, **options)

    def prepare_current(self, data: Any) -> pd.DataFrame:
        """Current data as the baseline sees it (categorical values hashed when it hashes)."""
        frame = read_frame(data, name="current")
        if self.hash_salt is None:
            return frame
        return hash_frame(frame, self.spec, self.hash_salt)

    def __repr__(self) -> str:
        return (
            f"<Baseline {self.model} {self.model_version or ''} of {self.created_at}: "
            f"{self.profile.rows:,} rows, {len(self.profile.columns)} columns, "
            f"metrics {dict(self.metrics)}>"
        )


def hash_frame(frame: pd.DataFrame, resolved: Any, salt: str) -> pd.DataFrame:
    """Replace categorical values by ``sha256(salt + value)[:16]`` (missing stay missing)."""
    hashed = frame.copy()
    for info in resolved.columns:
        if info.kind != "categorical" or info.name not in frame.columns:
            continue
        labels = category_labels(frame[info.name])
        uniques = labels.dropna().unique()
        digests = {
            value: hashlib.sha256((salt + str(value)).encode()).hexdigest()[:16]
            for value in uniques
        }
        hashed[info.name] = labels.map(digests).astype("string")
    return hashed


def model_metrics(
    frame: pd.DataFrame, resolved: Any, *, business: Mapping[str, Any] | None = None
) -> dict[str, float]:
    """The model's metrics on ``frame``, computed by the performance report's own code
    (:func:`monitorkit.performance.report.metric_values`), so that a baseline and a
    :class:`~monitorkit.PerformanceReport` always agree on a definition.

    Every registered metric of the task (inferred from the target), on the whole frame
    (``"<metric>"``) and on each value of the spec's segment columns
    (``"<metric>|<column>=<value>"``); ``rows`` (the labelled rows used), ``error_rate`` when
    an ``error`` column exists, each ``business`` outcome, and for compatibility
    ``predicted_positive_rate`` (binary) and ``mean_target`` (regression). NaN values are left
    out; without a target and a prediction only the error rate and business outcomes.
    """
    from monitorkit.performance.report import metric_values

    target, prediction = resolved.target, resolved.prediction
    metrics = metric_values(frame, resolved, business=business)
    if "rows" not in metrics or not metrics["rows"]:
        return {k: v for k, v in metrics.items() if k != "rows"}
    if "positive_rate" in metrics:  # binary: the share predicted positive, as before
        from monitorkit.performance.labels import prepare_labels

        prepared = prepare_labels(frame, target, prediction, resolved.prediction_label)
        if prepared is not None and prepared.usable.any():
            metrics["predicted_positive_rate"] = float(prepared.y_pred[prepared.usable].mean())
    elif "mae" in metrics:
        y, _ = numeric_values(frame[target])
        p, _ = numeric_values(
            frame[prediction if prediction in frame else resolved.prediction_label]
        )
        ok = np.isfinite(y) & np.isfinite(p)
        metrics["mean_target"] = float(y[ok].mean())
    return metrics


def baseline_calibration(frame: pd.DataFrame, resolved: Any) -> Calibration | None:
    """The calibration for estimation without labels (module docstring), or None.

    Fitted on the rows :func:`~monitorkit.performance.labels.prepare_labels` finds usable
    (labelled, with a score and a predicted label) when the task is binary and the prediction
    is a numeric score; when fitting fails on the data (one class only, too few rows, scores
    outside [0, 1]) a :class:`~monitorkit.performance.estimation.CalibrationWarning` names
    the reason and None is returned, so that the rest of the baseline is still captured.
    """
    import warnings

    from monitorkit.performance.estimation import CalibrationWarning, fit_calibration
    from monitorkit.performance.labels import prepare_labels

    target, prediction = resolved.target, resolved.prediction
    if target is None or prediction is None:
        return None
    if target not in frame.columns or prediction not in frame.columns:
        return None
    prepared = prepare_labels(frame, target, prediction, resolved.prediction_label)
    if prepared is None or prepared.task != "binary" or prepared.y_score is None:
        return None
    rows = prepared.usable
    try:
        return fit_calibration(
            prepared.y_true[rows], prepared.y_score[rows], y_pred=prepared.y_pred[rows]
        )
    except InputError as exc:
        warnings.warn(
            f"no calibration stored in the baseline, so estimation without labels will not "
            f"be available: {exc}",
            CalibrationWarning,
            stacklevel=3,
        )
        return None


def latency_figures(frame: pd.DataFrame, column: str | None, timestamp: str | None) -> dict:
    """Latency percentiles and mean (ms) of ``column``, and throughput (rows/s over the
    timestamp span) — each when its column is there."""
    from monitorkit.windows import utc_times

    figures: dict[str, Any] = {}
    values = numeric_values(frame[column])[0] if column is not None else np.empty(0)
    values = values[np.isfinite(values)]
    if values.size:
        p50, p95, p99 = np.percentile(values, [50, 95, 99])
        figures.update(
            column=column,
            p50_ms=float(p50),
            p95_ms=float(p95),
            p99_ms=float(p99),
            mean_ms=float(values.mean()),
        )
    if timestamp is not None and timestamp in frame:
        times = utc_times(frame[timestamp], timestamp).dropna()
        span = (times.max() - times.min()).total_seconds() if len(times) > 1 else 0
        if span > 0:
            figures["throughput_rows_per_s"] = float(len(times) / span)
    return figures


def frame_fingerprint(frame: pd.DataFrame) -> str:
    """SHA-256 of the frame's contents (pandas' row hashes) and column names and dtypes.

    When pandas cannot hash a cell — the lists of a ranking model's recommendations — the
    lists, tuples and arrays of object columns are hashed by the ``repr`` of their items as a
    list (order matters); every other cell hashes as pandas hashes it."""
    digest = hashlib.sha256()
    digest.update(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode())
    try:
        row_hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    except TypeError:  # unhashable cells (lists)
        row_hashes = pd.util.hash_pandas_object(
            frame.apply(_hashable_cells), index=False
        ).to_numpy()
    digest.update(row_hashes.tobytes())
    return digest.hexdigest()


def _hashable_cells(column: pd.Series) -> pd.Series:
    if column.dtype != object:
        return column
    return column.map(
        lambda v: repr(list(v)) if isinstance(v, (list, tuple, np.ndarray)) else v,
        na_action="ignore",
    )


def _git_commit() -> str | None:
    state = git_state(Path.cwd())
    return None if state is None else state["commit"]


register_kind("baseline", Baseline.from_dict)
