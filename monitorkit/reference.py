"""The reference side of a report, from whatever the caller holds.

``reference=`` may be rows (a DataFrame, a pyarrow or polars table, a parquet / CSV / TSV /
JSON-lines file, a folder or a glob of them), a :class:`~monitorkit.Profile`, or a
:class:`~monitorkit.Baseline`. :func:`as_reference` turns any of them into one small
:class:`Reference` — its rows when there are rows, its profile when there is one, and the
baseline with its hashing salt — so every report asks the same questions of it instead of
checking attributes.

A baseline that keeps a sample (``Baseline.from_frame(..., sample_rows=…)``) gives both rows
(the sample, for exact tests) and its profile; one without a sample gives its profile only.
When one side stores categorical values hashed (``hash_categories=True``),
:func:`match_hashing` hashes the other side's rows with the same salt, so that equal values
compare equal.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from monitorkit.baseline import Baseline, hash_frame
from monitorkit.errors import DataSourceError, InputError, ReportFormatError
from monitorkit.profiles import Profile
from monitorkit.schema import ColumnSpec, ResolvedSpec, check_columns, read_frame


@dataclass(frozen=True)
class Reference:
    """One side of a comparison: rows, a profile, or both.

    Attributes
    ----------
    name
        What the side is called in messages (``"reference"``, ``"current"``).
    frame
        The rows, or None when only a profile is known (a profile, or a baseline without a
        sample). A baseline's rows are its sample.
    profile
        The profile (of a Profile or a Baseline), or None for plain rows.
    baseline
        The baseline this side came from, or None.
    hash_salt
        The salt the categorical values of ``frame`` and ``profile`` are hashed with, or None.
    """

    name: str
    frame: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    profile: Profile | None = field(default=None, repr=False)
    baseline: Baseline | None = field(default=None, repr=False)
    hash_salt: str | None = None

    @property
    def has_rows(self) -> bool:
        """True when the rows are known (exact tests, windows, multivariate checks)."""
        return self.frame is not None

    @property
    def rows(self) -> int:
        """Number of rows: of the rows when known, else of the profiled table."""
        if self.frame is not None:
            return int(len(self.frame))
        return int(self.profile.rows) if self.profile is not None else 0

    @property
    def resolved_spec(self) -> ResolvedSpec | None:
        """The kinds and roles the profile or baseline was captured with, or None for rows."""
        return None if self.profile is None else self.profile.spec

    @property
    def column_spec(self) -> ColumnSpec | None:
        """The :class:`~monitorkit.ColumnSpec` the profile or baseline was captured with (the
        roles the user declared then), or None for rows."""
        return None if self.profile is None else self.profile.spec.spec

    def require_rows(self, purpose: str) -> pd.DataFrame:
        """The rows, or an :class:`~monitorkit.errors.InputError` saying ``purpose`` needs
        them and how to keep them."""
        if self.frame is not None:
            return self.frame
        what = "a baseline without a sample" if self.baseline is not None else "a profile"
        raise InputError(
            f"{purpose} needs the {self.name} rows, but {self.name} is {what}. Pass the data "
            "itself, or capture the baseline with a sample: "
            "Baseline.from_frame(data, sample_rows=10_000)."
        )

    def __repr__(self) -> str:
        if self.frame is not None:
            held = f"{len(self.frame):,} rows x {self.frame.shape[1]} columns"
        else:
            held = "no rows"
        if self.profile is not None:
            held += f", a profile of {self.profile.rows:,} rows"
        if self.baseline is not None:
            held += f", baseline {self.baseline.model!r}"
        if self.hash_salt is not None:
            held += ", categories hashed"
        return f"<Reference {self.name}: {held}>"


def as_reference(data: Any, name: str = "reference") -> Reference:
    """Turn what a caller passes as a side of a report into a :class:`Reference`.

    Parameters
    ----------
    data
        A :class:`~monitorkit.Baseline` (its profile, its sample rows when it keeps a sample,
        and its hashing salt); a :class:`~monitorkit.Profile` (no rows); a
        :class:`Reference` (returned as is, renamed to ``name``); a ``.json`` file saved by
        :meth:`Baseline.save <monitorkit.Baseline.save>` or holding a profile's JSON; or
        anything :func:`~monitorkit.read_frame` reads: a DataFrame, a pyarrow or polars
        table, a parquet / CSV / TSV / JSON-lines file, a folder or a glob of them (read
        whole).
    name
        What the side is called in messages.

    Returns
    -------
    Reference

    Raises
    ------
    DataSourceError, SchemaError
        As :func:`~monitorkit.read_frame`, for rows that cannot be read or used; a ``.json``
        file that is not a saved baseline or profile.

    Examples
    --------
    >>> import pandas as pd
    >>> from monitorkit.reference import as_reference
    >>> side = as_reference(pd.DataFrame({"age": [31, 45, 52]}))
    >>> side.has_rows, side.rows, side.profile is None
    (True, 3, True)
    """
    if isinstance(data, Reference):
        return data if data.name == name else replace(data, name=name)
    if isinstance(data, Baseline):
        sample = data.sample if isinstance(data.sample, pd.DataFrame) else None
        if sample is not None:
            check_columns(sample, f"{name} (the baseline's sample)")
        return Reference(
            name=name, frame=sample, profile=data.profile, baseline=data, hash_salt=data.hash_salt
        )
    if isinstance(data, Profile):
        return Reference(name=name, profile=data)
    if isinstance(data, (str, os.PathLike)) and _is_json_file(data):
        return as_reference(_load_summary(data, name), name=name)
    return Reference(name=name, frame=read_frame(data, name=name))


def _is_json_file(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() == ".json" and Path(path).is_file()


def _load_summary(path: str | os.PathLike, name: str) -> Baseline | Profile:
    """A baseline or profile saved as JSON (``Baseline.save``, ``Profile.to_json``)."""
    from monitorkit.report import load_report

    try:
        loaded = load_report(path)
    except ReportFormatError as exc:
        raise DataSourceError(
            f"{name}: '{path}' is not a saved baseline or profile ({exc}), and .json is not a "
            "data format monitorkit reads; a file of one JSON object per line can be renamed "
            "to .jsonl."
        ) from exc
    if not isinstance(loaded, (Baseline, Profile)):
        raise InputError(
            f"{name}: '{path}' holds a saved {type(loaded).__name__}, not a baseline or a "
            "profile; pass data, a baseline or a profile."
        )
    return loaded


def is_summary(data: Any) -> bool:
    """True for what :func:`as_reference` takes without reading rows: a Profile, a Baseline,
    a Reference, or a ``.json`` file (a saved baseline or profile)."""
    if isinstance(data, (str, os.PathLike)):
        return _is_json_file(data)
    return isinstance(data, (Reference, Profile, Baseline))


def match_hashing(reference: Reference, current: Reference) -> tuple[Reference, Reference]:
    """Both sides with categorical values hashed alike.

    When one side stores its categories hashed (a baseline captured with
    ``hash_categories=True``), the other side's rows are hashed with the same salt, so equal
    values compare equal; a side hashed that way keeps no profile of raw values. Sides that
    do not hash are returned as they are.

    Raises
    ------
    InputError
        Both sides hash with different salts, or the side to hash has no rows (a profile of
        raw values cannot be hashed afterwards).
    """
    salts = {side.hash_salt for side in (reference, current)} - {None}
    if not salts:
        return reference, current
    if len(salts) > 1:
        raise InputError(
            "reference and current are baselines that hash categorical values with different "
            "salts, so equal values do not compare equal. Compare raw data with one of them, or "
            "capture both without hash_categories."
        )
    salted = reference if reference.hash_salt is not None else current
    salt = salted.hash_salt
    matched = []
    for side in (reference, current):
        if side.hash_salt == salt:
            matched.append(side)
            continue
        if side.frame is None:
            raise InputError(
                f"{salted.name} stores categorical values hashed (hash_categories=True), but "
                f"{side.name} is a profile of raw values, which cannot be hashed afterwards. "
                f"Pass the {side.name} rows instead (a DataFrame or a path)."
            )
        hashed = hash_frame(side.frame, salted.resolved_spec, salt)
        matched.append(replace(side, frame=hashed, profile=None, baseline=None, hash_salt=salt))
    return matched[0], matched[1]
