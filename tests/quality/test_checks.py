"""Each built-in quality check on small hand-made frames, with exact counts; from a reference's
rows and from a baseline's profiles."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

import monitorkit as mk
from monitorkit.errors import InputError
from monitorkit.quality.checks import available_checks, beyond_range_p_value
from monitorkit.quality.results import Thresholds
from monitorkit.severity import Severity
from monitorkit.shapes import value_shape

CITIES = ["Paris", "Lyon", "Nice", "Lille"]
CITY_SHARES = [0.4, 0.3, 0.2, 0.1]
START = pd.Timestamp("2026-01-01", tz="UTC")


def reference_frame(n: int = 2_000, seed: int = 0) -> pd.DataFrame:
    """Ids, times every 10 minutes in order, a normal amount, four cities, a label."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "request_id": [f"REQ-{i:06d}" for i in range(n)],
            "timestamp": START + pd.to_timedelta(np.arange(n) * 10, unit="min"),
            "amount": rng.normal(100, 10, n).round(2),
            "city": rng.choice(CITIES, n, p=CITY_SHARES),
            "label": rng.integers(0, 2, n),
        }
    )


def current_frame(reference: pd.DataFrame, m: int = 1_000, seed: int = 1) -> pd.DataFrame:
    """``m`` new rows whose values are drawn from the reference's own (so every number is in
    its range and every category known), with new ids and later times."""
    rng = np.random.default_rng(seed)
    n = len(reference)
    return pd.DataFrame(
        {
            "request_id": [f"REQ-{n + i:06d}" for i in range(m)],
            "timestamp": reference["timestamp"].iloc[-1]
            + pd.to_timedelta((np.arange(m) + 1) * 10, unit="min"),
            "amount": rng.choice(reference["amount"].to_numpy(), m),
            "city": rng.choice(reference["city"].to_numpy(), m),
            "label": rng.choice(reference["label"].to_numpy(), m),
        }
    )


def as_reference(frame: pd.DataFrame, reference: str):
    return frame if reference == "frame" else mk.Baseline.from_frame(frame)


def problems(report) -> set[tuple[str | None, str]]:
    return {(f.column, f.check) for f in report.problems}


def one(report, column: str | None, check: str):
    found = [f for f in report.findings if f.column == column and f.check == check]
    assert len(found) == 1, report.to_frame()[["column", "check", "severity", "count"]]
    return found[0]


def none_of(report, check: str, column: str | None = None) -> None:
    """No finding of ``check`` (on ``column``, or on any column when it is None)."""
    found = [
        f for f in report.findings if f.check == check and (column is None or f.column == column)
    ]
    assert found == [], report.to_frame()[["column", "check", "severity", "count", "message"]]


def test_the_clean_current_has_no_finding_from_rows_or_profile():
    ref = reference_frame()
    for side in (ref, mk.Baseline.from_frame(ref)):
        report = mk.QualityReport(side, current_frame(ref))
        assert report.findings == (), report.to_frame()


# ---- the table of column checks, exact counts ----------------------------------------------


def _text_amounts(cur: pd.DataFrame, values: dict[tuple[int, int], str]) -> None:
    """Current's amounts as text, with ``values[(first, last)]`` in those rows."""
    cur["amount"] = cur["amount"].astype(str).astype(object)
    for (first, last), text in values.items():
        cur.loc[first:last, "amount"] = text


def _set(column: str, last: int, values) -> Callable[[pd.DataFrame], None]:
    """A change setting ``column`` of rows ``0`` to ``last`` (inclusive) to ``values``."""

    def change(cur: pd.DataFrame) -> None:
        if column == "amount" and isinstance(values, str):
            cur["amount"] = cur["amount"].astype(object)
        cur.loc[:last, column] = values

    return change


def _whole(column: str, make) -> Callable[[pd.DataFrame], None]:
    def change(cur: pd.DataFrame) -> None:
        cur[column] = make(cur)

    return change


def _duplicate_rows(cur: pd.DataFrame) -> None:
    cur.iloc[:20] = cur.iloc[20:40].to_numpy()


@dataclass(frozen=True)
class Case:
    name: str
    mutate: Callable[[pd.DataFrame], None]
    column: str | None
    check: str
    count: int
    severity: Severity
    also: frozenset = field(default_factory=frozenset)  # other problems the change must show
    profile: bool = True  # the baseline's profile holds what the check needs


