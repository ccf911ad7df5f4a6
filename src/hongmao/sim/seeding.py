"""Off-platform seeding waves (铺量): ads that leave no record.

Before a campaign goes live a brand (or its agency) often pays a handful of ordinary creators outside the
platform to post about it within a few days, each from the same brief. Nothing of that deal reaches Hongmao:
no collaboration record, no filed 报备, no boost, no link; the notes are not labelled. What a reader (and a
trust team) can see is the shape: several creators on one brand within days, titles cut from one brief, a
creator's first note about the brand right before its campaign starts.

:func:`plant_waves` turns, for each campaign, up to ``cfg.offplatform_wave_size`` ordinary unlinked notes about
the campaign's brand, published by distinct creators in the week before the campaign starts, into such paid
notes: sponsored, unlabelled, ``offplatform``, with a title from the wave's brief. The brand's books
(:mod:`hongmao.sim.deals`) log no deal for them. Draws come from their own stream, so the rest of the world
is unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from hongmao.sim.clock import DAY
from hongmao.sim.config import CATEGORIES, WorldConfig


class Note(Protocol):
    """What a wave reads and marks of a world's note (:class:`hongmao.sim.world.Note`, which calls this module)."""

    index: int
    creator: int
    brand: int
    pub_t: int
    campaign: int
    sponsored: bool
    disclosed: bool
    boosted: bool
    offplatform: bool
    title: str
    links: list[int]


class Brand(Protocol):
    """What a wave reads of a world's brand (:class:`hongmao.sim.world.Brand`)."""

    @property
    def id(self) -> str: ...

    @property
    def category(self) -> int: ...


#: A brief's title templates: the wave's notes share one, its product and its hook, with small variations.
BRIEFS = (
    "{brand}{product}｜{hook}",
    "被{brand}{product}{hook}了",
    "{hook}！{brand}{product}分享",
)
HOOKS = ("惊艳到", "早八救星", "回购无数次", "平价天花板", "宝藏好物")
ENDINGS = ("", "！", "～", "✨", "!!")
#: What each ghost-writer adds of their own to the brief's words (most keep them as they are).
OPENERS = ("", "", "", "姐妹们！", "救命", "真心推荐", "挖到宝了")
LEAD_DAYS = 7  # a wave goes up in the week before the campaign


def plant_waves(
    rng: np.random.Generator,
    cfg: WorldConfig,
    notes: Sequence[Note],
    brands: Sequence[Brand],
    windows: list[tuple[int, int, int, int, int, int]],
) -> list[int]:
    """Mark the notes of each campaign's wave (in place); return their indices, sorted."""
    size = cfg.offplatform_wave_size
    if size <= 0:
        return []
    taken: set[int] = set()
    for _, brand, _, start_t, _, _ in windows:
        lo = start_t - LEAD_DAYS * DAY
        pool = [
            n
            for n in notes
            if n.brand == brand
            and lo <= n.pub_t < start_t
            and n.campaign < 0
            and not n.sponsored
            and not n.links
            and not n.boosted
            and n.index not in taken
        ]
        creators_seen: set[int] = set()
        chosen: list[Note] = []
        for k in rng.permutation(len(pool)).tolist():
            note = pool[k]
            if note.creator in creators_seen:
                continue
            creators_seen.add(note.creator)
            chosen.append(note)
            if len(chosen) >= size:
                break
        if len(chosen) < 2:
            continue  # one note is no wave
        brief = BRIEFS[int(rng.integers(0, len(BRIEFS)))]
        product = CATEGORIES[brands[brand].category].products
        words = {"brand": brands[brand].id, "product": product[int(rng.integers(0, len(product)))]}
        hook = HOOKS[int(rng.integers(0, len(HOOKS)))]
        for note in chosen:
            note.sponsored = True
            note.disclosed = False
            note.offplatform = True
            # One brief, lightly reworded: now and then a writer swaps the hook, some add an opener of their own.
            own = HOOKS[int(rng.integers(0, len(HOOKS)))] if rng.random() < 0.2 else hook
            opener = OPENERS[int(rng.integers(0, len(OPENERS)))]
            note.title = opener + brief.format(hook=own, **words) + ENDINGS[int(rng.integers(0, len(ENDINGS)))]
            taken.add(note.index)
    return sorted(taken)
