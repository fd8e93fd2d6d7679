"""Delivery to real receivers on 127.0.0.1: the documented payloads of Slack, PagerDuty, a
signed webhook, email (aiosmtpd) and Alertmanager (the Debian binary); and the fault cases —
retried 500s, a hanging receiver, duplicate and overlapping runs, escalation, resolution."""

from __future__ import annotations

import datetime as dt
import email.policy
import hashlib
import hmac
import json
import multiprocessing
import secrets
import urllib.request
from pathlib import Path

import pytest

from monitorkit import store
from monitorkit.alerts import fingerprint
from monitorkit.alerts.notify import OUTBOX_DIR, STATE_NAME
from monitorkit.alerts.run import after_run, send_test

from .conftest import Runs, write_toml

T0 = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.timezone.utc)
BAD = {"performance.recall": 0.40, "performance.recall.baseline": 0.80}  # -50%: critical
MILD = {"performance.recall": 0.70, "performance.recall.baseline": 0.80}  # -12.5%: warning
GOOD = {"performance.recall": 0.79, "performance.recall.baseline": 0.80}  # -1.25%: ok

RULE = """
[[rule]]
name = "recall drop"
figure = "performance.recall"
change_from_baseline = true
channels = ["{channel}"]
cooldown = "{cooldown}"
"""


def config_file(tmp_path: Path, channel: str, cooldown: str = "1d") -> Path:
    return write_toml(
        tmp_path / "alerts.toml", channel + RULE.format(channel="out", cooldown=cooldown)
    )


def channel(kind: str, **options) -> str:
    lines = ["[[channel]]", 'name = "out"', f'type = "{kind}"']
    for key, value in options.items():
        if isinstance(value, dict):  # a TOML inline table
            value = "{ " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in value.items()) + " }"
        elif isinstance(value, bool):
            value = str(value).lower()
        else:
            value = json.dumps(value)
        lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# The payloads each service documents
# --------------------------------------------------------------------------------------------


def test_slack_gets_a_block_kit_message_with_severity_model_figure_baseline_and_report(
    tmp_path, receiver
):
    hook = f"{receiver.url}/services/T000/B000/{secrets.token_hex(8)}"
    runs = Runs(
        tmp_path, config_file(tmp_path, channel("slack", url_env="SLACK_URL")), {"SLACK_URL": hook}
    )
    entry = runs.run(BAD, T0)
    assert entry["severity"] == "critical" and entry["delivery_failures"] == 0
    (request,) = receiver.requests
    assert request["path"] == hook.removeprefix(receiver.url)
    assert request["headers"]["Content-Type"] == "application/json"
    message = receiver.json(0)
    assert set(message) == {"text", "blocks"}
    assert "[CRITICAL] churn: recall drop" in message["text"]
    header, why, facts, context = message["blocks"]
    assert [b["type"] for b in message["blocks"]] == ["header", "section", "section", "context"]
    assert header["text"]["type"] == "plain_text" and len(header["text"]["text"]) <= 150
    assert "CRITICAL" in header["text"]["text"]
    assert why["text"]["type"] == "mrkdwn" and "-50.0%" in why["text"]["text"]
    fields = {f["text"].split("\n")[0]: f["text"].split("\n")[1] for f in facts["fields"]}
    assert all(f["type"] == "mrkdwn" for f in facts["fields"]) and len(facts["fields"]) <= 10
    assert fields["*Severity*"] == "critical" and fields["*Model*"] == "churn"
    assert fields["*Now*"] == "0.4" and fields["*Baseline*"] == "0.8"
    assert fields["*Figure*"] == "`performance.recall`"
    texts = " ".join(e["text"] for e in context["elements"])
    assert all(e["type"] == "mrkdwn" for e in context["elements"])
    assert "report.html" in texts and str(runs.model_dir) in texts


