"""The brands' books: what they paid creators for (``collaboration.created``) and for boosting (``note.boosted``).

Every sponsored note has a deal behind it, and brands record their deals in Hongmao because ROI needs the
spend. How much a record says depends on how the deal was made:

* a campaign's notes and every filed collaboration (报备) are platform orders: the record names the note and is
  logged an hour after the note goes up (the deliverable), with the filed collaboration's id when there is one;
* a private deal outside any campaign and never filed pays for "a post": the record is logged one to seven days
  before the note appears and names the creator and the brand, not the note.

The one exception is a deal paid off-platform (an off-platform seeding wave, :mod:`hongmao.sim.seeding`): the
brand logs nothing, and the note carries no label, link or boost.

Many creators are placed by an agency (MCN), and a platform order names it (``agency``; a private deal does
half the time). Agencies mix honest and deceptive creators: a few are lax about overselling and sign deceptive
creators more readily, most are not, so an agency is a hint about a creator and never proof.

Boosted notes get one ``note.boosted`` for a week of promotion. The draws come from their own random stream
(``deal_rng``), so adding the books changed no other event of a world.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hongmao.sim.clock import DAY
from hongmao.sim.world import BOOST_FEE, FEE_AUDIENCE, KOC_FEE, KOL_FEE, World
from hongmao.sim.writer import EventSink, dumps

BOOST_DAYS = 7
CREATORS_PER_AGENCY = 12
AGENCY_SHARE = 0.7  # creators placed by an agency
LAX_AGENCY_SHARE = 0.3  # agencies lax about overselling ...
LAX_PULL = 3.0  # ... which a deceptive creator is this many times likelier to join than a strict one


@dataclass(frozen=True, slots=True)
class Deal:
    """One collaboration as the brand logs it."""

    id: str
    brand: int
    creator: int
    note: int
    fee_cents: int
    campaign: int  # -1 outside campaigns
    filed: bool
    t: int  # when the brand logs it
    names_note: bool


def draw_agencies(world: World, rng: np.random.Generator) -> list[int]:
    """Each creator's agency (-1: none). Deceptive creators lean toward the lax agencies; honest ones do not."""
    n_agencies = max(2, len(world.creators) // CREATORS_PER_AGENCY)
    lax = rng.random(n_agencies) < LAX_AGENCY_SHARE
    out = []
    for creator in world.creators:
        if rng.random() >= AGENCY_SHARE:
            out.append(-1)
            continue
        weight = np.where(lax, LAX_PULL if creator.deceptive else 1.0, 1.0)
        out.append(int(rng.choice(n_agencies, p=weight / weight.sum())))
    return out


def draw_deals(world: World, rng: np.random.Generator) -> list[Deal]:
    """The deal behind every sponsored note, in note order."""
    scale = world.n_users / FEE_AUDIENCE
    deals: list[Deal] = []
    private = 0
    for note in world.notes:
        if not note.sponsored or note.offplatform:
            continue  # an off-platform deal (hongmao.sim.seeding) leaves nothing in the books
        creator = world.creators[note.creator]
        fee_cents = note.fee_cents
        if note.campaign < 0:
            low, high = KOL_FEE if creator.tier == "kol" else KOC_FEE
            fee_cents = round(float(rng.integers(low, high + 1)) * scale * 100)
        names_note = note.campaign >= 0 or note.disclosed
        # a platform order is logged when its note is delivered; a private deal days before the note
        t = note.pub_t + 3600 if names_note else max(0, note.pub_t - int(rng.integers(DAY, 7 * DAY + 1)))
        if note.collaboration_id is not None:
            deal_id = note.collaboration_id
        else:
            private += 1
            deal_id = f"deal-{private:05d}"
        deals.append(
            Deal(deal_id, note.brand, note.creator, note.index, fee_cents, note.campaign, note.disclosed, t, names_note)
        )
    return deals


class BrandBooks:
    """Writes each day's deal records and boosting, as the brands log them."""

    def __init__(self, world: World, rng: np.random.Generator, sink: EventSink) -> None:
        self.w = world
        self.sink = sink
        self.deals = draw_deals(world, rng)
        self.agency = draw_agencies(world, rng)  # after the deals: their draws are as before
        self._agency_known = {deal.id: deal.names_note or rng.random() < 0.5 for deal in self.deals}
        self._by_day: dict[int, list[Deal]] = {}
        for deal in self.deals:
            self._by_day.setdefault(deal.t // DAY, []).append(deal)
        self._boosts: dict[int, list[int]] = {}
        for note in world.notes:
            if note.boosted:
                self._boosts.setdefault(note.pub_t // DAY, []).append(note.index)
        self._boost_cents = round(BOOST_FEE * world.n_users / FEE_AUDIENCE * 100)

    def log(self, day: int) -> None:
        """Emit the collaboration records and boosts logged on ``day``."""
        w, clock = self.w, self.w.clock
        for deal in self._by_day.get(day, []):
            data: dict[str, object] = {
                "collaboration_id": deal.id,
                "brand": w.brands[deal.brand].id,
                "creator_id": w.creators[deal.creator].id,
                "fee": deal.fee_cents / 100,
                "filed": deal.filed,
            }
            if deal.names_note:
                data["note_id"] = w.notes[deal.note].id
            if deal.campaign >= 0:
                data["campaign_id"] = w.campaigns[deal.campaign].id
            agency = self.agency[deal.creator]
            if agency >= 0 and self._agency_known[deal.id]:
                data["agency"] = f"mcn-{agency:03d}"
            self.sink.emit("brand", deal.t, "collaboration.created", "brand", dumps(data))
        for n in self._boosts.get(day, []):
            note = w.notes[n]
            start = note.pub_t + 2 * 3600
            boost: dict[str, object] = {
                "note_id": note.id,
                "brand": w.brands[note.brand].id,
                "spend": self._boost_cents / 100,
                "start": clock.text(start),
                "end": clock.text(start + BOOST_DAYS * DAY),
            }
            if note.campaign >= 0:
                boost["campaign_id"] = w.campaigns[note.campaign].id
            self.sink.emit("brand", note.pub_t + 3600, "note.boosted", "brand", dumps(boost))
