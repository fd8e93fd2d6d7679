"""The shape of text values: what format a value has, whatever its content.

Each maximal run of letters and digits becomes one token — ``w+`` when it mixes letters and
digits (hex ids), ``9+`` digits (``9`` a single one), ``Aa+`` capitalised, ``A+`` upper-case,
``a+`` other letters; every other character stays as it is. So ``"REQ-00123"`` → ``"A+-9+"``,
``"$12.50"`` → ``"$9+.9+"``, ``"12,50"`` → ``"9+,9+"``, ``"req-3fa9c1"`` → ``"a+-w+"``,
``"2026-01-03"`` → ``"9+-9+-9+"``. Profiles count shapes (mergeable); the data-quality checks
compare them.
"""

from __future__ import annotations

import pandas as pd

MAX_SHAPES = 100  # shapes kept per column, most frequent first (the rest counted as other)

# Each maximal run of letters and digits becomes one token; the order matters (a run of
# both letters and digits first, so that its parts are not matched on their own).
_SHAPE_TOKENS = [
    (r"[A-Za-z0-9]*(?:[A-Za-z][0-9]|[0-9][A-Za-z])[A-Za-z0-9]*", "w+"),
    (r"[0-9]{2,}", "9+"),
    (r"[0-9]", "9"),
    (r"[A-Z][a-z]+", "Aa+"),
    (r"[A-Z]{2,}", "A+"),
    (r"[a-zA-Z]+", "a+"),
]


def value_shape(text: str) -> str:
    """The shape of one text value (module docstring).

    >>> value_shape("$12.50"), value_shape("12,50"), value_shape("2026-01-03")
    ('$9+.9+', '9+,9+', '9+-9+-9+')
    >>> value_shape("REQ-00123"), value_shape("req-3fa9c1"), value_shape("Paris")
    ('A+-9+', 'a+-w+', 'Aa+')
    """
    return shapes_of(pd.Series([text], dtype="string")).iloc[0]


def shapes_of(values: pd.Series) -> pd.Series:
    """:func:`value_shape` of every value (vectorised with pyarrow's RE2 regular expressions)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    array = pa.array(values.astype("string").to_numpy(dtype=object, na_value=None), pa.string())
    for index, (pattern, _) in enumerate(_SHAPE_TOKENS):
        array = pc.replace_substring_regex(array, pattern, chr(0xE000 + index))
    for index, (_, token) in enumerate(_SHAPE_TOKENS):
        array = pc.replace_substring(array, chr(0xE000 + index), token)
    return pd.Series(array.to_pylist(), index=values.index, dtype="string")


def shape_counts(labels: pd.Series) -> dict[str, int]:
    """Counts of value shapes of non-missing text values (each distinct value shaped once)."""
    counts = labels.dropna().value_counts()
    if counts.empty:
        return {}
    shapes = shapes_of(pd.Series(counts.index, dtype="string"))
    grouped = pd.Series(counts.to_numpy()).groupby(shapes.to_numpy()).sum()
    return {str(k): int(v) for k, v in grouped.items()}
