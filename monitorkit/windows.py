"""Windows over time (or row order) for every report: which window each row belongs to.

:func:`assign_windows` cuts a frame into the windows that ``by=`` asks for, the same way for
every report (drift over time, profiles per window, multivariate windows), and returns a code
per row and the ordered windows.

Definitions
-----------
``by`` an integer ``k``
    ``k`` chunks of equal size in row order (sizes differ by at most one row: row ``i`` of
    ``n`` is in chunk ``floor(i * k / n)``). Labels are ``chunk 1`` … ``chunk k``, zero-padded
    to the width of ``k`` (``chunk 01`` … ``chunk 10``), so they sort as strings. Chunks have
    no start or end time.
``by`` a fixed frequency (``'6h'``, ``'1D'``, ``'7D'``, ``'30min'``: anything that is a
    fixed length of time)
    Windows are ``[epoch + i·width, epoch + (i+1)·width)`` counted from the Unix epoch
    (1970-01-01 00:00 UTC), like :meth:`pandas.Series.dt.floor`: the same instant falls in the
    same window in every report, whatever the first row. ``'7D'`` therefore starts on a
    Thursday (the epoch's weekday); ask for ``'W-MON'`` for calendar weeks.
``by`` an anchored offset (``'W'``, ``'W-MON'``, ``'MS'``, ``'ME'``, ``'QS'``, ``'QE'``,
    ``'YS'``, ``'YE'``, ``'B'``, …)
    Start-anchored offsets (``MS``, ``QS``, ``YS``, ``BMS``, ``SMS``, ``B``) start a window on
    each anchor day: ``MS`` windows are calendar months starting on the 1st. End-anchored
    offsets (``ME``, ``QE``, ``YE``, ``BME``, ``SME`` and the weeks ``W-xxx``) name the period
    that *ends* on the anchor day, as :class:`pandas.Period` does: ``ME`` windows are also
    calendar months (ending on the last day), ``W`` (= ``W-SUN``) weeks run Monday to Sunday
    and ``W-MON`` weeks run Tuesday to Monday. A multiple (``2W``, ``3MS``) groups that many
    consecutive periods, counted from the period holding 1970-01-01, so again a given day
    always falls in the same window (``2MS``: January–February, March–April, …).

Time windows are cut in UTC: time-zone aware timestamps are converted to UTC, naive ones are
taken as UTC, strings are parsed as ISO 8601. Every window from the one holding the first
timestamp to the one holding the last is listed, including windows without rows (a gap in the
data shows as a window of 0 rows). Rows without a (parseable) timestamp belong to no window;
:attr:`Windows.untimed_rows` counts them and :attr:`Windows.note` says so.

Labels sort chronologically as strings: a time window is labelled by its start in ISO 8601,
the date alone when every window edge is at midnight (``2026-03-11``), else with the time to
the minute (``2026-03-11 06:00``), or to the second or below when the edges need it.

At most :data:`MAX_WINDOWS` (200) windows: more raises :class:`~monitorkit.errors.InputError`
naming a coarser alias that fits. Windows with fewer than :data:`MIN_WINDOW_ROWS` (30) rows
are kept and shown but not tested (:attr:`Window.too_few_rows`), so they never raise a flag.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from monitorkit.errors import ColumnSpecError, InputError

MAX_WINDOWS = 200
"""The most windows ``by=`` may make; more raises an InputError suggesting a coarser alias."""

MIN_WINDOW_ROWS = 30
"""Windows with fewer rows than this are shown but not tested (and so never flagged)."""

_EPOCH = pd.Timestamp("1970-01-01")
_ONE_DAY = pd.Timedelta(days=1)
# Aliases suggested when ``by`` makes too many windows, finest first.
_COARSER = ("1s", "1min", "1h", "1D", "W-MON", "MS", "QS", "YS")
_EXAMPLES = "'6h', '1D', '7D', 'W-MON', '2W', 'MS', 'QS', 'YS'"


class WindowWarning(UserWarning):
    """Rows were left out of every window (no readable timestamp)."""


@dataclass(frozen=True)
class Window:
    """One window: its label, its time span (None for chunks) and its number of rows.

    ``start`` is inclusive and ``end`` exclusive, both in UTC (tz-naive timestamps).
    """

    label: str
    rows: int
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None

    @property
    def too_few_rows(self) -> bool:
        """Fewer than :data:`MIN_WINDOW_ROWS` rows: shown, not tested."""
        return self.rows < MIN_WINDOW_ROWS

    @property
    def skipped(self) -> str | None:
        """Why the window is not tested (``"too few rows (12 < 30)"``), or None."""
        if self.too_few_rows:
            return f"too few rows ({self.rows} < {MIN_WINDOW_ROWS})"
        return None

    def iso_start(self) -> str | None:
        """``start`` in ISO 8601 with its UTC offset, or None for a chunk."""
        return None if self.start is None else self.start.tz_localize("UTC").isoformat()

    def iso_end(self) -> str | None:
        """``end`` (exclusive) in ISO 8601 with its UTC offset, or None for a chunk."""
        return None if self.end is None else self.end.tz_localize("UTC").isoformat()


@dataclass(frozen=True, eq=False)
class Windows:
    """How a frame was cut: a window code per row and the ordered windows.

    ``codes[i]`` is the position in ``windows`` of row ``i`` (by position, not index label),
    or -1 for a row without a timestamp.
    """

    by: str | int
    codes: np.ndarray
    windows: tuple[Window, ...]
    untimed_rows: int = 0

    def __len__(self) -> int:
        return len(self.windows)

    @property
    def labels(self) -> list[str]:
        return [w.label for w in self.windows]

    @property
    def tested(self) -> list[int]:
        """Positions of the windows with at least :data:`MIN_WINDOW_ROWS` rows."""
        return [i for i, w in enumerate(self.windows) if not w.too_few_rows]

    def rows_of(self, window: int) -> np.ndarray:
        """Row positions (ascending) of window number ``window``."""
        return np.flatnonzero(self.codes == window)

    def row_positions(self) -> list[np.ndarray]:
        """Row positions (ascending) of every window, in window order (one sort, not k scans)."""
        order = np.argsort(self.codes, kind="stable")
        bounds = np.searchsorted(self.codes[order], np.arange(len(self.windows) + 1))
        return [order[bounds[i] : bounds[i + 1]] for i in range(len(self.windows))]

    @property
    def note(self) -> str | None:
        """What the windows leave out (rows without a timestamp), or None."""
        if not self.untimed_rows:
            return None
        return (
            f"{self.untimed_rows:,} rows have no timestamp and belong to no window (by={self.by!r})"
        )


def assign_windows(frame: pd.DataFrame, by: str | int, timestamp: str | None) -> Windows:
    """Cut ``frame`` into the windows ``by`` asks for (definitions in the module docstring).

    Parameters
    ----------
    frame
        The rows to cut (``current`` of a report).
    by
        A pandas offset alias (fixed such as ``'6h'``, ``'1D'``, ``'7D'``, or anchored such as
        ``'W-MON'``, ``'2W'``, ``'MS'``, ``'QE'``) over the ``timestamp`` column, or an integer:
        that many equal chunks in row order.
    timestamp
        The timestamp column's name (needed when ``by`` is an alias).

    Returns
    -------
    Windows
        A code per row (-1: no timestamp) and the ordered windows with labels, UTC start and
        end, and row counts.

    Raises
    ------
    InputError
        ``by`` is not an alias or a positive integer, is an integer larger than the number of
        rows, makes more than :data:`MAX_WINDOWS` windows, or no row has a timestamp.
    ColumnSpecError
        ``by`` is an alias and there is no timestamp column.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"ts": pd.date_range("2026-01-30", periods=4, freq="D")})
    >>> cut = assign_windows(frame, "MS", "ts")
    >>> cut.labels, cut.codes.tolist()
    (['2026-01-01', '2026-02-01'], [0, 0, 1, 1])
    """
    if isinstance(by, bool):
        raise InputError(
            "by must be a pandas offset alias such as '1D' or an integer number of chunks; got "
            "a bool."
        )
    if len(frame) == 0 and isinstance(by, (int, np.integer, str)):
        # Nothing to cut (a report on an empty current says so itself).
        return Windows(by=by, codes=np.empty(0, dtype=np.int64), windows=())
    if isinstance(by, (int, np.integer)):
        return _chunks(len(frame), int(by))
    if not isinstance(by, str):
        raise InputError(
            f"by must be a pandas offset alias (examples: {_EXAMPLES}) or an integer number "
            f"of chunks; got {by!r} of type {type(by).__name__}."
        )
    offset = _parse_alias(by)
    if timestamp is None:
        raise ColumnSpecError(
            f"by={by!r} splits current by time, but no timestamp column was found or declared; "
            "pass spec=ColumnSpec(timestamp='your_time_column'), or an integer by= to split "
            "into equal chunks in row order."
        )
    if timestamp not in frame.columns:
        raise ColumnSpecError(
            f"by={by!r} needs the timestamp column '{timestamp}', but current has no such "
            "column; pass spec=ColumnSpec(timestamp=…) naming the column that holds the times."
        )
    times = utc_times(frame[timestamp], timestamp)
    timed = times.notna().to_numpy()
    if not timed.any():
        raise InputError(
            f"by={by!r}: column '{timestamp}' of current has no timestamp that can be read "
            "(every value is missing or not an ISO 8601 date-time); fix the column or pass an "
            "integer by= to split into equal chunks in row order."
        )
    first, last = times.min(), times.max()
    edges = _edges(offset, first, last, by)
    codes = np.full(len(frame), -1, dtype=np.int64)
    values = times.to_numpy(dtype="datetime64[ns]")[timed]
    codes[timed] = np.searchsorted(edges.to_numpy(dtype="datetime64[ns]"), values, "right") - 1
    counts = np.bincount(codes[timed], minlength=len(edges) - 1)
    labels = _time_labels(edges)
    windows = tuple(
        Window(label=labels[i], rows=int(counts[i]), start=edges[i], end=edges[i + 1])
        for i in range(len(edges) - 1)
    )
    return Windows(by=by, codes=codes, windows=windows, untimed_rows=int((~timed).sum()))


def utc_times(values: pd.Series, name: str = "timestamp") -> pd.Series:
    """Timestamps as tz-naive UTC (aware ones converted, naive ones taken as UTC, strings
    parsed as ISO 8601); values that cannot be read become NaT."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        times = values
        if times.dt.tz is not None:
            times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    else:
        try:
            times = pd.to_datetime(values, errors="coerce", format="ISO8601", utc=True)
        except (ValueError, TypeError) as exc:
            raise InputError(
                f"column '{name}' of current cannot be read as date-times ({exc}); store ISO "
                "8601 strings or datetime values."
            ) from exc
        times = times.dt.tz_localize(None)
    try:
        return times.dt.as_unit("ns")
    except (ValueError, OverflowError) as exc:
        raise InputError(
            f"column '{name}' of current holds date-times outside 1677–2262, which windows "
            f"cannot place: {exc}"
        ) from exc


