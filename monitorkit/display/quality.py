"""The static view of a data-quality report: the broken columns first, with examples."""

from __future__ import annotations

import math
from typing import Any

from monitorkit.display import formatting as fmt
from monitorkit.display import renders
from monitorkit.display.html import escape, rich_text, scrollable, severity_pill


def _examples(values: Any) -> str:
    return " ".join(f"<code>{escape(v)}</code>" for v in values)


def _share(rate: float) -> str:
    return "–" if rate is None or not math.isfinite(rate) else fmt.percent(rate)


@renders("quality")
def quality_section(report: Any, *, plots: bool = True) -> str:
    """Facts, the problems (severity, column, check, share, rows, message, examples, since),
    the notes below the thresholds, and with ``by=`` the windows with problems."""
    result = report.result
    against = "the reference rows" if result.reference_has_rows else "the baseline's profiles"
    parts = [
        '<p class="mk-facts">'
        f"<span>current <strong>{result.current_rows:,}</strong> rows</span> | "
        f"<span><strong>{len(result.columns)}</strong> columns checked against {against}</span>"
        f" | <span><strong>{len(report.problems)}</strong> problems</span></p>"
    ]
    header = (
        "<tr><th>severity</th><th>column</th><th>check</th><th class='mk-num'>share</th>"
        "<th class='mk-num'>rows</th><th>what</th><th>examples</th><th>since</th></tr>"
    )

    def row(f: Any) -> str:
        column = f"<code>{escape(f.column)}</code>" if f.column else "(table)"
        return (
            f"<tr><td>{severity_pill(f.severity)}</td><td>{column}</td>"
            f"<td>{escape(f.check)}</td><td class='mk-num'>{_share(f.rate)}</td>"
            f"<td class='mk-num'>{f.count:,}</td><td>{rich_text(f.message)}</td>"
            f"<td>{_examples(f.examples)}</td><td>{escape(f.since or '')}</td></tr>"
        )

    problems = report.problems
    if problems:
        parts.append("<h3>Problems, worst first</h3>")
        rows = "".join(row(f) for f in problems)
        parts.append(scrollable(f'<table class="mk-table">{header}{rows}</table>'))
    else:
        parts.append("<p>No problem reached the thresholds.</p>")
    notes = [f for f in result.findings if f not in problems]
    if notes:
        table = scrollable(
            f'<table class="mk-table">{header}{"".join(row(f) for f in notes)}</table>'
        )
        parts.append(
            f"<details><summary>{len(notes)} finding(s) below the thresholds, and notes"
            f"</summary>{table}</details>"
        )
    windows = [w for w in result.windows if w.findings or w.skipped]
    if result.windows:
        parts.append("<h3>Since when?</h3>")
        if not any(w.findings for w in result.windows):
            parts.append(f"<p>No window of current ({escape(result.by)}) had a problem.</p>")
        lines = "".join(
            f"<tr><td>{escape(w.window)}</td><td class='mk-num'>{w.rows:,}</td><td>"
            + (
                escape(w.skipped)
                if w.skipped
                else ", ".join(
                    f"{severity_pill(f.severity)} "
                    + (f"<code>{escape(f.column)}</code> " if f.column else "")
                    + escape(f.check)
                    for f in w.findings
                )
            )
            + "</td></tr>"
            for w in windows
        )
        if lines:
            parts.append(
                scrollable(
                    '<table class="mk-table"><tr><th>window</th><th class="mk-num">rows</th>'
                    f"<th>problems</th></tr>{lines}</table>"
                )
            )
    t = result.thresholds
    parts.append(
        f'<p class="mk-muted">A problem warns from {fmt.percent(t.warning, 0)} of the rows and '
        f"is critical from {fmt.percent(t.critical, 0)} (never from fewer than {t.min_count} "
        "rows); a schema break is critical whatever its size.</p>"
    )
    return "".join(parts)
