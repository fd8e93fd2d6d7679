"""Prometheus metrics: serving-side counters and latency, and report-side gauges of a run.

Serving side (:class:`ServingMetrics`, fed by :func:`monitorkit.instrument`):

==========================================  =========  =======================================
metric                                      type       labels
==========================================  =========  =======================================
``monitorkit_prediction_requests_total``    counter    ``model``, ``model_version``
``monitorkit_predictions_total``            counter    ``model``, ``model_version`` (rows)
``monitorkit_prediction_errors_total``      counter    ``model``, ``model_version``,
                                                       ``error_type`` (exception class)
``monitorkit_prediction_latency_seconds``   histogram  ``model``, ``model_version``
``monitorkit_prediction_memory_bytes``      gauge      ``model``, ``model_version``
``monitorkit_log_errors_total``             counter    ``model``, ``model_version``
==========================================  =========  =======================================

Report side (:func:`report_registry`, from a run's ``summary.json``; pushed to a Pushgateway
or written for the node exporter's textfile collector at the end of ``monitorkit run``):
:data:`REPORT_METRICS` lists them. Every one has the label ``model``; per-column gauges add
``column``, performance gauges ``metric``, quality and alert counts ``severity``.

Label values are names from a bounded set, never raw data values: model versions, error
types, columns and metrics beyond a limit are folded into ``"other"`` (serving) or left out
(report gauges keep the ``max_columns`` most drifted columns), so the number of series stays
bounded whatever the traffic.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from monitorkit.errors import InputError, require

logger = logging.getLogger(__name__)

NAMESPACE = "monitorkit"
OTHER = "other"
LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0
)  # fmt: skip
SEVERITY_CODES = {"ok": 0, "warning": 1, "critical": 2}

SERVING_METRICS = {
    "monitorkit_prediction_requests_total": "Calls of the predict function.",
    "monitorkit_predictions_total": "Rows predicted (a batch call counts its rows).",
    "monitorkit_prediction_errors_total": "Calls of the predict function that raised.",
    "monitorkit_prediction_latency_seconds": "Latency of a call of the predict function.",
    "monitorkit_prediction_memory_bytes": "Memory of the last measured call (see memory=).",
    "monitorkit_log_errors_total": "Calls that could not be logged or counted (served anyway).",
}
REPORT_METRICS = {
    "monitorkit_run_severity": "Severity of the last run: 0 ok, 1 warning, 2 critical.",
    "monitorkit_run_failed": "1 when the last run failed (no severity), else 0.",
    "monitorkit_run_exit_code": "Exit code of the last monitorkit run.",
    "monitorkit_run_timestamp_seconds": "When the last run finished (Unix time).",
    "monitorkit_run_duration_seconds": "How long the last run took.",
    "monitorkit_drift_share_drifted": "Share of the tested columns that drifted.",
    "monitorkit_drift_drifted_columns": "Number of columns that drifted.",
    "monitorkit_drift_column_statistic": "Drift statistic of a column (its method's scale).",
    "monitorkit_drift_column_effect_size": "Drift effect size of a column (share of rows moved).",
    "monitorkit_drift_column_drifted": "1 when the column drifted, else 0.",
    "monitorkit_quality_findings": "Data-quality findings at warning or critical.",
    "monitorkit_performance_value": "A model metric on the current data.",
    "monitorkit_performance_baseline": "The metric's baseline value.",
    "monitorkit_performance_change": "Relative change of the metric from its baseline.",
    "monitorkit_alerts_firing": "Alerts firing after the run, by severity.",
}


def _client() -> Any:
    return require("prometheus_client", "prometheus", "Prometheus metrics")


class _Bounded:
    """At most ``limit`` distinct label values; later new ones become ``"other"``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def __call__(self, value: Any) -> str:
        text = "" if value is None else str(value)
        if text in self.seen:
            return text
        with self.lock:
            if text in self.seen or len(self.seen) < self.limit:
                self.seen.add(text)
                return text
        return OTHER


