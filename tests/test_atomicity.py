"""A writer killed at any moment leaves the old state or the complete new one, never a torn file.

Each test forks a child that performs one real write (``store.write_json_atomic`` of a large
``summary.json``, ``store.append_index`` of a large line, ``Baseline.save``), SIGKILLs it after
a random delay spread over the write's measured duration, and reads the file back the way
monitorkit does. Repeated a bounded number of times per writer; the delays are seeded.

The guarded bugs: writing the final path directly (instead of a temporary file renamed into
place) leaves truncated JSON; appending to ``index.jsonl`` without cutting the unfinished line
of a killed writer leaves a half line that breaks ``read_index`` and swallows the next run's
line.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import monitorkit as mk
from monitorkit import store

pytestmark = [
    pytest.mark.big,
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork"),
]

KILLS = 30


def _delays(duration: float, seed: int) -> list[float | None]:
    """Kill delays spread over one write's duration, denser near its start (a busy machine
    can make the measured duration much longer than a later write); every fifth write is let
    finish (None), so that the complete new state is always seen too."""
    draw = random.Random(seed)
    return [None if i % 5 == 4 else duration * draw.random() ** 3 for i in range(KILLS)]


def _calibrate(write: Callable[[], object], reset: Callable[[], None], **when) -> float:
    """The median of three measured durations of the write's interesting part."""
    durations = []
    for _ in range(3):
        reset()
        durations.append(_kill_midway(write, None, **when)[1])
    reset()
    return sorted(durations)[1]


