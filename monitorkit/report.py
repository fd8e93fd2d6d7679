"""The report contract: one base class, one JSON codec, one registry of kinds.

Every report (drift, the data overview, and the quality, performance and alerting reports that
build on this) is a :class:`Report`: a thin object around a frozen dataclass ``result`` of plain
values, with

* ``kind`` and ``schema_version`` (class attributes; the JSON carries both);
* ``severity`` — a :class:`~monitorkit.severity.Severity` — and ``verdict``, one sentence;
* ``figures`` — a flat ``{name: number}`` mapping, the single source that ``summary.json``,
  ``monitorkit history``, alert rules and Prometheus gauges read (``share_drifted``,
  ``column.age.statistic``, …). Names are dotted, without the report's kind: a run prefixes
  them (``drift.share_drifted``) when it publishes several reports;
* ``to_frame()`` (flat, one row per column / finding / window-metric), ``to_dict()`` /
  ``to_json()`` through :func:`encode`, ``from_dict()`` through :func:`decode`;
* ``to_html()`` / ``save_html()`` / ``_repr_mimebundle_`` through :mod:`monitorkit.display`,
  which finds the renderer for the report's kind (computation never imports display code).

Kinds are registered when a :class:`Report` subclass is defined (``class QualityReport(Report,
kind="quality")``) and, without importing anything up front, through the ``monitorkit.reports``
entry-point group of installed packages (this package declares its own there, in
``pyproject.toml``). :func:`load_report` reads every registered kind, and the baseline and
profile files, which register a loader with :func:`register_kind`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import types
import typing
from collections.abc import Callable, Mapping
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar

from monitorkit.errors import InputError, ReportFormatError
from monitorkit.severity import Severity

ENTRY_POINT_GROUP = "monitorkit.reports"

# --------------------------------------------------------------------------------------------
# The codec: frozen dataclass trees <-> plain JSON values
# --------------------------------------------------------------------------------------------


def encode(value: Any, *, nan_as_none: bool = False) -> Any:
    """A plain JSON-ready value: dataclasses as dicts, tuples as lists, numpy scalars and arrays
    as Python numbers and lists, enums as their value, objects with ``to_dict()`` through it.

    NaN and infinities stay floats (``json.dumps(allow_nan=True)`` writes them as ``NaN`` /
    ``Infinity``, which :func:`json.loads` reads back), so a missing statistic survives a round
    trip as NaN rather than turning into ``None``; ``nan_as_none=True`` writes them as ``None``
    instead, for strict JSON readers.
    """
    if isinstance(value, Enum):
        return value.value
    if hasattr(value, "item") and getattr(value, "shape", None) == ():  # numpy scalar
        value = value.item()
    if isinstance(value, float) and nan_as_none and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if hasattr(value, "to_dict"):
            return encode(value.to_dict(), nan_as_none=nan_as_none)
        return {
            f.name: encode(getattr(value, f.name), nan_as_none=nan_as_none)
            for f in dataclasses.fields(value)
        }
    if isinstance(value, Mapping):
        return {str(k): encode(v, nan_as_none=nan_as_none) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v, nan_as_none=nan_as_none) for v in value]
    if hasattr(value, "to_dict"):
        return encode(value.to_dict(), nan_as_none=nan_as_none)
    if hasattr(value, "tolist"):  # numpy arrays
        return encode(value.tolist(), nan_as_none=nan_as_none)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def decode(cls: Any, data: Any) -> Any:
    """Rebuild a value of type ``cls`` (a dataclass, a typed tuple, ``X | None``, …) from
    :func:`encode` output, following the dataclass field annotations.

    Classes with a ``from_dict`` class method (``ResolvedSpec``) are rebuilt through it.
    Unknown fields are an error (a newer writer); fields missing from ``data`` take their
    defaults, so results that gained a defaulted field still read older JSON.
    """
    if cls is Any or data is None:
        return data
    origin = typing.get_origin(cls)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(cls) if a is not type(None)]
        errors = []
        for option in options:
            try:
                return decode(option, data)
            except (TypeError, ValueError, KeyError) as exc:
                errors.append(exc)
        raise TypeError(f"{data!r} fits none of {options}: {errors}")
    if origin is tuple:
        args = typing.get_args(cls)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(decode(args[0], v) for v in data)
        return tuple(decode(a, v) for a, v in zip(args, data))
    if origin in (dict, Mapping, typing.Mapping) or cls is dict:
        args = typing.get_args(cls) or (str, Any)
        return {k: decode(args[1], v) for k, v in data.items()}
    if isinstance(cls, type) and issubclass(cls, Enum):
        return cls(data)
    if dataclasses.is_dataclass(cls):
        if hasattr(cls, "from_dict") and not issubclass(cls, Report):
            return cls.from_dict(data)
        if not isinstance(data, Mapping):
            raise TypeError(f"{cls.__name__} needs a mapping, got {type(data).__name__}")
        hints = typing.get_type_hints(cls)
        known = {f.name for f in dataclasses.fields(cls) if f.init}
        unknown = set(data) - known
        if unknown:
            raise TypeError(f"{cls.__name__} has no field(s) {sorted(unknown)}")
        return cls(**{name: decode(hints[name], value) for name, value in data.items()})
    if isinstance(cls, type) and hasattr(cls, "from_dict"):
        return cls.from_dict(data)
    if cls is float:
        if isinstance(data, str):  # "NaN" / "Infinity" written by other JSON writers
            return float(data)
        return float(data)
    if cls is int and isinstance(data, float) and data.is_integer():
        return int(data)
    return data


def to_json_text(data: Any, indent: int | None = None) -> str:
    """``json.dumps`` of :func:`encode` output (NaN kept as ``NaN``)."""
    return json.dumps(encode(data), indent=indent, allow_nan=True)


# --------------------------------------------------------------------------------------------
# The registry of kinds
# --------------------------------------------------------------------------------------------

_LOADERS: dict[str, Callable[[Mapping[str, Any]], Any]] = {}


def register_kind(kind: str, loader: Callable[[Mapping[str, Any]], Any]) -> None:
    """Let :func:`load_report` read JSON whose ``kind`` is ``kind`` with ``loader(data)``.

    :class:`Report` subclasses are registered by defining them; this is for other files
    (baselines, profiles) and for readers of custom formats.
    """
    if not isinstance(kind, str) or not kind:
        raise InputError(f"a report kind must be a non-empty string; got {kind!r}.")
    _LOADERS[kind] = loader


def _load_entry_points() -> None:
    """Import the report kinds that installed packages declare (``monitorkit.reports``)."""
    from importlib.metadata import entry_points

    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name not in _LOADERS:
            loaded = entry.load()
            if entry.name not in _LOADERS:  # a module entry registers itself on import
                register_kind(entry.name, getattr(loaded, "from_dict", loaded))


def report_kinds() -> dict[str, Callable[[Mapping[str, Any]], Any]]:
    """Every kind :func:`load_report` reads, with its loader (entry points loaded first)."""
    _load_entry_points()
    return dict(_LOADERS)


def load_report(source: str | os.PathLike | Mapping[str, Any]) -> Any:
    """Rebuild a report (or a baseline or profile) from its JSON, dict, or a JSON file path.

    The rebuilt report has every result and view (``to_frame()``, text, HTML) but no data.

    Examples
    --------
    >>> import monitorkit as mk
    >>> ref, cur, _ = mk.datasets.load_scenario("no_change", n_rows=500)
    >>> drift = mk.DriftReport(ref, cur)
    >>> mk.load_report(drift.to_json()).to_dict() == drift.to_dict()
    True
    """
    if isinstance(source, Mapping):
        data = source
    elif isinstance(source, os.PathLike) or not str(source).lstrip().startswith("{"):
        from monitorkit.store import read_json_file

        data = read_json_file(source, "report file")
    else:
        try:
            data = json.loads(str(source))
        except json.JSONDecodeError as exc:
            raise ReportFormatError(
                f"report is not valid JSON: {exc.msg} (line {exc.lineno})"
            ) from exc
    if not isinstance(data, Mapping) or "kind" not in data:
        raise ReportFormatError("not a monitorkit report: the JSON has no 'kind' field.")
    kind = data["kind"]
    if kind not in _LOADERS:
        _load_entry_points()
    if kind not in _LOADERS:
        raise ReportFormatError(
            f"unknown report kind {kind!r}; this monitorkit reads: {', '.join(sorted(_LOADERS))}."
        )
    return _LOADERS[kind](data)


# --------------------------------------------------------------------------------------------
# The base class
# --------------------------------------------------------------------------------------------


class Report:
    """The contract every report follows (see the module docstring).

    A subclass sets ``kind``, ``schema_version`` and ``result_type`` (the frozen dataclass of
    its result), is built with its ``result`` (``from_result``), and implements ``severity``,
    ``verdict``, ``figures``, ``to_frame`` and ``__str__``. Everything else — JSON, HTML, the
    notebook display — comes from here.
    """

    kind: ClassVar[str] = ""
    schema_version: ClassVar[int] = 1
    result_type: ClassVar[type] = object
    title: ClassVar[str] = "Report"  # the heading of the report's section in a page

    result: Any

    def __init_subclass__(cls, kind: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if kind is not None:
            cls.kind = kind
            register_kind(kind, cls.from_dict)

    @classmethod
    def from_result(cls, result: Any) -> Report:
        """A report around an already computed result (no data needed)."""
        report = cls.__new__(cls)
        report.result = result
        return report

    # ---- the contract ------------------------------------------------------------------------

    @property
    def severity(self) -> Severity:
        raise NotImplementedError

    @property
    def verdict(self) -> str:
        raise NotImplementedError

    @property
    def figures(self) -> dict[str, float]:
        raise NotImplementedError

    def to_frame(self):
        raise NotImplementedError

    # ---- serialisation -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """``{"kind", "schema_version", **result}`` as plain JSON values."""
        return {"kind": self.kind, "schema_version": self.schema_version, **encode(self.result)}

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        """Rebuild the report from :meth:`to_dict` output (``monitorkit.load_report`` calls it)."""
        if not isinstance(data, Mapping) or data.get("kind") != cls.kind:
            found = data.get("kind") if isinstance(data, Mapping) else type(data).__name__
            raise ReportFormatError(f"not a {cls.kind} report (kind {found!r}).")
        version = data.get("schema_version")
        if version != cls.schema_version:
            raise ReportFormatError(
                f"{cls.kind} report has schema_version {version!r}; this monitorkit reads "
                f"version {cls.schema_version}. Upgrade monitorkit to read newer reports."
            )
        fields = {k: v for k, v in data.items() if k not in ("kind", "schema_version")}
        try:
            result = decode(cls.result_type, fields)
        except (KeyError, TypeError, ValueError) as exc:
            raise ReportFormatError(f"not a valid {cls.kind} report: {exc}") from exc
        return cls.from_result(result)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and _same(self.to_dict(), other.to_dict())

    __hash__ = None  # type: ignore[assignment]

    # ---- display (monitorkit.display reads the finished result; imported on use) ---------------

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from monitorkit.display import mimebundle

        return mimebundle(self, include=include, exclude=exclude)

    def _ipython_display_(self) -> None:
        # Several outputs in a notebook (the plots as image/png of their own): see
        # monitorkit.display.show. _repr_mimebundle_ stays the one-bundle view for other hosts.
        from monitorkit.display import show

        show(self)

    def to_html(self, standalone: bool = True) -> str:
        """The static view: a whole offline page, or a fragment for embedding."""
        from monitorkit.display import report_html, report_page

        return report_page(self) if standalone else report_html(self)

    def save_html(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write the static view as one self-contained, offline HTML file.

        An existing file is kept unless ``overwrite=True`` (a clear error names it).
        """
        from monitorkit.store import write_atomic

        return write_atomic(path, self.to_html(standalone=True), replace=overwrite)

    def section(self) -> Section:
        """This report as a section of a larger page: a heading, no verdict banner of its own."""
        return Section(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.severity.upper()}: {self.verdict}>"


@dataclasses.dataclass(frozen=True)
class Section:
    """A report shown as one section under a page's single verdict banner (notebooks)."""

    report: Report

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from monitorkit.display import mimebundle

        return mimebundle(self.report, include=include, exclude=exclude, section=True)

    def _ipython_display_(self) -> None:
        from monitorkit.display import show

        show(self.report, section=True)


def _same(a: Any, b: Any) -> bool:
    """Equality of plain values where NaN equals NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b
