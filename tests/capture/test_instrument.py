"""monitorkit.instrument: timing, counting, memory, what is logged, and a log as a report."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import monitorkit as mk
from monitorkit.capture.instrument import Instrumented
from monitorkit.errors import InputError


@pytest.fixture(scope="module")
def model_and_data():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"age": rng.integers(18, 90, 400), "income": rng.normal(5, 2, 400)})
    target = (frame["income"] + rng.normal(0, 1, 400) > 5).astype(int)
    return LogisticRegression().fit(frame, target), frame, target


def test_wrapper_and_decorator_return_what_the_function_returns(tmp_path):
    log = mk.PredictionLog(tmp_path / "log")

    @mk.instrument(log=log)
    def double(rows):
        return [2 * r["x"] for r in rows]

    assert double([{"x": 1}, {"x": 4}]) == [2, 8]
    assert double.__name__ == "double" and isinstance(double, Instrumented)
    wrapped = mk.instrument(len)
    assert wrapped("abc") == 3 and wrapped.stats()["calls"] == 1

    class Model:
        scale = 3

        @mk.instrument(log=log)
        def predict(self, rows):
            return [self.scale * r["x"] for r in rows]

    assert Model().predict([{"x": 2}]) == [6]
    back = log.read()
    log.close()
    assert back["x"].tolist() == [1, 4, 2]
    assert back["prediction"].tolist() == [2, 8, 6]
    with pytest.raises(InputError, match="wraps a function"):
        mk.instrument(42)
    with pytest.raises(InputError, match="memory"):
        mk.instrument(len, memory="swap")


def test_latency_is_measured_per_call_and_per_row(tmp_path):
    log = mk.PredictionLog(tmp_path / "log")

    def slow(frame):
        time.sleep(0.02)
        return np.zeros(len(frame))

    predict = mk.instrument(slow, log=log)
    predict(pd.DataFrame({"a": range(10)}))
    predict(pd.DataFrame({"a": range(30)}))
    stats = predict.stats()
    assert stats["calls"] == 2 and stats["rows"] == 40 and stats["errors"] == 0
    assert 20 <= stats["latency_ms_per_call"] < 1_000
    assert stats["latency_ms_per_row"] == pytest.approx(stats["latency_ms_per_call"] * 2 / 40)
    back = log.read()
    log.close()
    per_call = back.groupby("latency_ms").size().sort_values().tolist()
    assert per_call == [10, 30]  # every row of a call carries the call's latency
    assert (back["latency_ms"] >= 20).all()
    assert (~back["error"]).all()


def test_errors_are_counted_logged_and_raised(tmp_path):
    log = mk.PredictionLog(tmp_path / "log")

    def fragile(record):
        if record["x"] < 0:
            raise ValueError("negative")
        return record["x"] * 0.1

    predict = mk.instrument(fragile, log=log, model_version="2.1")
    predict({"x": 5})
    with pytest.raises(ValueError, match="negative"):
        predict({"x": -1})
    assert predict.stats()["errors"] == 1 and predict.stats()["error_rate"] == 0.5
    back = log.read()
    log.close()
    assert back["error"].tolist() == [False, True]
    assert back["prediction"].iloc[0] == pytest.approx(0.5) and np.isnan(back["prediction"].iloc[1])
    assert (back["model_version"] == "2.1").all()


def test_outputs_are_named_for_the_reports(tmp_path, model_and_data):
    model, frame, _ = model_and_data
    log = mk.PredictionLog(tmp_path / "log")
    mk.instrument(model.predict_proba, log=log)(frame.head(5))
    mk.instrument(model.predict, log=log)(frame.head(3).to_numpy())
    mk.instrument(lambda x: np.ones((len(x), 3)), log=log)(frame.head(2))
    back = log.read()
    log.close()
    np.testing.assert_allclose(back["score"].iloc[:5], model.predict_proba(frame.head(5))[:, 1])
    assert back["prediction"].iloc[5:8].tolist() == model.predict(frame.head(3)).tolist()
    assert back[["x0", "x1"]].iloc[5:8].to_numpy().tolist() == frame.head(3).to_numpy().tolist()
    assert back[["score_0", "score_1", "score_2"]].iloc[8:].notna().all().all()


def test_request_ids_in_the_input_are_used_and_not_passed_on(tmp_path, model_and_data):
    model, frame, target = model_and_data
    log = mk.PredictionLog(tmp_path / "log")
    seen = []

    def predict(x):
        seen.append(list(x.columns))
        return model.predict_proba(x)

    wrapped = mk.instrument(predict, log=log)
    batch = frame.head(4).assign(request_id=["a", "b", "c", "d"])
    wrapped(batch)
    single = mk.instrument(lambda r: seen.append(sorted(r)) or 0.5, log=log)
    single({"request_id": "e", "age": 30, "income": 4.0})
    assert seen == [["age", "income"], ["age", "income"]]
    log.add_labels(pd.DataFrame({"request_id": ["a", "e"], "label": [1, 0]}))
    back = log.read()
    log.close()
    assert back["request_id"].tolist() == ["a", "b", "c", "d", "e"]
    assert back.set_index("request_id")["label"].dropna().to_dict() == {"a": 1, "e": 0}


@pytest.fixture
def stop_tracing():
    """tracemalloc, once started, slows every allocation of this process: stop it after."""
    import tracemalloc

    was_tracing = tracemalloc.is_tracing()
    yield
    if not was_tracing:
        tracemalloc.stop()


def test_memory_and_cpu_are_measured_when_asked(tmp_path, stop_tracing):
    log = mk.PredictionLog(tmp_path / "log")

    def hungry(n):
        block = bytearray(n)  # n bytes held during the call
        total = 0
        for i in range(200_000):  # some CPU
            total += i
        return len(block) + 0 * total

    traced = mk.instrument(hungry, log=log, memory="tracemalloc", cpu=True)
    traced(40 * 2**20)
    traced(1 * 2**20)
    sampled = mk.instrument(hungry, log=log, memory="rss", memory_every=2)
    for _ in range(3):
        sampled(1000)
    back = log.read()
    log.close()
    assert back["memory_mb"].iloc[0] >= 39 and back["memory_mb"].iloc[1] < 5
    assert back["cpu_ms"].iloc[:2].gt(0).all()
    assert (back["cpu_ms"].iloc[:2] <= back["latency_ms"].iloc[:2] * 1.5 + 1).all()
    rss = back["memory_mb"].iloc[2:].tolist()
    assert rss[0] > 10 and np.isnan(rss[1]) and rss[2] > 10  # every 2nd call


def test_the_log_of_an_instrumented_model_is_a_performance_report_input(tmp_path, model_and_data):
    model, frame, target = model_and_data
    log = mk.PredictionLog(tmp_path / "log")
    predict = mk.instrument(model.predict_proba, log=log, model_version="1.0")
    ids = [f"q{i}" for i in range(len(frame))]
    for start in range(0, len(frame), 50):
        predict(frame.iloc[start : start + 50].assign(request_id=ids[start : start + 50]))
    log.add_labels(pd.DataFrame({"request_id": ids, "label": target.to_numpy()}))
    log.close()
    reference = frame.assign(label=target, score=model.predict_proba(frame)[:, 1])
    baseline = mk.Baseline.from_frame(reference, mk.ColumnSpec(target="label", prediction="score"))
    report = mk.PerformanceReport(
        str(tmp_path / "log"), spec=mk.ColumnSpec(target="label", prediction="score"),
        baseline=baseline,
    )  # fmt: skip
    figures = report.figures
    assert figures["rows"] == len(frame) and figures["label_coverage"] == 1.0
    assert figures["accuracy"] == pytest.approx(figures["accuracy.baseline"])
    assert figures["error_rate"] == 0
    assert figures["latency_p95"] > 0


def test_a_failure_to_log_never_changes_what_the_caller_gets(tmp_path):
    log = mk.PredictionLog(tmp_path / "log")
    predict = mk.instrument(lambda rows: np.asarray(rows).sum(axis=1), log=log,
                            feature_names=["a", "b"])  # fmt: skip
    # feature_names do not match the input's three columns: the row cannot be logged
    with pytest.warns(RuntimeWarning, match="feature_names has 2 names") as caught:
        assert predict(np.ones((2, 3))).tolist() == [3.0, 3.0]
        assert predict(np.ones((1, 3))).tolist() == [3.0]  # the same message: no new warning
    assert len(caught) == 1
    assert predict.stats()["log_errors"] == 2 and predict.stats()["errors"] == 0
    assert predict(np.ones((1, 2))).tolist() == [2.0]  # a call that fits is logged
    # a type that does not fit the log, then a closed log: warned once each
    typed = mk.instrument(lambda record: 0.5, log=log)
    assert typed({"age": 31}) == 0.5
    with pytest.warns(RuntimeWarning, match="'age'"):
        assert typed({"age": "forty"}) == 0.5
    log.close()
    with pytest.warns(RuntimeWarning, match="closed"):
        assert typed({"age": 32}) == 0.5
    assert typed.stats()["log_errors"] == 2 and typed.stats()["calls"] == 3

    def broken(record):
        raise KeyError("the model's own")

    failing = mk.instrument(broken, log=log)  # the log is closed: logging fails too
    with pytest.warns(RuntimeWarning, match="closed"), pytest.raises(KeyError) as raised:
        failing({"age": 1})
    assert raised.value.args == ("the model's own",)  # the model's error, unchanged
    assert failing.stats()["errors"] == 1 and failing.stats()["log_errors"] == 1
    back = log.read()
    assert "x0" not in back.columns and back["a"].dropna().tolist() == [1.0]
    assert back["age"].dropna().tolist() == [31]
