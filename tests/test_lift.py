"""Holdout lift: known values, the real Hillstrom experiment, simulated coverage, edge cases, unit tables."""

from __future__ import annotations

import csv
import gzip
import json
import math
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hongmao.errors import InputError
from hongmao.measure import (
    IncrementalResult,
    LiftResult,
    difference_in_means,
    incremental_totals,
    lift_from_moments,
    lift_from_units,
    read_groups,
)

_DEFAULT_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"  # ../shared/data from the project
SHARED_DATA = Path(os.environ.get("HONGMAO_SHARED_DATA") or _DEFAULT_SHARED)
HILLSTROM = SHARED_DATA / "hillstrom" / "hillstrom.csv"
needs_hillstrom = pytest.mark.skipif(
    not HILLSTROM.is_file(),
    reason=f"Hillstrom data not found at {HILLSTROM} (shared data lives in ../shared/data; "
    "set HONGMAO_SHARED_DATA to point elsewhere)",
)

Z95 = 1.959963984540054
Floats = npt.NDArray[np.float64]


# ------------------------------------------------------------------------------------------------------------
# known values


def test_welch_matches_hand_computation() -> None:
    t = np.array([3.0, 5.0, 7.0, 9.0])
    h = np.array([1.0, 2.0, 3.0])
    r = difference_in_means(t, h, metric="x")
    se = math.sqrt(np.var(t, ddof=1) / 4 + np.var(h, ddof=1) / 3)
    assert r.lift == pytest.approx(4.0)
    assert r.treatment_mean == pytest.approx(6.0) and r.holdout_mean == pytest.approx(2.0)
    assert r.ci95 == pytest.approx((4.0 - Z95 * se, 4.0 + Z95 * se))
    assert r.p_value == pytest.approx(math.erfc(4.0 / se / math.sqrt(2)))
    assert r.method.startswith("difference in means, Welch standard error, normal 95% interval")
    assert (r.n_treatment, r.n_holdout) == (4, 3)
    assert r.relative_lift == pytest.approx(2.0)


def test_welch_standard_error_agrees_with_scipy() -> None:
    from scipy import stats  # type: ignore[import-untyped]

    rng = np.random.default_rng(7)
    t, h = rng.normal(1.0, 2.0, 50), rng.normal(0.0, 0.5, 80)
    r = difference_in_means(t, h)
    welch_t = stats.ttest_ind(t, h, equal_var=False).statistic
    se = (r.ci95[1] - r.ci95[0]) / (2 * Z95)
    assert r.lift / se == pytest.approx(welch_t)


@pytest.mark.parametrize(
    ("x_t", "n_t", "x_h", "n_h", "lower", "upper"),
    [  # Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (10, 10, 0, 20, 0.6791, 1.0000),
        (0, 10, 0, 20, -0.1611, 0.2775),
    ],
)
def test_newcombe_matches_published_examples(
    x_t: int, n_t: int, x_h: int, n_h: int, lower: float, upper: float
) -> None:
    t = np.r_[np.ones(x_t), np.zeros(n_t - x_t)]
    h = np.r_[np.ones(x_h), np.zeros(n_h - x_h)]
    r = difference_in_means(t, h, metric="conversion")
    assert r.method.startswith("difference of proportions, Newcombe hybrid score 95% interval")
    assert r.ci95[0] == pytest.approx(lower, abs=5e-5)
    assert r.ci95[1] == pytest.approx(upper, abs=5e-5)
    m = lift_from_moments("conversion", n_t, x_t, x_t, n_h, x_h, x_h, binary=True)
    assert m.ci95 == pytest.approx(r.ci95)


def test_binary_can_be_forced_to_wald() -> None:
    t = np.r_[np.ones(30), np.zeros(70)]
    h = np.r_[np.ones(20), np.zeros(80)]
    r = difference_in_means(t, h, interval="welch")
    se = math.sqrt(0.3 * 0.7 / 99 + 0.2 * 0.8 / 99)  # ddof=1 variances
    assert r.ci95 == pytest.approx((0.1 - Z95 * se, 0.1 + Z95 * se))
    assert "Wald interval for a difference of proportions" in r.method


