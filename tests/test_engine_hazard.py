"""``hongmao attribute --model hazard`` on the engine: every order split between touches and the baseline
(attributed + baseline = orders, in orders and in GMV), a ``(baseline)`` row, every grouping, input order not
mattering, community searches left out, clear errors for bad parameters, and on a small simulated world a baseline
near the organic orders."""

from __future__ import annotations

import json
import random
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import event, user
from enginekit import T0, at, two_brand_catalog, write_segment
from hongmao.cli.app import app
from hongmao.engine import attribute_segments
from hongmao.engine.hazard import BASELINE
from hongmao.errors import AttributionError
from simkit import small_world

runner = CliRunner()


def lake_events(seed: int = 0) -> list[dict[str, Any]]:
    """Two brands, 60 people: readers buy more than the rest, a few click a link and buy the same day."""
    rng = random.Random(seed)
    events: list[dict[str, Any]] = two_brand_catalog()
    orders = 0
    for i in range(60):
        who = user(i + 1)
        for note in ("n1", "n2", "n3"):
            events.append(event("note.impression", at(rng.uniform(0, 20)), note_id=note, user=who))
        reads = [(note, rng.uniform(0, 18)) for note in ("n1", "n2", "n3") if rng.random() < 0.5]
        for note, day in reads:
            events.append(event("note.read", at(day), note_id=note, user=who, dwell_ms=9000))
        if rng.random() < 0.2:
            day = rng.uniform(0, 18)
            events.append(event("link.click", at(day), click_id=f"k{i}", link_id="l2", user=who))
            reads.append(("n2", day))
        for note, day in reads:
            if rng.random() < 0.4:
                item, amount = ("i2", 50.0) if note == "n3" else ("i1", 100.0)
                orders += 1
                events.append(order(f"o{orders}", who, day + rng.uniform(0.1, 2.0), item, amount))
        if rng.random() < 0.1:
            orders += 1
            events.append(order(f"o{orders}", who, rng.uniform(0, 20), "i1", 100.0))
    events.append(event("market.refund", at(21), order_id="o1", amount=30.0))
    return events


def order(oid: str, who: str, days: float, item: str, amount: float) -> dict[str, Any]:
    lines = [{"item_id": item, "price": amount}]
    return event("market.order", at(days), order_id=oid, user=who, lines=lines, amount=amount)


EVENTS = lake_events()  # once: event ids are drawn from a counter


@pytest.fixture(scope="module")
def segment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_segment(tmp_path_factory.mktemp("hazard") / "seg.parquet", EVENTS)


def test_orders_split_between_touches_and_baseline(segment: Path) -> None:
    result = attribute_segments([segment], model="hazard", by="note")
    assert result.model == "hazard" and result.baseline_orders is not None
    keys = [r["key"] for r in result.rows]
    assert keys[-1] == BASELINE and {"n1", "n2", "n3"} <= set(keys)
    touches = [r for r in result.rows if r["key"] != BASELINE]
    baseline = result.rows[-1]
    assert sum(r["orders"] for r in touches) == pytest.approx(result.total_orders, abs=1e-9)
    assert baseline["orders"] == pytest.approx(result.baseline_orders, abs=1e-9)
    # attributed + baseline = orders (every order here has a known brand and person)
    assert result.total_orders + result.baseline_orders == pytest.approx(result.orders, abs=1e-9)
    assert result.unattributed_orders == 0
    assert 0 < result.baseline_orders < result.orders
    # GMV and net GMV are split the same way, in full
    by_item = attribute_segments([segment], model="hazard", by="item")
    gmv = sum(r["gmv"] for r in result.rows)
    assert gmv == pytest.approx(sum(r["gmv"] for r in by_item.rows), abs=1e-6)
    assert sum(r["net_gmv"] for r in result.rows) == pytest.approx(gmv - 30.0, abs=1e-6)
    assert result.to_dict()["baseline_orders"] == result.baseline_orders
    fits = result.params["brands"]
    assert set(fits) == {"Lumi", "Oat"} and all(f["orders"] > 0 for f in fits.values())


@pytest.mark.parametrize("by", ["creator", "brand", "campaign", "item"])
def test_every_grouping_credits_the_same_orders(segment: Path, by: str) -> None:
    note = attribute_segments([segment], model="hazard", by="note")
    other = attribute_segments([segment], model="hazard", by=by)
    assert other.total_orders == pytest.approx(note.total_orders, abs=1e-9)
    assert other.baseline_orders == pytest.approx(note.baseline_orders, abs=1e-9)
    if by == "creator":  # c1 wrote n1 and n3
        credit = {r["key"]: r["orders"] for r in other.rows}
        notes = {r["key"]: r["orders"] for r in note.rows}
        assert credit["c1"] == pytest.approx(notes["n1"] + notes["n3"], abs=1e-9)


