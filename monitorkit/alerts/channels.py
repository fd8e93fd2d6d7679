"""Delivery channels: a registry of small classes, each building a payload and sending it.

A channel type turns a *notification* (a plain, secret-free dict: action, severity, model,
rule, subject, value, baseline, band, reason, report path — what the outbox stores) into the
payload its service documents, and sends it. Secrets (webhook URLs, routing keys, passwords,
signing keys) are read from the environment variables the ``[[channel]]`` table names, at the
moment of sending, and are never part of a notification, a payload kept on disk, an error
message or a log line.

Built in: ``slack`` (incoming webhook, Block Kit), ``pagerduty`` (Events API v2),
``email`` (SMTP, text and HTML, STARTTLS), ``webhook`` (JSON, HMAC-SHA256 signature header),
``alertmanager`` (``POST /api/v2/alerts``). :func:`register_channel` adds others.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import json
import math
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from monitorkit._version import __version__
from monitorkit.alerts.rules import AlertConfigError, Channel, parse_duration

SEVERITY_EMOJI = {"critical": "🔴", "warning": "🟡", "ok": "🟢", "info": "ℹ️"}
PAGERDUTY_URL = "https://events.pagerduty.com/v2/enqueue"
SIGNATURE_HEADER = "X-Monitorkit-Signature"


class DeliveryError(Exception):
    """A notification could not be delivered; ``transient`` failures are retried."""

    def __init__(self, message: str, *, transient: bool = True) -> None:
        super().__init__(message)
        self.transient = transient


# --------------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------------

_COMMON_KEYS = {"name", "type", "timeout", "retries", "backoff", "min_severity"}


class ChannelType:
    """A kind of channel. Subclasses set ``name``, ``keys`` (allowed option keys), ``required``
    (keys of which each inner tuple needs one) and implement :meth:`payload` and :meth:`send`.
    """

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    keys: ClassVar[frozenset[str]] = frozenset()
    required: ClassVar[tuple[tuple[str, ...], ...]] = ()
    refresh: ClassVar[bool] = False  # re-post open alerts on every run (Alertmanager)

    def __init__(self, channel: Channel, environ: Mapping[str, str] | None = None) -> None:
        self.channel = channel
        self.environ = os.environ if environ is None else environ

    # options
    def option(self, key: str, default: Any = None) -> Any:
        return self.channel.option(key, default)

    @property
    def timeout(self) -> float:
        return float(self.option("timeout", 10.0))

    def secret(self, key: str, required: bool = True) -> str | None:
        """The value of the environment variable named by option ``key`` (``url_env``)."""
        variable = self.option(key)
        if variable is None:
            return None
        value = self.environ.get(variable, "")
        if not value and required:
            raise DeliveryError(
                f"channel '{self.channel.name}': the environment variable {variable} (its "
                f"'{key}') is not set; export it where monitorkit runs.",
                transient=True,  # kept in the outbox: set the variable and the next run sends
            )
        return value or None

    def url(self) -> str:
        """The URL from ``url_env`` (secret) or ``url`` (plain)."""
        if self.option("url_env"):
            return self.secret("url_env")
        return self.option("url")

    def secrets(self) -> list[str]:
        """Every secret value this channel reads, with the parts of a secret URL a server may
        echo in its reply (:func:`secret_parts`): what is scrubbed from delivery errors."""
        values = []
        for key, variable in self.channel.options:
            if key.endswith("_env") and isinstance(variable, str):
                value = self.environ.get(variable)
                if value:
                    values.extend(secret_parts(value))
        return values

    # what subclasses implement
    def payload(self, notification: Mapping[str, Any]) -> Any:
        raise NotImplementedError

    def send(self, notification: Mapping[str, Any]) -> None:
        raise NotImplementedError


_CHANNEL_TYPES: dict[str, type[ChannelType]] = {}


def register_channel(cls: type[ChannelType]) -> type[ChannelType]:
    """Register a :class:`ChannelType` subclass under its ``name`` (usable as a decorator)."""
    if not cls.name:
        raise ValueError("a channel type needs a name")
    _CHANNEL_TYPES[cls.name] = cls
    return cls


def channel_types() -> dict[str, type[ChannelType]]:
    return dict(_CHANNEL_TYPES)


def check_channel(table: Mapping[str, Any], where: str) -> Channel:
    """Validate a ``[[channel]]`` table; :class:`AlertConfigError` names the key and the fix."""
    import difflib

    name, kind = table.get("name"), table.get("type")
    if not isinstance(name, str) or not name.strip():
        raise AlertConfigError(f"{where}: every [[channel]] needs a 'name'.")
    if kind not in _CHANNEL_TYPES:
        close = difflib.get_close_matches(str(kind), sorted(_CHANNEL_TYPES), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise AlertConfigError(
            f"{where}: unknown channel type {kind!r}{hint}; available: "
            f"{', '.join(sorted(_CHANNEL_TYPES))}."
        )
    cls = _CHANNEL_TYPES[kind]
    allowed = sorted(_COMMON_KEYS | cls.keys)
    for key, value in table.items():
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            secret_hint = (
                f"; secrets are never written in the file: put it in an environment variable "
                f"and name that with '{key}_env'"
                if f"{key}_env" in allowed
                else ""
            )
            raise AlertConfigError(
                f"{where}: unknown key '{key}'{hint} for a {kind} channel{secret_hint}; keys: "
                f"{', '.join(allowed)}."
            )
        if key.endswith("_env") and (not isinstance(value, str) or not value.isidentifier()):
            # The value is not quoted: a URL or token pasted here is the secret itself.
            looks = (
                "a URL — the secret itself, which belongs in the environment, not in the file"
                if isinstance(value, str) and "://" in value
                else f"a {type(value).__name__} that is not a variable name"
            )
            raise AlertConfigError(
                f"{where}: '{key}' names an environment variable (like SLACK_WEBHOOK_URL); got "
                f"{looks}. Export the value as a variable and write its name here."
            )
    for alternatives in cls.required:
        if not any(k in table for k in alternatives):
            raise AlertConfigError(
                f"{where}: a {kind} channel needs "
                + " or ".join(f"'{k}'" for k in alternatives)
                + "."
            )
    for key in ("timeout", "backoff"):
        if key in table:
            value = table[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise AlertConfigError(f"{where}: '{key}' must be a positive number of seconds.")
    if "retries" in table:
        value = table["retries"]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
            raise AlertConfigError(f"{where}: 'retries' must be a whole number from 0 to 10.")
    if "port" in table:
        value = table["port"]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
            raise AlertConfigError(
                f"{where}: 'port' must be a whole number from 1 to 65535 (587 for STARTTLS, the "
                f"default); got {value!r}."
            )
    if table.get("min_severity", "warning") not in ("warning", "critical"):
        raise AlertConfigError(f"{where}: 'min_severity' must be warning or critical.")
    options = {k: v for k, v in table.items() if k not in ("name", "type")}
    if kind == "email":
        to = options.get("to")
        if isinstance(to, str):
            options["to"] = [to]
        if not options.get("to") or not all(isinstance(a, str) for a in options["to"]):
            raise AlertConfigError(f"{where}: 'to' must be an address or a list of addresses.")
    if kind == "alertmanager" and "labels" in options:
        labels = options["labels"]
        if not isinstance(labels, Mapping) or not all(
            isinstance(k, str) and k.isidentifier() and isinstance(v, str)
            for k, v in labels.items()
        ):
            raise AlertConfigError(
                f"{where}: 'labels' must be a table of label = \"value\" (label names are "
                "identifiers)."
            )
        options["labels"] = tuple(sorted(labels.items()))
    if "ends_after" in options:
        parse_duration(options["ends_after"], where, "ends_after")
    if "to" in options:
        options["to"] = tuple(options["to"])
    return Channel(name.strip(), kind, tuple(sorted(options.items())))


def channel_for(channel: Channel, environ: Mapping[str, str] | None = None) -> ChannelType:
    return _CHANNEL_TYPES[channel.type](channel, environ)


# --------------------------------------------------------------------------------------------
# Sending, with retries
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempted:
    """How a delivery went: ``delivered`` after ``attempts`` tries, else the last ``error``."""

    delivered: bool
    attempts: int
    error: str | None = None


SECRET_SEGMENT_CHARS = 8
"""Path segments and query values of a secret URL this long or longer are scrubbed alone."""


def secret_parts(value: str) -> list[str]:
    """``value`` and, when it is a URL, the parts of it a server may echo back in an error
    reply ("Cannot POST /services/T0/B0/XXXX"): its path, its query, its user info, and each
    path segment and query value of :data:`SECRET_SEGMENT_CHARS` characters or more. Longest
    first, so that :func:`scrub` replaces a whole before its parts.

    >>> secret_parts("https://hooks.example.com/services/T01/B02/s3cr3tT0k3n")[-2:]
    ['s3cr3tT0k3n', 'services']
    """
    parts = {value}
    split = urllib.parse.urlsplit(value)
    if split.scheme and split.netloc:
        if split.path.strip("/"):
            parts.add(split.path)
        if split.query:
            parts.add(split.query)
        if "@" in split.netloc:
            parts.add(split.netloc.rsplit("@", 1)[0])
        pieces = split.path.split("/") + [v for _, v in urllib.parse.parse_qsl(split.query)]
        parts.update(p for p in pieces if len(p) >= SECRET_SEGMENT_CHARS)
    return sorted((p for p in parts if len(p) >= 4), key=lambda p: (-len(p), p))


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` with every secret (and its URL-quoted form) replaced by ``***``, longest first."""
    for value in sorted(secrets, key=len, reverse=True):
        if value and len(value) >= 4:
            text = text.replace(value, "***")
            quoted = urllib.parse.quote(value, safe="")
            if quoted != value:
                text = text.replace(quoted, "***")
    return text


