"""Benchmark: ``mk.DriftReport(reference, current)`` against a plain-numpy floor.

Run from the repository root::

    .venv/bin/python benchmarks/bench_drift.py                  # N = 100,000 and 1,000,000
    .venv/bin/python benchmarks/bench_drift.py --sizes 100000   # one size
    .venv/bin/python benchmarks/bench_drift.py --json benchmarks/results/drift.json
    .venv/bin/python benchmarks/bench_drift.py --check --n 100000    # floor vs report, per column
    .venv/bin/python benchmarks/bench_drift.py --profile --n 1000000 # cProfile of one report
    .venv/bin/python benchmarks/bench_drift.py --memory --n 1000000  # where its memory peaks

Each measurement (floor, report, report with one thread, anchors) runs in its own subprocess
(``--one MODE --n N``), which generates the frames, times ``--repeat`` calls and prints one JSON
line with the wall times and ``ru_maxrss`` of that process (so peak RSS includes the two input
frames). Only the computation is timed: the frames are in memory before the clock starts.

What the floor is, what the workload is, and what each figure means: ``benchmarks/README.md``.
Nothing here asserts a time; the targets are compared in the printed table only.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd

SEED = 20261125
_PANDAS_MAJOR = int(pd.__version__.split(".")[0])
DEFAULT_SIZES = (100_000, 1_000_000)
WARMUP_N = 100_000  # one untimed warm-up call at this size only; larger sizes: best of --repeat
TARGET_RATIO = 1.5  # report time / floor time
TARGET_RSS_MB = 1536.0  # peak RSS of the report process at 1M rows, frames included
TARGET_RSS_N = 1_000_000

# ---------------------------------------------------------------------------------------------
# The workload: 20 numeric + 5 categorical columns
# ---------------------------------------------------------------------------------------------

# (name, family, parameters in reference, in current, missing share in reference, in current)
NUMERIC_COLUMNS: tuple[tuple[str, str, dict[str, float], dict[str, float], float, float], ...] = (
    ("num_00", "normal", {"mean": 0.0, "sd": 1.0}, {"mean": 0.25, "sd": 1.0}, 0.0, 0.0),
    ("num_01", "normal", {"mean": 50.0, "sd": 10.0}, {}, 0.02, 0.02),
    ("num_02", "normal", {"mean": -3.0, "sd": 2.0}, {"mean": -2.96, "sd": 2.0}, 0.0, 0.0),
    ("num_03", "normal", {"mean": 100.0, "sd": 15.0}, {}, 0.05, 0.09),
    ("num_04", "normal", {"mean": 0.0, "sd": 0.01}, {}, 0.0, 0.0),
    ("num_05", "normal", {"mean": 1e6, "sd": 2e5}, {}, 0.03, 0.03),
    ("num_06", "normal", {"mean": 7.0, "sd": 0.5}, {}, 0.0, 0.0),
    ("num_07", "normal", {"mean": 0.0, "sd": 3.0}, {}, 0.0, 0.0),
    ("num_08", "lognormal", {"mean": 0.0, "sigma": 1.0}, {"mean": 0.0, "sigma": 1.15}, 0.0, 0.0),
    ("num_09", "lognormal", {"mean": 3.0, "sigma": 0.5}, {}, 0.02, 0.02),
    ("num_10", "lognormal", {"mean": 1.0, "sigma": 1.5}, {}, 0.0, 0.0),
    ("num_11", "lognormal", {"mean": 5.0, "sigma": 0.8}, {}, 0.0, 0.0),
    ("num_12", "lognormal", {"mean": 2.0, "sigma": 1.2}, {}, 0.04, 0.04),
    ("num_13", "lognormal", {"mean": 0.5, "sigma": 0.3}, {}, 0.0, 0.0),
    ("num_14", "poisson", {"lam": 3.0}, {"lam": 3.3}, 0.0, 0.0),
    ("num_15", "poisson", {"lam": 10.0}, {}, 0.03, 0.03),
    ("num_16", "poisson", {"lam": 50.0}, {}, 0.0, 0.0),
    ("num_17", "negative_binomial", {"n": 2.0, "p": 0.3}, {}, 0.0, 0.0),
    ("num_18", "negative_binomial", {"n": 5.0, "p": 0.1}, {}, 0.05, 0.05),
    ("num_19", "poisson", {"lam": 1.5}, {}, 0.0, 0.0),
)

# (name, cardinality, missing share) — labels "k<cardinality>_<i>", Zipf-like shares.
CATEGORICAL_COLUMNS: tuple[tuple[str, int, float], ...] = (
    ("cat_3", 3, 0.0),
    ("cat_10", 10, 0.02),
    ("cat_50", 50, 0.0),
    ("cat_200", 200, 0.03),
    ("cat_1000", 1000, 0.01),
)
_UNSEEN_LABELS = 5  # cat_1000 in current: labels never seen in reference
_UNSEEN_SHARE = 0.005
_CAT_10_MOVE = 0.08  # cat_10 in current: share moved to the most frequent category

# What current changes, on purpose. Everything else is a fresh draw of the same distribution.
SHIFTS: dict[str, str] = {
    "num_00": "mean +0.25 sd (KS distance about 0.10: drifted, warning)",
    "num_02": "mean +0.02 sd (KS distance about 0.008: p about 1e-26 at 1M rows, but "
    "below min_effect 0.03, so not drifted)",
    "num_03": "missing rate 5% -> 9% (missing-rate drift; values unchanged)",
    "num_08": "sigma x1.15 (KS distance about 0.035: drifted, warning)",
    "num_14": "Poisson mean 3.0 -> 3.3 (KS distance about 0.065: drifted, warning)",
    "cat_10": "share of the most frequent category +0.08, taken evenly from the others "
    "(total variation about 0.08: drifted, warning)",
    "cat_1000": "0.5% of rows get one of 5 labels never seen in reference (unseen "
    "categories, total variation 0.005 from them): chi-square significant (p about 1e-19 at "
    "100k rows) but not drifted at 100k or 1M: the effect size, total variation less its "
    "expectation under no change, is 0.002 at 100k and 0.003 at 1M, below min_effect 0.03 "
    "(the raw total variation, 0.039 and 0.015, is mostly sampling noise over 1,000 sparse "
    "categories; it flagged this column at 100k before the effect was debiased)",
}


def _numeric_column(
    family: str, params: dict[str, float], n: int, rng: np.random.Generator
) -> np.ndarray:
    if family == "normal":
        return rng.normal(params["mean"], params["sd"], n)
    if family == "lognormal":
        return rng.lognormal(params["mean"], params["sigma"], n)
    if family == "poisson":
        return rng.poisson(params["lam"], n)
    if family == "negative_binomial":
        return rng.negative_binomial(params["n"], params["p"], n)
    raise ValueError(f"unknown family {family!r}")


def _is_float(family: str, reference_missing: float, current_missing: float) -> bool:
    """Counts stay int64 unless they have missing values (then float64, as pandas has them)."""
    return family in ("normal", "lognormal") or reference_missing > 0 or current_missing > 0


def _category_shares(cardinality: int, name: str, side: str) -> np.ndarray:
    weights = 1.0 / np.arange(1, cardinality + 1) ** 1.1  # Zipf-like
    shares = weights / weights.sum()
    if side == "current" and name == "cat_10":
        shares = shares - _CAT_10_MOVE / (cardinality - 1)
        shares[0] += _CAT_10_MOVE + _CAT_10_MOVE / (cardinality - 1)
    elif side == "current" and name == "cat_1000":
        unseen = np.full(_UNSEEN_LABELS, _UNSEEN_SHARE / _UNSEEN_LABELS)
        shares = np.concatenate([shares * (1 - _UNSEEN_SHARE), unseen])
    return shares / shares.sum()


def _strings(codes: np.ndarray, labels: list[str]) -> pd.Series:
    """Labels by code (-1: missing) in pandas' default string dtype, missing as NaN."""
    if _PANDAS_MAJOR >= 3:
        import pyarrow as pa

        # Arrow's take builds the pyarrow-backed ``str`` column with no Python strings per row.
        taken = pa.array(labels).take(pa.array(codes, mask=codes < 0))
        return pd.Series(taken.to_pandas(), copy=False).astype("str")
    # pandas 2 (the anchors' environments): object strings, pandas 2's default.
    return pd.Series(pd.Categorical.from_codes(codes, categories=labels)).astype(object)


