"""The date range and filters every report takes, parsed from query parameters and resolved to instants.

Pure: no web framework, no engine. A report's range is a :class:`Period` of whole business days (the
business time zone, ``HONGMAO_BUSINESS_TZ``, default Asia/Shanghai), both ends inclusive, optionally with
the previous period of the same length to compare with. No range (``None``) means the whole lake.

Presets are relative to the lake's newest event day, not to the wall clock, so a report (and a test) reads
the same on any day: ``yesterday`` is the newest day with data, ``7d`` and ``30d`` the 7 and 30 days ending
on it. A custom range is ``from`` and ``to`` (``YYYY-MM-DD``; either alone means "from that day on" or
"up to that day").

Filters narrow what a report reads: ``campaign``, ``tier`` (creator tier) and ``disclosed`` choose notes
(and their touches, links and clicks), ``item`` and ``category`` choose items (and their orders, visits,
carts), ``touches`` the touch kinds (``impression,read,engagement,click,search``).

Every bad parameter raises :class:`PeriodError` naming the parameter and the reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hongmao.errors import InputError

PRESETS: dict[str, int] = {"yesterday": 1, "7d": 7, "30d": 30}
#: Every query parameter this module reads (the console keeps them across its links).
PARAMS = ("range", "from", "to", "compare", "campaign", "tier", "item", "category", "touches", "disclosed")
TOUCH_KINDS = ("impression", "read", "engagement", "click", "search")
TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")
MAX_DAYS = 3660
MAX_TEXT = 200


class PeriodError(InputError):
    """A range or filter parameter that cannot be used: ``field`` names it, the message says why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Period:
    """Business days ``start`` .. ``end`` (both inclusive); ``compare``: show the previous period beside it."""

    start: date
    end: date
    compare: bool = False
    preset: str | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one (itself not compared further)."""
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end, compare=False, preset=None)

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[first instant, instant after the last) in UTC: midnight to midnight in the business time zone."""
        lo = datetime.combine(self.start, time(0), tzinfo=tz)
        hi = datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=tz)
        return lo.astimezone(UTC), hi.astimezone(UTC)

    def key(self) -> tuple[str, str]:
        """What a cache key needs: the days (comparison is a second lookup, not part of the key)."""
        return (self.start.isoformat(), self.end.isoformat())

    def describe(self) -> dict[str, object]:
        out: dict[str, object] = {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "days": self.days,
            "preset": self.preset,
            "compare": self.compare,
        }
        if self.compare:
            prev = self.previous()
            out["previous"] = {"from": prev.start.isoformat(), "to": prev.end.isoformat()}
        return out


@dataclass(frozen=True)
class Filters:
    """What a report is narrowed to; every field None: no filter."""

    campaign: str | None = None
    tier: str | None = None
    item: str | None = None
    category: str | None = None
    touches: tuple[str, ...] | None = None
    disclosed: bool | None = None

    @property
    def empty(self) -> bool:
        return self == Filters()

    @property
    def notes(self) -> bool:
        """Whether the filters choose notes (campaign, tier, disclosed)."""
        return self.campaign is not None or self.tier is not None or self.disclosed is not None

    @property
    def items(self) -> bool:
        return self.item is not None or self.category is not None

    def key(self) -> tuple[object, ...]:
        return (self.campaign, self.tier, self.item, self.category, self.touches, self.disclosed)

    def params(self) -> dict[str, str]:
        """The filters as query parameters (what :func:`parse` reads back)."""
        out = {k: v for k, v in (("campaign", self.campaign), ("tier", self.tier), ("item", self.item)) if v}
        if self.category:
            out["category"] = self.category
        if self.touches is not None:
            out["touches"] = ",".join(self.touches)
        if self.disclosed is not None:
            out["disclosed"] = "yes" if self.disclosed else "no"
        return out

    def describe(self) -> dict[str, object]:
        return {
            "campaign": self.campaign,
            "tier": self.tier,
            "item": self.item,
            "category": self.category,
            "touches": list(self.touches) if self.touches is not None else None,
            "disclosed": self.disclosed,
        }


