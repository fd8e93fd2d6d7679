"""join_labels and task inference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import monitorkit as mk
from monitorkit.errors import ColumnNotFoundError, InputError
from monitorkit.performance.labels import infer_task, prepare_labels


def _predictions():
    return pd.DataFrame(
        {"request_id": ["a", "b", "c", "d"], "score": [0.9, 0.2, 0.7, 0.4], "label": np.nan},
        index=[10, 11, 12, 13],
    )


def test_join_labels_keeps_every_prediction_in_order_and_fills_the_target():
    labels = pd.DataFrame({"request_id": ["c", "a", "zz"], "label": [0, 1, 1]})
    joined = mk.join_labels(_predictions(), labels)
    assert joined["request_id"].tolist() == ["a", "b", "c", "d"]
    assert joined.index.tolist() == [10, 11, 12, 13]
    assert joined["label"].tolist()[0] == 1 and joined["label"].tolist()[2] == 0
    assert joined["label"].isna().tolist() == [False, True, False, True]
    assert "label__label" not in joined.columns and len(joined) == 4


def test_join_labels_adds_new_columns_and_keeps_rows_without_labels():
    predictions = _predictions().drop(columns="label")
    labels = pd.DataFrame({"request_id": ["b"], "clicked": [True], "label": [1]})
    joined = mk.join_labels(predictions, labels)
    assert joined["clicked"].notna().tolist() == [False, True, False, False]
    assert joined["label"].notna().sum() == 1


def test_join_labels_names_a_missing_key_and_duplicate_keys():
    with pytest.raises(ColumnNotFoundError, match="key column 'request_id' is not in labels"):
        mk.join_labels(_predictions(), pd.DataFrame({"id": ["a"], "label": [1]}))
    with pytest.raises(ColumnNotFoundError, match="is not in predictions"):
        mk.join_labels(_predictions(), pd.DataFrame({"rid": ["a"]}), on="rid")
    duplicated = pd.DataFrame({"request_id": ["a", "b", "a"], "label": [1, 0, 0]})
    with pytest.raises(InputError, match=r"more than once \(e.g. 'a'\)"):
        mk.join_labels(_predictions(), duplicated)


def test_join_labels_says_when_no_key_matches_or_keys_cannot_match():
    predictions = pd.DataFrame({"request_id": ["a", "b"], "score": [0.9, 0.2]})
    with pytest.warns(UserWarning, match="none of the 2 labels' keys in 'request_id' matches"):
        joined = mk.join_labels(predictions, pd.DataFrame({"request_id": ["x", "y"], "y": [1, 0]}))
    assert joined["y"].isna().all()
    numbers = pd.DataFrame({"request_id": [1, 2], "y": [1, 0]})
    with pytest.raises(InputError, match=r"'request_id' is \w+ in predictions but int64 in labels"):
        mk.join_labels(predictions, numbers)


def test_joined_labels_feed_the_report():
    scenario = mk.datasets.load_scenario("no_change", n_rows=4_000, seed=0)
    predictions = scenario.current.drop(columns="label")
    arrived = scenario.current[["request_id", "label"]].iloc[: len(predictions) // 2]
    joined = mk.join_labels(predictions, arrived)
    report = mk.PerformanceReport(joined, baseline=scenario.reference, spec=scenario.spec)
    assert report.figures["label_coverage"] == pytest.approx(0.5, abs=0.01)
    assert report.severity == "ok"


@pytest.mark.parametrize(
    ("values", "task"),
    [
        ([True, False, None], "binary"),
        ([0, 1, 1], "binary"),
        ([1, 1, 1], "binary"),
        (["yes", "no", "no"], "binary"),
        (["cat", "dog", "eel"], "multiclass"),
        ([1.5, 2.0, 3.5], "regression"),
        ([None, None], None),
    ],
)
def test_task_is_inferred_from_the_target(values, task):
    assert infer_task(pd.Series(values)) == task


def test_text_labels_map_truthy_words_to_the_positive_class():
    frame = pd.DataFrame({"y": ["yes", "no", "yes", None], "p": ["no", "no", "yes", "yes"]})
    prepared = prepare_labels(frame, "y", "p")
    assert prepared.task == "binary"
    assert prepared.y_true[prepared.usable].tolist() == [1, 0, 1]
    assert prepared.y_pred[prepared.usable].tolist() == [0, 0, 1]
    assert prepared.labelled.tolist() == [True, True, True, False]