CASES = [
    Case(
        "numbers as text",
        lambda c: _text_amounts(c, {(0, 19): "$12.50", (20, 29): "12,50", (30, 39): "unknown"}),
        "amount", "schema.unparseable", 40, Severity.WARNING,
    ),
    Case(
        "plus and minus infinity",
        _set("amount", 59, [np.inf, -np.inf] * 30),
        "amount", "validity.infinite", 60, Severity.CRITICAL,
    ),
    Case(
        "outside the training range",
        _set("amount", 19, [1e6] * 15 + [-1e6] * 5),
        "amount", "validity.out_of_range", 20, Severity.WARNING,
    ),
    Case(
        "a number written as text with an exponent and a space is a number",
        lambda c: _text_amounts(c, {(0, 11): "1.2e3 "}),
        "amount", "validity.out_of_range", 12, Severity.WARNING,
    ),
    Case(
        "missing values rose",
        _set("city", 99, None),
        "city", "completeness.missing", 100, Severity.CRITICAL,
    ),
    Case(
        "all missing",
        _whole("amount", lambda c: np.nan),
        "amount", "completeness.all_missing", 1_000, Severity.CRITICAL,
    ),
    Case(
        "an unseen category",
        _set("city", 29, "Berlin"),
        "city", "categories.unseen", 30, Severity.WARNING,
    ),
    Case(
        "case and space variants",
        _set("city", 11, ["Paris "] * 7 + ["PARIS"] * 5),
        "city", "categories.variant", 12, Severity.WARNING,
        also=frozenset({("city", "categories.unseen"), ("city", "shape.changed")}),
    ),
    Case(
        "a category disappeared",
        _whole("city", lambda c: c["city"].replace("Lille", "Paris")),
        "city", "categories.disappeared", 0, Severity.CRITICAL,
    ),
    Case(
        "an id format change",
        _whole("request_id", lambda c: c["request_id"].str.replace("REQ-", "req_")),
        "request_id", "shape.changed", 1_000, Severity.CRITICAL,
    ),
    Case(
        "a constant column",
        _whole("amount", lambda c: 100.0),
        "amount", "constant", 1_000, Severity.WARNING,
    ),
    Case(
        "duplicate rows and ids",
        _duplicate_rows,
        None, "duplicates.rows", 20, Severity.WARNING,
        also=frozenset({("request_id", "duplicates.id")}), profile=False,
    ),
    Case(
        "timestamps in the future",
        _set("timestamp", 9, pd.Timestamp("2100-01-01", tz="UTC")),
        "timestamp", "time.future", 10, Severity.WARNING,
    ),
    Case(
        "timestamps out of order",
        _whole("timestamp", lambda c: _swap_pairs(c["timestamp"], 15)),
        "timestamp", "time.out_of_order", 15, Severity.WARNING, profile=False,
    ),
]  # fmt: skip


def _swap_pairs(times: pd.Series, pairs: int) -> pd.Series:
    values = times.to_numpy().copy()
    for i in range(pairs):
        a = 10 * i
        values[a], values[a + 1] = values[a + 1], values[a]
    return pd.Series(values, index=times.index)


