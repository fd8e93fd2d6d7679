"""One input door: every source reads to the same frame, batch by batch or whole; empty CSV
cells are missing on every path; folders, globs, hive partitions and JSON lines reach drift,
profiles and baselines; the reference adapter; and the errors for sources that cannot be read."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import monitorkit as mk
from monitorkit import schema
from monitorkit.errors import DataSourceError, InputError
from monitorkit.reference import Reference, as_reference, match_hashing
from monitorkit.schema import MISSING_STRINGS, iter_batches


@pytest.fixture
def frame(small_frames) -> pd.DataFrame:
    """The reference of small_frames with missing values in a numeric and a text column."""
    reference = small_frames[0].copy()
    reference["income"] = reference["income"].mask(reference.index % 7 == 0)
    reference["region"] = reference["region"].mask(reference.index % 11 == 0)
    return reference


def _same_values(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Equal values, column by column (dtypes may differ: int64 vs float64, ns vs us)."""
    assert sorted(left.columns) == sorted(right.columns)
    right = right[list(left.columns)]
    pd.testing.assert_frame_equal(
        left.reset_index(drop=True), right.reset_index(drop=True), check_dtype=False
    )


def _write_every_kind(frame: pd.DataFrame, folder) -> dict[str, object]:
    """The same table as every kind of source monitorkit reads."""
    folder.mkdir(exist_ok=True)
    halves = (frame.iloc[:250], frame.iloc[250:])
    frame.to_parquet(folder / "one.parquet")
    frame.to_csv(folder / "one.csv", index=False)
    frame.to_csv(folder / "one.csv.gz", index=False)
    frame.to_csv(folder / "one.tsv", index=False, sep="\t")
    frame.to_json(folder / "one.jsonl", orient="records", lines=True, date_format="iso")
    with gzip.open(folder / "one.ndjson.gz", "wt") as handle:
        handle.write(frame.to_json(orient="records", lines=True, date_format="iso"))
    for name in ("parquet_parts", "csv_parts", "jsonl_parts"):
        (folder / name).mkdir()
    for i, half in enumerate(halves):
        half.to_parquet(folder / "parquet_parts" / f"{i}.parquet")
        half.to_csv(folder / "csv_parts" / f"{i}.csv", index=False)
        half.to_json(
            folder / "jsonl_parts" / f"{i}.jsonl", orient="records", lines=True, date_format="iso"
        )
    sources = {
        name: folder / name
        for name in ("one.parquet", "one.csv", "one.csv.gz", "one.tsv", "one.jsonl")
    }
    sources["one.ndjson.gz"] = str(folder / "one.ndjson.gz")
    sources["parquet folder"] = folder / "parquet_parts"
    sources["parquet glob"] = str(folder / "parquet_parts" / "*.parquet")
    sources["csv folder"] = folder / "csv_parts"
    sources["csv glob"] = str(folder / "csv_parts" / "*.csv")
    sources["jsonl glob"] = str(folder / "jsonl_parts" / "**" / "*.jsonl")
    sources["pyarrow"] = pa.Table.from_pandas(frame, preserve_index=False)
    return sources


# ---- every source, one frame ----------------------------------------------------------------


def test_every_source_kind_reads_to_the_same_frame(tmp_path, frame):
    sources = _write_every_kind(frame, tmp_path / "data")
    for name, source in sources.items():
        read = mk.read_frame(source)
        _same_values(frame, read)
        assert pd.api.types.is_datetime64_any_dtype(read["timestamp"]), name
        assert read["income"].isna().sum() == frame["income"].isna().sum(), name


def test_batches_concatenate_to_the_frame_read_whole(tmp_path, frame):
    sources = _write_every_kind(frame, tmp_path / "data")
    sources["dataframe"] = frame
    for name, source in sources.items():
        batches = list(iter_batches(source, batch_rows=97))
        assert all(0 < len(batch) <= 97 for batch in batches), name
        assert sum(len(batch) for batch in batches) == len(frame), name
        _same_values(mk.read_frame(source), pd.concat(batches, ignore_index=True))


def test_polars_frames_and_lazy_frames_read_like_pandas(frame):
    pl = pytest.importorskip("polars")
    table = pl.from_pandas(frame)
    for source in (table, table.lazy()):
        _same_values(frame, mk.read_frame(source))
        assert sum(len(b) for b in iter_batches(source, batch_rows=100)) == len(frame)


