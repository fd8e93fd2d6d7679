"""The static HTML view of reports: status first, then the ranked table, then details.

Self-contained: inline CSS, plots as inline PNG (base64), tiny tables as inline SVG, no
JavaScript, nothing loaded from the network. Every string that comes from the data (column
names, categories, window labels, messages that quote them) goes through :func:`escape`.
"""

from __future__ import annotations

import base64
import html
import re
from typing import Any

from monitorkit.display import formatting as fmt
from monitorkit.display.svg import distribution_sparkline
from monitorkit.display.theme import (
    CSS,
    CURRENT_COLOR,
    REFERENCE_COLOR,
    SEVERITY_BACKGROUNDS,
    SEVERITY_COLORS,
    SEVERITY_LABELS,
)

VISIBLE_ROWS = 30  # rows of the column table shown before "show N more"
MAX_DETAIL_PLOTS = 12  # distribution plots embedded for the most-drifted columns
MAX_HEATMAP_COLUMNS = 12

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:"


def escape(value: Any) -> str:
    """Text for HTML: ``<``, ``>``, ``&`` and quotes escaped."""
    return html.escape(str(value), quote=True)


def _rich_text(text: str) -> str:
    """Escape, then show `backticked` names as code."""
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", escape(text))


def severity_pill(severity: str) -> str:
    colour = SEVERITY_COLORS[severity]
    return (
        f'<span class="mk-pill" style="color:{colour};border-color:{colour};'
        f'background:{SEVERITY_BACKGROUNDS[severity]}">{SEVERITY_LABELS[severity]}</span>'
    )


def banner(severity: str, title: str, verdict: str) -> str:
    colour = SEVERITY_COLORS[severity]
    return (
        f'<div class="mk-banner" style="border-color:{colour};'
        f'background:{SEVERITY_BACKGROUNDS[severity]}">'
        f'<span class="mk-label" style="color:{colour}">{SEVERITY_LABELS[severity]}</span>'
        f'<span class="mk-verdict"><strong>{escape(title)}:</strong> {_rich_text(verdict)}'
        "</span></div>"
    )


def png_image(png: bytes, alt: str, width: int | None = None) -> str:
    data = base64.b64encode(png).decode("ascii")
    size = f' width="{width}"' if width else ""
    return f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}"{size}>'


def fragment(body: str) -> str:
    """A block for a notebook output: the scoped CSS and the body."""
    return f'<div class="mk-report"><style>{CSS}</style>{body}</div>'


