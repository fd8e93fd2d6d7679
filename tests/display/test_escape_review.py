"""A hostile name from the data (column, category, group, rule, figure, message) reaches the
HTML of the alerts, history and performance views only escaped."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from monitorkit.alerts.channels import Email
from monitorkit.alerts.rules import Channel
from monitorkit.display.alerts import alerts_section
from monitorkit.display.history import store_section, trend_chart
from monitorkit.display.performance import _causes_table, _fairness, _shift_note

HOSTILE = "<script>x</script>"
ESCAPED = "&lt;script&gt;x&lt;/script&gt;"


def _clean(html: str) -> None:
    assert "<script>" not in html
    assert ESCAPED in html


def test_causes_table_escapes_names():
    cause = SimpleNamespace(
        window=HOSTILE, segment=HOSTILE, metric=HOSTILE, column=HOSTILE, bin=HOSTILE,
        share=0.5, baseline_share=0.2, value=0.1, baseline_value=0.3, explained=0.4,
        new_since=HOSTILE,
    )  # fmt: skip
    _clean(_causes_table(SimpleNamespace(result=SimpleNamespace(causes=[cause]))))


def test_shift_note_escapes_names():
    shift = SimpleNamespace(
        metric=HOSTILE, window=HOSTILE, realised=0.5, estimated=0.7, lower=0.6, upper=0.8
    )
    _clean(_shift_note(SimpleNamespace(result=SimpleNamespace(concept_shifts=[shift]))))


def test_fairness_escapes_attribute_and_groups():
    gap = SimpleNamespace(
        window="all", attribute=HOSTILE, measure="demographic_parity_difference",
        severity="ok", value=0.1, baseline=0.05, lower=0.0, upper=0.2,
        lowest_group=HOSTILE, highest_group=HOSTILE, skipped=HOSTILE,
    )  # fmt: skip
    windowed = SimpleNamespace(**{**vars(gap), "window": HOSTILE})
    group = SimpleNamespace(
        window="all", attribute=HOSTILE, group=HOSTILE, n=10, selection_rate=0.5,
        true_positive_rate=0.5, false_positive_rate=0.1, accuracy=0.9, skipped=HOSTILE,
    )  # fmt: skip
    result = SimpleNamespace(
        fairness=[gap, windowed],
        fairness_groups=[group],
        windows=[SimpleNamespace(window="all"), SimpleNamespace(window=HOSTILE)],
    )
    _clean(_fairness(SimpleNamespace(result=result)))


def test_alerts_section_escapes_rule_figure_and_error():
    alert = SimpleNamespace(
        severity="critical", status="firing", firing=True, rule=HOSTILE, rule_text=HOSTILE,
        subject=HOSTILE, value=1.0, baseline=0.5, lower=None, upper=0.8, reason=HOSTILE,
        since=HOSTILE,
    )  # fmt: skip
    failed = SimpleNamespace(
        channel=HOSTILE, action=HOSTILE, rule=HOSTILE, attempts=2, error=HOSTILE, delivered=False
    )
    result = SimpleNamespace(error=HOSTILE, rules=1, history_runs=3, deliveries=[failed])
    report = SimpleNamespace(
        result=result, firing=[alert], failed_deliveries=[failed], alerts=[alert]
    )
    _clean(alerts_section(report))


def test_history_views_escape_model_and_figure_names():
    models = pd.DataFrame(
        {
            "model": [HOSTILE],
            "runs": [2],
            "last_run": [pd.Timestamp("2024-01-01", tz="UTC")],
            "last_status": ["succeeded"],
            "last_severity": [HOSTILE],
            "last_verdict": [HOSTILE],
            "recent": ["ok warning"],
            "alerts_firing": [0],
            "alerts_severity": [None],
        }
    )
    _clean(store_section(SimpleNamespace(models=models)))
    trend = pd.DataFrame(
        {
            "value": [1.0, 2.0],
            "lower": [0.5, 0.5],
            "upper": [2.5, 2.5],
            "baseline": [1.5, 1.5],
            "started_at": pd.to_datetime(["2024-01-01", "2024-01-02"], utc=True),
            "status": ["succeeded", "succeeded"],
            "severity": ["ok", HOSTILE],
            "run_id": [HOSTILE, HOSTILE],
        }
    )
    _clean(trend_chart(trend, HOSTILE))


@pytest.mark.parametrize("field", ["model", "rule", "subject", "reason", "rule_text", "since"])
def test_email_html_body_escapes_names(field):
    note = {
        "action": "trigger", "fingerprint": "f", "model": "m", "rule": "r", "subject": "s",
        "severity": "warning", "reason": "why", "rule_text": "r > 1", "since": None,
    }  # fmt: skip
    note[field] = HOSTILE
    channel = Channel("mail", "email", (("from", "a@b.c"), ("host", "h"), ("to", ("d@e.f",))))
    message = Email(channel, environ={}).message(note)
    html = message.get_body(("html",)).get_content()
    _clean(html)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:1/hook?token=SECRETVALUE\tX", "http://127.0.0.1:SECRETVALUE/hook"]
)
def test_a_malformed_webhook_url_is_reported_without_its_text(url):
    from monitorkit.alerts.channels import DeliveryError, post_json

    with pytest.raises(DeliveryError) as caught:
        post_json(url, {"a": 1}, timeout=1)
    assert "SECRETVALUE" not in str(caught.value)
    assert "InvalidURL" in str(caught.value)
