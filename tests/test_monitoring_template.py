"""The monitoring template end to end (papermill, a real kernel): a baseline file as the
reference, production data without labels, and broken inputs that must never exit 0."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import monitorkit as mk
from monitorkit.runner import run_template

pytestmark = pytest.mark.kernel


def census(n: int, seed: int) -> pd.DataFrame:
    """A table shaped like the US census employment data (written here, not downloaded)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(17, 90, n),
            "workclass": rng.choice(["Private", "Self-emp", "State-gov", "Local-gov"], n),
            "education_years": rng.integers(1, 17, n),
            "hours_per_week": rng.normal(40, 10, n).round(1),
            "capital_gain": np.where(rng.random(n) < 0.9, 0.0, rng.lognormal(8, 1, n)).round(2),
            "MedInc": rng.lognormal(1.2, 0.4, n).round(4),
            "state": rng.choice(["CA", "NY", "TX", "WA", "FL"], n),
            "employed": rng.integers(0, 2, n),
        }
    )


@pytest.fixture
def split(in_tmp: Path) -> dict[str, Path]:
    frame = census(4_000, seed=5)
    reference, current = frame.iloc[:2_000], frame.iloc[2_000:].reset_index(drop=True)
    paths = {"reference": in_tmp / "train.csv", "current": in_tmp / "week.csv"}
    reference.to_csv(paths["reference"], index=False)
    current.to_csv(paths["current"], index=False)
    return {**paths, "frame": current}


def run(reference: Path | str, current: Path, **extra) -> mk.runner.RunResult:
    parameters = {"reference": str(reference), "current": str(current), "model": "census"}
    return run_template("monitoring", {**parameters, **extra}, progress=False)


def test_a_clean_split_exits_0(split):
    result = run(split["reference"], split["current"], target="employed")
    assert result.exit_code == 0, result.summary.get("error") or result.summary["verdict"]
    figures = result.summary["figures"]
    assert figures["quality.problems"] == 0 and figures["drift.drifted_columns"] == 0


def test_a_baseline_file_as_reference_and_no_labels_in_current(split, in_tmp):
    reference = pd.read_csv(split["reference"])
    baseline = mk.Baseline.from_frame(reference, spec=mk.ColumnSpec(target="employed"))
    path = baseline.save(in_tmp / "baselines" / "census.json")
    unlabelled = in_tmp / "unlabelled.csv"
    split["frame"].drop(columns=["employed"]).to_csv(unlabelled, index=False)
    result = run(path, unlabelled)
    assert result.exit_code == 0, result.summary.get("error") or result.summary["verdict"]
    notebook = result.notebook.read_text()
    assert "no labels in current yet" in notebook


def _write(frame: pd.DataFrame, path: Path, **options) -> Path:
    frame.to_csv(path, index=False, **options)
    return path


BREAKAGES = {
    "unparseable text": lambda f: f.assign(
        MedInc=f["MedInc"].astype(object).where(np.arange(len(f)) % 5 >= 2, "n/a")
    ),
    "all inf": lambda f: f.assign(hours_per_week=np.inf),
    "dropped column": lambda f: f.drop(columns=["workclass"]),
    "renamed columns": lambda f: f.rename(columns=str.upper),
    "missing-value spike": lambda f: f.assign(
        hours_per_week=f["hours_per_week"].where(np.arange(len(f)) % 3 != 0)
    ),
}


@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_broken_inputs_never_exit_0(split, in_tmp, breakage):
    broken = _write(BREAKAGES[breakage](split["frame"]), in_tmp / "broken.csv")
    result = run(split["reference"], broken)
    assert result.exit_code != 0, (breakage, result.summary["verdict"])
    summary = json.loads((result.folder / "summary.json").read_text())
    if breakage == "renamed columns":  # nothing could be compared: the reason is the error
        assert result.exit_code == 1, summary
        assert "no column" in summary["error"]["message"]
    else:
        assert result.exit_code in (3, 4), summary.get("error")
        assert summary["figures"]["quality.problems"] >= 1
        assert summary["severity"] in ("warning", "critical")