def _make_side(n: int, rng: np.random.Generator, side: str) -> pd.DataFrame:
    """One frame. Float columns share one 2-D block, as ``read_parquet`` gives them."""
    float_names = [
        name
        for name, family, _, _, reference_missing, current_missing in NUMERIC_COLUMNS
        if _is_float(family, reference_missing, current_missing)
    ]
    floats = np.empty((len(float_names), n))  # filled row by row: no second copy of the block
    integers: dict[str, np.ndarray] = {}
    for name, family, reference_params, current_params, *missing_shares in NUMERIC_COLUMNS:
        params = (current_params or reference_params) if side == "current" else reference_params
        missing = missing_shares[side == "current"]
        values = _numeric_column(family, params, n, rng)
        if name in float_names:
            row = floats[float_names.index(name)]
            row[:] = values
            if missing > 0:
                row[rng.random(n) < missing] = np.nan
        else:
            integers[name] = values
    frame = pd.DataFrame(floats.T, columns=float_names, copy=False)
    for position, (name, *_) in enumerate(NUMERIC_COLUMNS):
        if name in integers:
            frame.insert(position, name, integers[name])
    for name, cardinality, missing in CATEGORICAL_COLUMNS:
        labels = [f"k{cardinality}_{i}" for i in range(cardinality)]
        if side == "current" and name == "cat_1000":
            labels += [f"k{cardinality}_new_{i}" for i in range(_UNSEEN_LABELS)]
        codes = rng.choice(len(labels), size=n, p=_category_shares(cardinality, name, side))
        if missing > 0:
            codes[rng.random(n) < missing] = -1
        frame[name] = _strings(codes, labels)
    return frame