class ServingMetrics:
    """Counters, a latency histogram and a memory gauge for one model's predict calls.

    Parameters
    ----------
    model
        The ``model`` label (e.g. ``"churn"``).
    registry
        A ``prometheus_client.CollectorRegistry``: your service's (``prometheus_client.REGISTRY``
        to be exposed by an endpoint you already have), or None for a new one of its own
        (expose it with :meth:`serve`).
    buckets
        Latency histogram buckets in seconds.
    max_versions, max_error_types
        Distinct ``model_version`` / ``error_type`` label values kept; further ones are
        counted under ``"other"``.

    Examples
    --------
    >>> import monitorkit as mk
    >>> metrics = mk.capture.ServingMetrics("churn")
    >>> predict = mk.instrument(lambda rows: [0.5] * len(rows), metrics=metrics)
    >>> _ = predict([{"age": 31}, {"age": 45}])
    >>> metrics.registry.get_sample_value(
    ...     "monitorkit_predictions_total", {"model": "churn", "model_version": ""})
    2.0
    """

    def __init__(
        self,
        model: str,
        *,
        registry: Any = None,
        buckets: tuple[float, ...] = LATENCY_BUCKETS,
        max_versions: int = 10,
        max_error_types: int = 20,
    ) -> None:
        client = _client()
        if not isinstance(model, str) or not model:
            raise InputError(f"ServingMetrics needs a model name; got {model!r}.")
        self.model = model
        self.registry = registry if registry is not None else client.CollectorRegistry()
        labels = ("model", "model_version")
        self._requests = client.Counter(
            "monitorkit_prediction_requests",
            SERVING_METRICS["monitorkit_prediction_requests_total"],
            labels,
            registry=self.registry,
        )
        self._rows = client.Counter(
            "monitorkit_predictions",
            SERVING_METRICS["monitorkit_predictions_total"],
            labels,
            registry=self.registry,
        )
        self._errors = client.Counter(
            "monitorkit_prediction_errors",
            SERVING_METRICS["monitorkit_prediction_errors_total"],
            (*labels, "error_type"),
            registry=self.registry,
        )
        self._latency = client.Histogram(
            "monitorkit_prediction_latency_seconds",
            SERVING_METRICS["monitorkit_prediction_latency_seconds"],
            labels,
            buckets=buckets,
            registry=self.registry,
        )
        self._memory = client.Gauge(
            "monitorkit_prediction_memory_bytes",
            SERVING_METRICS["monitorkit_prediction_memory_bytes"],
            labels,
            registry=self.registry,
        )
        self._log_errors = client.Counter(
            "monitorkit_log_errors",
            SERVING_METRICS["monitorkit_log_errors_total"],
            labels,
            registry=self.registry,
        )
        self._version = _Bounded(max_versions)
        self._error_type = _Bounded(max_error_types)
        # The counters of a model_version, by the version given (the fast path) and by its
        # label: both hold at most max_versions (+ "other") entries, whatever the traffic.
        self._children: dict[Any, tuple[Any, Any, Any]] = {}
        self._children_by_label: dict[str, tuple[Any, Any, Any]] = {}
        self.server: Any = None

    def _for(self, model_version: str | None) -> tuple[Any, Any, Any]:
        children = self._children.get(model_version)
        if children is not None:
            return children
        version = self._version(model_version)
        children = self._children_by_label.get(version)
        if children is None:
            children = (
                self._requests.labels(self.model, version),
                self._rows.labels(self.model, version),
                self._latency.labels(self.model, version),
            )
            self._children_by_label[version] = children
        # Versions folded into "other" are not remembered one by one (unbounded); nor are
        # raw values beyond the bound (1 and "1" share a label).
        if version != OTHER and len(self._children) < 2 * self._version.limit:
            self._children[model_version] = children
        return children

    def observe(
        self,
        rows: int,
        seconds: float,
        *,
        error: str | None = None,
        model_version: str | None = None,
        memory_bytes: float | None = None,
    ) -> None:
        """Count one call of ``rows`` rows that took ``seconds`` (and raised ``error``)."""
        requests, predicted, latency = self._for(model_version)
        requests.inc()
        latency.observe(seconds)
        if error is None:
            predicted.inc(rows)
        else:
            version = self._version(model_version)
            self._errors.labels(self.model, version, self._error_type(error)).inc()
        if memory_bytes is not None:
            self._memory.labels(self.model, self._version(model_version)).set(memory_bytes)

    def log_error(self, *, model_version: str | None = None) -> None:
        """Count one call that could not be logged or counted (``monitorkit_log_errors_total``)."""
        self._log_errors.labels(self.model, self._version(model_version)).inc()

    def serve(self, port: int = 0, addr: str = "127.0.0.1") -> int:
        """Expose the registry at ``http://addr:port/metrics`` from a background thread;
        returns the port (``port=0``: a free one)."""
        client = _client()
        server, _thread = client.start_http_server(port, addr=addr, registry=self.registry)
        self.server = server
        return server.server_address[1]

    def shutdown(self) -> None:
        """Stop the endpoint started by :meth:`serve`."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


# --------------------------------------------------------------------------------------------
# Report-side gauges of a run
# --------------------------------------------------------------------------------------------


def _finite(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def report_registry(summary: Mapping[str, Any], *, max_columns: int = 50) -> Any:
    """A ``CollectorRegistry`` holding the gauges of one run (:data:`REPORT_METRICS`), read
    from its ``summary.json`` content.

    ``max_columns``: per-column drift gauges for at most this many columns, the largest
    effect sizes first. Performance gauges cover the whole of current (no segments).
    """
    client = _client()
    registry = client.CollectorRegistry()
    model = str(summary.get("model") or "model")

    def gauge(name: str, labels: tuple[str, ...] = ()) -> Any:
        return client.Gauge(name, REPORT_METRICS[name], ("model", *labels), registry=registry)

    severity = summary.get("severity")
    failed = summary.get("status") == "failed"
    gauge("monitorkit_run_failed").labels(model).set(1 if failed else 0)
    if severity in SEVERITY_CODES:
        gauge("monitorkit_run_severity").labels(model).set(SEVERITY_CODES[severity])
    if summary.get("exit_code") is not None:
        gauge("monitorkit_run_exit_code").labels(model).set(summary["exit_code"])
    finished = summary.get("finished_at")
    if finished:
        stamp = dt.datetime.fromisoformat(str(finished)).timestamp()
        gauge("monitorkit_run_timestamp_seconds").labels(model).set(stamp)
    if _finite(summary.get("duration_s")) is not None:
        gauge("monitorkit_run_duration_seconds").labels(model).set(summary["duration_s"])

    figures = {k: _finite(v) for k, v in (summary.get("figures") or {}).items()}
    figures = {k: v for k, v in figures.items() if v is not None}
    for figure, name in (
        ("drift.share_drifted", "monitorkit_drift_share_drifted"),
        ("drift.drifted_columns", "monitorkit_drift_drifted_columns"),
    ):
        if figure in figures:
            gauge(name).labels(model).set(figures[figure])
    columns: dict[str, dict[str, float]] = {}
    for key, value in figures.items():
        if key.startswith("drift.column."):
            column, _, what = key[len("drift.column.") :].rpartition(".")
            if column and what in ("statistic", "effect_size", "drifted"):
                columns.setdefault(column, {})[what] = value
    ranked = sorted(columns, key=lambda c: -columns[c].get("effect_size", 0.0))[:max_columns]
    if ranked:
        per_column = {
            what: gauge(f"monitorkit_drift_column_{what}", ("column",))
            for what in ("statistic", "effect_size", "drifted")
        }
        for column in ranked:
            for what, value in columns[column].items():
                per_column[what].labels(model, column).set(value)
    if "quality.problems" in figures:
        findings = gauge("monitorkit_quality_findings", ("severity",))
        findings.labels(model, "warning").set(figures.get("quality.warnings", 0.0))
        findings.labels(model, "critical").set(figures.get("quality.critical", 0.0))
    _performance_gauges(figures, model, gauge)
    alerts = summary.get("alerts")
    if isinstance(alerts, Mapping):
        firing = gauge("monitorkit_alerts_firing", ("severity",))
        counts = {"warning": 0, "critical": 0}
        for alert in alerts.get("firing") or []:
            if alert.get("severity") in counts:
                counts[alert["severity"]] += 1
        for level, count in counts.items():
            firing.labels(model, level).set(count)
    return registry


_PERFORMANCE_SKIP = {"rows", "problems", "labelled_rows", "fairness_problems", "concept_shifts"}


def _performance_gauges(figures: Mapping[str, float], model: str, gauge: Any) -> None:
    """``performance.<metric>`` (+ ``.baseline``, ``.change``) of the whole of current."""
    found: dict[str, dict[str, float]] = {}
    for key, value in figures.items():
        if not key.startswith("performance.") or "|" in key:
            continue
        name = key[len("performance.") :]
        metric, _, suffix = name.partition(".")
        if metric in _PERFORMANCE_SKIP or suffix not in ("", "baseline", "change"):
            continue
        found.setdefault(metric, {})[suffix or "value"] = value
    if not found:
        return
    gauges = {
        what: gauge(f"monitorkit_performance_{what}", ("metric",))
        for what in ("value", "baseline", "change")
    }
    for metric in sorted(found)[:50]:
        for what, value in found[metric].items():
            gauges[what].labels(model, metric).set(value)


def push_gauges(
    summary: Mapping[str, Any],
    gateway: str,
    *,
    job: str = "monitorkit",
    timeout: float = 10.0,
    max_columns: int = 50,
) -> None:
    """PUT the run's gauges to a Pushgateway (``http://host:9091``) under the grouping key
    ``job``/``model``: each push replaces the model's previous gauges."""
    client = _client()
    registry = report_registry(summary, max_columns=max_columns)
    model = str(summary.get("model") or "model")
    client.push_to_gateway(
        gateway, job=job, registry=registry, grouping_key={"model": model}, timeout=timeout
    )