@pytest.mark.parametrize("reference", ["frame", "baseline"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_check_finds_exactly_what_was_broken(case, reference):
    if reference == "baseline" and not case.profile:
        pytest.skip("the baseline's profiles do not hold what this check needs")
    ref = reference_frame()
    cur = current_frame(ref)
    case.mutate(cur)
    report = mk.QualityReport(as_reference(ref, reference), cur)
    finding = one(report, case.column, case.check)
    assert (finding.count, finding.severity) == (case.count, case.severity), finding
    assert problems(report) == {(case.column, case.check)} | case.also, report.to_frame()
    if case.check != "categories.disappeared":
        assert finding.rate == pytest.approx(case.count / len(cur))


def test_numbers_as_text_name_their_formats_and_show_examples():
    ref = reference_frame()
    cur = current_frame(ref)
    _text_amounts(cur, {(0, 19): "$12.50", (20, 29): "12,50", (30, 39): "unknown"})
    finding = one(mk.QualityReport(ref, cur), "amount", "schema.unparseable")
    for text in ("$12.50", "12,50", "unknown"):
        assert f"`{value_shape(text)}`" in finding.message
        assert text in finding.examples
    assert (value_shape("$12.50"), value_shape("12,50"), value_shape("unknown")) == (
        "$9+.9+",
        "9+,9+",
        "a+",
    )


def test_out_of_range_says_how_many_below_and_above():
    ref = reference_frame()
    cur = current_frame(ref)
    cur.loc[:19, "amount"] = [1e6] * 15 + [-1e6] * 5
    finding = one(mk.QualityReport(ref, cur), "amount", "validity.out_of_range")
    assert "(5 below, 15 above)" in finding.message
    assert set(finding.examples) == {"1e+06", "-1e+06"}


def test_all_missing_is_said_once():
    ref = reference_frame()
    cur = current_frame(ref)
    cur["city"] = None
    report = mk.QualityReport(ref, cur)
    assert [f.check for f in report.findings if f.column == "city"] == ["completeness.all_missing"]
    assert report.figures["missing_rate.city"] == 1.0


def test_a_disappeared_category_says_which_and_its_reference_share():
    ref = reference_frame()
    cur = current_frame(ref)
    cur["city"] = cur["city"].replace("Lille", "Paris")
    finding = one(mk.QualityReport(ref, cur), "city", "categories.disappeared")
    assert finding.examples == ("Lille",)
    assert finding.rate == pytest.approx((ref["city"] == "Lille").mean())
    # ... and only when current has rows enough to expect it (10% of 50 rows: 5 < 10).
    small = current_frame(ref, m=50)
    small["city"] = small["city"].replace("Lille", "Paris")
    none_of(mk.QualityReport(ref, small), "categories.disappeared")


def test_a_shape_change_names_the_new_format():
    ref = reference_frame()
    cur = current_frame(ref)
    cur.loc[:99, "request_id"] = cur.loc[:99, "request_id"].str.replace("REQ-", "req_")
    finding = one(mk.QualityReport(ref, cur), "request_id", "shape.changed")
    assert finding.count == 100 and "`a+_9+`" in finding.message
    assert value_shape("REQ-00123") == "A+-9+" and value_shape("req_00123") == "a+_9+"


def test_unequal_sizes_count_exactly_against_the_larger_reference():
    ref = reference_frame(10_000)
    cur = current_frame(ref, m=2_000)
    assert mk.QualityReport(ref, cur).findings == ()
    _text_amounts(cur, {(0, 29): "12,50"})
    cur.loc[100:139, "amount"] = 1e6
    cur.loc[200:259, "city"] = "Berlin"
    report = mk.QualityReport(ref, cur)
    counts = {(f.column, f.check): (f.count, f.severity) for f in report.problems}
    assert counts == {
        ("amount", "schema.unparseable"): (30, Severity.WARNING),
        ("amount", "validity.out_of_range"): (40, Severity.WARNING),
        ("city", "categories.unseen"): (60, Severity.WARNING),
    }


# ---- schema --------------------------------------------------------------------------------


def test_a_semicolon_file_read_with_commas_names_the_delimiter():
    ref = reference_frame(200)
    text = io.StringIO()
    current_frame(ref, m=100).to_csv(text, sep=";", index=False)
    text.seek(0)
    cur = pd.read_csv(text)
    assert cur.shape[1] == 1
    report = mk.QualityReport(ref, cur)
    finding = one(report, None, "schema.delimiter")
    assert "';'" in finding.message and finding.severity == Severity.CRITICAL
    assert report.not_judged == finding.message and report.severity == Severity.CRITICAL
    assert [f.check for f in report.findings] == ["schema.delimiter"]


def test_no_column_in_common_is_said_once_and_not_judged():
    ref = reference_frame(200)
    report = mk.QualityReport(ref, pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}))
    assert [f.check for f in report.findings] == ["schema.no_common"]
    assert report.severity == Severity.CRITICAL and report.not_judged


def test_missing_and_unexpected_columns():
    ref = reference_frame(300)
    cur = current_frame(ref, m=200).drop(columns=["amount"]).assign(discount=0.1)
    report = mk.QualityReport(ref, cur)
    assert one(report, "amount", "schema.missing_column").severity == Severity.CRITICAL
    assert one(report, "discount", "schema.unexpected").severity == Severity.WARNING
    assert problems(report) == {
        ("amount", "schema.missing_column"),
        ("discount", "schema.unexpected"),
    }


def test_a_target_missing_from_current_is_only_a_note():
    ref = reference_frame(300)
    cur = current_frame(ref, m=200).drop(columns=["label"])
    for side in (ref, mk.Baseline.from_frame(ref)):
        report = mk.QualityReport(side, cur, spec=mk.ColumnSpec(target="label"))
        note = one(report, "label", "schema.missing_column")
        assert note.severity == Severity.OK and "label" in note.message
        assert report.severity == Severity.OK and report.problems == []
    # Another column missing is critical.
    report = mk.QualityReport(ref, cur, spec=mk.ColumnSpec(target="amount"))
    assert one(report, "label", "schema.missing_column").severity == Severity.CRITICAL


# ---- completeness: the significance guard ---------------------------------------------------


