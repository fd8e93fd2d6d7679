"""The static HTML view of reports: status first, then the ranked table, then details.

Self-contained: inline CSS, plots as inline PNG (base64), no JavaScript, nothing loaded from
the network. Every string that comes from the data (column names, categories, window labels,
messages that quote them) goes through :func:`escape`.

Two forms of one view. A standalone page (``save_html``) is opened by a browser as it is, so it
may rely on its ``<style>`` block and inline ``<svg>``. A notebook output is *portable*
(:func:`portable`): whoever opens the notebook without having run it (JupyterLab's untrusted
view, GitHub, ``nbconvert --sanitize-html``) sees it through a sanitizer that drops ``<style>``,
``<svg>`` and often ``<img>``. So in a portable view the meaning never depends on what they drop:
separations are text (``·``) and table cells, the severity is always a word, the shape of a
badge is in inline styles, the small distribution pictures in the ranked table are text bars,
and plots become outputs of their own (:func:`collecting_images`).
"""

from __future__ import annotations

import base64
import contextlib
import html
import re
import secrets
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from monitorkit.display.theme import (
    CSS,
    CURRENT_COLOR,
    REFERENCE_COLOR,
    SEVERITY_BACKGROUNDS,
    SEVERITY_COLORS,
    SEVERITY_LABELS,
)

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:"

# Set while a notebook output is drawn (see the module docstring).
_PORTABLE: ContextVar[bool] = ContextVar("monitorkit_portable_html", default=False)
# Set while the plots of a notebook output are collected as outputs of their own.
_IMAGES: ContextVar[list[Image] | None] = ContextVar("monitorkit_collected_images", default=None)
FACT_SEPARATOR = '<span class="mk-sep"> · </span>'


@contextlib.contextmanager
def portable() -> Iterator[None]:
    """Draw the view that reads the same through a sanitizer (notebook outputs)."""
    token = _PORTABLE.set(True)
    try:
        yield
    finally:
        _PORTABLE.reset(token)


def is_portable() -> bool:
    return _PORTABLE.get()


class Image:
    """A plot taken out of the HTML, to become an ``image/png`` output of its own."""

    def __init__(self, png: bytes, alt: str, width: int | None, marker: str) -> None:
        self.png, self.alt, self.width, self.marker = png, alt, width, marker


@contextlib.contextmanager
def collecting_images() -> Iterator[list[Image]]:
    """While drawing, :func:`png_image` leaves a marker in the HTML and collects the plot here.

    The caller cuts the HTML at the markers (:func:`split_at_images`): text, plot, text, …
    Renderers put plots at the top level of their section while collecting
    (:func:`figure_row`, :func:`folded`), so that every cut falls between whole elements.
    """
    images: list[Image] = []
    token = _IMAGES.set(images)
    try:
        yield images
    finally:
        _IMAGES.reset(token)


def split_at_images(body: str, images: list[Image]) -> list[str | Image]:
    """``body`` cut at the markers of ``images``: HTML strings and :class:`Image` in order."""
    parts: list[str | Image] = []
    rest = body
    for image in images:
        # A plot drawn but not placed (never expected) still shows, after the text before it.
        before, _, rest = rest.partition(image.marker)
        parts += [before, image]
    parts.append(rest)
    return [p for p in parts if not isinstance(p, str) or p.strip()]


def escape(value: Any) -> str:
    """Text for HTML: ``<``, ``>``, ``&`` and quotes escaped."""
    return html.escape(str(value), quote=True)


def rich_text(text: str) -> str:
    """Escape, then show `backticked` names as code."""
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", escape(text))


def severity_pill(severity: str) -> str:
    """The severity as a word in a badge; the badge's shape is inline, so it survives the loss
    of the page's CSS."""
    colour = SEVERITY_COLORS[severity]
    return (
        f'<span class="mk-pill" style="display:inline-block;padding:0 7px;border-radius:10px;'
        f"border:1px solid {colour};color:{colour};background:{SEVERITY_BACKGROUNDS[severity]};"
        f'font-size:11px;font-weight:600;white-space:nowrap">{SEVERITY_LABELS[severity]}</span>'
    )


