"""The static view of the data overview: inputs, one-sided columns, kinds and roles."""

from __future__ import annotations

from typing import Any

from monitorkit.display import formatting as fmt
from monitorkit.display import renders
from monitorkit.display.html import escape


@renders("data_overview")
def overview_section(overview: Any, *, plots: bool = True) -> str:
    """The inputs (size, missing cells, time span) and every column's kind and role."""
    input_rows = "".join(
        f"<tr><td>{escape(s.name)}</td><td class='mk-num'>{s.rows:,}</td>"
        f"<td class='mk-num'>{s.columns:,}</td><td class='mk-num'>{fmt.percent(s.missing_share)}"
        f"</td><td>{_short_time(s.start)}</td><td>{_short_time(s.end)}</td>"
        f"<td class='mk-num'>{fmt.number(s.span_days, 3)}</td></tr>"
        for s in overview.inputs
    )
    parts = [
        '<table class="mk-table"><tr><th>input</th><th>rows</th><th>columns</th>'
        "<th>missing cells</th><th>from</th><th>to</th><th>days</th></tr>"
        f"{input_rows}</table>"
    ]
    for side, names in (
        ("reference", overview.only_in_reference),
        ("current", overview.only_in_current),
    ):
        if names:
            shown = ", ".join(f"<code>{escape(n)}</code>" for n in names)
            parts.append(f"<p><strong>Only in {side}:</strong> {shown}</p>")
    column_rows = "".join(
        f"<tr><td><code>{escape(c.name)}</code></td><td>{escape(c.kind)}</td>"
        f"<td>{escape(c.role)}</td><td>{escape(c.source)}</td>"
        f'<td class="mk-muted">{escape(c.reason)}</td></tr>'
        for c in overview.spec.columns
    )
    parts.append(
        "<h3>Columns</h3>"
        '<table class="mk-table"><tr><th>column</th><th>kind</th><th>role</th><th>source</th>'
        f"<th>reason</th></tr>{column_rows}</table>"
    )
    return "".join(parts)


def _short_time(value: str | None) -> str:
    if value is None:
        return "–"
    return escape(value[:16].replace("T", " "))
