"""Report folders, atomic writes and the run index."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest

from monitorkit import store
from monitorkit.errors import InputError, OutputExistsError, ReportFormatError


def test_run_folders_are_unique_even_in_the_same_second(tmp_path):
    folders = [store.create_run_folder(tmp_path, "churn") for _ in range(50)]
    assert len(set(folders)) == 50
    assert all(store.is_run_id(f.name) for f in folders)
    assert all(f.parent == tmp_path.resolve() / "churn" for f in folders)


@pytest.mark.parametrize("bad", ["", "../escape", "a/b", ".hidden", "x" * 200, "a..b"])
def test_model_names_that_are_not_safe_folder_names_are_refused(tmp_path, bad):
    with pytest.raises(InputError, match="cannot be used as a report folder name"):
        store.create_run_folder(tmp_path, bad)


def test_atomic_write_never_replaces_an_existing_file(tmp_path):
    path = store.write_atomic(tmp_path / "a.txt", "first")
    with pytest.raises(FileExistsError):
        store.write_atomic(path, "second")
    assert path.read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]  # no temporary left behind
    store.write_atomic(path, b"third", replace=True)
    assert path.read_bytes() == b"third"


def test_index_lines_from_concurrent_writers_never_interleave(tmp_path):
    def write(worker: int) -> None:
        for i in range(50):
            store.append_index(tmp_path, {"worker": worker, "i": i, "pad": "x" * 5000})

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records = store.read_index(tmp_path)
    assert len(records) == 200
    assert sorted((r["worker"], r["i"]) for r in records) == [
        (w, i) for w in range(4) for i in range(50)
    ]


def test_corrupt_index_line_is_reported_with_its_number(tmp_path):
    store.append_index(tmp_path, {"run_id": "a"})
    with open(tmp_path / store.INDEX_NAME, "a") as f:
        f.write('{"run_id": "b", trunc\n')
    with pytest.raises(ReportFormatError, match="line 2 is not valid JSON"):
        store.read_index(tmp_path)


def test_list_models_and_read_summary(tmp_path):
    for name in ("a", "b", "not-a-model"):
        (tmp_path / name).mkdir()
    store.append_index(tmp_path / "b", {"run_id": "x"})
    store.append_index(tmp_path / "a", {"run_id": "y"})
    assert [p.name for p in store.list_models(tmp_path)] == ["a", "b"]
    store.write_json_atomic(tmp_path / "a" / store.SUMMARY_NAME, {"status": "succeeded"})
    assert store.read_summary(tmp_path / "a") == {"status": "succeeded"}
    with pytest.raises(InputError, match="not a report folder"):
        store.read_summary(tmp_path / "b")
    (tmp_path / "b" / store.SUMMARY_NAME).write_text("{")
    with pytest.raises(ReportFormatError):
        store.read_summary(tmp_path / "b")
    assert json.loads((tmp_path / "a" / store.SUMMARY_NAME).read_text())["status"] == "succeeded"


# ---- run ids that collide: a new, empty folder, never the first one's --------------------------


def _ids(monkeypatch, *ids: str) -> None:
    """Make store.new_run_id return ``ids`` in turn (run ids are random, so tests never see
    two runs ask for the same folder unless forced)."""
    sequence = iter(ids)
    monkeypatch.setattr(store, "new_run_id", lambda now=None: next(sequence))


def test_a_run_whose_id_collides_gets_a_new_empty_folder(tmp_path, monkeypatch, snapshot):
    """Guards against reusing an existing folder (mkdir(exist_ok=True), or returning the
    folder on FileExistsError): the second run would write into the first run's folder."""
    taken, fresh = "20260101T000000Z-aaaaaaaa", "20260101T000000Z-bbbbbbbb"
    _ids(monkeypatch, taken, taken, fresh)
    first = store.create_run_folder(tmp_path, "churn")
    store.write_json_atomic(first / store.SUMMARY_NAME, {"run": "first"})
    before = snapshot(first)
    second = store.create_run_folder(tmp_path, "churn")
    assert (first.name, second.name) == (taken, fresh)
    assert second.is_dir() and list(second.iterdir()) == []
    assert snapshot(first) == before
    assert sorted(p.name for p in first.parent.iterdir()) == [taken, fresh]


