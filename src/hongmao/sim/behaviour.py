"""What happens in the community each day: notes and links appear, feeds show notes, people read, engage and
click shoppable links, bots and link previews fetch links, and fake-engagement rings work their clients' new
notes (crude rings in a lockstep burst, careful ones over hours with ordinary reading between jobs).

The bulk (impressions, reads, engagements, clicks) is drawn with NumPy for the whole day and handed to the
sink as sorted column blocks. Every read of a brand note becomes a *touch* — (person, brand, note, intent
added) — which ``commerce.py`` turns into purchase intent.

Held-out people never see a campaign's notes: feed slots that would show them one are dropped, so whatever
else they see is unchanged and the campaign's effect is purely additive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hongmao.sim.clock import DAY, seconds_in_day
from hongmao.sim.config import MARKETS
from hongmao.sim.holdout import in_holdout
from hongmao.sim.rings import RING_STYLES, cover_times, dwell_ms, job_times
from hongmao.sim.world import CAMPAIGN_BOOST, NOTE_LIFETIME_DAYS, REACH_HALF_LIFE_DAYS, Ring, World
from hongmao.sim.writer import EventSink, dumps, head

READ_BASE, READ_GAIN = 0.12, 0.5  # P(read | impression) = (base + gain * sqrt(interest)) * sqrt(quality)
DWELL_MEDIAN_MS, DWELL_SIGMA = 18_000, 0.75
#: (type, base probability per read, intent it adds on top of the read's 1.0)
ENGAGEMENTS: tuple[tuple[str, float, float], ...] = (
    ("note.like", 0.08, 0.4),
    ("note.collect", 0.04, 1.2),  # a save is a shopping list
    ("note.comment", 0.012, 0.6),
    ("note.share", 0.008, 0.6),
)
READ_INTENT = 1.0
CLICK_BASE, CLICK_INTENT = 0.05, 2.0
DECEPTIVE_ENGAGEMENT = 1.3  # overselling is catchy
CLICK_LANDS = 0.92  # share of human clicks whose store page loads (a visit with the click id)


@dataclass
class Touches:
    """Today's reads of brand notes, one row per (person, note), with the intent each added."""

    user: NDArray[np.int64]
    brand: NDArray[np.int64]
    note: NDArray[np.int64]
    amount: NDArray[np.float64]
    t: NDArray[np.int64]


@dataclass
class Clicks:
    """Today's human link clicks."""

    user: NDArray[np.int64]
    brand: NDArray[np.int64]
    note: NDArray[np.int64]
    link: NDArray[np.int64]
    t: NDArray[np.int64]
    seq: NDArray[np.int64]  # click id number: the click id is f"ck{seq}"
    landed: NDArray[np.bool_]  # the store page loaded: a market.visit carries the click id


def _sorted(t: NDArray[np.int64], *cols: NDArray[np.int64]) -> tuple[NDArray[np.int64], list[NDArray[np.int64]]]:
    order = np.argsort(t, kind="stable")
    return t[order], [c[order] for c in cols]


