"""Rings that hide: the co-engagement core, client focus, and a careful ring on a hand-built lake; the simulator's
ring styles and their truth."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import event, user
from enginekit import at, on, write_segment
from hongmao.engine.trust import trust_inputs
from hongmao.errors import ConfigError
from hongmao.sim.config import WorldConfig
from hongmao.sim.rings import RING_STYLES
from hongmao.trust import assemble
from hongmao.trust.coengagement import dense_core, target_focus


def pair(a: str, b: str, shared: int = 5, creators: int = 1) -> dict[str, Any]:
    return {"user_a": min(a, b), "user_b": max(a, b), "shared": shared, "creators": creators}


def test_the_core_keeps_a_dense_ring_and_peels_a_chain_of_coincidences() -> None:
    ring = [f"r{k}" for k in range(7)]
    pairs = [pair(a, b, creators=3) for i, a in enumerate(ring) for b in ring[i + 1 :]]
    chain = [f"h{k}" for k in range(12)]
    pairs += [pair(a, b) for a, b in itertools.pairwise(chain)]  # each meets two others
    pairs += [pair("h0", r) for r in ring[:3]]  # a reader who met part of the ring
    core = dense_core(pairs, degree=5, min_group=5)
    assert set(core) == set(ring)
    assert {m.group_size for m in core.values()} == {7}
    assert all(m.partners == 6 and m.creators == 3 for m in core.values())
    assert dense_core(pairs, degree=7, min_group=5) == {}  # nobody has seven partners


def test_client_focus_finds_the_clients_and_tells_a_ring_account_from_a_reader() -> None:
    core = dense_core([pair(f"r{i}", f"r{j}") for i in range(6) for j in range(i + 1, 6)], 4, 5)
    rows = []
    for k in range(5):  # ring accounts: every client note they open, they engage
        rows += [{"user": f"r{k}", "creator": c, "read_notes": 6, "engaged_notes": 6} for c in ("c1", "c2")]
        rows.append({"user": f"r{k}", "creator": "kol", "read_notes": 20, "engaged_notes": 2})  # cover reading
    rows += [  # r5 is a reader caught in the core: reads the clients a lot, engages a few
        {"user": "r5", "creator": "c1", "read_notes": 10, "engaged_notes": 3},
        {"user": "r5", "creator": "c2", "read_notes": 10, "engaged_notes": 2},
    ]
    focus = target_focus(core, rows, share=0.5, rate=0.6)
    assert focus["r0"].targets == ("c1", "c2")  # the popular creator read as cover is no client
    assert (focus["r0"].reads, focus["r0"].engaged) == (12, 12)
    assert (focus["r5"].reads, focus["r5"].engaged) == (20, 5)


def careful_ring_events() -> tuple[list[dict[str, Any]], list[str]]:
    """Three clients with four notes each; eight ring accounts engage each client note spread over ten hours,
    reading for 15 s after an impression, and read (and rarely like) ordinary notes in between. Thirty ordinary
    readers read every note over two days and like one in seven of what they read."""
    events: list[dict[str, Any]] = [
        event("item.listed", at(0), item_id="i1", store_id="s1", brand="Lumi", category="skincare", price=100),
    ]
    ring = [user(900 + k) for k in range(8)]
    notes: list[tuple[str, float]] = []
    for c, client in enumerate(("cl1", "cl2", "cl3")):
        for n in range(4):
            note, day = f"{client}-{n}", 2 * n + c * 0.5
            notes.append((note, day))
            events.append(event("note.published", at(day), note_id=note, creator_id=client, brand="Lumi"))
            for k, fake in enumerate(ring):
                t = day + (2 + k * 1.2) / 24  # spread over ten hours: no one-hour lockstep
                events.append(event("note.impression", at(t - 5 / 86400), note_id=note, user=fake))
                events.append(event("note.read", at(t), note_id=note, user=fake, dwell_ms=15_000))
                events.append(event("note.like", at(t + 16 / 86400), note_id=note, user=fake))
    for n in range(10):
        note, day = f"plain-{n}", n + 0.25
        notes.append((note, day))
        events.append(event("note.published", at(day), note_id=note, creator_id=f"star{n % 3}", brand="Lumi"))
        for k, fake in enumerate(ring):  # cover: an ordinary read, a like now and then
            t = day + 0.3 + k * 0.05
            events.append(event("note.read", at(t), note_id=note, user=fake, dwell_ms=20_000))
            if (n + k) % 9 == 0:
                events.append(event("note.like", at(t + 21 / 86400), note_id=note, user=fake))
    for k in range(30):
        reader = user(k)
        for j, (note, day) in enumerate(notes):
            t = day + 0.2 + ((k * 7 + j) % 40) / 20
            events.append(event("note.read", at(t), note_id=note, user=reader, dwell_ms=20_000))
            if (k + j) % 7 == 0:
                events.append(event("note.like", at(t + 0.001), note_id=note, user=reader))
    return events, ring


def test_a_careful_ring_is_found_with_its_clients_and_ordinary_readers_are_not(tmp_path: Path) -> None:
    events, ring = careful_ring_events()
    seg = write_segment(tmp_path / "seg.parquet", events)
    report = assemble(trust_inputs(on([seg])), include_accounts=True)
    flagged = {a["user"]: a for a in report["accounts"]["list"]}
    assert set(flagged) == set(ring)
    for a in flagged.values():
        assert {"CO_ENGAGEMENT", "CLIENT_FOCUS"} <= set(a["reasons"]) and "LOCKSTEP" not in a["reasons"]
        assert a["client_creators"] == ["cl1", "cl2", "cl3"]  # the evidence a disputing account is shown
        assert a["coengagement_creators"] == 3 and a["client_engaged"] == a["client_reads"]
    creators = {e["creator_id"]: e for e in report["creators"]}
    assert {k for k, e in creators.items() if "fake_engagement" in e["flags"]} == {"cl1", "cl2", "cl3"}
    notes = {e["note_id"]: e for e in report["notes"]}
    assert not any("fake_engagement" in notes[f"plain-{n}"]["flags"] for n in range(10))  # cover likes only


def test_ring_styles_are_validated_and_recorded_in_the_truth(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown style 'stealthy'"):
        WorldConfig(ring_styles=("stealthy",)).check()
    with pytest.raises(ConfigError, match="ring_styles"):
        WorldConfig(ring_styles=()).check()
    assert RING_STYLES["careful"].clients > RING_STYLES["crude"].clients
    assert "diffuse" not in WorldConfig().ring_styles  # the stress style is asked for, never a default
    import hongmao

    summary = hongmao.simulate(tmp_path / "w", seed=2, users=600, days=6, brands=2, config=WorldConfig(ring_size=6))
    truth = tmp_path / "w" / "truth"
    accounts = [json.loads(x) for x in (truth / "fake_accounts.jsonl").read_text().splitlines()]
    styles = {a["ring"]: (a["style"], tuple(a["client_creators"])) for a in accounts}
    assert [s for s, _ in styles.values()] == ["crude", "sloppy", "careful"]
    assert [len(c) for _, c in styles.values()] == [1, 2, 3]
    creators = [json.loads(x) for x in (truth / "creators.jsonl").read_text().splitlines()]
    buyers = {c["creator_id"]: c["ring_style"] for c in creators if c["buys_fake_engagement"]}
    assert buyers == {cid: s for s, clients in styles.values() for cid in clients}
    assert summary.events["note.read"] > 0


def test_a_diffuse_ring_spreads_its_jobs_beyond_the_coengagement_tolerance(tmp_path: Path) -> None:
    """The stress style does what its row says: five clients, a minority of the ring on each job, and a job's
    likes (each account's first on the note) spread so widely that their middle half alone spans more than the
    co-engagement graph's 18 hours (a careful ring's: about 9 on this world). The middle half, not the whole range:
    a cover read may like a client's note days before or after the job."""
    from datetime import datetime
    from statistics import median, quantiles

    import hongmao

    hongmao.simulate(
        tmp_path / "w", seed=4, users=600, days=12, brands=2, config=WorldConfig(ring_size=20, ring_styles=("diffuse",))
    )
    accounts = [json.loads(x) for x in (tmp_path / "w" / "truth" / "fake_accounts.jsonl").read_text().splitlines()]
    assert {a["style"] for a in accounts} == {"diffuse"}
    assert {len(a["client_creators"]) for a in accounts} == {5}
    ring = {a["user"] for a in accounts if a["ring"] == accounts[0]["ring"]}  # one ring and its clients
    published: dict[str, str] = {}
    first_like: dict[str, dict[str, datetime]] = {}
    for line in (tmp_path / "w" / "events" / "community.jsonl").read_text(encoding="utf-8").splitlines():
        e = json.loads(line)
        if e["type"] == "note.published":
            published[e["data"]["note_id"]] = e["data"]["creator_id"]
        elif e["type"] == "note.like" and e["data"]["user"] in ring:
            t = datetime.fromisoformat(e["time"])
            mine = first_like.setdefault(e["data"]["note_id"], {})
            mine[e["data"]["user"]] = min(mine.get(e["data"]["user"], t), t)
    clients = set(accounts[0]["client_creators"])
    jobs = [sorted(t.timestamp() for t in v.values()) for n, v in first_like.items() if published[n] in clients]
    jobs = [v for v in jobs if len(v) >= 4]
    assert len(jobs) >= 5
    assert median(len(v) / len(ring) for v in jobs) < 0.4  # 0.3 sent, 0.7 of them like (careful: 0.45, sloppy 0.6)
    middle_half = [quantiles(v, n=4)[2] - quantiles(v, n=4)[0] for v in jobs]
    assert median(middle_half) > 18 * 3600
