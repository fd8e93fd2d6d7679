"""Benchmark: data quality — the report against the drift report, and the request validator.

Run from the repository root::

    .venv/bin/python benchmarks/bench_quality.py                    # N = 1,000,000 (25 columns)
    .venv/bin/python benchmarks/bench_quality.py --n 100000         # quicker
    .venv/bin/python benchmarks/bench_quality.py --json benchmarks/results/quality.json
    .venv/bin/python benchmarks/bench_quality.py --profile quality  # cProfile of one report
    .venv/bin/python benchmarks/bench_quality.py --profile validate # ... of one validate()

On the drift benchmark's frames (``bench_drift.make_frames``: reference and current, N rows ×
20 numeric + 5 categorical columns, seeded), in one process:

(a) ``mk.QualityReport(reference, current)`` and ``mk.DriftReport(reference, current)``,
    alternately, best of ``--repeat`` calls each (target: quality no slower than drift);
(b) ``Validator.validate(current)`` of a validator built from ``Baseline.from_frame(reference)``
    (target: at least 1,000,000 rows/s over the 25 columns);
(c) ``Validator.check(record)`` on ``--records`` rows of current as dicts (25 fields), one
    call timed at a time (target: median at most 50 µs);
(d) pandera, when installed (``pip install 'monitorkit[bench]'``): a ``DataFrameSchema`` with the
    same checks (required columns, no missing values where training had none, the training
    range, the training categories), ``validate(current, lazy=True)`` on the batch and on a
    one-row frame per record.

Only the computation is timed: frames, baseline and validator exist before the clock starts
(their build times are printed apart). Before each measurement the script waits (up to
``--wait-quiet`` s) for other processes to use less than 10% of the CPUs, and records the share
they used during each timed call. Nothing here asserts a time; see ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from bench_drift import SEED, _cpu_seconds, _maxrss_mb, _wait_for_quiet, machine_facts, make_frames

TARGET_ROWS_PER_S = 1_000_000
TARGET_CHECK_US = 50.0


def timed(function: Callable[[], Any], repeat: int) -> dict[str, Any]:
    """Best of ``repeat`` wall-clock calls, with the CPU share other processes used in each."""
    cpus = os.cpu_count() or 1
    times, others = [], []
    for _ in range(repeat):
        gc.collect()
        machine_before, own_before = _cpu_seconds()
        start = time.perf_counter()
        function()
        elapsed = time.perf_counter() - start
        machine_after, own_after = _cpu_seconds()
        other = (machine_after - machine_before) - (own_after - own_before)
        times.append(elapsed)
        others.append(max(other, 0.0) / (elapsed * cpus))
    best = times.index(min(times))
    return {"seconds": times, "best_seconds": times[best], "others_cpu_share": others[best]}


def per_call(function: Callable[[Any], Any], items: list[Any]) -> dict[str, float]:
    """Median and 99th percentile (µs) of one call per item, each timed alone."""
    clock = time.perf_counter_ns
    durations = []
    for item in items:
        start = clock()
        function(item)
        durations.append(clock() - start)
    durations_us = np.array(durations) / 1000
    return {
        "calls": len(items),
        "median_us": float(np.median(durations_us)),
        "p99_us": float(np.percentile(durations_us, 99)),
        "mean_us": float(durations_us.mean()),
    }


# ---------------------------------------------------------------------------------------------
# pandera (optional): the validator's checks, written as a pandera schema
# ---------------------------------------------------------------------------------------------


def pandera_schema(validator: Any) -> Any:
    """A pandera ``DataFrameSchema`` with the validator's checks: required columns, nullable
    only where training had missing values, ``in_range`` of the training range, ``isin`` the
    training categories. No dtype is checked or coerced (the validator checks values)."""
    import pandera.pandas as pa

    columns = {}
    for plan in validator._columns:
        checks = []
        if plan.minimum is not None and plan.maximum is not None:
            checks.append(pa.Check.in_range(plan.minimum, plan.maximum))
        if plan.categories is not None:
            checks.append(pa.Check.isin(sorted(plan.categories)))
        columns[plan.name] = pa.Column(
            checks=checks, nullable=not plan.never_missing, required=plan.required
        )
    return pa.DataFrameSchema(columns)


def pandera_findings(schema: Any, frame: pd.DataFrame) -> int:
    """Failure cases pandera reports for ``frame`` (all checks, ``lazy=True``)."""
    from pandera.errors import SchemaErrors

    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as errors:
        return len(errors.failure_cases)
    return 0


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------


def quality_sources() -> dict[str, str]:
    """sha256 (12 hex digits) of each module of ``monitorkit/quality`` as imported now: the
    package changes faster than its version, so the figures name the code they measured."""
    import hashlib
    from pathlib import Path

    import monitorkit.quality

    folder = Path(monitorkit.quality.__file__).parent
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        for path in sorted(folder.glob("*.py"))
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    import monitorkit as mk

    say = print
    reference, current = make_frames(args.n, args.seed)
    results: dict[str, Any] = {"n": args.n, "columns": reference.shape[1]}
    results["quality_sources_at_start"] = quality_sources()

    # warm-up on a slice: imports, first calls
    mk.QualityReport(reference.head(20_000), current.head(20_000))
    mk.DriftReport(reference.head(20_000), current.head(20_000))

    # (a) quality vs drift, alternately
    reports = {"quality": mk.QualityReport, "drift": mk.DriftReport}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in reports}
    outputs: dict[str, Any] = {}
    for _ in range(args.repeat):
        for name, report in reports.items():
            if args.wait_quiet > 0:
                _wait_for_quiet(args.wait_quiet)
            outputs.pop(name, None)
            gc.collect()

            def call(report=report, name=name) -> None:
                outputs[name] = report(reference, current)

            measured = timed(call, 1)
            runs[name].append(measured)
            say(
                f"  {name:<8} {measured['best_seconds']:.3f} s "
                f"(others {measured['others_cpu_share']:.0%})",
                file=sys.stderr,
            )
    for name in reports:
        best = min(runs[name], key=lambda m: m["best_seconds"])
        results[f"{name}_report"] = {
            "seconds": [m["best_seconds"] for m in runs[name]],
            "best_seconds": best["best_seconds"],
            "others_cpu_share_at_best": best["others_cpu_share"],
            "severity": str(outputs[name].severity),
        }
    quality = outputs["quality"]
    results["quality_report"].update(
        problems=len(quality.problems),
        findings=len(quality.findings),
        problem_checks=sorted({f"{f.column}:{f.check}" for f in quality.problems}),
    )
    outputs.clear()
    gc.collect()

    # (b) validate a batch
    start = time.perf_counter()
    baseline = mk.Baseline.from_frame(reference)
    results["baseline_seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    validator = baseline.validator()
    results["validator_seconds"] = time.perf_counter() - start
    if args.wait_quiet > 0:
        _wait_for_quiet(args.wait_quiet)
    findings: dict[str, pd.DataFrame] = {}
    measured = timed(lambda: findings.__setitem__("f", validator.validate(current)), args.repeat)
    batch = findings["f"]
    results["validate"] = {
        **measured,
        "rows_per_s": args.n / measured["best_seconds"],
        "findings": len(batch),
        "by_check": {k: int(v) for k, v in batch["check"].value_counts().items()},
    }
    say(f"  validate {measured['best_seconds']:.3f} s, {len(batch):,} findings", file=sys.stderr)

    # (c) one request at a time
    records = current.head(args.records).to_dict(orient="records")
    clean = next(r for r in records if not validator.check(r))
    if args.wait_quiet > 0:
        _wait_for_quiet(args.wait_quiet)
    machine_before, own_before = _cpu_seconds()
    start = time.perf_counter()
    results["check"] = per_call(validator.check, records)
    results["check_clean_record"] = per_call(validator.check, [clean] * len(records))
    elapsed = time.perf_counter() - start
    machine_after, own_after = _cpu_seconds()
    results["check"]["others_cpu_share"] = max(
        (machine_after - machine_before) - (own_after - own_before), 0.0
    ) / (elapsed * (os.cpu_count() or 1))
    results["check"]["fields"] = len(clean)
    results["check"]["records_with_findings"] = sum(bool(validator.check(r)) for r in records)

    # (d) pandera
    try:
        import pandera

        version = pandera.__version__
    except ImportError:
        version = None
    results["pandera"] = {"installed": version is not None, "version": version}
    if version is not None:
        schema = pandera_schema(validator)
        counts: dict[str, int] = {}
        if args.wait_quiet > 0:
            _wait_for_quiet(args.wait_quiet)
        measured = timed(
            lambda: counts.__setitem__("n", pandera_findings(schema, current)), args.repeat
        )
        one_row = [pd.DataFrame([r]) for r in records[: args.pandera_records]]
        results["pandera"].update(
            batch={**measured, "rows_per_s": args.n / measured["best_seconds"]},
            failure_cases=counts["n"],
            agrees_with_validate=counts["n"] == len(batch),
            one_row=per_call(lambda frame: pandera_findings(schema, frame), one_row),
        )
        say(f"  pandera  {measured['best_seconds']:.3f} s", file=sys.stderr)
    results["peak_rss_mb"] = _maxrss_mb()
    results["quality_sources_at_end"] = quality_sources()
    return results


def report_lines(results: dict[str, Any]) -> list[str]:
    quality, drift = results["quality_report"], results["drift_report"]
    validate, check = results["validate"], results["check"]
    ratio = quality["best_seconds"] / drift["best_seconds"]
    lines = [
        f"N = {results['n']:,} rows x {results['columns']} columns, best of "
        f"{len(quality['seconds'])} (wall clock, computation only)",
        "",
        "| measurement | figure | target | met |",
        "| --- | --- | --- | --- |",
        f"| (a) QualityReport(reference, current) | {quality['best_seconds']:.3f} s "
        f"({quality['problems']} problems, {quality['severity']}) | no slower than drift | "
        f"{'yes' if ratio <= 1 else 'no'} ({ratio:.2f}x drift) |",
        f"| (a) DriftReport(reference, current) | {drift['best_seconds']:.3f} s | | |",
        f"| (b) Validator.validate(current) | {validate['best_seconds']:.3f} s = "
        f"{validate['rows_per_s'] / 1e6:.2f} million rows/s ({validate['findings']:,} findings)"
        f" | >= 1.00 million rows/s | "
        f"{'yes' if validate['rows_per_s'] >= TARGET_ROWS_PER_S else 'no'} |",
        f"| (c) Validator.check(record), {check['fields']} fields | median "
        f"{check['median_us']:.1f} µs, p99 {check['p99_us']:.1f} µs over {check['calls']:,} "
        f"records; a clean record {results['check_clean_record']['median_us']:.1f} µs | "
        f"<= 50 µs median | {'yes' if check['median_us'] <= TARGET_CHECK_US else 'no'} |",
    ]
    pandera = results["pandera"]
    if pandera.get("batch"):
        lines += [
            f"| (d) pandera {pandera['version']} validate(current, lazy=True) | "
            f"{pandera['batch']['best_seconds']:.3f} s = "
            f"{pandera['batch']['rows_per_s'] / 1e6:.2f} million rows/s "
            f"({pandera['failure_cases']:,} failure cases"
            f"{', as many as validate' if pandera['agrees_with_validate'] else ''}) | (anchor) | |",
            f"| (d) pandera, one-row frame per record | median "
            f"{pandera['one_row']['median_us']:.0f} µs over {pandera['one_row']['calls']:,} | "
            "(anchor) | |",
        ]
    else:
        lines.append("| (d) pandera | not installed | (anchor) | |")
    lines += [
        "",
        f"baseline captured in {results['baseline_seconds']:.2f} s, validator built in "
        f"{results['validator_seconds'] * 1000:.0f} ms (not timed above); peak RSS "
        f"{results['peak_rss_mb']:.0f} MB",
        "every call (s): quality " + ", ".join(f"{t:.3f}" for t in quality["seconds"])
        + "; drift " + ", ".join(f"{t:.3f}" for t in drift["seconds"])
        + "; validate " + ", ".join(f"{t:.3f}" for t in validate["seconds"]),
        f"validate findings by check: {validate['by_check']}",
    ]  # fmt: skip
    sources = results["quality_sources_at_start"]
    lines.append("monitorkit/quality sha256: " + ", ".join(f"{k} {v}" for k, v in sources.items()))
    if results["quality_sources_at_end"] != sources:
        lines.append(
            "monitorkit/quality changed during the run (the modules imported at the start were "
            "measured): rerun for figures of the code as it is now"
        )
    noisy = [
        name
        for name, share in (
            ("quality", quality["others_cpu_share_at_best"]),
            ("drift", drift["others_cpu_share_at_best"]),
            ("validate", validate["others_cpu_share"]),
            ("check", check["others_cpu_share"]),
        )
        if share >= 0.10
    ]
    if noisy:
        lines.append(
            "other processes used >= 10% of the CPUs during: " + ", ".join(noisy)
            + "; rerun on a quiet machine before trusting those figures"
        )  # fmt: skip
    return lines


def profile(what: str, n: int, seed: int, top: int) -> None:
    """cProfile of one QualityReport (or DriftReport, or validate) at ``n`` rows."""
    import cProfile
    import pstats

    import monitorkit as mk

    reference, current = make_frames(n, seed)
    if what == "validate":
        validator = mk.Baseline.from_frame(reference).validator()
        call = lambda: validator.validate(current)  # noqa: E731
    else:
        report = mk.QualityReport if what == "quality" else mk.DriftReport
        report(reference.head(20_000), current.head(20_000))  # imports, first calls
        call = lambda: report(reference, current)  # noqa: E731
    start = time.perf_counter()
    call()
    plain = time.perf_counter() - start
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    call()
    profiler.disable()
    print(
        f"N={n:,}: one {what} {plain:.3f} s; under cProfile {time.perf_counter() - start:.3f} s "
        "(cProfile sees the main thread only)"
    )
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="rows of reference and current")
    parser.add_argument("--repeat", type=int, default=3, help="timed calls; best is reported")
    parser.add_argument("--records", type=int, default=20_000, help="records for check()")
    parser.add_argument(
        "--pandera-records", type=int, default=500, help="one-row frames for pandera"
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--json", metavar="PATH", help="write the figures and the machine here")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="before each measurement, wait up to this long for other processes to use < 10%% "
        "of the CPUs (0: do not wait)",
    )
    parser.add_argument(
        "--profile", choices=["quality", "drift", "validate"], help="cProfile one call at --n"
    )
    parser.add_argument("--top", type=int, default=20, help="rows of the profile to print")
    args = parser.parse_args(argv)
    if args.profile:
        profile(args.profile, args.n, args.seed, args.top)
        return 0
    facts = machine_facts()
    print("machine: " + ", ".join(f"{k}={v}" for k, v in facts.items()), file=sys.stderr)
    results = run(args)
    print("\n".join(report_lines(results)))
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as handle:
            json.dump({"machine": facts, "seed": args.seed, "results": results}, handle, indent=2)
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
