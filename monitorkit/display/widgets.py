"""The interactive view of a drift report (ipywidgets), for a live Jupyter kernel.

Tabs: *Overview* (the static view, re-rendered when the rule changes), *Columns* (a column
selector and its reference-vs-current plot), *Over time* (a window slider, when the report has
windows). The rule controls re-evaluate the flags from the stored statistics through
:meth:`~monitorkit.DriftReport.with_rule`; nothing is recomputed from data.
"""

from __future__ import annotations

from typing import Any

from monitorkit.display import formatting as fmt
from monitorkit.display import report_html
from monitorkit.display.html import escape, fragment, severity_pill
from monitorkit.display.plots import figure_to_png, plot_column


class DriftExplorer:
    """Widgets around one :class:`~monitorkit.DriftReport`; ``.widget`` is the root."""

    def __init__(self, report: Any) -> None:
        import ipywidgets as w

        self.original = report
        self.report = report
        rule = report.result.rule
        self.min_effect = w.FloatSlider(
            value=rule.min_effect,
            min=0.01,
            max=0.5,
            step=0.01,
            description="min effect",
            readout_format=".2f",
            continuous_update=False,
        )
        self.alpha = w.FloatLogSlider(
            value=rule.alpha,
            base=10,
            min=-4,
            max=-0.5,
            step=0.1,
            description="alpha",
            readout_format=".4f",
            continuous_update=False,
        )
        self.overview = w.HTML()
        tested = [c.column for c in report.columns if not c.skipped and c.distribution]
        self.column = w.Dropdown(options=tested, description="Column")
        self.column_facts = w.HTML()
        self.plot = w.Image(format="png", layout=w.Layout(max_width="640px"))
        tabs = [
            w.VBox([w.HBox([self.min_effect, self.alpha]), self.overview]),
            w.VBox([self.column, self.column_facts, self.plot]),
        ]
        titles = ["Overview", "Columns"]
        windows = report.result.windows
        self.window = None
        if windows:
            self.window = w.SelectionSlider(
                options=[x.window for x in windows],
                description="Window",
                layout=w.Layout(width="640px"),
                continuous_update=False,
            )
            self.window_table = w.HTML()
            tabs.append(w.VBox([self.window, self.window_table]))
            titles.append("Over time")
            self.window.observe(lambda _: self._show_window(), names="value")
        self.tabs = w.Tab(children=tabs)
        self.tabs.titles = tuple(titles)
        self.widget = w.VBox([self.tabs])
        self.min_effect.observe(lambda _: self._rejudge(), names="value")
        self.alpha.observe(lambda _: self._rejudge(), names="value")
        self.column.observe(lambda _: self._show_column(), names="value")
        self._rejudge()

    def _rejudge(self) -> None:
        self.report = self.original.with_rule(
            alpha=float(self.alpha.value), min_effect=float(self.min_effect.value)
        )
        self.overview.value = report_html(self.report, plots=False)
        self._show_column()
        if self.window is not None:
            self._show_window()

    def _show_column(self) -> None:
        name = self.column.value
        if name is None:
            return
        column = self.report[name]
        self.column_facts.value = fragment(
            f"<p>{severity_pill(column.severity)} <code>{escape(name)}</code>: "
            f"{escape(column.method)} statistic {fmt.number(column.statistic)}, p-value "
            f"{fmt.p_value(column.p_value)}, effect {fmt.number(column.effect_size, 2)}, "
            f"missing {fmt.percent(column.reference_missing_rate)} → "
            f"{fmt.percent(column.current_missing_rate)}</p>"
        )
        self.plot.value = figure_to_png(plot_column(self.report, name))

    def _show_window(self) -> None:
        window = next(x for x in self.report.result.windows if x.window == self.window.value)
        order = sorted(
            range(len(window.columns)),
            key=lambda i: -(window.effect_size[i] if window.effect_size[i] is not None else -1),
        )
        rows = "".join(
            f"<tr><td><code>{escape(window.columns[i])}</code></td>"
            f'<td class="mk-num">{fmt.number(window.effect_size[i], 2)}</td>'
            f'<td class="mk-num">{fmt.p_value(window.p_value[i])}</td>'
            f"<td>{severity_pill('warning') if window.drifted[i] else ''}</td></tr>"
            for i in order
        )
        flagged = sum(window.drifted)
        self.window_table.value = fragment(
            f"<p><strong>{escape(window.window)}</strong>: {window.rows:,} rows, "
            f"{flagged} column{'s' if flagged != 1 else ''} drifted</p>"
            '<table class="mk-table"><tr><th>column</th><th class="mk-num">effect</th>'
            f'<th class="mk-num">p-value</th><th>drifted</th></tr>{rows}</table>'
        )
