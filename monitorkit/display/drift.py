"""The static view of a drift report: facts, ranked table, windows, the features together."""

from __future__ import annotations

from typing import Any

from monitorkit.display import formatting as fmt
from monitorkit.display import renders
from monitorkit.display.html import (
    escape,
    facts,
    figure_row,
    is_portable,
    legend,
    png_image,
    scrollable,
    severity_pill,
)
from monitorkit.display.svg import distribution_sparkline, distribution_text_bars
from monitorkit.display.theme import SEVERITY_BACKGROUNDS

VISIBLE_ROWS = 30  # rows of the column table shown before "show N more"
MAX_DETAIL_PLOTS = 12  # distribution plots embedded for the most-drifted columns
MAX_HEATMAP_COLUMNS = 12
_FLAG = " ●"  # a flagged window cell: its highlight is a style, which a sanitizer may drop


def _explorer(report: Any):
    from monitorkit.display.widgets import DriftExplorer

    return DriftExplorer(report).widget


@renders("drift", widget=lambda report: _explorer(report))
def drift_section(report: Any, *, plots: bool = True) -> str:
    """The body of a :class:`~monitorkit.DriftReport`'s section (the verdict is shown above it)."""
    result = report.result
    parts = [_drift_facts(report)]
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
        "rows that moved (Kolmogorov–Smirnov distance for numeric columns, total variation beyond "
        "what sampling alone gives for categorical ones).</p>"
    )
    return "".join(parts)


def _drift_facts(report: Any) -> str:
    result = report.result
    items = [
        f"reference <strong>{result.reference_rows:,}</strong> rows",
        f"current <strong>{result.current_rows:,}</strong> rows",
        f"<strong>{sum(not c.skipped for c in result.columns)}</strong> columns tested",
        f"<strong>{fmt.percent(report.share_drifted, 0)}</strong> of features drifted",
    ]
    if result.windows:
        items.append(f"{len(result.windows)} windows ({escape(result.by)})")
    if result.untimed_rows:
        items.append(f"{result.untimed_rows:,} rows without a timestamp, in no window")
    return facts(items)


def drift_table(report: Any) -> str:
    tested = [c for c in report.columns if not c.skipped]
    header = (
        "<tr><th>column</th><th>kind</th><th>method</th>"
        '<th class="mk-num">statistic</th><th class="mk-num">threshold</th>'
        '<th class="mk-num">p-value</th><th class="mk-num">effect</th>'
        '<th class="mk-num">missing</th><th>distribution</th><th>severity</th>'
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


def _drift_row(c: Any) -> str:
    role = f' <span class="mk-role">{escape(c.role)}</span>' if c.role != "feature" else ""
    missing = fmt.signed_points(c.missing_rate_change)
    if c.missing_drifted:
        missing = f"<strong>{missing}</strong>"
    sparkline = ""
    if c.distribution is not None:
        # A sanitizer drops <svg> (and the strictest ones <img>): text bars in notebooks.
        draw = distribution_text_bars if is_portable() else distribution_sparkline
        sparkline = draw(
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
            mark = _FLAG if w.drifted[i] else ""
            cells.append(f'<td class="mk-cell"{style}>{fmt.number(w.effect_size[i], 2)}{mark}</td>')
        if result.multivariate is not None and result.multivariate.skipped is None:
            style = (
                f' style="background:{SEVERITY_BACKGROUNDS["critical"]};font-weight:600"'
                if w.multivariate_drifted
                else ""
            )
            mark = _FLAG if w.multivariate_drifted else ""
            cells.append(
                f'<td class="mk-cell"{style}>{fmt.number(w.multivariate_error)}{mark}</td>'
            )
        rows.append(
            f"<tr><td>{escape(w.window)}</td><td class='mk-num'>{w.rows:,}</td>"
            + "".join(cells)
            + "</tr>"
        )
    text = (
        '<p class="mk-muted">Effect size of each window against the whole reference; '
        "highlighted and marked ●: flagged as drifted. The last column is the PCA "
        "reconstruction error of all features together.</p>"
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
    figures = [
        png_image(figure_to_png(plot_column(report, c.column)), f"distribution of {c.column}")
        for c in drifted[:MAX_DETAIL_PLOTS]
    ]
    more = len(drifted) - MAX_DETAIL_PLOTS
    note = (
        f'<p class="mk-muted">{more} more drifted columns: see the table.</p>' if more > 0 else ""
    )
    return (
        "<h3>What moved</h3>"
        '<p class="mk-muted">Reference (blue) and current (orange) distributions of the drifted '
        "columns.</p>"
        f"{figure_row(figures)}{note}"
    )