def test_pagerduty_gets_trigger_then_resolve_with_one_dedup_key(tmp_path, make_receiver):
    pagerduty = make_receiver(
        default_status=202,
        body=b'{"status":"success","message":"Event processed","dedup_key":"x"}',
    )
    key = secrets.token_hex(16)
    config = config_file(
        tmp_path, channel("pagerduty", routing_key_env="PD_KEY", url=f"{pagerduty.url}/v2/enqueue")
    )
    runs = Runs(tmp_path, config, {"PD_KEY": key})
    runs.run(BAD, T0)
    runs.run(GOOD, T0 + dt.timedelta(days=1))
    assert [r["path"] for r in pagerduty.requests] == ["/v2/enqueue", "/v2/enqueue"]
    trigger, resolve = pagerduty.json(0), pagerduty.json(1)
    dedup = f"monitorkit-{fingerprint('churn', 'recall drop', 'performance.recall')}"
    assert trigger["routing_key"] == key and trigger["event_action"] == "trigger"
    assert trigger["dedup_key"] == dedup and len(dedup) <= 255
    payload = trigger["payload"]
    assert {"summary", "source", "severity"} <= set(payload)
    assert payload["severity"] == "critical" and len(payload["summary"]) <= 1024
    assert dt.datetime.fromisoformat(payload["timestamp"]).tzinfo is not None
    assert payload["custom_details"]["baseline"] == 0.8
    assert resolve == {"routing_key": key, "event_action": "resolve", "dedup_key": dedup}


def test_the_webhook_is_signed_with_hmac_sha256_of_the_raw_body(tmp_path, receiver):
    key = secrets.token_hex(16)
    config = config_file(
        tmp_path, channel("webhook", url=f"{receiver.url}/hook", secret_env="HOOK_KEY")
    )
    Runs(tmp_path, config, {"HOOK_KEY": key}).run(BAD, T0)
    (request,) = receiver.requests
    expected = "sha256=" + hmac.new(key.encode(), request["raw"], hashlib.sha256).hexdigest()
    assert request["headers"]["X-Monitorkit-Signature"] == expected
    assert request["headers"]["X-Monitorkit-Event"] == "trigger"
    body = receiver.json(0)
    assert body["schema"] == "monitorkit.alert/1" and body["status"] == "firing"
    assert body["severity"] == "critical" and body["value"] == 0.4 and body["baseline"] == 0.8
    assert key not in request["raw"].decode()


def test_email_has_a_text_and_an_html_body(tmp_path, smtp_server):
    config = config_file(
        tmp_path,
        channel(
            "email",
            host="127.0.0.1",
            port=smtp_server.port,
            starttls=False,
            to=["oncall@example.com", "ml@example.com"],
            **{"from": "monitorkit@example.com"},
        ),
    )
    entry = Runs(tmp_path, config, {}).run(BAD, T0)
    assert entry["notifications"][0]["delivered"]
    (message,) = smtp_server.received
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == "[CRITICAL] churn: recall drop"
    assert parsed["To"] == "oncall@example.com, ml@example.com"
    assert parsed.get_content_type() == "multipart/alternative"
    text = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    assert "Baseline: 0.8" in text and "-50.0%" in text
    assert "<table>" in html and "performance.recall" in html


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_alertmanager_receives_and_lists_the_alert_then_its_resolution(tmp_path, alertmanager):
    config = config_file(tmp_path, channel("alertmanager", url=alertmanager, labels={"team": "ml"}))
    runs = Runs(tmp_path, config, {})
    assert runs.run(BAD, dt.datetime.now(dt.timezone.utc))["delivery_failures"] == 0

    def listed() -> list[dict]:
        with urllib.request.urlopen(f"{alertmanager}/api/v2/alerts", timeout=5) as response:
            return json.loads(response.read())

    (alert,) = listed()
    assert alert["labels"]["alertname"] == "recall drop"
    assert alert["labels"]["severity"] == "critical" and alert["labels"]["team"] == "ml"
    assert alert["labels"]["model"] == "churn"
    assert alert["labels"]["fingerprint"] == fingerprint(
        "churn", "recall drop", "performance.recall"
    )
    assert "-50.0%" in alert["annotations"]["description"]
    assert alert["status"]["state"] == "active"
    # Still firing: re-posted (Alertmanager expects that), still one alert.
    runs.run(BAD, dt.datetime.now(dt.timezone.utc))
    assert len(listed()) == 1
    runs.run(GOOD, dt.datetime.now(dt.timezone.utc))
    assert [a for a in listed() if a["status"]["state"] == "active"] == []


