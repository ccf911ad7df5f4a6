"""World kinds: structurally different causal worlds behind one switch (``WorldConfig.world``).

Every kind is one row of :data:`WORLD_KINDS`. In every kind a person's purchase intensity for a brand on a day is
a *game* over the brand's notes they read, ``v(S) = organic + G(prior + sum_{n in S} x_n) + sum_{n in S} y_n``:

* ``x_n`` is the intent note ``n`` left, weighted by the kind's *kernel* of the read's age (exponential decay
  with the category's cycle, or a curve that peaks days after the read for considered purchases);
* ``y_n`` is the same-day impulse of clicking one of ``n``'s links;
* ``G`` is the kind's *response* to intent: linear (hazards add), or saturating (a Hill curve: notes complement
  each other while intent is low, substitute for each other once it is high);
* ``prior`` is intent carried in from before the data window (reads the lake never sees), ``organic`` the
  person's own propensity (heterogeneous across people), raised while they are *in the market* for the
  category — and while they are, the feed shows them more of that category and they read, engage and click
  more: exposure targets people already close to buying (confounding).

The truth of an order (``truth/orders.jsonl``) is each note's Shapley value in ``v`` on the order's day, the
organic part being ``v(none)`` (:mod:`hongmao.sim.shapley`). In the additive world ``G`` is linear, so the
Shapley value of a note is its own term: the simulator's original truth, computed by its original code path.

Kinds:

``additive``    today's world: hazards add, exponential decay, no targeting (unchanged, byte for byte).
``saturating``  latent intent through a Hill curve; effects peak days after the read for considered categories;
                heterogeneous propensity and intent carried from before the window.
``targeted``    additive effects, but people drift in and out of the market; while in it they buy far more on
                their own *and* the feed targets them: exposure is confounded with purchase.
``routes``      in-market people click links to buy what they would have bought anyway: a click adds little
                intent and a small impulse, but any buyer who clicked the brand's link in the last 7 days orders
                through it; notes act with a delay, so the orders they cause come days later by search (回搜).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
#: (age in days, category cycle in days) -> weight of a read that old; both broadcast
Kernel = Callable[[Any, Any], Any]
#: (intent, k per brand) -> purchase intensity from intent; both broadcast
Response = Callable[[FloatArray, Any], FloatArray]

SATURATION_INTENT = 3.0  # the Hill curve's half-way intent: about three plain reads
CONSIDERED_CYCLE_DAYS = 14.0  # categories with a cycle this long or longer peak days after the read


def exponential(age: Any, tau: Any) -> Any:
    """exp(-age / tau): the additive world's decay."""
    return np.exp(-np.asarray(age, dtype=np.float64) / tau)


def peaked(share: float, peak_fraction: float, min_cycle: float, min_peak: float = 1.0) -> Kernel:
    """``share`` of a read's weight peaks ``peak_fraction`` of the cycle after the read (at least ``min_peak``
    days), for categories with a cycle of at least ``min_cycle`` days; the rest decays exponentially."""

    def kernel(age: Any, tau: Any) -> Any:
        a = np.asarray(age, dtype=np.float64)
        tau = np.asarray(tau, dtype=np.float64)
        p = np.maximum(peak_fraction * tau, min_peak)
        hump = (a / p) * np.exp(1.0 - a / p)
        mixed = (1.0 - share) * np.exp(-a / tau) + share * hump
        return np.where(tau >= min_cycle, mixed, np.exp(-a / tau))

    return kernel


def linear(intent: FloatArray, k: Any) -> FloatArray:
    return np.asarray(k * intent, dtype=np.float64)


def hill(half: float) -> Response:
    """A Hill curve of order 2 through the linear response at ``half`` intent, capped at twice that."""

    def response(intent: FloatArray, k: Any) -> FloatArray:
        sq = np.square(intent)
        return np.asarray(2.0 * k * half * sq / (half * half + sq), dtype=np.float64)

    return response


