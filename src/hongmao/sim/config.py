"""What a simulated world is made of: the knobs (:class:`WorldConfig`) and the fixed catalogue of categories.

Every proportion the issue names (deceptive creators, undisclosed sponsorship, fake-engagement rings, holdout
share, ...) is a field here with a sensible default; the behavioural constants that shape single events
(read and engagement rates, dwell times) live next to the code that uses them in ``behaviour.py``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from hongmao.errors import ConfigError
from hongmao.sim.rings import ring_style
from hongmao.sim.worlds import WORLD_KINDS


@dataclass(frozen=True)
class Category:
    """An item category with its own decision cycle (the x of ROI(T+x))."""

    id: str
    mean_delay_days: float  # mean days from seeding to purchase: intent decays with this time constant
    median_price: float  # CNY
    keywords: tuple[str, ...]  # what people type when they search the category
    products: tuple[str, ...]  # product words used in item and note titles


CATEGORIES: tuple[Category, ...] = (
    Category("skincare", 10, 199, ("精华", "面霜", "护肤", "serum"), ("精华液", "面霜", "爽肤水", "面膜", "眼霜")),
    Category("baby_food", 45, 89, ("米粉", "辅食", "婴儿零食"), ("高铁米粉", "果泥", "磨牙棒", "溶豆")),
    Category("electronics", 21, 699, ("耳机", "充电宝", "数码"), ("降噪耳机", "充电宝", "智能手表", "蓝牙音箱")),
    Category("makeup", 6, 139, ("口红", "粉底", "彩妆"), ("口红", "粉底液", "眼影盘", "散粉")),
    Category("snacks", 3, 39, ("零食", "坚果", "饼干"), ("每日坚果", "薯片", "牛肉干", "冻干酸奶")),
    Category("apparel", 7, 259, ("穿搭", "连衣裙", "防晒衣"), ("防晒衣", "连衣裙", "阔腿裤", "T恤")),
    Category("home", 14, 159, ("家居", "收纳", "香薰"), ("收纳盒", "香薰", "四件套", "保温杯")),
)

#: Brand ids by category (lower-case ASCII so a marketplace query "contains" the brand id case-insensitively).
BRAND_NAMES: dict[str, tuple[str, ...]] = {
    "skincare": ("lumiere", "aqualab", "yuyan"),
    "baby_food": ("beibei", "tinytot", "naibao"),
    "electronics": ("voltra", "kaiyin", "shengbo"),
    "makeup": ("rouge9", "huayan", "mochi"),
    "snacks": ("crunchy", "guoguo", "xiaoshi"),
    "apparel": ("linen", "yunshang", "fengyi"),
    "home": ("nestly", "jiaju", "anmian"),
}

#: Marketplaces a brand may sell on, with the URL of an item page (hosts the link service allows).
MARKET_URLS: dict[str, str] = {
    "tmall": "https://detail.tmall.com/item.htm?id={num}",
    "jd": "https://item.jd.com/{num}.html",
    "taobao": "https://item.taobao.com/item.htm?id={num}",
}
MARKETS: tuple[str, ...] = tuple(MARKET_URLS)


@dataclass(frozen=True)
class WorldConfig:
    """Proportions and rates of a simulated world. Defaults give a plausible community of the 2025 kind."""

    start: date = date(2025, 6, 1)
    utc_offset_hours: int = 8

    # creators and notes
    creators: int | None = None  # default: max(16, users // 80)
    kol_share: float = 0.15
    deceptive_creator_share: float = 0.15
    sponsored_share_kol: float = 0.5  # of a KOL's brand notes outside campaigns
    sponsored_share_koc: float = 0.2
    undisclosed_share: float = 0.3  # of sponsored notes: paid for but not labelled (no 报备)
    offplatform_wave_size: int = 5  # notes paid off-platform before each campaign, no record (hongmao.sim.seeding)
    deceptive_intent_boost: float = 1.8  # overselling seeds more intent ...
    deceptive_refund_rate: float = 0.4  # ... and its buyers refund as not_as_described this often

    # fake engagement (水军)
    fake_rings: int = 3  # each ring serves the client creators its style says (hongmao.sim.rings)
    ring_size: int = 30
    ring_styles: tuple[str, ...] = ("crude", "sloppy", "careful")  # ring r works in style r mod len

    # campaigns
    campaigns_per_brand: int = 1
    campaign_creators: int | None = None  # creators hired per campaign; default: clip(creators // 5, 3, 30)
    holdout_share: float = 0.1

    # people and their behaviour
    impressions_per_user_day: float = 2.6
    organic_rate: float = 0.0015  # daily purchase probability of one brand at average interest, 10-day cycle
    intent_conversion: float = 0.012  # lifetime purchase probability per unit of intent (a plain read is 1)
    click_impulse: float = 0.06  # same-day purchase hazard a link click adds
    search_back_rate: float = 0.08  # lifetime probability of a market search for the brand per unit of intent
    community_search_rate: float = 0.04  # same for a community search of the brand
    browse_rate: float = 0.03  # daily probability of an organic marketplace browsing session
    bot_clicks_per_link_day: float = 0.15

    # identity
    match_key: str = "hongmao-sim-match-key-2025"
    holdout_key: str = "hongmao-sim-holdout-key-2025"

    # the causal structure: a kind of hongmao.sim.worlds.WORLD_KINDS (additive, saturating, targeted, routes)
    world: str = "additive"

    # output
    shard_by_day: bool = False  # events/<side>/<date>.jsonl instead of events/<side>.jsonl

    def check(self) -> None:
        """Raise :class:`~hongmao.errors.ConfigError` for values that cannot make a world."""
        if self.world not in WORLD_KINDS:
            raise ConfigError(f"unknown world kind {self.world!r}; known kinds: {', '.join(WORLD_KINDS)}")
        shares = {
            "kol_share": self.kol_share,
            "deceptive_creator_share": self.deceptive_creator_share,
            "sponsored_share_kol": self.sponsored_share_kol,
            "sponsored_share_koc": self.sponsored_share_koc,
            "undisclosed_share": self.undisclosed_share,
            "deceptive_refund_rate": self.deceptive_refund_rate,
            "browse_rate": self.browse_rate,
        }
        for name, value in shares.items():
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"{name} must be within [0, 1], got {value}")
        if not 0.0 <= self.holdout_share < 1.0:
            raise ConfigError(f"holdout_share must be within [0, 1), got {self.holdout_share}")
        counts = {
            "fake_rings": self.fake_rings,
            "ring_size": self.ring_size,
            "campaigns_per_brand": self.campaigns_per_brand,
            "offplatform_wave_size": self.offplatform_wave_size,
        }
        for name, count in counts.items():
            if count < 0:
                raise ConfigError(f"{name} must not be negative, got {count}")
        if self.fake_rings and not self.ring_styles:
            raise ConfigError("ring_styles must name at least one style when fake_rings > 0")
        for style in self.ring_styles:
            ring_style(style)
        if self.creators is not None and self.creators < 1:
            raise ConfigError(f"creators must be at least 1, got {self.creators}")
        if self.campaign_creators is not None and self.campaign_creators < 1:
            raise ConfigError(f"campaign_creators must be at least 1, got {self.campaign_creators}")
        rates = {
            "impressions_per_user_day": self.impressions_per_user_day,
            "organic_rate": self.organic_rate,
            "intent_conversion": self.intent_conversion,
            "click_impulse": self.click_impulse,
            "search_back_rate": self.search_back_rate,
            "community_search_rate": self.community_search_rate,
            "bot_clicks_per_link_day": self.bot_clicks_per_link_day,
            "deceptive_intent_boost": self.deceptive_intent_boost,
        }
        for name, rate in rates.items():
            if rate < 0:
                raise ConfigError(f"{name} must not be negative, got {rate}")
        if not -12 <= self.utc_offset_hours <= 14:
            raise ConfigError(f"utc_offset_hours must be within [-12, 14], got {self.utc_offset_hours}")
        for name, key in (("match_key", self.match_key), ("holdout_key", self.holdout_key)):
            if len(key.encode("utf-8")) < 16:
                raise ConfigError(f"{name} must be at least 16 bytes")

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["start"] = self.start.isoformat()
        out["ring_styles"] = list(self.ring_styles)
        return out