def make_frames(n: int, seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference and current, ``n`` rows each, deterministic in ``seed`` (see ``SHIFTS``)."""
    reference_rng, current_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2)
    )
    return _make_side(n, reference_rng, "reference"), _make_side(n, current_rng, "current")


# ---------------------------------------------------------------------------------------------
# The floor: plain numpy/scipy, single-threaded, the same tests as the default rule
# ---------------------------------------------------------------------------------------------


def floor_ks(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Two-sample KS statistic and asymptotic p-value, NaN dropped, one sort per side."""
    from scipy.stats import kstwobign

    reference = np.sort(reference[~np.isnan(reference)])
    current = np.sort(current[~np.isnan(current)])
    n, m = reference.size, current.size
    pooled = np.concatenate([reference, current])
    cdf_reference = np.searchsorted(reference, pooled, side="right") / n
    cdf_current = np.searchsorted(current, pooled, side="right") / m
    statistic = float(np.max(np.abs(cdf_reference - cdf_current)))
    p_value = float(kstwobign.sf(statistic * np.sqrt(n * m / (n + m))))
    return statistic, p_value


def floor_chi2(reference: pd.Series, current: pd.Series) -> tuple[float, float]:
    """Chi-square test of homogeneity on the 2xK table; unseen current labels share one code."""
    from scipy.stats import chi2

    reference_codes, uniques = pd.factorize(reference)  # -1 for missing
    current_codes = pd.Index(uniques).get_indexer(current)  # -1 for missing and unseen
    unseen = (current_codes == -1) & current.notna().to_numpy()
    current_codes[unseen] = len(uniques)
    size = len(uniques) + 1
    table = np.vstack(
        [
            np.bincount(reference_codes[reference_codes >= 0], minlength=size),
            np.bincount(current_codes[current_codes >= 0], minlength=size),
        ]
    ).astype(np.float64)
    table = table[:, table.sum(axis=0) > 0]
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0) / table.sum()
    statistic = float(((table - expected) ** 2 / expected).sum())
    p_value = float(chi2.sf(statistic, table.shape[1] - 1))
    return statistic, p_value


def run_floor(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, tuple[float, float]]:
    results = {}
    for name, *_ in NUMERIC_COLUMNS:
        results[name] = floor_ks(
            reference[name].to_numpy(dtype=np.float64, na_value=np.nan),
            current[name].to_numpy(dtype=np.float64, na_value=np.nan),
        )
    for name, *_ in CATEGORICAL_COLUMNS:
        results[name] = floor_chi2(reference[name], current[name])
    return results


