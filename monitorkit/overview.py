"""A first look at the inputs of a run: size, columns, roles and time span of each side."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from monitorkit.reference import as_reference
from monitorkit.report import Report
from monitorkit.schema import ColumnSpec, ResolvedSpec, resolve_spec, time_span
from monitorkit.severity import Severity

OVERVIEW_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class InputSummary:
    """Size and time span of one input table."""

    name: str
    rows: int
    columns: int
    missing_cells: int
    start: str | None  # first timestamp, ISO 8601, when a timestamp column exists
    end: str | None

    @property
    def missing_share(self) -> float:
        """Missing cells as a share of all cells (0 to 1)."""
        return self.missing_cells / max(self.rows * self.columns, 1)

    @property
    def span_days(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return (pd.Timestamp(self.end) - pd.Timestamp(self.start)).total_seconds() / 86_400


@dataclass(frozen=True)
class OverviewResult:
    """Each input's size and time span, every column's kind and role, one-sided columns."""

    inputs: tuple[InputSummary, ...]
    spec: ResolvedSpec
    only_in_reference: tuple[str, ...] = ()
    only_in_current: tuple[str, ...] = ()


class DataOverview(Report, kind="data_overview"):
    """What was compared: each input's size and time span, and every column's kind and role.

    Build it with :meth:`from_frames`. Columns present on one side only are listed in
    ``only_in_reference`` / ``only_in_current``. It judges nothing: its severity is ``ok``.
    """

    schema_version = OVERVIEW_SCHEMA_VERSION
    result_type = OverviewResult
    title = "Data overview"

    @property
    def inputs(self) -> tuple[InputSummary, ...]:
        return self.result.inputs

    @property
    def spec(self) -> ResolvedSpec:
        return self.result.spec

    @property
    def only_in_reference(self) -> tuple[str, ...]:
        return self.result.only_in_reference

    @property
    def only_in_current(self) -> tuple[str, ...]:
        return self.result.only_in_current

    @classmethod
    def from_frames(
        cls,
        reference: Any,
        current: Any,
        spec: ColumnSpec | Mapping[str, Any] | None = None,
    ) -> DataOverview:
        """Summarise ``reference`` and ``current``.

        Each side is anything :func:`~monitorkit.read_frame` reads, or a
        :class:`~monitorkit.Profile` or :class:`~monitorkit.Baseline`
        (:func:`~monitorkit.reference.as_reference`). A side without rows (a profile, a
        baseline without a sample) is summarised from its profile: its rows and columns, the
        missing cells of its profiled columns, and no time span. Kinds and roles come from
        ``spec`` and the rows, or from the profile when a side has none; with ``spec=None``
        the roles a baseline or profile was captured with are used.
        """
        sides = (as_reference(reference, "reference"), as_reference(current, "current"))
        if spec is None:
            spec = next((s.column_spec for s in sides if s.column_spec is not None), None)
        if all(side.has_rows for side in sides):
            resolved = resolve_spec(spec, sides[0].frame, sides[1].frame)
        else:
            resolved = next(s.resolved_spec for s in sides if not s.has_rows)
        inputs = []
        columns = []
        for side in sides:
            if side.has_rows:
                frame = side.frame
                span = time_span(frame, resolved.timestamp)
                names = list(frame.columns)
                missing = int(frame.isna().to_numpy().sum())
            else:
                span = None
                names = side.resolved_spec.names
                missing = sum(int(c.missing) for c in side.profile.columns.values())
            columns.append(names)
            inputs.append(
                InputSummary(
                    name=side.name,
                    rows=side.rows,
                    columns=len(names),
                    missing_cells=missing,
                    start=span[0].isoformat() if span else None,
                    end=span[1].isoformat() if span else None,
                )
            )
        reference_columns, current_columns = columns
        return cls.from_result(
            OverviewResult(
                inputs=tuple(inputs),
                spec=resolved,
                only_in_reference=tuple(c for c in reference_columns if c not in current_columns),
                only_in_current=tuple(c for c in current_columns if c not in reference_columns),
            )
        )

    def __getitem__(self, name: str) -> InputSummary:
        for summary in self.inputs:
            if summary.name == name:
                return summary
        raise KeyError(name)

    def to_frame(self) -> pd.DataFrame:
        """One row per input: rows, columns, missing share, first and last timestamp, days."""
        return pd.DataFrame(
            [
                {
                    "input": s.name,
                    "rows": s.rows,
                    "columns": s.columns,
                    "missing_share": s.missing_share,
                    "start": s.start,
                    "end": s.end,
                    "span_days": s.span_days,
                }
                for s in self.inputs
            ]
        )

    @property
    def severity(self) -> Severity:
        """Always ``ok``: the overview describes, it does not judge."""
        return Severity.OK

    @property
    def verdict(self) -> str:
        reference, current = self["reference"], self["current"]
        return (
            f"reference {reference.rows:,} rows, current {current.rows:,} rows, "
            f"{len(self.spec.columns)} columns"
        )

    @property
    def figures(self) -> dict[str, float]:
        """``reference_rows``, ``current_rows`` and ``columns``."""
        return {
            "reference_rows": self["reference"].rows,
            "current_rows": self["current"].rows,
            "columns": len(self.spec.columns),
        }

    def __str__(self) -> str:
        lines = []
        for s in self.inputs:
            span = f", {s.start[:10]} to {s.end[:10]}" if s.start and s.end else ""
            lines.append(
                f"{s.name}: {s.rows:,} rows x {s.columns} columns, "
                f"{s.missing_share:.1%} cells missing{span}"
            )
        if self.only_in_reference:
            lines.append(f"only in reference: {', '.join(self.only_in_reference)}")
        if self.only_in_current:
            lines.append(f"only in current: {', '.join(self.only_in_current)}")
        lines += ["", str(self.spec)]
        return "\n".join(lines)
