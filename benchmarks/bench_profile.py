"""Benchmark: profiling throughput, bounded memory on a 20M-row parquet log, baseline size.

Run from the repository root::

    .venv/bin/python benchmarks/bench_profile.py                 # everything (a few minutes)
    .venv/bin/python benchmarks/bench_profile.py --rows 5000000  # a smaller parquet log

What is measured (targets from the baseline issue; nothing here asserts a time):

1. **Throughput** — ``profile_frame`` of a 1,000,000 x 25 numeric DataFrame already in memory,
   on one core (best of 3), in cells per second. Target: at least 10 million cells/s. When
   whylogs is installed (here, or in the venv given by ``--whylogs-python``),
   ``whylogs.log(frame)`` on the same frame is timed beside it, analytics switched off.
2. **Bounded memory** — ``monitorkit.profile(folder)`` of ``--rows`` rows x 25 columns of
   parquet (20 files; 20 numeric and 5 categorical columns) in a subprocess; its peak RSS
   (``ru_maxrss``) and wall time. Target at 20,000,000 rows: peak RSS under 1 GB.
3. **Baseline** — ``Baseline.from_frame`` of 1,000,000 x 25 rows: JSON size (target < 500 KB)
   and ``Baseline.load`` time (best of 5; target < 100 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261125


def numeric_frame(rows: int, columns: int = 25, seed: int = SEED) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = {}
    for i in range(columns):
        values = rng.lognormal(1, 0.6, rows) if i % 3 == 0 else rng.normal(i, 1 + i % 4, rows)
        values[rng.random(rows) < 0.02] = np.nan
        data[f"x{i:02d}"] = values
    return pd.DataFrame(data)


def mixed_frame(rows: int, seed: int) -> pd.DataFrame:
    frame = numeric_frame(rows, 20, seed)
    rng = np.random.default_rng(seed + 1)
    for j, cardinality in enumerate((3, 10, 50, 200, 1000)):
        codes = rng.zipf(1.3, rows) % cardinality
        frame[f"c{j}"] = pd.array(np.char.add("v", codes.astype(str)), dtype="string")
    return frame


def throughput(repeat: int) -> dict:
    from monitorkit.profiles import profile_frame
    from monitorkit.schema import resolve_spec

    frame = numeric_frame(1_000_000)
    resolved = resolve_spec(None, frame)
    best = min(_timed(lambda: profile_frame(frame, resolved)) for _ in range(repeat))
    result = {
        "rows": len(frame),
        "columns": frame.shape[1],
        "seconds": best,
        "cells_per_second": frame.size / best,
    }
    return result


def whylogs_seconds(repeat: int) -> float:
    """``whylogs.log`` of the same frame (run inside the whylogs environment)."""
    import whylogs

    frame = numeric_frame(1_000_000)
    return min(_timed(lambda: whylogs.log(frame)) for _ in range(repeat))


def whylogs_anchor(python: str | None, repeat: int) -> dict:
    """Time whylogs in its own interpreter (it pins its own dependencies), analytics off."""
    python = python or sys.executable
    environment = {**os.environ, "WHYLOGS_NO_ANALYTICS": "True", "DO_NOT_TRACK": "1"}
    run = subprocess.run(
        [python, __file__, "--only-whylogs", "--repeat", str(repeat)],
        capture_output=True,
        text=True,
        env=environment,
    )
    if run.returncode != 0:
        return {
            "whylogs": "not installed" if "No module named" in run.stderr else run.stderr[-300:]
        }
    seconds = float(run.stdout.strip().splitlines()[-1])
    return {"whylogs_seconds": seconds, "whylogs_cells_per_second": 25_000_000 / seconds}


def _timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def write_parquet_log(folder: Path, rows: int, files: int = 20) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    per_file = rows // files
    for i in range(files):
        path = folder / f"part-{i:03d}.parquet"
        if not path.exists():
            mixed_frame(per_file, SEED + i).to_parquet(path, row_group_size=250_000)


_MEASURE = """
import json, resource, sys, time
import monitorkit as mk
start = time.perf_counter()
profile = mk.profile(sys.argv[1], batch_rows=int(sys.argv[2]), progress=False)
print(json.dumps({"rows": profile.rows, "seconds": time.perf_counter() - start,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def bounded_memory(folder: Path, batch_rows: int) -> dict:
    output = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(folder), str(batch_rows)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(output.strip().splitlines()[-1])
    result["batch_rows"] = batch_rows
    result["parquet_mb"] = sum(p.stat().st_size for p in folder.glob("*.parquet")) / 2**20
    result["rows_per_second"] = result["rows"] / result["seconds"]
    return result


def baseline_figures(directory: Path) -> dict:
    import monitorkit as mk

    frame = mixed_frame(1_000_000, SEED)
    start = time.perf_counter()
    baseline = mk.Baseline.from_frame(frame, model="bench")
    capture = time.perf_counter() - start
    path = baseline.save(directory / f"baseline-{os.getpid()}.json")
    load = min(_timed(lambda: mk.Baseline.load(path)) for _ in range(5))
    return {
        "columns": frame.shape[1],
        "rows": len(frame),
        "capture_seconds": capture,
        "json_kb": path.stat().st_size / 1024,
        "load_ms": 1000 * load,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000, help="rows of the parquet log")
    parser.add_argument("--batch-rows", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, help="folder for the parquet log (kept for reuse)")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--whylogs-python", help="interpreter of a venv that has whylogs")
    parser.add_argument("--only-whylogs", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.only_whylogs:
        print(whylogs_seconds(args.repeat))
        return 0

    results = {
        "machine": {
            "nproc": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
        }
    }
    results["throughput"] = throughput(args.repeat) | whylogs_anchor(
        args.whylogs_python, args.repeat
    )
    print("throughput:", json.dumps(results["throughput"]))
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.data or Path(scratch) / "log"
        start = time.perf_counter()
        write_parquet_log(folder, args.rows)
        print(f"parquet log of {args.rows:,} rows ready in {time.perf_counter() - start:.0f} s")
        results["bounded_memory"] = bounded_memory(folder, args.batch_rows)
        print("bounded memory:", json.dumps(results["bounded_memory"]))
        results["baseline"] = baseline_figures(Path(scratch))
        print("baseline:", json.dumps(results["baseline"]))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