def run_report(reference: pd.DataFrame, current: pd.DataFrame, **options: Any) -> Any:
    import monitorkit as mk

    return mk.DriftReport(reference, current, **options)


# ---------------------------------------------------------------------------------------------
# Optional anchors: other libraries on the same frames (their own defaults)
# ---------------------------------------------------------------------------------------------


def run_evidently(reference: pd.DataFrame, current: pd.DataFrame) -> Any:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    return Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)


def run_nannyml(reference: pd.DataFrame, current: pd.DataFrame) -> Any:
    import nannyml

    calculator = nannyml.UnivariateDriftCalculator(
        column_names=list(reference.columns),
        continuous_methods=["kolmogorov_smirnov"],
        categorical_methods=["chi2"],
        chunk_number=1,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "the resulting number of chunks is too low": on purpose
        calculator.fit(reference)
        return calculator.calculate(current)


ANCHOR_MODULES = {"evidently": "evidently", "nannyml": "nannyml"}
# Both anchors send usage telemetry by default; a benchmark sends nothing anywhere.
NO_TELEMETRY = {"DO_NOT_TRACK": "1", "NML_DISABLE_USAGE_LOGGING": "1"}


def _anchor_available(mode: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(ANCHOR_MODULES[mode]) is not None


# ---------------------------------------------------------------------------------------------
# One measurement (subprocess mode)
# ---------------------------------------------------------------------------------------------


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _cpu_seconds() -> tuple[float, float]:
    """(CPU seconds the whole machine was busy, CPU seconds this process used) so far."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal: all but idle and iowait are busy.
    busy = (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return busy, usage.ru_utime + usage.ru_stime


def _wait_for_quiet(limit: float) -> float:
    """Wait (up to ``limit`` s) until other processes use < 10% of the CPUs; return the share."""
    cpus = os.cpu_count() or 1
    deadline = time.monotonic() + limit
    while True:
        busy_before, _ = _cpu_seconds()
        time.sleep(2.0)
        busy_after, _ = _cpu_seconds()
        share = (busy_after - busy_before) / (2.0 * cpus)
        if share < 0.10 or time.monotonic() > deadline:
            return share


def _summarise(mode: str, output: Any) -> dict[str, Any]:
    if mode == "floor":
        drifted = [name for name, (_, p_value) in output.items() if p_value < 0.05 / 50]
        return {"significant_columns": drifted}
    if mode.startswith("report"):
        multivariate = output.result.multivariate
        return {
            "drifted_columns": sorted(output.drifted_columns),
            "skipped_columns": output.skipped_columns,
            "severity": output.severity,
            "multivariate_drifted": None if multivariate is None else multivariate.drifted,
        }
    return {}


def measure_one(mode: str, n: int, repeat: int, seed: int) -> dict[str, Any]:
    """Generate the frames, time ``repeat`` calls of ``mode``; RSS of this process."""
    if mode in ANCHOR_MODULES and not _anchor_available(mode):
        return {"mode": mode, "n": n, "installed": False}
    functions = {
        "floor": run_floor,
        "report": run_report,
        "report-serial": lambda r, c: run_report(r, c, n_jobs=1),
        "evidently": run_evidently,
        "nannyml": run_nannyml,
    }
    function = functions[mode]
    source: dict[str, str] = {}
    if mode.startswith("report"):
        import monitorkit  # noqa: F401  (import time is not compute time)

        source["drift_sha256"] = _drift_sha256()
    elif mode in ANCHOR_MODULES:
        os.environ.update(NO_TELEMETRY)
        try:
            __import__(ANCHOR_MODULES[mode])
        except ImportError as exc:  # installed but broken, e.g. by a pandas it does not support
            return {"mode": mode, "n": n, "installed": True, "error": f"import failed: {exc}"}
    reference, current = make_frames(n, seed)
    gc.collect()
    frames_mb = (
        reference.memory_usage(deep=True).sum() + current.memory_usage(deep=True).sum()
    ) / 2**20
    rss_before_mb = _current_rss_mb()
    maxrss_before_mb = _maxrss_mb()
    if n == WARMUP_N:
        function(reference, current)
        gc.collect()
    times, others, output = [], [], None
    cpus = os.cpu_count() or 1
    for _ in range(repeat):
        output = None
        gc.collect()
        machine_before, own_before = _cpu_seconds()
        start = time.perf_counter()
        output = function(reference, current)
        elapsed = time.perf_counter() - start
        machine_after, own_after = _cpu_seconds()
        times.append(elapsed)
        # Share of the CPUs that other processes used while this call ran (noise indicator).
        other = (machine_after - machine_before) - (own_after - own_before)
        others.append(max(other, 0.0) / (elapsed * cpus))
    return {
        "mode": mode,
        "n": n,
        "installed": True,
        "seconds": times,
        "best_seconds": min(times),
        "others_cpu_share": others,
        "others_cpu_share_at_best": others[times.index(min(times))],
        "warmup": n == WARMUP_N,
        "frames_mb": float(frames_mb),
        "rss_with_frames_mb": rss_before_mb,
        "peak_rss_before_compute_mb": maxrss_before_mb,
        "peak_rss_mb": _maxrss_mb(),
        **_summarise(mode, output),
        **source,
    }


# ---------------------------------------------------------------------------------------------
# The runner
# ---------------------------------------------------------------------------------------------


def machine_facts() -> dict[str, Any]:
    import scipy

    cpu_model = "unknown"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    ram_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    facts: dict[str, Any] = {
        "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "ram_gb": round(ram_gb, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scipy": scipy.__version__,
        "pyarrow": _version_of("pyarrow"),
        "monitorkit": _version_of("monitorkit"),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(not set)"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE", "(not set)"),
    }
    facts["drift_sha256"] = _drift_sha256()
    try:
        import threadpoolctl

        facts["blas"] = [
            f"{info.get('internal_api')} {info.get('version')} {info.get('architecture')} "
            f"threads={info.get('num_threads')}"
            for info in threadpoolctl.threadpool_info()
        ]
    except ImportError:
        facts["blas"] = ["(threadpoolctl not installed)"]
    return facts


def _drift_sha256() -> str:
    """Which ``monitorkit/drift/`` package is measured (it changes faster than the version).

    One sha256 over every ``.py`` file of the package in sorted order (each file's path
    relative to the package, then the sha256 of its contents), so that a change to any module,
    an added one or a renamed one changes it. Found without importing monitorkit (the runner calls
    this before and after the subprocesses).
    """
    import hashlib
    import importlib.util

    spec = importlib.util.find_spec("monitorkit")
    if spec is None or not spec.submodule_search_locations:
        return "(monitorkit not importable)"
    package = os.path.join(list(spec.submodule_search_locations)[0], "drift")
    paths = sorted(
        os.path.relpath(os.path.join(folder, name), package)
        for folder, _, names in os.walk(package)
        for name in names
        if name.endswith(".py")
    )
    if not paths:
        return "(monitorkit/drift/ has no .py files)"
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.replace(os.sep, "/").encode() + b"\0")
        with open(os.path.join(package, path), "rb") as source:
            digest.update(hashlib.sha256(source.read()).digest())
    return digest.hexdigest()[:12]


def _version_of(package: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _anchor_installed(python: str, mode: str) -> bool:
    """Whether ``python`` can find the anchor's package (without importing it)."""
    module = ANCHOR_MODULES[mode]
    probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    try:
        return subprocess.run([python, "-c", probe], capture_output=True).returncode == 0
    except OSError:  # no such interpreter
        return False


def spawn(
    mode: str, n: int, repeat: int, seed: int, python: str, wait_quiet: float
) -> dict[str, Any]:
    command = [python, os.path.abspath(__file__), "--one", mode, "--n", str(n)]
    command += ["--repeat", str(repeat), "--seed", str(seed)]
    print(f"  {mode:<14} N={n:>9,} ...", end=" ", file=sys.stderr, flush=True)
    if mode in ANCHOR_MODULES and not _anchor_installed(python, mode):
        print("not installed", file=sys.stderr)  # no need to wait for a quiet machine
        return {"mode": mode, "n": n, "installed": False}
    if wait_quiet > 0:
        busy = _wait_for_quiet(wait_quiet)
        if busy >= 0.10:
            print(f"(machine still {busy:.0%} busy) ...", end=" ", file=sys.stderr, flush=True)
    completed = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, **NO_TELEMETRY}
    )
    if completed.returncode != 0:
        print("FAILED", file=sys.stderr)
        return {
            "mode": mode,
            "n": n,
            "error": (completed.stderr or completed.stdout).strip()[-4000:],
        }
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    if result.get("installed", True):
        print(
            f"best {result['best_seconds']:.3f} s of "
            f"{', '.join(f'{t:.3f}' for t in result['seconds'])} (others used "
            f"{result['others_cpu_share_at_best']:.0%} of the CPUs during the best)",
            file=sys.stderr,
        )
    else:
        print("not installed", file=sys.stderr)
    return result