def test_alpha_changes_level_and_says_so() -> None:
    rng = np.random.default_rng(3)
    t, h = rng.normal(1, 1, 100), rng.normal(0, 1, 100)
    r95, r90 = difference_in_means(t, h), difference_in_means(t, h, alpha=0.10)
    assert r90.confidence == pytest.approx(0.90) and "normal 90% interval" in r90.method
    assert r95.ci95[0] < r90.ci95[0] < r90.ci95[1] < r95.ci95[1]
    for bad in (0.0, 1.0, -0.1, float("nan")):
        with pytest.raises(InputError, match="alpha"):
            difference_in_means(t, h, alpha=bad)


def test_to_dict_is_json_ready_and_ordered() -> None:
    r = difference_in_means([1.0, 2.0, 4.0], [0.0, 1.0, 1.0], metric="spend")
    d = r.to_dict()
    assert list(d)[:6] == ["metric", "treatment_mean", "holdout_mean", "lift", "ci95", "method"]
    assert d["metric"] == "spend" and isinstance(d["ci95"], list) and len(d["ci95"]) == 2
    assert d["lift"] == pytest.approx(d["treatment_mean"] - d["holdout_mean"])
    assert json.loads(json.dumps(d, allow_nan=False)) == d


# ------------------------------------------------------------------------------------------------------------
# edge cases


@pytest.mark.parametrize(("t", "h", "which"), [([], [1.0, 2.0], "treatment"), ([1.0, 2.0], [], "holdout")])
def test_empty_group_is_an_input_error(t: list[float], h: list[float], which: str) -> None:
    with pytest.raises(InputError, match=f"{which}: the group is empty"):
        difference_in_means(t, h)


def test_single_unit_group_is_an_input_error() -> None:
    with pytest.raises(InputError, match="at least 2 units"):
        difference_in_means([1.0], [1.0, 2.0])


def test_non_finite_values_are_input_errors() -> None:
    with pytest.raises(InputError, match="position 1"):
        difference_in_means([1.0, float("nan"), 2.0], [1.0, 2.0])
    with pytest.raises(InputError, match="numbers"):
        difference_in_means(["a", "b"], [1.0, 2.0])


def test_zero_variance_groups() -> None:
    same = difference_in_means([2.5, 2.5, 2.5], [2.5, 2.5])
    assert same.lift == 0.0 and same.ci95 == (0.0, 0.0) and same.p_value == 1.0
    apart = difference_in_means([3.0, 3.0, 3.0], [2.0, 2.0])
    assert apart.lift == 1.0 and apart.ci95 == (1.0, 1.0) and apart.p_value == 0.0
    assert apart.relative_ci95 == pytest.approx((0.5, 0.5))
    # one constant group: the spread comes from the other alone
    one = difference_in_means([5.0, 5.0, 5.0, 5.0], [1.0, 3.0])
    se = math.sqrt(2.0 / 2)
    assert one.ci95 == pytest.approx((3.0 - Z95 * se, 3.0 + Z95 * se))


def test_binary_all_zero_groups_do_not_collapse() -> None:
    r = difference_in_means(np.zeros(500), np.zeros(400), metric="conversion")
    assert r.lift == 0.0 and r.p_value == 1.0
    assert r.ci95[0] < 0.0 < r.ci95[1]  # Newcombe stays honest where Wald would say [0, 0]
    assert r.relative_lift is None and r.relative_ci95 is None
    wald = difference_in_means(np.zeros(500), np.zeros(400), interval="welch")
    assert wald.ci95 == (0.0, 0.0)


