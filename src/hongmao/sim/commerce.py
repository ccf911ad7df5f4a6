"""Purchase intent and the marketplace: the causal heart of the simulator.

The generative model, per person u and brand b, one day at a time:

* every read of a b-note n adds intent a (1 for the read, more for a like, collect, comment, share or link
  click; times the note's persuasion: deceptive notes oversell) which decays as exp(-age / tau_b), tau_b the
  mean decision cycle of b's category (days for snacks, weeks for skincare, months for baby food);
* the day's purchase hazard is  h = organic(u, b) + k / tau_b * sum_n intent_n + impulse_n
  where impulse_n is a same-day boost from clicking one of n's links (smaller for long cycles), and k is the
  lifetime conversion per
  unit of intent (a touch's expected orders are k * a whatever the category: the cycle only spreads them);
* a purchase happens with probability 1 - exp(-h); its *cause* is drawn from {organic, each note} in
  proportion to their terms of h. An order caused by a note is incremental: without the notes it would not
  have happened. Its ``notes``/``weights`` in the truth are every note's share of the intent terms;
* note-caused buyers who clicked the causing note's link today mostly buy in that session (the order carries
  the click id); the others search the brand on the marketplace first (回搜) and buy without any click id;
* refunds and reviews follow days later; an order caused by a deceptive note is far more likely to be
  refunded as not_as_described and rated low. How much more varies by creator (some oversell a little, some a
  lot: ``deception_strength``), and every category has its own base rates of refunds and disappointed buyers
  (``category_refund_factor``: clothing that does not fit is refunded far more than snacks), so a detector must
  judge a creator against the norm of what their buyers bought, not a global rate.

Hazards add, so a campaign's effect on its treated group is the sum of its notes' terms: the holdout contrast
(treated minus held-out, scaled) estimates the campaign's caused orders in the truth.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hongmao.sim.behaviour import CLICK_INTENT, Clicks, Touches
from hongmao.sim.clock import DAY, seconds_in_day
from hongmao.sim.config import MARKETS
from hongmao.sim.shapley import shapley
from hongmao.sim.truth import CampaignTally, TruthWriter
from hongmao.sim.world import World
from hongmao.sim.worlds import WORLD_KINDS, Dynamics
from hongmao.sim.writer import EventSink

SESSION_VIA_CLICK = 0.85  # a note-caused buyer who clicked its link today buys in that session
NOTE_ITEM_SHARE = 0.7  # a note-caused buyer mostly buys an item the note linked
MIN_WEIGHT = 0.005  # notes with a smaller share of an order's credit are left out of its truth
MEMORY_CYCLES = 4.0  # a touch is forgotten after this many decision cycles (exp(-4): under 2% of it is left)
MAX_LOG_DAYS = 120
HONEST_NOT_AS_DESCRIBED = 0.01
OTHER_REFUND = 0.05
CATEGORY_REFUND_SPREAD = 0.6  # log-sd of a category's refund and disappointment rates around the defaults
CATEGORY_REFUND_RANGE = (0.3, 4.0)
CATEGORY_DISAPPOINTED = 0.03  # an honest buyer's extra chance of disappointment per unit of factor above 1
DECEPTION_STRENGTH = (0.25, 1.25)  # a deceptive creator's excess, as a multiple of cfg.deceptive_refund_rate
OTHER_REASONS = (("quality", 0.3), ("damaged", 0.15), ("changed_mind", 0.35), ("late_delivery", 0.1), ("other", 0.1))
REVIEW_RATE, DISAPPOINTED_REVIEW_RATE = 0.3, 0.6
RATINGS_CONTENT = (0.03, 0.03, 0.08, 0.24, 0.62)  # P(rating 1..5)
RATINGS_DISAPPOINTED = (0.55, 0.3, 0.1, 0.04, 0.01)
REVIEW_TEXT: dict[int, tuple[str, ...]] = {
    1: ("和笔记说的完全不一样", "踩雷了，不推荐", "效果为零，被种草骗了"),
    2: ("一般，没有宣传的那么好", "有点失望"),
    3: ("还行吧", "中规中矩"),
    4: ("不错，会回购", "挺好用的"),
    5: ("超级好用！", "回购无数次了", "真的没踩雷"),
}
COMMUNITY_KEYWORD_SEARCH = 0.03  # daily chance of a plain keyword search in the community
_ORDER_COLS = 24


@dataclass
class _DayLog:
    """One day's touches, compact (16 bytes a touch): what an order's credit is computed from."""

    day: int
    key: NDArray[np.int64]  # user * brands + brand, sorted
    note: NDArray[np.int32]
    amount: NDArray[np.float32]
    expired: NDArray[np.bool_]  # per brand: rows of that brand were dropped (older than its memory)


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _pick(cum: tuple[float, ...], r: float) -> int:
    for i, c in enumerate(cum):
        if r < c:
            return i
    return len(cum) - 1


def _cum(p: tuple[float, ...]) -> tuple[float, ...]:
    acc, out = 0.0, []
    for x in p:
        acc += x
        out.append(acc)
    return tuple(out)


class Commerce:
    """The marketplace side of a world and everyone's purchase intent, stepped one day at a time."""

    def __init__(
        self,
        world: World,
        rng: np.random.Generator,
        sink: EventSink,
        truth: TruthWriter,
        dynamics: Dynamics | None = None,
    ) -> None:
        self.w = world
        self.rng = rng
        self.sink = sink
        self.truth = truth
        # The additive world keeps its running decayed intent and its closed-form truth (no dynamics); every
        # other kind recomputes intent from the touch log with its kernel and credits orders by Shapley values.
        self.dyn = dynamics
        self.kind = dynamics.kind if dynamics is not None else WORLD_KINDS["additive"]
        kernel = self.kind.kernel
        self._weight: Callable[[int, float], float] = (
            (lambda age, tau: math.exp(-age / tau)) if dynamics is None else (lambda age, tau: float(kernel(age, tau)))
        )
        w = world
        self.n_brands = nb = len(w.brands)
        self.tau = np.array([w.categories[b.category].mean_delay_days for b in w.brands], dtype=np.float64)
        self.decay = np.exp(-1.0 / self.tau)
        cfg = w.cfg
        self.k_buy = cfg.intent_conversion / self.tau
        self.impulse_scale = np.sqrt(10.0 / self.tau)
        self.k_search = cfg.search_back_rate / self.tau
        self.k_community = cfg.community_search_rate / self.tau
        self.intent = np.zeros((w.n_users, nb), dtype=np.float64)
        self.organic = w.organic
        self.routes: dict[tuple[int, int], tuple[int, int, int]] = {}  # (user, brand) -> latest landed click
        self.logs: list[_DayLog] = []
        self.keep_days = np.minimum(np.ceil(MEMORY_CYCLES * self.tau), MAX_LOG_DAYS).astype(np.int64)
        self.pending: dict[int, list[tuple[int, str, str, str]]] = {}
        self.order_seq = 0
        self.tallies = [CampaignTally() for _ in w.campaigns]
        # the store a person uses for a brand: their usual marketplace when the brand sells there
        self.store_for = np.zeros((len(MARKETS), nb), dtype=np.int64)
        for b in w.brands:
            by_market = {w.stores[s].market: s for s in b.stores}
            for m, market in enumerate(MARKETS):
                self.store_for[m, b.index] = by_market.get(market, b.stores[0])
        self.pop_cum = [_cum(b.product_popularity) for b in w.brands]
        self.cat_market_items: list[list[list[int]]] = [
            [
                [int(i) for i in items if w.stores[w.items[int(i)].store].market == m] or [int(i) for i in items]
                for m in MARKETS
            ]
            for items in w.cat_items
        ]
        self.interest_cum = np.cumsum(w.interest, axis=1)
        self.interest_cum[:, -1] = 1.0
        self.sources = {m: f"market:{m}" for m in MARKETS}
        self.cum_reasons = _cum(tuple(p for _, p in OTHER_REASONS))
        self.cum_content = _cum(RATINGS_CONTENT)
        self.cum_disappointed = _cum(RATINGS_DISAPPOINTED)
        # Base rates per category and deception strength per creator come from a child of the commerce stream
        # (spawning leaves the stream itself untouched: every order is drawn as before).
        vary = np.random.default_rng(rng.bit_generator.seed_seq.spawn(1)[0])  # type: ignore[attr-defined]
        low, high = CATEGORY_REFUND_RANGE
        self.category_refund_factor = np.clip(
            np.exp(vary.normal(0.0, CATEGORY_REFUND_SPREAD, len(w.categories))), low, high
        )
        self.deception_strength = vary.uniform(*DECEPTION_STRENGTH, len(w.creators))

    # -- intent bookkeeping ---------------------------------------------------------------------------------
    def _add_touches(self, day: int, touches: Touches) -> None:
        if len(touches.user) == 0:
            return
        np.add.at(self.intent, (touches.user, touches.brand), touches.amount)
        key = touches.user * self.n_brands + touches.brand
        order = np.argsort(key, kind="stable")
        self.logs.append(
            _DayLog(
                day,
                key[order],
                touches.note[order].astype(np.int32),
                touches.amount[order].astype(np.float32),
                np.zeros(self.n_brands, dtype=np.bool_),
            )
        )

    def _prune(self, day: int) -> None:
        """Forget touches older than their brand's memory, taking what is left of them out of the intent."""
        for log in self.logs:
            newly = ((day - log.day) > self.keep_days) & ~log.expired
            if not newly.any():
                continue
            log.expired |= newly
            b = log.key % self.n_brands
            drop = newly[b]
            left = log.amount[drop] * np.exp(-(day - log.day) / self.tau[b[drop]])
            np.subtract.at(self.intent, (log.key[drop] // self.n_brands, b[drop]), left)
            log.key, log.note, log.amount = log.key[~drop], log.note[~drop], log.amount[~drop]
        np.maximum(self.intent, 0.0, out=self.intent)
        self.logs = [log for log in self.logs if not log.expired.all()]

    def _contributions(self, day: int, keys: NDArray[np.int64]) -> list[dict[int, float]]:
        """Each key's decayed intent per note."""
        out: list[dict[int, float]] = [{} for _ in range(len(keys))]
        for log in self.logs:
            lo = np.searchsorted(log.key, keys, side="left")
            hi = np.searchsorted(log.key, keys, side="right")
            for j in np.flatnonzero(hi > lo).tolist():
                f = self._weight(day - log.day, float(self.tau[int(keys[j]) % self.n_brands]))
                acc = out[j]
                for n, a in zip(log.note[lo[j] : hi[j]].tolist(), log.amount[lo[j] : hi[j]].tolist(), strict=True):
                    acc[n] = acc.get(n, 0.0) + a * f
        return out

    def _kernel_intent(self, day: int) -> NDArray[np.float64]:
        """Everyone's intent for every brand, each touch weighted by the kind's kernel of its age."""
        out = np.zeros_like(self.intent)
        for log in self.logs:
            b = log.key % self.n_brands
            weight = self.kind.kernel(day - log.day, self.tau[b])
            np.add.at(out, (log.key // self.n_brands, b), log.amount * weight)
        return out

    def _causal(self, touches: Touches, clicks: Clicks) -> Touches:
        """Touches with only the causal share of a link click's intent (all of it but in the routes world)."""
        keep = self.kind.click_cause
        if keep >= 1.0 or len(clicks.t) == 0 or len(touches.user) == 0:
            return touches
        n = len(self.w.notes)
        clicked = np.isin(touches.user * n + touches.note, clicks.user * n + clicks.note)
        cut = (1.0 - keep) * CLICK_INTENT * self.w.na.persuasion[touches.note]
        return replace(touches, amount=touches.amount - np.where(clicked, cut, 0.0))

    # -- the day ----------------------------------------------------------------------------------------------
    def step(self, day: int, touches: Touches, clicks: Clicks) -> None:
        for t, event_type, source, data in self.pending.pop(day, []):
            self.sink.emit("market", t, event_type, source, data)
        if self.n_brands == 0:
            return
        if day > 0:
            self.intent *= self.decay
        self._prune(day)
        self._add_touches(day, self._causal(touches, clicks))
        last_touch = _last_times(touches.user * self.n_brands + touches.brand, touches.t)

        w, rng, cfg = self.w, self.rng, self.w.cfg
        if self.dyn is None:
            hazard = w.organic + self.k_buy * self.intent
        else:
            self.intent = self._kernel_intent(day)
            self.organic = self.dyn.organic()
            hazard = self.dyn.hazard(self.organic, self.intent, self.k_buy)
        impulse: dict[int, dict[int, float]] = {}
        sessions: dict[tuple[int, int], tuple[int, int, int]] = {}  # (user, note) -> latest landed click
        if len(clicks.t):
            # an impulse buy is likelier for snacks than for a stroller: the impulse shrinks with the cycle
            amount = (
                cfg.click_impulse
                * w.na.persuasion[clicks.note]
                * self.impulse_scale[clicks.brand]
                * self.kind.click_cause
            )
            np.add.at(hazard, (clicks.user, clicks.brand), amount)
            for u, b, n, lk, t, s, ok, a in zip(
                clicks.user.tolist(),
                clicks.brand.tolist(),
                clicks.note.tolist(),
                clicks.link.tolist(),
                clicks.t.tolist(),
                clicks.seq.tolist(),
                clicks.landed.tolist(),
                amount.tolist(),
                strict=True,
            ):
                per = impulse.setdefault(u * self.n_brands + b, {})
                per[n] = per.get(n, 0.0) + a
                if ok and ((u, n) not in sessions or sessions[(u, n)][0] < t):
                    sessions[(u, n)] = (t, s, lk)
                if ok and self.kind.route_days and ((u, b) not in self.routes or self.routes[(u, b)][0] < t):
                    self.routes[(u, b)] = (t, s, lk)  # the brand's latest click, whichever note it came from

        buy = rng.random(hazard.shape) < -np.expm1(-hazard)
        search = (rng.random(hazard.shape) < -np.expm1(-self.k_search * self.intent)) & ~buy
        community = rng.random(hazard.shape) < -np.expm1(-self.k_community * self.intent)
        bu, bb = np.nonzero(buy)
        self._orders(day, bu.astype(np.int64), bb.astype(np.int64), impulse, sessions, last_touch)
        if self.dyn is not None:
            self.dyn.bought(bu.astype(np.int64), bb.astype(np.int64))
        su, sb = np.nonzero(search)
        self._search_backs(day, su.astype(np.int64), sb.astype(np.int64), last_touch)
        cu, cb = np.nonzero(community)
        self._community_searches(day, cu.astype(np.int64), cb.astype(np.int64), last_touch)
        self._browsing(day)

    def _session_start(
        self,
        day: int,
        keys: NDArray[np.int64],
        last_touch: tuple[NDArray[np.int64], NDArray[np.int64]],
    ) -> NDArray[np.int64]:
        """A time of day for each key's session, after that key's last touch today when it had one."""
        rng = self.rng
        t = day * DAY + seconds_in_day(rng, len(keys))
        tk, tt = last_touch
        if len(tk) and len(keys):
            pos = np.minimum(np.searchsorted(tk, keys), len(tk) - 1)
            touched = tk[pos] == keys
            after = tt[pos] + 600 + rng.integers(0, 7200, len(keys))
            t = np.where(touched & (t < after), after, t)
        return np.asarray(t, dtype=np.int64)

    def _brand_query(self, b: int, r: float) -> str:
        brand = self.w.brands[b]
        if r < 0.6:
            return brand.id
        keywords = self.w.categories[brand.category].keywords
        return f"{brand.id} {keywords[int(r * 1000) % len(keywords)]}"

    # -- orders ------------------------------------------------------------------------------------------------
    def _orders(
        self,
        day: int,
        users: NDArray[np.int64],
        brands: NDArray[np.int64],
        impulse: dict[int, dict[int, float]],
        sessions: dict[tuple[int, int], tuple[int, int, int]],
        last_touch: tuple[NDArray[np.int64], NDArray[np.int64]],
    ) -> None:
        if len(users) == 0:
            return
        w, emit = self.w, self.sink.emit
        keys = users * self.n_brands + brands
        contribs = self._contributions(day, keys)
        start = self._session_start(day, keys, last_touch).tolist()
        draws = self.rng.random((len(users), _ORDER_COLS)).tolist()
        records: list[dict[str, Any]] = []
        for j, (u, b) in enumerate(zip(users.tolist(), brands.tolist(), strict=True)):
            r = draws[j]
            bought_now = impulse.get(u * self.n_brands + b, {})
            extra: dict[str, Any] = {}
            if self.dyn is None:
                k_buy = float(self.k_buy[b])
                parts = {n: k_buy * c for n, c in contribs[j].items()}
                for n, a in bought_now.items():
                    parts[n] = parts.get(n, 0.0) + a
                organic = float(w.organic[u, b])
            else:
                parts, organic, extra = self._shapley_parts(u, b, contribs[j], bought_now)
            total = sum(parts.values())
            incremental = total > 0 and r[0] * (organic + total) >= organic
            notes: list[int] = []
            weights: list[float] = []
            cause = -1
            if incremental:
                notes, weights = _credit(parts, total)
                acc, pick = 0.0, r[1]
                cause = notes[-1]
                for n, wt in zip(notes, weights, strict=True):
                    acc += wt
                    if pick < acc:
                        cause = n
                        break
            if self.kind.route_days:
                # the brand's latest click within the route window routes the order, whatever caused it
                session = self.routes.get((u, b))
                if session is not None and session[0] < (day + 1 - self.kind.route_days) * DAY:
                    session = None
            else:
                session = sessions.get((u, cause)) if incremental else None
            via_click = session is not None and r[2] < SESSION_VIA_CLICK

            # what is bought, where
            if session is not None and via_click:
                item = w.items[int(w.link_item[session[2]])]
            elif incremental and w.notes[cause].items and r[3] < NOTE_ITEM_SHARE:
                note_items = w.notes[cause].items
                item = w.items[note_items[int(r[4] * len(note_items))]]
            else:
                store = w.stores[int(self.store_for[int(w.market_pref[u]), b])]
                item = w.items[store.items[_pick(self.pop_cum[b], r[5])]]
            store = w.stores[item.store]
            source = self.sources[store.market]
            q = 1 if r[6] < 0.85 else 2 if r[6] < 0.97 else 3
            lines = [(item, q)]
            if r[7] < 0.15 and len(store.items) > 1:
                other = (item.product + 1 + int(r[8] * (len(store.items) - 1))) % len(store.items)
                lines.append((w.items[store.items[other]], 1))
            amount = sum(it.price_cents * qty for it, qty in lines)
            user = w.pseudonyms[u]

            # the path to the order
            if session is not None and via_click and session[0] < day * DAY:
                # back days after the click through the app's own tracking: the order still carries the click
                path = "click"
                t = start[j]
                emit(
                    "market",
                    t,
                    "market.visit",
                    source,
                    f'{{"user":"{user}","item_id":"{item.id}","store_id":"{store.id}"}}',
                )
            elif session is not None and via_click:
                path = "click"
                t = session[0] + 30 + int(r[9] * 300)
            else:
                t = start[j]
                if incremental:
                    path = "search"
                elif r[11] < 0.5:
                    path = "organic_search"
                else:
                    path = "direct"
                if path != "direct":
                    query = (
                        self._brand_query(b, r[10])
                        if path == "search" or r[10] < 0.5
                        else _keyword(w.categories[item.category].keywords, r[10])
                    )
                    emit("market", t, "market.search", source, f'{{"user":"{user}","query":"{query}"}}')
                    t += 20 + int(r[12] * 100)
                emit(
                    "market",
                    t,
                    "market.visit",
                    source,
                    f'{{"user":"{user}","item_id":"{item.id}","store_id":"{store.id}"}}',
                )
            if r[13] < (0.5 if path == "direct" else 0.6):
                t += 30 + int(r[14] * 240)
                emit("market", t, "market.cart", source, f'{{"user":"{user}","item_id":"{item.id}","quantity":{q}}}')
            t += 60 + int(r[15] * 900)
            self.order_seq += 1
            order_id = f"ord-{self.order_seq:07d}"
            line_text = ",".join(
                f'{{"item_id":"{it.id}","quantity":{qty},"price":{money(it.price_cents)}}}' for it, qty in lines
            )
            click = f',"click_id":"ck{session[1]}"' if session is not None and via_click else ""
            emit(
                "market",
                t,
                "market.order",
                source,
                f'{{"order_id":"{order_id}","user":"{user}","lines":[{line_text}],"amount":{money(amount)}{click}}}',
            )

            campaign = int(w.na.campaign[cause]) if incremental else -1
            if campaign >= 0:
                self.tallies[campaign].orders += 1
                self.tallies[campaign].gmv_cents += amount
            for n, wt in zip(notes, weights, strict=True):
                c = int(w.na.campaign[n])
                if c >= 0:
                    self.tallies[c].credited += wt
            deceived = incremental and w.notes[cause].deceptive
            excess = self.deception_strength[w.notes[cause].creator] * w.cfg.deceptive_refund_rate if deceived else 0.0
            self._after_sale(t, order_id, user, source, amount, item.category, excess, r[16:24])
            records.append(
                {
                    "order_id": order_id,
                    "time": w.clock.text(t),
                    "user": user,
                    "brand": w.brands[b].id,
                    "amount": amount / 100,
                    "incremental": incremental,
                    "notes": [w.notes[n].id for n in notes],
                    "weights": weights,
                    "cause_note": w.notes[cause].id if incremental else None,
                    "campaign_id": w.campaigns[campaign].id if campaign >= 0 else None,
                    "path": path,
                    "click_id": f"ck{session[1]}" if session is not None and via_click else None,
                    **_truth_extra(extra, notes, parts, organic, total),
                }
            )
        records.sort(key=lambda rec: (rec["time"], rec["order_id"]))
        self.truth.orders(records)

    def _shapley_parts(
        self, u: int, b: int, intent: dict[int, float], impulse: dict[int, float]
    ) -> tuple[dict[int, float], float, dict[str, Any]]:
        """Each note's Shapley value in the buyer's intensity today, the organic intensity v(none), and how
        the values were found (exact, or sampled with standard errors)."""
        assert self.dyn is not None
        players = sorted(set(intent) | set(impulse))
        organic = float(self.organic[u, b])
        prior = float(self.dyn.prior[u, b])
        k = float(self.k_buy[b])
        if not players:
            return {}, organic + float(self.kind.response(np.array([prior]), k)[0]), {"shapley": "exact"}
        x = np.array([intent.get(n, 0.0) for n in players], dtype=np.float64)
        y = np.array([impulse.get(n, 0.0) for n in players], dtype=np.float64)
        game = self.dyn.game(organic, prior, k, x, y)
        sv = shapley(game, len(players), self.dyn.rng)
        parts = {n: max(float(v), 0.0) for n, v in zip(players, sv.values.tolist(), strict=True)}
        extra: dict[str, Any] = {"shapley": "exact" if sv.se is None else "sampled", "players": len(players)}
        if sv.se is not None:
            extra["se"] = dict(zip(players, sv.se.tolist(), strict=True))
        # What a holdout measures is not a Shapley value but a removal effect: the share of this order that
        # would not happen without the campaign's notes (the same thing only when effects add).
        camp = self.w.na.campaign[np.array(players, dtype=np.int64)]
        effects: dict[str, float] = {}
        for c in sorted(set(camp.tolist()) - {-1}):
            without = float(game((camp != c)[None, :])[0])
            effects[self.w.campaigns[c].id] = round(max(sv.full - without, 0.0) / sv.full, 6)
        if effects:
            extra["campaign_effect"] = effects
        return parts, sv.empty, extra

    def _after_sale(
        self,
        t: int,
        order_id: str,
        user: str,
        source: str,
        amount: int,
        category: int,
        excess: float,
        r: list[float],
    ) -> None:
        """Schedule the refund and review of an order (dropped when they fall after the last day).

        A buyer whom a deceptive note persuaded (``excess`` > 0: that note's creator's extra chance of a
        not_as_described refund) gets something other than what was promised: a not_as_described refund and a
        low rating are far more likely. The item's category sets the base rates every buyer has.
        """
        deceived = excess > 0
        factor = float(self.category_refund_factor[category])
        not_as_described = HONEST_NOT_AS_DESCRIBED * factor + excess
        reason = None
        if r[0] < not_as_described:
            reason = "not_as_described"
        elif r[0] < not_as_described + OTHER_REFUND * factor:
            reason = OTHER_REASONS[_pick(self.cum_reasons, r[1])][0]
        review_t = t + 2 * DAY + int(r[2] * 8 * DAY)
        if reason is not None:
            refund_t = t + DAY + int(r[3] * 7 * DAY)
            partial = reason != "not_as_described" and r[4] >= 0.8
            cents = max(1, amount * (3 + int((r[4] - 0.8) * 25)) // 10) if partial else amount
            self._later(
                refund_t,
                "market.refund",
                source,
                f'{{"order_id":"{order_id}","amount":{money(cents)},"reason":"{reason}","user":"{user}"}}',
            )
            review_t = max(review_t, refund_t + 3600)
        honest_disappointed = CATEGORY_DISAPPOINTED * max(factor - 1.0, 0.0)
        disappointed = reason == "not_as_described" or r[5] < (
            min(0.6, 1.5 * excess) if deceived else honest_disappointed
        )
        if r[7] < (DISAPPOINTED_REVIEW_RATE if disappointed else REVIEW_RATE):
            rating = 1 + _pick(self.cum_disappointed if disappointed else self.cum_content, r[6])
            texts = REVIEW_TEXT[rating]
            text = texts[int(r[2] * 1000) % len(texts)]
            self._later(
                review_t,
                "market.review",
                source,
                f'{{"order_id":"{order_id}","rating":{rating},"text":"{text}","user":"{user}"}}',
            )

    def _later(self, t: int, event_type: str, source: str, data: str) -> None:
        self.pending.setdefault(t // DAY, []).append((t, event_type, source, data))

    # -- searches and browsing that end without an order --------------------------------------------------------
    def _search_backs(
        self,
        day: int,
        users: NDArray[np.int64],
        brands: NDArray[np.int64],
        last_touch: tuple[NDArray[np.int64], NDArray[np.int64]],
    ) -> None:
        """回搜 without buying (yet): search the brand, look at an item, maybe save it."""
        if len(users) == 0:
            return
        w, emit = self.w, self.sink.emit
        start = self._session_start(day, users * self.n_brands + brands, last_touch).tolist()
        draws = self.rng.random((len(users), 4)).tolist()
        for j, (u, b) in enumerate(zip(users.tolist(), brands.tolist(), strict=True)):
            r = draws[j]
            store = w.stores[int(self.store_for[int(w.market_pref[u]), b])]
            item = w.items[store.items[_pick(self.pop_cum[b], r[1])]]
            user, source, t = w.pseudonyms[u], self.sources[store.market], start[j]
            emit("market", t, "market.search", source, f'{{"user":"{user}","query":"{self._brand_query(b, r[0])}"}}')
            t += 20 + int(r[2] * 100)
            emit(
                "market",
                t,
                "market.visit",
                source,
                f'{{"user":"{user}","item_id":"{item.id}","store_id":"{store.id}"}}',
            )
            if r[3] < 0.15:
                emit("market", t + 15, "market.favorite", source, f'{{"user":"{user}","item_id":"{item.id}"}}')
            elif r[3] < 0.4:
                emit("market", t + 25, "market.cart", source, f'{{"user":"{user}","item_id":"{item.id}","quantity":1}}')

    def _community_searches(
        self,
        day: int,
        users: NDArray[np.int64],
        brands: NDArray[np.int64],
        last_touch: tuple[NDArray[np.int64], NDArray[np.int64]],
    ) -> None:
        """Brand searches inside the community by seeded people, and plain keyword searches by anyone."""
        w, rng, emit = self.w, self.rng, self.sink.emit
        if len(users):
            start = self._session_start(day, users * self.n_brands + brands, last_touch).tolist()
            draws = rng.random(len(users)).tolist()
            for u, b, t, r in zip(users.tolist(), brands.tolist(), start, draws, strict=True):
                emit(
                    "community",
                    t,
                    "community.search",
                    "community",
                    f'{{"user":"{w.pseudonyms[u]}","query":"{self._brand_query(b, r)}"}}',
                )
        who = np.flatnonzero(rng.random(w.n_users) < COMMUNITY_KEYWORD_SEARCH)
        cats = (rng.random(len(who))[:, None] > self.interest_cum[who]).sum(axis=1)
        times = (day * DAY + seconds_in_day(rng, len(who))).tolist()
        picks = rng.integers(0, 1 << 30, len(who)).tolist()
        for u, c, t, p in zip(who.tolist(), cats.tolist(), times, picks, strict=True):
            keywords = w.categories[c].keywords
            emit(
                "community",
                t,
                "community.search",
                "community",
                f'{{"user":"{w.pseudonyms[u]}","query":"{keywords[p % len(keywords)]}"}}',
            )

    def _browsing(self, day: int) -> None:
        """Organic marketplace sessions: search a category, look at a few items, sometimes save one."""
        w, rng, emit = self.w, self.rng, self.sink.emit
        who = np.flatnonzero(rng.random(w.n_users) < w.cfg.browse_rate)
        cats = (rng.random(len(who))[:, None] > self.interest_cum[who]).sum(axis=1)
        times = (day * DAY + seconds_in_day(rng, len(who))).tolist()
        draws = rng.random((len(who), 6)).tolist()
        for u, c, t, r in zip(who.tolist(), cats.tolist(), times, draws, strict=True):
            m = int(w.market_pref[u])
            user, keywords = w.pseudonyms[u], w.categories[c].keywords
            source = self.sources[MARKETS[m]]
            emit(
                "market",
                t,
                "market.search",
                source,
                f'{{"user":"{user}","query":"{keywords[int(r[0] * 1000) % len(keywords)]}"}}',
            )
            pool = self.cat_market_items[c][m]
            if not pool:
                continue
            item = w.items[0]
            for v in range(1 + int(r[1] * 3)):
                item = w.items[pool[int(r[2 + v] * len(pool))]]
                source = self.sources[w.stores[item.store].market]
                t += 20 + int(r[5] * 120)
                emit(
                    "market",
                    t,
                    "market.visit",
                    source,
                    f'{{"user":"{user}","item_id":"{item.id}","store_id":"{w.stores[item.store].id}"}}',
                )
            if r[5] < 0.1:
                emit("market", t + 15, "market.favorite", source, f'{{"user":"{user}","item_id":"{item.id}"}}')
            elif r[5] < 0.25:
                emit("market", t + 25, "market.cart", source, f'{{"user":"{user}","item_id":"{item.id}","quantity":1}}')


def _truth_extra(
    extra: dict[str, Any], notes: list[int], parts: dict[int, float], organic: float, total: float
) -> dict[str, Any]:
    """What a Shapley truth adds to an order's row (nothing in the additive world, whose rows stay as they were):
    the organic share v(none) / v(all), the method, and when sampled the standard error of each listed note's
    weight (its Shapley value's standard error over the notes' total)."""
    if not extra:
        return {}
    out: dict[str, Any] = {
        "organic_share": round(organic / (organic + total), 6) if organic + total > 0 else 1.0,
        "shapley": extra["shapley"],
    }
    if "players" in extra:
        out["players"] = extra["players"]
    if "campaign_effect" in extra:
        out["campaign_effect"] = extra["campaign_effect"]
    se = extra.get("se")
    if se is not None and notes:
        mass = sum(parts[n] for n in notes)
        out["weights_se"] = [round(se[n] / mass, 6) for n in notes]
    return out


def _keyword(keywords: tuple[str, ...], r: float) -> str:
    return keywords[int(r * 1000) % len(keywords)]


def _credit(parts: dict[int, float], total: float) -> tuple[list[int], list[float]]:
    """Notes with at least MIN_WEIGHT of the credit, largest first, shares rounded and summing to 1."""
    kept = sorted(((n, v) for n, v in parts.items() if v >= MIN_WEIGHT * total), key=lambda x: (-x[1], x[0]))
    mass = sum(v for _, v in kept)
    notes = [n for n, _ in kept]
    weights = [round(v / mass, 6) for _, v in kept]
    weights[0] = round(1.0 - sum(weights[1:]), 6)
    if len(weights) > 1 and weights[0] < weights[1]:
        # tied shares: the rounding remainder pushed the first below the second; keep the rows largest first
        pairs = sorted(zip(notes, weights, strict=True), key=lambda p: (-p[1], p[0]))
        notes, weights = [n for n, _ in pairs], [w for _, w in pairs]
    return notes, weights


def _last_times(keys: NDArray[np.int64], t: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Sorted distinct keys and the latest time of each."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = np.lexsort((t, keys))
    k, tt = keys[order], t[order]
    last = np.append(np.flatnonzero(np.diff(k)), len(k) - 1)
    return k[last], tt[last]
