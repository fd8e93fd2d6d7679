"""Who hears about an alert, once: state, fingerprints, cooldown, escalation, the outbox.

Everything lives next to the history, in ``reports/<model>/alerts/``:

``state.json``
    per fingerprint (model, rule, subject): ``open`` or ``resolved``, the severity last sent,
    when, to which channels. An open alert is not sent again until its ``cooldown`` has passed
    (a *reminder*) or its severity rises (an *escalation*); when it stops firing, one
    *resolve* goes to the channels that heard of it.
``outbox/``
    one JSON file per notification and channel, written *before* sending and removed once
    delivered: what could not be delivered (receiver down, timeout, variable unset) is
    retried on the next run, in order, and never dropped. Files hold no secrets.
``deliveries.jsonl``
    one line per attempt at delivery (time, channel, action, fingerprint, outcome).
``.lock``
    an exclusive lock (the store's) held while a run reads and writes the above, so that
    overlapping runs never send the same notification twice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from monitorkit import store
from monitorkit.alerts.channels import channel_for, deliver
from monitorkit.alerts.results import Alert, AlertReport, Delivery
from monitorkit.alerts.rules import AlertConfig
from monitorkit.severity import Severity

ALERTS_DIR = "alerts"
STATE_NAME = "state.json"
OUTBOX_DIR = "outbox"
DELIVERIES_NAME = "deliveries.jsonl"
LOCK_NAME = ".lock"
STATE_SCHEMA_VERSION = 1


@contextlib.contextmanager
def locked(model_dir: str | Path) -> Iterator[Path]:
    """Hold the alert lock of ``model_dir``; yields ``model_dir/alerts``."""
    folder = Path(model_dir) / ALERTS_DIR
    (folder / OUTBOX_DIR).mkdir(parents=True, exist_ok=True)
    with store._locked(folder / LOCK_NAME, "a+b", fcntl.LOCK_EX):
        yield folder


def read_state(folder: Path) -> dict[str, Any]:
    path = folder / STATE_NAME
    if not path.exists():
        return {"schema_version": STATE_SCHEMA_VERSION, "alerts": {}}
    return store.read_json_file(
        path, "alert state", "delete it to start afresh (open alerts are then sent again)"
    )


def write_state(folder: Path, state: Mapping[str, Any]) -> None:
    store.write_json_atomic(folder / STATE_NAME, state, replace=True)


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).isoformat()


def notification(
    alert: Alert,
    action: str,
    *,
    model: str | None,
    now: dt.datetime,
    run_id: str | None,
    report: str | None,
    report_url: str | None,
    severity: str | None = None,
    starts_at: str | None = None,
) -> dict[str, Any]:
    """The secret-free description of one notification that channels turn into payloads."""
    return {
        "action": action,
        "fingerprint": alert.fingerprint,
        "model": model,
        "rule": alert.rule,
        "rule_text": alert.rule_text,
        "subject": alert.subject,
        "comparison": alert.comparison,
        "severity": severity or str(alert.severity),
        "value": alert.value,
        "baseline": alert.baseline,
        "lower": alert.lower,
        "upper": alert.upper,
        "reason": alert.reason,
        "since": alert.since,
        "run_id": run_id,
        "time": _iso(now),
        "starts_at": starts_at,
        "report": report,
        "report_url": report_url,
    }


def plan(
    report: AlertReport,
    config: AlertConfig,
    state: dict[str, Any],
    *,
    now: dt.datetime,
    report_path: str | None = None,
    report_url: str | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """Decide what to send for the evaluated ``report`` and update ``state`` in place.

    Returns ``(channel name, notification)`` pairs: a *trigger* for a newly firing alert, an
    *escalation* when its severity rose above the one last sent, a *reminder* after its
    cooldown, a *refresh* to channels that want open alerts re-posted on every run
    (Alertmanager), and one *resolve* to the channels that heard of an alert that stopped
    firing.
    """
    entries = state.setdefault("alerts", {})
    rules = {r.name: r for r in config.rules}
    model, run_id = report.result.model, report.result.run_id
    out: list[tuple[str, dict[str, Any]]] = []
    for alert in report.result.alerts:
        rule = rules.get(alert.rule)
        entry = entries.get(alert.fingerprint)
        is_open = bool(entry) and entry.get("status") == "open"
        if alert.firing:
            action = None
            if not is_open:
                action = "trigger"
                entry = {
                    "status": "open",
                    "rule": alert.rule,
                    "subject": alert.subject,
                    "model": model,
                    "opened_at": _iso(now),
                    "channels": [],
                }
                entries[alert.fingerprint] = entry
            elif Severity(alert.severity) > Severity(entry["sent_severity"]):
                action = "escalate"
            else:
                last = dt.datetime.fromisoformat(entry["last_sent_at"])
                cooldown = rule.cooldown_s if rule else float("inf")
                if (now - last).total_seconds() >= cooldown:
                    action = "reminder"
            entry.update(severity=str(alert.severity), last_seen_at=_iso(now), last_run=run_id)
            if Severity(alert.severity) < Severity(entry.get("sent_severity", "critical")):
                entry["sent_severity"] = str(alert.severity)  # a later rise escalates again
            for name in rule.channels if rule else ():
                channel = config.channel(name)
                if channel is None:
                    continue
                wanted = Severity(alert.severity) >= Severity(
                    channel.option("min_severity", "warning")
                )
                if not wanted:
                    continue
                sender_refreshes = channel_for(channel).refresh
                if action is None and not sender_refreshes:
                    continue
                kind = action or "refresh"
                if action in ("escalate", "reminder") and name not in entry["channels"]:
                    kind = "trigger"  # a channel that hears of this alert for the first time
                out.append(
                    (
                        name,
                        notification(
                            alert,
                            kind,
                            model=model,
                            now=now,
                            run_id=run_id,
                            report=report_path,
                            report_url=report_url,
                            starts_at=entry["opened_at"],
                        ),
                    )
                )
                if name not in entry["channels"]:
                    entry["channels"].append(name)
            if action is not None:
                entry.update(sent_severity=str(alert.severity), last_sent_at=_iso(now))
        elif is_open and alert.status in ("ok", "pending"):
            for name in entry.get("channels", []):
                if config.channel(name) is None:
                    continue
                out.append(
                    (
                        name,
                        notification(
                            alert,
                            "resolve",
                            model=model,
                            now=now,
                            run_id=run_id,
                            report=report_path,
                            report_url=report_url,
                            severity=entry.get("severity"),
                            starts_at=entry.get("opened_at"),
                        ),
                    )
                )
            entry.update(status="resolved", resolved_at=_iso(now), last_run=run_id)
    state["updated_at"] = _iso(now)
    return out


# --------------------------------------------------------------------------------------------
# The outbox
# --------------------------------------------------------------------------------------------


def outbox_items(folder: Path) -> list[tuple[Path, dict[str, Any]]]:
    """The notifications waiting in ``folder/outbox``, oldest first."""
    items = []
    for path in sorted((folder / OUTBOX_DIR).glob("*.json")):
        items.append((path, store.read_json_file(path, "outbox item", "delete that file")))
    return items


# What a new notification makes of the undelivered ones of the same alert and channel
# waiting in the outbox: a reminder adds nothing to a waiting one; an escalation replaces the
# waiting reminders; a resolve replaces the waiting reminders and escalations (a waiting
# trigger stays: the alert did fire, and its resolve follows it).
_SUPERSEDES = {"escalate": ("reminder",), "resolve": ("reminder", "escalate")}


def enqueue(
    folder: Path, new: Sequence[tuple[str, Mapping[str, Any]]], now: dt.datetime
) -> list[Path]:
    """Put ``new`` ``(channel, notification)`` pairs in the outbox, in order, collapsing
    what a channel that is down would otherwise receive in one burst when it is back: a
    reminder is not queued behind a waiting notification of its alert, and an escalation or a
    resolve removes the waiting reminders (and, for a resolve, escalations) it supersedes —
    each removal logged in the deliveries log as ``superseded``."""
    written = []
    for order, (channel, note) in enumerate(new):
        key = (channel, note["fingerprint"])
        waiting = [
            (path, item)
            for path, item in outbox_items(folder)
            if (item["channel"], item["notification"]["fingerprint"]) == key
        ]
        if note["action"] == "reminder" and waiting:
            continue
        for path, item in waiting:
            if item["notification"]["action"] in _SUPERSEDES.get(note["action"], ()):
                path.unlink()
                _log(
                    folder,
                    {
                        "time": _iso(dt.datetime.now(dt.timezone.utc)),
                        "channel": channel,
                        "action": item["notification"]["action"],
                        "fingerprint": note["fingerprint"],
                        "rule": note["rule"],
                        "subject": note.get("subject"),
                        "delivered": False,
                        "attempts": 0,
                        "error": f"superseded by a later {note['action']} before it was sent",
                        "outbox_item": path.name,
                    },
                )
        written.append(_enqueue(folder, channel, note, now, order))
    return written


def _enqueue(
    folder: Path, channel: str, note: Mapping[str, Any], now: dt.datetime, order: int
) -> Path:
    stamp = now.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    # Names sort as the notifications were decided: the time, then the order within a run.
    name = f"{stamp}-{order:05d}-{note['fingerprint']}-{secrets.token_hex(4)}.json"
    item = {
        "channel": channel,
        "created_at": _iso(now),
        "attempts": 0,
        "last_error": None,
        "notification": dict(note),
    }
    return store.write_json_atomic(folder / OUTBOX_DIR / name, item)


def _log(folder: Path, record: Mapping[str, Any]) -> None:
    with open(folder / DELIVERIES_NAME, "a", encoding="utf-8") as log:
        log.write(json.dumps(record, default=str) + "\n")


def flush(
    folder: Path,
    config: AlertConfig,
    new: list[tuple[str, dict[str, Any]]] = (),
    *,
    now: dt.datetime | None = None,
    environ: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> tuple[list[Delivery], int]:
    """Put ``new`` notifications in the outbox (:func:`enqueue`), then try to deliver
    everything waiting there, oldest first. A notification waits while an earlier one for the
    same alert and channel is still undelivered (a resolve never overtakes its trigger).
    Returns the deliveries tried and the number of notifications left in the outbox."""
    now = now or dt.datetime.now(dt.timezone.utc)
    enqueue(folder, new, now)
    deliveries: list[Delivery] = []
    blocked: set[tuple[str, str]] = set()
    left = 0
    for path, item in outbox_items(folder):
        note = item["notification"]
        key = (item["channel"], note["fingerprint"])
        channel = config.channel(item["channel"])
        if channel is None:
            error = (
                f"channel '{item['channel']}' is no longer in {config.source}; the notification "
                f"waits in {path.name} until it is (or delete that file)"
            )
            attempted = None
        elif key in blocked:
            error = "waits behind an earlier undelivered notification of this alert"
            attempted = None
        else:
            kwargs = {"sleep": sleep} if sleep is not None else {}
            attempted = deliver(channel_for(channel, environ), note, **kwargs)
            error = attempted.error
        attempts = attempted.attempts if attempted else 0
        delivered = bool(attempted and attempted.delivered)
        _log(
            folder,
            {
                "time": _iso(dt.datetime.now(dt.timezone.utc)),
                "channel": item["channel"],
                "action": note["action"],
                "fingerprint": note["fingerprint"],
                "rule": note["rule"],
                "subject": note.get("subject"),
                "delivered": delivered,
                "attempts": attempts,
                "error": error,
                "outbox_item": path.name,
            },
        )
        if delivered:
            path.unlink()
        else:
            blocked.add(key)
            left += 1
            if attempted is not None:
                item.update(
                    attempts=item.get("attempts", 0) + attempts,
                    last_error=error,
                    last_attempt_at=_iso(now),
                )
                store.write_json_atomic(path, item, replace=True)
        deliveries.append(
            Delivery(
                fingerprint=note["fingerprint"],
                rule=note["rule"],
                subject=note.get("subject") or "",
                action=note["action"],
                severity=Severity.of(note["severity"]),
                channel=item["channel"],
                delivered=delivered,
                attempts=attempts,
                error=error,
                queued=not delivered,
            )
        )
    return deliveries, left