def test_a_run_id_that_always_collides_gives_up_without_touching_the_folder(
    tmp_path, monkeypatch, snapshot
):
    """Guards against a retry loop that ends by handing back the taken folder."""
    taken = "20260101T000000Z-aaaaaaaa"
    _ids(monkeypatch, *[taken] * 200)
    first = store.create_run_folder(tmp_path, "churn")
    (first / "run.log").write_text("first run\n")
    before = snapshot(tmp_path)
    with pytest.raises(RuntimeError, match="could not create a new run folder"):
        store.create_run_folder(tmp_path, "churn")
    assert snapshot(tmp_path) == before


def test_run_ids_are_utc_seconds_and_random_bits():
    """Guards against a stamp in local time (no astimezone) and a fixed or short random part."""
    berlin = dt.timezone(dt.timedelta(hours=2))
    run_id = store.new_run_id(dt.datetime(2026, 1, 1, 1, 30, 5, tzinfo=berlin))
    assert run_id.startswith("20251231T233005Z-") and store.is_run_id(run_id)
    ids = {store.new_run_id(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)) for _ in range(20)}
    assert len(ids) == 20 and all(store.is_run_id(i) for i in ids)
    assert not store.is_run_id("20260101T000000Z-aaaaaaa")  # 7 hex digits
    assert not store.is_run_id("20260101T000000-aaaaaaaa")  # no Z: not UTC


# ---- write_atomic never replaces a file unless asked -------------------------------------------