def test_input_order_does_not_matter(tmp_path: Path, segment: Path) -> None:
    events = list(EVENTS)
    random.Random(7).shuffle(events)
    half = len(events) // 2
    parts = [write_segment(tmp_path / "a.parquet", events[:half]), write_segment(tmp_path / "b.parquet", events[half:])]
    base = attribute_segments([segment], model="hazard", by="note")
    again = attribute_segments(parts, model="hazard", by="note")
    assert [(r["key"], r["orders"], r["gmv"]) for r in again.rows] == [
        (r["key"], r["orders"], r["gmv"]) for r in base.rows
    ]


def test_feed_state_strata_split_every_order_and_ignore_input_order(tmp_path: Path, segment: Path) -> None:
    """With the baseline cut by each person-day's recent feed share of the brand's category, every order is
    still split in full between touches and the baseline, and the same events in another order give the same
    credit."""
    params = {"feed_bins": 3, "feed_window_days": 3}
    result = attribute_segments([segment], model="hazard", by="note", hazard=params)
    assert result.baseline_orders is not None and 0 < result.baseline_orders < result.orders
    assert result.total_orders + result.baseline_orders == pytest.approx(result.orders, abs=1e-9)
    plain = attribute_segments([segment], model="hazard", by="note")
    assert result.baseline_orders != pytest.approx(plain.baseline_orders, abs=1e-9)  # the strata did change
    events = list(EVENTS)
    random.Random(11).shuffle(events)
    again = attribute_segments(
        [write_segment(tmp_path / "shuffled.parquet", events)], model="hazard", by="note", hazard=params
    )
    assert [(r["key"], round(r["orders"], 9)) for r in again.rows] == [
        (r["key"], round(r["orders"], 9)) for r in result.rows
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"history_days": 7},
        {"onset": True},
        {"routes": ["click"]},
        {"history_days": 3, "onset": True, "routes": ["click"]},
        {"frailty": True},
        {"frailty": True, "feed_bins": 2},
        {"shapley_days": 1},
        {"shapley_days": 7, "routes": ["click"]},
    ],
)
def test_history_onset_and_routes_split_every_order(segment: Path, params: dict[str, Any]) -> None:
    """The baseline's purchase-history term, the lagged onset and clicks as routes each still split every order
    in full between touches and the baseline, and report what they fitted."""
    result = attribute_segments([segment], model="hazard", by="note", hazard=params)
    assert result.baseline_orders is not None and 0 < result.baseline_orders < result.orders
    assert result.total_orders + result.baseline_orders == pytest.approx(result.orders, abs=1e-9)
    fits = result.params["brands"]
    for fit in fits.values():
        assert (fit["onset_days"] is not None) == bool(params.get("onset"))
        assert (fit["frailty_shape"] is not None) == bool(params.get("frailty"))
        if not params.get("history_days"):
            assert fit["recent_purchase_factor"] == 1.0
    if params.get("routes"):  # a click's share goes to the other terms and the baseline: more baseline
        plain = attribute_segments([segment], model="hazard", by="note", hazard={**params, "routes": []})
        assert result.baseline_orders > plain.baseline_orders
    if params.get("shapley_days"):  # the probability is concave in the hazard: more to the baseline
        plain = attribute_segments([segment], model="hazard", by="note", hazard={**params, "shapley_days": 0})
        assert result.baseline_orders > plain.baseline_orders


def test_recent_purchases_mark_the_days_after_a_category_order() -> None:
    """A person's days just after their own purchase in the brand's category (any brand of it), the day of the
    purchase itself not counted, and no other person's days."""
    import pyarrow as pa

    from hongmao.engine.hazard_data import LakeHazard, _recent_purchases

    orders = pa.table(
        {
            "order_id": ["o1", "o2", "o3"],
            "user": ["u1", "u2", "u1"],
            "brand": ["Lumi", "Other", "Oat"],
            "item_id": ["i1", "i9", "i2"],
            "amount": [1.0, 1.0, 1.0],
            "net": [1.0, 1.0, 1.0],
            "day": [2, 5, 8],
        }
    )
    empty = pa.table({"x": pa.array([], pa.int64())})
    lake = LakeHazard(
        10.0,
        ["u1", "u2", "u3"],
        {},
        {"Lumi": "skincare", "Other": "skincare", "Oat": "food"},
        empty,
        orders,
        empty,
        empty,
    )
    people, recent = _recent_purchases(lake, "Lumi", 3)
    assert people.tolist() == [0, 1]  # u3 bought nothing; Oat is another category
    assert np.flatnonzero(recent[0]).tolist() == [3, 4, 5]
    assert np.flatnonzero(recent[1]).tolist() == [6, 7, 8]


