"""The view of :class:`monitorkit.History`: runs over time, trends with their band, statuses.

Static HTML (no script, every string escaped) in the two forms of
:mod:`monitorkit.display.html`. A standalone page (``save_html``) draws the status strip and
the trends as inline SVG (a run's label in each point's tooltip). A notebook output is portable
(:func:`~monitorkit.display.html.is_portable`): what a sanitizer keeps still says everything —
each run's status is a coloured symbol of its own shape (``●`` ok, ``▲`` warning, ``◆``
critical, ``✕`` failed) with the severity words in a legend, and each trend is a PNG drawn by
matplotlib (:func:`plot_trend`, the same picture), an ``image/png`` output of its own in
:func:`monitorkit.display.notebook_outputs`. In a live kernel a widget picks the figure (a
model's runs) or the model (a store's root).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from monitorkit.display import formatting as fmt
from monitorkit.display import renders
from monitorkit.display.html import (
    FACT_SEPARATOR,
    escape,
    fragment,
    is_portable,
    png_image,
    rich_text,
    scrollable,
    severity_pill,
)
from monitorkit.display.theme import (
    CURRENT_COLOR,
    MATPLOTLIB_STYLE,
    NEUTRAL_COLOR,
    REFERENCE_COLOR,
    SEVERITY_COLORS,
)

TABLE_RUNS = 30  # runs listed in a model's table (newest first); the charts show them all
FAILED_COLOR = "#57606a"
FAILED_BACKGROUND = "#f6f8fa"
# A run's status in text (portable views): the shape says it where the colour is lost.
STATUS_SYMBOLS = {"ok": "●", "warning": "▲", "critical": "◆", "failed": "✕"}
UNKNOWN_SYMBOL = "○"  # a run that succeeded without a severity
TREND_SIZE_PX = (640, 150)  # a trend's width and height, the same in SVG and in PNG


def _when(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return "–"
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")


def _status_cell(status: Any, severity: Any) -> str:
    if status == "failed":
        # The badge's shape inline, as severity_pill's: it survives the loss of the page's CSS.
        return (
            f'<span class="mk-pill" style="display:inline-block;padding:0 7px;'
            f"border-radius:10px;border:1px solid {FAILED_COLOR};color:{FAILED_COLOR};"
            f'background:{FAILED_BACKGROUND};font-size:11px;font-weight:600;white-space:nowrap">'
            "FAILED</span>"
        )
    if severity in SEVERITY_COLORS:
        return severity_pill(severity)
    return '<span class="mk-muted">–</span>'


def _colour(status: Any, severity: Any) -> str:
    if status == "failed":
        return FAILED_COLOR
    return SEVERITY_COLORS.get(severity, NEUTRAL_COLOR)


def _status_word(status: Any, severity: Any) -> str | None:
    if status == "failed":
        return "failed"
    return severity if severity in SEVERITY_COLORS else None


def status_strip(statuses: list[tuple[Any, Any, str]], size: int = 10) -> str:
    """A square per run, oldest first, coloured by its status, its label in a tooltip.

    In a portable view (notebook outputs) a symbol per run instead, whose shape says the status
    (:data:`STATUS_SYMBOLS`; :func:`status_legend` names them): inline ``<svg>`` is dropped by
    sanitizers, text is not.
    """
    if not statuses:
        return ""
    if is_portable():
        symbols = "".join(
            f'<span style="color:{_colour(status, severity)}" title="{escape(label)}">'
            f"{STATUS_SYMBOLS.get(_status_word(status, severity) or '', UNKNOWN_SYMBOL)}</span>"
            for status, severity, label in statuses
        )
        return (
            '<span class="mk-strip-text" role="img" aria-label="status of each run, oldest '
            f'first" style="font-family:monospace;font-size:{size + 4}px;line-height:1.2;'
            f'letter-spacing:1px;white-space:nowrap">{symbols}</span>'
        )
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


def status_legend(statuses: list[tuple[Any, Any]] | None = None, lead: str = "") -> str:
    """What the marks of a :func:`status_strip` mean, in words (the severity word always
    there); with ``statuses`` (``(status, severity)`` per run) each word's count of runs.
    ``lead`` (HTML) comes first."""
    counts: dict[str | None, int] = {}
    for status, severity in statuses or []:
        word = _status_word(status, severity)
        counts[word] = counts.get(word, 0) + 1
    items = []
    for word, symbol in STATUS_SYMBOLS.items():
        if statuses is not None and not counts.get(word):
            continue
        colour = FAILED_COLOR if word == "failed" else SEVERITY_COLORS[word]
        count = f" {counts[word]}" if statuses is not None else ""
        mark = symbol if is_portable() else "■"  # the page's strip: coloured squares
        items.append(f'<span style="color:{colour}">{mark}</span> {word.upper()}{count}')
    if counts.get(None):
        mark = UNKNOWN_SYMBOL if is_portable() else "■"
        items.append(
            f'<span style="color:{NEUTRAL_COLOR}">{mark}</span> no severity {counts[None]}'
        )
    return f'<div class="mk-legend">{lead}' + FACT_SEPARATOR.join(items) + "</div>"


def _value_range(trend: pd.DataFrame) -> tuple[float, float] | None:
    """The trend's vertical range: its values and baseline, widened by the band by at most a
    quarter of their span either way (a band blown up by a jump would flatten the values;
    beyond that it is cut at the edge). None when no run has a value."""
    values = trend["value"].to_numpy(dtype=float)
    baseline = trend["baseline"].to_numpy(dtype=float)
    core = [v for v in [*values, *baseline] if math.isfinite(v)]
    if not core:
        return None
    low, high = min(core), max(core)
    span = (high - low) or abs(high) or 1.0
    lower = trend["lower"].to_numpy(dtype=float)
    upper = trend["upper"].to_numpy(dtype=float)
    band_low = min((v for v in lower if math.isfinite(v)), default=low)
    band_high = max((v for v in upper if math.isfinite(v)), default=high)
    low = max(min(low, band_low), low - 0.25 * span)
    high = min(max(high, band_high), high + 0.25 * span)
    if high == low:
        low, high = low - 0.5, high + 0.5
    return low, high


def _band_stretches(trend: pd.DataFrame) -> list[list[int]]:
    """Runs of consecutive rows that have a band (a run without one cuts it)."""
    lower = trend["lower"].to_numpy(dtype=float)
    upper = trend["upper"].to_numpy(dtype=float)
    stretches: list[list[int]] = []
    stretch: list[int] = []
    for i in range(len(trend)):
        if math.isfinite(lower[i]) and math.isfinite(upper[i]):
            stretch.append(i)
        elif stretch:
            stretches.append(stretch)
            stretch = []
    if stretch:
        stretches.append(stretch)
    return stretches


def _no_values(figure: str) -> str:
    return f'<div class="mk-muted">No run has a value of <code>{escape(figure)}</code>.</div>'


def trend_chart(
    trend: pd.DataFrame, figure: str, width: int = TREND_SIZE_PX[0], height: int = TREND_SIZE_PX[1]
) -> str:
    """The figure's value per run (points coloured by the run's status), its band shaded and
    its recorded baseline dashed. Inline SVG; the x axis is the run's start time."""
    values = trend["value"].to_numpy(dtype=float)
    lower = trend["lower"].to_numpy(dtype=float)
    upper = trend["upper"].to_numpy(dtype=float)
    baseline = trend["baseline"].to_numpy(dtype=float)
    bounds = _value_range(trend)
    if bounds is None:
        return _no_values(figure)
    low, high = bounds
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
    for run in _band_stretches(trend):
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


