"""The static view of a performance report: status, the worst metrics, windows, a plot."""

from __future__ import annotations

import math
from typing import Any

from monitorkit.display import formatting as fmt
from monitorkit.display import renders
from monitorkit.display.html import escape, png_image, scrollable, severity_pill

_OVERALL = "all"
_MAIN_COLUMNS = 6  # metrics shown in the per-window table


def _change(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if math.isinf(value):
        return "+∞" if value > 0 else "−∞"
    return f"{100 * value:+.1f}%"


def _interval(lower: float, upper: float) -> str:
    if not (math.isfinite(lower) and math.isfinite(upper)):
        return "–"
    return f"{fmt.number(lower)} – {fmt.number(upper)}"


def _metric_rows(values: list[Any]) -> str:
    header = (
        "<tr><th>severity</th><th>window</th><th>segment</th><th>metric</th>"
        "<th class='mk-num'>value</th><th class='mk-num'>baseline</th>"
        "<th class='mk-num'>change</th><th class='mk-num'>n</th><th>interval</th>"
        "<th>note</th></tr>"
    )
    rows = "".join(
        f"<tr><td>{severity_pill(str(v.severity))}</td><td>{escape(v.window)}</td>"
        f"<td>{escape(v.segment)}</td><td><code>{escape(v.metric)}</code></td>"
        f"<td class='mk-num'>{fmt.number(v.value)}</td>"
        f"<td class='mk-num'>{fmt.number(v.baseline)}</td>"
        f"<td class='mk-num'>{_change(v.change)}</td><td class='mk-num'>{v.n:,}</td>"
        f"<td>{_interval(v.lower, v.upper)}</td><td>{escape(v.skipped or '')}</td></tr>"
        for v in values
    )
    return scrollable(f'<table class="mk-table">{header}{rows}</table>')


def _windows_table(report: Any, names: list[str]) -> str:
    result = report.result
    by_cell = {(v.window, v.metric): v for v in result.values if v.segment == _OVERALL}
    header = (
        "<tr><th>window</th><th class='mk-num'>rows</th><th class='mk-num'>labelled</th>"
        + "".join(f"<th class='mk-num'>{escape(n)}</th>" for n in names)
        + "</tr>"
    )
    lines = []
    for window in result.windows[1:]:
        cells = []
        for name in names:
            value = by_cell.get((window.window, name))
            if value is None:
                cells.append("<td class='mk-num'>–</td>")
                continue
            mark = "" if value.severity == "ok" else " " + severity_pill(str(value.severity))
            style = " class='mk-num mk-muted'" if value.skipped else " class='mk-num'"
            cells.append(f"<td{style}>{fmt.number(value.value)}{mark}</td>")
        lines.append(
            f"<tr><td>{escape(window.window)}</td><td class='mk-num'>{window.rows:,}</td>"
            f"<td class='mk-num'>{fmt.percent(window.label_coverage, 0)}</td>{''.join(cells)}</tr>"
        )
    return scrollable(f'<table class="mk-table">{header}{"".join(lines)}</table>')


def plot_metric_over_time(report: Any, metric: str, segment: str = _OVERALL, ax: Any = None):
    """``metric`` per window of ``by`` with its baseline and the warning / critical lines
    (the tolerances in the bad direction); filled markers are windows judged, hollow ones
    were too small. Returns the matplotlib Figure."""
    from monitorkit.display.plots import _new_axes, _short_window, _style
    from monitorkit.display.theme import CURRENT_COLOR, NEUTRAL_COLOR, SEVERITY_COLORS

    result = report.result
    info = next((m for m in result.metrics if m.name == metric), None)
    values = [v for v in result.values if v.metric == metric and v.segment == segment]
    by_window = {v.window: v for v in values}
    windows = [w.window for w in result.windows[1:]]
    import numpy as np

    positions = np.arange(len(windows))
    series = np.array(
        [by_window[w].value if w in by_window else np.nan for w in windows], dtype=float
    )
    judged = np.array([w in by_window and by_window[w].skipped is None for w in windows])
    baseline = by_window[_OVERALL].baseline if _OVERALL in by_window else math.nan
    with _style():
        figure, ax = _new_axes(ax, (7.0, 3.0))
        ax.plot(positions, series, color=CURRENT_COLOR, linewidth=1.6, label=metric)
        ax.scatter(positions[judged], series[judged], color=CURRENT_COLOR, s=22, zorder=3)
        ax.scatter(
            positions[~judged],
            series[~judged],
            facecolor="white",
            edgecolor=CURRENT_COLOR,
            s=18,
            zorder=3,
        )
        if math.isfinite(baseline) and info is not None:
            ax.axhline(baseline, color=NEUTRAL_COLOR, linewidth=1.2, label="baseline")
            sign = -1 if info.higher_is_better else 1
            if info.higher_is_better is not None:
                for level, colour in (
                    (info.tolerance.warning, SEVERITY_COLORS["warning"]),
                    (info.tolerance.critical, SEVERITY_COLORS["critical"]),
                ):
                    ax.axhline(
                        baseline * (1 + sign * level),
                        color=colour,
                        linestyle="--",
                        linewidth=1,
                        label=f"{level:.0%} {'below' if sign < 0 else 'above'}",
                    )
        step = max(1, len(windows) // 8)
        ax.set_xticks(
            positions[::step],
            [_short_window(label) for label in windows[::step]],
            rotation=30,
            ha="right",
        )
        ax.set_ylabel(metric)
        ax.set_xlabel("window")
        where = "" if segment == _OVERALL else f" ({segment})"
        ax.set_title(f"{metric}{where} per window (hollow: too few rows)", loc="left")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return figure


@renders("performance")
def performance_section(report: Any, *, plots: bool = True) -> str:
    """Status, the metrics of the worst cells, the whole-of-current table, per-window main
    metrics and, with ``by=``, a plot of the worst metric over time."""
    result = report.result
    overall = result.windows[0] if result.windows else None
    facts = [f"task <strong>{escape(result.task or 'unknown')}</strong>"]
    if overall is not None:
        facts.append(f"current <strong>{overall.rows:,}</strong> rows")
        facts.append(
            f"<strong>{overall.labelled:,}</strong> labelled "
            f"({fmt.percent(overall.label_coverage, 0)})"
        )
        if overall.dropped:
            facts.append(f"{overall.dropped:,} dropped (no usable prediction)")
    if result.by is not None:
        facts.append(f"{len(result.windows) - 1} windows ({escape(result.by)})")
    if result.segments:
        facts.append("segments: " + ", ".join(f"<code>{escape(c)}</code>" for c in result.segments))
    baseline = result.baseline_model or ("given" if result.has_baseline else "none")
    facts.append(f"baseline {escape(baseline)}")
    parts = [
        f'<p class="mk-facts">{severity_pill(str(report.severity))} '
        + " | ".join(f"<span>{f}</span>" for f in facts)
        + "</p>"
    ]
    if result.note:
        parts.append(f"<p><strong>{escape(result.note)}.</strong></p>")
    if report.not_judged:
        parts.append(f"<p>Not judged: {escape(report.not_judged)}.</p>")

    problems = report.problems
    lead = report.worst
    if problems and lead is not None:
        parts.append("<h3>Worst first</h3>")
        cell = [v for v in result.values if v.window == lead.window and v.segment == lead.segment]
        cell.sort(key=lambda v: (-v.severity.rank, v.skipped is not None))
        parts.append(
            f"<p>The worst cell: window <strong>{escape(lead.window)}</strong>, segment "
            f"<strong>{escape(lead.segment)}</strong>.</p>"
        )
        parts.append(_metric_rows(cell))
        if len(problems) > len([v for v in cell if v.severity != "ok"]):
            parts.append(
                f"<details><summary>All {len(problems)} values at warning or above</summary>"
                f"{_metric_rows(problems)}</details>"
            )
    else:
        whole = [v for v in result.values if v.window == _OVERALL and v.segment == _OVERALL]
        if whole:
            parts.append("<h3>The whole of current</h3>")
            parts.append(_metric_rows(whole))

    if len(result.windows) > 1:
        parts.append("<h3>Per window</h3>")
        names = [m.name for m in result.metrics if m.headline][:_MAIN_COLUMNS]
        if lead is not None and lead.metric not in names:
            names = [lead.metric, *names[: _MAIN_COLUMNS - 1]]
        names += [m.name for m in result.metrics if m.group == "operational"][:2]
        parts.append(_windows_table(report, names))
        if plots:
            metric = lead.metric if lead is not None else (names[0] if names else None)
            if metric is not None:
                from monitorkit.display.plots import figure_to_png

                figure = plot_metric_over_time(report, metric, lead.segment if lead else _OVERALL)
                parts.append(png_image(figure_to_png(figure), f"{metric} per window", 760))
    confusion = overall.confusion if overall is not None else ()
    if confusion:
        classes = result.classes if len(result.classes) == len(confusion) else range(len(confusion))
        header = (
            "<tr><th>true \\ predicted</th>"
            + "".join(f"<th class='mk-num'>{escape(c)}</th>" for c in classes)
            + "</tr>"
        )
        rows = "".join(
            f"<tr><th>{escape(c)}</th>"
            + "".join(f"<td class='mk-num'>{n:,}</td>" for n in counts)
            + "</tr>"
            for c, counts in zip(classes, confusion)
        )
        parts.append(
            "<details><summary>Confusion matrix (the whole of current)</summary>"
            f'<table class="mk-table">{header}{rows}</table></details>'
        )
    info = result.metrics[0].tolerance if result.metrics else None
    if info is not None:
        parts.append(
            f'<p class="mk-muted">A metric warns when it is more than {info.warning:.0%} worse '
            f"than the baseline and is critical past {info.critical:.0%} — only when the "
            "baseline lies outside the value's confidence interval (shared between the "
            "windows and segments). Cells with fewer than 100 labelled rows (30 of a class "
            "for class-based metrics) are shown, never alarmed on.</p>"
        )
    return "".join(parts)
