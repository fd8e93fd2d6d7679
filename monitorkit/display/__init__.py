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

A notebook's HTML is the *portable* view (:func:`monitorkit.display.html.portable`): it reads
the same when whoever opens the notebook did not run it and sees it through a sanitizer. In a
kernel's static mode a report shows itself (``_ipython_display_``, :func:`show`) as several
outputs (:func:`notebook_outputs`): its HTML cut where the plots go, and each plot as an
``image/png`` output of its own, which every renderer shows (GitHub's, ``nbconvert
--sanitize-html``, VS Code); the first part also carries ``text/markdown`` (severity, verdict
and the report's table) for renderers that drop HTML.
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
    "markdown_view",
    "mimebundle",
    "notebook_outputs",
    "renders",
    "report_html",
    "report_page",
    "save_html",
    "show",
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
    from monitorkit.display.html import fragment, portable

    with portable():
        return fragment(_fragment_body(reports, plots=plots, section=section))


def _fragment_body(reports: tuple[Any, ...], *, plots: bool, section: bool) -> str:
    from monitorkit.display.html import section_heading

    if section:
        (report,) = reports
        body = section_heading(report.severity, _title(report), report.verdict)
        return body + renderer_for(report).section(report, plots=plots)
    return _body(reports, plots=plots)


Output = tuple[dict[str, Any], dict[str, Any]]  # (data by MIME type, metadata)


def notebook_outputs(report: Any, *, section: bool = False) -> list[Output]:
    """``report``'s static view as a notebook's outputs, in order: HTML parts, and each plot as
    an ``image/png`` output of its own where it belongs.

    Every part is ``(data, metadata)`` for ``IPython.display.display(data, metadata=…,
    raw=True)``. The first part carries the scoped CSS and a ``text/markdown`` alternative
    (:func:`markdown_view`); each plot's ``text/plain`` is what it shows.
    """
    import base64

    from monitorkit.display.html import (
        Image,
        collecting_images,
        fragment,
        portable,
        split_at_images,
    )

    with portable(), collecting_images() as images:
        body = _fragment_body((report,), plots=True, section=section)
    outputs: list[Output] = []
    for part in split_at_images(body, images):
        if isinstance(part, Image):
            metadata = {"image/png": {"alt": part.alt}}
            if part.width:
                metadata["image/png"]["width"] = part.width
            data = {
                "image/png": base64.b64encode(part.png).decode("ascii"),
                "text/plain": f"<{part.alt}>",
            }
            outputs.append((data, metadata))
            continue
        first = not outputs
        data = {"text/html": fragment(part), "text/plain": _plain_text(part)}
        if first:
            data["text/plain"] = str(report)
            data["text/markdown"] = markdown_view(report, section=section)
        outputs.append((data, {}))
    return outputs


def show(report: Any, *, section: bool = False) -> None:
    """Display ``report`` in IPython: the widget view in :func:`display_mode` ``"widget"``,
    else :func:`notebook_outputs` in a Jupyter kernel, else the one bundle (a terminal)."""
    from IPython.display import display

    renderer = renderer_for(report)
    in_kernel = _in_jupyter_kernel()
    if not in_kernel or (renderer.widget is not None and display_mode() == "widget"):
        display(mimebundle(report, section=section), raw=True)
        return
    for data, metadata in notebook_outputs(report, section=section):
        display(data, metadata=metadata, raw=True)


def _in_jupyter_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell"


def _plain_text(html_text: str) -> str:
    """The words of an HTML part, for renderers that show only text."""
    import html
    import re

    text = re.sub(r"<style>.*?</style>", "", html_text, flags=re.S)
    text = re.sub(r"<br>|</(?:p|div|h\d|tr|li|summary|table)>", "\n", text)
    text = re.sub(r"</t[dh]>", " ", text)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    lines = (re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


MARKDOWN_ROWS = 30  # rows of a report's table in its text/markdown alternative
_MARKDOWN_WIDTH = 9  # columns of it: the first, then these (the shared vocabulary) as found
_MARKDOWN_COLUMNS = {
    "window",
    "segment",
    "metric",
    "value",
    "baseline",
    "change",
    "column",
    "check",
    "kind",
    "method",
    "statistic",
    "p_value",
    "threshold",
    "effect_size",
    "drifted",
    "severity",
    "count",
    "rate",
    "message",
    "status",
    "rule",
    "figure",
}


def markdown_view(report: Any, *, section: bool = False) -> str:
    """Severity, verdict and the first rows of ``report.to_frame()`` as Markdown: what a
    renderer that drops HTML shows. Data strings are escaped for Markdown (and HTML)."""
    from monitorkit.display import formatting as fmt
    from monitorkit.display.theme import SEVERITY_LABELS

    def cell(value: Any) -> str:
        if isinstance(value, (float, int)) and not isinstance(value, bool):
            text = fmt.number(value)
        else:
            text = "–" if fmt.is_missing(value) else str(value)
        return _markdown_escape(text).replace("\n", " ")

    label = SEVERITY_LABELS[str(report.severity)]
    title = _title(report)
    lines = [f"**{label}** · **{_markdown_escape(title)}**: {_markdown_escape(report.verdict)}"]
    if section:
        lines[0] = f"### {_markdown_escape(title)} · {label}\n\n{_markdown_escape(report.verdict)}"
    try:
        frame = report.to_frame()
    except Exception:  # a report without a table still has its verdict
        frame = None
    if frame is not None and len(frame.columns) and len(frame):
        keep = [frame.columns[0]]
        keep += [c for c in frame.columns[1:] if c in _MARKDOWN_COLUMNS][: _MARKDOWN_WIDTH - 1]
        shown = frame.head(MARKDOWN_ROWS)[keep]
        lines.append("")
        lines.append("| " + " | ".join(cell(c) for c in shown.columns) + " |")
        lines.append("|" + "---|" * len(shown.columns))
        for row in shown.itertuples(index=False):
            lines.append("| " + " | ".join(cell(v) for v in row) + " |")
        if len(frame) > MARKDOWN_ROWS:
            lines.append(f"\n… and {len(frame) - MARKDOWN_ROWS} more rows (`report.to_frame()`).")
    return "\n".join(lines) + "\n"


def _markdown_escape(text: str) -> str:
    """Text for Markdown: `backticked` names stay code spans (whose content Markdown shows as
    it is) unless they hold HTML; elsewhere HTML is escaped and Markdown's marks backslashed."""
    import html
    import re

    pieces = str(text).split("`")
    out = []
    for i, piece in enumerate(pieces):
        if i % 2 and i < len(pieces) - 1 and not re.search(r"[<>&]", piece):
            out.append(f"`{piece}`")
        else:
            out.append(re.sub(r"([\\|*_\[\]#])", r"\\\1", html.escape(piece, quote=False)))
    return "".join(out)


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