def _missing_frames(n: int, reference_missing: int, current_missing: int):
    rng = np.random.default_rng(5)
    ref = pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n)})
    cur = pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n)})
    ref.loc[: reference_missing - 1, "y"] = np.nan
    cur.loc[: current_missing - 1, "y"] = np.nan
    return ref, cur


def test_a_two_row_rise_at_fifty_rows_is_chance():
    ref, cur = _missing_frames(50, 5, 7)
    # Only the significance guard stands between a 4-point rise and a warning here.
    loose = {"completeness.missing": {"min_count": 1}}
    none_of(mk.QualityReport(ref, cur, thresholds=loose), "completeness.missing")
    ref, cur = _missing_frames(50, 0, 2)
    none_of(mk.QualityReport(ref, cur, thresholds=loose), "completeness.missing")


def test_a_ten_point_rise_at_five_thousand_rows_is_flagged():
    ref, cur = _missing_frames(5_000, 500, 1_000)
    finding = one(mk.QualityReport(ref, cur), "y", "completeness.missing")
    assert finding.count == 500 and finding.rate == pytest.approx(0.1)
    assert finding.severity == Severity.CRITICAL
    assert "10%" in finding.message and "20%" in finding.message
    # The same rise in a frame of fifty rows: flagged too (it is significant there).
    ref, cur = _missing_frames(50, 0, 25)
    assert one(mk.QualityReport(ref, cur), "y", "completeness.missing").count == 25


def test_a_fall_in_missing_values_is_not_a_problem():
    ref, cur = _missing_frames(2_000, 500, 0)
    none_of(mk.QualityReport(ref, cur), "completeness.missing")


# ---- outliers: beyond the reference's own tail --------------------------------------------


def _tailed(n: int, seed: int) -> np.ndarray:
    """A latency: a lognormal body and 3% slow requests ten times longer."""
    rng = np.random.default_rng(seed)
    values = rng.lognormal(3.0, 0.3, n)
    slow = rng.random(n) < 0.03
    values[slow] *= 10
    return values.round(2)


def _fences(values: np.ndarray) -> tuple[float, float, float]:
    q1, q3 = np.quantile(values, [0.25, 0.75])
    lower, upper = q1 - 3 * (q3 - q1), q3 + 3 * (q3 - q1)
    return lower, upper, float(((values < lower) | (values > upper)).mean())


def test_outliers_are_judged_against_the_reference_tail_share():
    ref = pd.DataFrame({"latency": _tailed(5_000, 0)})
    lower, upper, reference_share = _fences(ref["latency"].to_numpy())
    assert 0.01 < reference_share < 0.05  # a heavy tail: outliers are normal here
    same = pd.DataFrame({"latency": _tailed(2_000, 1)})
    none_of(mk.QualityReport(ref, same), "validity.outliers")

    # 10% of current between the upper fence and the reference maximum.
    more = same.copy()
    inside = np.linspace(upper + 1, ref["latency"].max() - 1, 200)
    more.loc[:199, "latency"] = inside
    values = more["latency"].to_numpy()
    outside = ((values < lower) | (values > upper)) & (values <= ref["latency"].max())
    expected = int(round((outside.mean() - reference_share) * len(values)))
    finding = one(mk.QualityReport(ref, more), "latency", "validity.outliers")
    assert finding.count == expected and finding.severity == Severity.CRITICAL
    # From a baseline's profile the fences come from a sketch, within its rank error.
    from_profile = one(
        mk.QualityReport(mk.Baseline.from_frame(ref), more), "latency", "validity.outliers"
    )
    assert from_profile.severity >= Severity.WARNING
    assert abs(from_profile.count - expected) <= 0.05 * len(values)


@pytest.mark.parametrize("reference", ["frame", "baseline"])
@pytest.mark.parametrize(("reference_rows", "current_rows"), [(100, 100), (100, 1_000)])
def test_same_distribution_samples_never_warn_about_range_or_tails(
    reference, reference_rows, current_rows
):
    # The range and the tail share come from the reference sample itself: samples of one
    # distribution put values beyond its extremes far more often than a binomial with
    # p = 2 / (n + 1) says (one low reference minimum moves them all), and a tail share
    # measured on 100 values is itself uncertain.
    for seed in range(50):
        rng = np.random.default_rng(seed)
        ref = pd.DataFrame(
            {"a": rng.standard_t(3, reference_rows), "b": _tailed(reference_rows, seed)}
        )
        cur = pd.DataFrame(
            {"a": rng.standard_t(3, current_rows), "b": _tailed(current_rows, seed + 1)}
        )
        report = mk.QualityReport(as_reference(ref, reference), cur)
        assert report.problems == [], (seed, report.to_frame())


