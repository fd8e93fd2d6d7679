"""Profiles at scale: a real Dask LocalCluster, and memory bounded by the batch size."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import monitorkit as mk


@pytest.mark.cluster
def test_dask_profile_on_a_local_cluster_equals_the_single_machine_one():
    distributed = pytest.importorskip("distributed")
    dd = pytest.importorskip("dask.dataframe")
    scenario = mk.datasets.load_scenario("credit_bias", n_rows=40_000)
    local = mk.profile(scenario.reference)
    with (
        distributed.LocalCluster(
            n_workers=3, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        ddf = dd.from_pandas(scenario.reference, npartitions=9)
        remote = mk.profile(ddf, spec=local.spec)
        inferred = mk.profile(ddf)  # kinds from the first partition
    assert remote.rows == local.rows
    assert [c.kind for c in inferred.spec.columns] == [c.kind for c in local.spec.columns]
    for name, column in local.columns.items():
        other = remote[name]
        assert (other.count, other.missing) == (column.count, column.missing)
        if column.kind == "numeric":
            assert (other.minimum, other.maximum) == (column.minimum, column.maximum)
            assert other.mean == pytest.approx(column.mean, rel=1e-12)
            assert other.variance == pytest.approx(column.variance, rel=1e-9)
            # the sketch's median lies within the rank error of the true median (ties: the
            # true rank of a repeated value is an interval)
            estimate = other.quantiles(np.array([0.5]))[0]
            values = scenario.reference[name].dropna()
            below, at_most = np.mean(values < estimate), np.mean(values <= estimate)
            error = mk.profiles.KLL_RANK_ERROR
            assert below - error <= 0.5 <= at_most + error, name
        else:
            assert other.counts == column.counts
    drift = mk.DriftReport(remote, scenario.current)
    assert set(drift.drifted_columns) == set(scenario.truth.drifted_columns)


_MEASURE = textwrap.dedent(
    """
    import json, sys

    def peak_mb():
        # This process's own peak RSS (VmHWM). Not ru_maxrss: Linux carries the forking
        # parent's peak into it, and pytest's process is large after a whole suite.
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024

    import monitorkit as mk
    profile = mk.profile(sys.argv[1], batch_rows=50_000, progress=False)
    print(json.dumps({"rows": profile.rows,
                      "peak_mb": peak_mb()}))
    """
)


def _write_parquet_dataset(folder, files: int, rows_per_file: int) -> None:
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(files):
        frame = pd.DataFrame(
            {f"x{j}": rng.normal(size=rows_per_file) for j in range(12)}
            | {"c": rng.choice(["a", "b", "c", "d"], rows_per_file)}
        )
        frame.to_parquet(folder / f"part-{i:03d}.parquet", row_group_size=50_000)


@pytest.mark.big
def test_peak_memory_follows_the_batch_not_the_input(tmp_path):
    small, large = tmp_path / "small", tmp_path / "large"
    _write_parquet_dataset(small, files=2, rows_per_file=200_000)  # 400k rows, ~40 MB in memory
    _write_parquet_dataset(large, files=12, rows_per_file=200_000)  # 2.4M rows, ~250 MB
    peaks = {}
    for folder in (small, large):
        result = subprocess.run(
            [sys.executable, "-c", _MEASURE, str(folder)],
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
        peaks[folder.name] = json.loads(result.stdout.strip().splitlines()[-1])
    assert peaks["large"]["rows"] == 6 * peaks["small"]["rows"]
    # Six times the data; the peak may grow by a little (allocator noise), never in proportion.
    assert peaks["large"]["peak_mb"] - peaks["small"]["peak_mb"] < 60, peaks