def test_relative_lift_only_where_defined() -> None:
    assert difference_in_means([1.0, 2.0], [0.0, 0.0]).relative_lift is None
    neg = difference_in_means([-1.0, -3.0], [1.0, 3.0])
    assert neg.relative_lift == pytest.approx(-2.0) and neg.relative_ci95 is None


def test_newcombe_requires_binary_values() -> None:
    with pytest.raises(InputError, match="0/1"):
        difference_in_means([0.0, 2.0], [0.0, 1.0], interval="newcombe")
    with pytest.raises(InputError, match="interval must be"):
        difference_in_means([0.0, 2.0], [0.0, 1.0], interval="bootstrap")  # type: ignore[arg-type]


def test_moments_must_be_consistent() -> None:
    with pytest.raises(InputError, match="inconsistent"):
        lift_from_moments("gmv", 10, 100.0, 50.0, 10, 10.0, 20.0)
    with pytest.raises(InputError, match="0/1"):
        lift_from_moments("c", 10, 3, 5, 10, 2, 2, binary=True)


# ------------------------------------------------------------------------------------------------------------
# properties

values = st.lists(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False), min_size=2, max_size=60
)
bits = st.lists(st.sampled_from([0.0, 1.0]), min_size=2, max_size=60)


@settings(max_examples=150, deadline=None)
@given(values, values)
def test_lift_is_the_difference_of_means_and_inside_its_interval(t: list[float], h: list[float]) -> None:
    r = difference_in_means(t, h)
    assert r.lift == pytest.approx(np.mean(t) - np.mean(h), rel=1e-9, abs=1e-6)
    assert r.ci95[0] <= r.lift <= r.ci95[1]
    assert 0.0 <= r.p_value <= 1.0
    json.dumps(r.to_dict(), allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.tuples(values, values), st.tuples(bits, bits)))
def test_swapping_groups_mirrors_the_result(groups: tuple[list[float], list[float]]) -> None:
    t, h = groups
    a, b = difference_in_means(t, h), difference_in_means(h, t)
    assert b.lift == pytest.approx(-a.lift, abs=1e-9)
    assert b.ci95 == pytest.approx((-a.ci95[1], -a.ci95[0]), abs=1e-9)
    assert b.p_value == pytest.approx(a.p_value, abs=1e-12)
    assert a.method == b.method


def test_a_mean_near_zero_gives_no_relative_interval_rather_than_an_error() -> None:
    # Found by the property below: the squared coefficient of variation of a mean near 0 overflowed.
    t = [1.0, -1.0, 1e-290]  # a mean of 3.3e-291 with a standard deviation of about 1
    result = difference_in_means(t, [1.0, 2.0], interval="welch")
    assert result.relative_ci95 is None and result.relative_lift == pytest.approx(-1.0, abs=1e-9)
    assert math.isfinite(result.ci95[0]) and math.isfinite(result.ci95[1])


