"""Shared fixtures: small real data files and tiny template notebooks written per test."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from hypothesis import settings

# CI runs each property test on a fixed, derandomised set of examples, so that a submission
# passes or fails on its code, not on the draw; local runs keep exploring new examples.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# Runs in tests do not sign their notebooks into the user's Jupyter data folder; the test of
# signing (tests/browser/test_untrusted_notebook.py) gives its runs a folder of their own.
os.environ.setdefault("MONITORKIT_SIGN_NOTEBOOKS", "0")


@pytest.fixture
def small_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)

    def frame(n: int, start: str, shift: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "request_id": [f"req-{i:08x}" for i in rng.permutation(10**6)[:n]],
                "timestamp": pd.date_range(start, periods=n, freq="h", tz="UTC"),
                "age": rng.integers(18, 80, n),
                "income": rng.normal(50_000 + shift, 8_000, n).round(2),
                "region": rng.choice(["north", "south", "east"], n),
                "label": rng.integers(0, 2, n),
                "score": rng.random(n),
            }
        )

    return frame(600, "2026-01-01", 0.0), frame(400, "2026-03-01", 0.0)


@pytest.fixture
def data_files(tmp_path: Path, small_frames) -> dict[str, Path]:
    reference, current = small_frames
    paths = {"reference": tmp_path / "reference.parquet", "current": tmp_path / "current.csv"}
    reference.to_parquet(paths["reference"])
    current.to_csv(paths["current"], index=False)
    return paths


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch) -> Path:
    """Run the test with the temporary directory as the working directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def make_template(tmp_path: Path):
    """A function writing a template notebook: a `parameters` cell, then code cells."""

    def write(name: str, parameters: str, *cells: str) -> Path:
        return _write_template(tmp_path / "templates" / name, parameters, *cells)

    return write


def _write_template(path: Path, parameters: str, *cells: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    first = nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]})
    notebook.cells = [first] + [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(notebook, path)
    return path


@pytest.fixture
def snapshot():
    """A function returning every file under a folder with its bytes."""
    return _snapshot


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        os.path.relpath(p, folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }
