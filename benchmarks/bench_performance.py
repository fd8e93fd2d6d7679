"""Benchmark: ``mk.PerformanceReport`` on 1,000,000 predictions, 30 daily windows, 3 segments.

Run from the repository root::

    .venv/bin/python benchmarks/bench_performance.py                 # binary and regression, 1M
    .venv/bin/python benchmarks/bench_performance.py --n 100000      # quicker
    .venv/bin/python benchmarks/bench_performance.py --json benchmarks/results/performance.json
    .venv/bin/python benchmarks/bench_performance.py --profile binary  # cProfile of one report
    .venv/bin/python benchmarks/bench_performance.py \
        --nannyml-python /tmp/anchors-nannyml/bin/python           # with the NannyML anchor

The workload (``make_frames``, seeded): ``current`` has ``--n`` rows over 30 days (times
uniform, so 30 daily windows), a ``region`` segment column with 3 values (50/30/20%), a
``latency_ms`` column (gamma) and an ``error`` flag (2%); ``reference`` has ``--n`` / 5 rows
of the same distributions. Binary: a 0/1 ``label`` (30% positive, 2% not labelled yet) and a
``score`` in [0, 1] (continuous, so every row's score is distinct); the second half of the
month the score separates the classes less (a drop to find; ``--no-drop``: none). Regression:
``y`` and ``yhat`` (the error grows by half in the second half of the month).

Timed, best of ``--repeat`` calls each, only the computation (frames and the baseline exist
before the clock starts; the baseline's build time is printed apart):

(a) ``mk.PerformanceReport(current, spec, baseline=Baseline.from_frame(reference), by="1D")``:
    every registered metric of the task on the whole and on each of the 30 windows, times
    ("all" + 3 regions), with intervals, the baseline comparison, latency percentiles and error
    rate — target: under 10 s at 1M rows;
(b) the same metrics looped over windows × segments with scikit-learn (``sklearn.metrics``
    and ``sklearn.calibration.calibration_curve``) and numpy — values only: no intervals, no
    baseline, no judging;
(c) the report on a Dask DataFrame of the same rows (``--partitions``, Dask's default threaded
    scheduler): per-partition states merged (``monitorkit/performance/merged.py``);
(d) optional: NannyML's realised ``PerformanceCalculator`` (``chunk_period="D"``), once on all
    rows and once per region, in the interpreter given by ``--nannyml-python`` (a venv of its
    own: ``benchmarks/requirements-anchors.txt``); "not installed" otherwise.

Before each measurement the script waits (up to ``--wait-quiet`` s) for other processes to use
less than 10% of the CPUs, and records the share they used during the best call. Nothing here
asserts a time.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

SEED = 20261130
DAYS = 30
REGIONS = ("north", "south", "east")
TARGET_SECONDS = 10.0


def make_frames(
    n: int, task: str, seed: int = SEED, drop: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(reference, current) of ``task`` ("binary" or "regression"); see the module docstring.
    ``drop=False``: the model does as well all month (nothing past a tolerance)."""
    rng = np.random.default_rng(seed)

    def side(rows: int, start: str, drop: bool) -> pd.DataFrame:
        offsets = np.sort(rng.random(rows)) * DAYS
        frame = pd.DataFrame(
            {
                "ts": pd.Timestamp(start) + pd.to_timedelta(offsets, unit="D"),
                "region": rng.choice(REGIONS, rows, p=[0.5, 0.3, 0.2]),
                "latency_ms": rng.gamma(2.0, 20.0, rows),
                "error": rng.random(rows) < 0.02,
            }
        )
        late = offsets > DAYS / 2 if drop else np.zeros(rows, dtype=bool)
        if task == "binary":
            label = (rng.random(rows) < 0.3).astype(float)
            separation = np.where(late, 0.15, 0.35)
            frame["score"] = np.clip(separation * label + (1 - separation) * rng.random(rows), 0, 1)
            label[rng.random(rows) < 0.02] = np.nan
            frame["label"] = label
        else:
            y = rng.gamma(4.0, 25.0, rows)
            frame["y"] = y
            frame["yhat"] = y + rng.normal(0, np.where(late, 18.0, 12.0), rows)
        return frame

    return side(max(n // 5, 1_000), "2026-09-01", False), side(n, "2026-10-01", drop)


def spec_of(task: str) -> Any:
    import monitorkit as mk

    if task == "binary":
        return mk.ColumnSpec(
            target="label", prediction="score", timestamp="ts", segments=["region"]
        )
    return mk.ColumnSpec(target="y", prediction="yhat", timestamp="ts", segments=["region"])


# ---------------------------------------------------------------------------------------------
# (b) scikit-learn, looped over windows × segments
# ---------------------------------------------------------------------------------------------


def sklearn_metrics(frame: pd.DataFrame, task: str) -> dict[str, float]:
    """The report's metrics of one (window, segment) with scikit-learn and numpy."""
    import sklearn.metrics as skm
    from sklearn.calibration import calibration_curve

    found: dict[str, float] = {}
    latency = frame["latency_ms"].to_numpy()
    for q in (50, 95, 99):
        found[f"latency_p{q}"] = float(np.percentile(latency, q)) if latency.size else np.nan
    found["error_rate"] = float(frame["error"].mean()) if len(frame) else np.nan
    if task == "binary":
        rows = frame.dropna(subset=["label", "score"])
        y, score = rows["label"].to_numpy().astype(int), rows["score"].to_numpy()
        if y.size == 0:
            return found
        pred = (score >= 0.5).astype(int)
        found["accuracy"] = skm.accuracy_score(y, pred)
        found["balanced_accuracy"] = skm.balanced_accuracy_score(y, pred)
        found["precision"] = skm.precision_score(y, pred, zero_division=np.nan)
        found["recall"] = skm.recall_score(y, pred, zero_division=np.nan)
        found["f1"] = skm.f1_score(y, pred, zero_division=np.nan)
        if 0 < y.sum() < y.size:
            found["roc_auc"] = skm.roc_auc_score(y, score)
            found["average_precision"] = skm.average_precision_score(y, score)
        found["log_loss"] = skm.log_loss(y, score, labels=[0, 1])
        found["brier"] = skm.brier_score_loss(y, score)
        true, predicted = calibration_curve(y, score, n_bins=10)
        counts = np.bincount(np.searchsorted(np.linspace(0, 1, 11)[1:-1], score), minlength=10)
        counts = counts[counts > 0]
        found["calibration_error"] = float(np.sum(counts / y.size * np.abs(true - predicted)))
        found["positive_rate"] = float(y.mean())
        return found
    y, yhat = frame["y"].to_numpy(), frame["yhat"].to_numpy()
    nonzero = y != 0
    found["mae"] = skm.mean_absolute_error(y, yhat)
    found["rmse"] = skm.root_mean_squared_error(y, yhat)
    found["mape"] = skm.mean_absolute_percentage_error(y[nonzero], yhat[nonzero])
    found["r2"] = skm.r2_score(y, yhat)
    found["median_absolute_error"] = skm.median_absolute_error(y, yhat)
    found["mean_error"] = float(np.mean(yhat - y))
    return found


def run_sklearn_loop(current: pd.DataFrame, task: str) -> dict[tuple[str, str], dict[str, float]]:
    """Every (window, segment) cell: the whole and each day, "all" and each region."""
    day = current["ts"].dt.floor("D")
    cells: dict[tuple[str, str], dict[str, float]] = {}
    windows = [("all", current)] + [
        (str(label.date()), rows) for label, rows in current.groupby(day, sort=True)
    ]
    for window, rows in windows:
        cells[(window, "all")] = sklearn_metrics(rows, task)
        for region, part in rows.groupby("region", sort=True):
            cells[(window, f"region={region}")] = sklearn_metrics(part, task)
    return cells


# ---------------------------------------------------------------------------------------------
# (d) NannyML, in its own interpreter
# ---------------------------------------------------------------------------------------------


def run_nannyml(reference: pd.DataFrame, current: pd.DataFrame, task: str) -> int:
    """NannyML's realised performance, daily chunks, on all rows and per region; returns the
    number of result rows."""
    import nannyml as nml

    if task == "binary":
        reference, current = (
            f.dropna(subset=["label"]).assign(
                label=lambda f: f["label"].astype(int),
                pred=lambda f: (f["score"] >= 0.5).astype(int),
            )
            for f in (reference, current)
        )
        options = dict(
            y_pred_proba="score",
            y_pred="pred",
            y_true="label",
            problem_type="classification_binary",
            metrics=["roc_auc", "f1", "precision", "recall", "accuracy", "average_precision"],
        )
    else:
        options = dict(
            y_pred="yhat",
            y_true="y",
            problem_type="regression",
            metrics=["mae", "mape", "mse", "rmse"],
        )
    rows = 0
    for region in (None, *REGIONS):
        ref = reference if region is None else reference[reference["region"] == region]
        cur = current if region is None else current[current["region"] == region]
        calculator = nml.PerformanceCalculator(
            timestamp_column_name="ts", chunk_period="D", **options
        )
        calculator.fit(ref)
        rows += len(calculator.calculate(cur).to_df())
    return rows


def _nannyml_child(n: int, task: str, repeat: int, seed: int, drop: bool) -> None:
    reference, current = make_frames(n, task, seed, drop)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        rows = run_nannyml(reference, current, task)
        times.append(time.perf_counter() - start)
    print(json.dumps({"seconds": times, "best_seconds": min(times), "result_rows": rows}))


def nannyml_anchor(
    python: str | None, n: int, task: str, repeat: int, seed: int, drop: bool
) -> dict:
    if python is None:
        return {"status": "not installed (pass --nannyml-python)"}
    probe = subprocess.run([python, "-c", "import nannyml"], capture_output=True, text=True)
    if probe.returncode != 0:
        return {"status": f"not installed in {python}"}
    child = [python, __file__, "--nannyml-child", task, "--n", str(n), "--repeat", str(repeat)]
    child += ["--seed", str(seed)] + ([] if drop else ["--no-drop"])
    # NannyML sends usage analytics by default; off (no network here, and its retries would
    # be timed).
    environment = {**os.environ, "NML_DISABLE_USAGE_LOGGING": "1"}
    result = subprocess.run(child, capture_output=True, text=True, env=environment)
    if result.returncode != 0:
        return {"status": "crashed", "stderr": result.stderr[-2000:]}
    return {"status": "ok", **json.loads(result.stdout.strip().splitlines()[-1])}


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------


def timed(function: Callable[[], Any], repeat: int, wait: float) -> dict[str, Any]:
    """Best of ``repeat`` wall-clock calls, with the CPU share other processes used in it."""
    from bench_drift import _cpu_seconds, _wait_for_quiet

    cpus = os.cpu_count() or 1
    times, others, output = [], [], None
    for _ in range(repeat):
        _wait_for_quiet(wait)
        gc.collect()
        machine_before, own_before = _cpu_seconds()
        start = time.perf_counter()
        output = function()
        elapsed = time.perf_counter() - start
        machine_after, own_after = _cpu_seconds()
        other = (machine_after - machine_before) - (own_after - own_before)
        times.append(elapsed)
        others.append(max(other, 0.0) / (elapsed * cpus))
    best = times.index(min(times))
    return {
        "seconds": times,
        "best_seconds": times[best],
        "others_cpu_share": others[best],
        "output": output,
    }


def performance_sources() -> dict[str, str]:
    """sha256 (12 hex digits) of each module of ``monitorkit/performance`` as measured."""
    import hashlib
    from pathlib import Path

    import monitorkit.performance

    folder = Path(monitorkit.performance.__file__).parent
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        for path in sorted(folder.glob("*.py"))
    }


def _compare(report: Any, cells: dict) -> dict[str, float]:
    """Largest |report − sklearn| per metric over the cells both computed."""
    frame = report.to_frame()
    frame = frame[~frame["estimated"].astype(bool)]
    worst: dict[str, float] = {}
    for row in frame.itertuples():
        theirs = cells.get((row.window, row.segment), {}).get(row.metric)
        if theirs is None or not (np.isfinite(theirs) and np.isfinite(row.value)):
            continue
        worst[row.metric] = max(worst.get(row.metric, 0.0), abs(row.value - theirs))
    return worst


def run_task(task: str, args: argparse.Namespace) -> dict[str, Any]:
    import dask.dataframe as dd

    import monitorkit as mk

    reference, current = make_frames(args.n, task, args.seed, drop=not args.no_drop)
    spec = spec_of(task)
    start = time.perf_counter()
    baseline = mk.Baseline.from_frame(reference, spec)
    baseline_seconds = time.perf_counter() - start
    mk.PerformanceReport(current.head(20_000), spec, baseline=baseline, by="1D")  # warm-up

    def report() -> Any:
        return mk.PerformanceReport(current, spec, baseline=baseline, by="1D")

    ours = timed(report, args.repeat, args.wait_quiet)
    result = ours.pop("output")
    loop = timed(lambda: run_sklearn_loop(current, task), args.repeat, args.wait_quiet)
    cells = loop.pop("output")
    ddf = dd.from_pandas(current, npartitions=args.partitions)
    on_dask = timed(
        lambda: mk.PerformanceReport(ddf, spec, baseline=baseline, by="1D"),
        max(1, args.repeat - 1),
        args.wait_quiet,
    )
    dask_result = on_dask.pop("output")
    ours_frame = result.to_frame()
    ours_frame = ours_frame[~ours_frame["estimated"].astype(bool)].reset_index(drop=True)
    dask_frame = dask_result.to_frame()
    joined = ours_frame.join(dask_frame[["value"]].rename(columns={"value": "dask"}))
    differences = (joined["value"] - joined["dask"]).abs().groupby(joined["metric"]).max()
    return {
        "task": task,
        "rows": len(current),
        "reference_rows": len(reference),
        "windows": len(result.result.windows) - 1,
        "cells": (len(result.result.windows)) * (1 + len(REGIONS)),
        "values": len(result.result.values),
        "baseline_seconds": baseline_seconds,
        "report": {**ours, "severity": str(result.severity), "verdict": result.verdict},
        "sklearn_loop": {**loop, "cells": len(cells)},
        "largest_difference_report_vs_sklearn": _compare(result, cells),
        "dask_report": {
            **on_dask,
            "partitions": args.partitions,
            "severity": str(dask_result.severity),
        },
        "largest_difference_dask_vs_pandas": {
            k: float(v) for k, v in differences.items() if np.isfinite(v)
        },
        "nannyml": nannyml_anchor(
            args.nannyml_python, args.n, task, args.repeat, args.seed, not args.no_drop
        ),
    }


def profile(task: str, args: argparse.Namespace) -> None:
    import cProfile
    import pstats

    import monitorkit as mk

    reference, current = make_frames(args.n, task, args.seed, drop=not args.no_drop)
    spec = spec_of(task)
    baseline = mk.Baseline.from_frame(reference, spec)
    profiler = cProfile.Profile()
    profiler.enable()
    mk.PerformanceReport(current, spec, baseline=baseline, by="1D")
    profiler.disable()
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)