@dataclass(frozen=True)
class Window:
    """A request's range and filters, as parsed."""

    period: Period | None = None
    filters: Filters = Filters()

    def params(self) -> dict[str, str]:
        """The window as query parameters :func:`parse` reads back to it (a preset stays a preset)."""
        out: dict[str, str] = {}
        p = self.period
        if p is None:
            out["range"] = "all"
        elif p.preset in PRESETS:
            out["range"] = p.preset
        else:
            out.update({"range": "custom", "from": p.start.isoformat(), "to": p.end.isoformat()})
        if p is not None and p.compare:
            out["compare"] = "yes"
        return {**out, **self.filters.params()}

    def describe(self) -> dict[str, object]:
        return {
            "period": self.period.describe() if self.period else None,
            "filters": self.filters.describe(),
        }


WHOLE_LAKE = Window()


def business_tz(name: str | None) -> ZoneInfo:
    from hongmao.errors import ConfigError

    try:
        return ZoneInfo(name or "Asia/Shanghai")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"business_tz: unknown time zone {name!r}") from exc


#: The years whose clock changes :func:`utc_offsets` finds; before the first, the zone's offset of that year holds.
OFFSET_YEARS = (1990, 2100)


@lru_cache(maxsize=16)
def utc_offsets(tz: ZoneInfo) -> tuple[tuple[datetime, timedelta], ...]:
    """The zone's offsets from UTC: ``(from_utc, offset)`` pairs in time order, the first from the start of
    :data:`OFFSET_YEARS`. One pair for a zone with no clock changes (Asia/Shanghai); two a year for one with
    daylight saving. Instants are naive UTC, as the lake stores them; each change is found to the minute."""

    def offset(instant: datetime) -> timedelta:
        return instant.replace(tzinfo=UTC).astimezone(tz).utcoffset() or timedelta(0)

    start, stop = datetime(OFFSET_YEARS[0], 1, 1), datetime(OFFSET_YEARS[1], 1, 1)
    out = [(start, offset(start))]
    step = timedelta(days=1)  # no zone changes its clock twice within a day
    t = start
    while t < stop:
        nxt = t + step
        if offset(nxt) != out[-1][1]:
            lo, hi = t, nxt  # offset(lo) is the current one, offset(hi) the new one
            while hi - lo > timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                lo, hi = (mid, hi) if offset(mid) == out[-1][1] else (lo, mid)
            out.append((hi.replace(second=0, microsecond=0), offset(nxt)))
        t = nxt
    return tuple(out)