def test_write_atomic_refuses_an_existing_file_and_names_it(tmp_path):
    """Guards against replace defaulting to True, or os.replace used on the no-replace path."""
    path = store.write_json_atomic(tmp_path / "summary.json", {"run": 1})
    for attempt in (lambda: store.write_atomic(path, "x"), lambda: store.write_atomic(path, b"x")):
        with pytest.raises(OutputExistsError, match=str(path)):
            attempt()
    with pytest.raises(OutputExistsError):
        store.write_json_atomic(path, {"run": 2})
    assert json.loads(path.read_text()) == {"run": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]
    store.write_json_atomic(path, {"run": 2}, replace=True)
    assert json.loads(path.read_text()) == {"run": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_racing_writers_to_one_path_leave_exactly_one_complete_file(tmp_path):
    """Guards against a check-then-write (exists() then open()): two writers would both
    succeed and one would overwrite the other."""
    path = tmp_path / "report.html"
    barrier = threading.Barrier(8)
    outcomes: dict[int, str] = {}

    def write(worker: int) -> None:
        barrier.wait()
        try:
            store.write_atomic(path, f"writer {worker}\n" * 10_000)
            outcomes[worker] = "wrote"
        except OutputExistsError:
            outcomes[worker] = "refused"

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (winner,) = [w for w, outcome in outcomes.items() if outcome == "wrote"]
    assert len(outcomes) == 8
    assert path.read_text() == f"writer {winner}\n" * 10_000
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_a_write_that_fails_midway_leaves_neither_the_file_nor_a_temporary(tmp_path, monkeypatch):
    """Guards against writing to the final path directly, and against leaking the temporary
    file when the write itself fails (e.g. a full disk at fsync)."""

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        store.write_json_atomic(tmp_path / "summary.json", {"big": "x" * 100_000})
    assert list(tmp_path.iterdir()) == []


# ---- index.jsonl: a line whose writer died is never read, and is cut off -----------------------


def test_an_unfinished_last_index_line_is_skipped_and_cut_by_the_next_append(tmp_path):
    """Guards against appends that leave a killed writer's half line in place: read_index
    would fail, and the next run's line would be glued onto the half one and lost."""
    store.append_index(tmp_path, {"run_id": "a"})
    with open(tmp_path / store.INDEX_NAME, "ab") as f:
        f.write(b'{"run_id":"b","figures":{"drift.share')  # a writer killed mid-line
    assert store.read_index(tmp_path) == [{"run_id": "a"}]
    store.append_index(tmp_path, {"run_id": "c"})
    assert store.read_index(tmp_path) == [{"run_id": "a"}, {"run_id": "c"}]
    assert (tmp_path / store.INDEX_NAME).read_bytes() == b'{"run_id":"a"}\n{"run_id":"c"}\n'


def test_an_unfinished_line_longer_than_a_block_is_cut_whole(tmp_path):
    """Guards against searching only the last block for the line's start."""
    store.append_index(tmp_path, {"run_id": "a"})
    with open(tmp_path / store.INDEX_NAME, "ab") as f:
        f.write(b'{"run_id":"b","pad":"' + b"x" * 200_000)
    store.append_index(tmp_path, {"run_id": "c"})
    assert (tmp_path / store.INDEX_NAME).read_bytes() == b'{"run_id":"a"}\n{"run_id":"c"}\n'
    (tmp_path / store.INDEX_NAME).write_bytes(b'{"run_id":"torn-from-the-start","pad":"xx')
    assert store.read_index(tmp_path) == []
    store.append_index(tmp_path, {"run_id": "d"})
    assert (tmp_path / store.INDEX_NAME).read_bytes() == b'{"run_id":"d"}\n'


def test_a_complete_last_line_without_its_newline_is_kept(tmp_path):
    """Guards against dropping a whole record (e.g. a hand-edited file that lost its final
    newline) as if it were unfinished."""
    (tmp_path / store.INDEX_NAME).write_bytes(b'{"run_id":"a"}\n{"run_id":"b"}')
    assert store.read_index(tmp_path) == [{"run_id": "a"}, {"run_id": "b"}]
    store.append_index(tmp_path, {"run_id": "c"})
    assert [r["run_id"] for r in store.read_index(tmp_path)] == ["a", "b", "c"]


def test_a_corrupt_line_before_the_last_still_names_its_number(tmp_path):
    """Guards against skipping every line that fails to parse (only the unfinished last one
    may be skipped)."""
    (tmp_path / store.INDEX_NAME).write_bytes(b'{"run_id":"a"}\n{"run_id": trunc\n{"run_id":"c"}\n')
    with pytest.raises(ReportFormatError, match="line 2 is not valid JSON"):
        store.read_index(tmp_path)


def test_an_unfinished_line_after_many_complete_ones_cuts_only_itself(tmp_path):
    """Guards against finding the first newline of the last block instead of the last one,
    and against losing the block's offset (start = newline + 1): both cut complete lines."""
    for i in range(2_000):  # about 60 kB of complete lines: more than one block
        store.append_index(tmp_path, {"run_id": f"run-{i:04d}", "pad": "x" * 10})
    whole = (tmp_path / store.INDEX_NAME).read_bytes()
    with open(tmp_path / store.INDEX_NAME, "ab") as f:
        f.write(b'{"run_id":"torn","pad":"' + b"y" * 20_000)
    store.append_index(tmp_path, {"run_id": "next"})
    assert (tmp_path / store.INDEX_NAME).read_bytes() == whole + b'{"run_id":"next"}\n'


@pytest.mark.parametrize("torn", [b"{", b'{"r', b"x" * (2**16 - 1), b"x" * 2**16])
def test_an_unfinished_line_of_any_length_is_cut(tmp_path, torn):
    """Guards against off-by-one errors at the ends: a torn line of one byte (the byte before
    it is a newline), and one whose line start falls exactly on a block boundary."""
    store.append_index(tmp_path, {"run_id": "a"})
    with open(tmp_path / store.INDEX_NAME, "ab") as f:
        f.write(torn)
    assert store.read_index(tmp_path) == [{"run_id": "a"}]
    store.append_index(tmp_path, {"run_id": "b"})
    assert (tmp_path / store.INDEX_NAME).read_bytes() == b'{"run_id":"a"}\n{"run_id":"b"}\n'


def test_blank_and_undecodable_lines_in_the_index(tmp_path):
    """Guards against a blank line ending the read (break instead of continue), and against a
    line that is not UTF-8 escaping as UnicodeDecodeError instead of naming its number."""
    (tmp_path / store.INDEX_NAME).write_bytes(b'{"run_id":"a"}\n\n{"run_id":"b"}\n')
    assert store.read_index(tmp_path) == [{"run_id": "a"}, {"run_id": "b"}]
    (tmp_path / store.INDEX_NAME).write_bytes(b'{"run_id":"a"}\n{"run_id":"\xff"}\n')
    with pytest.raises(ReportFormatError, match=r"line 2 is not valid JSON \(invalid start byte"):
        store.read_index(tmp_path)


def test_values_json_cannot_hold_are_written_as_strings(tmp_path):
    """Guards against dropping ``default=str``: a Path or a date-time in a summary or an index
    record would make the run crash at its very end."""
    when = dt.datetime(2026, 3, 1, 6, 0, tzinfo=dt.timezone.utc)
    record = {"input": tmp_path / "today.csv", "when": when}
    path = store.write_json_atomic(tmp_path / store.SUMMARY_NAME, record)
    expected = {"input": str(tmp_path / "today.csv"), "when": str(when)}
    assert json.loads(path.read_text()) == expected
    store.append_index(tmp_path, record)
    assert store.read_index(tmp_path) == [expected]


def test_run_ids_are_utc_whatever_the_machines_time_zone(monkeypatch):
    """Guards against converting to the local time zone (astimezone() without UTC): on a
    machine set to UTC that bug is invisible."""
    import time

    if not hasattr(time, "tzset"):
        pytest.skip("needs time.tzset")
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        berlin = dt.timezone(dt.timedelta(hours=2))
        run_id = store.new_run_id(dt.datetime(2026, 1, 1, 1, 30, 5, tzinfo=berlin))
        assert run_id.startswith("20251231T233005Z-")
        now = dt.datetime.now(dt.timezone.utc)
        stamp = dt.datetime.strptime(store.new_run_id()[:16], "%Y%m%dT%H%M%SZ")
        assert abs(stamp.replace(tzinfo=dt.timezone.utc) - now) < dt.timedelta(minutes=1)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_json_files_that_cannot_be_read_name_what_they_were_meant_to_be(tmp_path):
    """Guards against read_json_file losing the name, the place of the error or the fix."""
    path = tmp_path / "baseline.json"
    path.write_text('{"kind": "baseline",\n "profile": tru')
    with pytest.raises(ReportFormatError, match="baseline .*baseline.json.* line 2.*; capture it"):
        store.read_json_file(path, "baseline", "capture it again")
    with pytest.raises(ReportFormatError, match=r"truncated\.$"):
        store.read_json_file(path, "baseline")
    with pytest.raises(ReportFormatError, match="cannot read baseline .*missing.json"):
        store.read_json_file(tmp_path / "missing.json", "baseline")
    path.write_text('{"kind": "baseline"}')
    assert store.read_json_file(path, "baseline") == {"kind": "baseline"}
    (tmp_path / store.SUMMARY_NAME).write_text("{")
    with pytest.raises(ReportFormatError, match=r"summary\.json is not valid JSON"):
        store.read_summary(tmp_path)


@pytest.mark.parametrize("length", [1, 2**16 + 1])
def test_an_index_that_is_one_unfinished_line_is_cut_to_nothing(tmp_path, length):
    """Guards against stopping the search for the line's start one byte early (a first byte
    left behind would glue itself to the next run's line)."""
    (tmp_path / store.INDEX_NAME).write_bytes(b"{" + b"x" * (length - 1))
    assert store.read_index(tmp_path) == []
    store.append_index(tmp_path, {"run_id": "a"})
    assert (tmp_path / store.INDEX_NAME).read_bytes() == b'{"run_id":"a"}\n'


def test_a_write_that_cannot_start_raises_its_own_error(tmp_path, monkeypatch):
    """Guards against the clean-up hiding the real error: when the temporary file could not
    even be created, removing it must not raise FileNotFoundError in its place."""

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "open", disk_full, raising=False)
    with pytest.raises(OSError, match="No space left") as raised:
        store.write_atomic(tmp_path / "summary.json", "{}")
    assert not isinstance(raised.value, FileNotFoundError)
    assert list(tmp_path.iterdir()) == []
