"""Fake-engagement rings (水军): how each style of ring works, as rows of a table, and what a ring does each day.

A ring is a set of fake accounts hired by one or more *client* creators. Each day it works *jobs* — every new
note of a client gets likes, saves and a few comments from part of the ring — and, in the styles that hide,
reads ordinary notes between jobs as cover, with the dwell and the like rate of real readers.

Styles (:data:`RING_STYLES`):

* ``crude`` — today's lockstep: most of the ring within the hour after publication, reads of a second or two,
  one client, no cover. What the first trust guard was built on.
* ``sloppy`` — spread over a few hours, reads of a few seconds, two clients, a little cover browsing.
* ``careful`` — spread over most of a day, reads as long as real ones (with impressions before them), a third
  of the ring sits each job out, three rotating clients, several ordinary reads a day as cover. What hired
  水军 of 2025 look like from the platform side.
* ``diffuse`` — a stress style, in no default world: five rotating clients, 30% turnout per job, each job
  starting two to thirty hours after publication and spread over a day and a half, reads as long as real ones,
  eight cover reads a day. Two members of one ring engage about three of the same notes a month, too few for the
  co-engagement graph's five. Written after the detector, to see how far it carries beyond the styles it was built
  on (docs/trust.md).

Rings draw from their own random stream (spawned from the community's), so a ring's behaviour never shifts what
real people do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hongmao.errors import ConfigError
from hongmao.sim.clock import DAY


@dataclass(frozen=True)
class RingStyle:
    """How one kind of ring works a job and hides between jobs."""

    name: str
    clients: int  # creators served by one ring, taking turns
    turnout: float  # share of the ring's accounts sent to each job
    delay_seconds: tuple[int, int]  # the job starts this long after publication (uniform)
    spread_seconds: int  # and its engagements spread over this long (uniform)
    dwell_median_ms: float  # a job read's dwell: lognormal with this median ...
    dwell_sigma: float  # ... and this sigma,
    dwell_bounds_ms: tuple[int, int]  # clipped to these bounds
    like: float  # per account on a job
    collect: float
    comment: float
    impressions: bool  # reads come after an impression, as a feed's would
    cover_reads_per_day: float  # ordinary reads of other notes per account and day (Poisson)
    cover_like: float  # likes per cover read (a real reader's rate is about 0.08)


RING_STYLES: dict[str, RingStyle] = {
    s.name: s
    for s in (
        RingStyle("crude", 1, 0.85, (1200, 7200), 2400, 900.0, 0.5, (300, 1800), 0.95, 0.7, 0.05, False, 0.0, 0.0),
        RingStyle(
            "sloppy", 2, 0.7, (1800, 3 * 3600), 4 * 3600, 2500.0, 0.6, (500, 8000), 0.9, 0.5, 0.05, False, 1.0, 0.1
        ),
        RingStyle(
            "careful",
            3,
            0.6,
            (3600, 8 * 3600),
            14 * 3600,
            15000.0,
            0.7,
            (1500, 600_000),
            0.8,
            0.35,
            0.08,
            True,
            5.0,
            0.08,
        ),
        RingStyle(
            "diffuse",
            5,
            0.3,
            (2 * 3600, 30 * 3600),
            36 * 3600,
            20000.0,
            0.8,
            (1500, 600_000),
            0.7,
            0.25,
            0.1,
            True,
            8.0,
            0.08,
        ),
    )
}


def ring_style(name: str) -> RingStyle:
    """The style called ``name``; a :class:`~hongmao.errors.ConfigError` naming the known ones otherwise."""
    try:
        return RING_STYLES[name]
    except KeyError:
        raise ConfigError(f"ring_styles: unknown style {name!r}; known: {', '.join(RING_STYLES)}") from None


def job_times(rng: np.random.Generator, style: RingStyle, pub_t: int, n: int) -> np.ndarray:
    """When each of ``n`` accounts engages a client's note published at ``pub_t``."""
    start = pub_t + int(rng.integers(*style.delay_seconds))
    return start + rng.integers(0, max(style.spread_seconds, 1), n)


def dwell_ms(rng: np.random.Generator, style: RingStyle, n: int) -> np.ndarray:
    low, high = style.dwell_bounds_ms
    return np.clip(rng.lognormal(np.log(style.dwell_median_ms), style.dwell_sigma, n), low, high).astype(np.int64)


def cover_times(rng: np.random.Generator, day: int, n: int) -> np.ndarray:
    """Waking-hours times (08:00-24:00 in the world's clock) of ``n`` cover reads on ``day``."""
    return day * DAY + rng.integers(8 * 3600, DAY - 60, n)