@settings(max_examples=100, deadline=None)
@given(values, values, st.floats(min_value=-1e3, max_value=1e3))
def test_welch_interval_is_shift_invariant(t: list[float], h: list[float], c: float) -> None:
    a = difference_in_means(t, h, interval="welch")
    b = difference_in_means(np.add(t, c), np.add(h, c), interval="welch")
    assert b.lift == pytest.approx(a.lift, rel=1e-6, abs=1e-6)
    assert b.ci95 == pytest.approx(a.ci95, rel=1e-6, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(values, values)
def test_moments_agree_with_unit_values(t: list[float], h: list[float]) -> None:
    ta, ha = np.asarray(t), np.asarray(h)
    a = difference_in_means(ta, ha, interval="welch")
    b = lift_from_moments("m", ta.size, ta.sum(), (ta**2).sum(), ha.size, ha.sum(), (ha**2).sum())
    assert b.lift == pytest.approx(a.lift, rel=1e-9, abs=1e-6)
    # raw-moment variance loses digits to cancellation when |mean| >> sd; compare widths loosely
    scale = max(1.0, float(np.abs(ta).max()), float(np.abs(ha).max()))
    assert b.ci95 == pytest.approx(a.ci95, rel=1e-4, abs=1e-4 * scale)


# ------------------------------------------------------------------------------------------------------------
# coverage: many synthetic experiments with a known true lift

REPS = 2000
Gen = Callable[[np.random.Generator], tuple[Floats, Floats]]


def _coverage(draw: Gen, truth: float, interval: str = "auto", relative_truth: float | None = None) -> float:
    rng = np.random.default_rng(20240601)
    hits = 0
    for _ in range(REPS):
        t, h = draw(rng)
        r = difference_in_means(t, h, interval=interval)  # type: ignore[arg-type]
        if relative_truth is None:
            hits += r.ci95[0] <= truth <= r.ci95[1]
        else:
            assert r.relative_ci95 is not None
            hits += r.relative_ci95[0] <= relative_truth <= r.relative_ci95[1]
    return hits / REPS


def _spend(rng: np.random.Generator) -> tuple[Floats, Floats]:
    """Zero-inflated exponential spend: 30% of treated and 25% of holdout units buy, mean basket 10."""
    n = 400
    return (
        (rng.random(n) < 0.30) * rng.exponential(10.0, n),
        (rng.random(n) < 0.25) * rng.exponential(10.0, n),
    )


def _conversions(rng: np.random.Generator) -> tuple[Floats, Floats]:
    n = 300
    return (rng.random(n) < 0.08).astype(float), (rng.random(n) < 0.05).astype(float)


@pytest.mark.parametrize(
    ("draw", "truth", "interval"),
    [(_spend, 0.30 * 10 - 0.25 * 10, "auto"), (_conversions, 0.03, "auto"), (_conversions, 0.03, "welch")],
    ids=["spend-welch", "conversion-newcombe", "conversion-wald"],
)
def test_interval_covers_the_true_lift_about_95_percent(draw: Gen, truth: float, interval: str) -> None:
    coverage = _coverage(draw, truth, interval)
    assert 0.92 <= coverage <= 0.98, coverage


def test_relative_interval_covers_the_true_ratio() -> None:
    coverage = _coverage(_spend, 0.0, relative_truth=0.30 / 0.25 - 1.0)
    assert 0.92 <= coverage <= 0.98, coverage


def test_incremental_totals_cover_the_true_increment() -> None:
    rng = np.random.default_rng(11)
    n_t, n_h = 600, 400
    p_t, p_h, basket = 0.10, 0.07, 50.0
    true_orders, true_gmv = (p_t - p_h) * n_t, (p_t - p_h) * basket * n_t
    orders_hits = gmv_hits = 0
    for _ in range(REPS):
        bt, bh = rng.random(n_t) < p_t, rng.random(n_h) < p_h
        vt = bt * rng.exponential(basket, n_t)
        vh = bh * rng.exponential(basket, n_h)
        r = incremental_totals(
            n_t,
            int(bt.sum()),
            float(vt.sum()),
            n_h,
            int(bh.sum()),
            float(vh.sum()),
            treated_value_sumsq=float((vt**2).sum()),
            holdout_value_sumsq=float((vh**2).sum()),
        )
        assert r.gmv_ci95 is not None
        orders_hits += r.orders_ci95[0] <= true_orders <= r.orders_ci95[1]
        gmv_hits += r.gmv_ci95[0] <= true_gmv <= r.gmv_ci95[1]
    assert 0.92 <= orders_hits / REPS <= 0.98, orders_hits / REPS
    assert 0.92 <= gmv_hits / REPS <= 0.98, gmv_hits / REPS


# ------------------------------------------------------------------------------------------------------------
# incremental totals


def test_incremental_totals_scale_per_unit_lift_to_the_treated_group() -> None:
    r = incremental_totals(
        1000, 50, 5000.0, 800, 24, 2400.0, treated_value_sumsq=5000.0 * 150, holdout_value_sumsq=2400.0 * 150
    )
    assert isinstance(r, IncrementalResult)
    assert r.incremental_orders == pytest.approx((0.05 - 0.03) * 1000)
    assert r.incremental_gmv == pytest.approx((5.0 - 3.0) * 1000)
    assert r.orders_ci95 == pytest.approx((r.orders.ci95[0] * 1000, r.orders.ci95[1] * 1000))
    assert r.orders.method.startswith("difference of proportions, Newcombe")
    assert r.gmv is not None and r.gmv.method.startswith("difference in means, Welch")
    assert r.gmv_ci95 is not None and r.gmv_ci95[0] < r.incremental_gmv < r.gmv_ci95[1]
    assert r.orders_p_value == r.orders.p_value and r.gmv_p_value == r.gmv.p_value
    d = r.to_dict()
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    assert d["incremental_orders"] == pytest.approx(20.0)


def test_incremental_gmv_without_sums_of_squares_has_no_interval() -> None:
    r = incremental_totals(1000, 50, 5000.0, 800, 24, 2400.0)
    assert r.incremental_gmv == pytest.approx(2000.0)
    assert r.gmv_ci95 is None and r.gmv is None and r.gmv_p_value is None
    assert r.to_dict()["gmv_ci95"] is None


def test_incremental_orders_may_count_repeat_orders() -> None:
    # 3 units ordered twice: 1000 units, 53 orders; sum of squares 50 + 3*3 = 59... per unit: 47*1 + 3*4
    r = incremental_totals(
        1000, 53, 0.0, 800, 24, 0.0, treated_conversions_sumsq=47 + 3 * 4, holdout_conversions_sumsq=24
    )
    assert r.incremental_orders == pytest.approx((0.053 - 0.03) * 1000)
    assert r.orders.method.startswith("difference in means, Welch")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"treated_conversions": 1001}, "between 0 and treated_n=1000"),
        ({"holdout_conversions": 2.5}, "holdout_conversions"),
        ({"holdout_n": 0}, "holdout: the group is empty"),
        ({"treated_value_sumsq": 1.0}, "both groups or for neither"),
        ({"treated_value_sumsq": 1.0, "holdout_value_sumsq": 1e9}, "inconsistent"),
        ({"treated_value": float("inf")}, "finite"),
    ],
)
def test_incremental_totals_rejects_bad_counts(kwargs: dict[str, float], match: str) -> None:
    args: dict[str, float] = {
        "treated_n": 1000,
        "treated_conversions": 50,
        "treated_value": 5000.0,
        "holdout_n": 800,
        "holdout_conversions": 24,
        "holdout_value": 2400.0,
    }
    args.update(kwargs)
    with pytest.raises(InputError, match=match):
        incremental_totals(**args)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------------------
