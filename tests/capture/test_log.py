"""The prediction log: round trips, time ranges, late labels, concurrency, crashes, readers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

import monitorkit as mk
from monitorkit.capture.log import MARKER_NAME, PredictionLog, parse_log_source
from monitorkit.errors import DataSourceError, InputError, SchemaError

REPO = Path(__file__).resolve().parents[2]


def _frame(n: int, start: str = "2026-05-01", freq: str = "1h", seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "request_id": [f"r{seed}-{i}" for i in range(n)],
            "timestamp": pd.date_range(start, periods=n, freq=freq, tz="UTC"),
            "age": rng.integers(18, 90, n),
            "income": rng.normal(50_000, 9_000, n),
            "region": rng.choice(["north", "south"], n),
            "score": rng.random(n),
        }
    )


def _data_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*.parquet")
        if not any(part.startswith((".", "_")) for part in p.relative_to(folder).parts)
    )


def test_types_round_trip_exactly(tmp_path):
    frame = pd.DataFrame(
        {
            "request_id": ["a", "b", "c", "d"],
            "timestamp": pd.to_datetime(
                [
                    "2026-05-01T01:00:00.123456Z",
                    "2026-05-01T02:00Z",
                    "2026-05-02T00:00Z",
                    "2026-05-03T23:59:59Z",
                ],
                format="ISO8601",
            ),  # fmt: skip
            "count": np.array([1, -2, 3, 2**40], dtype="int64"),
            "small": np.array([1, 2, 3, 4], dtype="int32"),
            "ratio": [0.5, np.nan, 1e-300, -3.25],
            "flag": [True, False, True, False],
            "maybe": pd.array([1, None, 3, 4], dtype="Int64"),
            "text": ["x", None, "z", "ü"],
            "objects": pd.Series(["p", "q", "r", "s"], dtype=object),
            "kind": pd.Categorical(["a", "b", "a", "c"]),
            "when": pd.date_range("2020-01-01", periods=4, tz="UTC").as_unit("ns"),
            "naive": pd.date_range("2020-01-01", periods=4).as_unit("ms"),
        }
    )
    with PredictionLog(tmp_path / "log") as log:
        log.append(frame)
    back = log.read()
    pd.testing.assert_frame_equal(back, frame)
    # one file per day of the timestamp, in hive-style folders
    days = sorted(p.parent.name for p in _data_files(tmp_path / "log"))
    assert days == ["date=2026-05-01", "date=2026-05-02", "date=2026-05-03"]


def test_records_get_time_and_unique_ids(tmp_path):
    log = PredictionLog(tmp_path / "log")
    before = pd.Timestamp.now(tz="UTC")
    for i in range(5):
        log.append({"x": i, "prediction": i / 10})
    log.append([{"x": 5}, {"x": 6, "request_id": "mine"}])
    after = pd.Timestamp.now(tz="UTC")
    back = log.read()
    log.close()
    assert back["x"].tolist() == list(range(7))  # the order of appending
    assert back["request_id"].is_unique and back["request_id"].iloc[-1] == "mine"
    assert ((back["timestamp"] >= before) & (back["timestamp"] <= after)).all()
    assert back["timestamp"].is_monotonic_increasing


def test_read_a_time_range_is_half_open_and_prunes_days(tmp_path):
    frame = _frame(24 * 6)  # six days, hourly
    with PredictionLog(tmp_path / "log") as log:
        log.append(frame)
    window = log.read("2026-05-02T06:00", "2026-05-04")
    expected = frame[
        (frame.timestamp >= pd.Timestamp("2026-05-02T06:00Z"))
        & (frame.timestamp < pd.Timestamp("2026-05-04T00:00Z"))
    ]
    assert window["request_id"].tolist() == expected["request_id"].tolist()
    assert len(window) == 18 + 24
    assert log.read(start="2026-05-06")["timestamp"].min() == pd.Timestamp("2026-05-06T00:00Z")
    assert len(log.read(end="2026-05-01T03:00")) == 3
    with pytest.raises(InputError, match="empty"):
        log.read("2026-05-03", "2026-05-02")
    with pytest.raises(InputError, match="date or time"):
        log.read("yesterday-ish")


def test_labels_and_outcomes_are_joined_by_request_id(tmp_path):
    frame = _frame(10).assign(label=np.nan)
    with PredictionLog(tmp_path / "log") as log:
        log.append(frame)
        log.add_labels(
            pd.DataFrame({"request_id": ["r0-3", "r0-7", "unknown"], "label": [1, 0, 1]})
        )
        log.add_labels({"request_id": "r0-3", "label": 0})  # a correction: the latest wins
        log.add_outcomes(pd.DataFrame({"request_id": ["r0-7"], "clicked": [True]}))
    back = log.read()
    assert len(back) == 10  # unknown ids add no rows
    labels = dict(zip(back.request_id, back.label))
    assert labels["r0-3"] == 0 and labels["r0-7"] == 0
    assert back.label.notna().sum() == 2
    assert back.set_index("request_id").loc["r0-7", "clicked"] == True  # noqa: E712
    assert back.clicked.notna().sum() == 1
    assert "label" not in log.read(labels=False).dropna(axis=1, how="all").columns
    # labels live outside the predictions dataset, so plain readers see predictions only
    plain = ds.dataset(str(tmp_path / "log"), format="parquet", partitioning="hive").to_table()
    assert plain.num_rows == 10 and "clicked" not in plain.column_names
    with pytest.raises(InputError, match="request id"):
        log.add_labels(pd.DataFrame({"label": [1]}))


def test_a_log_is_the_input_of_reports_and_read_frame(tmp_path):
    reference = _frame(24 * 4, start="2026-04-01", seed=1)
    current = _frame(24 * 4, start="2026-05-01", seed=2)
    current.loc[current.timestamp >= "2026-05-03", "income"] += 30_000  # drift from day 3
    with PredictionLog(tmp_path / "log") as log:
        log.append(current)
    path = str(tmp_path / "log")
    assert mk.read_frame(path).shape[0] == len(current)
    early = mk.read_frame(path + "?start=2026-05-01&end=2026-05-03")
    late = mk.read_frame(path + "?start=2026-05-03")
    assert len(early) == len(late) == 48
    assert "date" not in early.columns  # the folder key is not a column of the rows
    spec = mk.ColumnSpec(id="request_id", timestamp="timestamp", prediction="score")
    quiet = mk.DriftReport(reference, path + "?end=2026-05-03", spec=spec)
    moved = mk.DriftReport(reference, log.between("2026-05-03", None), spec=spec)
    assert "income" not in quiet.drifted_columns
    assert "income" in moved.drifted_columns
    assert mk.DriftReport(reference, log, spec=spec).result.current_rows == len(current)
    with pytest.raises(SchemaError, match="no rows"):
        mk.read_frame(path + "?start=2027-01-01", name="current")
    with pytest.raises(DataSourceError, match="not a prediction log"):
        mk.read_frame(str(tmp_path) + "?start=2026-05-01")


def test_last_range_is_relative_to_now(tmp_path):
    now = pd.Timestamp.now(tz="UTC")
    frame = pd.DataFrame(
        {"timestamp": [now - pd.Timedelta(hours=h) for h in (1, 5, 30)], "x": [1, 2, 3]}
    )
    with PredictionLog(tmp_path / "log") as log:
        log.append(frame)
    folder, start, end = parse_log_source(f"{tmp_path / 'log'}?last=1D")
    assert folder == str(tmp_path / "log") and end - start == pd.Timedelta("1D")
    assert sorted(mk.read_frame(f"{tmp_path / 'log'}?last=1D")["x"]) == [1, 2]
    assert parse_log_source(tmp_path) is None  # a folder without the marker is not a log
    with pytest.raises(InputError, match="duration"):
        parse_log_source(f"{tmp_path / 'log'}?last=soon")


def test_flushes_on_size_and_on_time(tmp_path):
    log = PredictionLog(tmp_path / "size", flush_rows=100, flush_seconds=3600)
    log.append(_frame(150))
    deadline = time.monotonic() + 10
    while log.rows_written < 150 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert log.rows_written == 150 and log.buffered_rows == 0
    log.append(_frame(10))
    time.sleep(0.3)
    assert log.rows_written == 150 and log.buffered_rows == 10  # below the size, no timer yet
    log.close()

    timed = PredictionLog(tmp_path / "time", flush_rows=10**6, flush_seconds=0.2)
    timed.append(_frame(5))
    deadline = time.monotonic() + 10
    while timed.rows_written < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert timed.rows_written == 5
    timed.close()
    with pytest.raises(InputError, match="closed"):
        timed.append({"x": 1})


def test_rows_are_flushed_when_the_process_exits(tmp_path):
    code = textwrap.dedent(
        f"""
        from monitorkit.capture import PredictionLog
        log = PredictionLog({str(tmp_path / "log")!r}, flush_seconds=3600)
        for i in range(250):
            log.append({{"i": i}})
        # no close(), no flush(): the interpreter's exit writes them
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, timeout=120)
    back = PredictionLog(tmp_path / "log").read()
    assert sorted(back["i"]) == list(range(250))


