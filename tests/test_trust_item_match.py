"""The deceptive score's credit sharpened by the item each order bought (hongmao.trust.item_match)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from hongmao.trust.item_match import sharpen

ITEMS = [f"i{k}" for k in range(10)]


def _world(share: float, seed: int, orders: int = 3000) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """Orders of one brand, each crediting two notes alike (linear over two reads); one of them caused it. The
    cause's buyer buys one of its two linked items with probability ``share``, else an item by popularity."""
    rng = random.Random(seed)
    notes = {f"n{k}": frozenset(rng.sample(ITEMS, 2)) for k in range(20)}
    weights = [1.0 / (k + 1) for k in range(len(ITEMS))]
    rows: list[dict[str, Any]] = []
    bought: dict[str, dict[str, Any]] = {}
    for o in range(orders):
        pair = rng.sample(sorted(notes), 2)
        cause = pair[0]
        linked = rng.random() < share
        item = rng.choice(sorted(notes[cause])) if linked else rng.choices(ITEMS, weights=weights)[0]
        oid = f"o{o:05d}"
        bought[oid] = {"order_id": oid, "brand": "b", "item_id": item, "cause": cause}
        rows += [{"order_id": oid, "key": n, "weight": 0.5, "group": "c"} for n in pair]
    return rows, bought, notes


@pytest.mark.parametrize("share", [0.0, 0.4, 0.8])
def test_the_share_is_fitted_not_assumed(share: float) -> None:
    rows, orders, notes = _world(share, seed=7)
    _out, fit = sharpen(rows, orders, notes)
    # Orders' items are drawn once each, so the fit is within a few points of the share that made them.
    assert fit.share == pytest.approx(share, abs=0.06)
    assert fit.orders == 3000 and fit.converged


def test_sharpened_credit_finds_the_cause_more_often_and_keeps_each_orders_total() -> None:
    rows, orders, notes = _world(0.6, seed=11)
    out, _fit = sharpen(rows, orders, notes)
    totals: dict[str, float] = {}
    for r in out:
        totals[r["order_id"]] = totals.get(r["order_id"], 0.0) + r["weight"]
    assert all(t == pytest.approx(1.0) for t in totals.values())

    def on_cause(rs: list[dict[str, Any]]) -> float:
        return sum(r["weight"] for r in rs if orders[r["order_id"]]["cause"] == r["key"])

    # Linear gives the cause half of every order; knowing the item moves most of the rest onto it.
    assert on_cause(rows) == pytest.approx(1500.0)
    assert on_cause(out) > 1900.0


def test_no_link_following_leaves_the_credit_as_it_was() -> None:
    rows, orders, notes = _world(0.0, seed=3)
    out, fit = sharpen(rows, orders, notes)
    moved = sum(abs(a["weight"] - b["weight"]) for a, b in zip(sorted(rows, key=_k), out, strict=True))
    assert fit.share < 0.05
    assert moved / len(rows) < 0.05


def test_a_baseline_share_stays_with_the_baseline_when_the_item_says_nothing() -> None:
    # One order, half left to a baseline by the route (the hazard model's way); the note links nothing.
    rows = [{"order_id": "o1", "key": "n1", "weight": 0.5, "group": None}]
    orders = {"o1": {"brand": "b", "item_id": "i1"}}
    out, fit = sharpen(rows, orders, {})
    assert out[0]["weight"] == pytest.approx(0.5)
    assert fit.orders == 0


def test_the_result_does_not_depend_on_row_order() -> None:
    rows, orders, notes = _world(0.5, seed=5, orders=500)
    shuffled = rows[:]
    random.Random(1).shuffle(shuffled)
    a, fa = sharpen(rows, orders, notes)
    b, fb = sharpen(shuffled, orders, notes)
    assert fa == fb
    assert a == b


