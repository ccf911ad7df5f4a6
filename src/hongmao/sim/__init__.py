"""A world simulator with ground truth, for demos, tests and benchmarks.

``simulate(out, seed, users, days, brands)`` writes contract events (``out/events/*.jsonl``) of a community
where KOL and KOC creators seed brands' items — some sponsored and labelled, some sponsored and hidden, some
deceptive, some propped up by fake-engagement rings — and a marketplace where people buy days later, through
a link or by searching the brand, or organically. ``out/truth/`` says what really caused every order.

Modules: ``config`` (knobs), ``world`` (entities), ``behaviour`` (community days), ``commerce`` (intent,
orders, refunds), ``holdout`` (campaign holdouts), ``writer`` (streaming JSONL), ``truth``, ``run``.
"""

from hongmao.sim.config import CATEGORIES, Category, WorldConfig
from hongmao.sim.holdout import holdout_mask, in_holdout
from hongmao.sim.run import SimSummary, simulate

__all__ = ["CATEGORIES", "Category", "SimSummary", "WorldConfig", "holdout_mask", "in_holdout", "simulate"]