def plot_trend(trend: pd.DataFrame, figure: str, ax: Any = None):
    """:func:`trend_chart`'s picture drawn by matplotlib (for views that cannot carry SVG).

    ``trend`` is :meth:`monitorkit.History.trend`: the figure's value per run (points coloured
    by the run's status), its band shaded, its recorded baseline dashed; the x axis is the
    run's start time, from the first run to the last. Returns the matplotlib Figure.
    """
    from monitorkit.display.plots import _new_axes, _style
    from monitorkit.errors import InputError

    bounds = _value_range(trend)
    if bounds is None:
        raise InputError(f"no run has a value of '{figure}'; nothing to plot.")
    low, high = bounds
    values = trend["value"].to_numpy(dtype=float)
    lower = trend["lower"].to_numpy(dtype=float)
    upper = trend["upper"].to_numpy(dtype=float)
    baseline = trend["baseline"].to_numpy(dtype=float)
    times = pd.to_datetime(trend["started_at"], utc=True)
    seconds = (times - times.min()).dt.total_seconds().to_numpy(dtype=float)
    span = seconds.max() if len(seconds) and seconds.max() > 0 else 1.0
    x = seconds / span if len(seconds) > 1 else np.full(len(seconds), 0.5)
    width, height = TREND_SIZE_PX
    dpi = MATPLOTLIB_STYLE["figure.dpi"]
    with _style():
        own = ax is None
        fig, ax = _new_axes(ax, (width / dpi, height / dpi))
        if own:
            # The plot area where the SVG has it, whatever the width of the tick labels, and
            # the whole canvas kept by a tight bounding box: every trend lines up with the next.
            from matplotlib.patches import Rectangle

            fig.set_layout_engine("none")
            ax.set_position([52 / width, 20 / height, (width - 60) / width, (height - 28) / height])
            fig.add_artist(
                Rectangle((0, 0), 1, 1, transform=fig.transFigure, fill=False, edgecolor="none")
            )
        for run in _band_stretches(trend):
            ax.fill_between(
                x[run], lower[run], upper[run], color=REFERENCE_COLOR, alpha=0.12, linewidth=0
            )
        base = np.isfinite(baseline)
        if base.any():
            ax.plot(
                x[base], baseline[base], color=REFERENCE_COLOR, linestyle=(0, (4, 3)),
                linewidth=1.2, clip_on=False,
            )  # fmt: skip
        seen = np.isfinite(values)
        if seen.any():
            colours = [
                _colour(status, severity)
                for status, severity in zip(trend["status"][seen], trend["severity"][seen])
            ]
            ax.plot(x[seen], values[seen], color=CURRENT_COLOR, linewidth=1.5, clip_on=False)
            ax.scatter(
                x[seen], values[seen], s=14, c=colours, linewidths=0, zorder=3, clip_on=False
            )
        ax.set_xlim(0, 1)
        ax.set_ylim(low, high)
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(True)
            spine.set_color("#d0d7de")
        ax.tick_params(length=0, labelsize=7.5, labelcolor="#57606a")
        ax.set_yticks([low, high], [fmt.number(low), fmt.number(high)])
        ax.set_xticks([0, 1], [_when(times.min()), _when(times.max())])
        first, last = ax.get_xticklabels()
        first.set_horizontalalignment("left")
        last.set_horizontalalignment("right")
    return fig


