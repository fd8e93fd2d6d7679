"""Consecutive scheduled runs on a weekly-cycle history, without a kernel: each run goes
through what ``monitorkit run --alerts`` does after the notebook (``after_run``), then adds its
line to ``index.jsonl`` as the store does. The seasonal rule with its defaults stays quiet on
the cycle, fires on a real regression, and resolves when it is over."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from monitorkit import store
from monitorkit.alerts.run import exit_code

from .conftest import Runs, add_history, write_toml

START = dt.datetime(2026, 1, 5, 6, 0, tzinfo=dt.timezone.utc)  # a Monday, 06:00 UTC
NOISE = 0.005
HISTORY_WEEKS = 7

RULES = """
[[channel]]
name = "hook"
type = "webhook"
url = "{url}"
retries = 0

[[rule]]
name = "recall off its weekday"
figure = "performance.recall"
seasonal = {{ match = "weekday" }}   # the defaults: 8 weeks, k 3 / 4, from 4 earlier runs
cooldown = "7d"
channels = ["hook"]
"""


def cycle_value(day: int, rng: np.random.Generator) -> float:
    """Recall on day ``day`` after START: 0.85, Mondays 0.70 (weekend traffic), noise σ 0.005."""
    return (0.70 if day % 7 == 0 else 0.85) + float(rng.normal(0, NOISE))


def run_time(day: int, rng: np.random.Generator) -> dt.datetime:
    return START + dt.timedelta(days=day, minutes=int(rng.integers(0, 20)))  # a little late


class Scheduled:
    """A model folder with a history, and its next scheduled runs."""

    def __init__(self, tmp_path: Path, url: str, seed: int = 5) -> None:
        self.rng = np.random.default_rng(seed)
        self.model_dir = tmp_path / "reports" / "churn"
        history = []
        for day in range(HISTORY_WEEKS * 7):
            history.append(
                (run_time(day, self.rng), {"performance.recall": cycle_value(day, self.rng)})
            )
        add_history(self.model_dir, history)
        self.runs = Runs(tmp_path, write_toml(tmp_path / "alerts.toml", RULES.format(url=url)), {})
        self.day = HISTORY_WEEKS * 7

    def run(self, drop: float = 0.0) -> dict:
        """The next day's run: after_run on its figures, then its line in index.jsonl."""
        when = run_time(self.day, self.rng)
        entry = self.runs.run({"performance.recall": cycle_value(self.day, self.rng) - drop}, when)
        self.day += 1
        return entry


def test_scheduled_runs_are_quiet_on_the_cycle_and_fire_on_a_regression(tmp_path, receiver):
    runs = Scheduled(tmp_path, f"{receiver.url}/hook")

    # A week of the cycle: the Monday dip (−0.15, 30 σ) is judged against earlier Mondays.
    quiet = [runs.run() for _ in range(7)]
    for entry in quiet:
        assert entry["error"] is None and entry["firing"] == [] and entry["pending"] == []
        assert entry["severity"] == "ok" and exit_code(0, False, entry) == 0
    assert receiver.requests == []

    # A regression of 10 σ from Monday on: caught on the first run, one trigger sent.
    monday = runs.run(drop=10 * NOISE)
    assert runs.day % 7 == 1  # that run was a Monday
    (alert,) = monday["firing"]
    assert alert["rule"] == "recall off its weekday"
    assert alert["severity"] in ("warning", "critical")
    assert "earlier Mondays over the last 8 weeks" in alert["reason"]
    assert "the prediction interval from 8 earlier runs" in alert["reason"]
    assert alert["value"] < alert["lower"]
    assert exit_code(0, False, monday) in (3, 4)
    assert len(receiver.requests) == 1
    assert receiver.json(0)["status"] == "firing"

    # It lasts a second day (a Tuesday, against its own weekday): still open, not re-sent.
    tuesday = runs.run(drop=10 * NOISE)
    assert [a["rule"] for a in tuesday["firing"]] == ["recall off its weekday"]
    assert "earlier Tuesdays" in tuesday["firing"][0]["reason"]
    assert len(receiver.requests) == 1

    # Back on the cycle: resolved, one resolve sent; the regression did not widen the bands.
    wednesday = runs.run()
    assert wednesday["firing"] == [] and exit_code(0, False, wednesday) == 0
    assert len(receiver.requests) == 2 and receiver.json(1)["status"] == "resolved"
    assert all(runs.run()["firing"] == [] for _ in range(4))
    assert len(receiver.requests) == 2

    lines = store.read_index(runs.model_dir)
    assert len(lines) == HISTORY_WEEKS * 7 + 14