def page(title: str, body: str) -> str:
    """A whole standalone page (``save_html``): no script, nothing loaded from outside."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head>"
        f'<body style="margin:24px auto;max-width:1120px;padding:0 16px">{fragment(body)}'
        "</body></html>\n"
    )


def legend() -> str:
    return (
        '<div class="mk-legend">'
        f'<span class="mk-swatch" style="background:{REFERENCE_COLOR}"></span>reference'
        f'<span class="mk-swatch" style="background:{CURRENT_COLOR}"></span>current</div>'
    )


# --------------------------------------------------------------------------------------------
# Drift
# --------------------------------------------------------------------------------------------


def drift_body(report: Any, *, plots: bool = True) -> str:
    """The static view of a :class:`~monitorkit.DriftReport` (without page chrome)."""
    result = report.result
    parts = [banner(report.severity, "Drift", report.verdict), _drift_facts(report)]
    parts.append("<h3>Columns, most moved first</h3>")
    parts.append(legend())
    parts.append(drift_table(report))
    skipped = report.skipped_columns
    if skipped:
        items = "".join(
            f"<li><code>{escape(name)}</code>: {escape(why)}</li>" for name, why in skipped.items()
        )
        parts.append(
            f"<details><summary>{len(skipped)} column(s) not tested, and why</summary>"
            f"<ul>{items}</ul></details>"
        )
    if result.windows:
        parts.append("<h3>Since when?</h3>")
        parts.append(_over_time(report, plots=plots))
    extras = _multivariate(report)
    if extras:
        parts.append("<h3>The features together</h3>" + extras)
    if plots:
        parts.append(_detail_plots(report))
    parts.append(
        f'<p class="mk-muted">Rule: {escape(result.rule.describe())}. Effect size: the share of '
        "rows that moved (Kolmogorov–Smirnov distance for numeric columns, total variation for "
        "categorical ones).</p>"
    )
    return "".join(parts)


def _drift_facts(report: Any) -> str:
    result = report.result
    facts = [
        f"reference <strong>{result.reference_rows:,}</strong> rows",
        f"current <strong>{result.current_rows:,}</strong> rows",
        f"<strong>{sum(not c.skipped for c in result.columns)}</strong> columns tested",
        f"<strong>{fmt.percent(report.share_drifted, 0)}</strong> of features drifted",
    ]
    if result.windows:
        facts.append(f"{len(result.windows)} windows ({escape(result.by)})")
    return '<p class="mk-facts">' + "".join(f"<span>{f}</span>" for f in facts) + "</p>"


def drift_table(report: Any) -> str:
    tested = [c for c in report.columns if not c.skipped]
    header = (
        "<tr><th>column</th><th>kind</th><th>method</th><th>statistic</th><th>threshold</th>"
        "<th>p-value</th><th>effect</th><th>missing</th><th>distribution</th><th>severity</th>"
        "</tr>"
    )
    rows = [_drift_row(c) for c in tested]
    visible, hidden = rows[:VISIBLE_ROWS], rows[VISIBLE_ROWS:]
    table = scrollable(f'<table class="mk-table">{header}{"".join(visible)}</table>')
    if hidden:
        table += (
            f"<details><summary>Show {len(hidden)} more columns</summary>"
            + scrollable(f'<table class="mk-table">{header}{"".join(hidden)}</table>')
            + "</details>"
        )
    return table


def scrollable(table: str) -> str:
    """A wide table scrolls sideways instead of being cut off in narrow notebooks."""
    return f'<div class="mk-scroll">{table}</div>'


def _drift_row(c: Any) -> str:
    role = f'<span class="mk-role">{escape(c.role)}</span>' if c.role != "feature" else ""
    missing = fmt.signed_points(c.missing_rate_change)
    if c.missing_drifted:
        missing = f"<strong>{missing}</strong>"
    sparkline = ""
    if c.distribution is not None:
        sparkline = distribution_sparkline(
            c.distribution.reference, c.distribution.current, categorical=c.kind != "numeric"
        )
    notes = []
    if c.unseen_categories:
        notes.append(f"{c.unseen_categories} new")
    if c.current_invalid:
        notes.append(f"{c.current_invalid:,} invalid")
    note = f' <span class="mk-muted">({", ".join(notes)})</span>' if notes else ""
    threshold = fmt.p_value(c.threshold) if c.decision == "rule" else fmt.number(c.threshold)
    return (
        f'<tr class="{"mk-drifted" if c.drifted else ""}">'
        f"<td><code>{escape(c.column)}</code>{role}{note}</td>"
        f"<td>{escape(c.kind)}</td><td>{escape(c.method)}</td>"
        f'<td class="mk-num">{fmt.number(c.statistic)}</td>'
        f'<td class="mk-num">{threshold}</td>'
        f'<td class="mk-num">{fmt.p_value(c.p_value)}</td>'
        f'<td class="mk-num">{fmt.number(c.effect_size, 2)}</td>'
        f'<td class="mk-num">{missing}</td>'
        f"<td>{sparkline}</td><td>{severity_pill(c.severity)}</td></tr>"
    )


def _over_time(report: Any, *, plots: bool) -> str:
    result = report.result
    columns = report.drifted_columns[:MAX_HEATMAP_COLUMNS]
    if not columns:
        columns = list(result.windows[0].columns[:MAX_HEATMAP_COLUMNS])
    header = "<tr><th>window</th><th>rows</th>" + "".join(
        f"<th><code>{escape(c)}</code></th>" for c in columns
    )
    if result.multivariate is not None and result.multivariate.skipped is None:
        header += "<th>all features</th>"
    header += "</tr>"
    rows = []
    for w in result.windows:
        cells = []
        for column in columns:
            if column not in w.columns:
                cells.append("<td></td>")
                continue
            i = w.columns.index(column)
            style = (
                f' style="background:{SEVERITY_BACKGROUNDS["critical"]};font-weight:600"'
                if w.drifted[i]
                else ""
            )
            cells.append(f'<td class="mk-cell"{style}>{fmt.number(w.effect_size[i], 2)}</td>')
        if result.multivariate is not None and result.multivariate.skipped is None:
            style = (
                f' style="background:{SEVERITY_BACKGROUNDS["critical"]};font-weight:600"'
                if w.multivariate_drifted
                else ""
            )
            cells.append(f'<td class="mk-cell"{style}>{fmt.number(w.multivariate_error)}</td>')
        rows.append(
            f"<tr><td>{escape(w.window)}</td><td class='mk-num'>{w.rows:,}</td>"
            + "".join(cells)
            + "</tr>"
        )
    text = (
        '<p class="mk-muted">Effect size of each window against the whole reference; '
        "highlighted: flagged as drifted. The last column is the PCA reconstruction error of "
        "all features together.</p>"
    )
    table = scrollable(f'<table class="mk-table mk-heat">{header}{"".join(rows)}</table>')
    picture = ""
    if plots:
        from monitorkit.display.plots import figure_to_png, plot_over_time

        picture = png_image(figure_to_png(plot_over_time(report)), "drift over time")
    return text + picture + table


def _multivariate(report: Any) -> str:
    result = report.result
    parts = []
    m = result.multivariate
    if m is not None:
        if m.skipped:
            parts.append(
                f'<p class="mk-muted">Multivariate check skipped: {escape(m.skipped)}.</p>'
            )
        else:
            parts.append(
                f"<p>{severity_pill(m.severity)} PCA reconstruction error of current "
                f"<strong>{fmt.number(m.current_error)}</strong>; expected "
                f"{fmt.number(m.lower)} to {fmt.number(m.upper)} from the reference "
                f"({m.n_components} component{'s' if m.n_components != 1 else ''} keep"
                f"{'s' if m.n_components == 1 else ''} {fmt.percent(m.variance_kept, 0)} of the "
                f"variance of {len(m.columns)} numeric features). A higher error means the "
                "features no longer relate to each other as they did.</p>"
            )
    d = result.domain_classifier
    if d is not None:
        top = ", ".join(
            f"<code>{escape(c)}</code> ({fmt.number(v, 2)})"
            for c, v in list(zip(d.columns, d.importance))[:5]
        )
        parts.append(
            f"<p>{severity_pill(d.severity)} A classifier tells reference from current rows "
            f"with ROC AUC <strong>{fmt.number(d.auc)}</strong> "
            f"(± {fmt.number(1.96 * d.auc_se, 2)}; 0.5 = indistinguishable). "
            f"It relies most on: {top}.</p>"
        )
    return "".join(parts)


def _detail_plots(report: Any) -> str:
    from monitorkit.display.plots import figure_to_png, plot_column

    drifted = [c for c in report.columns if c.drifted and c.distribution is not None]
    if not drifted:
        return ""
    figures = []
    for c in drifted[:MAX_DETAIL_PLOTS]:
        image = png_image(
            figure_to_png(plot_column(report, c.column)), f"distribution of {c.column}"
        )
        figures.append(f"<figure>{image}</figure>")
    more = len(drifted) - MAX_DETAIL_PLOTS
    note = (
        f'<p class="mk-muted">{more} more drifted columns: see the table.</p>' if more > 0 else ""
    )
    return (
        "<h3>What moved</h3>"
        '<p class="mk-muted">Reference (blue) and current (orange) distributions of the drifted '
        "columns.</p>"
        f'<div class="mk-plots">{"".join(figures)}</div>{note}'
    )


# --------------------------------------------------------------------------------------------
# Data overview
# --------------------------------------------------------------------------------------------


def overview_body(overview: Any) -> str:
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