def _kill_midway(
    write: Callable[[], object],
    delay: float | None,
    began: Callable[[], bool] = lambda: True,
    ended: Callable[[], bool] = lambda: False,
) -> tuple[bool, float]:
    """Run ``write`` in a forked child and SIGKILL it ``delay`` seconds after ``began()`` is
    first true (e.g. its temporary file appeared). Returns whether the write had finished
    before the kill, and (with ``delay=None``: let it finish) the seconds from then until
    ``ended()`` or the write is done.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: write, report, wait to be killed; never return into pytest
        try:
            os.close(read_end)
            os.write(write_end, b"s")
            write()
            os.write(write_end, b"d")
            time.sleep(60)
        finally:
            os._exit(0)
    os.close(write_end)

    def done(timeout: float = 0.0) -> bool:
        return bool(select.select([read_end], [], [], timeout)[0])

    try:
        assert os.read(read_end, 1) == b"s"
        deadline = time.monotonic() + 30
        while not began() and not done() and time.monotonic() < deadline:
            time.sleep(0.0002)  # until the write's interesting part starts
        start = time.perf_counter()
        if delay is None:
            while not ended() and not done() and time.monotonic() < deadline:
                time.sleep(0.0002)
            elapsed = time.perf_counter() - start
            done(60)
        else:
            time.sleep(delay)
            elapsed = delay
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return done(5) and os.read(read_end, 1) == b"d", elapsed
    finally:
        os.close(read_end)


def _require_coverage(covered: bool, *what: object) -> None:
    """Skip (saying so) when no kill landed mid-write: the timing of a busy machine decides
    where kills land, and a run where none did has checked nothing about torn writes. Every
    state that was seen has been checked by then, so a torn file still fails the test."""
    if not covered:
        pytest.skip(f"no kill landed mid-write on this run's timing: {what}")


def _temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def _large_summary(marker: str) -> dict:
    figures = {f"column.c{i}.p_value": i / 1000 for i in range(1000)}
    return {"run_id": marker, "figures": figures, "log": marker * 2_000_000, "last": marker}


@pytest.mark.parametrize("replace", [False, True], ids=["new-file", "replacing"])
def test_a_killed_summary_write_leaves_the_old_or_the_complete_new_file(tmp_path, replace):
    path = tmp_path / store.SUMMARY_NAME
    old, new = _large_summary("old"), _large_summary("new")

    def reset() -> None:
        for leftover in _temporaries(tmp_path):
            leftover.unlink()
        path.unlink(missing_ok=True)
        if replace:
            store.write_json_atomic(path, old)

    def write() -> None:
        store.write_json_atomic(path, new, replace=replace)

    def began() -> bool:
        return bool(_temporaries(tmp_path))

    duration = _calibrate(write, reset, began=began)
    seen, interrupted = set(), 0
    for delay in _delays(duration, seed=0):
        finished, _ = _kill_midway(write, delay, began)
        interrupted += bool(_temporaries(tmp_path)) and not finished
        if path.exists():
            content = json.loads(path.read_text(encoding="utf-8"))  # never truncated
            assert content in (old, new)
            seen.add(content["last"])
        else:
            assert not replace, "the old summary disappeared"
            seen.add(None)
        if finished:
            assert json.loads(path.read_text())["last"] == "new"
        reset()
    # The kills did land before the new file was in place, and after: else the machine's
    # timing never let a kill land mid-write, and the guarantee was not exercised.
    _require_coverage(len(seen) == 2 and interrupted > 0, seen, interrupted)


def test_a_killed_index_append_leaves_the_old_lines_or_the_complete_new_one(tmp_path):
    old = {"run_id": "old", "status": "succeeded"}
    new = {"run_id": "new", "pad": "x" * 20_000_000}
    path = tmp_path / store.INDEX_NAME

    def reset() -> None:
        path.unlink(missing_ok=True)
        store.append_index(tmp_path, old)

    def write() -> None:
        store.append_index(tmp_path, new)

    reset()
    old_size = path.stat().st_size
    complete_size = old_size + len(json.dumps(new, separators=(",", ":"))) + 1

    def began() -> bool:  # the line has started to reach the file
        return path.stat().st_size > old_size

    def ended() -> bool:
        return path.stat().st_size >= complete_size

    duration = _calibrate(write, reset, began=began, ended=ended)
    outcomes, torn = set(), 0
    for delay in _delays(1.2 * duration, seed=1):
        finished, _ = _kill_midway(write, delay, began)
        torn += not path.read_bytes().endswith(b"\n")
        records = store.read_index(tmp_path)  # raises on a half line
        assert records in ([old], [old, new])
        outcomes.add(len(records))
        if finished:
            assert records == [old, new]
        # The next run's line is whole, whatever the killed writer left.
        store.append_index(tmp_path, {"run_id": "next"})
        assert store.read_index(tmp_path) == records + [{"run_id": "next"}]
        reset()
    _require_coverage(outcomes == {1, 2} and torn > 0, outcomes, torn, duration)


def test_a_killed_baseline_save_leaves_no_file_or_the_complete_baseline(tmp_path):
    rng = np.random.default_rng(2)
    n = 20_000
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "y": rng.exponential(size=n),
            "c": rng.choice(["a", "b", "c"], n),
        }
    )
    baseline = mk.Baseline.from_frame(frame, model="churn", sample_rows=n)
    path = tmp_path / "baseline.json"

    def reset() -> None:
        for leftover in _temporaries(tmp_path):
            leftover.unlink()
        path.unlink(missing_ok=True)

    def write() -> None:
        baseline.save(path)

    def began() -> bool:
        return bool(_temporaries(tmp_path))

    duration = _calibrate(write, reset, began=began)
    seen, interrupted = set(), 0
    for delay in _delays(duration, seed=2):
        finished, _ = _kill_midway(write, delay, began)
        interrupted += bool(_temporaries(tmp_path)) and not finished
        if path.exists():
            loaded = mk.Baseline.load(path)  # raises on truncated JSON
            assert loaded.fingerprint == baseline.fingerprint
            assert loaded.profile.rows == n and len(loaded.sample) == n
            seen.add("new")
        else:
            assert not finished
            seen.add("old")
        reset()
    _require_coverage(seen == {"old", "new"} and interrupted > 0, seen, interrupted)
