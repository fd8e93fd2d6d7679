"""The view of :class:`monitorkit.History`: runs over time, trends with their band, statuses.

Static HTML (inline SVG, no script, every string escaped) for pages and executed notebooks;
in a live kernel a widget picks the figure (a model's runs) or the model (a store's root).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from monitorkit.display import formatting as fmt
from monitorkit.display import renders
from monitorkit.display.html import escape, fragment, rich_text, scrollable, severity_pill
from monitorkit.display.theme import (
    CURRENT_COLOR,
    NEUTRAL_COLOR,
    REFERENCE_COLOR,
    SEVERITY_COLORS,
)

TABLE_RUNS = 30  # runs listed in a model's table (newest first); the charts show them all
FAILED_COLOR = "#57606a"


def _when(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return "–"
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")


def _status_cell(status: Any, severity: Any) -> str:
    if status == "failed":
        return f'<span class="mk-pill" style="color:{FAILED_COLOR}">FAILED</span>'
    if severity in SEVERITY_COLORS:
        return severity_pill(severity)
    return '<span class="mk-muted">–</span>'


def _colour(status: Any, severity: Any) -> str:
    if status == "failed":
        return FAILED_COLOR
    return SEVERITY_COLORS.get(severity, NEUTRAL_COLOR)


def status_strip(statuses: list[tuple[Any, Any, str]], size: int = 10) -> str:
    """A square per run, oldest first, coloured by its status, its label in a tooltip."""
    if not statuses:
        return ""
    width = len(statuses) * (size + 2)
    cells = "".join(
        f'<rect x="{i * (size + 2)}" y="0" width="{size}" height="{size}" rx="2" '
        f'fill="{_colour(status, severity)}"><title>{escape(label)}</title></rect>'
        for i, (status, severity, label) in enumerate(statuses)
    )
    return (
        f'<svg width="{width}" height="{size}" viewBox="0 0 {width} {size}" role="img" '
        f'aria-label="status of each run, oldest first">{cells}</svg>'
    )


def trend_chart(trend: pd.DataFrame, figure: str, width: int = 640, height: int = 150) -> str:
    """The figure's value per run (points coloured by the run's status), its band shaded and
    its recorded baseline dashed. Inline SVG; the x axis is the run's start time."""
    values = trend["value"].to_numpy(dtype=float)
    lower = trend["lower"].to_numpy(dtype=float)
    upper = trend["upper"].to_numpy(dtype=float)
    baseline = trend["baseline"].to_numpy(dtype=float)
    core = [v for v in [*values, *baseline] if math.isfinite(v)]
    if not core:
        return f'<p class="mk-muted">No run has a value of <code>{escape(figure)}</code>.</p>'
    low, high = min(core), max(core)
    span = (high - low) or abs(high) or 1.0
    # The band widens the axis by at most a quarter of the values' span either way (a band
    # blown up by a jump would flatten the values); beyond that it is cut at the edge.
    band_low = min((v for v in lower if math.isfinite(v)), default=low)
    band_high = max((v for v in upper if math.isfinite(v)), default=high)
    low = max(min(low, band_low), low - 0.25 * span)
    high = min(max(high, band_high), high + 0.25 * span)
    if high == low:
        low, high = low - 0.5, high + 0.5
    pad_left, pad_right, pad_top, pad_bottom = 52, 8, 8, 20
    plot_w, plot_h = width - pad_left - pad_right, height - pad_top - pad_bottom
    times = pd.to_datetime(trend["started_at"], utc=True)
    seconds = ((times - times.min()).dt.total_seconds()).to_numpy(dtype=float)
    span = seconds.max() if len(seconds) and seconds.max() > 0 else 1.0

    def x(i: int) -> float:
        return pad_left + plot_w * (seconds[i] / span if len(seconds) > 1 else 0.5)

    def y(v: float) -> float:
        share = min(max((v - low) / (high - low), 0.0), 1.0)  # cut at the plot's edges
        return pad_top + plot_h * (1 - share)

    parts = [
        f'<rect x="{pad_left}" y="{pad_top}" width="{plot_w}" height="{plot_h}" fill="#ffffff" '
        'stroke="#d0d7de"/>'
    ]
    # the band: one polygon per stretch of runs that have one
    stretch: list[int] = []
    stretches = []
    for i in range(len(values)):
        if math.isfinite(lower[i]) and math.isfinite(upper[i]):
            stretch.append(i)
        elif stretch:
            stretches.append(stretch)
            stretch = []
    if stretch:
        stretches.append(stretch)
    for run in stretches:
        top = " ".join(f"{x(i):.1f},{y(upper[i]):.1f}" for i in run)
        bottom = " ".join(f"{x(i):.1f},{y(lower[i]):.1f}" for i in reversed(run))
        parts.append(
            f'<polygon class="mk-band" points="{top} {bottom}" fill="{REFERENCE_COLOR}" '
            'fill-opacity="0.12" stroke="none"/>'
        )
    base = [i for i in range(len(values)) if math.isfinite(baseline[i])]
    if base:
        points = " ".join(f"{x(i):.1f},{y(baseline[i]):.1f}" for i in base)
        parts.append(
            f'<polyline class="mk-baseline" points="{points}" fill="none" '
            f'stroke="{REFERENCE_COLOR}" stroke-dasharray="4 3" stroke-width="1.2"/>'
        )
    seen = [i for i in range(len(values)) if math.isfinite(values[i])]
    if seen:
        points = " ".join(f"{x(i):.1f},{y(values[i]):.1f}" for i in seen)
        parts.append(
            f'<polyline class="mk-value" points="{points}" fill="none" stroke="{CURRENT_COLOR}" '
            'stroke-width="1.5"/>'
        )
    statuses, severities, runs = trend["status"], trend["severity"], trend["run_id"]
    for i in seen:
        label = (
            f"{_when(times.iloc[i])} {runs.iloc[i]}: {fmt.number(values[i])} "
            f"({statuses.iloc[i]}, {severities.iloc[i] or '–'})"
        )
        parts.append(
            f'<circle class="mk-point" cx="{x(i):.1f}" cy="{y(values[i]):.1f}" r="2.6" '
            f'fill="{_colour(statuses.iloc[i], severities.iloc[i])}">'
            f"<title>{escape(label)}</title></circle>"
        )
    axis = "font-size:10px;fill:#57606a"
    parts += [
        f'<text x="{pad_left - 4}" y="{pad_top + 9}" text-anchor="end" style="{axis}">'
        f"{escape(fmt.number(high))}</text>",
        f'<text x="{pad_left - 4}" y="{pad_top + plot_h}" text-anchor="end" style="{axis}">'
        f"{escape(fmt.number(low))}</text>",
        f'<text x="{pad_left}" y="{height - 5}" style="{axis}">{escape(_when(times.min()))}</text>',
        f'<text x="{width - pad_right}" y="{height - 5}" text-anchor="end" style="{axis}">'
        f"{escape(_when(times.max()))}</text>",
    ]
    return (
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(figure)} per run">{"".join(parts)}</svg>'
    )


