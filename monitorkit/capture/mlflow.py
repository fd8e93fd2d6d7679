"""Log a monitoring run (or one report) to MLflow: figures as metrics, HTML and summary as
artifacts. Needs the ``mlflow`` extra (``pip install 'monitorkit[mlflow]'``)."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import re
import tempfile
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from monitorkit import store
from monitorkit.errors import InputError, require

_UNSAFE = re.compile(r"[^A-Za-z0-9_\-. /]")
MAX_METRICS = 1_000


def metric_name(figure: str) -> str:
    """A figure's name as MLflow accepts it: characters other than letters, digits and
    ``_ - . /`` and space become ``_`` (``performance.recall|region=eu`` →
    ``performance.recall_region_eu``)."""
    return _UNSAFE.sub("_", figure)


def metric_names(figures: Iterable[str]) -> dict[str, str]:
    """Each figure's MLflow metric name (:func:`metric_name`), unique: when figures fall on
    one name (``a|b=c`` and ``a_b_c``), a figure already MLflow-safe keeps it and the others
    get ``_`` and 8 hex digits of a hash of the figure's own name (``a_b_c_1f0d…``), so a
    figure's metric name does not depend on which other figures a run has."""
    figures = list(dict.fromkeys(figures))
    by_name: dict[str, list[str]] = {}
    for figure in figures:
        by_name.setdefault(metric_name(figure), []).append(figure)
    taken = set(by_name)
    names: dict[str, str] = {}
    for name, group in by_name.items():
        for figure in group:
            if len(group) == 1 or figure == name:
                names[figure] = name
                continue
            digest = hashlib.sha1(figure.encode("utf-8")).hexdigest()
            unique, length = f"{name}_{digest[:8]}", 8
            while unique in taken:  # a clash of hashes: longer, still deterministic
                length += 4
                unique = f"{name}_{digest[:length]}"
            taken.add(unique)
            names[figure] = unique
    return names


def log_to_mlflow(
    source: Any,
    *,
    tracking_uri: str | None = None,
    experiment: str = "monitorkit",
    run_name: str | None = None,
    artifacts: bool = True,
) -> str:
    """Record a monitoring run in MLflow; returns the MLflow run id.

    Parameters
    ----------
    source
        A run folder (``reports/<model>/<run id>``, or the :class:`~monitorkit.runner.RunResult`
        of ``run_template``): its ``summary.json`` figures become metrics, its model, status,
        severity and parameters params and tags, and ``report.html``, ``summary.json`` and
        ``report.ipynb`` artifacts. Or a report (``DriftReport``, …): its ``figures``, its
        severity, and its HTML and JSON as artifacts.
    tracking_uri
        Where MLflow records (``file:/path/mlruns``, ``http://mlflow:5000``); None: MLflow's
        own default (``MLFLOW_TRACKING_URI``).
    experiment
        The experiment (created when missing).
    run_name
        Default: the monitorkit run id, or the report's kind.
    artifacts
        Upload the files (False: metrics, params and tags only).
    """
    require("mlflow", "mlflow", "Logging to MLflow")
    with contextlib.ExitStack() as cleanup:
        return _log(source, cleanup, tracking_uri, experiment, run_name, artifacts)


