"""``simulate``: draw a world, step it day by day and stream its events and truth to disk."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from hongmao.errors import ConfigError
from hongmao.sim.behaviour import Community
from hongmao.sim.commerce import Commerce, money
from hongmao.sim.config import WorldConfig
from hongmao.sim.deals import BrandBooks
from hongmao.sim.truth import TruthWriter
from hongmao.sim.world import World, build_world
from hongmao.sim.worlds import WORLD_KINDS, Dynamics
from hongmao.sim.writer import EventSink

TRUTH_FILES = ("orders.jsonl", "notes.jsonl", "creators.jsonl", "campaigns.jsonl", "fake_accounts.jsonl", "world.json")


@dataclass(frozen=True)
class SimSummary:
    """What :func:`simulate` wrote."""

    out: Path
    events: dict[str, int]  # events written, by type
    files: list[Path]  # event files (JSONL) under out/events
    truth_files: list[Path] = field(default_factory=list)
    seed: int = 7
    users: int = 0
    days: int = 0
    brands: int = 0
    seconds: float = 0.0

    @property
    def total_events(self) -> int:
        return sum(self.events.values())


def _clear(out: Path) -> None:
    """The simulator owns DIR/events and DIR/truth: files of an earlier world there would mix with this one."""
    events = out / "events"
    if events.is_dir():
        for path in sorted(events.rglob("*.jsonl")):
            path.unlink()
    for name in TRUTH_FILES:
        (out / "truth" / name).unlink(missing_ok=True)


def _list_items(world: World, sink: EventSink) -> None:
    for item in world.items:
        store = world.stores[item.store]
        data = (
            f'{{"item_id":"{item.id}","store_id":"{store.id}","brand":"{world.brands[item.brand].id}",'
            f'"category":"{world.categories[item.category].id}","price":{money(item.price_cents)},'
            f'"currency":"CNY","title":"{item.title}"}}'
        )
        sink.emit("market", 0, "item.listed", f"market:{store.market}", data)


def simulate(
    out: Path | str,
    seed: int = 7,
    users: int = 10_000,
    days: int = 30,
    brands: int = 6,
    config: WorldConfig | None = None,
    progress: Callable[[int, int], None] | None = None,
    world: str | None = None,
) -> SimSummary:
    """Write a simulated world under ``out``: event files in ``out/events/*.jsonl``, ground truth in ``out/truth/``.

    The same arguments give byte-identical files. ``progress(day_done, days)`` is called after each day.
    ``world`` (default: ``config.world``, ``additive``) picks the causal structure, a kind of
    :data:`hongmao.sim.worlds.WORLD_KINDS`.
    """
    cfg = config or WorldConfig()
    if world is not None:
        cfg = replace(cfg, world=world)
    cfg.check()
    for name, value in (("users", users), ("days", days), ("brands", brands)):
        if value < 1:
            raise ConfigError(f"{name} must be at least 1, got {value}")
    began = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _clear(out)
    # A fourth stream for the brands' books, a fifth for the world kind's own state: spawn(n) gives the same
    # first children as spawn(n - 1) did, so the additive world is drawn exactly as before.
    world_seed, community_seed, commerce_seed, books_seed, kind_seed = np.random.SeedSequence(seed).spawn(5)
    built = build_world(np.random.default_rng(world_seed), users, days, brands, cfg)
    kind = WORLD_KINDS[cfg.world]
    dynamics = None if kind.linear else Dynamics(kind, built, np.random.default_rng(kind_seed))
    sink = EventSink(out / "events", built.clock, cfg.shard_by_day)
    truth = TruthWriter(out / "truth")
    community = Community(built, np.random.default_rng(community_seed), sink)
    commerce = Commerce(built, np.random.default_rng(commerce_seed), sink, truth, dynamics)
    books = BrandBooks(built, np.random.default_rng(books_seed), sink)
    try:
        for day in range(days):
            if day == 0:
                _list_items(built, sink)
            if dynamics is not None:
                dynamics.before_feed(day)
            community.publish(day)
            books.log(day)
            community.fake_bursts(day)
            touches, clicks = community.feed(day)
            commerce.step(day, touches, clicks)
            sink.flush(day, final=day == days - 1)
            if progress is not None:
                progress(day + 1, days)
    finally:
        sink.close()
    for tally, exposed in zip(commerce.tallies, community.exposed, strict=True):
        tally.exposed = int(exposed.sum())
    events = dict(sorted(sink.counts.items()))
    truth.finish(built, commerce.tallies, _meta(built, seed, users, days, brands, events))
    return SimSummary(
        out=out,
        events=events,
        files=list(sink.files),
        truth_files=list(truth.files),
        seed=seed,
        users=users,
        days=days,
        brands=brands,
        seconds=time.perf_counter() - began,
    )


def _meta(world: World, seed: int, users: int, days: int, brands: int, events: dict[str, int]) -> dict[str, Any]:
    w = world
    return {
        "seed": seed,
        "users": users,
        "days": days,
        "brands": brands,
        "start": w.clock.text(0),
        "end": w.clock.text(days * 86_400),
        "timezone": w.clock.offset,
        "config": w.cfg.as_dict(),
        "categories": [
            {"category": c.id, "mean_delay_days": c.mean_delay_days, "median_price": c.median_price}
            for c in w.categories
        ],
        "brands_detail": [
            {
                "brand": b.id,
                "category": w.categories[b.category].id,
                "mean_delay_days": w.categories[b.category].mean_delay_days,
                "stores": [w.stores[s].id for s in b.stores],
            }
            for b in w.brands
        ],
        "events": events,
        "world": w.cfg.world,
        "model": f"{w.cfg.world}: {WORLD_KINDS[w.cfg.world].summary} (see hongmao.sim.worlds)",
        "truth": "an order's credit to a note is the note's Shapley value in the buyer's purchase intensity "
        "for the brand on the order's day, the organic part being the intensity without notes",
    }