def test_a_semicolon_file_fails_the_run_saying_why(split, in_tmp):
    broken = _write(split["frame"], in_tmp / "semicolon.csv", sep=";")
    result = run(split["reference"], broken)
    assert result.exit_code == 1
    assert "delimited by ';'" in result.summary["error"]["message"]


def test_a_header_only_file_fails_the_run(split, in_tmp):
    broken = in_tmp / "header.csv"
    broken.write_text(",".join(split["frame"].columns) + "\n", encoding="utf-8")
    result = run(split["reference"], broken)
    assert result.exit_code == 1
    assert "no rows" in result.summary["error"]["message"]


def test_through_the_command_line_a_dropped_column_exits_4_with_the_finding(split, in_tmp):
    import subprocess
    import sys

    broken = _write(split["frame"].drop(columns=["workclass"]), in_tmp / "dropped.csv")
    done = subprocess.run(
        [sys.executable, "-m", "monitorkit.cli", "run", "monitoring", "--no-progress",
         "-p", "reference", str(split["reference"]), "-p", "current", str(broken),
         "-p", "model", "census"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 4, done.stderr
    (folder,) = [p for p in (in_tmp / "reports" / "census").iterdir() if p.is_dir()]
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["figures"]["quality.problems"] >= 1
    assert "workclass" in summary["verdict"]


def _scenario_run(name: str, folder: Path, **extra) -> mk.runner.RunResult:
    paths = mk.datasets.write_scenario(name, folder, n_rows=20_000)
    truth = json.loads(Path(paths["truth"]).read_text())
    parameters = {
        "reference": str(paths["reference"]),
        "current": str(paths["current"]),
        "model": name,
        "drift_by": "1W",
        "business": truth["business"],
        "segments": truth["segments"],
        "sensitive": truth["sensitive"],
        **extra,
    }
    return run_template("monitoring", parameters, progress=False)


def test_scenarios_tell_their_performance_story_through_the_template(in_tmp):
    retail = _scenario_run("seasonal_retail", in_tmp / "retail")
    figures = retail.summary["figures"]
    # click-through falls as the season turns, beside the drift of the inputs
    assert figures["performance.click_through_rate.change"] < -0.15
    assert figures["drift.drifted_columns"] >= 1
    assert retail.exit_code == 4

    credit = _scenario_run("credit_bias", in_tmp / "credit")
    assert credit.summary["figures"]["performance.fairness_problems"] >= 1
    assert credit.summary["figures"]["performance.demographic_parity_ratio|gender"] < 0.8

    fraud = _scenario_run("fraud_imbalance", in_tmp / "fraud")
    assert fraud.summary["figures"]["performance.recall.change"] < -0.15
    assert "recall fell" in fraud.summary["verdict"]

    calm = _scenario_run("no_change", in_tmp / "calm")
    assert calm.exit_code == 0, calm.summary["verdict"]
    assert calm.summary["figures"]["performance.problems"] == 0


def test_without_labels_the_template_estimates_from_the_baseline(in_tmp):
    scenario = mk.datasets.load_scenario("imaging_equipment", n_rows=20_000)
    baseline = mk.Baseline.from_frame(scenario.reference, scenario.spec)
    baseline_path = baseline.save(in_tmp / "imaging.json")
    current = in_tmp / "unlabelled.parquet"
    scenario.current.drop(columns="label").to_parquet(current)
    result = run(baseline_path, current, drift_by="1W")
    figures = result.summary["figures"]
    assert "performance.accuracy.estimated" in figures
    assert figures["performance.label_coverage"] == 0
    page = Path(result.html).read_text(encoding="utf-8")
    assert "no labels in current yet" in page
    assert "estimated without labels" in page
