"""The data overview of a run's inputs."""

from __future__ import annotations

import json

import pandas as pd

import monitorkit as mk


def test_overview_counts_rows_missing_cells_and_time_span(small_frames):
    reference, current = small_frames
    current = current.assign(income=current["income"].mask(current.index < 40))
    overview = mk.DataOverview.from_frames(reference, current)
    assert (overview["reference"].rows, overview["current"].rows) == (600, 400)
    assert overview["current"].missing_cells == 40
    assert overview["current"].missing_share == 40 / (400 * 7)
    assert overview["reference"].start == "2026-01-01T00:00:00+00:00"
    assert overview["reference"].span_days == 599 / 24  # hourly rows
    assert overview.figures == {"reference_rows": 600, "current_rows": 400, "columns": 7}
    frame = overview.to_frame()
    assert list(frame["input"]) == ["reference", "current"]


def test_columns_on_one_side_only_are_listed(small_frames):
    reference, current = small_frames
    overview = mk.DataOverview.from_frames(
        reference.drop(columns=["score"]), current.assign(extra=1)
    )
    assert overview.only_in_reference == ()
    assert overview.only_in_current == ("score", "extra")
    assert "only in current: score, extra" in str(overview)


def test_overview_round_trips_through_json(small_frames):
    overview = mk.DataOverview.from_frames(*small_frames, spec=mk.ColumnSpec(segments=["region"]))
    again = mk.DataOverview.from_dict(json.loads(overview.to_json()))
    assert again == overview


def test_html_escapes_column_names_and_values():
    hostile = "<img src=x onerror=alert(1)>"
    frame = pd.DataFrame({hostile: ["a", "b"], "v": [1.0, 2.0]})
    page = mk.DataOverview.from_frames(frame, frame).to_html(standalone=False)
    assert hostile not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