# Hillstrom: a real randomised e-mail experiment (SOURCE.md publishes the figures)

# (arm, metric, published lift, scale to the published unit, decimals shown)
PUBLISHED = [
    ("Mens E-Mail", "visit", 7.66, 100, 2),
    ("Womens E-Mail", "visit", 4.52, 100, 2),
    ("Mens E-Mail", "conversion", 0.68, 100, 2),
    ("Womens E-Mail", "conversion", 0.31, 100, 2),
    ("Mens E-Mail", "spend", 0.770, 1, 3),
    ("Womens E-Mail", "spend", 0.424, 1, 3),
]
# group: (n, visit %, conversion %, spend per customer) from SOURCE.md's table
GROUPS = {
    "Mens E-Mail": (21307, 18.276, 1.253, 1.4226),
    "Womens E-Mail": (21387, 15.140, 0.884, 1.0772),
    "No E-Mail": (21306, 10.617, 0.573, 0.6528),
}


@needs_hillstrom
@pytest.mark.parametrize(("arm", "metric", "published", "scale", "decimals"), PUBLISHED)
def test_hillstrom_lift_matches_published_figures(
    arm: str, metric: str, published: float, scale: int, decimals: int
) -> None:
    r = lift_from_units(HILLSTROM, group="segment", treatment=arm, holdout="No E-Mail", metric=metric)
    assert isinstance(r, LiftResult) and r.metric == metric
    assert round(r.lift * scale, decimals) == pytest.approx(published, abs=1e-9)
    assert r.ci95[0] < r.lift < r.ci95[1]
    assert r.ci95[0] > 0  # every arm/metric lift is significant in this experiment
    assert (r.n_treatment, r.n_holdout) == (GROUPS[arm][0], GROUPS["No E-Mail"][0])
    column = {"visit": 1, "conversion": 2, "spend": 3}[metric]
    for mean, group in ((r.treatment_mean, arm), (r.holdout_mean, "No E-Mail")):
        shown = GROUPS[group][column]
        places = 3 if metric != "spend" else 4
        assert round(mean * (100 if metric != "spend" else 1), places) == pytest.approx(shown, abs=1e-9)
    expected_method = "Newcombe" if metric in ("visit", "conversion") else "Welch"
    assert expected_method in r.method