# ---- empty cells are missing values on every path -------------------------------------------


def _titanic_like(rows: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cabins = np.where(rng.random(rows) < 0.77, "", rng.choice(["C85", "C123", "E46", "B28"], rows))
    embarked = np.where(rng.random(rows) < 0.02, "", rng.choice(["S", "C", "Q"], rows))
    ages = np.where(rng.random(rows) < 0.2, "", rng.integers(1, 80, rows).astype(str))
    return pd.DataFrame(
        {
            "PassengerId": np.arange(1, rows + 1),
            "Survived": rng.integers(0, 2, rows),
            "Pclass": rng.choice([1, 2, 3], rows),
            "Name": [f"Passenger, Mr. Number {i}" for i in range(rows)],
            "Sex": rng.choice(["male", "female"], rows),
            "Age": ages,
            "Fare": rng.gamma(2.0, 15.0, rows).round(4),
            "Cabin": cabins,
            "Embarked": embarked,
        }
    )


def test_empty_csv_cells_are_missing_on_the_profile_path_too(tmp_path):
    path = tmp_path / "titanic.csv"
    _titanic_like().to_csv(path, index=False)
    by_pandas = pd.read_csv(path)
    assert by_pandas["Cabin"].isna().sum() > 250 and by_pandas["Embarked"].isna().sum() > 0

    streamed = mk.profile(path, progress=False)
    in_memory = mk.profile(by_pandas)
    assert {c: p.kind for c, p in streamed.columns.items()} == {
        c: p.kind for c, p in in_memory.columns.items()
    }
    for column in ("Cabin", "Embarked", "Age"):
        assert streamed[column].missing == by_pandas[column].isna().sum(), column
        assert streamed[column].missing == in_memory[column].missing, column
    for column in ("Cabin", "Embarked", "Sex"):
        assert "" not in streamed[column].counts, column
        assert streamed[column].counts == in_memory[column].counts, column
    whole = mk.read_frame(path)
    pd.testing.assert_frame_equal(whole.isna(), by_pandas.isna())


def test_a_baseline_of_a_csv_does_not_drift_from_the_same_csv(tmp_path):
    path = tmp_path / "titanic.csv"
    _titanic_like().to_csv(path, index=False)
    baseline = mk.Baseline.from_frame(path, spec=mk.ColumnSpec(target="Survived"))
    drift = mk.DriftReport(baseline, str(path))  # current streamed through the profile path
    assert drift.severity != mk.Severity.CRITICAL, drift.to_frame()
    assert drift.drifted_columns == []
    table = drift.to_frame().set_index("column")
    assert (table["reference_missing_rate"] == table["current_missing_rate"]).all()
    assert table.loc["Cabin", "current_missing_rate"] > 0.5


def test_every_missing_token_pandas_knows_is_missing(tmp_path):
    tokens = [t for t in MISSING_STRINGS if t]
    path = tmp_path / "tokens.csv"
    path.write_text("word,number\n" + "".join(f"{t},{i}\n" for i, t in enumerate(tokens)) + "x,1\n")
    expected = pd.read_csv(path)
    assert expected["word"].isna().sum() == len(tokens)  # the list is pandas' own
    for read in (mk.read_frame(path), pd.concat(iter_batches(path, batch_rows=3))):
        assert read["word"].isna().sum() == len(tokens)
        assert read["word"].dropna().tolist() == ["x"]


def test_later_csv_blocks_never_contradict_the_first(tmp_path, monkeypatch):
    # Tiny blocks: the streaming reader sees the file in many pieces, as it sees a big file.
    monkeypatch.setattr(schema, "_CSV_BLOCK_BYTES", 256)
    rows = 600
    values = np.arange(rows, dtype=float).astype(object)
    values[450] = "USD 12"  # a corrupt cell far from the first block
    sparse = np.full(rows, "", dtype=object)
    sparse[500:] = "late"  # a column empty in the first blocks
    path = tmp_path / "log.csv"
    # "n" counts down: an increasing unique integer would be read as a row-number id.
    pd.DataFrame({"amount": values, "sparse": sparse, "n": np.arange(rows)[::-1]}).to_csv(
        path, index=False
    )
    batches = list(iter_batches(path, batch_rows=10_000))
    assert len(batches) > 10
    # Kinds come from the first batch, where "sparse" is empty: it is declared.
    spec = mk.ColumnSpec(numerical=["amount"], categorical=["sparse"])
    p = mk.profile(path, spec=spec, progress=False)
    assert (p["amount"].count, p["amount"].invalid, p["amount"].missing) == (rows - 1, 1, 0)
    assert p["sparse"].missing == 500 and p["sparse"].counts == {"late": 100}
    assert p["n"].maximum == rows - 1


# ---- folders, globs, hive partitions --------------------------------------------------------


def _hive_folder(frame: pd.DataFrame, root) -> None:
    for (day, region), part in frame.assign(day=frame["timestamp"].dt.strftime("%Y-%m-%d")).groupby(
        ["day", "region"], dropna=False
    ):
        if pd.isna(region):
            region = "__HIVE_DEFAULT_PARTITION__"
        folder = root / f"date={day}" / f"region={region}"
        folder.mkdir(parents=True, exist_ok=True)
        part.drop(columns=["day", "region"]).to_parquet(folder / "part-0.parquet")
    (root / "_SUCCESS").write_text("")  # written by Spark; not data


def test_hive_partitioned_folders_add_their_keys_as_columns(tmp_path, frame):
    root = tmp_path / "logs"
    _hive_folder(frame, root)
    expected = frame.assign(date=frame["timestamp"].dt.tz_convert(None).dt.normalize())
    for source in (root, str(root / "**" / "*.parquet")):
        read = mk.read_frame(source).sort_values("request_id", ignore_index=True)
        assert set(read.columns) == set(expected.columns)
        assert pd.api.types.is_datetime64_any_dtype(read["date"])
        _same_values(expected.sort_values("request_id", ignore_index=True), read)
        batches = pd.concat(iter_batches(source, batch_rows=50), ignore_index=True)
        assert set(batches.columns) == set(expected.columns)
    profiled = mk.profile(root, progress=False)
    assert profiled["region"].counts == frame["region"].value_counts().to_dict()
    assert profiled["region"].missing == frame["region"].isna().sum()


def test_a_glob_of_logs_is_compared_with_a_baseline_that_keeps_a_sample(tmp_path):
    scenario = mk.datasets.load_scenario("corrupted_inputs", n_rows=6_000)
    folder = tmp_path / "logs"
    folder.mkdir()
    for i in range(3):
        scenario.current.iloc[i * 2_000 : (i + 1) * 2_000].to_parquet(folder / f"{i}.parquet")
    glob = str(folder / "*.parquet")
    for sample_rows in (3_000, None):
        baseline = mk.Baseline.from_frame(scenario.reference, sample_rows=sample_rows)
        from_files = mk.DriftReport(baseline, glob)
        in_memory = mk.DriftReport(baseline, scenario.current)
        assert from_files.result.current_rows == 6_000
        assert from_files.drifted_columns == in_memory.drifted_columns
        files, memory = (r.to_frame().set_index("column") for r in (from_files, in_memory))
        pd.testing.assert_series_equal(files["current_count"], memory["current_count"])
        assert from_files.drifted_columns  # the corrupted inputs are found
    assert from_files.result.multivariate.skipped  # no sample: no rows for PCA


def test_a_folder_against_json_lines_equals_the_frames(tmp_path):
    scenario = mk.datasets.load_scenario("seasonal_retail", n_rows=4_000)
    folder = tmp_path / "reference"
    folder.mkdir()
    scenario.reference.iloc[:2_500].to_parquet(folder / "a.parquet")
    scenario.reference.iloc[2_500:].to_parquet(folder / "b.parquet")
    current = tmp_path / "current.jsonl"
    scenario.current.to_json(
        current, orient="records", lines=True, date_format="iso", double_precision=15
    )
    from_files = mk.DriftReport(str(folder) + "/", current, multivariate=False)
    from_frames = mk.DriftReport(scenario.reference, scenario.current, multivariate=False)
    files, frames = (r.to_frame().set_index("column") for r in (from_files, from_frames))
    assert list(files.index) == list(frames.index)
    pd.testing.assert_series_equal(files["kind"], frames["kind"])
    tested = frames["skipped"].isna()
    for column in ("statistic", "p_value", "effect_size"):
        np.testing.assert_allclose(
            files.loc[tested, column].astype(float), frames.loc[tested, column].astype(float)
        )
    assert from_files.drifted_columns == from_frames.drifted_columns


def test_csv_globs_and_json_lines_make_the_same_baseline_and_profile(tmp_path, frame):
    sources = _write_every_kind(frame, tmp_path / "data")
    expected = mk.Baseline.from_frame(frame, spec=mk.ColumnSpec(target="label"))
    for name in ("csv glob", "one.jsonl"):
        baseline = mk.Baseline.from_frame(sources[name], spec=mk.ColumnSpec(target="label"))
        assert baseline.profile.rows == expected.profile.rows, name
        assert baseline.metrics == pytest.approx(expected.metrics), name
        for column, summary in expected.profile.columns.items():
            other = baseline.profile[column]
            assert (other.kind, other.count, other.missing) == (
                summary.kind,
                summary.count,
                summary.missing,
            ), (name, column)
        streamed = mk.profile(sources[name], spec=expected.spec, batch_rows=128, progress=False)
        assert streamed["region"].counts == expected.profile["region"].counts, name


# ---- errors that name the path, what was found and the fix ----------------------------------


def test_a_glob_that_matches_nothing_says_what_is_there(tmp_path):
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "2026-01.csv").write_text("a\n1\n")
    with pytest.raises(DataSourceError) as error:
        mk.read_frame(str(tmp_path / "logs" / "*.parquet"), name="current")
    message = str(error.value)
    assert message.startswith("current: no parquet files match")
    assert "'2026-01.csv'" in message and "'**'" in message
    with pytest.raises(DataSourceError, match="folder '.*nowhere' does not exist"):
        mk.profile(str(tmp_path / "nowhere" / "*.csv"))


