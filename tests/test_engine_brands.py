"""Markov and Shapley on the lake build one chain (game) per brand: adding brand B's data never changes brand
A's credits, and a creator working for both gets the sum of what each brand alone gives them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import event, user
from enginekit import at, on, write_segment
from hongmao.engine import attribute_segments
from hongmao.errors import AttributionError


def order(oid: str, who: str, days: float, item: str, amount: float) -> dict[str, Any]:
    return event(
        "market.order", at(days), order_id=oid, user=who, lines=[{"item_id": item, "price": amount}], amount=amount
    )


def _named(prefix: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Event ids of this brand's own, the same in every lake the test builds. Touches at the same time are
    ordered by event id; ids from the suite-wide counter would order them one way in one lake and the other
    way in the next (``t-99`` sorts after ``t-100``), so a brand's paths, and its credits, would differ."""
    return [{**e, "id": f"{prefix}-{i:03d}"} for i, e in enumerate(events)]


def brand_a() -> list[dict[str, Any]]:
    """Brand Lumi: notes n1 (creator c1) and n2 (c2), a community search, buyers and non-buyers."""
    u = [user(i) for i in range(1, 7)]
    return _named(
        "a",
        [
            event("item.listed", at(0), item_id="i1", store_id="s1", brand="Lumi", category="skincare", price=100),
            event("note.published", at(0), note_id="n1", creator_id="c1", brand="Lumi", items=["i1"]),
            event("note.published", at(0), note_id="n2", creator_id="c2", brand="Lumi", items=["i1"]),
            event("note.read", at(1), note_id="n1", user=u[0], dwell_ms=9000),
            event("note.read", at(2), note_id="n2", user=u[0], dwell_ms=9000),
            order("a1", u[0], 3, "i1", 100),
            event("note.read", at(1), note_id="n2", user=u[1], dwell_ms=9000),
            event("community.search", at(2), user=u[1], query="lumi serum"),
            order("a2", u[1], 3, "i1", 120),
            event("note.read", at(1), note_id="n1", user=u[2], dwell_ms=9000),
            order("a3", u[2], 2, "i1", 80),
            event("note.read", at(1), note_id="n1", user=u[3], dwell_ms=9000),  # never bought
            event("note.read", at(1), note_id="n2", user=u[4], dwell_ms=9000),
            event("note.read", at(2), note_id="n1", user=u[4], dwell_ms=9000),
        ],
    )


def brand_b() -> list[dict[str, Any]]:
    """Brand Oat: note n3 by c1 (who also writes for Lumi) and n4 by c3; some of A's people too."""
    u = [user(i) for i in range(1, 10)]
    return _named(
        "b",
        [
            event("item.listed", at(0), item_id="i2", store_id="s2", brand="Oat", category="babyfood", price=50),
            event("note.published", at(0), note_id="n3", creator_id="c1", brand="Oat", items=["i2"]),
            event("note.published", at(0), note_id="n4", creator_id="c3", brand="Oat", items=["i2"]),
            event("note.read", at(1), note_id="n3", user=u[0], dwell_ms=9000),
            event("note.read", at(2), note_id="n4", user=u[0], dwell_ms=9000),
            order("b1", u[0], 4, "i2", 50),
            event("note.read", at(1), note_id="n4", user=u[6], dwell_ms=9000),
            event("community.search", at(1), user=u[6], query="oat porridge"),
            order("b2", u[6], 2, "i2", 55),
            event("note.read", at(1), note_id="n3", user=u[7], dwell_ms=9000),
            event("note.read", at(1), note_id="n3", user=u[8], dwell_ms=9000),
            event("note.read", at(3), note_id="n4", user=u[8], dwell_ms=9000),
            event("note.read", at(1), note_id="n4", user=u[3], dwell_ms=9000),
        ],
    )


def credits(tmp_path: Path, name: str, events: list[dict[str, Any]], **kw: Any) -> dict[str, tuple[float, ...]]:
    result = attribute_segments([write_segment(tmp_path / f"{name}.parquet", events)], **kw)
    return {r["key"]: (r["orders"], r["gmv"], r["net_gmv"]) for r in result.rows}


def added(*parts: dict[str, tuple[float, ...]]) -> dict[str, tuple[float, ...]]:
    out: dict[str, tuple[float, ...]] = {}
    for part in parts:
        for key, values in part.items():
            old = out.get(key, (0.0, 0.0, 0.0))
            out[key] = tuple(a + b for a, b in zip(old, values, strict=True))
    return out


def close(a: dict[str, tuple[float, ...]], b: dict[str, tuple[float, ...]]) -> None:
    nonzero = {k: v for k, v in a.items() if any(abs(x) > 1e-12 for x in v)}
    other = {k: v for k, v in b.items() if any(abs(x) > 1e-12 for x in v)}
    assert nonzero.keys() == other.keys()
    for key, values in nonzero.items():
        assert other[key] == pytest.approx(values, abs=1e-9), key


@pytest.mark.parametrize("model", ["markov", "shapley"])
@pytest.mark.parametrize("null_window", ["all", "windowed"])
def test_adding_a_brand_never_changes_another_brands_credits(tmp_path: Path, model: str, null_window: str) -> None:
    kw = {"model": model, "null_window": null_window}
    only_a = credits(tmp_path, "a", brand_a(), by="note", **kw)
    both = credits(tmp_path, "ab", brand_a() + brand_b(), by="note", **kw)
    only_b = credits(tmp_path, "b", brand_b(), by="note", **kw)
    assert {"n1", "n2"} <= only_a.keys()
    # every key, A's notes included, gets exactly what each brand alone gives it (the search key is shared)
    close(added(only_a, only_b), both)
    for key in ("n1", "n2"):
        assert both[key] == pytest.approx(only_a[key], abs=1e-12)
    # creator c1 writes for both brands: their credit is the sum of the two brands' chains
    by_creator = credits(tmp_path, "abc", brand_a() + brand_b(), by="creator", **kw)
    close(
        added(
            credits(tmp_path, "ac", brand_a(), by="creator", **kw),
            credits(tmp_path, "bc", brand_b(), by="creator", **kw),
        ),
        by_creator,
    )


def test_a_pooled_chain_would_mix_brands(tmp_path: Path) -> None:
    """The property above is not automatic: one chain over both brands credits A's notes differently."""
    from hongmao.attribution import attribute_paths
    from hongmao.engine import Windows, credit, tables
    from hongmao.engine.attribute import parse_kinds
    from hongmao.engine.paths import journey_paths

    session = on([write_segment(tmp_path / "ab.parquet", brand_a() + brand_b())])
    ev = session.events
    conv, touch = tables.conversions(ev), tables.touches(ev, parse_kinds(None))
    by_gmv, _ = journey_paths(session, credit.journeys(conv, touch, Windows()), touch, conv, "note")
    pooled = {c.channel: c.conversions for c in attribute_paths(by_gmv, "markov")}
    only_a = credits(tmp_path, "a", brand_a(), by="note", model="markov")
    assert pooled["n1"] != pytest.approx(only_a["n1"][0], abs=1e-6)


def test_unknown_null_window(tmp_path: Path) -> None:
    with pytest.raises(AttributionError, match="null-path window"):
        credits(tmp_path, "a", brand_a(), by="note", model="markov", null_window="some")
