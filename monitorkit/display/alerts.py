"""The static view of alerts: what fires and why, what is pending, what was not delivered."""

from __future__ import annotations

from typing import Any

from monitorkit.display import formatting as fmt
from monitorkit.display import renders
from monitorkit.display.html import escape, rich_text, scrollable, severity_pill


def _band(alert: Any) -> str:
    lower, upper = alert.lower, alert.upper
    if lower is not None and upper is not None:
        return f"{fmt.number(lower)} – {fmt.number(upper)}"
    if upper is not None:
        return f"≤ {fmt.number(upper)}"
    if lower is not None:
        return f"≥ {fmt.number(lower)}"
    return "–"


def _value(value: Any) -> str:
    return "–" if value is None else fmt.number(value)


_HEADER = (
    "<tr><th>severity</th><th>rule</th><th>figure</th><th class='mk-num'>now</th>"
    "<th class='mk-num'>baseline</th><th>band / threshold</th><th>why</th><th>since</th></tr>"
)


def _row(alert: Any) -> str:
    pill = (
        severity_pill(str(alert.severity))
        if alert.status == "firing"
        else f"<span>{escape(alert.status)}</span>"
    )
    return (
        f"<tr><td>{pill}</td><td><strong>{escape(alert.rule)}</strong><br>"
        f"<small>{escape(alert.rule_text)}</small></td><td><code>{escape(alert.subject)}</code></td>"
        f"<td class='mk-num'>{_value(alert.value)}</td>"
        f"<td class='mk-num'>{_value(alert.baseline)}</td><td>{escape(_band(alert))}</td>"
        f"<td>{rich_text(alert.reason)}</td><td>{escape(alert.since or '')}</td></tr>"
    )


@renders("alerts")
def alerts_section(report: Any, *, plots: bool = True) -> str:
    """Firing alerts (severity, rule, figure, now, baseline, band, why, since), notifications
    not delivered, then pending / quiet / skipped rules folded away."""
    result = report.result
    parts = []
    if result.error:
        parts.append(
            "<p><strong>The alert rules could not be evaluated:</strong> "
            f"{rich_text(result.error)}</p>"
        )
    firing = report.firing
    facts = (
        f"<span><strong>{result.rules}</strong> rule(s)</span> | "
        f"<span><strong>{len(firing)}</strong> firing</span> | "
        f"<span>history of <strong>{result.history_runs}</strong> earlier run(s)</span>"
    )
    if result.deliveries:
        sent = sum(d.delivered for d in result.deliveries)
        facts += f" | <span><strong>{sent}</strong> notification(s) delivered</span>"
    parts.append(f'<p class="mk-facts">{facts}</p>')
    if firing:
        rows = "".join(_row(a) for a in firing)
        parts.append(scrollable(f'<table class="mk-table">{_HEADER}{rows}</table>'))
    elif not result.error:
        parts.append("<p>No alert fires.</p>")
    failed = report.failed_deliveries
    if failed:
        lines = "".join(
            f"<tr><td>{escape(d.channel)}</td><td>{escape(d.action)}</td>"
            f"<td>{escape(d.rule)}</td><td class='mk-num'>{d.attempts}</td>"
            f"<td>{escape(d.error or '')}</td></tr>"
            for d in failed
        )
        parts.append(
            f"<h3>Not delivered ({len(failed)}; kept in the outbox for the next run)</h3>"
            + scrollable(
                '<table class="mk-table"><tr><th>channel</th><th>notification</th><th>rule</th>'
                f"<th class='mk-num'>attempts</th><th>error</th></tr>{lines}</table>"
            )
        )
    others = [a for a in report.alerts if not a.firing]
    if others:
        rows = "".join(_row(a) for a in others)
        table = scrollable(f'<table class="mk-table">{_HEADER}{rows}</table>')
        parts.append(
            f"<details><summary>{len(others)} rule(s) and figure(s) not firing (pending, quiet, "
            f"not judged)</summary>{table}</details>"
        )
    return "".join(parts)
