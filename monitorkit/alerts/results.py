"""What alert evaluation finds: plain frozen values, and the ``alerts`` report around them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from monitorkit.report import Report
from monitorkit.severity import Severity

STATUSES = ("firing", "pending", "ok", "skipped")


@dataclass(frozen=True)
class Alert:
    """One rule on one subject (a figure name; a glob or ``segment = "*"`` gives several) at
    the latest run.

    ``status``: ``firing`` (breaching for ``for_runs`` runs, not yet resolved), ``pending``
    (breaching, not long enough yet), ``ok``, or ``skipped`` (too few rows, no value, too little
    history — ``reason`` says which). ``severity`` is that of a firing alert, else ``ok``.
    ``baseline`` is the training baseline, the band's centre or the seasonal mean; ``lower`` /
    ``upper`` the limits at the threshold the value reached (or at warning when none).
    """

    rule: str
    subject: str
    status: str
    severity: Severity
    value: float | None
    comparison: str
    reason: str
    fingerprint: str
    baseline: float | None = None
    lower: float | None = None
    upper: float | None = None
    score: float | None = None
    since: str | None = None
    streak: int = 0
    rows: float | None = None
    channels: tuple[str, ...] = ()
    rule_text: str = ""

    @property
    def firing(self) -> bool:
        return self.status == "firing"


@dataclass(frozen=True)
class RuleReplay:
    """How a rule behaved over the history it was evaluated on: ``runs`` judged, of them
    ``breaching`` (at warning or above), ``firing`` (while the alert was open) and ``fired``
    (times the alert opened)."""

    rule: str
    subject: str
    runs: int
    breaching: int
    firing: int
    fired: int


@dataclass(frozen=True)
class Delivery:
    """One notification to one channel: ``action`` is ``trigger``, ``escalate``, ``reminder``,
    ``resolve`` or ``test``; ``delivered`` after ``attempts`` tries; ``queued`` when it waits
    in the outbox for the next run (``error`` says why)."""

    fingerprint: str
    rule: str
    subject: str
    action: str
    severity: Severity
    channel: str
    delivered: bool
    attempts: int
    error: str | None = None
    queued: bool = False


@dataclass(frozen=True)
class AlertsResult:
    model: str | None
    evaluated_at: str
    run_id: str | None
    rules: int
    history_runs: int
    alerts: tuple[Alert, ...]
    replay: tuple[RuleReplay, ...] = ()
    deliveries: tuple[Delivery, ...] = ()
    outbox: int = 0
    error: str | None = None


class AlertReport(Report, kind="alerts"):
    """The alerts a run raises (or would raise): :func:`monitorkit.alerts.evaluate` builds it.

    ``severity`` is the worst firing alert's; ``figures`` count them (``firing``, ``critical``,
    ``warning``, ``pending``, ``delivery_failures``, ``outbox``).
    """

    schema_version = 1
    result_type = AlertsResult
    title = "Alerts"

    @property
    def alerts(self) -> list[Alert]:
        """Every evaluated (rule, subject), firing first, worst first."""
        order = {s: i for i, s in enumerate(STATUSES)}
        return sorted(
            self.result.alerts, key=lambda a: (order[a.status], -Severity(a.severity).rank)
        )

    @property
    def firing(self) -> list[Alert]:
        return [a for a in self.alerts if a.firing]

    @property
    def failed_deliveries(self) -> list[Delivery]:
        return [d for d in self.result.deliveries if not d.delivered]

    @property
    def severity(self) -> Severity:
        return Severity.worst(a.severity for a in self.firing)

    @property
    def verdict(self) -> str:
        if self.result.error:
            return f"alert rules could not be evaluated: {self.result.error}"
        firing = self.firing
        failures = self.failed_deliveries
        tail = (
            f"; {len(failures)} notification(s) not delivered, kept in the outbox"
            if failures
            else ""
        )
        if not firing:
            pending = sum(a.status == "pending" for a in self.result.alerts)
            extra = f" ({pending} breaching, not yet for long enough)" if pending else ""
            return f"no alert fires ({self.result.rules} rule(s) checked){extra}{tail}"
        listed = ", ".join(
            f"`{a.rule}`"
            + (f" on `{a.subject}`" if a.subject != a.rule else "")
            + f" ({a.severity})"
            for a in firing[:5]
        )
        more = f" and {len(firing) - 5} more" if len(firing) > 5 else ""
        return f"{len(firing)} alert(s) firing: {listed}{more}{tail}"

    @property
    def figures(self) -> dict[str, float]:
        """``firing``, ``critical``, ``warning``, ``pending``, ``delivery_failures``,
        ``outbox``."""
        firing = self.firing
        return {
            "firing": len(firing),
            "critical": sum(a.severity == Severity.CRITICAL for a in firing),
            "warning": sum(a.severity == Severity.WARNING for a in firing),
            "pending": sum(a.status == "pending" for a in self.result.alerts),
            "delivery_failures": len(self.failed_deliveries),
            "outbox": self.result.outbox,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per evaluated (rule, subject): status, severity, value, baseline, band
        limits, score, reason, since, channels."""
        columns = [
            "rule",
            "subject",
            "status",
            "severity",
            "value",
            "comparison",
            "baseline",
            "lower",
            "upper",
            "score",
            "reason",
            "since",
            "streak",
            "rows",
            "channels",
            "fingerprint",
        ]
        rows = [
            {
                **{c: getattr(a, c) for c in columns if c not in ("severity", "channels")},
                "severity": str(a.severity),
                "channels": ", ".join(a.channels),
            }
            for a in self.alerts
        ]
        return pd.DataFrame(rows, columns=columns)

    def replay_frame(self) -> pd.DataFrame:
        """Per rule and subject, over the history: runs judged, breaching, firing, times fired."""
        columns = ["rule", "subject", "runs", "breaching", "firing", "fired"]
        return pd.DataFrame([r.__dict__ for r in self.result.replay], columns=columns)

    def __str__(self) -> str:
        lines = [f"{self.severity.upper()}: {self.verdict}"]
        for a in self.alerts:
            if a.status in ("firing", "pending"):
                lines.append(f"  [{a.status} {a.severity}] {a.rule}: {a.reason}")
        for d in self.failed_deliveries:
            lines.append(f"  not delivered to {d.channel} ({d.action}): {d.error}")
        return "\n".join(lines)


def finite_or_none(value: Any) -> float | None:
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None