def test_community_searches_are_not_touches(tmp_path: Path, segment: Path) -> None:
    """A person's own search for a brand follows intent; the model neither credits it nor lets it take the
    orders after it from the notes: the credits are exactly those of the lake without the searches."""
    searches = [
        event("community.search", at(o_day - 0.05), user=o["data"]["user"], query="lumi 测评")
        for o, o_day in _orders_of(EVENTS, "i1")[::2]
    ]
    assert len(searches) >= 5
    with_searches = write_segment(tmp_path / "searches.parquet", [*EVENTS, *searches])
    # the searches are touches of the lake (last-click credits them) ...
    last = attribute_segments([with_searches], model="last", by="note")
    assert any(r["key"] == "(community search)" and r["orders"] > 0 for r in last.rows)
    # ... but not of the hazard model
    base = attribute_segments([segment], model="hazard", by="note")
    again = attribute_segments([with_searches], model="hazard", by="note")
    assert "(community search)" not in {r["key"] for r in again.rows}
    assert [(r["key"], r["orders"]) for r in again.rows] == [(r["key"], r["orders"]) for r in base.rows]
    assert all("search" not in f["effect_per_day"] for f in again.params["brands"].values())
    assert "search" not in again.params["touches"] and "read" in again.params["touches"]


def _orders_of(events: list[dict[str, Any]], item: str) -> list[tuple[dict[str, Any], float]]:
    """The orders of ``item`` in ``events`` with their time in days after T0."""
    out = []
    for e in events:
        if e["type"] == "market.order" and e["data"]["lines"][0]["item_id"] == item:
            out.append((e, (datetime.fromisoformat(e["time"]) - T0).total_seconds() / 86400))
    return out


def test_bad_parameters_are_refused(segment: Path) -> None:
    for params, reason in (
        ({"horizon": 3}, "no parameter horizon"),
        ({"strata": 0}, "strata"),
        ({"horizon_days": 2.5}, "horizon_days"),
        ({"prior_sd_note": -1.0}, "prior_sd_note"),
        ({"utc_offset_hours": 20}, "utc_offset_hours"),
        ({"feed_bins": -1}, "feed_bins"),
        ({"feed_window_days": 0}, "feed_window_days"),
        ({"history_days": -1}, "history_days"),
        ({"onset": "yes"}, "onset"),
        ({"frailty": 1}, "frailty"),
        ({"frailty": True, "history_days": 3}, "cannot be combined"),
        ({"routes": ["search"]}, "routes"),
        ({"routes": "click"}, "routes"),
        ({"shapley_days": -1}, "shapley_days"),
        ({"shapley_days": True}, "shapley_days"),
        ({"shapley_days": float("nan")}, "shapley_days"),
    ):
        with pytest.raises(AttributionError, match=reason):
            attribute_segments([segment], model="hazard", hazard=params)


def test_hazard_on_a_simulated_world(tmp_path_factory: pytest.TempPathFactory) -> None:
    from hongmao import api
    from hongmao.measure.accuracy import credit_error, true_credit

    world, lake = small_world(tmp_path_factory)
    rows = [json.loads(line) for line in (world / "truth" / "orders.jsonl").read_text(encoding="utf-8").splitlines()]
    truth = true_credit(rows)
    hazard = api.attribute(lake, "hazard", "note")
    last = api.attribute(lake, "last", "note")
    assert hazard.orders == truth.total_orders and hazard.baseline_orders is not None
    credited = {r["key"]: r["orders"] for r in hazard.rows if r["key"] != BASELINE}
    # the baseline takes a good part of the organic orders, which every rule model credits to notes
    assert hazard.baseline_orders > 0.5 * truth.organic_orders
    with_organic = credit_error(truth, credited, hazard.orders).misplaced_with_organic
    last_with_organic = credit_error(truth, {r["key"]: r["orders"] for r in last.rows}, last.orders)
    assert with_organic < last_with_organic.misplaced_with_organic

    out = runner.invoke(
        app, ["attribute", "--data", str(lake), "--model", "hazard", "--by", "creator", "--format", "json"]
    )
    assert out.exit_code == 0, out.output
    printed = json.loads(out.stdout)
    assert printed["model"] == "hazard" and printed["rows"][-1]["key"] == BASELINE
    table = runner.invoke(app, ["attribute", "--data", str(lake), "--model", "hazard", "--strata", "4"])
    assert table.exit_code == 0, table.output
    assert "baseline" in table.stdout


def test_records_without_a_person_do_not_stretch_the_observed_days(tmp_path: Path, segment: Path) -> None:
    """A real export lists items and notes long before the behaviour it holds. Counting each person's days
    from those would stretch the window, shrink the baseline and hand organic orders to the notes."""
    early = [
        event("item.listed", at(-15), item_id="i1", store_id="s1", brand="Lumi", category="skincare", price=100),
        event("note.published", at(-15), note_id="n3", creator_id="c1", brand="Oat", items=["i2"]),
        event("item.listed", at(-30), item_id="i9", store_id="s1", brand="Lumi", category="skincare", price=10),
    ]
    stretched = write_segment(tmp_path / "early.parquet", [*early, *EVENTS])
    base = attribute_segments([segment], model="hazard", by="note")
    again = attribute_segments([stretched], model="hazard", by="note")
    assert again.baseline_orders == pytest.approx(base.baseline_orders, abs=1e-9)
    assert [(r["key"], round(r["orders"], 9)) for r in again.rows] == [
        (r["key"], round(r["orders"], 9)) for r in base.rows
    ]