def banner(severity: str, title: str, verdict: str) -> str:
    # The space between label and verdict is what separates them without the CSS (a flex
    # container ignores it, so the look with the CSS is unchanged).
    colour = SEVERITY_COLORS[severity]
    return (
        f'<div class="mk-banner" style="border-left:6px solid {colour};border-radius:4px;'
        f'padding:10px 14px;margin:4px 0 10px;background:{SEVERITY_BACKGROUNDS[severity]}">'
        f'<strong class="mk-label" style="color:{colour}">{SEVERITY_LABELS[severity]}</strong> '
        f'<span class="mk-verdict"><strong>{escape(title)}:</strong> {rich_text(verdict)}'
        "</span></div>"
    )


def facts(items: list[str]) -> str:
    """The summary strip under a heading: figures separated by a visible ``·``."""
    return '<p class="mk-facts">' + FACT_SEPARATOR.join(f"<span>{f}</span>" for f in items) + "</p>"


def png_image(png: bytes, alt: str, width: int | None = None) -> str:
    """An inline PNG; while :func:`collecting_images`, a marker where the plot goes."""
    collected = _IMAGES.get()
    if collected is not None:
        marker = f"<!--mk-image-{secrets.token_hex(8)}-->"
        collected.append(Image(png, alt, width, marker))
        return marker
    data = base64.b64encode(png).decode("ascii")
    size = f' width="{width}"' if width else ""
    return f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}"{size}>'


def figure_row(images: list[str]) -> str:
    """Plots side by side on a wide page; one after another (each its own output) in a
    notebook."""
    if _IMAGES.get() is not None:
        return "".join(images)
    return '<div class="mk-plots">' + "".join(f"<figure>{i}</figure>" for i in images) + "</div>"


def folded(summary: str, body: str) -> str:
    """``<details>`` around ``body``; a heading instead while plots are collected (an output
    of its own cannot sit inside a ``<details>``). ``summary`` is HTML."""
    if _IMAGES.get() is not None:
        return f"<h3>{summary}</h3>{body}"
    return f"<details><summary>{summary}</summary>{body}</details>"


def fragment(body: str, *, css: bool = True) -> str:
    """A block for a notebook output: the scoped CSS and the body.

    ``css=False`` for the later parts of one display: a ``<style>`` applies to the whole page,
    and a sanitizer that escapes it instead of dropping it shows it as text.
    """
    style = f"<style>{CSS}</style>" if css else ""
    return f'<div class="mk-report" style="{_ROOT_STYLE}">{style}{body}</div>'


# The root's look without the stylesheet (a sanitizer keeps inline styles longer than <style>).
_ROOT_STYLE = (
    "font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:13px;"
    "color:#1f2328;line-height:1.45;max-width:1100px"
)


def page(title: str, body: str) -> str:
    """A whole standalone page (``save_html``): no script, nothing loaded from outside."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head>"
        f'<body style="margin:24px auto;max-width:1120px;padding:0 16px">{fragment(body)}'
        "</body></html>\n"
    )


def legend() -> str:
    """Which colour is which, in words too (a portable view's text bars: reference above)."""
    where = ("upper", "lower") if is_portable() else ("", "")
    labels = [
        f"{name} ({position} bars)" if position else name
        for name, position in zip(("reference", "current"), where)
    ]
    return (
        '<div class="mk-legend">'
        f'<span class="mk-swatch-mark" style="color:{REFERENCE_COLOR}">■</span> {labels[0]}'
        f'{FACT_SEPARATOR}<span class="mk-swatch-mark" style="color:{CURRENT_COLOR}">■</span> '
        f"{labels[1]}</div>"
    )


def section_heading(severity: str, title: str, verdict: str) -> str:
    """A report's heading inside a page that already has its verdict banner."""
    return (
        f'<h2 class="mk-section">{escape(title)} {severity_pill(severity)}</h2>'
        f'<p class="mk-section-verdict">{rich_text(verdict)}</p>'
    )


def scrollable(table: str) -> str:
    """A wide table scrolls sideways instead of being cut off in narrow notebooks."""
    return f'<div class="mk-scroll">{table}</div>'