@dataclass(frozen=True)
class InMarket:
    """People drift in and out of the market for a category; while in it they buy and browse more of it."""

    share: float  # long-run share of person-categories in the market, at average interest
    spell_days: tuple[float, float]  # a spell lasts the category's cycle, clipped to this range (mean days)
    organic_boost: float  # organic intensity multiplier while in the market
    interest: float  # interest in the category while in the market: feed mix, reading, engagement, clicks
    activity_boost: float  # impressions multiplier while in the market for anything


@dataclass(frozen=True)
class WorldKind:
    name: str
    summary: str
    linear: bool  # G linear and no extra state: the original code path (running decayed intent)
    response: Response
    kernel: Kernel
    propensity_sigma: float  # sd of the log of a person's organic propensity multiplier (mean 1)
    prior_intent: float  # mean intent carried in from before the data window (gamma, shape 0.5)
    organic_scale: float  # organic intensity multiplier, so the kinds have comparable order volumes
    in_market: InMarket | None
    click_cause: float  # share of a click's intent and impulse that is causal
    route_days: int  # 0, or: a buyer with a landed click of the brand in this many days orders through it,
    # whatever the cause (the click id rides along, as a marketplace's affiliate window keeps it)


WORLD_KINDS: Mapping[str, WorldKind] = {
    k.name: k
    for k in (
        WorldKind(
            "additive",
            "hazards add; intent decays exponentially; causes in proportion (the original world)",
            linear=True,
            response=linear,
            kernel=exponential,
            propensity_sigma=0.0,
            prior_intent=0.0,
            organic_scale=1.0,
            in_market=None,
            click_cause=1.0,
            route_days=0,
        ),
        WorldKind(
            "saturating",
            "latent intent saturates (Hill curve): complements at low intent, substitutes at high; "
            "considered categories peak days after the read; heterogeneous propensity; intent from before the window",
            linear=False,
            response=hill(SATURATION_INTENT),
            kernel=peaked(0.7, 1 / 3, CONSIDERED_CYCLE_DAYS),
            propensity_sigma=1.0,
            prior_intent=1.0,
            organic_scale=0.6,
            in_market=None,
            click_cause=1.0,
            route_days=0,
        ),
        WorldKind(
            "targeted",
            "additive effects, but feeds target people in the market, who buy far more on their own (confounding)",
            linear=False,
            response=linear,
            kernel=exponential,
            propensity_sigma=1.0,
            prior_intent=0.0,
            organic_scale=0.35,
            in_market=InMarket(
                share=0.08, spell_days=(3.0, 14.0), organic_boost=12.0, interest=0.85, activity_boost=1.6
            ),
            click_cause=1.0,
            route_days=0,
        ),
        WorldKind(
            "routes",
            "in-market people click links to buy what they would have bought anyway; the clicks route orders, "
            "notes act with a delay and their orders come days later by search",
            linear=False,
            response=linear,
            kernel=peaked(0.5, 1 / 4, 0.0),
            propensity_sigma=1.0,
            prior_intent=0.0,
            organic_scale=0.35,
            in_market=InMarket(
                share=0.08, spell_days=(2.0, 10.0), organic_boost=12.0, interest=0.95, activity_boost=1.3
            ),
            click_cause=0.15,
            route_days=7,
        ),
    )
}

WORLDS: tuple[str, ...] = tuple(WORLD_KINDS)


