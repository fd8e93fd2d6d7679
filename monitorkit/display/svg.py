"""Tiny inline SVG pictures for tables (no matplotlib, a few hundred bytes each)."""

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
