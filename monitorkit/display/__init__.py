"""Display of finished results: static HTML, widgets, plots, text. Never computes statistics.

How a report shows itself (``_repr_mimebundle_``): ``text/plain`` always, self-contained
``text/html`` always, and the interactive widget view when :func:`display_mode` is
``"widget"``: a live IPython kernel with ipywidgets, unless the environment variable
``MONITORKIT_DISPLAY=static`` says otherwise (the report runner sets it, so executed report
notebooks hold the static view).
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["display_mode", "mimebundle", "report_html", "report_page"]


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


def report_html(report: Any, *, plots: bool = True) -> str:
    """The static view of a report as an HTML fragment (for a notebook output)."""
    from monitorkit.display.html import drift_body, fragment

    return fragment(drift_body(report, plots=plots))


def report_page(report: Any, title: str = "monitorkit drift report") -> str:
    """The static view of a report as a standalone HTML page."""
    from monitorkit.display.html import drift_body, page

    return page(title, drift_body(report))


def mimebundle(report: Any, include: Any = None, exclude: Any = None) -> dict[str, Any]:
    bundle: dict[str, Any] = {"text/plain": str(report), "text/html": report_html(report)}
    if display_mode() == "widget":
        from monitorkit.display.widgets import DriftExplorer

        explorer = DriftExplorer(report)
        widget_bundle = explorer.widget._repr_mimebundle_()
        bundle.update({k: v for k, v in widget_bundle.items() if k != "text/plain"})
    if include:
        bundle = {k: v for k, v in bundle.items() if k in include}
    if exclude:
        bundle = {k: v for k, v in bundle.items() if k not in exclude}
    return bundle