def _log(
    source: Any,
    cleanup: contextlib.ExitStack,
    tracking_uri: str | None,
    experiment: str,
    run_name: str | None,
    artifacts: bool,
) -> str:
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    summary, files = _what_to_log(source, cleanup)
    client = MlflowClient(tracking_uri=tracking_uri)
    found = client.get_experiment_by_name(experiment)
    experiment_id = found.experiment_id if found else client.create_experiment(experiment)
    started = summary.get("started_at")
    stamp = (
        int(dt.datetime.fromisoformat(started).timestamp() * 1000)
        if started
        else int(dt.datetime.now(dt.timezone.utc).timestamp() * 1000)
    )
    tags = {
        "monitorkit.model": str(summary.get("model") or ""),
        "monitorkit.run_id": str(summary.get("run_id") or ""),
        "monitorkit.status": str(summary.get("status") or ""),
        "monitorkit.severity": str(summary.get("severity") or ""),
    }
    run = client.create_run(
        experiment_id,
        run_name=run_name or summary.get("run_id") or summary.get("kind"),
        tags={**tags, "mlflow.source.name": "monitorkit"},
        start_time=stamp,
    )
    run_id = run.info.run_id
    try:
        metrics = []
        severity = summary.get("severity")
        if severity in ("ok", "warning", "critical"):  # first: never left out
            rank = {"ok": 0, "warning": 1, "critical": 2}[severity]
            metrics.append(Metric("severity", float(rank), stamp, 0))
        figures = {}
        for name, value in (summary.get("figures") or {}).items():
            if isinstance(value, bool):
                value = float(value)
            if isinstance(value, (int, float)) and math.isfinite(value):
                figures[name] = float(value)
        names = metric_names(["severity", *figures])
        metrics += [Metric(names[name], value, stamp, 0) for name, value in figures.items()]
        if len(metrics) > MAX_METRICS:
            warnings.warn(
                f"{len(metrics) - MAX_METRICS} of the run's {len(metrics)} figures were not "
                f"logged to MLflow: at most {MAX_METRICS} metrics are logged per run (the "
                f"first ones of summary.json's figures; the rest: "
                f"{', '.join(m.key for m in metrics[MAX_METRICS : MAX_METRICS + 3])}, …).",
                RuntimeWarning,
                stacklevel=3,
            )
            metrics = metrics[:MAX_METRICS]
        params = [
            Param(key, str(value)[:500])
            for key, value in {
                "model": summary.get("model"),
                "template": (summary.get("template") or {}).get("path"),
                **{f"parameter.{k}": v for k, v in (summary.get("parameters") or {}).items()},
            }.items()
            if value not in (None, "")
        ]
        for start in range(0, len(metrics), 1000):
            client.log_batch(run_id, metrics=metrics[start : start + 1000])
        for start in range(0, len(params), 100):
            client.log_batch(run_id, params=params[start : start + 100])
        client.log_batch(run_id, tags=[RunTag(k, v) for k, v in tags.items()])
        if artifacts:
            for path in files:
                client.log_artifact(run_id, str(path))
    except BaseException:
        client.set_terminated(run_id, status="FAILED")
        raise
    client.set_terminated(run_id, status="FINISHED")
    return run_id


def _what_to_log(source: Any, cleanup: contextlib.ExitStack) -> tuple[dict[str, Any], list[Path]]:
    """The summary (a run's, or one made of a report) and the files to upload (a report's
    in a temporary folder that ``cleanup`` deletes)."""
    folder = getattr(source, "folder", source)
    if isinstance(folder, (str, os.PathLike)):
        folder = Path(folder)
        summary = store.read_summary(folder)
        names = (store.HTML_NAME, store.SUMMARY_NAME, store.NOTEBOOK_NAME)
        return summary, [folder / n for n in names if (folder / n).is_file()]
    if hasattr(source, "figures") and hasattr(source, "to_json"):
        summary = {
            "kind": source.kind,
            "severity": str(source.severity),
            "verdict": source.verdict,
            "figures": {f"{source.kind}.{k}": v for k, v in source.figures.items()},
        }
        scratch = Path(
            cleanup.enter_context(tempfile.TemporaryDirectory(prefix="monitorkit-mlflow-"))
        )
        (scratch / f"{source.kind}.json").write_text(source.to_json(), encoding="utf-8")
        (scratch / store.SUMMARY_NAME).write_text(json.dumps(summary, indent=2), "utf-8")
        files = [scratch / f"{source.kind}.json", scratch / store.SUMMARY_NAME]
        try:
            files.append(source.save_html(scratch / f"{source.kind}.html"))
        except Exception:  # a report without HTML still logs its figures
            pass
        return summary, files
    raise InputError(
        f"log_to_mlflow takes a run folder (reports/<model>/<run id>), a RunResult or a "
        f"report; got {type(source).__name__}."
    )