def _cell_seconds(result: dict[str, Any] | None) -> str:
    if result is None:
        return "-"
    if "error" in result:
        return "error"
    if not result.get("installed", True):
        return "not installed"
    return f"{result['best_seconds']:.3f}"


def _cell_rss(result: dict[str, Any] | None) -> str:
    if result is None or "error" in result or not result.get("installed", True):
        return "-"
    return f"{result['peak_rss_mb']:.0f}"


def format_table(results: list[dict[str, Any]], sizes: list[int]) -> str:
    def find(mode: str, n: int) -> dict[str, Any] | None:
        return next((r for r in results if r["mode"] == mode and r["n"] == n), None)

    header = (
        "| N | floor s | report s | report/floor | report n_jobs=1 s | peak RSS floor MB "
        "| peak RSS report MB | evidently s | nannyml s |"
    )
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for n in sizes:
        floor, report = find("floor", n), find("report", n)
        ratio = "-"
        if floor and report and "best_seconds" in floor and "best_seconds" in report:
            ratio = f"{report['best_seconds'] / floor['best_seconds']:.2f}x"
        lines.append(
            f"| {n:,} | {_cell_seconds(floor)} | {_cell_seconds(report)} | {ratio} "
            f"| {_cell_seconds(find('report-serial', n))} | {_cell_rss(floor)} "
            f"| {_cell_rss(report)} | {_cell_seconds(find('evidently', n))} "
            f"| {_cell_seconds(find('nannyml', n))} |"
        )
    return "\n".join(lines)