class Community:
    """The community side of a world, stepped one day at a time."""

    def __init__(self, world: World, rng: np.random.Generator, sink: EventSink) -> None:
        self.w = world
        self.rng = rng
        self.ring_rng = rng.spawn(1)[0]  # rings draw apart: their style never shifts what people do
        self.sink = sink
        self.note_ids = [n.id for n in world.notes]
        self.link_ids = [lk.id for lk in world.links]
        self.link_note = np.array([lk.note for lk in world.links], dtype=np.int64)
        self.exposed = np.zeros((len(world.campaigns), world.n_users), dtype=np.bool_)
        self.click_seq = 0
        self.weekday = world.cfg.start.weekday()
        self._by_pub_day: dict[int, list[int]] = {}
        for note in world.notes:
            self._by_pub_day.setdefault(note.pub_t // DAY, []).append(note.index)
        self._campaign_day: dict[int, list[int]] = {}
        for c in world.campaigns:
            self._campaign_day.setdefault(max(0, c.start_t - 3 * 3600) // DAY, []).append(c.index)

    # -- entities appearing ----------------------------------------------------------------------------------
    def publish(self, day: int) -> None:
        """campaign.created, note.published and link.created of the day."""
        w, clock, emit = self.w, self.w.clock, self.sink.emit
        for ci in self._campaign_day.get(day, []):
            c = w.campaigns[ci]
            data = {
                "campaign_id": c.id,
                "brand": w.brands[c.brand].id,
                "spend": c.spend_cents / 100,
                "start": clock.text(c.start_t),
                "end": clock.text(c.end_t),
                "holdout_share": c.holdout_share,
                "notes": [self.note_ids[n] for n in c.notes],
                "name": f"{w.brands[c.brand].id} seeding #{ci + 1}",
            }
            emit("brand", max(0, c.start_t - 3 * 3600), "campaign.created", "brand", dumps(data))
        for n in self._by_pub_day.get(day, []):
            note = w.notes[n]
            creator = w.creators[note.creator]
            data = {
                "note_id": note.id,
                "creator_id": creator.id,
                "brand": w.brands[note.brand].id if note.brand >= 0 else None,
                "items": [w.items[i].id for i in note.items],
                "disclosed": note.disclosed,
                "collaboration_id": note.collaboration_id,
                # An undisclosed paid note does not say which campaign paid for it: only the brand knows.
                "campaign_id": w.campaigns[note.campaign].id if note.campaign >= 0 and note.disclosed else None,
                "creator_tier": creator.tier,
                "title": note.title,
            }
            emit("community", note.pub_t, "note.published", "community", dumps(data))
            for k, li in enumerate(note.links):
                link = w.links[li]
                ldata = {
                    "link_id": link.id,
                    "note_id": note.id,
                    "item_id": w.items[link.item].id,
                    "market": link.market,
                    "url": link.url,
                    "creator_id": creator.id,
                    "campaign_id": w.campaigns[note.campaign].id if note.campaign >= 0 else None,
                }
                emit("links", note.pub_t + 1 + k, "link.created", "links", dumps(ldata))

    def fake_bursts(self, day: int) -> None:
        """Rings of fake accounts work their clients' new notes of the day, each in its style
        (:mod:`hongmao.sim.rings`), and the rings that hide read ordinary notes as cover."""
        w = self.w
        for n in self._by_pub_day.get(day, []):
            note = w.notes[n]
            ring_index = w.creators[note.creator].ring
            if ring_index >= 0:
                self._ring_job(w.rings[ring_index], note.index)
        if any(RING_STYLES[r.style].cover_reads_per_day > 0 for r in w.rings):
            weight = self._note_weights(day)
            live = np.flatnonzero(weight > 0)
            if len(live):
                cum = np.cumsum(weight[live])
                for ring in w.rings:
                    self._ring_cover(ring, day, live, cum)

    def _ring_job(self, ring: Ring, n: int) -> None:
        w, rng, emit = self.w, self.ring_rng, self.sink.emit
        style = RING_STYLES[ring.style]
        note = w.notes[n]
        campaign = w.campaigns[note.campaign] if note.campaign >= 0 else None
        nid = note.id
        accounts = ring.accounts
        times = job_times(rng, style, note.pub_t, len(accounts))
        dwells = dwell_ms(rng, style, len(accounts))
        draws = rng.random((len(accounts), 4))
        for account, t, dwell, d in zip(accounts, times.tolist(), dwells.tolist(), draws.tolist(), strict=True):
            if d[0] >= style.turnout:
                continue
            if campaign is not None and in_holdout(account, campaign.id, campaign.holdout_share, w.cfg.holdout_key):
                continue
            touch = f'{{"note_id":"{nid}","user":"{account}"}}'
            if style.impressions:
                emit("community", t - 5, "note.impression", "community", touch)
            read = f'{{"note_id":"{nid}","user":"{account}","dwell_ms":{dwell}}}'
            emit("community", t, "note.read", "community", read)
            done = t + 1 + dwell // 1000
            if d[1] < style.like:
                emit("community", done, "note.like", "community", touch)
            if d[2] < style.collect:
                emit("community", done + 1, "note.collect", "community", touch)
            if d[3] < style.comment:
                emit("community", done + 2, "note.comment", "community", touch)

    def _ring_cover(self, ring: Ring, day: int, live: NDArray[np.int64], cum: NDArray[np.float64]) -> None:
        """Ordinary reads between jobs: notes drawn as a feed would show them, read and liked like a person."""
        rng, emit, nids = self.ring_rng, self.sink.emit, self.note_ids
        style = RING_STYLES[ring.style]
        if style.cover_reads_per_day <= 0:
            return
        counts = rng.poisson(style.cover_reads_per_day, len(ring.accounts))
        total = int(counts.sum())
        if not total:
            return
        pick = live[np.minimum(np.searchsorted(cum, rng.random(total) * cum[-1], side="right"), len(live) - 1)]
        times = cover_times(rng, day, total)
        dwells = np.clip(rng.lognormal(np.log(DWELL_MEDIAN_MS), DWELL_SIGMA, total), 1500, 900_000).astype(np.int64)
        likes = rng.random(total) < style.cover_like
        who = np.repeat(np.arange(len(ring.accounts)), counts)
        pub = self.w.na.pub_t[pick]
        times = np.maximum(times, pub + 60)
        w = self.w
        for a, n, t, dwell, liked in zip(
            who.tolist(), pick.tolist(), times.tolist(), dwells.tolist(), likes.tolist(), strict=True
        ):
            account, nid = ring.accounts[a], nids[n]
            camp = int(w.na.campaign[n])
            if camp >= 0:  # held-out accounts never see a campaign's notes, fake ones included
                c = w.campaigns[camp]
                if in_holdout(account, c.id, c.holdout_share, w.cfg.holdout_key):
                    continue
            touch = f'{{"note_id":"{nid}","user":"{account}"}}'
            if style.impressions:
                emit("community", t - 5, "note.impression", "community", touch)
            read = f'{{"note_id":"{nid}","user":"{account}","dwell_ms":{dwell}}}'
            emit("community", t, "note.read", "community", read)
            if liked:
                emit("community", t + 1 + dwell // 1000, "note.like", "community", touch)

    # -- the feed ----------------------------------------------------------------------------------------------
    def _note_weights(self, day: int) -> NDArray[np.float64]:
        na = self.w.na
        d0 = day * DAY
        age = (d0 + DAY // 2 - na.pub_t) / DAY
        active = (na.pub_t < d0 + DAY) & (age < NOTE_LIFETIME_DAYS)
        weight = na.reach * np.exp2(-np.maximum(age, 0.0) / REACH_HALF_LIFE_DAYS)
        boosted = (na.boost_start < d0 + DAY) & (na.boost_end > d0)
        weight = np.where(boosted, weight * CAMPAIGN_BOOST, weight)
        return np.where(active, weight, 0.0)

    def feed(self, day: int) -> tuple[Touches, Clicks]:
        """Impressions, reads, engagements and clicks of the day; returns the touches and the human clicks."""
        w, rng, na = self.w, self.rng, self.w.na
        d0 = day * DAY
        weekend = (self.weekday + day) % 7 >= 5
        n_imp = rng.poisson(w.activity * (1.2 if weekend else 1.0))
        users = np.repeat(np.arange(w.n_users, dtype=np.int64), n_imp)
        draw = rng.random(len(users))
        cat = np.zeros(len(users), dtype=np.int64)
        for k in range(len(w.categories) - 1):  # column by column: no (impressions x categories) temporary
            cat += draw > w.feed_cum[users, k]
        note = np.full(len(users), -1, dtype=np.int64)
        weight = self._note_weights(day)
        for c in range(len(w.categories)):
            slots = np.flatnonzero(cat == c)
            cands = np.flatnonzero((na.category == c) & (weight > 0))
            if len(slots) == 0 or len(cands) == 0:
                continue
            cum = np.cumsum(weight[cands])
            pick = np.searchsorted(cum, rng.random(len(slots)) * cum[-1], side="right")
            note[slots] = cands[np.minimum(pick, len(cands) - 1)]
        keep = note >= 0
        camp = na.campaign[np.maximum(note, 0)]
        in_campaign = keep & (camp >= 0)
        if len(w.campaigns):
            rows = np.flatnonzero(in_campaign)
            held = np.zeros(len(users), dtype=np.bool_)
            held[rows] = np.stack([c.held_out for c in w.campaigns])[camp[rows], users[rows]]
            keep &= ~held
        users, note = users[keep], note[keep]
        # one impression per person and note a day
        key = users * len(w.notes) + note
        _, first = np.unique(key, return_index=True)
        users, note = users[first], note[first]
        camp = na.campaign[note]
        for c in range(len(w.campaigns)):
            self.exposed[c, users[camp == c]] = True

        t = d0 + seconds_in_day(rng, len(users))
        pub = na.pub_t[note]
        late = pub >= t  # published later today: shown after publication
        t = np.where(late, pub + 60 + (t - d0) * np.maximum(d0 + DAY - pub - 61, 0) // DAY, t)
        self._impressions(t, users, note)

        interest = w.interest[users, na.category[note]]
        quality = na.quality[note]
        p_read = np.minimum((READ_BASE + READ_GAIN * np.sqrt(interest)) * np.sqrt(quality), 0.95)
        r = rng.random(len(users)) < p_read
        ru, rn, ri, rq, rt0 = users[r], note[r], interest[r], quality[r], t[r]
        n_read = len(ru)
        rt = rt0 + rng.integers(3, 40, n_read)
        dwell = np.clip(rng.lognormal(np.log(DWELL_MEDIAN_MS) + 0.8 * ri, DWELL_SIGMA), 1500, 900_000).astype(np.int64)
        self._reads(rt, ru, rn, dwell)

        deceptive = na.deceptive[rn]
        engage_scale = rq * np.where(deceptive, DECEPTIVE_ENGAGEMENT, 1.0) * (0.6 + 1.2 * ri)
        amount = np.full(n_read, READ_INTENT)
        for event_type, base, intent in ENGAGEMENTS:
            m = rng.random(n_read) < base * engage_scale
            te = rt[m] + (dwell[m] * rng.uniform(0.4, 1.0, int(m.sum()))).astype(np.int64) // 1000 + 1
            self._touch_block(event_type, te, ru[m], rn[m])
            amount += np.where(m, intent, 0.0)

        lcount = na.link_count[rn]
        p_click = np.minimum(CLICK_BASE * (0.5 + 2.0 * ri) * np.sqrt(rq), 0.5)
        clicked = (lcount > 0) & (rng.random(n_read) < p_click)
        amount += np.where(clicked, CLICK_INTENT, 0.0)
        ci = np.flatnonzero(clicked)
        link = na.link_start[rn[ci]] + (rng.random(len(ci)) * lcount[ci]).astype(np.int64)
        ct = rt[ci] + 3 + (dwell[ci] * rng.uniform(0.2, 0.9, len(ci))).astype(np.int64) // 1000
        seq = self.click_seq + np.arange(len(ci), dtype=np.int64)
        self.click_seq += len(ci)
        landed = rng.random(len(ci)) < CLICK_LANDS
        clicks = Clicks(ru[ci], na.brand[rn[ci]], rn[ci], link, ct, seq, landed)
        self._clicks(day, clicks)

        brand = na.brand[rn]
        b = brand >= 0
        amount *= na.persuasion[rn]
        done = rt + dwell // 1000
        touches = Touches(ru[b], brand[b], rn[b], amount[b], done[b])
        return touches, clicks

    # -- printing blocks -----------------------------------------------------------------------------------------
    def _impressions(self, t: NDArray[np.int64], users: NDArray[np.int64], note: NDArray[np.int64]) -> None:
        self._touch_block("note.impression", t, users, note)

    def _touch_block(
        self, event_type: str, t: NDArray[np.int64], users: NDArray[np.int64], note: NDArray[np.int64]
    ) -> None:
        t, (users, note) = _sorted(t, users, note)
        ps, nids, h = self.w.pseudonyms, self.note_ids, head(event_type, "community")

        def render(pre: str, first: int, lo: int, hi: int, times: list[str]) -> list[str]:
            return [
                f'{{"id":"{pre}{i}{h}{ts}","data":{{"note_id":"{nids[n]}","user":"{ps[u]}"}}}}'
                for i, ts, u, n in zip(
                    range(first, first + hi - lo), times, users[lo:hi].tolist(), note[lo:hi].tolist(), strict=True
                )
            ]

        self.sink.add_block("community", event_type, t, render)

    def _reads(
        self, t: NDArray[np.int64], users: NDArray[np.int64], note: NDArray[np.int64], dwell: NDArray[np.int64]
    ) -> None:
        t, (users, note, dwell) = _sorted(t, users, note, dwell)
        ps, nids, h = self.w.pseudonyms, self.note_ids, head("note.read", "community")

        def render(pre: str, first: int, lo: int, hi: int, times: list[str]) -> list[str]:
            return [
                f'{{"id":"{pre}{i}{h}{ts}","data":{{"note_id":"{nids[n]}","user":"{ps[u]}","dwell_ms":{d}}}}}'
                for i, ts, u, n, d in zip(
                    range(first, first + hi - lo),
                    times,
                    users[lo:hi].tolist(),
                    note[lo:hi].tolist(),
                    dwell[lo:hi].tolist(),
                    strict=True,
                )
            ]

        self.sink.add_block("community", "note.read", t, render)

    def _clicks(self, day: int, clicks: Clicks) -> None:
        """link.click (people, bots and previews) to the links file; the store visits they land on to market."""
        w, rng = self.w, self.rng
        d0 = day * DAY
        # bots and link-preview fetchers hit every link of a live note now and then
        live = np.flatnonzero(self._note_weights(day) > 0)
        live_links = np.concatenate(
            [
                np.arange(s, s + n)
                for s, n in zip(w.na.link_start[live].tolist(), w.na.link_count[live].tolist(), strict=True)
            ]
            + [np.zeros(0, dtype=np.int64)]
        ).astype(np.int64)
        n_bot = rng.poisson(w.cfg.bot_clicks_per_link_day, len(live_links))
        bot_link = np.repeat(live_links, n_bot)
        bot_t = np.maximum(d0 + rng.integers(0, DAY, len(bot_link)), w.na.pub_t[self.link_note[bot_link]] + 5)
        bot_seq = self.click_seq + np.arange(len(bot_link), dtype=np.int64)
        self.click_seq += len(bot_link)
        ua = np.where(rng.random(len(bot_link)) < 0.5, 2, 3)  # bot | preview

        t = np.concatenate([clicks.t, bot_t]).astype(np.int64)
        link = np.concatenate([clicks.link, bot_link]).astype(np.int64)
        user = np.concatenate([clicks.user, np.full(len(bot_link), -1, dtype=np.int64)])
        seq = np.concatenate([clicks.seq, bot_seq]).astype(np.int64)
        ua_h = np.where(rng.random(len(clicks.t)) < 0.85, 0, 1)  # app | browser
        uac = np.concatenate([ua_h, ua]).astype(np.int64)
        t, (link, user, seq, uac) = _sorted(t, link, user, seq, uac)
        ps, lids, h = w.pseudonyms, self.link_ids, head("link.click", "links")
        ua_names = ("app", "browser", "bot", "preview")

        def render(pre: str, first: int, lo: int, hi: int, times: list[str]) -> list[str]:
            out = []
            for i, ts, lk, u, s, a in zip(
                range(first, first + hi - lo),
                times,
                link[lo:hi].tolist(),
                user[lo:hi].tolist(),
                seq[lo:hi].tolist(),
                uac[lo:hi].tolist(),
                strict=True,
            ):
                if u >= 0:
                    data = f'{{"click_id":"ck{s}","link_id":"{lids[lk]}","user":"{ps[u]}","ua_class":"{ua_names[a]}"}}'
                else:
                    data = f'{{"click_id":"ck{s}","link_id":"{lids[lk]}","ua_class":"{ua_names[a]}","bot":true}}'
                out.append(f'{{"id":"{pre}{i}{h}{ts}","data":{data}}}')
            return out

        self.sink.add_block("links", "link.click", t, render)

        lands = clicks.landed
        vt = clicks.t[lands] + rng.integers(1, 6, int(lands.sum()))
        vt, (vu, vl, vs) = _sorted(vt, clicks.user[lands], clicks.link[lands], clicks.seq[lands])
        items, stores = w.items, w.stores
        heads = [head("market.visit", f"market:{m}") for m in MARKETS]
        link_item, link_market = w.link_item, w.link_market

        def render_visit(pre: str, first: int, lo: int, hi: int, times: list[str]) -> list[str]:
            out = []
            for i, ts, u, lk, s in zip(
                range(first, first + hi - lo),
                times,
                vu[lo:hi].tolist(),
                vl[lo:hi].tolist(),
                vs[lo:hi].tolist(),
                strict=True,
            ):
                item = items[int(link_item[lk])]
                out.append(
                    f'{{"id":"{pre}{i}{heads[int(link_market[lk])]}{ts}","data":{{"user":"{ps[u]}",'
                    f'"item_id":"{item.id}","store_id":"{stores[item.store].id}","click_id":"ck{s}"}}}}'
                )
            return out

        self.sink.add_block("market", "market.visit", vt, render_visit)
