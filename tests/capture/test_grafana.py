"""The Grafana dashboard: valid JSON, only metrics monitorkit exports, and every panel's query
answered by a real Prometheus that scrapes a serving endpoint and a Pushgateway."""

from __future__ import annotations

import json
import re
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("prometheus_client")

import monitorkit as mk  # noqa: E402
from monitorkit.capture.prometheus import (  # noqa: E402
    REPORT_METRICS,
    SERVING_METRICS,
    ServingMetrics,
    push_gauges,
    report_registry,
)

DASHBOARD = Path(mk.__file__).parent / "capture" / "grafana_dashboard.json"
METRIC = re.compile(r"\bmonitorkit_[a-z_]+")


def _dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def _queries(dashboard: dict) -> list[tuple[str, str]]:
    return [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        if panel["type"] != "row"
        for target in panel.get("targets", [])
    ]


def _concrete(expr: str) -> str:
    """The query as Grafana sends it for 'all models' over the last hour."""
    return (
        expr.replace("$__rate_interval", "1m").replace("$__range", "1h").replace('"$model"', '".*"')
    )


SUMMARY = {
    "model": "churn",
    "status": "succeeded",
    "severity": "warning",
    "exit_code": 3,
    "finished_at": "2026-05-01T03:00:00+00:00",
    "duration_s": 40.0,
    "figures": {
        "drift.share_drifted": 0.2,
        "drift.drifted_columns": 2,
        "drift.column.age.statistic": 0.3,
        "drift.column.age.effect_size": 0.3,
        "drift.column.age.drifted": 1,
        "drift.column.income.statistic": 0.01,
        "drift.column.income.effect_size": 0.01,
        "drift.column.income.drifted": 0,
        "quality.problems": 1,
        "quality.warnings": 1,
        "quality.critical": 0,
        "performance.recall": 0.7,
        "performance.recall.baseline": 0.8,
        "performance.recall.change": -0.125,
    },
    "alerts": {"firing": [{"rule": "recall", "severity": "warning"}]},
}


def test_the_dashboard_is_grafana_json_about_monitorkit_metrics():
    dashboard = _dashboard()
    assert dashboard["title"] and dashboard["uid"] == "monitorkit-models"
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    titles = {p["title"] for p in panels}
    assert {"Latency percentiles", "Prediction volume", "Error rate", "Drift share",
            "Top drifting columns", "Key metrics vs baseline"} <= titles  # fmt: skip
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    for panel in panels:
        assert panel["targets"], panel["title"]
        box = panel["gridPos"]
        assert 0 <= box["x"] and box["x"] + box["w"] <= 24
    exported = set(SERVING_METRICS) | set(REPORT_METRICS)
    exported |= {"monitorkit_prediction_latency_seconds_bucket"}
    used = {name for _, expr in _queries(dashboard) for name in METRIC.findall(expr)}
    assert used and used <= exported, used - exported
    # the dashboard reads the serving side and the run side
    assert {"monitorkit_predictions_total", "monitorkit_prediction_errors_total",
            "monitorkit_prediction_latency_seconds_bucket"} <= used  # fmt: skip
    assert {"monitorkit_drift_share_drifted", "monitorkit_performance_value",
            "monitorkit_run_severity"} <= used  # fmt: skip


def test_every_metric_the_dashboard_reads_is_emitted():
    metrics = ServingMetrics("churn")
    predict = mk.instrument(lambda rows: [0.1] * len(rows), metrics=metrics)
    predict([{"x": 1}])
    with pytest.raises(RuntimeError):
        mk.instrument(lambda rows: (_ for _ in ()).throw(RuntimeError()), metrics=metrics)([{}])
    names = set()
    for registry in (metrics.registry, report_registry(SUMMARY)):
        for family in registry.collect():
            names |= {sample.name for sample in family.samples}
    used = {name for _, expr in _queries(_dashboard()) for name in METRIC.findall(expr)}
    assert used <= names, used - names


def test_every_panel_gets_data_from_a_real_prometheus(prometheus_server, pushgateway):
    metrics = ServingMetrics("churn")
    predict = mk.instrument(lambda rows: [0.1] * len(rows), metrics=metrics, model_version="3")
    failing = mk.instrument(lambda rows: 1 / 0, metrics=metrics, model_version="3")
    port = metrics.serve(0)
    push_gauges(SUMMARY, pushgateway)
    try:
        url = prometheus_server([f"127.0.0.1:{port}", pushgateway.removeprefix("http://")])

        def query(expression: str) -> dict:
            address = f"{url}/api/v1/query?" + urllib.parse.urlencode({"query": expression})
            with urllib.request.urlopen(address, timeout=10) as response:
                return json.load(response)

        queries = _queries(_dashboard())
        deadline = time.monotonic() + 90
        empty = queries
        while time.monotonic() < deadline:
            for _ in range(20):  # traffic between scrapes, so that rates are non-zero
                predict([{"x": 1}, {"x": 2}])
            with pytest.raises(ZeroDivisionError):
                failing([{}])
            answers = {(t, e): query(_concrete(e)) for t, e in queries}
            assert all(a["status"] == "success" for a in answers.values()), answers
            empty = [key for key, a in answers.items() if not a["data"]["result"]]
            if not empty:
                break
            time.sleep(1)
        assert not empty, f"panels without data: {empty}"
        severity = query('monitorkit_run_severity{model="churn"}')["data"]["result"]
        assert [float(r["value"][1]) for r in severity] == [1]
        variable = query('count by (model) ({__name__=~"monitorkit_.*"})')["data"]["result"]
        assert {r["metric"]["model"] for r in variable} == {"churn"}
    finally:
        metrics.shutdown()
