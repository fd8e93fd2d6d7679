"""The static view of a performance report: status, the worst metrics, windows, a plot."""

from __future__ import annotations

import math
from typing import Any

from monitorkit.display import formatting as fmt
from monitorkit.display import renders
from monitorkit.display.html import escape, folded, png_image, scrollable, severity_pill

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
        f"<td>{escape(v.segment)}</td><td><code>{escape(v.metric)}</code>"
        f"{' <em>(estimated)</em>' if v.estimated else ''}</td>"
        f"<td class='mk-num'>{fmt.number(v.value)}</td>"
        f"<td class='mk-num'>{fmt.number(v.baseline)}</td>"
        f"<td class='mk-num'>{_change(v.change)}</td><td class='mk-num'>{v.n:,}</td>"
        f"<td>{_interval(v.lower, v.upper)}</td><td>{escape(v.skipped or '')}</td></tr>"
        for v in values
    )
    return scrollable(f'<table class="mk-table">{header}{rows}</table>')


def _windows_table(report: Any, names: list[str]) -> str:
    result = report.result
    by_cell = {(v.window, v.metric): v for v in result.estimated if v.segment == _OVERALL}
    for v in result.values:  # a realised value wins over the estimate when there is one
        if v.segment == _OVERALL and (
            math.isfinite(v.value) or (v.window, v.metric) not in by_cell
        ):
            by_cell[(v.window, v.metric)] = v
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
            if value.estimated:
                mark = " <em>est.</em>" + mark
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
    from monitorkit.display.theme import (
        CURRENT_COLOR,
        NEUTRAL_COLOR,
        SEVERITY_COLORS,
    )
    from monitorkit.display.theme import (
        REFERENCE_COLOR as ESTIMATE_COLOR,
    )

    result = report.result
    info = next((m for m in result.metrics if m.name == metric), None)
    values = [v for v in result.values if v.metric == metric and v.segment == segment]
    by_window = {v.window: v for v in values}
    guesses = {v.window: v for v in result.estimated if v.metric == metric and v.segment == segment}
    windows = [w.window for w in result.windows[1:]]
    import numpy as np

    positions = np.arange(len(windows))
    series = np.array(
        [by_window[w].value if w in by_window else np.nan for w in windows], dtype=float
    )
    judged = np.array([w in by_window and by_window[w].skipped is None for w in windows])
    baseline = math.nan
    for source in (by_window, guesses):
        if _OVERALL in source and math.isfinite(source[_OVERALL].baseline):
            baseline = source[_OVERALL].baseline
            break
    with _style():
        figure, ax = _new_axes(ax, (7.0, 3.0))
        if guesses:
            estimate = np.array([guesses[w].value if w in guesses else np.nan for w in windows])
            lower = np.array([guesses[w].lower if w in guesses else np.nan for w in windows])
            upper = np.array([guesses[w].upper if w in guesses else np.nan for w in windows])
            ax.fill_between(
                positions,
                lower,
                upper,
                color=ESTIMATE_COLOR,
                alpha=0.18,
                linewidth=0,
                label="estimate's band",
            )
            ax.plot(
                positions,
                estimate,
                color=ESTIMATE_COLOR,
                linewidth=1.3,
                linestyle="-.",
                label="estimated (no labels needed)",
            )
        if np.isfinite(series).any():
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


def _causes_table(report: Any) -> str:
    """Where to look first: the bins that account most for the lead metric's change."""
    causes = report.result.causes
    if not causes:
        return ""
    first = causes[0]
    where = "" if first.window == _OVERALL else f" in window {first.window}"
    scope = "the whole of current" if first.segment == _OVERALL else f"segment {first.segment}"
    header = (
        "<tr><th>column</th><th>value</th><th class='mk-num'>share of rows</th>"
        "<th class='mk-num'>in the baseline</th>"
        f"<th class='mk-num'>{escape(first.metric)} there</th>"
        "<th class='mk-num'>in the baseline</th><th class='mk-num'>explains</th><th>note</th></tr>"
    )
    rows = "".join(
        f"<tr><td><code>{escape(c.column)}</code></td><td>{escape(c.bin)}</td>"
        f"<td class='mk-num'>{fmt.percent(c.share, 0)}</td>"
        f"<td class='mk-num'>{fmt.percent(c.baseline_share, 0)}</td>"
        f"<td class='mk-num'>{fmt.number(c.value)}</td>"
        f"<td class='mk-num'>{fmt.number(c.baseline_value)}</td>"
        f"<td class='mk-num'>{fmt.percent(c.explained, 0)}</td>"
        f"<td>{escape(f'new since {c.new_since}' if c.new_since else '')}</td></tr>"
        for c in causes
    )
    return (
        "<h3>Where to look first</h3>"
        f"<p>The values that account most for the change of <code>{escape(first.metric)}</code>"
        f"{escape(where)} ({escape(scope)}): <em>explains</em> is the share of the change "
        "against the baseline that goes away without these rows, less what they took away "
        "in the baseline already.</p>"
        + scrollable(f'<table class="mk-table">{header}{rows}</table>')
    )