def deliver(
    sender: ChannelType,
    notification: Mapping[str, Any],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Attempted:
    """Send ``notification`` through ``sender``, retrying transient failures (5xx, 429,
    timeouts, refused connections) ``retries`` times (default 3) with exponential backoff
    (``backoff`` seconds, doubled each time, at most 30 s). Never raises."""
    retries = int(sender.option("retries", 3))
    backoff = float(sender.option("backoff", 1.0))
    error = None
    for attempt in range(1, retries + 2):
        try:
            sender.send(notification)
            return Attempted(True, attempt)
        except DeliveryError as exc:
            error, transient = str(exc), exc.transient
        except Exception as exc:  # a bug in a channel never fails the run
            error, transient = f"{type(exc).__name__}: {exc}", False
        error = scrub(error, sender.secrets())
        if not transient or attempt > retries:
            return Attempted(False, attempt, error)
        sleep(min(backoff * 2 ** (attempt - 1), 30.0))
    return Attempted(False, retries + 1, error)  # pragma: no cover


_NO_PROXY_FOR_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def post_json(
    url: str,
    body: Any,
    *,
    timeout: float,
    headers: Mapping[str, str] | None = None,
    raw: bytes | None = None,
) -> bytes:
    """POST ``body`` as JSON (or ``raw`` bytes); the response body, or :class:`DeliveryError`
    (transient for 5xx, 408, 429 and network errors). The URL never appears in the message."""
    data = raw if raw is not None else json.dumps(body).encode("utf-8")
    try:
        request = urllib.request.Request(
            url,
            data=data,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": f"monitorkit/{__version__}",
                **dict(headers or {}),
            },
        )
    except ValueError as exc:  # a malformed URL; its text may hold the secret: not shown
        raise DeliveryError(f"not a usable URL ({type(exc).__name__})", transient=False) from None
    host = urllib.parse.urlsplit(url).hostname or ""
    opener = (
        _NO_PROXY_FOR_LOCAL
        if host in ("127.0.0.1", "localhost", "::1")
        else urllib.request.build_opener()
    )
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        detail = ""
        try:
            detail = exc.read(300).decode("utf-8", "replace").strip()
        except Exception:  # noqa: BLE001 - the status says enough
            pass
        transient = exc.code >= 500 or exc.code in (408, 429)
        raise DeliveryError(
            f"HTTP {exc.code} {exc.reason}" + (f": {detail}" if detail else ""),
            transient=transient,
        ) from None
    except TimeoutError as exc:
        raise DeliveryError(f"no answer within {timeout:g} s ({exc})") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, (TimeoutError, socket.timeout)):
            raise DeliveryError(f"no answer within {timeout:g} s") from None
        raise DeliveryError(f"cannot connect: {reason}") from None
    except (ConnectionError, OSError) as exc:
        raise DeliveryError(f"connection failed: {type(exc).__name__}: {exc}") from None
    except (ValueError, http.client.HTTPException) as exc:
        # a malformed URL (http.client.InvalidURL at connect) or reply: its text may hold
        # the secret, so only its type is said
        raise DeliveryError(f"not a usable URL ({type(exc).__name__})", transient=False) from None


