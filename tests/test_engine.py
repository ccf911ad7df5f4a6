"""Attribution on the engine: exact credits for hand-built journeys, windows, touch kinds, refunds, and
properties over random worlds (credits per order sum to one, input order does not matter, refunds net out)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import event, user
from enginekit import at, on, write_segment
from enginekit import two_brand_catalog as catalog
from hongmao.engine import Windows, attribute_segments
from hongmao.engine.funnel import funnel
from hongmao.errors import AttributionError

U1, U2 = user(1), user(2)


def order(oid: str, who: str, days: float, item: str = "i1", amount: float = 100, **kw: Any) -> dict[str, Any]:
    return event(
        "market.order",
        at(days),
        order_id=oid,
        user=who,
        lines=[{"item_id": item, "price": amount}],
        amount=amount,
        **kw,
    )


def run(tmp_path: Path, events: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    seg = write_segment(tmp_path / f"seg-{random.random()}.parquet", events)
    return attribute_segments([seg], **kw).to_dict()


def credits(result: dict[str, Any]) -> dict[str, float]:
    return {r["key"]: round(r["orders"], 9) for r in result["rows"] if r["orders"]}


def test_three_touch_journey_under_every_rule_model(tmp_path: Path) -> None:
    events = [
        *catalog(),
        event("note.read", at(1), note_id="n1", user=U1, dwell_ms=9000),
        event("note.like", at(2), note_id="n1", user=U1),
        event("link.click", at(3), click_id="k", link_id="l2", user=U1),
        order("o1", U1, 4),
    ]
    expected = {
        "first": {"n1": 1.0},
        "last": {"n2": 1.0},
        "linear": {"n1": round(2 / 3, 9), "n2": round(1 / 3, 9)},
        "position": {"n1": 0.6, "n2": 0.4},
    }
    for model, want in expected.items():
        result = run(tmp_path, events, model=model)
        assert credits(result) == want, model
        assert result["total_orders"] == 1 and result["unattributed_orders"] == 0
    decay = run(tmp_path, events, model="time_decay", half_life_days=1.0)
    # ages 3, 2 and 1 days with a one-day half-life: weights 1/8, 1/4, 1/2 normalised.
    assert credits(decay) == {"n1": round(3 / 7, 9), "n2": round(4 / 7, 9)}


def test_windows_per_kind_and_category(tmp_path: Path) -> None:
    events = [
        *catalog(),
        event("note.impression", at(0.5), note_id="n1", user=U1),  # 3.5 days before: outside the 1-day window
        event("note.read", at(2), note_id="n3", user=U1, dwell_ms=1),  # Oat note: other brand, never counts
        event("note.read", at(-20), note_id="n2", user=U1, dwell_ms=1),  # 24 days before: outside 15 days
        order("o1", U1, 4),
    ]
    assert run(tmp_path, events, model="linear")["total_orders"] == 0
    wide = Windows.with_category_days({"skincare": 30})
    assert credits(run(tmp_path, events, model="linear", windows=wide)) == {"n2": 1.0}
    assert credits(
        run(tmp_path, events, model="linear", windows=Windows(days={**Windows().days, "impression": 5}))
    ) == {"n1": 1.0}


def test_touch_kinds_can_be_restricted_to_clicks(tmp_path: Path) -> None:
    events = [
        *catalog(),
        event("note.read", at(1), note_id="n1", user=U1, dwell_ms=1),
        event("link.click", at(2), click_id="k", link_id="l2", user=U1),
        order("o1", U1, 3),
        event("note.read", at(1), note_id="n1", user=U2, dwell_ms=1),
        order("o2", U2, 3),
    ]
    result = run(tmp_path, events, model="linear", touches=["click"])
    assert credits(result) == {"n2": 1.0}
    assert result["unattributed_orders"] == 1
    with pytest.raises(AttributionError):
        run(tmp_path, events, touches=["telepathy"])


def test_click_chain_resolves_an_anonymous_click_and_bots_are_left_out(tmp_path: Path) -> None:
    events = [
        *catalog(),
        event("link.click", at(1), click_id="k-anon", link_id="l2"),
        event("market.visit", at(1.001), user=U1, item_id="i1", click_id="k-anon"),
        event("link.click", at(2), click_id="k-bot", link_id="l2", user=U2, bot=True, ua_class="bot"),
        order("o1", U1, 2),
        order("o2", U2, 3),
    ]
    result = run(tmp_path, events, model="last", by="note")
    assert credits(result) == {"n2": 1.0}
    assert result["total_orders"] == 1 and result["unattributed_orders"] == 1


def test_refunds_reverse_credit_and_groupings(tmp_path: Path) -> None:
    events = [
        *catalog(),
        event("note.read", at(1), note_id="n1", user=U1, dwell_ms=1),
        event("note.read", at(2), note_id="n2", user=U1, dwell_ms=1),
        order("o1", U1, 3, amount=200),
        event("market.refund", at(5), order_id="o1", amount=50, reason="quality"),
        event("market.refund", at(6), order_id="o1", amount=500, reason="other"),  # over-refund is capped
    ]
    by_note = run(tmp_path, events, model="linear", by="note")
    assert {r["key"]: (r["gmv"], r["net_gmv"]) for r in by_note["rows"]} == {"n1": (100.0, 0.0), "n2": (100.0, 0.0)}
    by_campaign = run(tmp_path, events, model="linear", by="campaign")
    assert credits(by_campaign) == {"k1": 0.5, "(no campaign)": 0.5}
    by_creator = run(tmp_path, events, model="first", by="creator")
    assert credits(by_creator) == {"c1": 1.0}
    assert credits(run(tmp_path, events, model="last", by="brand")) == {"Lumi": 1.0}
    assert credits(run(tmp_path, events, model="last", by="item")) == {"i1": 1.0}


def test_community_search_naming_the_brand_is_a_touch(tmp_path: Path) -> None:
    events = [*catalog(), event("community.search", at(1), user=U1, query="lumi 精华 测评"), order("o1", U1, 2)]
    assert credits(run(tmp_path, events, model="last")) == {"(community search)": 1.0}
    assert run(tmp_path, events, touches=["read"])["total_orders"] == 0


def test_empty_lake_attributes_nothing() -> None:
    result = attribute_segments([], model="linear").to_dict()
    assert result == {"model": "linear", "by": "note", "rows": [], "total_orders": 0.0, "unattributed_orders": 0}


def test_funnel_counts(tmp_path: Path) -> None:
    events = [
        *catalog(),
        event("note.impression", at(1), note_id="n2", user=U1),
        event("note.read", at(1), note_id="n2", user=U1, dwell_ms=1),
        event("link.click", at(1.1), click_id="k", link_id="l2", user=U1),
        event("link.click", at(1.1), click_id="kb", link_id="l2", bot=True),
        event("market.visit", at(1.2), user=U1, item_id="i1", click_id="k"),
        event("note.read", at(1), note_id="n1", user=U2, dwell_ms=1),
        event("market.search", at(3), user=U2, query="Lumi serum"),
        event("market.cart", at(3.1), user=U2, item_id="i1"),
        order("o1", U2, 4),
        event("market.refund", at(6), order_id="o1", amount=10, reason="quality"),
    ]
    f = funnel(on([write_segment(tmp_path / "f.parquet", events)]))
    assert (f["impressions"], f["reads"], f["clicks"], f["store_visits"], f["search_back_users"]) == (1, 2, 1, 1, 1)
    assert (f["carts"], f["orders"], f["refunds"], f["gmv"]) == (1, 1, 1, 100.0)
    assert f["search_back_rate"] == 0.5 and f["matched_people"] == 2


# --- properties over random worlds -------------------------------------------------------------------

KINDS = ["note.impression", "note.read", "note.like", "link.click"]


@st.composite
def worlds(draw: st.DrawFn) -> list[dict[str, Any]]:
    events = catalog()
    n_users = draw(st.integers(1, 4))
    for u in range(n_users):
        who = user(100 + u)
        for t in range(draw(st.integers(0, 6))):
            kind = draw(st.sampled_from(KINDS))
            day = draw(st.integers(0, 200)) / 10
            if kind == "link.click":
                events.append(event(kind, at(day), click_id=f"k{u}-{t}", link_id="l2", user=who))
            elif kind == "note.read":
                events.append(event(kind, at(day), note_id=draw(st.sampled_from(["n1", "n2"])), user=who, dwell_ms=5))
            else:
                events.append(event(kind, at(day), note_id=draw(st.sampled_from(["n1", "n2"])), user=who))
        for o in range(draw(st.integers(0, 2))):
            oid = f"o{u}-{o}"
            amount = float(draw(st.integers(1, 500)))
            events.append(order(oid, who, draw(st.integers(0, 220)) / 10, amount=amount))
            if draw(st.booleans()):
                events.append(event("market.refund", at(23), order_id=oid, amount=float(draw(st.integers(0, 600)))))
    return events


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    world=worlds(),
    model=st.sampled_from(["first", "last", "linear", "position", "time_decay", "markov", "shapley"]),
    seed=st.integers(0, 9),
)
def test_properties_sum_order_refunds(tmp_path: Path, world: list[dict[str, Any]], model: str, seed: int) -> None:
    base = attribute_segments([write_segment(tmp_path / "a.parquet", world)], model=model, by="note")
    # Rows' orders sum to the attributed orders: each order's credits sum to one.
    assert sum(r["orders"] for r in base.rows) == pytest.approx(base.total_orders, abs=1e-9)
    assert base.total_orders + base.unattributed_orders == base.orders
    # Refunds net out: credited net GMV equals the attributed orders' value minus (capped) refunds.
    item = attribute_segments([write_segment(tmp_path / "b.parquet", world)], model=model, by="item")
    assert sum(r["net_gmv"] for r in base.rows) == pytest.approx(sum(r["net_gmv"] for r in item.rows), abs=1e-6)
    assert sum(r["gmv"] for r in base.rows) == pytest.approx(sum(r["gmv"] for r in item.rows), abs=1e-6)
    # Input order does not matter: shuffle the rows and split them over two segments.
    shuffled = list(world)
    random.Random(seed).shuffle(shuffled)
    half = len(shuffled) // 2
    segs = [
        write_segment(tmp_path / "c1.parquet", shuffled[:half] or catalog()),
        write_segment(tmp_path / "c2.parquet", shuffled[half:]),
    ]
    again = attribute_segments(segs, model=model, by="note")
    assert {r["key"]: round(r["orders"], 9) for r in again.rows} == {r["key"]: round(r["orders"], 9) for r in base.rows}


def test_data_driven_models_on_the_lake(tmp_path: Path) -> None:
    events = [
        *catalog(),
        event("note.read", at(1), note_id="n1", user=U1, dwell_ms=9000),
        event("note.like", at(2), note_id="n1", user=U1),  # same note again: one state, not a self-loop
        event("link.click", at(3), click_id="k", link_id="l2", user=U1),
        order("o1", U1, 4),
        event("note.read", at(1), note_id="n1", user=U2, dwell_ms=9000),  # read n1, never bought
    ]
    # Paths: n1 > n2 -> conversion, n1 -> null. Removing either note kills the only conversion: equal credit.
    assert credits(run(tmp_path, events, model="markov")) == {"n1": 0.5, "n2": 0.5}
    assert credits(run(tmp_path, events, model="shapley")) == {"n1": 0.5, "n2": 0.5}
    second = run(tmp_path, events, model="markov", markov_order=2)
    assert sum(r["orders"] for r in second["rows"]) == pytest.approx(1.0)


def test_the_shared_journeys_table_takes_times_with_fractions_of_a_second(tmp_path: Path) -> None:
    """The model comparison fetches one journeys table for every rule model; clicks logged by the redirect carry
    milliseconds, which once broke that fetch (epoch seconds typed int32)."""
    from hongmao.engine.attribute import attribute_rules as rule_results
    from hongmao.engine.session import Session
    from hongmao.reports.comparison import RULE_MODELS

    events = [
        *catalog(),
        event("note.read", at(1.0000123), note_id="n1", user=U1, dwell_ms=9000),
        event("link.click", at(3.0000045), click_id="k", link_id="l2", user=U1),
        order("o1", U1, 4.0000067),
    ]
    seg = write_segment(tmp_path / "frac.parquet", events)
    with Session([seg]) as session:
        shared = rule_results(session, list(RULE_MODELS), "note")
    for model in RULE_MODELS:
        alone = attribute_segments([seg], model=model, by="note")
        assert shared[model].rows == alone.rows and shared[model].total_orders == alone.total_orders == 1, model
