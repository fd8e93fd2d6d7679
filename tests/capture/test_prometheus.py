"""Prometheus: serving metrics scraped by a real Prometheus, run gauges pushed to a real
Pushgateway, the exact push protocol on a stdlib receiver, and the textfile format."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

prometheus_client = pytest.importorskip("prometheus_client")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

import monitorkit as mk  # noqa: E402
from monitorkit.capture.prometheus import (  # noqa: E402
    OTHER,
    REPORT_METRICS,
    SERVING_METRICS,
    ServingMetrics,
    export_run,
    push_gauges,
    report_registry,
    without_credentials,
    write_textfile,
)
from monitorkit.runner import summary_payload  # noqa: E402


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition text: (name, sorted labels) -> value."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _value(samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


@pytest.fixture(scope="module")
def run_summary() -> dict:
    """A summary.json as a run of the monitoring template writes it, from real reports."""
    scenario = mk.datasets.load_scenario("fraud_imbalance", n_rows=4_000, seed=1)
    baseline = mk.Baseline.from_frame(scenario.reference, scenario.spec)
    drift = mk.DriftReport(scenario.reference, scenario.current, spec=scenario.spec)
    quality = mk.QualityReport(scenario.reference, scenario.current, spec=scenario.spec)
    performance = mk.PerformanceReport(scenario.current, baseline=baseline)
    payload = summary_payload(quality, performance, drift)
    return {
        "model": "fraud",
        "status": "succeeded",
        "severity": payload["severity"],
        "exit_code": 4 if payload["severity"] == "critical" else 3,
        "figures": payload["figures"],
        "finished_at": "2026-05-01T03:00:00+00:00",
        "duration_s": 12.5,
        "alerts": {
            "firing": [
                {"rule": "recall", "severity": "critical"},
                {"rule": "drift", "severity": "warning"},
                {"rule": "other", "severity": "critical"},
            ]
        },
    }


# ---- serving side -----------------------------------------------------------------------------


def test_serving_metrics_count_calls_rows_errors_and_latency():
    metrics = ServingMetrics("churn", max_versions=2, max_error_types=1)

    def model(rows):
        if rows and rows[0].get("bad"):
            raise ValueError("bad row")
        return [0.5] * len(rows)

    v1 = mk.instrument(model, metrics=metrics, model_version="1.0")
    v2 = mk.instrument(model, metrics=metrics, model_version="2.0")
    v3 = mk.instrument(model, metrics=metrics, model_version="3.0")  # past max_versions
    for _ in range(3):
        v1([{"a": 1}, {"a": 2}])
    v2([{"a": 1}])
    v3([{"a": 1}] * 4)
    for call, error in ((v1, ValueError), (v1, ValueError)):
        with pytest.raises(error):
            call([{"bad": True}])
    with pytest.raises(KeyError):  # a second error type, past max_error_types
        mk.instrument(lambda rows: {}["x"], metrics=metrics, model_version="1.0")([{}])
    registry = metrics.registry
    get = registry.get_sample_value
    assert get("monitorkit_predictions_total", {"model": "churn", "model_version": "1.0"}) == 6
    assert (
        get("monitorkit_prediction_requests_total", {"model": "churn", "model_version": "1.0"}) == 6
    )
    assert get("monitorkit_predictions_total", {"model": "churn", "model_version": "2.0"}) == 1
    assert get("monitorkit_predictions_total", {"model": "churn", "model_version": OTHER}) == 4
    errors = {"model": "churn", "model_version": "1.0"}
    assert get("monitorkit_prediction_errors_total", {**errors, "error_type": "ValueError"}) == 2
    assert get("monitorkit_prediction_errors_total", {**errors, "error_type": OTHER}) == 1
    count = get("monitorkit_prediction_latency_seconds_count", errors)
    assert count == 6
    total = get("monitorkit_prediction_latency_seconds_sum", errors)
    assert 0 < total < 5
    # every series' labels come from the bounded sets, never from the rows
    names = set()
    for family in registry.collect():
        for sample in family.samples:
            names.add(
                sample.name.removesuffix("_bucket").removesuffix("_count").removesuffix("_sum")
            )
            assert set(sample.labels) <= {"model", "model_version", "error_type", "le"}
            assert sample.labels.get("model_version", "1.0") in {"1.0", "2.0", OTHER}
    assert {n for n in names if not n.endswith("_created")} <= set(SERVING_METRICS) | {
        "monitorkit_prediction_latency_seconds"
    }


def test_a_real_prometheus_scrapes_the_serving_endpoint(prometheus_server):
    metrics = ServingMetrics("churn")
    predict = mk.instrument(lambda rows: [0.1] * len(rows), metrics=metrics, model_version="1.4")
    port = metrics.serve(0)
    try:
        for _ in range(7):
            predict([{"x": 1}, {"x": 2}, {"x": 3}])
        with pytest.raises(ZeroDivisionError):
            mk.instrument(lambda rows: 1 / 0, metrics=metrics, model_version="1.4")([{}])
        url = prometheus_server([f"127.0.0.1:{port}"])

        def query(expression: str) -> list:
            address = f"{url}/api/v1/query?" + urllib.parse.urlencode({"query": expression})
            with urllib.request.urlopen(address, timeout=10) as response:
                body = json.load(response)
            assert body["status"] == "success"
            return body["data"]["result"]

        deadline = time.monotonic() + 60
        result = []
        while time.monotonic() < deadline:
            result = query('monitorkit_predictions_total{model="churn"}')
            if result:
                break
            time.sleep(0.5)
        assert len(result) == 1
        assert result[0]["metric"]["model_version"] == "1.4"
        assert result[0]["metric"]["job"] == "serving"
        assert float(result[0]["value"][1]) == 21
        errors = query('monitorkit_prediction_errors_total{error_type="ZeroDivisionError"}')
        assert [float(r["value"][1]) for r in errors] == [1]
        buckets = query("monitorkit_prediction_latency_seconds_bucket")
        assert {r["metric"]["le"] for r in buckets} >= {"0.001", "+Inf"}
        infinite = [r for r in buckets if r["metric"]["le"] == "+Inf"]
        assert float(infinite[0]["value"][1]) == 8
    finally:
        metrics.shutdown()


# ---- report side ------------------------------------------------------------------------------


def test_run_gauges_follow_the_summary_figures(run_summary):
    registry = report_registry(run_summary, max_columns=3)
    text = prometheus_client.generate_latest(registry).decode()
    samples = _samples(text)
    figures = run_summary["figures"]
    assert _value(samples, "monitorkit_drift_share_drifted", model="fraud") == pytest.approx(
        figures["drift.share_drifted"]
    )
    assert _value(samples, "monitorkit_run_severity", model="fraud") == 2  # critical
    assert _value(samples, "monitorkit_run_failed", model="fraud") == 0
    assert _value(samples, "monitorkit_run_exit_code", model="fraud") == 4
    assert _value(samples, "monitorkit_performance_value", model="fraud", metric="recall") == (
        pytest.approx(figures["performance.recall"])
    )
    assert _value(samples, "monitorkit_performance_baseline", model="fraud", metric="recall") == (
        pytest.approx(figures["performance.recall.baseline"])
    )
    assert (
        _value(samples, "monitorkit_quality_findings", model="fraud", severity="critical")
        == (figures["quality.critical"])
    )
    assert _value(samples, "monitorkit_alerts_firing", model="fraud", severity="critical") == 2
    assert _value(samples, "monitorkit_alerts_firing", model="fraud", severity="warning") == 1
    # at most 3 columns: those that moved most
    effects = {
        k[len("drift.column.") : -len(".effect_size")]: v
        for k, v in figures.items()
        if k.startswith("drift.column.") and k.endswith(".effect_size")
    }
    assert len(effects) > 3
    shown = {
        dict(labels)["column"]
        for (name, labels) in samples
        if name == "monitorkit_drift_column_effect_size"
    }
    assert shown == set(sorted(effects, key=lambda c: -effects[c])[:3])
    # names: only the documented ones; segments ("recall|region=…") never become labels
    names = {name for name, _ in samples}
    assert names <= set(REPORT_METRICS)
    metrics = {dict(labels).get("metric") for (name, labels) in samples if "performance" in name}
    assert all("|" not in m for m in metrics)


def test_a_failed_run_exports_its_failure_only():
    registry = report_registry(
        {"model": "m", "status": "failed", "severity": None, "exit_code": 1, "figures": {}}
    )
    samples = _samples(prometheus_client.generate_latest(registry).decode())
    assert _value(samples, "monitorkit_run_failed", model="m") == 1
    assert ("monitorkit_run_severity", (("model", "m"),)) not in samples
    assert {name for name, _ in samples} == {"monitorkit_run_failed", "monitorkit_run_exit_code"}


def test_textfile_is_the_collector_format(tmp_path, run_summary):
    path = write_textfile(run_summary, tmp_path / "textfile")
    assert path.name == "monitorkit_fraud.prom"
    assert sorted(p.name for p in path.parent.iterdir()) == ["monitorkit_fraud.prom"]
    text = path.read_text()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["monitorkit_drift_share_drifted"].type == "gauge"
    assert families["monitorkit_drift_share_drifted"].documentation
    samples = _samples(text)
    assert _value(samples, "monitorkit_run_duration_seconds", model="fraud") == 12.5
    assert _value(samples, "monitorkit_run_timestamp_seconds", model="fraud") == 1777604400


class _Receiver(BaseHTTPRequestHandler):
    requests: list = []

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        type(self).requests.append((self.command, self.path, dict(self.headers), body))
        self.send_response(200)
        self.end_headers()

    do_PUT = do_POST = do_DELETE = _record

    def log_message(self, *args) -> None:  # keep the test output clean
        pass


def test_push_speaks_the_pushgateway_protocol(run_summary):
    _Receiver.requests = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        gateway = f"http://127.0.0.1:{server.server_address[1]}"
        push_gauges(run_summary, gateway, job="nightly")
    finally:
        server.shutdown()
        server.server_close()
    assert len(_Receiver.requests) == 1
    method, path, headers, body = _Receiver.requests[0]
    assert method == "PUT"  # replaces the group's metrics: gauges of dropped columns go away
    assert path == "/metrics/job/nightly/model/fraud"
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = _samples(body.decode())
    assert _value(samples, "monitorkit_run_severity", model="fraud") == 2


def test_a_real_pushgateway_receives_the_run_gauges(pushgateway, run_summary):
    push_gauges(run_summary, pushgateway)
    with urllib.request.urlopen(pushgateway + "/metrics", timeout=10) as response:
        samples = _samples(response.read().decode())
    labels = {"job": "monitorkit", "model": "fraud", "instance": ""}
    assert _value(samples, "monitorkit_drift_share_drifted", **labels) == pytest.approx(
        run_summary["figures"]["drift.share_drifted"]
    )
    assert _value(samples, "monitorkit_run_severity", **labels) == 2
    # the next run's push replaces the model's group: a metric it no longer has is gone
    quiet = {**run_summary, "severity": "ok", "figures": {"drift.share_drifted": 0.0}}
    quiet.pop("alerts")
    push_gauges(quiet, pushgateway)
    with urllib.request.urlopen(pushgateway + "/metrics", timeout=10) as response:
        samples = _samples(response.read().decode())
    assert _value(samples, "monitorkit_run_severity", **labels) == 0
    assert _value(samples, "monitorkit_drift_share_drifted", **labels) == 0
    assert not [k for k in samples if k[0] == "monitorkit_performance_value"]


def test_export_run_never_raises(tmp_path, run_summary):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"  # nothing listens there
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    recorded = export_run(run_summary, {"pushgateway": dead, "textfile": blocked})
    assert recorded["pushgateway"]["pushed"] is False
    assert "URLError" in recorded["pushgateway"]["error"]
    assert recorded["textfile"]["written"] is False
    ok = export_run(run_summary, {"textfile": tmp_path / "dir"})
    assert ok == {
        "textfile": {"path": str(tmp_path / "dir" / "monitorkit_fraud.prom"), "written": True,
                     "error": None}
    }  # fmt: skip


def test_serving_metrics_remember_a_bounded_number_of_versions():
    metrics = ServingMetrics("churn", max_versions=3)
    for version in range(1_000):  # e.g. a version string built per request by mistake
        metrics.observe(1, 0.001, model_version=f"build-{version}")
    assert len(metrics._children) <= 2 * 3
    assert len(metrics._children_by_label) == 4  # three versions and "other"
    get = metrics.registry.get_sample_value
    assert get("monitorkit_predictions_total", {"model": "churn", "model_version": OTHER}) == 997


def test_a_failure_to_log_is_counted_in_prometheus(tmp_path):
    metrics = ServingMetrics("churn")
    log = mk.PredictionLog(tmp_path / "log")
    log.close()  # a closed log cannot take rows
    predict = mk.instrument(lambda rows: [0.5] * len(rows), log=log, metrics=metrics,
                            model_version="1.0")  # fmt: skip
    with pytest.warns(RuntimeWarning, match="could not log"):
        assert predict([{"a": 1}]) == [0.5]
    predict([{"a": 2}])
    labels = {"model": "churn", "model_version": "1.0"}
    assert metrics.registry.get_sample_value("monitorkit_log_errors_total", labels) == 2
    assert metrics.registry.get_sample_value("monitorkit_predictions_total", labels) == 2


def test_pushgateway_credentials_are_not_recorded(run_summary):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there
    recorded = export_run(run_summary, {"pushgateway": f"http://ops:s3cret@127.0.0.1:{port}"})
    assert recorded["pushgateway"]["url"] == f"http://127.0.0.1:{port}"
    assert recorded["pushgateway"]["pushed"] is False
    assert "s3cret" not in json.dumps(recorded)
    assert without_credentials("https://u:p@push.example:9091/x") == "https://push.example:9091/x"
    assert without_credentials("u:p@push.example:9091") == "push.example:9091"
    assert without_credentials("http://push.example:9091") == "http://push.example:9091"