def _chunks(n_rows: int, by: int) -> Windows:
    if by < 1 or by > n_rows:
        raise InputError(
            f"by={by}: the number of chunks must be between 1 and the {n_rows:,} rows of current."
        )
    if by > MAX_WINDOWS:
        raise InputError(
            f"by={by} would make {by} chunks, more than MAX_WINDOWS = {MAX_WINDOWS}; pass "
            f"by={MAX_WINDOWS} or fewer."
        )
    codes = np.arange(n_rows, dtype=np.int64) * by // n_rows
    counts = np.bincount(codes, minlength=by)
    width = len(str(by))
    windows = tuple(
        Window(label=f"chunk {i + 1:0{width}d}", rows=int(counts[i])) for i in range(by)
    )
    return Windows(by=by, codes=codes, windows=windows)


def _parse_alias(by: str):
    try:
        offset = to_offset(by)
    except (ValueError, TypeError) as exc:
        raise InputError(
            f"by={by!r} is not a pandas offset alias (examples: {_EXAMPLES}; or an integer "
            f"for that many equal chunks in row order): {exc}"
        ) from exc
    if offset.n <= 0:
        raise InputError(
            f"by={by!r} must be a positive length of time (examples: {_EXAMPLES}); got "
            f"{offset.n} periods."
        )
    return offset