def test_alertmanager_keeps_one_active_alert_through_an_escalation(tmp_path, alertmanager):
    """Warning, then critical, then resolved: Alertmanager tells alerts apart by their labels,
    severity included, so each post also ends the alert at the other severity."""
    config = config_file(tmp_path, channel("alertmanager", url=alertmanager))
    runs = Runs(tmp_path, config, {})

    def active() -> list[str]:
        with urllib.request.urlopen(f"{alertmanager}/api/v2/alerts", timeout=5) as response:
            alerts = json.loads(response.read())
        return sorted(a["labels"]["severity"] for a in alerts if a["status"]["state"] == "active")

    now = dt.datetime.now(dt.timezone.utc)
    runs.run(MILD, now)
    assert active() == ["warning"]
    runs.run(BAD, now + dt.timedelta(minutes=1))
    assert active() == ["critical"]
    runs.run(MILD, now + dt.timedelta(minutes=2))  # calmer, still firing
    assert active() == ["warning"]
    runs.run(GOOD, now + dt.timedelta(minutes=3))
    assert active() == []


# --------------------------------------------------------------------------------------------
# Fault cases: nothing lost, nothing repeated
# --------------------------------------------------------------------------------------------


def webhook(receiver, **options) -> str:
    return channel("webhook", url=f"{receiver.url}/hook", backoff=0.01, **options)


def test_a_500_is_retried_and_the_alert_delivered_once(tmp_path, receiver):
    receiver.statuses = [500]
    runs = Runs(tmp_path, config_file(tmp_path, webhook(receiver, retries=3)), {})
    entry = runs.run(BAD, T0)
    assert len(receiver.requests) == 2 and receiver.json(0) == receiver.json(1)
    (note,) = entry["notifications"]
    assert note["delivered"] and note["attempts"] == 2
    assert runs.sleeps == [0.01]  # one backoff between the two tries
    assert runs.outbox() == []
    runs.run(BAD, T0 + dt.timedelta(hours=1))  # still firing, within the cooldown
    assert len(receiver.requests) == 2


def test_a_client_error_is_not_retried_but_kept(tmp_path, receiver):
    receiver.statuses = [400]
    runs = Runs(tmp_path, config_file(tmp_path, webhook(receiver, retries=3)), {})
    entry = runs.run(BAD, T0)
    assert len(receiver.requests) == 1 and entry["outbox"] == 1
    assert entry["notifications"][0]["error"].startswith("HTTP 400")
    runs.run(BAD, T0 + dt.timedelta(hours=1))
    assert len(receiver.requests) == 2 and runs.outbox() == []


def test_a_hanging_receiver_times_out_the_outbox_keeps_it_and_the_next_run_delivers(
    tmp_path, receiver
):
    receiver.hang = 2
    runs = Runs(tmp_path, config_file(tmp_path, webhook(receiver, retries=1, timeout=0.3)), {})
    first = runs.run(BAD, T0)
    assert first["delivery_failures"] == 1 and first["outbox"] == 1
    assert "no answer within 0.3 s" in first["notifications"][0]["error"]
    (kept,) = runs.outbox()
    item = json.loads(kept.read_text())
    assert item["attempts"] == 2 and item["notification"]["action"] == "trigger"
    assert first["severity"] == "critical"  # a delivery failure never hides the alert
    second = runs.run(BAD, T0 + dt.timedelta(hours=1))
    assert second["delivery_failures"] == 0 and runs.outbox() == []
    assert len(receiver.requests) == 3  # two that hung, one answered
    assert [n["action"] for n in second["notifications"]] == ["trigger"]
    runs.run(BAD, T0 + dt.timedelta(hours=2))
    assert len(receiver.requests) == 3
    delivered = [d for d in runs.deliveries() if d["delivered"]]
    assert len(delivered) == 1


