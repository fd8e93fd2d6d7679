"""The static HTML view of reports: status first, then the ranked table, then details.

Self-contained: CSS in the HTML itself, plots as inline PNG (base64), no JavaScript, nothing
loaded from the network. Every string that comes from the data (column names, categories,
window labels, messages that quote them) goes through :func:`escape`.

Two forms of one view. A standalone page (``save_html``) is opened by a browser as it is, so it
may rely on its ``<style>`` block and inline ``<svg>``. A notebook output is *portable*
(:func:`portable`): whoever opens the notebook without having run it (JupyterLab's untrusted
view, GitHub, ``nbconvert --sanitize-html``) sees it through a sanitizer that drops ``<style>``,
``<svg>`` and often ``<img>``. So in a portable view the meaning never depends on what they drop:
separations are text (``·``) and table cells, the severity is always a word, the shape of a
badge is in inline styles, the small distribution pictures in the ranked table are text bars,
and plots become outputs of their own (:func:`collecting_images`). Its look is in ``style``
attributes too (:func:`fragment`): a sanitizer that escapes ``<style>`` instead of dropping it
(``nbconvert --sanitize-html``) would show the stylesheet as text, while one that drops
``style`` attributes drops them silently, and one that filters them (JupyterLab's) keeps what
it allows.
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

import css_inline

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


def fragment(body: str) -> str:
    """A block for a notebook output: the body, with the stylesheet inlined.

    A notebook output carries no ``<style>`` block (see the module docstring): the rules of
    :data:`~monitorkit.display.theme.CSS` are put into the ``style`` attributes of the elements
    they select, and a ``style`` an element already has keeps priority over them. So every part
    of a display carries its own look.

    Only tags that ``nbconvert --sanitize-html`` keeps (:data:`SANITIZER_KEPT_TAGS`, whose
    attributes it drops silently) carry a ``style``: any other tag (``<p>``, ``<h3>``,
    ``<th>``, ``<summary>``, …) it shows as text, attributes and all. Such an element passes
    its look on to a ``<span>`` around its content (kept, its ``style`` dropped silently): a
    paragraph or heading all of it, as a block; a header cell what its content inherits
    (colour, font, alignment, wrapping) and its padding, its border being left to the
    notebook's own CSS; a summary what its content inherits.
    """
    # Rules that cannot sit in a style attribute are left out; the stylesheet has none (see
    # theme.CSS). Structural pseudo-classes (:first-child) are resolved here, on this part.
    inlined = _INLINER.inline_fragment(_root(body, stylesheet=False), CSS)
    # The parser adds the <tbody> that the markup leaves implicit (a browser does too); taken
    # out again, so that a sanitizer that shows unknown tags as text has none more to show.
    return _styles_on_kept_tags_only(_TBODY_TAG.sub("", inlined))


# nbconvert's sanitizer (its ``clean_html``, bleach): the tags it keeps, silently dropping
# their attributes other than class and id; any other tag it escapes, shown with its attributes.
SANITIZER_KEPT_TAGS = frozenset(
    "a abbr acronym b blockquote code em i li ol strong ul div pre span table tr td".split()
)
# Nothing is loaded: the page's own stylesheet is the only CSS, and data strings are escaped,
# so the body holds no <style> or <link> of its own.
_INLINER = css_inline.CSSInliner(inline_style_tags=False, load_remote_stylesheets=False)
# A tag as the inliner writes it: every attribute value in double quotes (in which `>` may
# stand), every element but a void one closed, `<` in text always escaped.
_TAG = re.compile(r'<(/?)([a-zA-Z][a-zA-Z0-9]*)((?:\s+[^\s"\'>/=]+(?:="[^"]*")?)*)\s*/?>')
_STYLE_ATTRIBUTE = re.compile(r'\s+style="([^"]*)"')
_ATTRIBUTE_VALUE = re.compile(r'="[^"]*"')
_TBODY_TAG = re.compile(r"</?tbody>")
_VOID_TAGS = frozenset("area base br col embed hr img input link meta source track wbr".split())
# What an element passes on to its content, so what a span around the content can carry.
_INHERITED = frozenset(
    "color cursor font-family font-size font-style font-variant-numeric font-weight "
    "letter-spacing line-height text-align white-space".split()
)
# Blocks whose whole look a block span inside can carry (its margins collapse into the
# block's own, its border and padding are drawn just inside).
_BLOCK_HOSTS = frozenset("p h1 h2 h3 h4 h5 h6".split())
# Where the span is a block with the inherited properties only (text-align needs a block; the
# cell's padding and border would be drawn inside it). In a <summary> it stays inline, beside
# the disclosure marker.
_CELL_HOSTS = frozenset("th caption figcaption".split())


def _styles_on_kept_tags_only(inlined: str) -> str:
    """``inlined`` with each ``style`` on a tag outside :data:`SANITIZER_KEPT_TAGS` moved onto
    a span around the element's content, and ``<`` / ``>`` in attribute values escaped again
    (the inliner writes them as they are, which is valid HTML but not how :func:`escape`
    left data strings)."""
    out: list[str] = []
    closers: list[tuple[str, str]] = []  # each open element: (tag, what goes before its end)
    position = 0
    for tag in _TAG.finditer(inlined):
        out.append(inlined[position : tag.start()])
        position = tag.end()
        closing, name = tag.group(1), tag.group(2).lower()
        if closing:
            while closers:
                opened, before_end = closers.pop()
                out.append(before_end)
                if opened == name:
                    break
            out.append(tag.group(0))
            continue
        attributes = _ATTRIBUTE_VALUE.sub(_angles_escaped, tag.group(3))
        style = _STYLE_ATTRIBUTE.search(attributes)
        passed_on: list[str] = []
        if style is not None and name not in SANITIZER_KEPT_TAGS:
            attributes = _STYLE_ATTRIBUTE.sub("", attributes)
            passed_on = _passed_on(name, html.unescape(style.group(1)))
        out.append(f"<{tag.group(2)}{attributes}>")
        if name in _VOID_TAGS:
            continue
        if passed_on:
            out.append(f'<span style="{escape(";".join(passed_on))}">')
        closers.append((name, "</span>" if passed_on else ""))
    out.append(inlined[position:])
    return "".join(out)


def _passed_on(name: str, style: str) -> list[str]:
    """The declarations of ``style`` that a span around the content of a ``name`` carries."""
    declarations = [d.strip() for d in style.split(";") if d.strip()]
    if name in _BLOCK_HOSTS:
        return ["display: block", *declarations]
    inherited = [d for d in declarations if d.partition(":")[0].strip() in _INHERITED]
    if inherited and name in _CELL_HOSTS:
        # A cell's padding, drawn inside it by a block span as by the cell itself (its
        # border cannot move: the notebook's own CSS draws header borders).
        padding = [d for d in declarations if d.partition(":")[0].strip().startswith("padding")]
        return ["display: block", *inherited, *padding]
    return inherited


def _angles_escaped(value: re.Match[str]) -> str:
    return value.group(0).replace("<", "&lt;").replace(">", "&gt;")


def _root(body: str, *, stylesheet: bool) -> str:
    style = f"<style>{CSS}</style>" if stylesheet else ""
    return f'<div class="mk-report" style="{_ROOT_STYLE}">{style}{body}</div>'


# The root's look without the stylesheet (a sanitizer keeps inline styles longer than <style>).
_ROOT_STYLE = (
    "font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:13px;"
    "color:#1f2328;line-height:1.45;max-width:1100px"
)


def page(title: str, body: str) -> str:
    """A whole standalone page (``save_html``): no script, nothing loaded from outside.

    A browser opens it as it is, so its look stays in one ``<style>`` block."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head>"
        '<body style="margin:24px auto;max-width:1120px;padding:0 16px">'
        f"{_root(body, stylesheet=True)}"
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
