"""Report folders, atomic writes and the run index."""

from __future__ import annotations

import json
import threading

import pytest

from monitorkit import store
from monitorkit.errors import InputError, ReportFormatError


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