def write_textfile(
    summary: Mapping[str, Any], directory: str | os.PathLike, *, max_columns: int = 50
) -> Path:
    """Write the run's gauges to ``<directory>/monitorkit_<model>.prom`` (the node exporter's
    textfile-collector format), atomically (a temporary file, then a rename)."""
    client = _client()
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    model = str(summary.get("model") or "model")
    path = folder / f"monitorkit_{model}.prom"
    client.write_to_textfile(str(path), report_registry(summary, max_columns=max_columns))
    return path


_USERINFO = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]*@")


def without_credentials(url: str) -> str:
    """``url`` without a ``user:password@`` part (``http://u:p@host:9091`` →
    ``http://host:9091``), for what is logged and recorded."""
    from urllib.parse import urlsplit, urlunsplit

    text = str(url)
    if "://" not in text:  # host:port, as push_to_gateway accepts it
        return text.rpartition("@")[2]
    try:
        parts = urlsplit(text)
    except ValueError:
        return _USERINFO.sub(r"\1", text)
    if "@" not in parts.netloc:
        return text
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def export_run(summary: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """Push / write a finished run's gauges as ``options`` say (``pushgateway``: URL,
    ``textfile``: folder, ``job``); returns what ``summary.json`` records under
    ``"prometheus"``. A failure is logged and recorded, never raised: monitoring the
    monitoring must not fail the run."""
    recorded: dict[str, Any] = {}
    gateway = options.get("pushgateway")
    if gateway:
        job = options.get("job") or "monitorkit"
        shown = without_credentials(gateway)  # what is logged and recorded
        try:
            push_gauges(summary, gateway, job=job)
            recorded["pushgateway"] = {"url": shown, "job": job, "pushed": True, "error": None}
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}".replace(str(gateway), shown)
            error = _USERINFO.sub(r"\1", error)
            logger.warning("could not push the run's gauges to %s: %s", shown, error)
            recorded["pushgateway"] = {"url": shown, "job": job, "pushed": False, "error": error}
    directory = options.get("textfile")
    if directory:
        try:
            path = write_textfile(summary, directory)
            recorded["textfile"] = {"path": str(path), "written": True, "error": None}
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            logger.warning("could not write the run's gauges to %s: %s", directory, error)
            recorded["textfile"] = {"path": str(directory), "written": False, "error": error}
    return recorded