def _table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| task | rows | cells | report s | sklearn loop s | report on Dask s | nannyml s |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        nanny = r["nannyml"]
        lines.append(
            f"| {r['task']} | {r['rows']:,} | {r['cells']} | {r['report']['best_seconds']:.2f} | "
            f"{r['sklearn_loop']['best_seconds']:.2f} | {r['dask_report']['best_seconds']:.2f} | "
            + (f"{nanny['best_seconds']:.2f}" if nanny.get("status") == "ok" else nanny["status"])
            + " |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="rows of current")
    parser.add_argument("--tasks", nargs="+", default=["binary", "regression"])
    parser.add_argument("--repeat", type=int, default=3, help="timed calls; best is reported")
    parser.add_argument("--partitions", type=int, default=8, help="partitions of the Dask frame")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--no-drop", action="store_true", help="no drop in the second half of the month"
    )
    parser.add_argument("--json", metavar="PATH", help="write the figures and the machine here")
    parser.add_argument("--wait-quiet", type=float, default=60.0)
    parser.add_argument("--nannyml-python", metavar="PYTHON")
    parser.add_argument("--profile", metavar="TASK", help="cProfile one report of TASK")
    parser.add_argument("--top", type=int, default=25, help="rows of the profile to print")
    parser.add_argument("--nannyml-child", metavar="TASK", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.nannyml_child:
        _nannyml_child(args.n, args.nannyml_child, args.repeat, args.seed, not args.no_drop)
        return 0
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    if args.profile:
        profile(args.profile, args)
        return 0
    from bench_drift import machine_facts

    facts = machine_facts()
    facts["performance_sources"] = performance_sources()
    results = []
    for task in args.tasks:
        print(f"{task}: {args.n:,} rows …", flush=True)
        results.append(run_task(task, args))
        r = results[-1]
        print(
            f"  report {r['report']['best_seconds']:.2f} s ({r['values']:,} values, severity "
            f"{r['report']['severity']}), sklearn loop {r['sklearn_loop']['best_seconds']:.2f} s, "
            f"Dask {r['dask_report']['best_seconds']:.2f} s; baseline built in "
            f"{r['baseline_seconds']:.2f} s",
            flush=True,
        )
        print(f"  verdict: {r['report']['verdict']}")
        print(f"  |report − sklearn| max: {r['largest_difference_report_vs_sklearn']}")
        print(f"  |Dask − pandas| max: {r['largest_difference_dask_vs_pandas']}")
    print()
    print(_table(results))
    for r in results:
        met = r["report"]["best_seconds"] < TARGET_SECONDS
        print(
            f"{r['task']}: report {r['report']['best_seconds']:.2f} s — target < "
            f"{TARGET_SECONDS:.0f} s {'met' if met else 'NOT met'}"
        )
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as handle:
            json.dump(
                {"machine": facts, "seed": args.seed, "n": args.n, "results": results},
                handle,
                indent=2,
                default=str,
            )
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
