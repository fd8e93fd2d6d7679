"""time.gap: a pause in current that the reference's pace does not explain."""

from __future__ import annotations

import pandas as pd
import pytest

import monitorkit as mk


def _gap_findings(report):
    return [f for f in report.findings if f.check == "time.gap"]


@pytest.mark.parametrize("as_baseline", [False, True], ids=["rows", "baseline"])
def test_a_four_day_outage_is_a_gap_and_unchanged_data_has_none(as_baseline):
    reference, current, _ = mk.datasets.load_scenario("no_change", n_rows=5_000, seed=2)
    side = mk.Baseline.from_frame(reference) if as_baseline else reference
    assert _gap_findings(mk.QualityReport(side, current)) == []
    times = pd.to_datetime(current["timestamp"], utc=True)
    outage = (times > pd.Timestamp("2026-09-10", tz="UTC")) & (
        times < pd.Timestamp("2026-09-14", tz="UTC")
    )
    (gap,) = _gap_findings(mk.QualityReport(side, current[~outage]))
    assert gap.severity == "warning" and gap.column == "timestamp"
    assert "4.0 days" in gap.message and "2026-09-09" in gap.message


def test_a_slower_pace_stretches_the_allowed_pause():
    reference, current, _ = mk.datasets.load_scenario("no_change", n_rows=5_000, seed=3)
    sparse = current.iloc[::10]  # a tenth of the pace: pauses ten times longer are normal
    assert _gap_findings(mk.QualityReport(reference, sparse)) == []