def _fixed_width(offset) -> pd.Timedelta | None:
    try:
        return pd.Timedelta(offset)
    except (ValueError, TypeError):
        return None


def _edges(offset, first: pd.Timestamp, last: pd.Timestamp, by: str | int) -> pd.DatetimeIndex:
    """Window edges: ``edges[0] <= first < … <= last < edges[-1]``; raises past the cap."""
    width = _fixed_width(offset)
    edges = None if width is not None else _anchored_edges(offset, first, last)
    count = _window_count(offset, first, last) if edges is None else len(edges) - 1
    if count > MAX_WINDOWS:
        raise InputError(_too_many(by, count, first, last))
    if edges is None:
        start = _EPOCH + (first - _EPOCH) // width * width
        edges = pd.DatetimeIndex([start + i * width for i in range(count + 1)])
    return edges


def _window_count(offset, first: pd.Timestamp, last: pd.Timestamp) -> int:
    width = _fixed_width(offset)
    if width is not None:
        return int((last - _EPOCH) // width - (first - _EPOCH) // width) + 1
    return len(_anchored_edges(offset, first, last)) - 1


def _end_anchored(base) -> bool:
    """Offsets that name the period ending on their anchor day (as pandas periods do)."""
    return isinstance(base, pd.offsets.Week) or "End" in type(base).__name__


def _anchor_on_or_before(base, day: pd.Timestamp) -> pd.Timestamp:
    return base.rollback(day.normalize())


def _anchored_edges(offset, first: pd.Timestamp, last: pd.Timestamp) -> pd.DatetimeIndex:
    base, n = offset.base, offset.n
    end_anchored = _end_anchored(base)
    # The anchor of the period holding ``first``: for end-anchored offsets, the last anchor
    # before its day (the period starts the day after); else the anchor on or before it.
    lag = _ONE_DAY if end_anchored else pd.Timedelta(0)
    anchor = _anchor_on_or_before(base, first - lag)
    if anchor.normalize() != anchor:
        raise InputError(
            f"by={offset.freqstr!r} places window edges within a day; use a fixed frequency "
            f"such as '1h' or a calendar alias (examples: {_EXAMPLES})."
        )
    if n > 1:
        # Multiples count from the period holding the epoch, so a day's window never moves.
        anchor = anchor - (_steps_from_epoch(base, anchor, lag) % n) * base
    stop = _anchor_on_or_before(base, last - lag) + n * base
    anchors = pd.date_range(anchor, stop, freq=base)[::n]
    edges = anchors + lag
    # Keep edges up to the first one after ``last``.
    keep = int(np.searchsorted(edges, last, side="right")) + 1
    return edges[:keep]


def _steps_from_epoch(base, anchor: pd.Timestamp, lag: pd.Timedelta) -> int:
    epoch_anchor = _anchor_on_or_before(base, _EPOCH - lag)
    low, high = sorted((epoch_anchor, anchor))
    steps = len(pd.date_range(low, high, freq=base)) - 1
    return steps if anchor >= epoch_anchor else -steps


def _time_labels(edges: pd.DatetimeIndex) -> list[str]:
    if (edges == edges.normalize()).all():
        text = "%Y-%m-%d"
    elif (edges == edges.floor("min")).all():
        text = "%Y-%m-%d %H:%M"
    elif (edges == edges.floor("s")).all():
        text = "%Y-%m-%d %H:%M:%S"
    else:
        text = "%Y-%m-%d %H:%M:%S.%f"
    return list(edges[:-1].strftime(text))


def _too_many(by: str | int, count: int, first: pd.Timestamp, last: pd.Timestamp) -> str:
    suggestion = None
    own = _nominal_length(to_offset(by))
    for alias in _COARSER:
        candidate = to_offset(alias)
        if _nominal_length(candidate) <= own:
            continue
        if _window_count(candidate, first, last) <= MAX_WINDOWS:
            suggestion = alias
            break
    span = f"{first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC"
    fix = (
        f"use a coarser alias such as by={suggestion!r}"
        if suggestion
        else f"use an integer by= (at most {MAX_WINDOWS} chunks in row order)"
    )
    return (
        f"by={by!r} would make {count:,} windows over {span}, more than MAX_WINDOWS = "
        f"{MAX_WINDOWS}; {fix}."
    )


def _nominal_length(offset) -> pd.Timedelta:
    """A typical length of one period of ``offset`` (to order aliases from fine to coarse)."""
    width = _fixed_width(offset)
    if width is not None:
        return width
    start = pd.Timestamp("2001-01-01")
    return (start + 12 * offset - start) / 12