def test_an_unknown_extension_lists_the_supported_ones(tmp_path):
    for file_name in ("data.xlsx", "data.json"):
        path = tmp_path / file_name
        path.write_text("{}")
        with pytest.raises(DataSourceError) as error:
            mk.read_frame(path, name="reference")
        message = str(error.value)
        assert f"cannot tell the format of '{path}'" in message
        for suffix in (".parquet", ".csv", ".tsv", ".jsonl", ".ndjson", ".gz"):
            assert suffix in message
    assert "renamed to .jsonl" in message  # the .json case explains itself


def test_an_unreadable_file_in_a_glob_is_named(tmp_path):
    frame = pd.DataFrame({"x": np.arange(10.0)})
    for i in range(3):
        frame.to_parquet(tmp_path / f"part-{i}.parquet")
    (tmp_path / "part-1.parquet").write_bytes(b"not parquet at all")
    glob = str(tmp_path / "part-*.parquet")
    for read in (mk.read_frame, mk.profile, lambda s: list(iter_batches(s))):
        with pytest.raises(
            DataSourceError, match=r"could not read '.*part-1\.parquet' as a parquet"
        ):
            read(glob)


def test_folders_of_mixed_or_no_data_files_are_refused(tmp_path):
    mixed, empty = tmp_path / "mixed", tmp_path / "empty"
    mixed.mkdir()
    empty.mkdir()
    pd.DataFrame({"x": [1]}).to_parquet(mixed / "a.parquet")
    pd.DataFrame({"x": [1]}).to_csv(mixed / "b.csv", index=False)
    (empty / "notes.txt").write_text("hello")
    with pytest.raises(DataSourceError, match=r"several formats \(1 parquet, 1 CSV\).*glob"):
        mk.read_frame(mixed)
    with pytest.raises(DataSourceError, match=r"holds no data files \(it holds: 'notes.txt'\)"):
        mk.read_frame(empty)