def _shift_note(report: Any) -> str:
    shifts = report.result.concept_shifts
    if not shifts:
        return ""
    from monitorkit.performance.estimation import CONCEPT_DRIFT_MESSAGE

    items = "".join(
        f"<li><code>{escape(s.metric)}</code> in {escape(s.window)}: realised "
        f"{fmt.number(s.realised)}, estimated {fmt.number(s.estimated)} "
        f"(band {_interval(s.lower, s.upper)})</li>"
        for s in shifts[:8]
    )
    more = f"<li>and {len(shifts) - 8} more</li>" if len(shifts) > 8 else ""
    message = CONCEPT_DRIFT_MESSAGE[0].upper() + CONCEPT_DRIFT_MESSAGE[1:]
    return (
        f"<h3>Estimates against realised values</h3><p>{severity_pill('warning')} "
        f"<strong>{escape(message)}.</strong> The estimates from the baseline's calibration "
        "assume a score means what it meant in the baseline; where labels arrived, these "
        f"values left the band:</p><ul>{items}{more}</ul>"
    )


def _fairness(report: Any) -> str:
    """The fairness gaps on the whole of current, the groups' rates, and with windows the
    gaps per window."""
    from monitorkit.performance.fairness import MEASURES

    result = report.result
    if not result.fairness:
        return ""
    whole = [g for g in result.fairness if g.window == _OVERALL]
    header = (
        "<tr><th>severity</th><th>attribute</th><th>measure</th><th class='mk-num'>value</th>"
        "<th class='mk-num'>baseline</th><th>interval</th><th>lowest</th><th>highest</th>"
        "<th>note</th></tr>"
    )
    rows = "".join(
        f"<tr><td>{severity_pill(str(g.severity))}</td><td><code>{escape(g.attribute)}</code>"
        f"</td><td>{escape(MEASURES[g.measure].label)}</td>"
        f"<td class='mk-num'>{fmt.number(g.value)}</td>"
        f"<td class='mk-num'>{fmt.number(g.baseline)}</td><td>{_interval(g.lower, g.upper)}</td>"
        f"<td>{escape(g.lowest_group or '–')}</td><td>{escape(g.highest_group or '–')}</td>"
        f"<td>{escape(g.skipped or '')}</td></tr>"
        for g in whole
    )
    groups = [g for g in result.fairness_groups if g.window == _OVERALL]
    group_header = (
        "<tr><th>attribute</th><th>group</th><th class='mk-num'>rows</th>"
        "<th class='mk-num'>selection rate</th><th class='mk-num'>true-positive rate</th>"
        "<th class='mk-num'>false-positive rate</th><th class='mk-num'>accuracy</th>"
        "<th>note</th></tr>"
    )
    group_rows = "".join(
        f"<tr><td><code>{escape(g.attribute)}</code></td><td>{escape(g.group)}</td>"
        f"<td class='mk-num'>{g.n:,}</td><td class='mk-num'>{fmt.percent(g.selection_rate)}</td>"
        f"<td class='mk-num'>{fmt.percent(g.true_positive_rate)}</td>"
        f"<td class='mk-num'>{fmt.percent(g.false_positive_rate)}</td>"
        f"<td class='mk-num'>{fmt.percent(g.accuracy)}</td><td>{escape(g.skipped or '')}</td></tr>"
        for g in groups
    )
    parts = [
        "<h3>Fairness</h3>",
        "<p>Gaps between the groups of each sensitive attribute (a difference above 0.10 "
        "warns, above 0.20 is critical; a parity ratio below 0.9 warns, below 0.8 — the "
        "four-fifths rule — is critical), flagged only when the interval excludes no gap.</p>",
        scrollable(f'<table class="mk-table">{header}{rows}</table>'),
        "<details><summary>Rates per group (the whole of current)</summary>"
        + scrollable(f'<table class="mk-table">{group_header}{group_rows}</table>')
        + "</details>",
    ]
    windows = [w.window for w in result.windows[1:]]
    if windows:
        measures = list(MEASURES)
        cells = {(g.window, g.attribute, g.measure): g for g in result.fairness}
        attributes = sorted({g.attribute for g in whole})
        head = (
            "<tr><th>window</th><th>attribute</th>"
            + "".join(f"<th class='mk-num'>{escape(MEASURES[m].label)}</th>" for m in measures)
            + "</tr>"
        )
        lines = []
        for window in windows:
            for attribute in attributes:
                tds = []
                for m in measures:
                    g = cells.get((window, attribute, m))
                    if g is None:
                        tds.append("<td class='mk-num'>–</td>")
                        continue
                    mark = "" if g.severity == "ok" else " " + severity_pill(str(g.severity))
                    style = "mk-num mk-muted" if g.skipped else "mk-num"
                    tds.append(f"<td class='{style}'>{fmt.number(g.value)}{mark}</td>")
                lines.append(
                    f"<tr><td>{escape(window)}</td><td><code>{escape(attribute)}</code></td>"
                    + "".join(tds)
                    + "</tr>"
                )
        parts.append(
            "<details><summary>Gaps per window</summary>"
            + scrollable(f'<table class="mk-table">{head}{"".join(lines)}</table>')
            + "</details>"
        )
    return "".join(parts)