def test_a_linked_note_takes_from_the_baseline_what_the_item_gives_it() -> None:
    # The hazard route's way: each order half a note's, half the baseline's. Half the orders bought the item the
    # note links, and no order without the note did; the note's share of those orders rises, of the others falls.
    rows = [{"order_id": f"o{k}", "key": "n1", "weight": 0.5} for k in range(40)]
    orders = {f"o{k}": {"brand": "b", "item_id": "i1" if k % 2 else f"x{k % 4}"} for k in range(40)}
    orders |= {f"p{k}": {"brand": "b", "item_id": f"x{k % 4}"} for k in range(40)}  # no note: the brand's own way
    out, fit = sharpen(rows, orders, {"n1": frozenset({"i1"})})
    assert fit.converged and fit.share > 0.5
    bought_linked = [r["weight"] for r in out if orders[r["order_id"]]["item_id"] == "i1"]
    bought_other = [r["weight"] for r in out if orders[r["order_id"]]["item_id"] != "i1"]
    assert min(bought_linked) > 0.9 and max(bought_other) < 0.5
    assert all(0.0 <= r["weight"] <= 1.0 for r in out)


def test_a_notes_items_of_other_brands_do_not_count_against_it() -> None:
    rows, orders, notes = _world(0.6, seed=13, orders=800)
    brands = {i: "b" for i in ITEMS} | {"elsewhere": "other"}
    wider = {k: v | {"elsewhere"} for k, v in notes.items()}  # each note also links another brand's item
    plain, fit = sharpen(rows, orders, notes, brands)
    widened, fit_wide = sharpen(rows, orders, wider, brands)
    assert fit_wide == fit and widened == plain
    unfiltered, _fit = sharpen(rows, orders, wider)  # without the items' brands every link counts: less credit
    assert unfiltered != plain


def test_a_broken_weight_is_no_credit_and_spreads_nowhere() -> None:
    rows, orders, notes = _world(0.6, seed=17, orders=400)
    broken = [dict(r) for r in rows]
    broken[0]["weight"] = float("nan")
    out, fit = sharpen(broken, orders, notes)
    assert fit.converged and 0.4 < fit.share < 0.8
    assert all(r["weight"] == r["weight"] for r in out)  # no NaN anywhere
    assert next(r for r in out if _k(r) == _k(broken[0]))["weight"] == 0.0


def test_an_empty_lake_gives_an_empty_report_with_the_item_match_on() -> None:
    from hongmao.engine.session import Session
    from hongmao.engine.trust import trust_inputs
    from hongmao.trust import TrustParams, assemble

    with Session([], engine="duckdb", threads=1) as empty:
        report = assemble(trust_inputs(empty), TrustParams())
    assert report["creators"] == [] and report["summary"]["item_match"] == {
        "share": 0.0,
        "orders": 0,
        "iterations": 0,
        "converged": True,
    }


def _k(r: dict[str, Any]) -> tuple[str, str]:
    return (r["order_id"], r["key"])


# ---- on the engine: the note's items from the lake, the route's rows sharpened ------------------------------------


