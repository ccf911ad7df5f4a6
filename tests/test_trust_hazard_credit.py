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
    got = shares.order_shares("creator_id").to_pylist()
    assert {(r["order_id"], r["key"]): r["weight"] for r in got} == pytest.approx(
        {("o1", "a"): 0.3, ("o1", "b"): 0.3, ("o2", "a"): 0.5}
    )
    notes = shares.order_shares("note_id")
    assert notes.num_rows == 5 and sum(notes["weight"].to_pylist()) == pytest.approx(1.35)


def row_by_row(shares: BrandShares, column: str) -> list[tuple[str, str, float]]:
    """``order_shares`` as it was built before it went column-wise: keys and order ids as Python lists, each key's
    index looked up in a dict (the reference the column-wise build must equal, row for row)."""
    d = shares.data
    keys = shares.part.touches[column].to_pylist()
    order_ids = shares.part.orders["order_id"].to_pylist()
    known = np.array([k is not None for k in keys], dtype=np.bool_)
    keep = known[d.pair_touch] & (shares.pair_share > 0)
    if not keep.any():
        return []
    distinct = sorted({str(k) for k in keys if k is not None})
    index = {k: i for i, k in enumerate(distinct)}
    key_of = np.array([index[str(k)] if k is not None else -1 for k in keys], dtype=np.int64)
    cell = d.pair_order[keep].astype(np.int64) * len(distinct) + key_of[d.pair_touch[keep]]
    cells, inverse = np.unique(cell, return_inverse=True)
    weights = np.bincount(inverse.reshape(-1), weights=shares.pair_share[keep], minlength=len(cells))
    orders, key_ix = np.divmod(cells, len(distinct))
    return [
        (str(order_ids[o]), distinct[k], float(w))
        for o, k, w in zip(orders.tolist(), key_ix.tolist(), weights.tolist(), strict=True)
    ]


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


def reference_rows(session: Any, by: str, **params: Any) -> list[dict[str, Any]]:
    """The hazard route's rows as they were built before they went column-wise: per brand, the fit's shares
    summed row by row (:func:`row_by_row`), the group looked up per key in a dict."""
    from hongmao.engine import hazard, tables
    from hongmao.engine.hazard_data import KINDS, gather

    ev = session.events
    p = {**hazard.DEFAULTS, **params}
    conv = tables.conversions(ev)
    touch = tables.touches(ev, frozenset(KINDS))
    lake = gather(session, ev, conv, touch, int(p["horizon_days"]), float(p["utc_offset_hours"]))
    column = trust_outcomes.HAZARD_KEYS[by]
    group = {str(r["entity"]): r["group"] for r in session.arrow(trust_outcomes.groups(ev, by)).to_pylist()}
    return [
        {"order_id": o, "key": k, "weight": w, "group": group.get(k)}
        for shares in hazard.brand_shares(lake, **params)
        for o, k, w in row_by_row(shares, column)
    ]


@pytest.fixture(scope="module")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import hongmao

    root = tmp_path_factory.mktemp("hazard-world")
    summary = hongmao.simulate(root / "world", seed=5, users=1_500, days=20, brands=3)
    hongmao.ingest([str(p) for p in summary.files], root / "lake")
    return root / "lake"


@pytest.mark.slow
def test_hazard_rows_equal_the_row_by_row_build_on_a_simulated_world(small_world: Path) -> None:
    from hongmao import api

    with api.engine_session(small_world) as session:
        rows = trust_outcomes.hazard_credited(session, session.events)
        for by in ("note", "creator"):
            want = reference_rows(session, by)
            assert len(want) > 100 and any(r["group"] is not None for r in want)
            assert rows[by] == want  # the same rows, in the same order, with the same float sums


def test_hazard_rows_equal_the_row_by_row_build_on_a_hand_made_lake(lake: Path) -> None:
    session = on([lake])
    rows = trust_outcomes.hazard_credited(session, session.events)
    for by in ("note", "creator"):
        assert rows[by] == reference_rows(session, by)
    # a creator no collaboration record names has no group
    assert {r["group"] for r in rows["creator"]} == {None}


def test_the_hazard_route_runs_the_engines_defaults_under_its_options_and_the_report_shows_them(
    lake: Path,
) -> None:
    from hongmao.engine.hazard import DEFAULTS

    assert TrustParams().model == "hazard"  # the report's default credit
    session = on([lake])
    estimated = TrustParams(hazard_options={"prior_sd_note": None, "strata": 4})
    shown = assemble(trust_inputs(session, estimated), estimated)["summary"]["params"]["hazard_options"]
    # the report says what it ran, in full, as its JSON shows it
    assert shown == {**DEFAULTS, "routes": list(DEFAULTS["routes"]), "prior_sd_note": None, "strata": 4}
    rule = TrustParams(model="linear", hazard_options={"strata": 4})
    assert assemble(trust_inputs(session, rule), rule)["summary"]["params"]["hazard_options"] == {}  # fitted none
    used = trust_outcomes.hazard_credited(session, session.events, ("note",))["note"]
    default = TrustParams(model="hazard", item_match=False)
    got = trust_inputs(on([lake]), default)
    assert got.deceptive_notes is not None
    # the route's note credit is the fit at the engine's fixed scales, not the estimated ones
    by_note: dict[str, float] = {}
    for r in used:
        by_note[r["key"]] = by_note.get(r["key"], 0.0) + r["weight"]
    orders = dict(zip(got.deceptive_notes.keys, got.deceptive_notes.primary.orders.tolist(), strict=True))
    for note, total in by_note.items():
        assert orders[note] == pytest.approx(total)
    estimated_rows = trust_outcomes.hazard_credited(
        session, session.events, ("note",), prior_sd_creator=None, prior_sd_note=None
    )["note"]
    assert sorted(r["weight"] for r in estimated_rows) != pytest.approx(sorted(r["weight"] for r in used))