def test_a_resolve_waits_behind_its_undelivered_trigger(tmp_path, receiver):
    receiver.hang = 1
    runs = Runs(tmp_path, config_file(tmp_path, webhook(receiver, retries=0, timeout=0.3)), {})
    runs.run(BAD, T0)
    receiver.statuses = [503]  # the next run's first try fails too
    second = runs.run(GOOD, T0 + dt.timedelta(hours=1))
    actions = [(n["action"], n["delivered"]) for n in second["notifications"]]
    assert actions == [("trigger", False), ("resolve", False)]
    assert len(receiver.requests) == 2  # the resolve was not tried before its trigger
    third = runs.run(GOOD, T0 + dt.timedelta(hours=2))
    assert [n["action"] for n in third["notifications"]] == ["trigger", "resolve"]
    assert [receiver.json(i)["status"] for i in (2, 3)] == ["firing", "resolved"]
    assert runs.outbox() == []


def test_a_channel_back_after_an_outage_hears_what_happened_not_every_reminder(tmp_path, receiver):
    """Down for five hourly runs (cooldown 1 h) while the alert fired, escalated, was
    reminded and resolved: when the channel is back it gets the trigger and the resolve, not
    a burst of stale reminders and escalations; what was dropped is in the deliveries log."""
    receiver.default_status = 503
    runs = Runs(tmp_path, config_file(tmp_path, webhook(receiver, retries=0), cooldown="1h"), {})
    for hour, figures in enumerate((MILD, MILD, BAD, BAD, GOOD)):
        runs.run(figures, T0 + dt.timedelta(hours=hour))
    assert len(runs.outbox()) == 2
    receiver.default_status = 200
    receiver.requests.clear()
    runs.run(GOOD, T0 + dt.timedelta(hours=6))
    assert [receiver.json(i)["action"] for i in range(len(receiver.requests))] == [
        "trigger",
        "resolve",
    ]
    assert runs.outbox() == []
    superseded = [d for d in runs.deliveries() if "superseded" in (d["error"] or "")]
    assert [d["action"] for d in superseded] == ["escalate"]  # reminders were never queued
    assert "reminder" not in {d["action"] for d in runs.deliveries()}


def test_duplicate_runs_send_one_notification(tmp_path, receiver):
    runs = Runs(tmp_path, config_file(tmp_path, webhook(receiver)), {})
    for hour in range(4):
        runs.run(BAD, T0 + dt.timedelta(hours=hour))
    assert len(receiver.requests) == 1


def test_a_rise_in_severity_is_sent_again_a_fall_is_not(tmp_path, receiver):
    runs = Runs(tmp_path, config_file(tmp_path, webhook(receiver)), {})
    runs.run(MILD, T0)
    runs.run(BAD, T0 + dt.timedelta(hours=1))
    runs.run(BAD, T0 + dt.timedelta(hours=2))
    runs.run(MILD, T0 + dt.timedelta(hours=3))
    assert [(b["action"], b["severity"]) for b in map(receiver.json, range(2))] == [
        ("trigger", "warning"),
        ("escalate", "critical"),
    ]
    assert len(receiver.requests) == 2


def test_a_resolved_alert_sends_one_resolve(tmp_path, receiver):
    runs = Runs(tmp_path, config_file(tmp_path, webhook(receiver)), {})
    runs.run(BAD, T0)
    runs.run(GOOD, T0 + dt.timedelta(hours=1))
    runs.run(GOOD, T0 + dt.timedelta(hours=2))
    assert [receiver.json(i)["status"] for i in range(len(receiver.requests))] == [
        "firing",
        "resolved",
    ]
    state = json.loads((runs.alerts_dir / STATE_NAME).read_text())
    (entry,) = state["alerts"].values()
    assert entry["status"] == "resolved"
    runs.run(BAD, T0 + dt.timedelta(hours=3))  # it comes back: a new trigger
    assert receiver.json(2)["action"] == "trigger" and len(receiver.requests) == 3