def linked_lake() -> list[dict[str, Any]]:
    """One brand, four items. Each of 80 buyers read two notes, one linking i1 and one i2, and bought one item:
    three in four bought the item of the note they read last (the one that persuaded them, here), the rest i3 or
    i4, which no note links. Forty buyers read nothing and bought each item alike: what the brand sells anyway."""
    from conftest import event, user
    from enginekit import at

    events: list[dict[str, Any]] = [
        *(
            event("item.listed", at(0), item_id=i, store_id="s1", brand="Lumi", category="skincare", price=100)
            for i in ("i1", "i2", "i3", "i4")
        ),
        event("note.published", at(0), note_id="n1", creator_id="c1", brand="Lumi", items=["i1"]),
        event("note.published", at(0), note_id="n2", creator_id="c2", brand="Lumi"),
        event(
            "link.created", at(0), link_id="l2", note_id="n2", item_id="i2", market="taobao", url="https://s.example/2"
        ),
    ]
    for k in range(120):
        buyer = user(k)
        day = 1 + k % 10
        if k < 80:
            first, last = ("n1", "n2") if k % 2 else ("n2", "n1")
            events.append(event("note.read", at(day), note_id=first, user=buyer, dwell_ms=20_000))
            events.append(event("note.read", at(day + 0.2), note_id=last, user=buyer, dwell_ms=20_000))
            own = "i1" if last == "n1" else "i2"
            item = own if (k // 2) % 4 else ("i3" if k % 2 else "i4")
        else:
            item = ("i1", "i2", "i3", "i4")[k % 4]
        events.append(
            event(
                "market.order",
                at(day + 0.5),
                order_id=f"o{k + 1}",
                user=buyer,
                lines=[{"item_id": item, "price": 100}],
                amount=100,
            )
        )
    return events


def test_the_lake_names_each_notes_items_and_the_route_sharpens_by_them(tmp_path: Path) -> None:
    from enginekit import on, write_segment
    from hongmao.engine import trust_outcomes
    from hongmao.engine.trust import credited_rows
    from hongmao.trust import TrustParams

    session = on([write_segment(tmp_path / "seg.parquet", linked_lake())])
    ev = session.events
    got = sorted((r["note_id"], r["item_id"]) for r in session.rows(trust_outcomes.note_items(ev)))
    assert got == [("n1", "i1"), ("n2", "i2")]  # from the publication's list and from a link made for the note

    # the rule route, whose split is worked by hand below (the item match is on by default)
    plain, no_fit = credited_rows(session, ev, TrustParams(model="linear", item_match=False), None)
    sharp, fit = credited_rows(session, ev, TrustParams(model="linear"), None)
    assert no_fit is None and fit is not None and fit.converged and fit.share == pytest.approx(0.5, abs=1e-4)
    bought = {r["order_id"]: r["item_id"] for r in session.rows(trust_outcomes.order_outcomes(ev))}
    links = {"n1": "i1", "n2": "i2"}

    def on_bought(rows: list[dict[str, Any]]) -> float:
        return sum(r["weight"] for r in rows if links[r["key"]] == bought[r["order_id"]])

    assert on_bought(plain["note"]) == pytest.approx(30.0)  # linear: half of each order that bought i1 or i2
    # s by hand: readers buy i3 one time in eight, what buyers choose anyway a quarter of the time: (1 - s) / 4 =
    # 1/8, s = 1/2; an i1 buyer's posterior on n1 is (s + (1 - s) / 4) / (s + 2 (1 - s) / 4) = 5/6, on 60 orders
    assert on_bought(sharp["note"]) == pytest.approx(50.0, abs=0.01)
    # creators' rows are the notes' summed per creator, each order still whole
    per_creator = {(r["order_id"], r["key"]): r["weight"] for r in sharp["creator"]}
    for r in sharp["note"]:
        assert per_creator[(r["order_id"], r["group"])] == pytest.approx(r["weight"])
    assert sum(per_creator.values()) == pytest.approx(80.0)


def test_an_orders_brand_is_its_items_so_the_report_passes_the_orders_it_has(tmp_path: Path) -> None:
    from conftest import event, user
    from enginekit import at, on, write_segment
    from hongmao.engine import tables, trust_outcomes
    from hongmao.engine.trust import credited_rows
    from hongmao.trust import TrustParams

    # Two orders of an item nobody listed (no brand), read from a note linking it and a listed item: no route
    # credits them to a note, but they count in the items' shares by their brand, none.
    extra = [event("note.published", at(0), note_id="n3", creator_id="c3", brand="Lumi", items=["i9", "i1"])]
    for k in (200, 201):
        extra.append(event("note.read", at(2), note_id="n3", user=user(k), dwell_ms=20_000))
        extra.append(
            event(
                "market.order",
                at(2.5),
                order_id=f"o{k}",
                user=user(k),
                lines=[{"item_id": "i9", "price": 100}],
                amount=100,
            )
        )
    session = on([write_segment(tmp_path / "seg.parquet", linked_lake() + extra)])
    ev = session.events
    item_brands = {r["item_id"]: r["item_brand"] for r in session.rows(tables.items(ev))}
    conv = session.rows(tables.conversions(ev))
    assert {r["order_id"]: r["brand"] for r in conv} == {
        r["order_id"]: item_brands.get(r["item_id"]) for r in conv
    }  # what the item match derives from the order's item
    assert {r["brand"] for r in conv if r["item_id"] == "i9"} == {None}
    orders = session.rows(trust_outcomes.order_outcomes(ev))
    fetched, fit = credited_rows(session, ev, TrustParams(), None)
    given, fit_given = credited_rows(session, ev, TrustParams(), None, orders)
    assert given == fetched and fit_given == fit
    assert {"o200", "o201"} <= {r["order_id"] for r in orders}