def _figure_block(history: Any, figure: str) -> str:
    trend = history.trend(figure)
    last = trend["value"].dropna()
    now = fmt.number(last.iloc[-1]) if len(last) else "–"
    caption = f"<code>{escape(figure)}</code> — last {escape(now)}; {escape(_band_note(trend))}"
    if not is_portable():
        return (
            f'<figure class="mk-trend" data-figure="{escape(figure)}">'
            f"<figcaption>{caption}</figcaption>{trend_chart(trend, figure)}</figure>"
        )
    # The caption, then the picture at the section's top level: a notebook's outputs are cut
    # where the picture goes (monitorkit.display.html.collecting_images).
    if _value_range(trend) is None:
        picture = _no_values(figure)
    else:
        from monitorkit.display.plots import figure_to_png

        times = pd.to_datetime(trend["started_at"], utc=True)
        alt = (
            f"{figure} per run, {_when(times.min())} to {_when(times.max())} (UTC); "
            f"last {now}; {_band_note(trend)}"
        )
        picture = png_image(figure_to_png(plot_trend(trend, figure)), alt)
    return (
        f'<div class="mk-trend" data-figure="{escape(figure)}" style="margin:14px 0 2px">'
        f"{caption}</div>{picture}"
    )


# The strictest sanitizer (nbconvert --sanitize-html) keeps <div>, <span>, <table>, <tr>, <td>,
# <strong> and <code>, and shows <p>, <h3> and <th> as text: a portable view uses only those.