class Dynamics:
    """The state a non-additive kind keeps per person: propensity, intent from before the window, market spells.

    Market spells act on the community through the person's ``interest``, feed mix and ``activity`` (the world's
    arrays, rewritten in place before each day's feed), and on purchases through :meth:`organic`.
    """

    def __init__(self, kind: WorldKind, world: Any, rng: np.random.Generator) -> None:
        self.kind = kind
        self.w = world
        self.rng = rng
        users, n_brands = world.organic.shape
        k = len(world.categories)
        self.brand_cat = np.array([b.category for b in world.brands], dtype=np.int64)
        self.tau = np.array([world.categories[c].mean_delay_days for c in self.brand_cat], dtype=np.float64)
        sigma = kind.propensity_sigma
        self.propensity = rng.lognormal(-0.5 * sigma * sigma, sigma, users) if sigma > 0 else np.ones(users)
        self.base_organic: FloatArray = world.organic * self.propensity[:, None] * kind.organic_scale
        self.prior = (
            rng.gamma(0.5, kind.prior_intent / 0.5, (users, n_brands))
            if kind.prior_intent > 0
            else np.zeros((users, n_brands))
        )
        self.base_interest = world.interest.copy()
        self.base_feed = world.feed_cum.copy()
        self.base_activity = world.activity.copy()
        self.in_market = np.zeros((users, k), dtype=np.bool_)
        m = kind.in_market
        if m is not None:
            cycles = np.array([c.mean_delay_days for c in world.categories], dtype=np.float64)
            self.spell = np.clip(cycles, *m.spell_days)
            self.enter = np.minimum(m.share * k * self.base_interest / self.spell, 0.5)

    # -- the community side ------------------------------------------------------------------------------------
    def before_feed(self, day: int) -> None:
        m = self.kind.in_market
        if m is None:
            return
        rng, w = self.rng, self.w
        leave = rng.random(self.in_market.shape) < 1.0 / self.spell
        enter = rng.random(self.in_market.shape) < self.enter
        self.in_market = np.where(self.in_market, ~leave, enter)
        interest = np.where(self.in_market, np.maximum(self.base_interest, m.interest), self.base_interest)
        w.interest[...] = interest
        k = interest.shape[1]
        mix = 0.25 / k + 0.75 * interest / interest.sum(axis=1, keepdims=True)
        feed = np.cumsum(mix, axis=1)
        feed[:, -1] = 1.0
        w.feed_cum[...] = feed
        w.activity[...] = self.base_activity * np.where(self.in_market.any(axis=1), m.activity_boost, 1.0)

    def bought(self, users: NDArray[np.int64], brands: NDArray[np.int64]) -> None:
        """A purchase ends the buyer's spell in the market for that category."""
        if self.kind.in_market is not None and len(users):
            self.in_market[users, self.brand_cat[brands]] = False

    # -- the purchase side -------------------------------------------------------------------------------------
    def organic(self) -> FloatArray:
        """Today's organic intensity of every person and brand, before intent from before the window."""
        m = self.kind.in_market
        if m is None:
            return np.asarray(self.base_organic, dtype=np.float64)
        boost = np.where(self.in_market[:, self.brand_cat], m.organic_boost, 1.0)
        return np.asarray(self.base_organic * boost, dtype=np.float64)

    def hazard(self, organic: FloatArray, intent: FloatArray, k_buy: FloatArray) -> FloatArray:
        """Every person's intensity for every brand with all their notes (impulses are added by the caller)."""
        return np.asarray(organic + self.kind.response(self.prior + intent, k_buy), dtype=np.float64)

    def game(
        self, organic: float, prior: float, k: float, x: FloatArray, y: FloatArray
    ) -> Callable[[NDArray[np.bool_]], FloatArray]:
        """One buyer's game: their intensity with only the notes of a coalition (mask columns follow x, y)."""
        response = self.kind.response

        def value(mask: NDArray[np.bool_]) -> FloatArray:
            m = mask.astype(np.float64)
            return np.asarray(organic + response(prior + m @ x, k) + m @ y, dtype=np.float64)

        return value


def world_kind(name: str) -> WorldKind:
    """The kind called ``name``; a :class:`KeyError` names the known kinds (config checks this first)."""
    try:
        return WORLD_KINDS[name]
    except KeyError:
        raise KeyError(f"unknown world kind {name!r}; known: {', '.join(WORLDS)}") from None