def test_from_a_profile_the_sketch_error_of_the_tail_share_is_allowed():
    from dataclasses import replace

    from monitorkit.quality.checks import ColumnContext, outliers
    from monitorkit.quality.expectations import from_frame, from_profile

    ref = pd.DataFrame({"latency": _tailed(20_000, 0)})
    exact = from_frame(ref, "latency", "numeric", "feature")
    profiled = from_profile(mk.Baseline.from_frame(ref).profile, "latency", "feature")
    rank_error = mk.Baseline.from_frame(ref).profile["latency"].rank_error()
    assert profiled.outside_fences_error == pytest.approx(2 * rank_error) and rank_error > 0
    assert exact.outside_fences_error == 0.0
    small = pd.DataFrame({"latency": _tailed(150, 0)})  # a sketch of 150 values is exact
    small_profiled = from_profile(mk.Baseline.from_frame(small).profile, "latency", "feature")
    assert small_profiled.outside_fences_error == 0.0

    # Current's tail share 1.5 points above the reference's: beyond a share measured on 20,000
    # values, within what a sketch of them may be off.
    values = np.sort(_tailed(5_000, 1))
    beyond = values > exact.upper_fence
    target = int(round((exact.outside_fences + 0.015) * len(values)))
    values[: target - int(beyond.sum())] = (exact.upper_fence + exact.maximum) / 2
    context = {"column": "latency", "values": pd.Series(values), "rows": len(values)}
    assert list(outliers(ColumnContext(expected=exact, **context)))
    sketched = replace(exact, outside_fences_error=profiled.outside_fences_error)
    assert not list(outliers(ColumnContext(expected=sketched, **context)))


def test_the_beyond_range_bound_is_exact_for_one_side_and_conservative():
    # n new and n reference values: k new above the reference maximum has probability
    # C(n, k) / C(2n, k); the bound adds the k + 1 ways to split k between both sides.
    from math import comb

    n = 50
    for k in range(1, 8):
        exact_one_side = comb(n, k) / comb(2 * n, k)
        assert beyond_range_p_value(k, n, n) == pytest.approx((k + 1) * exact_one_side)
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(4_000):
        a, b = rng.random(n), rng.random(n)
        hits += int(((b < a.min()) | (b > a.max())).sum()) >= 4
    assert hits / 4_000 <= beyond_range_p_value(4, n, n)
    assert beyond_range_p_value(0, n, n) == 1.0


# ---- categories: the Good–Turing share ----------------------------------------------------


def _towns(n_common: int, singletons: int, seed: int) -> pd.Series:
    rng = np.random.default_rng(seed)
    common = rng.choice(CITIES, n_common, p=CITY_SHARES)
    return pd.Series(list(common) + [f"Town{seed}x{i:05d}" for i in range(singletons)], name="city")


def test_unseen_categories_beyond_the_good_turing_share():
    ref = pd.DataFrame({"city": _towns(2_000, 100, 0)})  # 100 of 2,100 seen once: 4.8%
    allowed = 100 / 2_100
    within = pd.DataFrame({"city": _towns(970, 30, 1)})  # 3% new, each once
    none_of(mk.QualityReport(ref, within), "categories.unseen")

    beyond = pd.DataFrame({"city": _towns(850, 150, 2)})  # 15% new
    finding = one(mk.QualityReport(ref, beyond), "city", "categories.unseen")
    assert finding.count == int(round((0.15 - allowed) * 1_000))
    assert finding.severity == Severity.CRITICAL
    assert "Town2x00000" in finding.examples


def test_every_new_category_counts_when_the_reference_had_no_singleton():
    ref = reference_frame()
    cur = current_frame(ref)
    cur.loc[:6, "city"] = "Berlin"
    finding = one(mk.QualityReport(ref, cur), "city", "categories.unseen")
    assert finding.count == 7 and finding.severity == Severity.OK  # 0.7% < 1%


# ---- constant --------------------------------------------------------------------------------


def test_near_constant_is_said_and_a_constant_reference_is_not_a_change():
    ref = reference_frame()
    cur = current_frame(ref)
    cur["amount"] = 100.0
    cur.loc[:4, "amount"] = 90.0
    finding = one(mk.QualityReport(ref, cur), "amount", "constant")
    assert "near-constant" in finding.message and "`100.0`" in finding.message
    ref["amount"] = 5.0
    none_of(mk.QualityReport(ref, cur), "constant")


def test_a_huge_constant_value_is_cut_in_the_finding():
    ref = reference_frame()
    cur = current_frame(ref)
    cur["city"] = "<" + "x" * 5_000
    finding = one(mk.QualityReport(ref, cur), "city", "constant")
    assert len(finding.examples) == 1 and len(finding.examples[0]) <= 60
    assert len(finding.message) < 300


