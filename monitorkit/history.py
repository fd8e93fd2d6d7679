"""Past runs from the report store, as tables for people (``monitorkit history``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from monitorkit import store


def model_history(model_dir: str | os.PathLike) -> pd.DataFrame:
    """One row per run of a model, oldest first: time, status, severity, verdict, figures.

    Key figures (``figures`` of each run's summary) become one column each.
    """
    records = store.read_index(model_dir)
    rows = []
    for record in records:
        row: dict[str, Any] = {
            "run_id": record.get("run_id"),
            "started_at": record.get("started_at"),
            "status": record.get("status"),
            "severity": record.get("severity"),
            "exit_code": record.get("exit_code"),
            "duration_s": record.get("duration_s"),
            "verdict": record.get("verdict") or record.get("error"),
            "inputs": ", ".join(f"{k}={v}" for k, v in (record.get("inputs") or {}).items()),
        }
        for name, value in (record.get("figures") or {}).items():
            row[name] = value
        rows.append(row)
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame["started_at"] = pd.to_datetime(frame["started_at"], utc=True, format="ISO8601")
    return frame


def store_overview(root: str | os.PathLike) -> pd.DataFrame:
    """One row per model under ``root``: number of runs, and the latest run's status."""
    rows = []
    for model_dir in store.list_models(root):
        records = store.read_index(model_dir)
        last = records[-1] if records else {}
        rows.append(
            {
                "model": model_dir.name,
                "runs": len(records),
                "failed": sum(r.get("status") == "failed" for r in records),
                "last_run": last.get("started_at"),
                "last_status": last.get("status"),
                "last_severity": last.get("severity"),
                "last_verdict": last.get("verdict") or last.get("error"),
            }
        )
    return pd.DataFrame(rows)


def format_model_history(model_dir: str | os.PathLike, limit: int = 20) -> str:
    frame = model_history(model_dir)
    name = Path(model_dir).name
    if frame.empty:
        return f"{name}: no runs yet"
    shown = frame.tail(limit).copy()
    shown["started_at"] = shown["started_at"].dt.strftime("%Y-%m-%d %H:%M:%SZ")
    shown["severity"] = shown["severity"].fillna("-")
    shown["verdict"] = shown["verdict"].fillna("").map(lambda v: _shorten(str(v), 70))
    for column in shown.columns:
        # Counts read back from JSON as floats (12.0) print as the integers they are.
        values = shown[column]
        if values.dtype.kind == "f" and values.dropna().map(float.is_integer).all():
            shown[column] = values.astype("Int64")
    header = f"{name}: {len(frame)} run(s)" + (
        f", last {len(shown)} shown" if len(shown) < len(frame) else ""
    )
    # Headline figures only (``drift.share_drifted``); per-column ones
    # (``drift.column.age.statistic``) stay in model_history() and summary.json.
    columns = [c for c in shown.columns if c != "exit_code" and c.count(".") <= 1]
    return header + "\n" + shown[columns].to_string(index=False, na_rep="-")


def format_store_overview(root: str | os.PathLike) -> str:
    frame = store_overview(root)
    if frame.empty:
        return f"no models with runs under {root} (run `monitorkit demo` to make one)"
    frame["last_verdict"] = frame["last_verdict"].fillna("").map(lambda v: _shorten(str(v), 60))
    return frame.to_string(index=False, na_rep="-")


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