# --------------------------------------------------------------------------------------------
# Words shared by the channels
# --------------------------------------------------------------------------------------------


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:.4g}" if isinstance(value, (int, float)) else str(value)


def title(notification: Mapping[str, Any]) -> str:
    """``[CRITICAL] churn: recall drop`` / ``[RESOLVED] churn: recall drop``."""
    action = notification["action"]
    label = "RESOLVED" if action == "resolve" else str(notification["severity"]).upper()
    if action == "test":
        label = "TEST"
    return f"[{label}] {notification.get('model') or 'model'}: {notification['rule']}"


def band_text(notification: Mapping[str, Any]) -> str:
    lower, upper = notification.get("lower"), notification.get("upper")
    if lower is not None and upper is not None:
        return f"{_number(lower)} – {_number(upper)}"
    if upper is not None:
        return f"≤ {_number(upper)}"
    if lower is not None:
        return f"≥ {_number(lower)}"
    return "–"


def summary_line(notification: Mapping[str, Any]) -> str:
    if notification["action"] == "resolve":
        return f"resolved: {notification.get('reason') or notification['rule']}"
    if notification["action"] == "test":
        return "a test message from `monitorkit alerts test`: this channel is configured."
    return str(notification.get("reason") or "")


def report_link(notification: Mapping[str, Any]) -> str | None:
    return notification.get("report_url") or notification.get("report")


def _plain_reason(text: str) -> str:
    return text.replace("`", "")


# --------------------------------------------------------------------------------------------
# Slack
# --------------------------------------------------------------------------------------------


def _mrkdwn(text: Any) -> str:
    """Slack's three control characters escaped (``&``, ``<``, ``>``)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@register_channel
class Slack(ChannelType):
    """Slack incoming webhook: a Block Kit message (header, why, fields, context) with a
    plain ``text`` fallback for notifications."""

    name = "slack"
    label = "Slack incoming webhook"
    keys = frozenset({"url_env"})
    required = (("url_env",),)

    def payload(self, notification: Mapping[str, Any]) -> dict[str, Any]:
        action = notification["action"]
        emoji = "✅" if action == "resolve" else SEVERITY_EMOJI.get(notification["severity"], "")
        if action == "test":
            emoji = SEVERITY_EMOJI["info"]
        header = f"{emoji} {title(notification)}".strip()
        fields = [
            ("Severity", "resolved" if action == "resolve" else notification["severity"]),
            ("Model", notification.get("model") or "–"),
            ("Figure", f"`{notification.get('subject') or '–'}`"),
            ("Now", _number(notification.get("value"))),
            ("Baseline", _number(notification.get("baseline"))),
            ("Band / threshold", band_text(notification)),
        ]
        context = [f"Rule: {notification.get('rule_text') or notification['rule']}"]
        link = report_link(notification)
        if notification.get("report_url"):
            context.append(f"<{notification['report_url']}|Open the report>")
        elif link:
            context.append(f"Report: `{_mrkdwn(link)}`")
        if notification.get("since"):
            context.append(f"since {_mrkdwn(notification['since'])}")
        return {
            "text": _mrkdwn(f"{title(notification)} — {_plain_reason(summary_line(notification))}")[
                :3000
            ],
            "blocks": [
                {
                    "type": "header",
                    "text": {"type": "plain_text", "text": header[:150], "emoji": True},
                },
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": _mrkdwn(summary_line(notification))[:3000]},
                },
                {
                    "type": "section",
                    "fields": [
                        {"type": "mrkdwn", "text": f"*{name}*\n{_mrkdwn(value)}"[:2000]}
                        for name, value in fields
                    ],
                },
                {
                    "type": "context",
                    "elements": [
                        {"type": "mrkdwn", "text": text[:2000]}
                        for text in [_mrkdwn(context[0]), *context[1:]]
                    ],
                },
            ],
        }

    def send(self, notification: Mapping[str, Any]) -> None:
        post_json(self.url(), self.payload(notification), timeout=self.timeout)


# --------------------------------------------------------------------------------------------
# PagerDuty
# --------------------------------------------------------------------------------------------


@register_channel
class PagerDuty(ChannelType):
    """PagerDuty Events API v2: ``trigger`` (also for escalations and reminders) and
    ``resolve`` events with the alert's fingerprint as ``dedup_key``; the routing key comes
    from ``routing_key_env`` when sending."""

    name = "pagerduty"
    label = "PagerDuty Events API v2"
    keys = frozenset({"routing_key_env", "url", "source"})
    required = (("routing_key_env",),)

    def dedup_key(self, notification: Mapping[str, Any]) -> str:
        return f"monitorkit-{notification['fingerprint']}"[:255]

    def payload(self, notification: Mapping[str, Any]) -> dict[str, Any]:
        """The event without its ``routing_key`` (added when sending)."""
        action = notification["action"]
        if action == "resolve":
            return {"event_action": "resolve", "dedup_key": self.dedup_key(notification)}
        severity = "info" if action == "test" else notification["severity"]
        event: dict[str, Any] = {
            "event_action": "trigger",
            "dedup_key": self.dedup_key(notification),
            "payload": {
                "summary": f"{title(notification)} — {_plain_reason(summary_line(notification))}"[
                    :1024
                ],
                "source": self.option("source") or f"monitorkit:{notification.get('model')}",
                "severity": severity,
                "timestamp": notification.get("time"),
                "component": notification.get("model"),
                "group": notification.get("subject"),
                "class": notification.get("comparison") or "alert",
                "custom_details": {
                    key: notification.get(key)
                    for key in (
                        "rule",
                        "rule_text",
                        "subject",
                        "value",
                        "baseline",
                        "lower",
                        "upper",
                        "reason",
                        "since",
                        "run_id",
                        "report",
                    )
                    if notification.get(key) is not None
                },
            },
            "client": "monitorkit",
        }
        if notification.get("report_url"):
            event["client_url"] = notification["report_url"]
            event["links"] = [{"href": notification["report_url"], "text": "monitorkit report"}]
        return event

    def send(self, notification: Mapping[str, Any]) -> None:
        event = {"routing_key": self.secret("routing_key_env"), **self.payload(notification)}
        post_json(self.option("url") or PAGERDUTY_URL, event, timeout=self.timeout)


# --------------------------------------------------------------------------------------------
# A generic JSON webhook, signed
# --------------------------------------------------------------------------------------------

WEBHOOK_FIELDS = (
    "action",
    "fingerprint",
    "model",
    "rule",
    "rule_text",
    "subject",
    "comparison",
    "severity",
    "value",
    "baseline",
    "lower",
    "upper",
    "reason",
    "since",
    "run_id",
    "time",
    "report",
    "report_url",
)


def signature(secret: str, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256 of the request body under ``secret``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


@register_channel
class Webhook(ChannelType):
    """A generic JSON webhook: one JSON object per notification (``schema``
    ``"monitorkit.alert/1"``; ``status`` ``firing`` / ``resolved``), signed with HMAC-SHA256
    of the raw body in ``X-Monitorkit-Signature: sha256=<hex>`` when ``secret_env`` is set."""

    name = "webhook"
    label = "JSON webhook"
    keys = frozenset({"url", "url_env", "secret_env", "signature_header"})
    required = (("url", "url_env"),)

    def payload(self, notification: Mapping[str, Any]) -> dict[str, Any]:
        body = {"schema": "monitorkit.alert/1"}
        body["status"] = "resolved" if notification["action"] == "resolve" else "firing"
        body.update({key: notification.get(key) for key in WEBHOOK_FIELDS})
        return body

    def send(self, notification: Mapping[str, Any]) -> None:
        raw = json.dumps(self.payload(notification), sort_keys=True).encode("utf-8")
        headers = {"X-Monitorkit-Event": notification["action"]}
        secret = self.secret("secret_env")
        if secret:
            headers[self.option("signature_header", SIGNATURE_HEADER)] = signature(secret, raw)
        post_json(self.url(), None, raw=raw, headers=headers, timeout=self.timeout)


# --------------------------------------------------------------------------------------------
# Prometheus Alertmanager
# --------------------------------------------------------------------------------------------


def _rfc3339(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


@register_channel
class Alertmanager(ChannelType):
    """Prometheus Alertmanager API v2: ``POST <url>/api/v2/alerts`` with a list of one
    postable alert (labels ``alertname``, ``model``, ``subject``, ``severity``,
    ``fingerprint`` and the channel's ``labels``; annotations ``summary``, ``description``,
    ``report``). Open alerts are re-posted on every run (``endsAt`` ``ends_after`` ahead,
    default 25 h), a resolved one is posted with ``endsAt`` now; every post also ends the same
    alert at the other severity, so an escalation leaves no stale warning behind."""

    name = "alertmanager"
    label = "Prometheus Alertmanager"
    keys = frozenset({"url", "url_env", "labels", "ends_after"})
    required = (("url", "url_env"),)
    refresh = True

    def payload(self, notification: Mapping[str, Any]) -> list[dict[str, Any]]:
        now = dt.datetime.now(dt.timezone.utc)
        severity = "info" if notification["action"] == "test" else notification["severity"]
        labels = {
            "alertname": notification["rule"],
            "model": notification.get("model") or "",
            "subject": notification.get("subject") or "",
            "severity": severity,
            "fingerprint": notification["fingerprint"],
            "source": "monitorkit",
        }
        labels.update(dict(self.option("labels", ())))
        if notification["action"] == "resolve":
            ends = now
        else:
            after = parse_duration(self.option("ends_after", "25h"), self.channel.name)
            ends = now + dt.timedelta(seconds=after)
        alert: dict[str, Any] = {
            "labels": labels,
            "annotations": {
                "summary": title(notification),
                "description": _plain_reason(summary_line(notification)),
                "rule": notification.get("rule_text") or notification["rule"],
            },
            "endsAt": _rfc3339(ends),
        }
        starts = notification.get("starts_at")
        if starts:
            alert["startsAt"] = starts
        if notification.get("report"):
            alert["annotations"]["report"] = str(notification["report"])
        if notification.get("report_url"):
            alert["generatorURL"] = notification["report_url"]
        if notification["action"] == "test":
            return [alert]
        # Alertmanager tells alerts apart by their whole label set, severity included: the
        # same alert at the other severity (before an escalation, or a calming down) is
        # ended now, or it would stay active until its own endsAt.
        ended = [
            {**alert, "labels": {**labels, "severity": other}, "endsAt": _rfc3339(now)}
            for other in ("warning", "critical")
            if other != severity
        ]
        return [alert, *ended]

    def send(self, notification: Mapping[str, Any]) -> None:
        base = self.url().rstrip("/")
        post_json(f"{base}/api/v2/alerts", self.payload(notification), timeout=self.timeout)


# --------------------------------------------------------------------------------------------
# Email
# --------------------------------------------------------------------------------------------


@register_channel
class Email(ChannelType):
    """Email over SMTP: a plain-text and an HTML body (``multipart/alternative``); STARTTLS
    when ``starttls = true`` (the default; the certificate verified, against ``ca_file`` when
    given), login when ``username_env`` / ``password_env`` are set."""

    name = "email"
    label = "Email (SMTP)"
    keys = frozenset(
        {
            "host",
            "port",
            "from",
            "to",
            "starttls",
            "ca_file",
            "username_env",
            "password_env",
            "subject_prefix",
        }
    )
    required = (("host",), ("from",), ("to",))

    def message(self, notification: Mapping[str, Any]):
        from email.message import EmailMessage
        from html import escape

        rows = [
            (
                "Severity",
                "resolved" if notification["action"] == "resolve" else notification["severity"],
            ),
            ("Model", notification.get("model") or "–"),
            ("Figure", notification.get("subject") or "–"),
            ("Now", _number(notification.get("value"))),
            ("Baseline", _number(notification.get("baseline"))),
            ("Band / threshold", band_text(notification)),
            ("Rule", notification.get("rule_text") or notification["rule"]),
            ("Since", notification.get("since") or "–"),
            ("Report", report_link(notification) or "–"),
        ]
        why = _plain_reason(summary_line(notification))
        text = "\n".join(
            [title(notification), "", why, ""] + [f"{name}: {value}" for name, value in rows]
        )
        html_rows = "".join(
            f"<tr><th align='left'>{escape(str(name))}</th><td>{escape(str(value))}</td></tr>"
            for name, value in rows
        )
        html = (
            f"<html><body><h2>{escape(title(notification))}</h2><p>{escape(why)}</p>"
            f"<table>{html_rows}</table><p><small>sent by monitorkit {escape(__version__)}"
            "</small></p></body></html>"
        )
        message = EmailMessage()
        prefix = self.option("subject_prefix", "")
        message["Subject"] = f"{prefix}{title(notification)}"
        message["From"] = self.option("from")
        message["To"] = ", ".join(self.option("to"))
        message["X-Monitorkit-Fingerprint"] = notification["fingerprint"]
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        return message

    def send(self, notification: Mapping[str, Any]) -> None:
        import smtplib
        import ssl

        message = self.message(notification)
        try:
            with smtplib.SMTP(
                self.option("host"), int(self.option("port", 587)), timeout=self.timeout
            ) as smtp:
                if self.option("starttls", True):
                    # The server's certificate is verified (against ca_file when given).
                    smtp.starttls(context=ssl.create_default_context(cafile=self.option("ca_file")))
                username = self.secret("username_env", required=False)
                if username:
                    smtp.login(username, self.secret("password_env") or "")
                smtp.send_message(message)
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"SMTP {exc.smtp_code}: {exc.smtp_error!r}",
                transient=not 500 <= exc.smtp_code < 600,
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP failed: {type(exc).__name__}: {exc}") from None