@needs_hillstrom
def test_hillstrom_wald_and_newcombe_agree_at_this_size() -> None:
    groups = read_groups(HILLSTROM, "segment", "conversion", ["Mens E-Mail", "No E-Mail"])
    newcombe = difference_in_means(groups["Mens E-Mail"], groups["No E-Mail"])
    wald = difference_in_means(groups["Mens E-Mail"], groups["No E-Mail"], interval="welch")
    assert wald.ci95 == pytest.approx(newcombe.ci95, abs=2e-4)


@needs_hillstrom
def test_hillstrom_incremental_totals_match_unit_level_lift() -> None:
    conv = read_groups(HILLSTROM, "segment", "conversion", ["Mens E-Mail", "No E-Mail"])
    spend = read_groups(HILLSTROM, "segment", "spend", ["Mens E-Mail", "No E-Mail"])
    t_c, h_c, t_s, h_s = conv["Mens E-Mail"], conv["No E-Mail"], spend["Mens E-Mail"], spend["No E-Mail"]
    r = incremental_totals(
        t_c.size,
        int(t_c.sum()),
        float(t_s.sum()),
        h_c.size,
        int(h_c.sum()),
        float(h_s.sum()),
        treated_value_sumsq=float((t_s**2).sum()),
        holdout_value_sumsq=float((h_s**2).sum()),
    )
    unit = difference_in_means(t_s, h_s)
    assert r.incremental_orders == pytest.approx(0.006805 * 21307, rel=1e-3)  # ≈ 145 extra buyers
    assert r.incremental_gmv == pytest.approx(unit.lift * 21307)  # ≈ $16,400
    assert r.gmv_ci95 == pytest.approx((unit.ci95[0] * 21307, unit.ci95[1] * 21307), rel=1e-6)


# ------------------------------------------------------------------------------------------------------------
# unit tables: CSV and Parquet


def _write_csv(path: Path, rows: list[list[str]], header: list[str] | None = None) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header or ["user", "arm", "spend"])
        w.writerows(rows)
    return path


ROWS = [["u1", "email", "10"], ["u2", "none", "0"], ["u3", "email", "0"], ["u4", "none", "5.5"]]


def test_csv_lift_and_other_groups_are_skipped(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "u.csv", [*ROWS, ["u5", "sms", "not a number"]])
    r = lift_from_units(path, "arm", "email", "none", "spend")
    assert r.treatment_mean == 5.0 and r.holdout_mean == 2.75 and r.metric == "spend"


def test_csv_missing_column_names_file_line_and_column(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "u.csv", ROWS)
    with pytest.raises(InputError) as err:
        lift_from_units(path, "arm", "email", "none", "gmv")
    msg = str(err.value)
    assert str(path) in msg and "line 1" in msg and "'gmv'" in msg and "'spend'" in msg


