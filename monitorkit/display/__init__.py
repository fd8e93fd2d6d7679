"""Display of finished results: static HTML, widgets, plots, text. Never computes statistics.

Renderers are found by the report's ``kind``: ``@renders("drift")`` registers the function
that draws a drift report's section (and, optionally, its widget). A kind without a registered
renderer is looked for in ``monitorkit.display.<kind>``; a kind with none at all gets the
generic section (its ``to_frame()`` as a table), so a new report shows itself before it has a
renderer of its own, and adding one edits nothing here.

A page (``report_page``, ``save_html``) has one verdict banner at the top — the worst severity
of the reports it holds, with their verdicts — and then a section per report, each with its
heading and severity. A single report shown in a notebook is a page of one.

How a report shows itself (``_repr_mimebundle_``): ``text/plain`` always, self-contained
``text/html`` always, and the interactive widget view when :func:`display_mode` is
``"widget"``: a live IPython kernel with ipywidgets, unless the environment variable
``MONITORKIT_DISPLAY=static`` says otherwise (the report runner sets it, so executed report
notebooks hold the static view).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "display_mode",
    "mimebundle",
    "renders",
    "report_html",
    "report_page",
    "save_html",
]


@dataclass(frozen=True)
class Renderer:
    """How one kind of report is drawn: its static section, and its widget if it has one."""

    section: Callable[..., str]
    widget: Callable[[Any], Any] | None = None


_RENDERERS: dict[str, Renderer] = {}


def renders(kind: str, widget: Callable[[Any], Any] | None = None):
    """Register the decorated ``section(report, *, plots=True) -> html`` for reports of ``kind``.

    ``widget(report)``, when given, builds the interactive view for a live kernel.
    """

    def register(section: Callable[..., str]) -> Callable[..., str]:
        _RENDERERS[kind] = Renderer(section=section, widget=widget)
        return section

    return register


def renderer_for(report: Any) -> Renderer:
    """The renderer of ``report.kind`` (imported from ``monitorkit.display.<kind>`` on use)."""
    kind = getattr(report, "kind", "")
    if kind not in _RENDERERS and kind.isidentifier():
        module = f"monitorkit.display.{kind}"
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
    return _RENDERERS.get(kind) or Renderer(section=_generic_section)


def _generic_section(report: Any, *, plots: bool = True) -> str:
    """A report without a renderer of its own: its table, escaped."""
    from monitorkit.display.html import escape, scrollable

    frame = report.to_frame()
    header = "".join(f"<th>{escape(c)}</th>" for c in frame.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(v)}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return scrollable(f'<table class="mk-table"><tr>{header}</tr>{rows}</table>')


def display_mode() -> str:
    """``"widget"`` in a live kernel with ipywidgets, else ``"static"``."""
    wanted = os.environ.get("MONITORKIT_DISPLAY", "auto").lower()
    if wanted in ("static", "widget"):
        return wanted
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        return "static"
    if shell is None or shell.__class__.__name__ != "ZMQInteractiveShell":
        return "static"
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return "static"
    return "widget"


def _title(report: Any) -> str:
    return getattr(report, "title", None) or str(getattr(report, "kind", "Report")).title()


def _body(reports: tuple[Any, ...], *, plots: bool, banner_title: str | None = None) -> str:
    """One verdict banner, then a section per report."""
    from monitorkit.display.html import banner, section_heading
    from monitorkit.severity import Severity

    if not reports:
        raise ValueError("nothing to show: pass at least one report")
    worst = Severity.worst(r.severity for r in reports)
    if len(reports) == 1:
        report = reports[0]
        parts = [banner(report.severity, banner_title or _title(report), report.verdict)]
        parts.append(renderer_for(report).section(report, plots=plots))
        return "".join(parts)
    leading = [r for r in reports if r.severity == worst]
    verdict = "; ".join(f"{_title(r)}: {r.verdict}" for r in leading)
    parts = [banner(worst, banner_title or "Verdict", verdict)]
    for report in reports:
        parts.append(section_heading(report.severity, _title(report), report.verdict))
        parts.append(renderer_for(report).section(report, plots=plots))
    return "".join(parts)


def report_html(*reports: Any, plots: bool = True, section: bool = False) -> str:
    """The static view of one or more reports as an HTML fragment (for a notebook output).

    ``section=True`` draws one report as a section under a page's banner (no banner).
    """
    from monitorkit.display.html import fragment, section_heading

    if section:
        (report,) = reports
        body = section_heading(report.severity, _title(report), report.verdict)
        return fragment(body + renderer_for(report).section(report, plots=plots))
    return fragment(_body(reports, plots=plots))


def report_page(*reports: Any, title: str | None = None) -> str:
    """One or more reports as a standalone offline HTML page, with one verdict banner."""
    from monitorkit.display.html import page

    if title is None:
        title = "monitorkit " + " · ".join(_title(r).lower() for r in reports) + " report"
    return page(title, _body(reports, plots=True))


def save_html(
    path: str | os.PathLike, *reports: Any, title: str | None = None, overwrite: bool = False
) -> Path:
    """Write ``reports`` as one self-contained, offline page (an existing file is kept unless
    ``overwrite=True``)."""
    from monitorkit.store import write_atomic

    return write_atomic(path, report_page(*reports, title=title), replace=overwrite)


def mimebundle(
    report: Any, include: Any = None, exclude: Any = None, section: bool = False
) -> dict[str, Any]:
    """What Jupyter shows for a report: text, static HTML, and the widget in a live kernel."""
    bundle: dict[str, Any] = {
        "text/plain": str(report),
        "text/html": report_html(report, section=section),
    }
    renderer = renderer_for(report)
    if renderer.widget is not None and display_mode() == "widget":
        widget_bundle = renderer.widget(report)._repr_mimebundle_()
        bundle.update({k: v for k, v in widget_bundle.items() if k != "text/plain"})
    if include:
        bundle = {k: v for k, v in bundle.items() if k in include}
    if exclude:
        bundle = {k: v for k, v in bundle.items() if k not in exclude}
    return bundle