def _band_note(trend: pd.DataFrame) -> str:
    if trend["baseline"].notna().any():
        return "dashed: the baseline each run compared with; shaded: ±10% of it"
    return "shaded: mean ± 3 standard deviations of the 10 runs before"


def _figure_block(history: Any, figure: str) -> str:
    trend = history.trend(figure)
    last = trend["value"].dropna()
    now = fmt.number(last.iloc[-1]) if len(last) else "–"
    return (
        f'<figure class="mk-trend" data-figure="{escape(figure)}">'
        f"<figcaption><code>{escape(figure)}</code> — last {escape(now)}; "
        f"{escape(_band_note(trend))}</figcaption>{trend_chart(trend, figure)}</figure>"
    )


def _runs_table(history: Any) -> str:
    runs = history.runs
    figures = history.figures
    header = (
        "<tr><th>started (UTC)</th><th>status</th><th>verdict</th>"
        + "".join(f'<th class="mk-num">{escape(f)}</th>' for f in figures)
        + "<th>alerts</th></tr>"
    )
    rows = []
    for _, run in runs.iloc[::-1].head(TABLE_RUNS).iterrows():
        cells = "".join(
            f'<td class="mk-num">{escape(fmt.number(run.get(f)))}</td>' for f in figures
        )
        alerts = ""
        if run.get("alerts_firing"):
            alerts = (
                _status_cell("", run.get("alerts_severity"))
                + f" {int(run['alerts_firing'])}: {escape(run.get('alerts') or '')}"
            )
        rows.append(
            f'<tr class="mk-run" data-run="{escape(run["run_id"])}">'
            f"<td>{escape(_when(run['started_at']))}</td>"
            f"<td>{_status_cell(run['status'], run['severity'])}</td>"
            f"<td>{rich_text(str(run.get('verdict') or ''))}</td>{cells}<td>{alerts}</td></tr>"
        )
    more = ""
    if len(runs) > TABLE_RUNS:
        more = f'<p class="mk-muted">The last {TABLE_RUNS} of {len(runs)} runs, newest first.</p>'
    return more + scrollable(f'<table class="mk-table">{header}{"".join(rows)}</table>')


