"""The static HTML view of reports: status first, then the ranked table, then details.

Self-contained: inline CSS, plots as inline PNG (base64), tiny tables as inline SVG, no
JavaScript, nothing loaded from the network. Every string that comes from the data (column
names, categories, window labels, messages that quote them) goes through :func:`escape`.
"""

from __future__ import annotations

import base64
import html
import re
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


def escape(value: Any) -> str:
    """Text for HTML: ``<``, ``>``, ``&`` and quotes escaped."""
    return html.escape(str(value), quote=True)


def rich_text(text: str) -> str:
    """Escape, then show `backticked` names as code."""
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", escape(text))


def severity_pill(severity: str) -> str:
    colour = SEVERITY_COLORS[severity]
    return (
        f'<span class="mk-pill" style="color:{colour};border-color:{colour};'
        f'background:{SEVERITY_BACKGROUNDS[severity]}">{SEVERITY_LABELS[severity]}</span>'
    )


def banner(severity: str, title: str, verdict: str) -> str:
    colour = SEVERITY_COLORS[severity]
    return (
        f'<div class="mk-banner" style="border-color:{colour};'
        f'background:{SEVERITY_BACKGROUNDS[severity]}">'
        f'<span class="mk-label" style="color:{colour}">{SEVERITY_LABELS[severity]}</span>'
        f'<span class="mk-verdict"><strong>{escape(title)}:</strong> {rich_text(verdict)}'
        "</span></div>"
    )


def png_image(png: bytes, alt: str, width: int | None = None) -> str:
    data = base64.b64encode(png).decode("ascii")
    size = f' width="{width}"' if width else ""
    return f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}"{size}>'


def fragment(body: str) -> str:
    """A block for a notebook output: the scoped CSS and the body."""
    return f'<div class="mk-report"><style>{CSS}</style>{body}</div>'


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
    return (
        '<div class="mk-legend">'
        f'<span class="mk-swatch" style="background:{REFERENCE_COLOR}"></span>reference'
        f'<span class="mk-swatch" style="background:{CURRENT_COLOR}"></span>current</div>'
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
