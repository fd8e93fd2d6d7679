"""``monitorkit.instrument``: time, count and log every call of a predict function.

Wrapping costs a few hundred nanoseconds a call when it only counts, and a few microseconds
when it logs a single-row call to a :class:`~monitorkit.PredictionLog` (the log buffers; the
disk write happens in its own thread): see ``benchmarks/bench_capture.py``.

The rows logged use the column names the reports read, so a log is directly a report's
input: the inputs (features), ``prediction`` (or ``score`` for a binary ``predict_proba``),
``latency_ms`` (of the call), ``error`` (True when the call raised), ``memory_mb`` and
``cpu_ms`` (when asked for), ``model_version`` (when given), and the log's ``timestamp`` and
``request_id``.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import threading
import time
import tracemalloc
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from monitorkit.errors import InputError

LATENCY_COLUMN = "latency_ms"
ERROR_COLUMN = "error"
MEMORY_COLUMN = "memory_mb"
CPU_COLUMN = "cpu_ms"
VERSION_COLUMN = "model_version"
MEMORY_MODES = ("tracemalloc", "rss")
_MAX_WARNED = 100  # distinct messages of monitoring failures warned of (then counted only)
_PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20 if hasattr(os, "sysconf") else 4096 / 2**20


def instrument(
    predict_fn: Callable[..., Any] | None = None,
    *,
    log: Any = None,
    metrics: Any = None,
    model_version: str | None = None,
    memory: str | None = None,
    memory_every: int = 1,
    cpu: bool = False,
    inputs: bool = True,
    output: str | Sequence[str] | None = None,
    feature_names: Sequence[str] | None = None,
    id_column: str | None = None,
) -> Any:
    """Wrap ``predict_fn`` so that every call is timed, counted and (optionally) logged.

    Use it as a wrapper (``predict = mk.instrument(model.predict, log=log)``) or as a
    decorator (``@mk.instrument(log=log)``). The wrapped function takes and returns what
    ``predict_fn`` does; an exception is counted, logged as a row with ``error`` True, and
    raised again. Monitoring never changes what the caller gets: a call that cannot be logged
    or counted (a closed log, a value that does not fit the log's column, …) returns its
    prediction all the same, and is counted in ``stats()["log_errors"]`` (and
    ``monitorkit_log_errors_total``) and warned of once per distinct message.

    Parameters
    ----------
    predict_fn
        The function; its first argument is the input: a DataFrame (a batch), a mapping
        (one record), a 2-D array or a list of records/rows.
    log
        A :class:`~monitorkit.PredictionLog` that gets one row per input row.
    metrics
        A :class:`~monitorkit.capture.ServingMetrics` (Prometheus counters and latency
        histogram), or None.
    model_version
        Logged in a ``model_version`` column and used as the metrics' label.
    memory
        ``"tracemalloc"`` (the peak of Python allocations during the call; starts
        :mod:`tracemalloc`, which slows every allocation of the process) or ``"rss"`` (the
        process's resident memory after the call, from ``/proc``), logged as ``memory_mb``;
        None: not measured.
    memory_every
        Measure memory on every n-th call only (the others log it as missing).
    cpu
        Log the CPU time of the calling thread during the call as ``cpu_ms``.
    inputs
        Log the input columns (False: only outputs, latency and errors).
    output
        The name(s) of the output column(s). By default a 1-D output is ``prediction``, a
        two-column output (``predict_proba`` of a binary classifier) is ``score`` (the second
        column), and k columns are ``score_0`` … ``score_<k-1>``.
    feature_names
        Column names for array inputs (default ``x0``, ``x1``, …).
    id_column
        Default: the log's id column (``request_id``). An input DataFrame or record holding
        it (or the log's timestamp column) is passed to ``predict_fn`` without it, and its
        values become the logged request ids (times), so that labels arriving later can be
        joined by the id.

    Returns
    -------
    Instrumented
        A callable with ``stats()`` (calls, rows, errors, latency per call and per row).

    Examples
    --------
    >>> import monitorkit as mk
    >>> predict = mk.instrument(lambda rows: [len(r) for r in rows])
    >>> predict([{"a": 1}, {"a": 1, "b": 2}])
    [1, 2]
    >>> predict.stats()["rows"], predict.stats()["errors"]
    (2, 0)
    """
    options = dict(
        log=log,
        metrics=metrics,
        model_version=model_version,
        memory=memory,
        memory_every=memory_every,
        cpu=cpu,
        inputs=inputs,
        output=output,
        feature_names=feature_names,
        id_column=id_column,
    )
    if predict_fn is None:
        return lambda fn: Instrumented(fn, **options)
    if not callable(predict_fn):
        raise InputError(
            f"instrument() wraps a function (e.g. model.predict); got {type(predict_fn).__name__}."
        )
    return Instrumented(predict_fn, **options)


class Instrumented:
    """A predict function that times, counts and logs its calls (see :func:`instrument`)."""

    def __init__(
        self,
        predict_fn: Callable[..., Any],
        *,
        log: Any = None,
        metrics: Any = None,
        model_version: str | None = None,
        memory: str | None = None,
        memory_every: int = 1,
        cpu: bool = False,
        inputs: bool = True,
        output: str | Sequence[str] | None = None,
        feature_names: Sequence[str] | None = None,
        id_column: str | None = None,
    ) -> None:
        if memory is not None and memory not in MEMORY_MODES:
            raise InputError(
                f"memory must be one of {', '.join(map(repr, MEMORY_MODES))} or None; "
                f"got {memory!r}."
            )
        if isinstance(memory_every, bool) or not isinstance(memory_every, int) or memory_every < 1:
            raise InputError(f"memory_every must be a positive integer; got {memory_every!r}.")
        self.__wrapped__ = predict_fn
        functools.update_wrapper(self, predict_fn, updated=())
        self.log = log
        self.metrics = metrics
        self.model_version = model_version
        self.memory = memory
        self.memory_every = memory_every
        self.cpu = cpu
        self.inputs = inputs
        self.output = [output] if isinstance(output, str) else output
        self.feature_names = list(feature_names) if feature_names is not None else None
        self.id_column = id_column or (getattr(log, "id", None) if log is not None else None)
        # Columns of the input that are the log's, not the model's: taken out before the call.
        self._meta_columns = tuple(
            c for c in (self.id_column, getattr(log, "timestamp", None)) if c is not None
        )
        self._lock = threading.Lock()
        self._calls = 0
        self._rows = 0
        self._errors = 0
        self._latency_ns = 0
        self._log_errors = 0
        self._warned: set[str] = set()  # messages of monitoring failures already warned of
        if memory == "tracemalloc" and not tracemalloc.is_tracing():
            tracemalloc.start()

    # ---- the call ------------------------------------------------------------------------

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._invoke(self.__wrapped__, args, kwargs)

    def _invoke(self, function: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        meta: dict[str, Any] = {}  # request ids and times given with the input
        if args and self._meta_columns:
            try:
                first, meta = _split_meta(args[0], self._meta_columns, self.id_column)
            except Exception as exc:  # the model gets its input as it was given
                self._monitoring_failed(exc)
                first, meta = args[0], {}
            if meta:
                args = (first, *args[1:])
        measure_memory = self.memory is not None and self._calls % self.memory_every == 0
        if measure_memory and self.memory == "tracemalloc":
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
        cpu_start = time.thread_time_ns() if self.cpu else 0
        error: BaseException | None = None
        result = None
        start = time.perf_counter_ns()
        try:
            result = function(*args, **kwargs)
        except BaseException as exc:  # counted, logged, raised again
            error = exc
        elapsed = time.perf_counter_ns() - start
        cpu_ns = time.thread_time_ns() - cpu_start if self.cpu else 0
        memory_mb = None
        if measure_memory:
            if self.memory == "tracemalloc":
                memory_mb = max(tracemalloc.get_traced_memory()[1] - before, 0) / 2**20
            else:
                memory_mb = _rss_mb()
        rows = _row_count(args[0]) if args else 1
        with self._lock:
            self._calls += 1
            self._rows += rows
            self._latency_ns += elapsed
            if error is not None:
                self._errors += 1
        # Monitoring must not change what the caller gets: a failure to count or log is
        # counted, warned of once, and the prediction (or the model's error) goes on.
        if self.metrics is not None:
            try:
                self.metrics.observe(
                    rows,
                    elapsed / 1e9,
                    error=None if error is None else type(error).__name__,
                    model_version=self.model_version,
                    memory_bytes=None if memory_mb is None else memory_mb * 2**20,
                )
            except Exception as exc:
                self._monitoring_failed(exc)
        if self.log is not None:
            try:
                self._log_call(args, result, error, rows, elapsed, memory_mb, cpu_ns, meta)
            except Exception as exc:
                self._monitoring_failed(exc)
        if error is not None:
            raise error
        return result

    def _log_call(
        self,
        args: tuple,
        result: Any,
        error: BaseException | None,
        rows: int,
        elapsed: int,
        memory_mb: float | None,
        cpu_ns: int,
        meta: dict[str, Any],
    ) -> None:
        """One row per input row of the call (see :func:`instrument`)."""
        extra: dict[str, Any] = {LATENCY_COLUMN: elapsed / 1e6, ERROR_COLUMN: error is not None}
        if memory_mb is not None:
            extra[MEMORY_COLUMN] = memory_mb
        if self.cpu:
            extra[CPU_COLUMN] = cpu_ns / 1e6
        if self.model_version is not None:
            extra[VERSION_COLUMN] = self.model_version
        timestamp = getattr(self.log, "timestamp", None)
        if timestamp is not None and not _has_column(args[0] if args else None, timestamp):
            extra[timestamp] = _now()
        extra.update(meta)
        self._log(args[0] if args else None, result, error, rows, extra)

    def _monitoring_failed(self, exc: Exception) -> None:
        """Count a failure to log or count a call; warn once per distinct message."""
        message = f"{type(exc).__name__}: {exc}"
        with self._lock:
            self._log_errors += 1
            first = message not in self._warned and len(self._warned) < _MAX_WARNED
            if first:
                self._warned.add(message)
        if self.metrics is not None:
            try:
                self.metrics.log_error(model_version=self.model_version)
            except Exception:  # noqa: S110 - counting the failure must not fail either
                pass
        if first:
            name = getattr(self.__wrapped__, "__qualname__", repr(self.__wrapped__))
            warnings.warn(
                f"monitorkit could not log or count a call of {name} ({message}); the "
                "prediction was returned as it was. Further failures with this message are "
                "counted in stats()['log_errors'] without a warning.",
                RuntimeWarning,
                stacklevel=4,
            )

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        """Decorating a method: bind it like a function."""
        if instance is None:
            return self
        bound = functools.partial(self.__wrapped__, instance)
        # The input is the first argument after ``self``.
        return lambda *args, **kwargs: self._invoke(bound, args, kwargs)

    # ---- what is logged ------------------------------------------------------------------

    def _log(self, data: Any, result: Any, error: Any, rows: int, extra: dict[str, Any]) -> None:
        if isinstance(data, Mapping) and rows == 1:
            # One record, the common online call: a dict, no DataFrame (the cheap path).
            record = dict(data) if self.inputs else {}
            if error is None:
                record.update(self._outputs_of_one(result))
            record.update(extra)
            if hasattr(self.log, "_buffer"):  # a PredictionLog: the record is new, no copy
                self.log._buffer(1, record, None)
            else:
                self.log.append(record)
            return
        import pandas as pd

        frame = _input_frame(data, rows, self.feature_names) if self.inputs else None
        if frame is None:
            frame = pd.DataFrame(index=range(rows))
        if error is None:
            for name, values in self._outputs(result, rows).items():
                frame[name] = values
        for name, value in extra.items():
            frame[name] = value
        if hasattr(self.log, "_buffer"):  # a PredictionLog: the frame is new, no copy needed
            self.log._buffer(len(frame), None, frame)
        else:
            self.log.append(frame)

    def _outputs_of_one(self, result: Any) -> dict[str, Any]:
        if isinstance(result, Mapping):
            return dict(result)
        values = _flat(result)
        if values is None:
            return {}
        if len(values) == 1:
            return {(self.output or ["prediction"])[0]: values[0]}
        names = self.output or _output_names(len(values))
        if len(values) == 2 and not self.output:
            return {"score": values[1]}
        return dict(zip(names, values))

    def _outputs(self, result: Any, rows: int) -> dict[str, Any]:
        import numpy as np
        import pandas as pd

        if isinstance(result, pd.DataFrame):
            return {str(c): result[c].to_numpy() for c in result.columns}
        if isinstance(result, pd.Series):
            return {(self.output or [str(result.name or "prediction")])[0]: result.to_numpy()}
        try:
            array = np.asarray(result)
        except (TypeError, ValueError):
            return {}
        if array.ndim == 0:
            array = array.reshape(1)
        if array.shape[0] != rows:
            return {}  # an output that is not one value per row is not logged
        if array.ndim == 1:
            return {(self.output or ["prediction"])[0]: array}
        width = array.shape[1]
        if self.output and len(self.output) == width:
            return {name: array[:, i] for i, name in enumerate(self.output)}
        if width == 1:
            return {(self.output or ["prediction"])[0]: array[:, 0]}
        if width == 2:
            return {(self.output or ["score"])[0]: array[:, 1]}
        return {name: array[:, i] for i, name in enumerate(_output_names(width))}

    # ---- figures -------------------------------------------------------------------------

    def stats(self) -> dict[str, float]:
        """Calls, rows and errors so far, the mean latency per call and per row (ms), and
        ``log_errors``: the calls that could not be logged or counted (the prediction was
        returned all the same)."""
        with self._lock:
            calls, rows, errors, total = self._calls, self._rows, self._errors, self._latency_ns
            log_errors = self._log_errors
        return {
            "calls": calls,
            "rows": rows,
            "errors": errors,
            "error_rate": errors / calls if calls else float("nan"),
            "latency_ms_per_call": total / 1e6 / calls if calls else float("nan"),
            "latency_ms_per_row": total / 1e6 / rows if rows else float("nan"),
            "log_errors": log_errors,
        }

    def __repr__(self) -> str:
        name = getattr(self.__wrapped__, "__qualname__", repr(self.__wrapped__))
        return f"<instrumented {name}: {self.stats()['calls']} call(s)>"


# ---- helpers ---------------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _has_column(data: Any, name: str) -> bool:
    if isinstance(data, Mapping):
        return name in data
    columns = getattr(data, "columns", None)
    return columns is not None and name in columns


def _output_names(width: int) -> list[str]:
    return [f"score_{i}" for i in range(width)]


def _flat(result: Any) -> list[Any] | None:
    """One row's output as a flat list of plain values (None: not loggable)."""
    if result is None:
        return None
    if isinstance(result, (int, float, str, bool)):
        return [result]
    if hasattr(result, "tolist"):
        value = result.tolist()
        while isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
            value = value[0]
        return value if isinstance(value, list) else [value]
    if isinstance(result, (list, tuple)):
        values = list(result)
        if len(values) == 1 and isinstance(values[0], (list, tuple)):
            values = list(values[0])
        return [v.item() if hasattr(v, "item") else v for v in values]
    return None


def _split_meta(
    data: Any, columns: tuple[str, ...], id_column: str | None
) -> tuple[Any, dict[str, Any]]:
    """The input without the log's own columns (request id, timestamp), and their values;
    ``(data, {})`` when it has none. Ids become strings."""
    if isinstance(data, Mapping):
        found = {c: data[c] for c in columns if c in data}
        if not found:
            return data, {}
        rest = {k: v for k, v in data.items() if k not in found}
        return rest, {c: (str(v) if c == id_column and v is not None else v)
                      for c, v in found.items()}  # fmt: skip
    names = getattr(data, "columns", None)
    if names is None or not hasattr(data, "drop"):
        return data, {}
    present = [c for c in columns if c in names]
    if not present:
        return data, {}
    found = {c: data[c].to_numpy() for c in present}
    if id_column in found:
        found[id_column] = data[id_column].astype(str).to_numpy()
    return data.drop(columns=present), found


def _row_count(data: Any) -> int:
    if isinstance(data, Mapping):
        return 1
    shape = getattr(data, "shape", None)
    if shape is not None:
        return int(shape[0]) if len(shape) >= 1 else 1
    if isinstance(data, (list, tuple)):
        return len(data)
    return 1


def _input_frame(data: Any, rows: int, feature_names: Sequence[str] | None) -> Any:
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data.reset_index(drop=True).copy()
    if isinstance(data, pd.Series):
        return data.to_frame().reset_index(drop=True)
    if isinstance(data, (list, tuple)) and data and isinstance(data[0], Mapping):
        return pd.DataFrame.from_records(list(data))
    try:
        array = np.asarray(data)
    except (TypeError, ValueError):
        return None
    if array.ndim == 1 and rows == len(array) and array.dtype != object:
        array = array.reshape(-1, 1)
    if array.ndim != 2 or array.shape[0] != rows:
        return None
    names = list(feature_names) if feature_names else [f"x{i}" for i in range(array.shape[1])]
    if len(names) != array.shape[1]:
        raise InputError(
            f"feature_names has {len(names)} names but the input has {array.shape[1]} columns."
        )
    return pd.DataFrame(array, columns=names)


def _rss_mb() -> float:
    """The resident memory of this process in MB (Linux ``/proc``; psutil elsewhere)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_MB
    except OSError:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