def plot_calibration(report: Any, ax: Any = None):
    """The calibration curve of the whole of current: share positive against mean score per
    score bin (marker area ∝ rows), beside the diagonal of perfect calibration. Returns the
    matplotlib Figure."""
    from monitorkit.display.plots import _new_axes, _style
    from monitorkit.display.theme import CURRENT_COLOR, NEUTRAL_COLOR
    from monitorkit.errors import InputError

    curve = report.result.calibration_curve
    if not curve:
        raise InputError(
            "the report has no calibration curve: it needs a binary target with labels and "
            "a score column (ColumnSpec(prediction=…))."
        )
    scores, observed, rows = (list(column) for column in zip(*curve))
    with _style():
        figure, ax = _new_axes(ax, (4.2, 3.6))
        ax.plot([0, 1], [0, 1], color=NEUTRAL_COLOR, linestyle="--", linewidth=1, label="ideal")
        ax.plot(scores, observed, color=CURRENT_COLOR, linewidth=1.4, label="current")
        top = max(rows)
        ax.scatter(
            scores, observed, s=[12 + 60 * n / top for n in rows], color=CURRENT_COLOR, zorder=3
        )
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("mean score in the bin")
        ax.set_ylabel("share positive")
        ax.set_title("calibration (the whole of current)", loc="left")
        ax.legend(loc="upper left")
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
        if result.estimated and any(not w.labelled for w in result.windows[1:]):
            parts.append(
                '<p class="mk-muted"><em>est.</em>: estimated without labels from the '
                "baseline's calibration (confidence-based performance estimation), where "
                "no realised value could be judged.</p>"
            )
        if plots:
            metric = lead.metric if lead is not None else (names[0] if names else None)
            if metric is not None:
                from monitorkit.display.plots import figure_to_png

                figure = plot_metric_over_time(report, metric, lead.segment if lead else _OVERALL)
                parts.append(png_image(figure_to_png(figure), f"{metric} per window", 760))
    parts.append(_causes_table(report))
    parts.append(_shift_note(report))
    parts.append(_fairness(report))
    if plots and result.calibration_curve:
        from monitorkit.display.plots import figure_to_png

        parts.append(
            folded(
                "Calibration curve (the whole of current)",
                png_image(figure_to_png(plot_calibration(report)), "calibration curve", 380),
            )
        )
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