def test_threads_hammering_one_log_lose_no_rows(tmp_path):
    log = PredictionLog(tmp_path / "log", flush_rows=500, flush_seconds=0.05)
    threads, per_thread = 8, 2_000
    errors = []

    def work(worker: int) -> None:
        try:
            for i in range(per_thread):
                if i % 100 == 0:  # batches among the single records
                    log.append(pd.DataFrame({"worker": [worker] * 3, "i": [-i - 1] * 3}))
                log.append({"worker": worker, "i": i})
                if i % 700 == 0:
                    log.flush()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    log.close()
    assert not errors
    back = log.read()
    singles = back[back["i"] >= 0]
    assert len(singles) == threads * per_thread
    assert len(back) == threads * per_thread + threads * (per_thread // 100) * 3
    assert not singles.duplicated(["worker", "i"]).any()
    assert back["request_id"].is_unique
    # each thread's records keep their order within the log
    for _, rows in singles.groupby("worker", sort=False):
        assert rows["i"].is_monotonic_increasing
    assert log.files_written > 1


def test_two_processes_append_to_one_log(tmp_path):
    code = textwrap.dedent(
        """
        import sys
        from monitorkit.capture import PredictionLog
        log = PredictionLog(sys.argv[1], flush_rows=300, flush_seconds=0.05)
        for i in range(3_000):
            log.append({"writer": int(sys.argv[2]), "i": i})
        log.close()
        """
    )
    folder = str(tmp_path / "log")
    writers = [
        subprocess.Popen([sys.executable, "-c", code, folder, str(w)], cwd=REPO) for w in (1, 2)
    ]
    for writer in writers:
        assert writer.wait(timeout=120) == 0
    back = PredictionLog(folder).read()
    assert len(back) == 6_000
    for writer in (1, 2):
        assert sorted(back.loc[back.writer == writer, "i"]) == list(range(3_000))
    assert back["request_id"].is_unique


def test_a_writer_killed_mid_write_leaves_only_whole_files(tmp_path):
    """SIGKILL while a file is being written (its temporary file exists): readers see the
    files that were complete before, never part of one."""
    batch = 200_000
    code = textwrap.dedent(
        f"""
        import numpy as np, pandas as pd
        from monitorkit.capture import PredictionLog
        log = PredictionLog({str(tmp_path / "log")!r}, flush_rows=10**7, flush_seconds=3600)
        rng = np.random.default_rng(0)
        frame = pd.DataFrame({{f"x{{i}}": rng.random({batch}) for i in range(25)}})
        frame["timestamp"] = pd.Timestamp("2026-05-01T12:00Z")
        n = 0
        while True:
            log.append(frame.assign(batch=n))
            log.flush()
            n += 1
        """
    )
    folder = tmp_path / "log" / "date=2026-05-01"
    writer = subprocess.Popen([sys.executable, "-c", code], cwd=REPO)
    try:
        deadline = time.monotonic() + 120
        killed_mid_write = False
        while time.monotonic() < deadline and writer.poll() is None:
            complete = list(folder.glob("part-*.parquet")) if folder.is_dir() else []
            writing = list(folder.glob(".part-*.tmp")) if folder.is_dir() else []
            if len(complete) >= 2 and writing:
                os.kill(writer.pid, signal.SIGKILL)
                killed_mid_write = True
                break
            time.sleep(0.001)
    finally:
        if writer.poll() is None:
            writer.kill()
        writer.wait(timeout=30)
    assert killed_mid_write, "the writer was never caught writing"
    assert list(folder.glob(".part-*.tmp")), "the kill left no unfinished file to hide"
    back = PredictionLog(tmp_path / "log").read()
    files = _data_files(tmp_path / "log")
    assert len(back) == batch * len(files) and len(files) >= 2
    assert sorted(back["batch"].unique()) == list(range(len(files)))
    assert len(mk.read_frame(str(tmp_path / "log"))) == len(back)
    # other readers skip the unfinished file too
    plain = ds.dataset(str(tmp_path / "log"), format="parquet", partitioning="hive")
    assert plain.count_rows() == len(back)


def test_readable_by_pandas_pyarrow_duckdb_and_dask(tmp_path):
    frame = _frame(48)
    with PredictionLog(tmp_path / "log") as log:
        log.append(frame)
    folder = str(tmp_path / "log")
    by_pandas = pd.read_parquet(folder)
    assert len(by_pandas) == 48 and set(by_pandas["date"].astype(str)) == {
        "2026-05-01",
        "2026-05-02",
    }
    table = ds.dataset(folder, format="parquet", partitioning="hive").to_table(
        filter=ds.field("date") == "2026-05-02"
    )
    assert table.num_rows == 24
    duckdb = pytest.importorskip("duckdb")
    count = duckdb.sql(
        f"select count(*) from read_parquet('{folder}/*/*.parquet', hive_partitioning=true) "
        "where date = '2026-05-01'"
    ).fetchall()[0][0]
    assert count == 24
    dd = pytest.importorskip("dask.dataframe")
    assert len(dd.read_parquet(folder)) == 48


def test_bad_inputs_are_named(tmp_path):
    log = PredictionLog(tmp_path / "log")
    with pytest.raises(InputError, match="day folder key"):
        log.append(pd.DataFrame({"date": [1]}))
    with pytest.raises(InputError, match="record"):
        log.append(42)
    with pytest.raises(InputError, match="positive integer"):
        PredictionLog(tmp_path / "other", flush_rows=0)
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        PredictionLog(tmp_path / "file")
    log.append({"x": 1})
    with pytest.raises(InputError, match=r"column 'x' .* holds integers .* give text"):
        log.append({"x": "text"})
    log.append({"x": 1})
    with pytest.raises(InputError, match=r"column 'x' .* holds integers .* give text"):
        log.append(pd.DataFrame({"x": ["text"]}))
    # only the bad appends were refused: the good rows stay buffered and are written
    assert log.buffered_rows == 2
    assert log.flush() == 2
    assert log.rows_dropped == 0
    log.append({"x": 2})
    assert log.flush() == 1
    log.close()
    # a log re-opened elsewhere keeps the column names it was created with
    custom = PredictionLog(tmp_path / "custom", timestamp="ts", id="rid")
    custom.close()
    assert (tmp_path / "custom" / MARKER_NAME).is_file()
    reopened = PredictionLog(tmp_path / "custom")
    assert (reopened.timestamp, reopened.id) == ("ts", "rid")
    reopened.close()


def test_a_bad_append_is_refused_and_the_good_rows_are_written(tmp_path):
    log = PredictionLog(tmp_path / "log", flush_seconds=0.05)
    log.append(pd.DataFrame({"age": [31, 45], "score": [0.1, 0.2]}))
    log.append({"age": 52, "score": 0.3})
    with pytest.raises(InputError) as caught:
        log.append({"age": "forty", "score": 0.4})
    message = str(caught.value)
    assert "'age'" in message and "int64" in message and "string" in message
    assert "astype" in message  # and how to fix it
    with pytest.raises(InputError, match="'age'"):
        log.append(pd.DataFrame({"age": ["forty"], "score": [0.4]}))
    with pytest.raises(InputError, match="'age'"):
        log.append(pd.DataFrame({"age": [31.5], "score": [0.4]}))  # would be cut to 31
    log.append([{"age": 60, "score": 0.5}, {"age": 61.0, "score": 0.6}])  # 61.0 is an integer
    deadline = time.monotonic() + 10  # the background writer writes them
    while log.rows_written < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (log.rows_written, log.rows_dropped) == (5, 0)
    back = log.read()
    log.close()
    assert back["age"].tolist() == [31, 45, 52, 60, 61] and str(back["age"].dtype) == "int64"


def test_a_log_opened_again_keeps_the_types_of_its_files(tmp_path):
    with PredictionLog(tmp_path / "log") as log:
        log.append({"age": 31, "timestamp": "2026-05-01T10:00Z"})
    again = PredictionLog(tmp_path / "log")
    with pytest.raises(InputError, match=r"column 'age' .* holds integers"):
        again.append({"age": "forty"})
    again.append({"age": 32})
    again.close()
    assert again.read()["age"].tolist() == [31, 32]


def test_rows_that_fail_only_when_written_drop_alone(tmp_path):
    log = PredictionLog(tmp_path / "log")
    log.append(pd.DataFrame({"n": [1, 2]}))
    log.append({"n": 3})
    log.append({"n": 2**70})  # an int like 3 (not checked again), too large for int64
    log.append({"n": 4})
    with pytest.raises(InputError, match="cannot be written"):
        log.flush()
    assert (log.rows_written, log.rows_dropped) == (4, 1)
    assert sorted(log.read()["n"].tolist()) == [1, 2, 3, 4]
    log.close()


def test_times_are_microseconds_and_nanoseconds_are_never_cut_silently(tmp_path):
    exact = pd.Series(pd.to_datetime(["2026-05-01T10:00:00.123456Z"])).dt.as_unit("ns")
    cut = pd.Series([pd.Timestamp("2026-05-01T10:00:00.123456789Z")]).dt.as_unit("ns")
    log = PredictionLog(tmp_path / "log")
    log.append(pd.DataFrame({"event": exact, "timestamp": exact}))
    with pytest.raises(InputError, match=r"'event' holds times with nanoseconds.*floor"):
        log.append(pd.DataFrame({"event": cut, "timestamp": exact}))
    with pytest.raises(InputError, match="'event' holds times with nanoseconds"):
        log.append({"event": cut[0]})
    # the log's own time column is the log's to cut: it is kept to the microsecond
    log.append(pd.DataFrame({"event": exact, "timestamp": cut}))
    with pytest.raises(InputError, match="'when' holds times with nanoseconds"):
        log.add_labels({"request_id": "r1", "when": cut[0]})
    back = log.read()
    log.close()
    assert back["event"].tolist() == [exact[0], exact[0]]  # exact, restored at their unit
    assert str(back["event"].dtype) == "datetime64[ns, UTC]"
    assert back["timestamp"].tolist() == [exact[0], exact[0]]
    assert pq.read_schema(_data_files(tmp_path / "log")[0]).field("event").type.unit == "us"


def test_an_unknown_range_key_is_named(tmp_path):
    with PredictionLog(tmp_path / "log") as log:
        log.append({"x": 1, "timestamp": "2026-05-01T10:00Z"})
    path = str(tmp_path / "log")
    with pytest.raises(InputError, match=r"unknown log range key 'strat'.*start, end, last"):
        parse_log_source(f"{path}?strat=2026-05-01")
    with pytest.raises(InputError, match="'strat'"):
        mk.read_frame(f"{path}?start=2026-05-01&strat=2026-05-02")
    assert parse_log_source(f"{path}?start=2026-05-01&end=")[1:] == (
        pd.Timestamp("2026-05-01", tz="UTC"),
        None,
    )
    # a '?' in a path that is not a log is none of the log's business
    assert parse_log_source(str(tmp_path / "data?.parquet")) is None
