"""Putting raw column values into the two shapes drift methods take, and checking them.

Numeric methods take two sorted, finite float64 arrays (:func:`prepare_numeric`);
categorical and boolean methods take two count arrays aligned over one list of
categories (:func:`align_counts`). The report layer prepares each column once and reuses
the prepared arrays for every method, so methods never re-sort or re-count.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from monitorkit.errors import InputError


def prepare_numeric(values: Any) -> np.ndarray:
    """Cast to float64, drop NaN and ±inf, and sort ascending: the input numeric methods expect.

    Parameters
    ----------
    values : array_like, 1-D
        Numeric column values. ``None`` becomes NaN and is dropped like NaN; booleans
        become 0.0 / 1.0.

    Returns
    -------
    numpy.ndarray
        A new 1-D float64 array holding only the finite values, sorted ascending. Its
        length is the number of finite values; the caller reports how many were dropped.

    Raises
    ------
    InputError
        If ``values`` is not 1-D or cannot be converted to float64 (e.g. strings).

    Examples
    --------
    >>> prepare_numeric([3.0, None, 1.0, float("inf"), 2.0])
    array([1., 2., 3.])
    """
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"numeric drift methods need values convertible to float64; conversion failed "
            f"({exc}); encode the column as numbers or treat it as categorical"
        ) from exc
    if array.ndim != 1:
        raise InputError(
            f"numeric drift methods need a 1-D array of values, got shape {array.shape}; "
            "pass one column at a time"
        )
    return np.sort(array[np.isfinite(array)])


def align_counts(reference_values: Any, current_values: Any) -> tuple[np.ndarray, ...]:
    """Count each category on both sides, over the union of categories seen on either side.

    Missing values are not counted in any category: ``None``, float NaN (also inside
    object arrays), NaT, and any object whose truth value is ambiguous against itself
    (such as ``pandas.NA``). The caller reports the change in missing rate separately.
    Categories are the sorted unique non-missing values (``numpy.unique`` order), so a
    category seen only in ``current`` has reference count 0 and vice versa. Counting uses
    ``numpy.unique(..., return_inverse=True)`` and ``numpy.bincount`` on integer codes.

    Parameters
    ----------
    reference_values, current_values : array_like, 1-D
        Category labels (strings, integers, booleans, ...) of the same column.

    Returns
    -------
    categories : numpy.ndarray
        Sorted unique non-missing values of both sides, length K.
    reference_counts, current_counts : numpy.ndarray of int64
        Number of rows of each category on each side, aligned with ``categories``.

    Raises
    ------
    InputError
        If an input is not 1-D, or the values cannot be ordered together (e.g. a mix
        of strings and numbers); convert the column to one type first.

    Examples
    --------
    >>> categories, reference_counts, current_counts = align_counts(
    ...     ["a", "b", "a", None], ["b", "c"]
    ... )
    >>> categories.tolist(), reference_counts.tolist(), current_counts.tolist()
    (['a', 'b', 'c'], [2, 1, 0], [0, 1, 1])
    """
    reference = _non_missing(reference_values, "reference_values")
    current = _non_missing(current_values, "current_values")
    try:
        pooled = np.concatenate([reference, current])
        categories, codes = np.unique(pooled, return_inverse=True)
    except TypeError as exc:
        raise InputError(
            "categorical values of reference and current cannot be ordered together "
            f"({exc}); convert the column to a single type (e.g. str) first"
        ) from exc
    codes = codes.reshape(-1)
    n_categories = categories.size
    reference_counts = np.bincount(codes[: reference.size], minlength=n_categories)
    current_counts = np.bincount(codes[reference.size :], minlength=n_categories)
    return categories, reference_counts.astype(np.int64), current_counts.astype(np.int64)


def _non_missing(values: Any, argument: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise InputError(
            f"{argument} must be a 1-D array of category labels, got shape {array.shape}; "
            "pass one column at a time"
        )
    kind = array.dtype.kind
    if kind in "fc":
        missing = np.isnan(array)
    elif kind in "mM":
        missing = np.isnat(array)
    elif kind == "O":
        missing = _object_missing(array)
    else:
        return array
    return array[~missing]


def _is_missing_scalar(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)
    except (TypeError, ValueError):
        # pandas.NA (and similar markers) refuse a truth value: they are missing.
        return True


_object_missing_ufunc = np.frompyfunc(_is_missing_scalar, 1, 1)


def _object_missing(array: np.ndarray) -> np.ndarray:
    try:
        # Fast path: one C loop of comparisons; NaN is the only value unequal to itself.
        return np.asarray((array == None) | (array != array), dtype=bool)  # noqa: E711
    except (TypeError, ValueError):
        return _object_missing_ufunc(array).astype(bool)


def _check_prepared(method: str, reference: Any, current: Any) -> None:
    """Raise :class:`InputError` unless both arrays are what :func:`prepare_numeric` returns.

    A single O(n) pass per array: sorted ascending with finite ends implies all finite
    (NaN breaks the ordering comparison).
    """
    for argument, array in (("reference", reference), ("current", current)):
        problem = None
        if not isinstance(array, np.ndarray) or array.dtype != np.float64 or array.ndim != 1:
            found = (
                f"{type(array).__name__}"
                if not isinstance(array, np.ndarray)
                else f"array of dtype {array.dtype} and shape {array.shape}"
            )
            problem = f"must be a 1-D float64 numpy array, got {found}"
        elif array.size and not (np.isfinite(array[0]) and np.isfinite(array[-1])):
            problem = "contains NaN or infinite values"
        elif array.size > 1 and not np.all(array[1:] >= array[:-1]):
            problem = "is not sorted ascending (or contains NaN)"
        if problem is not None:
            raise InputError(
                f"{method}: {argument} {problem}; numeric drift methods take arrays that are "
                "finite and sorted ascending: pass each side through "
                "monitorkit.stats.prepare_numeric first"
            )


def _check_counts(method: str, reference_counts: Any, current_counts: Any):
    """Return both count arrays as float64 after checking shape and sign."""
    arrays = []
    for argument, counts in (
        ("reference_counts", reference_counts),
        ("current_counts", current_counts),
    ):
        try:
            array = np.asarray(counts, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError(
                f"{method}: {argument} must be numeric counts per category ({exc}); "
                "build them with monitorkit.stats.align_counts"
            ) from exc
        if array.ndim != 1:
            raise InputError(
                f"{method}: {argument} must be 1-D (one count per category), got shape "
                f"{array.shape}; build them with monitorkit.stats.align_counts"
            )
        if not np.all(np.isfinite(array)) or np.any(array < 0):
            raise InputError(
                f"{method}: {argument} must hold finite, non-negative counts; "
                "build them with monitorkit.stats.align_counts"
            )
        arrays.append(array)
    if arrays[0].shape != arrays[1].shape:
        raise InputError(
            f"{method}: reference_counts has {arrays[0].size} categories but current_counts "
            f"has {arrays[1].size}; both must be aligned over the same categories "
            "(use monitorkit.stats.align_counts)"
        )
    return arrays[0], arrays[1]