def _day(field: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PeriodError(field, f"{text!r} is not a date (YYYY-MM-DD)") from None


def _text(params: Mapping[str, str], field: str) -> str | None:
    value = params.get(field)
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > MAX_TEXT or any(ord(c) < 32 for c in value):
        raise PeriodError(field, f"at most {MAX_TEXT} printable characters")
    return value


def _flag(params: Mapping[str, str], field: str) -> bool | None:
    value = _text(params, field)
    if value is None:
        return None
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    raise PeriodError(field, f"{value!r} is not yes/no (1/0, true/false)")


def parse_period(params: Mapping[str, str], newest: date | None) -> Period | None:
    """The range asked for, presets anchored on ``newest`` (the lake's newest event day); None: whole lake."""
    preset = _text(params, "range")
    start_text, end_text = _text(params, "from"), _text(params, "to")
    compare = bool(_flag(params, "compare"))
    if preset is not None and preset not in (*PRESETS, "all", "custom"):
        raise PeriodError("range", f"unknown range {preset!r}; use yesterday, 7d, 30d, all or custom (from/to)")
    if preset in PRESETS and (start_text or end_text):
        raise PeriodError("range", f"{preset!r} is a preset: leave from/to out, or use range=custom")
    if preset == "custom" and not (start_text or end_text):
        raise PeriodError("from", "a custom range needs from and/or to (YYYY-MM-DD)")
    period: Period | None
    if preset in PRESETS:
        # an empty lake: nothing to anchor on, and nothing to show either way
        days = PRESETS[preset]
        period = None if newest is None else Period(newest - timedelta(days=days - 1), newest, preset=preset)
    elif start_text or end_text:
        start = _day("from", start_text) if start_text else None
        end = _day("to", end_text) if end_text else None
        if end is None:  # "from that day on": up to the newest day with data
            end = max(start, newest) if start is not None and newest is not None else start
        if start is None:  # "up to that day": the 30 days ending on it
            start = end - timedelta(days=29) if end is not None else None
        if start is None or end is None:
            raise PeriodError("from", "a custom range needs from and/or to (YYYY-MM-DD)")
        if end < start:
            raise PeriodError("to", f"{end.isoformat()} is before from {start.isoformat()}")
        if (end - start).days + 1 > MAX_DAYS:
            raise PeriodError("to", f"a range spans at most {MAX_DAYS} days")
        period = Period(start, end, preset="custom")
    else:
        period = None
    if compare:
        if period is None and newest is not None:
            raise PeriodError("compare", "a comparison needs a date range (range=7d, say, or from/to)")
        if period is not None:
            period = replace(period, compare=True)
    return period


def parse_filters(params: Mapping[str, str]) -> Filters:
    touches_text = _text(params, "touches")
    touches: tuple[str, ...] | None = None
    if touches_text is not None:
        kinds = [k.strip() for k in touches_text.split(",") if k.strip()]
        unknown = [k for k in kinds if k not in TOUCH_KINDS]
        if unknown:
            raise PeriodError("touches", f"unknown touch kind {unknown[0]!r}; known: {', '.join(TOUCH_KINDS)}")
        if not kinds:
            raise PeriodError("touches", "name at least one touch kind")
        # one spelling per set, and every kind is no filter: one cache key for one meaning
        touches = tuple(k for k in TOUCH_KINDS if k in kinds)
        if len(touches) == len(TOUCH_KINDS):
            touches = None
    return Filters(
        campaign=_text(params, "campaign"),
        tier=_text(params, "tier"),
        item=_text(params, "item"),
        category=_text(params, "category"),
        touches=touches,
        disclosed=_flag(params, "disclosed"),
    )


def parse(params: Mapping[str, str], newest: date | None) -> Window:
    """A request's :class:`Window` from its query parameters; raises :class:`PeriodError` on a bad one."""
    return Window(parse_period(params, newest), parse_filters(params))


def previous(window: Window) -> Window | None:
    """The window to compare ``window`` with (same filters, the previous period), or None when not asked."""
    if window.period is None or not window.period.compare:
        return None
    return Window(window.period.previous(), window.filters)


#: filter -> (what :meth:`Reports.filter_choices` lists it under, the field holding the value)
CHOICES = {
    "campaign": ("campaigns", "campaign_id"),
    "tier": ("tiers", "tier"),
    "item": ("items", "item_id"),
    "category": ("categories", "category"),
}


def check_filters(filters: Filters, choices: Mapping[str, Sequence[Mapping[str, object]]]) -> Filters:
    """``filters`` when each value names something the view holds (``choices``: what it can be filtered by),
    else :class:`PeriodError` naming the filter. The same answer whether the value exists in another brand's
    data or nowhere: nothing leaks."""
    for name, (listed, key) in CHOICES.items():
        value = getattr(filters, name)
        if value is not None and value not in {c.get(key) for c in choices.get(listed, ())}:
            raise PeriodError(name, f"no {name} {value!r} in the data you can see")
    return filters


def check_window(window: Window, choices: Mapping[str, Sequence[Mapping[str, object]]]) -> Window:
    check_filters(window.filters, choices)
    return window