def model_section(history: Any, *, plots: bool = True) -> str:
    runs = history.runs
    if runs.empty:
        return "<p>No runs yet.</p>"
    failed = int((runs["status"] == "failed").sum())
    firing = int(runs["alerts_firing"].iloc[-1]) if "alerts_firing" in runs else 0
    strip = status_strip(
        [
            (r.status, r.severity, f"{_when(r.started_at)} {r.run_id}: {r.status} {r.severity}")
            for r in runs.itertuples()
        ]
    )
    parts = [
        '<p class="mk-facts">'
        f"<span><strong>{len(runs)}</strong> run(s)</span> | "
        f"<span><strong>{failed}</strong> failed</span> | "
        f"<span>from {escape(_when(runs['started_at'].iloc[0]))} to "
        f"{escape(_when(runs['started_at'].iloc[-1]))} (UTC)</span> | "
        f"<span><strong>{firing}</strong> alert(s) firing after the last run</span></p>",
        f'<div class="mk-strip">{strip}</div>',
    ]
    if plots:
        parts += [_figure_block(history, f) for f in history.figures]
    parts.append("<h3>Runs</h3>" + _runs_table(history))
    return "".join(parts)


def store_section(history: Any, *, plots: bool = True) -> str:
    models = history.models
    if models.empty:
        return "<p>No models with runs yet.</p>"
    figure_columns = [c for c in models.columns if "." in c]
    header = (
        "<tr><th>model</th><th class='mk-num'>runs</th><th>last run (UTC)</th><th>status</th>"
        "<th>verdict</th>"
        + "".join(f'<th class="mk-num">{escape(c)}</th>' for c in figure_columns)
        + "<th>alerts</th><th>recent runs</th></tr>"
    )
    rows = []
    for _, model in models.iterrows():
        recent = [
            (
                "failed" if word == "failed" else "succeeded",
                None if word == "failed" else word,
                word,
            )
            for word in str(model["recent"]).split()
        ]
        alerts = ""
        if model.get("alerts_firing"):
            alerts = _status_cell("", model.get("alerts_severity")) + (
                f" {int(model['alerts_firing'])}"
            )
        cells = "".join(
            f'<td class="mk-num">{escape(fmt.number(model.get(c)))}</td>' for c in figure_columns
        )
        rows.append(
            f'<tr class="mk-model" data-model="{escape(model["model"])}">'
            f"<td><strong>{escape(model['model'])}</strong></td>"
            f'<td class="mk-num">{int(model["runs"])}</td>'
            f"<td>{escape(_when(model['last_run']))}</td>"
            f"<td>{_status_cell(model['last_status'], model['last_severity'])}</td>"
            f"<td>{rich_text(str(model['last_verdict'] or ''))}</td>{cells}<td>{alerts}</td>"
            f"<td>{status_strip(recent, size=8)}</td></tr>"
        )
    return scrollable(f'<table class="mk-table">{header}{"".join(rows)}</table>')


def history_widget(history: Any) -> Any:
    """A live view: pick a figure to trend (a model), or a model to open (the store)."""
    import ipywidgets as w

    from monitorkit.history import History

    body = w.HTML()
    if history.mode == "model":
        choice = w.Dropdown(options=history.figures, description="Figure")
        table = w.HTML(fragment(_runs_table(history)))

        def show(_: Any = None) -> None:
            body.value = fragment(_figure_block(history, choice.value)) if choice.value else ""

        choice.observe(show, names="value")
        show()
        return w.VBox([choice, body, table])
    names = list(history.models["model"]) if not history.models.empty else []
    overview = w.HTML(fragment(store_section(history)))
    choice = w.Dropdown(options=names, description="Model")

    def open_model(_: Any = None) -> None:
        if choice.value:
            one = History(history.path / choice.value, limit=history.limit)
            body.value = fragment(model_section(one))

    choice.observe(open_model, names="value")
    open_model()
    return w.VBox([overview, choice, body])


@renders("history", widget=history_widget)
def history_section(history: Any, *, plots: bool = True) -> str:
    """A model's runs (status strip, a trend per figure with its band, the runs table), or
    one row per model for a store's root."""
    if history.mode == "model":
        return model_section(history, plots=plots)
    return store_section(history, plots=plots)


__all__ = ["history_section", "history_widget", "status_strip", "trend_chart"]
