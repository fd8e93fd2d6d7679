"""Reading inputs, column kinds and roles, and the errors for bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import monitorkit as mk
from monitorkit.errors import ColumnSpecError, DataSourceError, MonitorkitError, SchemaError
from monitorkit.schema import infer_kind, resolve_spec


def test_reads_dataframe_parquet_csv_jsonl_directory_and_arrow(tmp_path, small_frames):
    reference, _ = small_frames
    reference.to_parquet(tmp_path / "a.parquet")
    reference.to_csv(tmp_path / "a.csv", index=False)
    reference.to_csv(tmp_path / "a.csv.gz", index=False)
    reference.to_json(tmp_path / "a.jsonl", orient="records", lines=True, date_format="iso")
    (tmp_path / "parts").mkdir()
    reference.iloc[:300].to_parquet(tmp_path / "parts" / "0.parquet")
    reference.iloc[300:].to_parquet(tmp_path / "parts" / "1.parquet")

    assert mk.read_frame(reference) is reference
    pd.testing.assert_frame_equal(mk.read_frame(tmp_path / "a.parquet"), reference)
    from_csv = mk.read_frame(str(tmp_path / "a.csv"))
    assert pd.api.types.is_datetime64_any_dtype(from_csv["timestamp"])
    assert from_csv["timestamp"].iloc[5] == reference["timestamp"].iloc[5]
    assert mk.read_frame(tmp_path / "a.csv.gz").shape == reference.shape
    assert mk.read_frame(tmp_path / "a.jsonl").shape == reference.shape
    assert mk.read_frame(tmp_path / "parts").shape == reference.shape
    assert mk.read_frame(pa.Table.from_pandas(reference)).shape == reference.shape


def test_polars_frames_are_accepted_when_installed(small_frames):
    pl = pytest.importorskip("polars")
    assert mk.read_frame(pl.from_pandas(small_frames[0])).shape == small_frames[0].shape


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"a": []}), r"current has no rows \(columns: 'a'\)"),
        (pd.DataFrame(index=range(3)), "current has no columns"),
        (pd.DataFrame([[1, 2]], columns=["a", "a"]), "duplicate column names: 'a'"),
        (
            pd.DataFrame([[1, 2]], columns=["a", 0]),
            r"non-string column name\(s\): 0.*astype\(str\)",
        ),
    ],
)
def test_bad_frames_raise_schema_errors_naming_the_problem(frame, message):
    with pytest.raises(SchemaError, match=message):
        mk.read_frame(frame, name="current")


def test_unreadable_inputs_raise_data_source_errors(tmp_path):
    with pytest.raises(DataSourceError, match="no such file or directory: '.*missing.parquet'"):
        mk.read_frame(tmp_path / "missing.parquet", name="reference")
    corrupt = tmp_path / "corrupt.parquet"
    corrupt.write_bytes(b"this is not parquet")
    with pytest.raises(DataSourceError, match="reference: could not read '.*corrupt.parquet'"):
        mk.read_frame(corrupt, name="reference")
    unknown = tmp_path / "data.xlsx"
    unknown.write_bytes(b"PK")
    with pytest.raises(DataSourceError, match="cannot tell the format"):
        mk.read_frame(unknown)
    with pytest.raises(DataSourceError, match="got|expected a pandas DataFrame"):
        mk.read_frame([1, 2, 3])
    with pytest.raises(DataSourceError, match="Series"):
        mk.read_frame(pd.Series([1, 2]))


def test_errors_are_monitorkit_errors_and_value_errors():
    with pytest.raises(MonitorkitError):
        mk.read_frame(pd.DataFrame({"a": []}))
    assert issubclass(SchemaError, ValueError)


def test_roles_and_kinds_are_inferred_with_reasons(small_frames):
    reference, current = small_frames
    resolved = mk.ColumnSpec().resolve(reference, current)
    assert (resolved.target, resolved.prediction, resolved.timestamp, resolved.id) == (
        "label",
        "score",
        "timestamp",
        "request_id",
    )
    assert resolved["age"].kind == "numeric" and resolved["region"].kind == "categorical"
    assert resolved["label"].kind == "boolean"
    assert resolved.features == ["age", "income", "region"]
    assert "named 'label'" in resolved["label"].reason
    assert all(info.source == "inferred" for info in resolved.columns)
    table = resolved.to_frame()
    assert list(table.columns) == ["column", "kind", "role", "source", "reason"]
    assert "inferred: named 'score'" in str(resolved)


def test_declared_roles_win_over_inference(small_frames):
    reference, _ = small_frames
    spec = mk.ColumnSpec(
        target="region", prediction="income", categorical=["age"], segments=["region"]
    )
    resolved = spec.resolve(reference)
    assert resolved.target == "region" and resolved["region"].source == "declared"
    assert resolved.prediction == "income"
    assert resolved["age"].kind == "categorical" and resolved["age"].source == "declared"
    assert resolved["region"].segment
    # "label" and "score" are still plain columns: their roles were taken by declaration
    assert resolved["label"].role == "feature" and resolved["score"].role == "feature"


def test_declared_column_that_does_not_exist_is_named_with_close_matches(small_frames):
    reference, _ = small_frames
    with pytest.raises(ColumnSpecError, match=r"names 'incme' as numerical.*has: 'income'"):
        mk.ColumnSpec(numerical=["incme"]).resolve(reference)
    with pytest.raises(ColumnSpecError, match="both categorical and numerical"):
        mk.ColumnSpec(categorical=["a"], numerical=["a"])
    with pytest.raises(ColumnSpecError, match="declared both as target and as prediction"):
        mk.ColumnSpec(target="score", prediction="score").resolve(reference)
    with pytest.raises(ColumnSpecError, match="must be a column name"):
        mk.ColumnSpec(target=3)


def test_spec_round_trips_and_ignores_columns(small_frames):
    reference, _ = small_frames
    spec = mk.ColumnSpec(target="label", segments=["region"], ignore=["income"])
    assert mk.ColumnSpec.from_dict(spec.to_dict()) == spec
    resolved = spec.resolve(reference)
    assert "income" not in resolved
    assert mk.ResolvedSpec.from_dict(resolved.to_dict()) == resolved


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (pd.Series([True, False, True], name="x"), "boolean"),
        (pd.Series([0, 1, 1, 0], name="x"), "boolean"),
        (pd.Series(["yes", "no", "Yes"], name="x"), "boolean"),
        (
            pd.Series(pd.date_range("2026-01-01", periods=3, tz="Europe/Paris"), name="x"),
            "datetime",
        ),
        (pd.Series(["2026-01-01T10:00:00Z", "2026-01-02T11:30:00Z"], name="x"), "datetime"),
        (pd.Series([1.5, 2.5, np.nan], name="x"), "numeric"),
        (pd.Series(["1.5", "2", "3.25"] * 40 + ["USD 12"], name="x"), "numeric"),
        (pd.Series(["a", "b", "a", "c"], name="x"), "categorical"),
        (pd.Series(pd.Categorical(["a", "b"]), name="x"), "categorical"),
        (pd.Series(range(100), name="customer_id"), "id"),
        (pd.Series([f"{i:032x}" for i in range(100)], name="x"), "id"),
        (
            pd.Series(
                [f"the customer wrote a long review number {i} about it" for i in range(60)],
                name="x",
            ),
            "text",
        ),
        (pd.Series([None, None], name="x", dtype=object), "categorical"),
    ],
)
def test_kind_inference_rules(values, kind):
    assert infer_kind(values)[0] == kind


def test_mixed_numbers_and_strings_are_not_silently_numeric():
    mixed = pd.Series(["1", "2", "three", "four", "5"] * 10, name="x")
    assert infer_kind(mixed)[0] == "categorical"


def test_resolve_spec_rejects_non_specs(small_frames):
    with pytest.raises(ColumnSpecError, match="must be a monitorkit.ColumnSpec"):
        resolve_spec("label", small_frames[0])
    with pytest.raises(ColumnSpecError, match="unknown ColumnSpec field"):
        resolve_spec({"targett": "label"}, small_frames[0])


def test_summaries_passed_where_rows_are_needed_say_so(small_frames):
    with pytest.raises(DataSourceError, match="current is a Profile, which keeps summaries"):
        mk.read_frame(mk.profile(small_frames[0]), name="current")