def test_an_open_alert_is_reminded_after_its_cooldown(tmp_path, receiver):
    runs = Runs(tmp_path, config_file(tmp_path, webhook(receiver), cooldown="6h"), {})
    for hours in (0, 2, 5, 7, 9):
        runs.run(BAD, T0 + dt.timedelta(hours=hours))
    assert [receiver.json(i)["action"] for i in range(len(receiver.requests))] == [
        "trigger",
        "reminder",
    ]


def _overlapping_run(args) -> None:
    tmp_path, url, when = args
    runs = Runs(Path(tmp_path), Path(tmp_path) / "alerts.toml", {})
    runs.run(BAD, when)


def test_overlapping_runs_send_one_notification(tmp_path, make_receiver):
    slow = make_receiver()
    slow.hang = 0
    config_file(tmp_path, webhook(slow))
    context = multiprocessing.get_context("fork")
    with context.Pool(4) as pool:
        pool.map(_overlapping_run, [(str(tmp_path), slow.url, T0)] * 4)
    assert len(slow.requests) == 1
    assert len(store.read_index(tmp_path / "reports" / "churn")) == 4


def test_an_unset_variable_keeps_the_alert_in_the_outbox_naming_the_variable(tmp_path, receiver):
    config = config_file(tmp_path, channel("slack", url_env="SLACK_URL", retries=0))
    runs = Runs(tmp_path, config, {})
    entry = runs.run(BAD, T0)
    assert "SLACK_URL" in entry["notifications"][0]["error"] and entry["outbox"] == 1
    runs.environ["SLACK_URL"] = f"{receiver.url}/x"
    assert runs.run(BAD, T0 + dt.timedelta(hours=1))["outbox"] == 0
    assert len(receiver.requests) == 1


def test_secrets_reach_no_file(tmp_path, receiver):
    url_secret = f"{receiver.url}/services/{secrets.token_hex(12)}"
    signing = secrets.token_hex(12)
    broken = f"nonsense-{secrets.token_hex(12)}"  # not a URL: urllib quotes it in its error
    text = (
        channel("webhook", url_env="HOOK_URL", secret_env="HOOK_KEY")
        + channel("slack", url_env="BROKEN_URL", retries=0).replace('"out"', '"broken"')
        + RULE.format(channel="out", cooldown="1d").replace('["out"]', '["out", "broken"]')
    )
    config = write_toml(tmp_path / "alerts.toml", text)
    runs = Runs(
        tmp_path, config, {"HOOK_URL": url_secret, "HOOK_KEY": signing, "BROKEN_URL": broken}
    )
    entry = runs.run(BAD, T0)
    assert [n["delivered"] for n in entry["notifications"]] == [True, False]
    assert "not a usable URL" in entry["notifications"][1]["error"]
    runs.run(GOOD, T0 + dt.timedelta(hours=1))
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.parent.name == OUTBOX_DIR for p in files)  # the kept notification is checked
    for path in files:
        content = path.read_bytes()
        for value in (url_secret.split("/")[-1], signing, broken):
            assert value.encode() not in content, path


