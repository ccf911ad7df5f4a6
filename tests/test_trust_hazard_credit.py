"""The deception detector's hazard credit route: each order split between its touches and a baseline by the
additive-hazard model (:func:`hongmao.engine.trust_outcomes.hazard_credited`), beside the rule-model route."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from conftest import event, user
from enginekit import at, on, write_segment
from hongmao.engine import trust_outcomes
from hongmao.engine.hazard import BrandShares
from hongmao.engine.trust import trust_inputs
from hongmao.errors import AttributionError
from hongmao.trust import TrustParams, assemble


def test_order_shares_sum_an_orders_touches_per_key_and_skip_touches_with_none() -> None:
    touches = pa.table({"creator_id": ["a", "b", "a", None], "note_id": ["n1", "n2", "n3", "n4"]})
    orders = pa.table({"order_id": ["o1", "o2"]})
    data = SimpleNamespace(pair_order=np.array([0, 0, 0, 1, 1]), pair_touch=np.array([0, 1, 2, 2, 3]))
    shares = BrandShares(
        part=SimpleNamespace(touches=touches, orders=orders),  # type: ignore[arg-type]
        data=data,  # type: ignore[arg-type]
        fit=None,  # type: ignore[arg-type]
        pair_share=np.array([0.2, 0.3, 0.1, 0.5, 0.25]),
        base_share=np.array([0.4, 0.25]),
    )
    got = shares.order_shares("creator_id")
    assert {(o, k): w for o, k, w in zip(*got, strict=True)} == pytest.approx(
        {("o1", "a"): 0.3, ("o1", "b"): 0.3, ("o2", "a"): 0.5}
    )
    notes = shares.order_shares("note_id")
    assert len(notes[0]) == 5 and float(notes[2].sum()) == pytest.approx(1.35)


def deceptive_lake() -> list[dict[str, Any]]:
    """One brand, two notes read by 60 buyers each, 120 buyers who read nothing: half of the oversold note's
    buyers and one in twenty of everyone else's return the item as not as described."""
    events: list[dict[str, Any]] = [
        event("item.listed", at(0), item_id="i1", store_id="s1", brand="Lumi", category="skincare", price=100),
        event("note.published", at(0), note_id="oversold", creator_id="liar", brand="Lumi"),
        event("note.published", at(0), note_id="fair", creator_id="truthful", brand="Lumi"),
    ]
    for k in range(240):
        buyer = user(k)
        note = "oversold" if k < 60 else "fair" if k < 120 else None
        day = 1 + k % 10
        if note:
            events.append(event("note.read", at(day), note_id=note, user=buyer, dwell_ms=20_000))
        order = f"o{k + 1}"
        events.append(
            event(
                "market.order",
                at(day + 0.5 if note else day + 3),
                order_id=order,
                user=buyer,
                lines=[{"item_id": "i1", "price": 100}],
                amount=100,
            )
        )
        if (note == "oversold" and k % 2 == 0) or (note != "oversold" and k % 20 == 0):
            events.append(event("market.refund", at(day + 4), order_id=order, amount=100, reason="not_as_described"))
    events.append(event("note.read", at(40), note_id="fair", user=user(999), dwell_ms=5_000))  # data end: day 40
    return events


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_segment(tmp_path_factory.mktemp("hazard-credit") / "seg.parquet", deceptive_lake())


def test_hazard_rows_give_each_order_at_most_one_and_name_the_notes_creator(lake: Path) -> None:
    session = on([lake])
    rows = trust_outcomes.hazard_credited(session, session.events)
    assert set(rows) == {"note", "creator"}
    for by, keys in (("note", {"oversold", "fair"}), ("creator", {"liar", "truthful"})):
        per_order: dict[str, float] = {}
        for r in rows[by]:
            assert r["key"] in keys and r["weight"] > 0
            per_order[r["order_id"]] = per_order.get(r["order_id"], 0.0) + r["weight"]
        assert max(per_order.values()) <= 1.0 + 1e-9
        assert set(per_order) <= {f"o{k + 1}" for k in range(120)}  # orders with no touch are nobody's
    group = {r["key"]: r["group"] for r in rows["note"]}
    assert group == {"oversold": "liar", "fair": "truthful"}
    with pytest.raises(AttributionError):
        trust_outcomes.hazard_credited(session, session.events, ("brand",))
    with pytest.raises(AttributionError):
        trust_outcomes.hazard_credited(session, session.events, strata=0)


def test_hazard_route_flags_the_oversold_note_and_is_deterministic(lake: Path) -> None:
    params = TrustParams(model="hazard")
    first = assemble(trust_inputs(on([lake]), params), params)
    again = assemble(trust_inputs(on([lake]), params), params)
    assert json.dumps(first, sort_keys=True, default=str) == json.dumps(again, sort_keys=True, default=str)
    notes = {e["note_id"]: e for e in first["notes"]}
    assert notes["oversold"]["flags"] == ["deceptive"] and notes["fair"]["flags"] == []
    creators = {e["creator_id"]: e for e in first["creators"]}
    assert creators["liar"]["flags"] == ["deceptive"] and creators["truthful"]["flags"] == []
    assert first["summary"]["params"]["model"] == "hazard"
    rule = TrustParams(model="linear")
    linear = assemble(trust_inputs(on([lake]), rule), rule)
    # the hazard route credits the note less than every order its readers placed (a baseline keeps a share)
    hazard_orders = notes["oversold"]["evidence"]["deceptive"]["orders"]
    linear_orders = {e["note_id"]: e for e in linear["notes"]}["oversold"]["evidence"]["deceptive"]["orders"]
    assert linear_orders == pytest.approx(60) and 0 < hazard_orders < linear_orders
