"""``method=`` and ``threshold=`` of a drift report, checked once, before any column is computed.

Each option is one value for every tested column, or a mapping whose keys are column names or
column kinds (``numeric``, ``categorical``, ``boolean``); a column's own key wins over its
kind's. Every key must name a column of the data or a kind; every method must be registered
(:mod:`monitorkit.stats`) and apply to the kind of each column it is used for; every
threshold must be a finite number within the range of what it is compared with (a p-value in
``(0, 1]``, or the method's statistic range). A mistake raises
:class:`~monitorkit.errors.InputError` naming the option and the key, with the closest column,
kind or method — so ``method={"numerical": "psi"}`` or ``threshold={"car_valeu": 0.3}`` fail
at once instead of being silently ignored.
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from monitorkit import stats
from monitorkit.errors import InputError
from monitorkit.schema import KINDS, list_names

OPTION_KINDS: tuple[str, ...] = stats.COLUMN_KINDS
"""The kinds that may key ``method=`` / ``threshold=`` (the kinds tested for drift)."""


class MethodChoice(NamedTuple):
    """How one column is judged: its method, its threshold, and which rule decides."""

    method: stats.DriftMethod | None
    threshold: float | None  # None under the default rule (the rule sets it)
    default_rule: bool  # True: the report's decision rule; False: the method's own threshold


def option_for(option: Any, column: str, kind: str) -> Any:
    """The value of a per-column / per-kind option for one column: the column's own key
    first, then its kind's, else None; a single value applies to every column.

    Examples
    --------
    >>> option_for({"numeric": "psi", "age": "ks"}, "age", "numeric")
    'ks'
    >>> option_for({"numeric": "psi"}, "city", "categorical") is None
    True
    """
    if isinstance(option, Mapping):
        if column in option:
            return option[column]
        return option.get(kind)
    return option


def choose_methods(
    columns: Mapping[str, str],
    method: str | Mapping[str, str | None] | None = None,
    threshold: float | Mapping[str, float | None] | None = None,
    *,
    defaults: Mapping[str, str],
    known_columns: Iterable[str] | None = None,
) -> dict[str, MethodChoice]:
    """Check ``method=`` and ``threshold=`` and choose each tested column's method and threshold.

    Parameters
    ----------
    columns
        The columns that will be tested: name → kind (``numeric``, ``categorical`` or
        ``boolean``).
    method
        A registered method name for every column, a mapping from column name or kind to a
        name, or None.
    threshold
        One number, a mapping from column name or kind to a number, or None.
    defaults
        The method of each kind when a column is given a threshold but no method.
    known_columns
        Every column name of the data, which mapping keys are checked against; None leaves
        keys unchecked (one column judged on its own).

    Returns
    -------
    dict of str to MethodChoice
        One choice per column of ``columns``. A column given neither a method nor a
        threshold is judged by the report's default rule (``default_rule=True``, threshold
        None); otherwise by its method's own rule, at the given threshold or the method's
        default one.

    Raises
    ------
    InputError
        A key that is neither a column nor a kind (with the closest of either); a method
        name that is not registered (with the registered ones); a method that does not
        apply to a column's kind (naming the column, its kind and the methods that apply);
        a threshold that is not a finite number, or is outside what it is compared with.

    Examples
    --------
    >>> choices = choose_methods(
    ...     {"age": "numeric", "city": "categorical"},
    ...     method={"numeric": "psi"},
    ...     threshold={"age": 0.25},
    ...     defaults={"numeric": "ks", "categorical": "chi2", "boolean": "chi2"},
    ...     known_columns=["age", "city"],
    ... )
    >>> choices["age"].method.name, choices["age"].threshold, choices["city"].default_rule
    ('psi', 0.25, True)
    """
    known = None if known_columns is None else list(dict.fromkeys(known_columns))
    _check_shape("method", method, _is_method_name, "a method name (e.g. 'psi')")
    _check_shape("threshold", threshold, _is_number, "a number (e.g. 0.05)")
    _check_keys("method", method, known)
    _check_keys("threshold", threshold, known)
    _check_method_names(method)
    _check_finite(threshold)

    choices: dict[str, MethodChoice] = {}
    for column, kind in columns.items():
        name = option_for(method, column, kind)
        value = option_for(threshold, column, kind)
        default_rule = name is None and value is None
        spec = stats.get_method(name if name is not None else defaults[kind])
        if kind not in spec.kinds:
            scalar = not isinstance(method, Mapping)
            fix = (
                f"give it a method by kind, e.g. method={{'{kind}': "
                f"'{defaults.get(kind, stats.available_methods(kind)[0])}', …}}"
                if scalar
                else f"change method[{column if column in method else kind!r}]"
            )
            raise InputError(
                f"method {spec.name!r} does not apply to {kind} column {column!r} ({spec.name} "
                f"applies to: {', '.join(sorted(spec.kinds))}); methods for {kind} columns: "
                f"{', '.join(stats.available_methods(kind))}. To fix it, {fix}."
            )
        chosen = None
        if not default_rule:
            chosen = spec.default_threshold if value is None else float(value)
            _check_range(spec, chosen, column)
        choices[column] = MethodChoice(spec, chosen, default_rule)
    return choices


def _is_method_name(value: Any) -> bool:
    return isinstance(value, str)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_shape(option: str, value: Any, valid: Any, one: str) -> None:
    """One valid value, a mapping of valid values (None allowed: "not given"), or None."""
    if value is None or valid(value):
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if item is not None and not valid(item):
                raise InputError(
                    f"{option}[{key!r}] must be {one} or None; got {item!r} "
                    f"({type(item).__name__})."
                )
        return
    raise InputError(
        f"{option} must be {one}, a mapping from column name or kind to one, or None; got "
        f"{value!r} ({type(value).__name__})."
    )


def _check_keys(option: str, value: Any, known: list[str] | None) -> None:
    if not isinstance(value, Mapping):
        return
    kinds = ", ".join(OPTION_KINDS)
    for key in value:
        if not isinstance(key, str):
            raise InputError(
                f"{option}= keys are column names or kinds ({kinds}); got {key!r} "
                f"({type(key).__name__})."
            )
        if key in OPTION_KINDS or known is None or key in known:
            continue
        if key in KINDS:
            raise InputError(
                f"{option}[{key!r}]: {key} columns are not tested for drift, so they take no "
                f"{option}; keys are column names or the kinds {kinds}."
            )
        close = difflib.get_close_matches(key, [*OPTION_KINDS, *known], n=1, cutoff=0.6)
        suggestion = f"; did you mean {close[0]!r}?" if close else "."
        raise InputError(
            f"{option}[{key!r}]: {key!r} is neither a column nor a kind{suggestion} Keys of "
            f"{option}= are column names ({list_names(known, near=key, limit=6)}) or the "
            f"kinds {kinds}."
        )


def _check_method_names(method: Any) -> None:
    """Every name is registered; a name keyed by a kind applies to that kind."""
    items = method.items() if isinstance(method, Mapping) else [(None, method)]
    for key, name in items:
        if name is None:
            continue
        where = "method" if key is None else f"method[{key!r}]"
        try:
            stats.get_method(name, kind=key if key in OPTION_KINDS else None)
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from exc


def _check_finite(threshold: Any) -> None:
    items = threshold.items() if isinstance(threshold, Mapping) else [(None, threshold)]
    for key, value in items:
        if value is not None and not math.isfinite(value):
            where = "threshold" if key is None else f"threshold[{key!r}]"
            raise InputError(f"{where} must be a finite number; got {value!r}.")


def _check_range(spec: stats.DriftMethod, threshold: float, column: str) -> None:
    if spec.threshold_on == "p_value":
        if not 0 < threshold <= 1:
            raise InputError(
                f"threshold {threshold:g} for column {column!r} is compared with the p-value of "
                f"{spec.name} ({spec.label}), which lies in [0, 1]; give a value in (0, 1], "
                f"e.g. {spec.default_threshold:g}."
            )
        return
    low, high = spec.statistic_range
    if not low <= threshold <= high:
        raise InputError(
            f"threshold {threshold:g} for column {column!r} is compared with the {spec.name} "
            f"statistic ({spec.label}), which lies in [{low:g}, {high:g}]; outside it every "
            f"column would be drifted or none. The default is {spec.default_threshold:g}."
        )