def test_a_reply_that_echoes_the_secret_url_is_scrubbed(tmp_path, make_receiver):
    """A server's error page quoting the request path ("Cannot POST /services/…") carries the
    secret part of a webhook URL: no file the run writes holds it, nor any piece of it."""
    echoing = make_receiver(default_status=500, echo=True)
    token = secrets.token_hex(12)
    url_secret = f"{echoing.url}/services/T0001/B0002/{token}"
    text = channel("slack", url_env="SLACK_URL", retries=0) + RULE.format(
        channel="out", cooldown="1d"
    )
    config = write_toml(tmp_path / "alerts.toml", text)
    runs = Runs(tmp_path, config, {"SLACK_URL": url_secret})
    entry = runs.run(BAD, T0)
    (notification,) = entry["notifications"]
    assert not notification["delivered"] and "HTTP 500" in notification["error"]
    assert echoing.requests and echoing.requests[0]["path"].endswith(token)  # it did echo
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "deliveries.jsonl" for p in files)
    for path in files:
        content = path.read_bytes()
        assert token.encode() not in content, path
        assert b"/services/T0001/B0002" not in content, path


def test_alerts_test_sends_one_test_message_per_channel(tmp_path, make_receiver):
    hook, pd = make_receiver(), make_receiver(default_status=202)
    text = (
        channel("webhook", url=f"{hook.url}/h")
        + channel("pagerduty", routing_key_env="PD", url=f"{pd.url}/v2/enqueue").replace(
            '"out"', '"pager"'
        )
        + channel("webhook", url="http://127.0.0.1:9/none", retries=0).replace('"out"', '"down"')
    )
    results = send_test(write_toml(tmp_path / "a.toml", text), environ={"PD": "k" * 32})
    outcome = {name: attempted.delivered for name, _, attempted in results}
    assert outcome == {"out": True, "pager": True, "down": False}
    assert hook.json(0)["action"] == "test"
    assert pd.json(0)["event_action"] == "trigger" and pd.json(0)["payload"]["severity"] == "info"


def test_email_over_starttls_with_login(tmp_path):
    """STARTTLS against a certificate made for the test, login with secrets from the
    environment; the server refuses mail before TLS and before login."""
    import ssl
    import subprocess

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from .conftest import _free_port

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    password = secrets.token_hex(12)
    logins, received = [], []

    def authenticate(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=auth_data.password.decode() == password)

    class Collect:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
            received.append(envelope.content)
            return "250 OK"

    port = _free_port()
    controller = Controller(
        Collect(),
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticate,
        auth_required=True,
    )
    controller.start()
    try:
        config = config_file(
            tmp_path,
            channel(
                "email",
                host="127.0.0.1",
                port=port,
                ca_file=str(cert),
                username_env="SMTP_USER",
                password_env="SMTP_PASSWORD",
                to="oncall@example.com",
                **{"from": "monitorkit@example.com"},
            ),
        )
        runs = Runs(tmp_path, config, {"SMTP_USER": "alerts", "SMTP_PASSWORD": password})
        entry = runs.run(BAD, T0)
    finally:
        controller.stop()
    assert entry["notifications"][0]["delivered"], entry["notifications"]
    assert logins == [("alerts", password)] and len(received) == 1
    assert b"[CRITICAL] churn: recall drop" in received[0]
    for path in (p for p in tmp_path.rglob("*") if p.is_file()):
        assert password.encode() not in path.read_bytes()


def test_a_run_that_published_nothing_still_retries_the_outbox(tmp_path, receiver):
    receiver.statuses = [503, 503]
    runs = Runs(tmp_path, config_file(tmp_path, webhook(receiver, retries=1)), {})
    assert runs.run(BAD, T0)["outbox"] == 1
    folder = runs.model_dir / "20260302T070000Z-0000000f"
    folder.mkdir()
    entry = after_run(runs.config, None, folder=folder, model="churn", started=T0, environ={})
    assert entry["error"] == "the run published no figures" and entry["outbox"] == 0
    assert [n["action"] for n in entry["notifications"]] == ["trigger"]
    assert len(receiver.requests) == 3


def test_monitorkit_alerts_is_reached_lazily_from_the_package():
    import monitorkit as mk

    report = mk.alerts.evaluate({"a.b": 2.0}, mk.alerts.rule("r", "a.b", above=1.0))
    assert report.severity == "warning" and isinstance(report, mk.alerts.AlertReport)
