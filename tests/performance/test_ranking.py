"""Ranking / recommendation metrics: hand-computed cases, a plain-python reference, sklearn's
top-k accuracy, edge cases (empty lists, k beyond the list, no click) and the report."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st

import monitorkit as mk
from monitorkit.errors import InputError
from monitorkit.performance import metrics as registry
from monitorkit.performance.labels import infer_task, prepare_labels
from monitorkit.performance.metrics import METRICS, RANKING_KS

RANKING_METRICS = ["click_through_rate", "mrr"] + [
    f"{kind}@{k}" for k in RANKING_KS for kind in ("hit_rate", "precision")
]


def _values(shown: list, clicked: list) -> dict[str, float]:
    frame = pd.DataFrame({"shown": pd.Series(shown, dtype=object), "clicked": clicked})
    prepared = prepare_labels(frame, "clicked", "shown")
    assert prepared is not None and prepared.task == "ranking"
    arrays = prepared.arrays(np.arange(len(frame)))
    return {name: METRICS[name].compute(arrays) for name in RANKING_METRICS}


def _reference(shown: list, clicked: list) -> dict[str, float]:
    """The definitions of the metrics module docstring, one row at a time in plain python."""
    rows = [(s, c) for s, c in zip(shown, clicked) if isinstance(s, (list, tuple))]
    n = len(rows)

    def clicked_set(c) -> set:
        if isinstance(c, (list, tuple, set)):
            return set(c)
        return set() if c is None else {c}

    def hit_positions(s, c) -> list[int]:
        wanted = clicked_set(c)
        return [i + 1 for i, item in enumerate(s) if item in wanted]

    found: dict[str, float] = {
        "click_through_rate": sum(bool(hit_positions(s, c)) for s, c in rows) / n,
        "mrr": sum(1 / hit_positions(s, c)[0] if hit_positions(s, c) else 0.0 for s, c in rows) / n,
    }
    for k in RANKING_KS:
        found[f"hit_rate@{k}"] = sum(any(p <= k for p in hit_positions(s, c)) for s, c in rows) / n
        found[f"precision@{k}"] = (
            sum(sum(p <= k for p in hit_positions(s, c)) / k for s, c in rows) / n
        )
    return found


def test_hand_computed_case():
    shown = [["a", "b", "c"], ["b", "a"], ["c"], ["a", "b", "c", "d", "e", "f"]]
    clicked = ["b", None, "z", "f"]
    values = _values(shown, clicked)
    # rows: hit at 2; no click; a click on an item not shown; hit at 6
    assert values["click_through_rate"] == pytest.approx(2 / 4)
    assert values["hit_rate@1"] == 0.0
    assert values["hit_rate@5"] == pytest.approx(1 / 4)
    assert values["hit_rate@10"] == pytest.approx(2 / 4)
    assert values["precision@1"] == 0.0
    assert values["precision@5"] == pytest.approx((1 / 5) / 4)
    assert values["precision@10"] == pytest.approx((1 / 10 + 1 / 10) / 4)
    assert values["mrr"] == pytest.approx((1 / 2 + 1 / 6) / 4)


def test_several_clicked_items_per_row():
    shown = [[1, 2, 3, 4, 5], [7, 8], [9]]
    clicked = [[2, 5, 11], [], [9]]  # an empty list is no click
    values = _values(shown, clicked)
    assert values["precision@5"] == pytest.approx((2 / 5 + 0 + 1 / 5) / 3)
    assert values["precision@1"] == pytest.approx(1 / 3)
    assert values["hit_rate@1"] == pytest.approx(1 / 3)
    assert values["mrr"] == pytest.approx((1 / 2 + 0 + 1) / 3)
    assert values["click_through_rate"] == pytest.approx(2 / 3)


def test_edge_cases_empty_lists_short_lists_and_missing_lists():
    # k beyond the list: precision@10 of a 2-item list with a hit is 1/10, not 1/2.
    values = _values([["a", "b"]], ["b"])
    assert values["precision@10"] == pytest.approx(0.1)
    assert values["hit_rate@10"] == 1.0 and values["hit_rate@1"] == 0.0
    # an empty list shows nothing: no hit, even with a click
    values = _values([[], ["a"]], ["a", "a"])
    assert values["click_through_rate"] == 0.5
    # no click at all: every metric is 0 (defined), not NaN
    values = _values([["a"], ["b"]], [None, None])
    assert all(v == 0.0 for v in values.values()), values
    # a row without a list is dropped, not counted as a miss
    frame = pd.DataFrame(
        {"shown": pd.Series([["a"], None, ["b"]], dtype=object), "clicked": ["a", "b", None]}
    )
    prepared = prepare_labels(frame, "clicked", "shown")
    arrays = prepared.arrays(np.arange(3))
    assert len(arrays) == 2
    assert METRICS["click_through_rate"].compute(arrays) == 0.5
    assert prepared.labelled.all()  # no click is an outcome: every row is labelled


def test_tuples_and_arrays_are_lists_and_numbers_compare_by_value():
    shown = pd.Series([(3, 1), np.array([2, 5]), [7]], dtype=object)
    assert infer_task(pd.Series([1.0, np.nan, 7.0]), shown) == "ranking"
    assert infer_task(pd.Series([1, 0]), pd.Series(["a", "b"])) == "binary"
    values = _values(list(shown), [1.0, None, 7])
    assert values["click_through_rate"] == pytest.approx(2 / 3)
    assert values["mrr"] == pytest.approx((1 / 2 + 1) / 3)


_items = st.integers(0, 6)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(_items, max_size=12, unique=True),
            st.one_of(st.none(), _items, st.lists(_items, max_size=3)),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_metrics_equal_a_plain_python_reference(rows):
    shown = [list(s) for s, _ in rows]
    clicked = [c for _, c in rows]
    values = _values(shown, clicked)
    expected = _reference(shown, clicked)
    for name in RANKING_METRICS:
        assert values[name] == pytest.approx(expected[name], abs=1e-12), name


@pytest.mark.parametrize("seed", [0, 1])
def test_hit_rate_is_sklearns_top_k_accuracy_of_a_score_matrix(seed):
    rng = np.random.default_rng(seed)
    n, n_items = 500, 15
    scores = rng.random((n, n_items))  # distinct scores: no ties in the ranking
    truth = np.where(rng.random(n) < 0.5, scores.argmax(axis=1), rng.integers(0, n_items, n))
    shown = [list(row) for row in np.argsort(-scores, axis=1)]
    values = _values(shown, list(truth))
    for k in RANKING_KS:
        expected = skm.top_k_accuracy_score(truth, scores, k=k, labels=np.arange(n_items))
        assert values[f"hit_rate@{k}"] == pytest.approx(expected, abs=1e-12), k
    # every item is shown, so every click is in the list
    assert values["click_through_rate"] == 1.0


def test_intervals_are_wilson_for_rates_and_normal_for_means():
    rng = np.random.default_rng(3)
    shown = [list(rng.permutation(20)[:10]) for _ in range(400)]
    clicked = [row[rng.integers(0, 10)] if rng.random() < 0.3 else None for row in shown]
    frame = pd.DataFrame({"shown": pd.Series(shown, dtype=object), "clicked": clicked})
    arrays = prepare_labels(frame, "clicked", "shown").arrays(np.arange(400))
    ctr = METRICS["click_through_rate"]
    hits = sum(c is not None for c in clicked)
    assert ctr.interval(arrays) == pytest.approx(registry.wilson(hits, 400))
    precision = METRICS["precision@5"]
    low, high = precision.interval(arrays)
    assert low < precision.compute(arrays) < high
    assert all(METRICS[name].higher_is_better for name in RANKING_METRICS)


def test_a_custom_cut_off_can_be_registered_and_bad_ones_raise():
    hit_rate, precision = registry.register_ranking_metrics(3)
    try:
        values = _values([["a", "b", "c", "d"]], ["c"])
        assert values["hit_rate@1"] == 0.0
        frame = pd.DataFrame({"shown": pd.Series([["a", "b", "c", "d"]]), "clicked": ["c"]})
        arrays = prepare_labels(frame, "clicked", "shown").arrays(np.arange(1))
        assert hit_rate.compute(arrays) == 1.0 and precision.compute(arrays) == 1 / 3
    finally:
        del METRICS["hit_rate@3"], METRICS["precision@3"]
    with pytest.raises(InputError, match="positive integer"):
        registry.register_ranking_metrics(0)


def test_ranking_task_declared_on_a_column_without_lists_raises():
    frame = pd.DataFrame({"shown": ["a", "b"], "clicked": ["a", None]})
    with pytest.raises(InputError, match="holds no lists"):
        prepare_labels(frame, "clicked", "shown", task="ranking")


def test_the_report_judges_a_click_through_drop_per_window_and_segment():
    rng = np.random.default_rng(5)

    def frame(n: int, click_rate: float, start: str) -> pd.DataFrame:
        shown = [list(rng.permutation(50)[:10]) for _ in range(n)]
        clicked = [
            row[min(int(rng.geometric(0.4)) - 1, 9)] if rng.random() < click_rate else None
            for row in shown
        ]
        return pd.DataFrame(
            {
                "ts": pd.date_range(start, periods=n, freq="5min"),
                "shown": pd.Series(shown, dtype=object),
                "clicked": pd.Series(clicked, dtype=object),
                "region": rng.choice(["north", "south"], n),
            }
        )

    spec = mk.ColumnSpec(target="clicked", prediction="shown", timestamp="ts", segments=["region"])
    reference = frame(4_000, 0.30, "2026-01-01")
    current = frame(4_000, 0.15, "2026-02-01")
    report = mk.PerformanceReport(current, spec, baseline=reference, by="1D")
    assert report.result.task == "ranking"
    table = report.to_frame()
    assert set(RANKING_METRICS) <= set(table["metric"])
    overall = table[(table["window"] == "all") & (table["segment"] == "all")].set_index("metric")
    assert overall.loc["click_through_rate", "severity"] == "critical"
    assert report.severity == "critical"
    assert report.worst.metric in {"click_through_rate", "hit_rate@10"}
    assert report.result.windows[0].labelled == 4_000  # no click is a label
    same = mk.PerformanceReport(reference, spec, baseline=reference)
    assert same.severity == "ok"
    assert math.isclose(same.figures["click_through_rate.change"], 0.0)


def test_a_saved_baseline_of_recommendations_judges_without_the_reference_rows(tmp_path):
    rng = np.random.default_rng(7)

    def frame(n: int, click_rate: float) -> pd.DataFrame:
        shown = [list(rng.permutation(40)[:8]) for _ in range(n)]
        clicked = [row[2] if rng.random() < click_rate else None for row in shown]
        return pd.DataFrame(
            {"shown": pd.Series(shown, dtype=object), "clicked": pd.Series(clicked, dtype=object)}
        )

    spec = mk.ColumnSpec(target="clicked", prediction="shown")
    reference = frame(3_000, 0.3)
    baseline = mk.Baseline.from_frame(reference, spec)
    again = reference.assign(shown=reference["shown"].map(list))  # equal lists, new objects
    assert mk.Baseline.from_frame(again, spec).fingerprint == baseline.fingerprint
    other = reference.assign(shown=reference["shown"].map(lambda row: row[::-1]))
    assert mk.Baseline.from_frame(other, spec).fingerprint != baseline.fingerprint
    loaded = mk.Baseline.load(baseline.save(tmp_path / "baseline.json"))
    assert loaded.metrics["click_through_rate"] == baseline.metrics["click_through_rate"]
    assert loaded.metrics["click_through_rate"] == pytest.approx(0.3, abs=0.03)
    fell = mk.PerformanceReport(frame(3_000, 0.15), spec, baseline=loaded)
    assert fell.figures["click_through_rate.baseline"] == loaded.metrics["click_through_rate"]
    assert fell.severity == "critical"
    assert mk.PerformanceReport(frame(3_000, 0.3), spec, baseline=loaded).severity == "ok"