def test_a_short_run_of_one_value_of_a_lopsided_column_is_chance():
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"flag": rng.choice(["a", "b"], 5_000, p=[0.85, 0.15])})
    # 40 rows all "a": 0.85 ** 40 = 0.15% of the time under no change.
    none_of(mk.QualityReport(ref, pd.DataFrame({"flag": ["a"] * 40})), "constant")
    finding = one(mk.QualityReport(ref, pd.DataFrame({"flag": ["a"] * 200})), "flag", "constant")
    assert finding.severity == Severity.WARNING


def test_infinite_values_are_not_a_constant_column():
    ref = reference_frame(200)
    cur = current_frame(ref, m=100)
    ref["amount"], cur["amount"] = np.inf, np.inf
    report = mk.QualityReport(ref, cur)
    none_of(report, "constant")
    assert one(report, "amount", "validity.infinite").count == 100


def test_a_constant_numeric_reference_is_known_from_its_profile():
    ref = reference_frame()
    ref["amount"] = 5.0
    cur = current_frame(ref)
    none_of(mk.QualityReport(mk.Baseline.from_frame(ref), cur), "constant")


# ---- duplicates and time ----------------------------------------------------------------------


def test_duplicate_ids_name_the_repeated_ids():
    ref = reference_frame(300)
    cur = current_frame(ref, m=200)
    cur.loc[:9, "request_id"] = "REQ-000300"
    finding = one(mk.QualityReport(ref, cur), "request_id", "duplicates.id")
    assert finding.count == 9 and finding.examples == ("REQ-000300",)


def test_every_repeat_counts_when_the_reference_never_repeats_itself():
    ref = reference_frame(100)
    cur = current_frame(ref, m=1_000)  # larger than the reference
    cur.iloc[:30] = cur.iloc[30:60].to_numpy()
    report = mk.QualityReport(ref, cur)
    assert one(report, None, "duplicates.rows").count == 30
    assert one(report, "request_id", "duplicates.id").count == 30


def test_duplicate_rows_are_judged_against_the_reference_own_share():
    # A table of few categories repeats rows by nature; current repeats them no more.
    rng = np.random.default_rng(0)

    def table(n):
        return pd.DataFrame(
            {"device": rng.choice(["mobile", "desktop"], n), "plan": rng.choice(["a", "b"], n)}
        )

    report = mk.QualityReport(table(2_000), table(1_000))
    none_of(report, "duplicates.rows")
    report = mk.QualityReport(table(500), table(2_000))  # more rows repeat more, by chance
    none_of(report, "duplicates.rows")

    def priced(n):
        return table(n).assign(price=rng.integers(0, 300, n))  # 1,200 kinds of row

    reference, current = priced(2_000), priced(1_000)
    none_of(mk.QualityReport(reference, current), "duplicates.rows")
    before = int(current.duplicated().sum())
    current.iloc[:200] = current.iloc[200:400].to_numpy()  # rows 0-199 now repeat
    added = int(current.duplicated().sum()) - before
    finding = one(mk.QualityReport(reference, current), None, "duplicates.rows")
    assert abs(finding.count - added) <= 40 and finding.severity == Severity.CRITICAL
    assert "in the reference" in finding.message


def test_expected_repeats_by_enumeration():
    from itertools import combinations

    from monitorkit.quality.checks import expected_repeats

    rows = ["a", "a", "a", "b", "b", "c", "d"]
    for k in range(1, len(rows) + 1):
        draws = list(combinations(range(len(rows)), k))
        mean = sum(k - len({rows[i] for i in draw}) for draw in draws) / len(draws)
        assert expected_repeats(np.array([3, 2, 1, 1]), k) == pytest.approx(mean)


def test_out_of_order_is_only_judged_when_the_reference_was_in_order():
    ref = reference_frame(500)
    cur = current_frame(ref, m=300)
    cur["timestamp"] = _swap_pairs(cur["timestamp"], 10)
    assert one(mk.QualityReport(ref, cur), "timestamp", "time.out_of_order").count == 10
    shuffled = ref.sample(frac=1.0, random_state=0)
    none_of(mk.QualityReport(shuffled, cur), "time.out_of_order")


# ---- severity thresholds ---------------------------------------------------------------------