def test_unknown_group_value_lists_values_present(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "u.csv", ROWS)
    with pytest.raises(InputError) as err:
        lift_from_units(path, "arm", "Email", "none", "spend")
    msg = str(err.value)
    assert str(path) in msg and "'arm'" in msg and "'Email'" in msg
    assert "'email' (2 rows)" in msg and "'none' (2 rows)" in msg and "did you mean 'email'" in msg


@pytest.mark.parametrize(("cell", "match"), [("ten", "cannot read 'ten'"), ("", "empty"), ("inf", "finite")])
def test_unparseable_metric_names_file_line_and_column(tmp_path: Path, cell: str, match: str) -> None:
    path = _write_csv(tmp_path / "u.csv", [*ROWS[:2], ["u3", "email", cell], ROWS[3]])
    with pytest.raises(InputError, match=match) as err:
        lift_from_units(path, "arm", "email", "none", "spend")
    assert f"{path}, line 4, column 'spend'" in str(err.value)


def test_csv_line_numbers_count_multiline_fields(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "u.csv", [["u1\nwith a newline", "email", "1"], *ROWS[1:], ["u5", "none", "x"]])
    with pytest.raises(InputError, match="line 7, column 'spend'"):
        lift_from_units(path, "arm", "email", "none", "spend")


def test_csv_group_with_one_unit_is_an_input_error(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "u.csv", [*ROWS, ["u5", "sms", "1"]])
    with pytest.raises(InputError, match="treatment: the group has 1 unit") as err:
        lift_from_units(path, "arm", "sms", "none", "spend")
    assert str(path) in str(err.value)


def test_csv_other_problems(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot open"):
        lift_from_units(tmp_path / "absent.csv", "arm", "email", "none", "spend")
    with pytest.raises(InputError, match="extension"):
        lift_from_units(tmp_path / "u.xlsx", "arm", "email", "none", "spend")
    with pytest.raises(InputError, match="both 'email'"):
        lift_from_units(tmp_path / "u.csv", "arm", "email", "email", "spend")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InputError, match="empty"):
        lift_from_units(tmp_path / "empty.csv", "arm", "email", "none", "spend")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("user,arm,spend\nu1,email,1\nu2,none\n")
    with pytest.raises(InputError, match=r"line 3: 2 fields where the header has 3"):
        lift_from_units(ragged, "arm", "email", "none", "spend")


def test_csv_gzip_and_byte_order_mark(tmp_path: Path) -> None:
    text = "\ufeffuser,arm,spend\n" + "".join(",".join(r) + "\n" for r in ROWS)
    with gzip.open(tmp_path / "u.csv.gz", "wt", encoding="utf-8") as f:
        f.write(text)
    r = lift_from_units(tmp_path / "u.csv.gz", "arm", "email", "none", "spend")
    assert r.lift == pytest.approx(2.25)


def test_parquet_units(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "u.parquet"
    pq.write_table(pa.table({"arm": [1, 0, 1, 0, 2], "spend": [10.0, 0.0, 0.0, 5.5, None], "x": ["a"] * 5}), path)
    r = lift_from_units(path, "arm", "1", "0", "spend")
    assert r.lift == pytest.approx(2.25)
    with pytest.raises(InputError, match=r"row 5, column 'spend': null"):
        lift_from_units(path, "arm", "2", "0", "spend")
    with pytest.raises(InputError, match="no column 'gmv'"):
        lift_from_units(path, "arm", "1", "0", "gmv")
    present = "values present: '0' \\(2 rows\\), '1' \\(2 rows\\), '2' \\(1 row\\)"
    with pytest.raises(InputError, match=present):
        lift_from_units(path, "arm", "3", "0", "spend")
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    with pytest.raises(InputError, match="Parquet"):
        lift_from_units(bad, "arm", "1", "0", "spend")
