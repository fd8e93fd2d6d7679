"""Alerting as part of ``monitorkit run … --alerts FILE``, and ``monitorkit alerts test``.

After the notebook has executed, :func:`after_run` evaluates the rules on the figures the run
published and the model's history, decides and sends the notifications (under the alert lock),
puts the alerts at the top of the report notebook, and returns what ``summary.json`` records
under ``"alerts"``. A delivery failure never fails the run: it is recorded, shown, and the
notification waits in the outbox for the next run. :func:`exit_code` is the run's exit code
with alerts: the highest severity of the firing alerts (0 / 3 / 4), 1 when the run failed,
2 when a rule names a figure no run published.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from monitorkit import store
from monitorkit.alerts.channels import channel_for, deliver
from monitorkit.alerts.evaluate import Point, evaluate
from monitorkit.alerts.notify import enqueue, flush, locked, plan, read_state, write_state
from monitorkit.alerts.results import AlertReport, AlertsResult
from monitorkit.alerts.rules import AlertConfig, AlertConfigError, load_config

logger = logging.getLogger(__name__)

ALERTS_CELL_TAG = "monitorkit-alerts"
EXIT_CODES = {"ok": 0, "warning": 3, "critical": 4}
EXIT_BAD_RULES = 2


def report_url(config: AlertConfig, model: str, run_id: str) -> str | None:
    if not config.report_url:
        return None
    return config.report_url.format(model=model, run_id=run_id)


def after_run(
    config: AlertConfig,
    published: Mapping[str, Any] | None,
    *,
    folder: Path,
    model: str,
    started: dt.datetime,
    notebook: Any = None,
    environ: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> dict[str, Any]:
    """Evaluate, notify, show; returns the ``"alerts"`` entry of ``summary.json``.

    ``published`` is what the run's notebook published (None when it failed or published
    nothing: then only the outbox of earlier runs is retried).
    """
    model_dir = folder.parent
    run_id = folder.name
    report = None
    error = None
    with locked(model_dir) as alerts_folder:
        new: list = []
        if published is not None:
            history = store.read_index(model_dir)
            current = Point(started, dict(published.get("figures") or {}), run_id)
            try:
                report = evaluate(
                    current, config, history=history, model=model, now=started, run_id=run_id
                )
            except AlertConfigError as exc:
                error = str(exc)
                logger.error("alert rules could not be evaluated: %s", error)
            if report is not None:
                state = read_state(alerts_folder)
                new = plan(
                    report,
                    config,
                    state,
                    now=started,
                    report_path=str(folder / store.HTML_NAME),
                    report_url=report_url(config, model, run_id),
                )
                # Queued before the state that records them as sent is saved: a crash in
                # between sends them again rather than never.
                enqueue(alerts_folder, new, started)
                write_state(alerts_folder, state)
        deliveries, left = flush(alerts_folder, config, environ=environ, sleep=sleep)
    for delivery in deliveries:
        if not delivery.delivered:
            logger.warning(
                "alert '%s' (%s) not delivered to %s: %s; kept in the outbox for the next run",
                delivery.rule,
                delivery.action,
                delivery.channel,
                delivery.error,
            )
    if report is None:
        report = AlertReport.from_result(
            AlertsResult(
                model=model,
                evaluated_at=started.isoformat(),
                run_id=run_id,
                rules=len(config.rules),
                history_runs=0,
                alerts=(),
                error=error or ("the run published no figures" if published is None else None),
            )
        )
    report = AlertReport.from_result(
        dataclasses.replace(report.result, deliveries=tuple(deliveries), outbox=left)
    )
    if notebook is not None:
        insert_alerts_cell(notebook, report)
    return summary_entry(report, config)


def summary_entry(report: AlertReport, config: AlertConfig) -> dict[str, Any]:
    """What ``summary.json`` records under ``"alerts"``."""

    def alert(a: Any) -> dict[str, Any]:
        keys = ("rule", "subject", "status", "value", "baseline", "lower", "upper", "score")
        return {
            **{k: getattr(a, k) for k in keys},
            "severity": str(a.severity),
            "reason": a.reason,
            "since": a.since,
            "fingerprint": a.fingerprint,
            "channels": list(a.channels),
        }

    result = report.result
    return {
        "rules_file": config.source,
        "severity": str(report.severity),
        "verdict": report.verdict,
        "figures": report.figures,
        "error": result.error,
        "firing": [alert(a) for a in report.firing],
        "pending": [alert(a) for a in report.alerts if a.status == "pending"],
        "notifications": [
            {
                "channel": d.channel,
                "action": d.action,
                "rule": d.rule,
                "subject": d.subject,
                "severity": str(d.severity),
                "delivered": d.delivered,
                "attempts": d.attempts,
                "error": d.error,
            }
            for d in result.deliveries
        ],
        "delivery_failures": len(report.failed_deliveries),
        "outbox": result.outbox,
    }


def exit_code(outcome_code: int, failed: bool, alerts: Mapping[str, Any] | None) -> int:
    """The exit code of a run with ``--alerts``: a failed run stays 1; rules that could not be
    evaluated give 2; otherwise the highest severity of the firing alerts decides."""
    if failed or alerts is None:
        return outcome_code
    if alerts.get("error"):
        return EXIT_BAD_RULES
    return EXIT_CODES[alerts.get("severity") or "ok"]


def insert_alerts_cell(notebook: Any, report: AlertReport) -> None:
    """Put the alerts section at the top of the executed notebook (after its title)."""
    import nbformat

    from monitorkit.display import report_html

    cell = nbformat.v4.new_code_cell(
        "# Alerts: evaluated by `monitorkit run --alerts` after this notebook ran "
        '(summary.json has them under "alerts").',
        metadata={"tags": [ALERTS_CELL_TAG]},
    )
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                "text/html": report_html(report, section=True),
                "text/plain": str(report),
            },
        )
    ]
    cells = notebook.cells
    index = 1 if cells and cells[0].get("cell_type") == "markdown" else 0
    cells.insert(index, cell)


# --------------------------------------------------------------------------------------------
# monitorkit alerts test
# --------------------------------------------------------------------------------------------


def send_test(
    config: AlertConfig | str,
    *,
    model: str = "monitorkit-test",
    channels: list[str] | None = None,
    environ: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> list[tuple[str, str, Any]]:
    """Send a test message to each channel (or those named); ``(name, type, Attempted)``."""
    config = load_config(config)
    wanted = config.channels
    if channels:
        unknown = [n for n in channels if config.channel(n) is None]
        if unknown:
            raise AlertConfigError(
                f"no channel {', '.join(repr(n) for n in unknown)} in {config.source}; "
                f"channels: {', '.join(c.name for c in config.channels) or 'none'}."
            )
        wanted = tuple(c for c in config.channels if c.name in channels)
    now = dt.datetime.now(dt.timezone.utc)
    results = []
    for channel in wanted:
        note = {
            "action": "test",
            "fingerprint": f"test-{channel.name}",
            "model": model,
            "rule": "test message",
            "rule_text": "monitorkit alerts test",
            "subject": "test",
            "comparison": "test",
            "severity": "info",
            "value": None,
            "baseline": None,
            "lower": None,
            "upper": None,
            "reason": "a test message from `monitorkit alerts test`",
            "since": None,
            "run_id": None,
            "time": now.isoformat(),
            "starts_at": None,
            "report": None,
            "report_url": None,
        }
        kwargs = {"sleep": sleep} if sleep is not None else {}
        results.append(
            (channel.name, channel.type, deliver(channel_for(channel, environ), note, **kwargs))
        )
    return results
