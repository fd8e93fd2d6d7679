"""Plots of drift results (matplotlib). They take results, never raw data, and return the
Figure so that it can be restyled or saved."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from monitorkit.display.theme import (
    CURRENT_COLOR,
    MATPLOTLIB_STYLE,
    NEUTRAL_COLOR,
    REFERENCE_COLOR,
    SEVERITY_COLORS,
)
from monitorkit.errors import InputError


def _new_axes(ax: Any, size: tuple[float, float]):
    """A new Figure (not registered with pyplot, so notebooks show it only when returned).

    The Figure draws itself as PNG when it is a cell's last value, also in a fresh kernel where
    no pyplot figure (and so no inline backend) has been set up yet.
    """
    if ax is not None:
        return ax.figure, ax
    figure = _report_figure_class()(figsize=size, layout="constrained")
    return figure, figure.add_subplot()


@functools.cache
def _report_figure_class() -> type:
    """matplotlib's Figure with ``_repr_png_`` (matplotlib imported on first plot)."""
    from matplotlib.figure import Figure

    class ReportFigure(Figure):
        def _repr_png_(self) -> bytes:
            return figure_to_png(self)

    return ReportFigure


def _style():
    import matplotlib

    return matplotlib.rc_context(MATPLOTLIB_STYLE)


def _column(report: Any, column: str):
    try:
        return report[column]
    except KeyError:
        names = ", ".join(c.column for c in report.columns[:10])
        raise InputError(f"the report has no column '{column}' (it has: {names}, …).") from None


def plot_column(report: Any, column: str, ax: Any = None):
    """Reference vs current distribution of one column, from the stored summary.

    Numeric columns: the two histograms (shares per bin) overlaid as steps. Categorical and
    boolean columns: paired horizontal bars per category; categories never seen in the
    reference are marked "new".
    """
    result = _column(report, column)
    distribution = result.distribution
    if distribution is None or not distribution.bins:
        raise InputError(
            f"column '{column}' has no distribution to plot"
            + (f": it was skipped ({result.skipped})." if result.skipped else ".")
        )
    with _style():
        if result.kind == "numeric":
            figure, ax = _new_axes(ax, (5.2, 2.8))
            edges = np.asarray(distribution.bins, dtype=float)
            for shares, colour, label in (
                (distribution.reference, REFERENCE_COLOR, "reference"),
                (distribution.current, CURRENT_COLOR, "current"),
            ):
                ax.stairs(shares, edges, color=colour, linewidth=1.8, label=label)
                ax.stairs(shares, edges, color=colour, alpha=0.12, fill=True)
            ax.set_xlabel(column)
            ax.set_ylabel("share of rows")
        else:
            labels = [str(b) for b in distribution.bins]
            figure, ax = _new_axes(ax, (5.2, max(1.6, 0.28 * len(labels) + 0.8)))
            positions = np.arange(len(labels))
            height = 0.38
            ax.barh(
                positions - height / 2,
                distribution.reference,
                height,
                color=REFERENCE_COLOR,
                label="reference",
            )
            ax.barh(
                positions + height / 2,
                distribution.current,
                height,
                color=CURRENT_COLOR,
                label="current",
            )
            unseen = _unseen_labels(result)
            ax.set_yticks(
                positions,
                [_tick_label(label) + ("  (new)" if label in unseen else "") for label in labels],
            )
            ax.invert_yaxis()
            ax.set_xlabel("share of rows")
            ax.grid(axis="y", visible=False)
        colour = SEVERITY_COLORS[result.severity]
        ax.set_title(
            f"{column} — {result.method} {_short(result.statistic)}, effect "
            f"{_short(result.effect_size)} ({result.severity})",
            color=colour if result.drifted else "#1f2328",
            loc="left",
        )
        ax.legend(loc="best")
    return figure


def _unseen_labels(result: Any) -> set[str]:
    distribution = result.distribution
    return {
        str(label)
        for label, ref, cur in zip(distribution.bins, distribution.reference, distribution.current)
        if ref == 0 and cur > 0 and label != "(other)"
    }


def plot_over_time(report: Any, columns: Sequence[str] | None = None, ax: Any = None):
    """Effect size per window for ``columns`` (default: the drifted ones, at most 6).

    The dashed line is the rule's ``min_effect``; filled markers are windows flagged as
    drifted.
    """
    windows = report.result.windows
    if not windows:
        raise InputError("the report has no windows; build it with by='1D' (or an integer).")
    frame = report.over_time()
    if columns is None:
        columns = report.drifted_columns[:6] or list(frame["column"].unique()[:6])
    labels = [w.window for w in windows]
    positions = np.arange(len(labels))
    import matplotlib

    palette = matplotlib.colormaps["tab10"].colors
    with _style():
        figure, ax = _new_axes(ax, (7.0, 3.0))
        for i, column in enumerate(columns):
            rows = frame[frame["column"] == column].set_index("window").reindex(labels)
            colour = palette[i % len(palette)]
            effect = rows["effect_size"].to_numpy(dtype=float)
            ax.plot(positions, effect, color=colour, linewidth=1.6, label=column)
            flagged = rows["drifted"].fillna(False).to_numpy(dtype=bool)
            ax.scatter(positions[flagged], effect[flagged], color=colour, s=22, zorder=3)
            ax.scatter(
                positions[~flagged],
                effect[~flagged],
                facecolor="white",
                edgecolor=colour,
                s=18,
                zorder=3,
            )
        ax.axhline(
            report.result.rule.min_effect,
            color=NEUTRAL_COLOR,
            linestyle="--",
            linewidth=1,
            label="min effect",
        )
        step = max(1, len(labels) // 8)
        ax.set_xticks(
            positions[::step],
            [_short_window(label) for label in labels[::step]],
            rotation=30,
            ha="right",
        )
        ax.set_ylabel("effect size (share moved)")
        ax.set_xlabel("window")
        ax.set_title("Drift over time (filled: flagged)", loc="left")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return figure


def _tick_label(label: str, width: int = 24) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


def _short_window(label: str) -> str:
    return label.split("/")[0][:16]


def _short(value: Any) -> str:
    from monitorkit.display.formatting import number

    return number(value, 2)


def figure_to_png(figure: Any) -> bytes:
    """Render a figure to PNG bytes."""
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()