def test_a_missing_file_suggests_a_close_name(tmp_path):
    pd.DataFrame({"x": [1]}).to_parquet(tmp_path / "current.parquet")
    with pytest.raises(DataSourceError, match=r"no such file.*did you mean '.*current.parquet'"):
        mk.read_frame(tmp_path / "curent.parquet")


def test_source_errors_come_with_the_call_not_the_first_batch(tmp_path):
    with pytest.raises(DataSourceError, match="no such file"):
        iter_batches(tmp_path / "missing.csv")
    with pytest.raises(InputError, match="batch_rows must be a positive integer"):
        iter_batches(pd.DataFrame({"x": [1]}), batch_rows=0)


def test_an_input_without_rows_gives_one_empty_batch_with_its_columns(tmp_path):
    path = tmp_path / "header_only.csv"
    path.write_text("a,b\n")
    batches = list(iter_batches(path))
    assert len(batches) == 1 and list(batches[0].columns) == ["a", "b"] and batches[0].empty
    with pytest.raises(mk.errors.SchemaError, match=r"has no rows \(columns: 'a', 'b'\)"):
        mk.profile(path)


# ---- the reference adapter ------------------------------------------------------------------


def test_as_reference_gives_rows_profile_and_baseline(tmp_path, frame):
    frame.to_parquet(tmp_path / "ref.parquet")
    from_path = as_reference(str(tmp_path / "*.parquet"))
    assert from_path.has_rows and from_path.profile is None and from_path.rows == len(frame)
    with_sample = mk.Baseline.from_frame(frame, sample_rows=100)
    side = as_reference(with_sample, name="current")
    assert side.name == "current" and side.has_rows and len(side.frame) == 100
    assert side.profile is with_sample.profile and side.baseline is with_sample
    without = as_reference(mk.Baseline.from_frame(frame, spec=mk.ColumnSpec(target="label")))
    assert not without.has_rows and without.rows == len(frame)
    assert without.column_spec == mk.ColumnSpec(target="label")
    with pytest.raises(InputError, match="needs the reference rows.*sample_rows"):
        without.require_rows("the multivariate check")
    assert as_reference(without, name="reference") is without
    assert isinstance(as_reference(mk.profile(frame)), Reference)