def _unparseable(rows: int, bad: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    ref = pd.DataFrame({"amount": np.arange(500, dtype=float), "city": ["Paris"] * 500})
    good = [f"{i * 499 / rows:.4f}" for i in range(rows - bad)]  # distinct, in range
    cur = pd.DataFrame(
        {"amount": good + [f"{i} EUR" for i in range(bad)], "city": ["Paris"] * rows}
    )
    return ref, cur


@pytest.mark.parametrize(
    ("rows", "bad", "severity"),
    [
        (1_000, 9, Severity.OK),  # 0.9%
        (1_000, 10, Severity.WARNING),  # 1% warns
        (1_000, 49, Severity.WARNING),
        (1_000, 50, Severity.CRITICAL),  # 5% is critical
        (40, 4, Severity.OK),  # 10%, but fewer than 5 rows never warns
        (100, 5, Severity.CRITICAL),
    ],
)
def test_default_thresholds(rows, bad, severity):
    ref, cur = _unparseable(rows, bad)
    finding = one(mk.QualityReport(ref, cur), "amount", "schema.unparseable")
    assert finding.count == bad and finding.severity == severity


def test_thresholds_by_check_by_column_and_by_column_check():
    ref, cur = _unparseable(1_000, 20)  # 2%: a warning by default
    cur["city"] = ["Paris"] * 980 + ["Berlin"] * 20  # 2% unseen: a warning by default

    def severities(thresholds):
        report = mk.QualityReport(ref, cur, thresholds=thresholds)
        return {
            check: one(report, column, check).severity
            for column, check in (("amount", "schema.unparseable"), ("city", "categories.unseen"))
        }

    strict = {"warning": 0.001, "critical": 0.01}
    lenient = {"warning": 0.5, "critical": 0.9}
    assert set(severities(None).values()) == {Severity.WARNING}
    assert severities({"schema.unparseable": strict}) == {
        "schema.unparseable": Severity.CRITICAL,
        "categories.unseen": Severity.WARNING,
    }
    assert severities({"city": lenient}) == {
        "schema.unparseable": Severity.WARNING,
        "categories.unseen": Severity.OK,
    }
    assert severities({"*": strict}) == {
        "schema.unparseable": Severity.CRITICAL,
        "categories.unseen": Severity.CRITICAL,
    }
    # "column:check" before the check, the check before the column, the column before "*".
    assert (
        severities(
            {"amount:schema.unparseable": lenient, "schema.unparseable": strict, "*": strict}
        )["schema.unparseable"]
        == Severity.OK
    )
    assert (
        severities({"categories.unseen": strict, "city": lenient})["categories.unseen"]
        == Severity.CRITICAL
    )
    assert severities(Thresholds(warning=0.5, critical=0.9)) == {
        "schema.unparseable": Severity.OK,
        "categories.unseen": Severity.OK,
    }
    report = mk.QualityReport(ref, cur, thresholds={"*": strict})
    assert report.result.thresholds == Thresholds(warning=0.001, critical=0.01)


def test_min_count_can_be_lowered():
    ref, cur = _unparseable(40, 4)
    report = mk.QualityReport(ref, cur, thresholds={"amount": {"min_count": 2}})
    assert one(report, "amount", "schema.unparseable").severity == Severity.CRITICAL


@pytest.mark.parametrize(
    ("thresholds", "message"),
    [
        ({"*": {"warn": 0.1}}, "unknown keys"),
        ({"*": {"warning": 2.0}}, "share in"),
        ({"*": {"warning": 0.1, "critical": 0.05}}, "must not be below"),
        ({"*": 0.1}, "must be a mapping"),
        ({"amount:schema.unparsable": {"warning": 0.01}}, "did you mean 'schema.unparseable'"),
        ({"schema.unparsable": {"warning": 0.01}}, "did you mean 'schema.unparseable'"),
        ({"amuont": {"warning": 0.01}}, "did you mean 'amount'"),
        ({"amuont:schema.unparseable": {"warning": 0.01}}, "did you mean 'amount'"),
        ([0.1], "Thresholds or a mapping"),
    ],
)
def test_bad_thresholds_are_refused_with_a_suggestion(thresholds, message):
    ref, cur = _unparseable(100, 1)
    with pytest.raises(InputError, match=message):
        mk.QualityReport(ref, cur, thresholds=thresholds)


# ---- choosing checks -----------------------------------------------------------------------


def test_checks_selects_which_checks_run():
    ref, cur = _unparseable(1_000, 20)
    cur["city"] = ["Paris"] * 980 + ["Berlin"] * 20
    both = mk.QualityReport(ref, cur)
    assert {f.check for f in both.problems} == {"schema.unparseable", "categories.unseen"}
    only = mk.QualityReport(ref, cur, checks=["categories.unseen"])
    assert {f.check for f in only.findings} == {"categories.unseen"}
    single = mk.QualityReport(ref, cur, checks="schema.unparseable")
    assert {f.check for f in single.findings} == {"schema.unparseable"}
    with pytest.raises(InputError, match="did you mean 'categories.unseen'"):
        mk.QualityReport(ref, cur, checks=["categories.unsen"])


def test_the_registry_lists_every_built_in_check_with_a_label():
    names = set(available_checks())
    assert {
        "schema.delimiter", "schema.no_common", "schema.missing_column", "schema.unexpected",
        "schema.unparseable", "completeness.missing", "completeness.all_missing",
        "validity.infinite", "validity.out_of_range", "validity.outliers", "categories.unseen",
        "categories.variant", "categories.disappeared", "shape.changed", "constant",
        "duplicates.rows", "duplicates.id", "time.future", "time.out_of_order",
    } <= names  # fmt: skip
    assert all(isinstance(label, str) and label for label in available_checks().values())


# ---- windows: volume and since ----------------------------------------------------------------


def _daily(days: int, per_day, start: str, seed: int = 0) -> pd.DataFrame:
    """Rows spread evenly over each day; ``per_day`` a number or one count per day."""
    rng = np.random.default_rng(seed)
    counts = [per_day] * days if np.isscalar(per_day) else list(per_day)
    times = [
        pd.Timestamp(start, tz="UTC") + pd.Timedelta(days=d) + pd.Timedelta(days=1) * i / count
        for d, count in enumerate(counts)
        for i in range(count)
    ]
    n = len(times)
    return pd.DataFrame(
        {
            "timestamp": times,
            "amount": rng.normal(100, 10, n).round(2),
            "city": rng.choice(CITIES, n, p=CITY_SHARES),
        }
    )


def test_a_window_with_too_few_rows_is_a_volume_problem_since_its_day():
    ref = _daily(28, 100, "2026-01-01")
    counts = [100] * 10
    counts[4], counts[6] = 10, 40  # day 5: a tenth (too few to check, still judged); day 7
    cur = _daily(10, counts, "2026-02-01", seed=1)
    report = mk.QualityReport(ref, cur, by="1D")
    per_window = {w.window: [f.severity for f in w.findings if f.check == "volume"] for w in
                  report.result.windows}  # fmt: skip
    assert per_window["2026-02-05"] == [Severity.CRITICAL]
    assert per_window["2026-02-07"] == [Severity.WARNING]
    assert sum(len(v) for v in per_window.values()) == 2
    volume = one(report, None, "volume")
    assert volume.severity == Severity.CRITICAL and volume.since == "2026-02-05"
    assert volume.count == 90


def test_an_outage_day_is_critical_and_the_worst_window_is_reported():
    ref = _daily(28, 100, "2026-01-01")
    counts = [100] * 10
    counts[3], counts[5] = 10, 0  # two critical windows: a tenth, then nothing
    report = mk.QualityReport(ref, _daily(10, counts, "2026-02-01", seed=1), by="1D")
    volume = one(report, None, "volume")
    assert volume.severity == Severity.CRITICAL and volume.since == "2026-02-04"
    assert volume.count == 100 and volume.rate == 1.0  # the outage, the worst of the two


def test_quiet_weekends_the_reference_also_had_are_not_a_volume_problem():
    week = [100, 100, 100, 100, 100, 15, 15]  # 2026-01-05 is a Monday
    ref = _daily(28, week * 4, "2026-01-05")
    cur = _daily(21, week * 3, "2026-02-02", seed=1)
    for side in (ref, mk.Baseline.from_frame(ref)):
        report = mk.QualityReport(side, cur, by="1D")
        none_of(report, "volume")
        assert report.problems == [], report.to_frame()


def test_since_is_the_first_window_of_the_problem():
    ref = _daily(28, 100, "2026-01-01")
    cur = _daily(10, 100, "2026-02-01", seed=1)
    cur["amount"] = cur["amount"].astype(object)
    late = cur["timestamp"] >= pd.Timestamp("2026-02-06", tz="UTC")
    cur.loc[late & (np.arange(len(cur)) % 10 == 0), "amount"] = "n/a"  # 10% from day 6
    report = mk.QualityReport(ref, cur, by="1D")
    finding = one(report, "amount", "schema.unparseable")
    assert finding.since == "2026-02-06" and finding.count == 50
    windows = [w.window for w in report.result.windows if w.findings]
    assert windows == [f"2026-02-{d:02d}" for d in range(6, 11)]
    # Without by= there is no since.
    assert one(mk.QualityReport(ref, cur), "amount", "schema.unparseable").since is None
