"""How long ``import monitorkit`` takes, and what it pulls in.

Serving code imports monitorkit to log predictions; the import must stay light. Each
measurement is a fresh interpreter (``python -c "import monitorkit"``), so nothing is cached in
the process; the operating system's file cache is warm after the first, untimed run.

Usage (from the repository root, after ``make test`` created ``.venv``)::

    .venv/bin/python benchmarks/bench_import.py            # 20 runs of each
    .venv/bin/python benchmarks/bench_import.py --runs 50

Printed: the median and 90th percentile wall time of ``import monitorkit``, of ``import
monitorkit`` plus touching ``mk.ColumnSpec`` (the serving path: schema only), of ``import
pandas`` alone (the floor it cannot go below, as monitorkit needs pandas), and of ``import
monitorkit.drift`` (the full computing stack, scipy included), and which heavy packages each
one loaded. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

HEAVY = ("scipy", "matplotlib", "ipywidgets", "IPython", "papermill", "nbconvert", "pandas")

CASES = {
    "import pandas (floor)": "import pandas",
    "import monitorkit": "import monitorkit",
    "import monitorkit; mk.ColumnSpec": "import monitorkit as mk; mk.ColumnSpec",
    "import monitorkit.drift": "import monitorkit.drift",
}


def _run(code: str) -> tuple[float, list[str]]:
    probe = f"{code}\nimport sys; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - start
    return elapsed, [m for m in done.stdout.strip().split(",") if m]


def _interpreter_start(runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    base = _interpreter_start(args.runs)
    print(f"python {sys.version.split()[0]}; interpreter start alone: {base * 1000:.0f} ms")
    print(f"{'case':<36} {'median':>9} {'p90':>9}  (interpreter start subtracted)  loaded")
    for name, code in CASES.items():
        _run(code)  # warm the file cache
        times, loaded = [], []
        for _ in range(args.runs):
            elapsed, loaded = _run(code)
            times.append(elapsed - base)
        times.sort()
        p90 = times[min(len(times) - 1, int(0.9 * len(times)))]
        print(
            f"{name:<36} {statistics.median(times) * 1000:>7.0f} ms {p90 * 1000:>6.0f} ms"
            f"  {', '.join(loaded) or '-'}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
