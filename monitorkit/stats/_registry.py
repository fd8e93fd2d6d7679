"""The registry of drift methods: a declarative spec per method and the lookup functions.

One :class:`DriftMethod` per name. A method can apply to numeric columns, to categorical
and boolean columns, or to both (PSI, Jensen–Shannon, Hellinger, KL). There are exactly
two calling conventions, so a spec holds up to two functions:

- ``numeric_func(reference, current, **options)`` on sorted, finite float64 arrays
  (:func:`~monitorkit.stats.prepare_numeric`), used for ``"numeric"`` columns;
- ``counts_func(reference_counts, current_counts, **options)`` on count arrays aligned over
  the same categories (:func:`~monitorkit.stats.align_counts`), used for
  ``"categorical"`` and ``"boolean"`` columns.

:meth:`DriftMethod.func_for` picks the one for a column kind. Both return a
:class:`~monitorkit.stats.MethodResult`.
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from monitorkit.errors import InputError
from monitorkit.stats._results import MethodResult

COLUMN_KINDS: tuple[str, ...] = ("numeric", "categorical", "boolean")
"""Column kinds a drift method can apply to."""

_COUNT_KINDS = frozenset({"categorical", "boolean"})
_THRESHOLD_ON = ("p_value", "statistic")
_DRIFT_WHEN = ("below", "above")
_COSTS = ("cheap", "expensive")

F = TypeVar("F", bound=Callable[..., MethodResult])


@dataclass(frozen=True)
class DriftMethod:
    """The declarative spec of one drift method.

    Attributes
    ----------
    name : str
        Registry key, e.g. ``"ks"``.
    label : str
        Human name, e.g. ``"Kolmogorov–Smirnov"``.
    kinds : frozenset of str
        Column kinds it applies to, a subset of ``{"numeric", "categorical", "boolean"}``.
    default_threshold : float
        Threshold used when the caller gives none.
    threshold_on : {"p_value", "statistic"}
        Which number the threshold is compared with.
    drift_when : {"below", "above"}
        ``"below"``: drift when the value is ``< threshold`` (p-values);
        ``"above"``: drift when the value is ``>= threshold`` (distances).
    statistic_range : tuple of float
        Smallest and largest possible statistic (``math.inf`` when unbounded).
    description : str
        What the statistic means to a user, in one or two sentences.
    cost : {"cheap", "expensive"}
        ``"expensive"`` for methods that are slow on large columns (permutation tests).
    numeric_func : callable or None
        Implementation for numeric columns, on sorted finite float64 arrays.
    counts_func : callable or None
        Implementation for categorical and boolean columns, on aligned count arrays.
    """

    name: str
    label: str
    kinds: frozenset[str]
    default_threshold: float
    threshold_on: str
    drift_when: str
    statistic_range: tuple[float, float]
    description: str
    cost: str = "cheap"
    numeric_func: Callable[..., MethodResult] | None = field(default=None, repr=False)
    counts_func: Callable[..., MethodResult] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # Accept any iterable of kinds and any pair of bounds, store them immutable.
        kinds = self.kinds
        object.__setattr__(self, "kinds", frozenset({kinds} if isinstance(kinds, str) else kinds))
        try:
            object.__setattr__(self, "statistic_range", tuple(self.statistic_range))
        except TypeError as exc:
            raise InputError(
                f"drift method {self.name!r}: statistic_range must be a (low, high) pair, "
                f"got {self.statistic_range!r}"
            ) from exc
        _validate_spec(self)

    @property
    def has_p_value(self) -> bool:
        """True when the method is a test whose threshold applies to its p-value."""
        return self.threshold_on == "p_value"

    def func_for(self, kind: str) -> Callable[..., MethodResult]:
        """The implementation for a column ``kind`` (``numeric_func`` or ``counts_func``).

        Raises
        ------
        InputError
            If the method does not apply to ``kind``; the message lists methods that do.
        """
        _check_kind(kind)
        if kind not in self.kinds:
            raise InputError(
                f"drift method {self.name!r} does not apply to {kind} columns "
                f"(it applies to: {', '.join(sorted(self.kinds))}); "
                f"available for {kind} columns: {', '.join(available_methods(kind))}"
            )
        func = self.numeric_func if kind == "numeric" else self.counts_func
        assert func is not None  # guaranteed by _validate_spec
        return func

    def is_drift(self, result: MethodResult, threshold: float | None = None) -> bool:
        """Whether ``result`` signals drift under ``threshold`` (default: the method's).

        Compares ``result.p_value`` or ``result.statistic`` (per :attr:`threshold_on`)
        with the threshold: ``value < threshold`` when :attr:`drift_when` is ``"below"``,
        ``value >= threshold`` when ``"above"``. A NaN value (degenerate statistic) is
        never drift: it is reported as a finding instead.
        """
        if threshold is None:
            threshold = self.default_threshold
        value = result.p_value if self.threshold_on == "p_value" else result.statistic
        if value is None:
            raise InputError(
                f"drift method {self.name!r} thresholds its p-value, but the result has "
                "p_value=None; the method's function must return a p-value"
            )
        if math.isnan(value):
            return False
        return bool(value < threshold) if self.drift_when == "below" else bool(value >= threshold)


_REGISTRY: dict[str, DriftMethod] = {}


def register_method(
    name: str,
    *,
    label: str,
    kinds: Iterable[str],
    default_threshold: float,
    threshold_on: str,
    drift_when: str,
    statistic_range: tuple[float, float],
    description: str,
    cost: str = "cheap",
    numeric_func: Callable[..., MethodResult] | None = None,
    counts_func: Callable[..., MethodResult] | None = None,
    replace: bool = False,
) -> Any:
    """Register a drift method, as a decorator or directly.

    As a decorator (no function given), the decorated function becomes ``numeric_func``
    when ``kinds`` is ``{"numeric"}`` or ``counts_func`` when ``kinds`` is within
    ``{"categorical", "boolean"}``, and is returned unchanged. A method for numeric *and*
    categorical columns needs both functions: pass ``numeric_func=`` and ``counts_func=``;
    the new :class:`DriftMethod` is then returned.

    Parameters
    ----------
    name : str
        Registry key: lower-case letters, digits and underscores.
    label, kinds, default_threshold, threshold_on, drift_when, statistic_range, \
description, cost
        The spec fields; see :class:`DriftMethod`.
    numeric_func, counts_func : callable, optional
        Implementations (see the module docstring for their calling conventions).
    replace : bool, default False
        Overwrite an existing method of the same name (e.g. when re-running a notebook
        cell); otherwise re-registering a name raises :class:`InputError`.

    Examples
    --------
    >>> @register_method(
    ...     "mean_shift", label="Mean shift", kinds={"numeric"}, default_threshold=0.5,
    ...     threshold_on="statistic", drift_when="above",
    ...     statistic_range=(0.0, math.inf),
    ...     description="Absolute difference of the means.",
    ... )
    ... def mean_shift(reference, current):
    ...     return MethodResult(abs(current.mean() - reference.mean()), None)
    >>> get_method("mean_shift").label
    'Mean shift'
    >>> unregister_method("mean_shift")
    """
    spec_fields = dict(
        name=name,
        label=label,
        kinds=frozenset({kinds} if isinstance(kinds, str) else kinds),
        default_threshold=default_threshold,
        threshold_on=threshold_on,
        drift_when=drift_when,
        statistic_range=statistic_range,
        description=description,
        cost=cost,
    )
    if numeric_func is not None or counts_func is not None:
        method = DriftMethod(**spec_fields, numeric_func=numeric_func, counts_func=counts_func)
        _add(method, replace=replace)
        return method

    def decorator(func: F) -> F:
        kinds_set = spec_fields["kinds"]
        if "numeric" in kinds_set and kinds_set & _COUNT_KINDS:
            raise InputError(
                f"drift method {name!r} applies to kinds {sorted(kinds_set)}, which take "
                "two calling conventions (sorted values and category counts); register it "
                "with register_method(..., numeric_func=..., counts_func=...) instead of "
                "as a decorator"
            )
        # Unknown kinds fall through to the spec's own validation and its message.
        slot = "counts_func" if kinds_set & _COUNT_KINDS else "numeric_func"
        _add(DriftMethod(**spec_fields, **{slot: func}), replace=replace)
        return func

    return decorator


def unregister_method(name: str) -> None:
    """Remove a registered method; unknown names raise :class:`InputError`."""
    get_method(name)
    del _REGISTRY[name]


def get_method(name: str, kind: str | None = None) -> DriftMethod:
    """Look up a drift method by name, optionally checking it applies to a column ``kind``.

    Raises
    ------
    InputError
        If the name is unknown (the message lists the available methods per column kind
        and suggests the closest name), or the method does not apply to ``kind``.

    Examples
    --------
    >>> get_method("ks").label
    'Kolmogorov–Smirnov'
    """
    method = _REGISTRY.get(name) if isinstance(name, str) else None
    if method is None:
        suggestion = ""
        if isinstance(name, str):
            close = difflib.get_close_matches(name, list(_REGISTRY), n=1, cutoff=0.6)
            if close:
                suggestion = f" (did you mean {close[0]!r}?)"
        raise InputError(f"unknown drift method {name!r}{suggestion}; {_available_text()}")
    if kind is not None:
        method.func_for(kind)  # raises with a message listing what does apply
    return method


def available_methods(kind: str | None = None) -> list[str]:
    """Sorted names of registered methods, all or only those applying to column ``kind``.

    Examples
    --------
    >>> "chi2" in available_methods("categorical"), "chi2" in available_methods("numeric")
    (True, False)
    """
    if kind is not None:
        _check_kind(kind)
    return sorted(
        name for name, method in _REGISTRY.items() if kind is None or kind in method.kinds
    )


def _available_text() -> str:
    parts = [
        f"for {kind} columns: {', '.join(available_methods(kind)) or '(none)'}"
        for kind in COLUMN_KINDS
    ]
    return "available " + "; ".join(parts)


def _add(method: DriftMethod, *, replace: bool) -> None:
    if method.name in _REGISTRY and not replace:
        raise InputError(
            f"a drift method named {method.name!r} is already registered "
            f"({_REGISTRY[method.name].label}); pick another name, or pass replace=True "
            "to overwrite it (e.g. when re-running a notebook cell)"
        )
    _REGISTRY[method.name] = method


def _check_kind(kind: str) -> None:
    if kind not in COLUMN_KINDS:
        raise InputError(f"unknown column kind {kind!r}; expected one of {', '.join(COLUMN_KINDS)}")


def _validate_spec(method: DriftMethod) -> None:
    def fail(problem: str) -> None:
        raise InputError(f"drift method {method.name!r}: {problem}")

    if (
        not isinstance(method.name, str)
        or not method.name
        or not all(
            character.islower() or character.isdigit() or character == "_"
            for character in method.name
        )
    ):
        raise InputError(
            f"drift method name must be lower-case letters, digits and underscores, "
            f"got {method.name!r}"
        )
    if not isinstance(method.label, str) or not method.label:
        fail(f"label must be a non-empty string, got {method.label!r}")
    if not isinstance(method.description, str) or not method.description:
        fail("description must be a non-empty string saying what the statistic means")
    unknown = set(method.kinds) - set(COLUMN_KINDS)
    if not method.kinds or unknown:
        fail(f"kinds must be a non-empty subset of {set(COLUMN_KINDS)}, got {set(method.kinds)}")
    if method.threshold_on not in _THRESHOLD_ON:
        fail(f"threshold_on must be one of {_THRESHOLD_ON}, got {method.threshold_on!r}")
    if method.drift_when not in _DRIFT_WHEN:
        fail(f"drift_when must be one of {_DRIFT_WHEN}, got {method.drift_when!r}")
    if method.cost not in _COSTS:
        fail(f"cost must be one of {_COSTS}, got {method.cost!r}")
    threshold = method.default_threshold
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, numbers.Real)
        or math.isnan(threshold)
    ):
        fail(f"default_threshold must be a number, got {threshold!r}")
    bounds = method.statistic_range
    if (
        len(bounds) != 2
        or not all(isinstance(bound, numbers.Real) for bound in bounds)
        or not bounds[0] <= bounds[1]
    ):
        fail(f"statistic_range must be (low, high) with low <= high, got {bounds!r}")
    if ("numeric" in method.kinds) != (method.numeric_func is not None):
        fail("numeric_func must be given exactly when kinds includes 'numeric'")
    if bool(method.kinds & _COUNT_KINDS) != (method.counts_func is not None):
        fail("counts_func must be given exactly when kinds includes 'categorical' or 'boolean'")
    for func in (method.numeric_func, method.counts_func):
        if func is not None and not callable(func):
            fail(f"{func!r} is not callable")
