"""What capture costs in the serving path: log throughput, instrumentation overhead, reading.

Usage (from the repository root, after ``make test`` created ``.venv``)::

    .venv/bin/python benchmarks/bench_capture.py                 # all three, about a minute
    .venv/bin/python benchmarks/bench_capture.py --rows 1000000 --calls 200000
    .venv/bin/python benchmarks/bench_capture.py --json benchmarks/results/capture.json

Measured, each the best of ``--repeat`` runs (default 3), in a temporary folder:

1. **Log throughput**: ``--rows`` rows of 25 float features plus a score, appended in batches
   of 1,000 and of 10,000 rows to a :class:`~monitorkit.PredictionLog`, timed from the first
   append until ``close()`` returns (every row on disk, fsynced). Target: 200,000 rows/s.
2. **Instrumentation overhead** per call, for a predict function taking one record (a dict
   of 25 features) and returning a float: the wrapped call's time minus the bare call's,
   over ``--calls`` calls. Counting only (no log, no metrics), with Prometheus
   :class:`~monitorkit.capture.ServingMetrics`, and logging to a PredictionLog — timed until
   ``close()`` returns, so the background writes are amortised into it. Targets: under 2 µs
   counting, under 20 µs logging.
3. **Reading one day back**: a log holding one day of ``--day-rows`` rows (25 features, in
   files of 50,000 rows), read with ``log.read(start, end)`` for that day. Target: under 1 s.

Nothing asserts a time; the figures and targets are printed.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import monitorkit as mk
from monitorkit.capture.log import PredictionLog

FEATURES = 25


def _features(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.random((rows, FEATURES)), columns=[f"x{i}" for i in range(FEATURES)])
    frame["score"] = rng.random(rows)
    return frame


def log_throughput(rows: int, batch: int, repeat: int) -> dict:
    frame = _features(batch)
    stamps = pd.Timestamp("2026-05-01T12:00Z")
    frame["timestamp"] = stamps
    batches = rows // batch
    best = None
    for _ in range(repeat):
        folder = Path(tempfile.mkdtemp(prefix="bench-log-"))
        gc.collect()
        start = time.perf_counter()
        log = PredictionLog(folder, flush_rows=100_000, flush_seconds=60)
        for _ in range(batches):
            log.append(frame)
        log.close()
        elapsed = time.perf_counter() - start
        files = log.files_written
        shutil.rmtree(folder)
        best = elapsed if best is None else min(best, elapsed)
    total = batches * batch
    return {
        "rows": total,
        "batch_rows": batch,
        "seconds": round(best, 4),
        "rows_per_s": round(total / best),
        "files": files,
    }


def _record() -> dict:
    rng = np.random.default_rng(1)
    return {f"x{i}": float(v) for i, v in enumerate(rng.random(FEATURES))}


def _predict(record: dict) -> float:
    return 0.5


def _time_calls(function, record: dict, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        function(record)
    return time.perf_counter() - start


def overhead(calls: int, repeat: int) -> dict:
    record = _record()
    results = {}
    bare = min(_time_calls(_predict, record, calls) for _ in range(repeat))
    results["bare_call_us"] = round(bare / calls * 1e6, 3)
    counting = mk.instrument(_predict)
    best = min(_time_calls(counting, record, calls) for _ in range(repeat))
    results["counting_overhead_us"] = round((best - bare) / calls * 1e6, 3)
    try:
        from monitorkit.capture.prometheus import ServingMetrics

        metrics = ServingMetrics("bench")
        counted = mk.instrument(_predict, metrics=metrics, model_version="1")
        best = min(_time_calls(counted, record, calls) for _ in range(repeat))
        results["prometheus_overhead_us"] = round((best - bare) / calls * 1e6, 3)
    except ImportError:
        results["prometheus_overhead_us"] = None
    times = []
    for _ in range(repeat):
        folder = Path(tempfile.mkdtemp(prefix="bench-instrument-"))
        gc.collect()
        start = time.perf_counter()
        log = PredictionLog(folder, flush_rows=50_000, flush_seconds=60)
        logged = mk.instrument(_predict, log=log)
        for _ in range(calls):
            logged(record)
        log.close()  # the writes are part of the cost, amortised over the calls
        times.append(time.perf_counter() - start)
        rows = log.rows_written
        shutil.rmtree(folder)
    assert rows == calls
    results["logging_overhead_us"] = round((min(times) - bare) / calls * 1e6, 3)
    results["calls"] = calls
    return results


def read_day(day_rows: int, repeat: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="bench-read-"))
    try:
        log = PredictionLog(folder, flush_rows=10**7, flush_seconds=3600)
        per_file = 50_000
        for part in range(0, day_rows, per_file):
            frame = _features(min(per_file, day_rows - part), seed=part)
            offsets = pd.to_timedelta(np.linspace(0, 86_399, len(frame)), unit="s")
            frame["timestamp"] = pd.Timestamp("2026-05-01T00:00Z") + offsets
            log.append(frame)
            log.flush()
        # the days around it, which the read must skip
        for day in ("2026-04-30", "2026-05-02"):
            frame = _features(per_file, seed=7)
            frame["timestamp"] = pd.Timestamp(f"{day}T12:00Z")
            log.append(frame)
        log.close()
        best = None
        for _ in range(repeat):
            gc.collect()
            start = time.perf_counter()
            back = log.read("2026-05-01", "2026-05-02")
            elapsed = time.perf_counter() - start
            best = elapsed if best is None else min(best, elapsed)
        assert len(back) == day_rows, len(back)
        return {"rows": day_rows, "files": log.files_written - 2, "seconds": round(best, 4)}
    finally:
        shutil.rmtree(folder)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows for the throughput")
    parser.add_argument("--calls", type=int, default=200_000, help="calls for the overhead")
    parser.add_argument("--day-rows", type=int, default=1_000_000, help="rows in the day read")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    import pyarrow

    facts = {
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "pyarrow": pyarrow.__version__,
        "monitorkit": mk.__version__,
    }
    print(" / ".join(f"{k} {v}" for k, v in facts.items()))
    results: dict = {"machine": facts, "throughput": []}
    print("\n1. log throughput (append in batches until close(): all rows on disk)")
    for batch in (1_000, 10_000):
        found = log_throughput(args.rows, batch, args.repeat)
        results["throughput"].append(found)
        print(
            f"   batches of {batch:>6,}: {found['rows']:,} rows in {found['seconds']:.3f} s = "
            f"{found['rows_per_s']:,} rows/s ({found['files']} files)   target >= 200,000"
        )
    print("\n2. instrumentation overhead per call (one 25-feature record)")
    found = overhead(args.calls, args.repeat)
    results["overhead"] = found
    print(f"   bare call:                 {found['bare_call_us']:.3f} µs")
    print(f"   counting only:           + {found['counting_overhead_us']:.3f} µs   target < 2")
    if found["prometheus_overhead_us"] is not None:
        print(f"   with Prometheus metrics: + {found['prometheus_overhead_us']:.3f} µs")
    print(f"   logging (amortised):     + {found['logging_overhead_us']:.3f} µs   target < 20")
    print("\n3. reading one day back")
    found = read_day(args.day_rows, args.repeat)
    results["read_day"] = found
    print(
        f"   {found['rows']:,} rows ({found['files']} files) in {found['seconds']:.3f} s"
        "   target < 1 s"
    )
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