def verdicts(results: list[dict[str, Any]]) -> list[str]:
    lines = []
    for report in (r for r in results if r["mode"] == "report" and "best_seconds" in r):
        n = report["n"]
        floor = next(
            (r for r in results if r["mode"] == "floor" and r["n"] == n and "best_seconds" in r),
            None,
        )
        if floor is not None:
            ratio = report["best_seconds"] / floor["best_seconds"]
            met = "met" if ratio <= TARGET_RATIO else f"MISSED by {ratio / TARGET_RATIO:.2f}x"
            lines.append(f"N={n:,}: report/floor {ratio:.2f}x (target <= {TARGET_RATIO}x): {met}")
        if n == TARGET_RSS_N:
            rss = report["peak_rss_mb"]
            met = "met" if rss < TARGET_RSS_MB else f"MISSED by {rss - TARGET_RSS_MB:.0f} MB"
            lines.append(
                f"N={n:,}: report peak RSS {rss:.0f} MB (target < {TARGET_RSS_MB:.0f} MB): {met}"
            )
    return lines


def run_all(args: argparse.Namespace) -> int:
    sizes = sorted(args.sizes)
    facts = machine_facts()
    import inspect

    import monitorkit as mk

    modes = ["floor", "report"]
    if "n_jobs" in inspect.signature(mk.DriftReport).parameters and not args.no_serial:
        modes.append("report-serial")
    anchor_pythons = {
        "evidently": args.evidently_python or sys.executable,
        "nannyml": args.nannyml_python or sys.executable,
    }
    results = []
    for n in sizes:
        for mode in modes:
            results.append(spawn(mode, n, args.repeat, args.seed, sys.executable, args.wait_quiet))
        for anchor in ("evidently", "nannyml"):
            results.append(
                spawn(anchor, n, args.repeat, args.seed, anchor_pythons[anchor], args.wait_quiet)
            )
    print()
    print("machine: " + ", ".join(f"{k}={v}" for k, v in facts.items()))
    print()
    print(format_table(results, sizes))
    print()
    for line in verdicts(results):
        print(line)
    measured = {r["drift_sha256"] for r in results if "drift_sha256" in r}
    at_end = _drift_sha256()
    if measured - {facts["drift_sha256"]} or at_end != facts["drift_sha256"]:
        print(
            "\nthe drift package (monitorkit/drift/) changed during the run (sha256 "
            f"{facts['drift_sha256']} at the start, {at_end} at the end, "
            f"{', '.join(sorted(measured)) or 'none'} in the report measurements): rerun for "
            "figures of one version"
        )
    else:
        print(f"\nthe drift package (monitorkit/drift/): sha256 {facts['drift_sha256']}")
    noisy = [
        f"{r['mode']} N={r['n']:,} ({r['others_cpu_share_at_best']:.0%})"
        for r in results
        if r.get("others_cpu_share_at_best", 0.0) >= 0.10
    ]
    if noisy:
        print(
            "\nother processes used >= 10% of the CPUs during the best call of: "
            + ", ".join(noisy)
            + "; rerun on a quiet machine before trusting those figures"
        )
    for result in results:
        if "error" in result:
            print(f"\n{result['mode']} N={result['n']:,} failed:\n{result['error']}")
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as handle:
            json.dump(
                {"machine": facts, "seed": args.seed, "repeat": args.repeat, "results": results},
                handle,
                indent=2,
            )
        print(f"\nwrote {args.json}")
    return 1 if any("error" in r for r in results) else 0