def test_hashing_is_matched_or_refused(frame):
    hashed = as_reference(mk.Baseline.from_frame(frame, hash_categories=True))
    rows = as_reference(frame, name="current")
    reference, current = match_hashing(hashed, rows)
    assert reference is hashed and current.hash_salt == hashed.hash_salt
    assert set(current.frame["region"].dropna()) == set(hashed.profile["region"].counts)
    raw_profile = as_reference(mk.profile(frame), name="current")
    with pytest.raises(InputError, match="current is a profile of raw values"):
        match_hashing(hashed, raw_profile)
    other = as_reference(mk.Baseline.from_frame(frame, hash_categories=True), name="current")
    with pytest.raises(InputError, match="different salts"):
        match_hashing(hashed, other)


def test_rows_against_a_baseline_on_the_current_side(frame, small_frames):
    baseline = mk.Baseline.from_frame(small_frames[1])
    drift = mk.DriftReport(frame, baseline)  # rows profiled with the baseline's kinds
    assert drift.result.current_rows == len(small_frames[1])
    assert drift.result.reference_rows == len(frame)
    assert {c.column for c in drift.columns} >= {"age", "income", "region"}


def test_the_overview_summarises_a_baseline_from_its_profile(frame, small_frames):
    baseline = mk.Baseline.from_frame(frame)
    overview = mk.DataOverview.from_frames(baseline, small_frames[1])
    assert overview["reference"].rows == len(frame)
    missing = frame["income"].isna().sum() + frame["region"].isna().sum()
    assert overview["reference"].missing_cells == missing
    assert overview["reference"].start is None
    assert overview["current"].rows == len(small_frames[1])


def test_a_saved_baseline_file_is_a_reference_on_either_side(tmp_path, frame, small_frames):
    baseline = mk.Baseline.from_frame(frame)
    path = baseline.save(tmp_path / "baseline.json")
    current = small_frames[1]
    by_path = mk.DriftReport(str(path), current).to_frame()
    by_object = mk.DriftReport(baseline, current).to_frame()
    pd.testing.assert_frame_equal(by_path, by_object)
    assert mk.DriftReport(current, path).result.current_rows == len(frame)
    data = tmp_path / "rows.json"
    data.write_text('[{"x": 1}]')
    with pytest.raises(DataSourceError, match=r"'.*rows.json' is not a saved baseline.*\.jsonl"):
        as_reference(data)
