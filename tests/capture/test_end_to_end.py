"""The README's example service, end to end: a scikit-learn model logs to a PredictionLog
through monitorkit.instrument, labels arrive later, the nightly `monitorkit run` reads a day of
the log, and History shows the runs in its trend."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import monitorkit as mk

REPO = Path(__file__).resolve().parents[2]


def _requests(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "tenure": rng.integers(1, 72, n),
            "monthly_charges": rng.normal(70 + shift, 15, n),
            "support_calls": rng.poisson(1.5, n),
        }
    )
    churned = (frame.monthly_charges / 40 + frame.support_calls / 2 - frame.tenure / 30
               + rng.normal(0, 0.7, n)) > 1.4  # fmt: skip
    return frame, churned.astype(int)


@pytest.mark.kernel
def test_log_serve_run_and_history(tmp_path):
    train, train_target = _requests(3_000, seed=0)
    model = LogisticRegression(max_iter=500).fit(train, train_target)
    reference = train.assign(churned=train_target, score=model.predict_proba(train)[:, 1])
    reference.to_parquet(tmp_path / "reference.parquet")

    # --- the service: a few lines around the model ---------------------------------------
    log = mk.PredictionLog(tmp_path / "logs" / "churn")
    metrics = mk.capture.ServingMetrics("churn")
    predict = mk.instrument(model.predict_proba, log=log, metrics=metrics, model_version="1.0")
    truth = {}
    for day_index, (day, shift) in enumerate((("2026-05-01", 0.0), ("2026-05-02", 25.0))):
        for hour in range(24):
            # A seed fixed per (day, hour): hash() of a str tuple changes between processes.
            batch, target = _requests(40, seed=1_000 + 100 * day_index + hour, shift=shift)
            ids = [f"{day}-{hour}-{i}" for i in range(len(batch))]
            stamp = pd.Timestamp(f"{day}T{hour:02d}:30Z")
            predict(batch.assign(request_id=ids, timestamp=stamp))
            truth.update(zip(ids, target))
    log.add_labels(pd.DataFrame({"request_id": list(truth), "churned": list(truth.values())}))
    log.close()
    assert (
        metrics.registry.get_sample_value(
            "monitorkit_predictions_total", {"model": "churn", "model_version": "1.0"}
        )
        == 2 * 24 * 40
    )

    # --- the nightly runs, one per day of the log ---------------------------------------------
    store_root = tmp_path / "reports"
    for day, end in (("2026-05-01", "2026-05-02"), ("2026-05-02", "2026-05-03")):
        done = subprocess.run(
            [sys.executable, "-m", "monitorkit.cli", "run", "monitoring", "--no-progress",
             "--out", str(store_root), "-p", "model", "churn",
             "-p", "reference", str(tmp_path / "reference.parquet"),
             "-p", "current", f"{tmp_path / 'logs' / 'churn'}?start={day}&end={end}",
             "-p", "target", "churned", "-p", "prediction", "score",
             "--textfile-dir", str(tmp_path / "textfile")],
            capture_output=True, text=True, cwd=tmp_path, timeout=600,
        )  # fmt: skip
        assert done.returncode in (0, 3, 4), done.stderr
    history = mk.History(store_root / "churn")
    runs = history.runs
    assert len(runs) == 2 and (runs["status"] == "succeeded").all()
    assert runs["performance.rows"].tolist() == [24 * 40, 24 * 40]
    assert runs["performance.label_coverage"].tolist() == [1.0, 1.0]
    # the second day's charges moved: the trend shows the jump, and names the column
    share = history.trend("drift.share_drifted")["value"].tolist()
    assert share[1] > share[0]
    charges = history.trend("drift.column.monthly_charges.drifted")["value"].tolist()
    assert charges == [0, 1]
    assert runs["severity"].iloc[1] != "ok"
    assert (tmp_path / "textfile" / "monitorkit_churn.prom").is_file()
    summary = mk.History(store_root).models.set_index("model")
    assert summary.loc["churn", "runs"] == 2
