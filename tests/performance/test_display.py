"""The performance section: escaped, rebuilt from JSON alone, worst first."""

from __future__ import annotations

import numpy as np
import pandas as pd

import monitorkit as mk


def _report(by=4):
    rng = np.random.default_rng(0)
    n = 2_000
    frame = pd.DataFrame(
        {
            "ts": pd.date_range("2026-01-01", periods=n, freq="h"),
            "label": rng.integers(0, 2, n),
            "segment": np.where(np.arange(n) % 2, "<b>north</b>", "south"),
        }
    )
    frame["score"] = np.clip(frame["label"] * 0.5 + rng.random(n) * 0.5, 0, 1)
    current = frame.copy()
    late = np.arange(n) > n // 2
    current.loc[late, "score"] = 1 - current.loc[late, "score"]
    spec = mk.ColumnSpec(target="label", prediction="score", timestamp="ts", segments=["segment"])
    return mk.PerformanceReport(current, spec, baseline=frame, by=by)


def test_section_escapes_strings_and_leads_with_the_worst():
    report = _report()
    html = report.to_html()
    assert report.severity == "critical"
    assert "<b>north</b>" not in html and "&lt;b&gt;north&lt;/b&gt;" in html
    assert html.index("Worst first") < html.index("Per window")
    assert "data:image/png;base64," in html
    assert "http://" not in html and "https://" not in html


def test_section_is_rebuilt_from_json_alone():
    report = _report()
    loaded = mk.load_report(report.to_json())
    assert loaded.to_html() == report.to_html()


def test_section_without_windows_or_labels_still_renders():
    report = _report(by=None)
    assert "Per window" not in report.to_html()
    unlabelled = mk.PerformanceReport(
        pd.DataFrame({"score": [0.1, 0.9], "latency_ms": [3.0, 4.0]}),
        mk.ColumnSpec(target="label", prediction="score"),
        baseline=pd.DataFrame({"label": [0, 1], "score": [0.1, 0.9], "latency_ms": [3.0, 4.0]}),
    )
    html = unlabelled.to_html()
    assert "no labels in current yet" in html
    # two rows of latency judge nothing: said, and not a green
    assert "nothing could be judged" in html and unlabelled.severity == "critical"