def _facts(items: list[str]) -> str:
    """The summary line: figures separated by a visible ``·`` (as ``html.facts``, in a
    ``<div>``)."""
    spans = FACT_SEPARATOR.join(f"<span>{item}</span>" for item in items)
    return f'<div class="mk-facts" style="color:#57606a;margin:0 0 8px">{spans}</div>'


def _heading(text: str) -> str:
    if not is_portable():
        return f"<h3>{escape(text)}</h3>"
    return (
        f'<div class="mk-heading" style="font-size:15px;margin:18px 0 6px">'
        f"<strong>{escape(text)}</strong></div>"
    )


def _header_cell(name: str, *, numeric: bool = False) -> str:
    """A column's name: ``<th>`` in a page, a bold ``<td>`` looking like one in a portable
    view."""
    css_class = ' class="mk-num"' if numeric else ""
    if not is_portable():
        return f"<th{css_class}>{escape(name)}</th>"
    align = "right" if numeric else "left"
    return (
        f'<td{css_class} style="text-align:{align};color:#57606a;white-space:nowrap;'
        f'border-bottom:1px solid #d0d7de"><strong>{escape(name)}</strong></td>'
    )


def _runs_table(history: Any) -> str:
    runs = history.runs
    figures = history.figures
    header = (
        "<tr>"
        + "".join(_header_cell(name) for name in ("started (UTC)", "status", "verdict"))
        + "".join(_header_cell(f, numeric=True) for f in figures)
        + _header_cell("alerts")
        + "</tr>"
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
        more = (
            f'<div class="mk-muted" style="margin:0 0 6px">The last {TABLE_RUNS} of {len(runs)} '
            "runs, newest first.</div>"
        )
    return more + scrollable(f'<table class="mk-table">{header}{"".join(rows)}</table>')


def model_section(history: Any, *, plots: bool = True) -> str:
    runs = history.runs
    if runs.empty:
        return "<div>No runs yet.</div>"
    failed = int((runs["status"] == "failed").sum())
    firing = int(runs["alerts_firing"].iloc[-1]) if "alerts_firing" in runs else 0
    strip = status_strip(
        [
            (r.status, r.severity, f"{_when(r.started_at)} {r.run_id}: {r.status} {r.severity}")
            for r in runs.itertuples()
        ]
    )
    parts = [
        _facts(
            [
                f"<strong>{len(runs)}</strong> run(s)",
                f"<strong>{failed}</strong> failed",
                f"from {escape(_when(runs['started_at'].iloc[0]))} to "
                f"{escape(_when(runs['started_at'].iloc[-1]))} (UTC)",
                f"<strong>{firing}</strong> alert(s) firing after the last run",
            ]
        ),
        f'<div class="mk-strip">{strip}</div>',
        status_legend(list(zip(runs["status"], runs["severity"]))),
    ]
    if plots:
        parts += [_figure_block(history, f) for f in history.figures]
    parts.append(_heading("Runs") + _runs_table(history))
    return "".join(parts)


def store_section(history: Any, *, plots: bool = True) -> str:
    models = history.models
    if models.empty:
        return "<div>No models with runs yet.</div>"
    figure_columns = [c for c in models.columns if "." in c]
    header = (
        "<tr>"
        + _header_cell("model")
        + _header_cell("runs", numeric=True)
        + "".join(_header_cell(name) for name in ("last run (UTC)", "status", "verdict"))
        + "".join(_header_cell(c, numeric=True) for c in figure_columns)
        + "".join(_header_cell(name) for name in ("alerts", "recent runs"))
        + "</tr>"
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
    table = scrollable(f'<table class="mk-table">{header}{"".join(rows)}</table>')
    return table + status_legend(lead="recent runs, oldest first: ")


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


__all__ = [
    "history_section",
    "history_widget",
    "plot_trend",
    "status_legend",
    "status_strip",
    "trend_chart",
]
