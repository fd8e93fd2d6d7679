"""Alerting: rules on every run's figures, dynamic and seasonal baselines, state, channels.

``mk.alerts.evaluate(reports_or_history, rules)`` says what would fire and why — in a notebook,
on last month's ``index.jsonl`` before anything pages anyone; ``monitorkit run … --alerts
alerts.toml`` evaluates the same rules after each run, sends the notifications (Slack,
PagerDuty, email, webhook, Alertmanager) and keeps what could not be delivered in an outbox.
``docs/ALERTING.md`` is the reference of the rules file.
"""

from __future__ import annotations

from monitorkit.alerts.evaluate import evaluate, fingerprint, replay, to_points
from monitorkit.alerts.results import Alert, AlertReport, Delivery, RuleReplay
from monitorkit.alerts.rules import (
    AlertConfig,
    AlertConfigError,
    Channel,
    Comparison,
    Rule,
    load_config,
    rule,
)

__all__ = [
    "Alert",
    "AlertConfig",
    "AlertConfigError",
    "AlertReport",
    "Channel",
    "Comparison",
    "Delivery",
    "Rule",
    "RuleReplay",
    "evaluate",
    "fingerprint",
    "load_config",
    "replay",
    "rule",
    "to_points",
]