# ---------------------------------------------------------------------------------------------
# Diagnostics: floor vs report per column, and a profile of one report
# ---------------------------------------------------------------------------------------------


def check(n: int, seed: int) -> None:
    """Print the floor's and the report's statistic per column (the same KS statistic)."""
    reference, current = make_frames(n, seed)
    floor = run_floor(reference, current)
    report = run_report(reference, current)
    print(f"N={n:,}: column, floor statistic, floor p, report statistic, report p, drifted")
    for name in list(floor):
        column = report[name]
        print(
            f"{name:<9} {floor[name][0]:>12.6g} {floor[name][1]:>10.3g} "
            f"{column.statistic if column.statistic is not None else float('nan'):>12.6g} "
            f"{column.p_value if column.p_value is not None else float('nan'):>10.3g} "
            f"{column.drifted!s:>6} {column.severity}"
            f"{' (missing rate)' if column.missing_drifted else ''}"
            f"{'  <- shifted: ' + SHIFTS[name] if name in SHIFTS else ''}"
        )
    print(f"report: {report!r}")
    multivariate = report.result.multivariate
    if multivariate is not None:
        print(f"multivariate: drifted={multivariate.drifted} skipped={multivariate.skipped}")


class _SynchronousExecutor:
    """Stands in for ThreadPoolExecutor so cProfile (main thread only) sees every column."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __enter__(self) -> _SynchronousExecutor:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def map(self, function: Any, *iterables: Any) -> Any:
        return list(map(function, *iterables))


@contextlib.contextmanager
def _synchronous_pool() -> Iterator[None]:
    """Run the report's column work on the calling thread (for cProfile and the sampler).

    The pool is created in ``monitorkit.drift.report`` (the drift package's runner) and handed
    to the modules that need it; a flat ``monitorkit/drift.py`` of older versions had it itself.
    """
    import importlib

    try:
        drift_module = importlib.import_module("monitorkit.drift.report")
    except ImportError:  # older versions: one module, monitorkit/drift.py
        drift_module = importlib.import_module("monitorkit.drift")
    original = getattr(drift_module, "ThreadPoolExecutor", None)
    if original is None:
        raise RuntimeError(
            f"{drift_module.__name__} has no ThreadPoolExecutor to make synchronous: update "
            "_synchronous_pool in bench_drift.py to where the drift package creates its pool"
        )
    drift_module.ThreadPoolExecutor = _SynchronousExecutor
    try:
        yield
    finally:
        drift_module.ThreadPoolExecutor = original


def profile(n: int, seed: int, top: int) -> None:
    """cProfile of one default report, its thread pool replaced by a synchronous one."""
    import cProfile
    import pstats

    reference, current = make_frames(n, seed)
    run_report(reference, current)  # warm-up (imports, first calls)
    start = time.perf_counter()
    run_report(reference, current)
    threaded = time.perf_counter() - start
    profiler = cProfile.Profile()
    with _synchronous_pool():
        start = time.perf_counter()
        profiler.enable()
        run_report(reference, current)
        profiler.disable()
        serial = time.perf_counter() - start
    print(
        f"N={n:,}: one default report {threaded:.3f} s (threaded); profiled run with the thread "
        f"pool made synchronous {serial:.3f} s (includes profiler overhead)"
    )
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)


def memory(n: int, seed: int, top: int) -> None:
    """Where the report's memory peaks: sampled every 2 ms while one report runs.

    Memory is what ``tracemalloc`` traces (numpy's arrays and Python objects, not pyarrow's
    buffers) above what was allocated before the call, i.e. the report's own working memory
    on top of the frames. The thread pool is made synchronous so that the main thread's stack
    says what is running.
    """
    import threading
    import tracemalloc

    import monitorkit

    package_dir = os.path.dirname(monitorkit.__file__)
    reference, current = make_frames(n, seed)
    run_report(reference.head(1000), current.head(1000))  # imports, first calls
    gc.collect()
    rss_with_frames = _current_rss_mb()
    main_thread = threading.get_ident()
    by_function: dict[str, float] = {}
    at_peak: dict[str, Any] = {"traced_mb": 0.0, "stack": []}
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.002):
            traced = tracemalloc.get_traced_memory()[0] / 2**20
            frame = sys._current_frames().get(main_thread)
            stack = []
            while frame is not None:
                if frame.f_code.co_filename.startswith(package_dir):
                    where = os.path.relpath(frame.f_code.co_filename, os.path.dirname(package_dir))
                    stack.append(f"{where}:{frame.f_lineno} {frame.f_code.co_name}")
                frame = frame.f_back
            innermost = stack[0].split(" ", 1)[1] if stack else "(outside monitorkit)"
            by_function[innermost] = max(by_function.get(innermost, 0.0), traced)
            if traced > at_peak["traced_mb"]:
                at_peak.update(traced_mb=traced, stack=stack[::-1])

    tracemalloc.start()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with _synchronous_pool():
        run_report(reference, current)
    stop.set()
    sampler.join()
    traced_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(
        f"N={n:,}: RSS with the frames {rss_with_frames:.0f} MB; the report's traced working "
        f"memory peaked at {traced_peak:.0f} MB (sampled peak {at_peak['traced_mb']:.0f} MB); "
        f"ru_maxrss {_maxrss_mb():.0f} MB"
    )
    print("stack at the sampled peak (outermost first):")
    for line in at_peak["stack"]:
        print(f"  {line}")
    print(f"largest traced memory seen while each function was innermost (top {top}):")
    for name, traced in sorted(by_function.items(), key=lambda item: -item[1])[:top]:
        print(f"  {traced:8.0f} MB  {name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=list(DEFAULT_SIZES),
        help="row counts of reference and current (default: 100000 1000000)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed calls; best is reported")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--one",
        choices=["floor", "report", "report-serial", "evidently", "nannyml"],
        help="subprocess mode: measure this one thing at --n rows, print one JSON line",
    )
    parser.add_argument("--n", type=int, default=DEFAULT_SIZES[-1], help="rows for --one etc.")
    parser.add_argument("--json", metavar="PATH", help="write all results and the machine here")
    for anchor in ANCHOR_MODULES:
        parser.add_argument(
            f"--{anchor}-python",
            metavar="PYTHON",
            help=f"interpreter of a venv that has {anchor} (default: this one)",
        )
    parser.add_argument("--no-serial", action="store_true", help="skip the report with n_jobs=1")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="before each measurement, wait up to this long for other processes to use < 10%% "
        "of the CPUs (0: do not wait)",
    )
    parser.add_argument("--check", action="store_true", help="floor vs report per column at --n")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile one default report at --n rows"
    )
    parser.add_argument(
        "--memory", action="store_true", help="where one report's memory peaks, at --n rows"
    )
    parser.add_argument("--top", type=int, default=15, help="rows of the profile to print")
    args = parser.parse_args(argv)

    if args.one:
        print(json.dumps(measure_one(args.one, args.n, args.repeat, args.seed)))
        return 0
    if args.check:
        check(args.n, args.seed)
        return 0
    if args.profile:
        profile(args.n, args.seed, args.top)
        return 0
    if args.memory:
        memory(args.n, args.seed, args.top)
        return 0
    return run_all(args)


if __name__ == "__main__":
    sys.exit(main())
