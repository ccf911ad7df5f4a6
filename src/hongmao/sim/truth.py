"""The ground truth of a world under ``DIR/truth/``: what really caused each order, which notes were paid,
hidden or deceptive, who is fake, and what each campaign truly added.

orders.jsonl is streamed as orders happen; the rest is written when the world ends. Truth files are for
checking Hongmao's estimates, never inputs to them (they are not contract events).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from hongmao.sim.world import World


@dataclass
class CampaignTally:
    orders: int = 0  # incremental orders whose sampled cause is one of the campaign's notes
    gmv_cents: int = 0
    credited: float = 0.0  # sum over incremental orders of the campaign notes' credit shares
    exposed: int = 0


@dataclass
class TruthWriter:
    dir: Path
    files: list[Path] = field(default_factory=list)
    _orders: TextIO | None = None

    def __post_init__(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / "orders.jsonl"
        self._orders = path.open("w", encoding="utf-8", newline="\n", buffering=1 << 16)
        self.files.append(path)

    def orders(self, records: list[dict[str, Any]]) -> None:
        assert self._orders is not None
        for record in records:
            self._orders.write(_line(record))

    def finish(self, world: World, tallies: list[CampaignTally], meta: dict[str, Any]) -> None:
        if self._orders is not None:
            self._orders.close()
            self._orders = None
        w = world
        campaign_of = {n: c.id for c in w.campaigns for n in c.notes}
        self._write(
            "notes.jsonl",
            (
                {
                    "note_id": n.id,
                    "creator_id": w.creators[n.creator].id,
                    "brand": w.brands[n.brand].id if n.brand >= 0 else None,
                    "category": w.categories[n.category].id,
                    "published": w.clock.text(n.pub_t),
                    "sponsored": n.sponsored,
                    "disclosed": n.disclosed,
                    "offplatform": n.offplatform,
                    "deceptive": n.deceptive,
                    "campaign_id": campaign_of.get(n.index),
                    "boosted": n.boosted,
                    "fake_engagement": w.creators[n.creator].ring >= 0,
                    "tier": w.creators[n.creator].tier,
                    "links": [w.links[lk].id for lk in n.links],
                }
                for n in w.notes
            ),
        )
        self._write(
            "creators.jsonl",
            (
                {
                    "creator_id": c.id,
                    "tier": c.tier,
                    "category": w.categories[c.category].id,
                    "deceptive": c.deceptive,
                    "buys_fake_engagement": c.ring >= 0,
                    "ring": c.ring if c.ring >= 0 else None,
                    "ring_style": w.rings[c.ring].style if c.ring >= 0 else None,
                }
                for c in w.creators
            ),
        )
        n_users = w.n_users
        self._write(
            "campaigns.jsonl",
            (
                {
                    "campaign_id": c.id,
                    "brand": w.brands[c.brand].id,
                    "start": w.clock.text(c.start_t),
                    "end": w.clock.text(c.end_t),
                    "spend": c.spend_cents / 100,
                    "holdout_share": c.holdout_share,
                    "notes": [w.notes[n].id for n in c.notes],
                    "treated_users": int(n_users - c.held_out.sum()),
                    "holdout_users": int(c.held_out.sum()),
                    "exposed_users": t.exposed,
                    "true_incremental_orders": t.orders,
                    "true_incremental_gmv": t.gmv_cents / 100,
                    "credited_orders": round(t.credited, 4),
                }
                for c, t in zip(w.campaigns, tallies, strict=True)
            ),
        )
        self._write(
            "fake_accounts.jsonl",
            (
                {
                    "user": account,
                    "ring": r.index,
                    "creator_id": w.creators[r.creator].id,
                    "style": r.style,
                    "client_creators": [w.creators[c].id for c in r.clients],
                }
                for r in w.rings
                for account in r.accounts
            ),
        )
        path = self.dir / "world.json"
        path.write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        self.files.append(path)

    def _write(self, name: str, rows: Any) -> None:
        path = self.dir / name
        with path.open("w", encoding="utf-8", newline="\n") as fh:
            for row in rows:
                fh.write(_line(row))
        self.files.append(path)


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
