"""Tiny pictures for tables (no matplotlib, a few hundred bytes each): inline SVG for pages,
text bars for views read through a sanitizer."""

from __future__ import annotations

from collections.abc import Sequence

from monitorkit.display.theme import CURRENT_COLOR, REFERENCE_COLOR

WIDTH, HEIGHT = 120, 26


def distribution_sparkline(
    reference: Sequence[float], current: Sequence[float], *, categorical: bool, max_bars: int = 10
) -> str:
    """Reference (blue) and current (orange) shares side by side, bar by bar.

    Numeric columns: histogram bins left to right. Categorical columns: the most frequent
    categories, at most ``max_bars``.
    """
    reference = list(reference)[:max_bars] if categorical else list(reference)
    current = list(current)[: len(reference)]
    if not reference:
        return ""
    top = max(max(reference, default=0), max(current, default=0)) or 1.0
    slot = WIDTH / len(reference)
    bar = max(slot / 2 - 0.5, 0.5)
    shapes = []
    for i, (ref, cur) in enumerate(zip(reference, current)):
        x = i * slot
        for offset, share, colour in ((0, ref, REFERENCE_COLOR), (bar, cur, CURRENT_COLOR)):
            height = (HEIGHT - 2) * share / top
            shapes.append(
                f'<rect x="{x + offset:.1f}" y="{HEIGHT - height:.1f}" width="{bar:.1f}" '
                f'height="{height:.1f}" fill="{colour}"/>'
            )
    return (
        f'<svg width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="reference and current '
        f'distribution">{"".join(shapes)}</svg>'
    )


_LEVELS = "▁▂▃▄▅▆▇█"


def distribution_text_bars(
    reference: Sequence[float], current: Sequence[float], *, categorical: bool, max_bars: int = 10
) -> str:
    """The same picture as :func:`distribution_sparkline`, in text: two lines of block
    characters (``▁`` … ``█``), reference above, current below, on one scale.

    For views read through a sanitizer, which drops ``<svg>`` and, in the strictest ones
    (``nbconvert --sanitize-html``), ``<img>`` too: text stays. A bin with no rows is a space;
    the lines are coloured where inline styles survive, and their order says which is which
    where they do not.
    """
    reference = list(reference)[:max_bars] if categorical else list(reference)
    current = list(current)[: len(reference)]
    if not reference:
        return ""
    top = max(max(reference, default=0), max(current, default=0)) or 1.0

    def line(shares: list[float]) -> str:
        return "".join(
            "\u00a0" if not share > 0 else _LEVELS[min(int(share / top * 8), 7)] for share in shares
        )

    # Lines as <div>: the strictest sanitizer keeps <div> and <span>, not <br>.
    return (
        '<div class="mk-spark" title="reference (upper) and current (lower) distribution" '
        'style="font-family:monospace;font-size:11px;line-height:1;white-space:pre;text-align:left">'
        f'<div style="color:{REFERENCE_COLOR}">{line(reference)}</div>'
        f'<div style="color:{CURRENT_COLOR}">{line(current)}</div></div>'
    )
