"""The entities of a world, drawn once before the first day: people, brands, stores, items, creators, the whole
note schedule with its links, campaigns with their holdouts, and the fake-engagement rings.

Only entities live here; what people do day by day is ``behaviour.py`` (community) and ``commerce.py``
(marketplace). Notes are few (hundreds to thousands) so their schedule is planned up front: a campaign must
list its notes when it is created.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from hongmao.errors import ConfigError
from hongmao.identity import Pseudonymizer
from hongmao.sim.clock import DAY, Clock, seconds_in_day
from hongmao.sim.config import BRAND_NAMES, CATEGORIES, MARKET_URLS, MARKETS, Category, WorldConfig
from hongmao.sim.holdout import holdout_mask
from hongmao.sim.rings import ring_style
from hongmao.sim.seeding import plant_waves

NOTE_LIFETIME_DAYS = 21  # a note stops being shown in feeds after this many days
REACH_HALF_LIFE_DAYS = 2.0  # feeds favour fresh notes
CAMPAIGN_BOOST = 3.0  # reach multiplier of a boosted (投流) campaign note inside the campaign window
FAKE_REACH_BOOST = 1.3  # the feed algorithm is fooled by fake engagement
#: Creator fees (CNY) are quoted for an audience of this many people and scale with the world's size, so a
#: campaign's ROI means the same in a small demo world and in a large one.
FEE_AUDIENCE = 100_000
KOL_FEE, KOC_FEE, BOOST_FEE = (20_000, 80_000), (1_500, 6_000), 8_000
_ITEM_NUMBER_BASE = {"tmall": 612_000_000_000, "jd": 100_012_000_000, "taobao": 688_000_000_000}
_MARKET_PREFERENCE = (0.5, 0.35, 0.15)  # people's usual marketplace: tmall, jd, taobao

_HONEST_TITLES = ("{brand}{product}真实测评", "用了一个月的{product}，说说感受", "{product}怎么选？{brand}实测")
# Honest creators write their own titles: a style (the three above) dressed in the creator's own words, so two
# honest notes about one brand rarely read alike (ghost-written briefs do, hongmao.sim.seeding).
_OWN_WORDS = (
    (
        "{brand}{product}{span}真实测评",
        "{who}的{brand}{product}{span}体验",
        "{brand}{product}{verdict}？{span}后说说",
        "{span}实测{brand}{product}：{verdict}",
        "聊聊{brand}家的{product}，{who}视角",
    ),
    (
        "{span}的{product}，{who}说说感受",
        "{product}用了{span}，{verdict}",
        "{who}回购{brand}{product}的理由",
        "为什么我{verdict}：{brand}{product}",
        "{who}日常｜{product}换成了{brand}",
    ),
    (
        "{product}怎么选？{brand}{who}实测",
        "{brand}和别家{product}对比，{verdict}",
        "{who}的{product}清单：{brand}",
        "{product}横评{span}，{brand}排第几",
        "预算有限怎么买{product}？{brand}{verdict}",
    ),
)
_SPANS = ("一周", "两周", "一个月", "三个月", "半年", "一整瓶", "空瓶", "换季", "十天", "一年", "百天", "开箱")
_WHO = (
    "干皮",
    "油皮",
    "敏感肌",
    "学生党",
    "打工人",
    "宝妈",
    "通勤族",
    "新手",
    "懒人",
    "黄黑皮",
    "老用户",
    "租房党",
    "程序员",
    "健身人",
    "精致穷",
    "北方人",
)
_VERDICTS = (
    "值不值",
    "有点失望",
    "还可以",
    "超出预期",
    "一般般",
    "不推荐",
    "会回购",
    "踩雷了",
    "中规中矩",
    "意外好用",
    "没那么神",
    "优缺点都说",
    "性价比一般",
    "比想象好",
)
_TAILS = ("", "", "（长文）", "｜附对比图", "｜不吹不黑", "#日常分享", "【无广】", "～", "，个人感受")
_DECEPTIVE_TITLES = (
    "{product}天花板！{brand}一周见效",
    "闭眼入！{brand}{product}绝了",
    "全网最好用的{product}，没有之一",
)
_PLAIN_TITLES = ("{keyword}分享", "我的{keyword}清单", "{keyword}避坑指南")


@dataclass(frozen=True)
class Brand:
    index: int
    id: str
    category: int
    stores: tuple[int, ...]
    products: int
    product_popularity: tuple[float, ...]


@dataclass(frozen=True)
class Store:
    index: int
    id: str
    market: str
    brand: int
    items: tuple[int, ...]  # one item per product of the brand, in product order


@dataclass(frozen=True)
class Item:
    index: int
    id: str
    number: int
    store: int
    brand: int
    category: int
    product: int
    price_cents: int
    title: str


@dataclass(frozen=True)
class Creator:
    index: int
    id: str
    tier: str  # kol | koc
    category: int
    deceptive: bool
    ring: int  # index of the fake-engagement ring it hires, -1 when none
    reach: float


@dataclass
class Note:
    index: int
    id: str
    creator: int
    brand: int  # -1 when the note is about no brand
    category: int
    pub_t: int
    sponsored: bool
    disclosed: bool
    deceptive: bool
    campaign: int  # -1 when not part of a campaign (the truth, whether disclosed or not)
    collaboration_id: str | None
    items: list[int] = field(default_factory=list)
    links: list[int] = field(default_factory=list)
    quality: float = 1.0
    boosted: bool = False
    title: str = ""
    fee_cents: int = 0  # what the brand paid for a campaign note
    offplatform: bool = False  # paid outside the platform: no record anywhere (hongmao.sim.seeding)


@dataclass(frozen=True)
class Link:
    index: int
    id: str
    note: int
    item: int
    market: str
    url: str


@dataclass
class Campaign:
    index: int
    id: str
    brand: int
    start_t: int
    end_t: int
    spend_cents: int
    holdout_share: float
    notes: list[int]
    held_out: NDArray[np.bool_]  # per user


@dataclass(frozen=True)
class Ring:
    index: int
    creator: int  # its first client
    accounts: tuple[str, ...]  # pseudonyms of the fake accounts
    style: str = "crude"  # a key of hongmao.sim.rings.RING_STYLES
    clients: tuple[int, ...] = ()  # every creator it serves (indices), the first one included


@dataclass
class NoteArrays:
    """Per-note columns for vectorised feed work (index = note index)."""

    pub_t: NDArray[np.int64]
    brand: NDArray[np.int64]
    category: NDArray[np.int64]
    campaign: NDArray[np.int64]
    reach: NDArray[np.float64]
    quality: NDArray[np.float64]
    persuasion: NDArray[np.float64]
    deceptive: NDArray[np.bool_]
    boost_start: NDArray[np.int64]
    boost_end: NDArray[np.int64]
    link_start: NDArray[np.int64]
    link_count: NDArray[np.int64]


@dataclass
class World:
    cfg: WorldConfig
    days: int
    clock: Clock
    categories: tuple[Category, ...]
    pseudonyms: list[str]
    interest: NDArray[np.float64]  # (users, categories), rows sum to 1
    feed_cum: NDArray[np.float64]  # cumulative category mix of each person's feed
    activity: NDArray[np.float64]  # mean impressions per day
    market_pref: NDArray[np.int64]  # index into MARKETS
    organic: NDArray[np.float64]  # (users, brands) daily organic purchase hazard
    brands: list[Brand]
    stores: list[Store]
    items: list[Item]
    creators: list[Creator]
    notes: list[Note]
    links: list[Link]
    campaigns: list[Campaign]
    rings: list[Ring]
    na: NoteArrays
    link_item: NDArray[np.int64]
    link_market: NDArray[np.int64]  # index into MARKETS
    cat_items: list[NDArray[np.int64]]  # items of each category

    @property
    def n_users(self) -> int:
        return len(self.pseudonyms)


def _brand_ids(n: int) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for b in range(n):
        cat = b % len(CATEGORIES)
        names = BRAND_NAMES[CATEGORIES[cat].id]
        rnd = b // len(CATEGORIES)
        name = names[rnd % len(names)]
        if rnd >= len(names):  # a digit inside keeps one brand id from containing another
            name = f"{name[:3]}{rnd // len(names)}{name[3:]}"
        out.append((name, cat))
    ids = [i for i, _ in out]
    for a in ids:
        for other in ids:
            if a != other and a in other:
                raise ConfigError(f"brand id {a!r} is part of {other!r}; search-back could not tell them apart")
    return out


def _price_cents(rng: np.random.Generator, median: float) -> int:
    price = median * float(rng.lognormal(0.0, 0.35))
    tens = max(1, round(price / 10))
    return tens * 1000 - 10  # ...9.90, the way shops price


def _people(
    rng: np.random.Generator, users: int, cfg: WorldConfig
) -> tuple[list[str], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    k = len(CATEGORIES)
    pz = Pseudonymizer(cfg.match_key)
    pseudonyms = [pz(f"user-{i}") for i in range(users)]
    interest = rng.dirichlet(np.full(k, 0.45), size=users)
    mix = 0.25 / k + 0.75 * interest
    feed_cum = np.cumsum(mix, axis=1)
    feed_cum[:, -1] = 1.0
    sigma = 0.8
    activity = cfg.impressions_per_user_day * rng.lognormal(-0.5 * sigma**2, sigma, users)
    market_pref = rng.choice(len(MARKETS), size=users, p=np.array(_MARKET_PREFERENCE))
    return pseudonyms, interest, feed_cum, activity, np.asarray(market_pref, dtype=np.int64)


def _catalogue(rng: np.random.Generator, n_brands: int) -> tuple[list[Brand], list[Store], list[Item]]:
    brands: list[Brand] = []
    stores: list[Store] = []
    items: list[Item] = []
    for b, (name, cat) in enumerate(_brand_ids(n_brands)):
        category = CATEGORIES[cat]
        markets = ["tmall"]
        if rng.random() < 0.5:
            markets.append("jd")
        if rng.random() < 0.2:
            markets.append("taobao")
        n_products = int(rng.integers(3, 7))
        popularity = rng.dirichlet(np.full(n_products, 1.5))
        prices = [_price_cents(rng, category.median_price) for _ in range(n_products)]
        words = [category.products[p % len(category.products)] for p in range(n_products)]
        store_ids: list[int] = []
        for market in markets:
            s = len(stores)
            item_ids: list[int] = []
            for p in range(n_products):
                i = len(items)
                number = _ITEM_NUMBER_BASE[market] + i * 9973 + int(rng.integers(0, 9973))
                items.append(Item(i, str(number), number, s, b, cat, p, prices[p], f"{name} {words[p]} #{p + 1}"))
                item_ids.append(i)
            stores.append(Store(s, f"{market}-{name}", market, b, tuple(item_ids)))
            store_ids.append(s)
        brands.append(Brand(b, name, cat, tuple(store_ids), n_products, tuple(float(x) for x in popularity)))
    return brands, stores, items


def _creators(rng: np.random.Generator, n: int, cfg: WorldConfig, brands: list[Brand]) -> list[Creator]:
    k = len(CATEGORIES)
    brand_cats = sorted({b.category for b in brands})
    tiers = np.where(rng.random(n) < cfg.kol_share, "kol", "koc")
    if cfg.kol_share > 0 and "kol" not in tiers:
        tiers[0] = "kol"
    n_deceptive = round(cfg.deceptive_creator_share * n)
    if cfg.deceptive_creator_share > 0 and n_deceptive == 0 and n >= 4:
        n_deceptive = 1
    deceptive = set(rng.choice(n, size=n_deceptive, replace=False).tolist()) if n_deceptive else set()
    n_rings = min(cfg.fake_rings, n) if cfg.ring_size > 0 else 0
    ring_weight = np.where(tiers == "koc", 3.0, 1.0)
    ring_of: dict[int, int] = {}
    if n_rings:
        chosen = rng.choice(n, size=n_rings, replace=False, p=ring_weight / ring_weight.sum())
        ring_of = {int(c): r for r, c in enumerate(chosen.tolist())}
        ring_of.update(_more_clients(chosen.tolist(), ring_weight, cfg))
    out: list[Creator] = []
    for c in range(n):
        tier = str(tiers[c])
        cat = int(rng.choice(brand_cats)) if rng.random() < 0.8 else int(rng.integers(0, k))
        reach = (6.0 if tier == "kol" else 1.0) * float(rng.lognormal(0.0, 0.35))
        out.append(Creator(c, f"cr-{c:04d}", tier, cat, c in deceptive, ring_of.get(c, -1), reach))
    return out


def _more_clients(first: list[int], weight: NDArray[np.float64], cfg: WorldConfig) -> dict[int, int]:
    """creator -> ring for the clients after each ring's first, as its style asks. Drawn from a stream of their
    own (seeded by the first clients), so the rest of the world is the one a single-client ring would live in."""
    sub = np.random.default_rng([*first, len(weight), 2025])
    taken = set(first)
    out: dict[int, int] = {}
    for r in range(len(first)):
        extra = ring_style(cfg.ring_styles[r % len(cfg.ring_styles)]).clients - 1
        free = np.array([c for c in range(len(weight)) if c not in taken], dtype=np.int64)
        extra = min(extra, len(free))
        if extra <= 0:
            continue
        p = weight[free] / weight[free].sum()
        for c in sub.choice(free, size=extra, replace=False, p=p).tolist():
            out[int(c)] = r
            taken.add(int(c))
    return out


@dataclass
class _Plan:
    """A note before it gets its index and id (notes are numbered in publication order)."""

    creator: int
    brand: int
    category: int
    pub_t: int
    sponsored: bool
    disclosed: bool
    deceptive: bool
    campaign: int
    linked: bool
    boosted: bool
    fee: float = 0.0  # what the brand paid the creator, campaign notes only (private deals: hongmao.sim.deals)


def _pick_brand(rng: np.random.Generator, creator: Creator, by_cat: dict[int, list[int]], n_brands: int) -> int:
    own = by_cat.get(creator.category)
    if own and rng.random() < 0.8:
        return int(own[int(rng.integers(0, len(own)))])
    return int(rng.integers(0, n_brands))


def _regular_notes(
    rng: np.random.Generator, cfg: WorldConfig, days: int, creators: list[Creator], brands: list[Brand]
) -> list[_Plan]:
    by_cat: dict[int, list[int]] = {}
    for b in brands:
        by_cat.setdefault(b.category, []).append(b.index)
    plans: list[_Plan] = []
    for c in creators:
        kol = c.tier == "kol"
        n = int(rng.poisson((1 / 3.5 if kol else 1 / 6) * days))
        when = rng.integers(0, days, n) * DAY + seconds_in_day(rng, n)
        for t in sorted(when.tolist()):
            about_brand = bool(brands) and rng.random() < (0.85 if kol else 0.7)
            brand = _pick_brand(rng, c, by_cat, len(brands)) if about_brand else -1
            sponsored = about_brand and rng.random() < (cfg.sponsored_share_kol if kol else cfg.sponsored_share_koc)
            disclosed = sponsored and rng.random() >= cfg.undisclosed_share
            deceptive = c.deceptive and about_brand and (sponsored or rng.random() < 0.5)
            # 挂链 needs a filed collaboration; a few organic notes carry a creator's own link.
            linked = about_brand and rng.random() < (0.8 if disclosed else 0.0 if sponsored else 0.08)
            category = brands[brand].category if brand >= 0 else c.category
            plans.append(_Plan(c.index, brand, category, int(t), sponsored, disclosed, deceptive, -1, linked, False))
    return plans


def _campaign_notes(
    rng: np.random.Generator,
    cfg: WorldConfig,
    days: int,
    creators: list[Creator],
    brands: list[Brand],
    users: int,
) -> tuple[list[tuple[int, int, int, int, int, int]], list[_Plan]]:
    """Campaign windows (index, brand, k-th of the brand, start_t, end_t, spend) and the notes they hire."""
    windows: list[tuple[int, int, int, int, int, int]] = []
    plans: list[_Plan] = []
    n_hire = cfg.campaign_creators or int(np.clip(len(creators) // 5, 3, 30))
    n_hire = min(n_hire, len(creators))
    horizon = days * DAY
    per = cfg.campaigns_per_brand
    for b in brands:
        for k in range(per):
            seg = days / per
            seg_start = int(k * seg)
            start_day = seg_start + int(rng.integers(0, max(1, int(seg // 3))))
            length = max(1, min(14, int((k + 1) * seg) - start_day))
            start_t = start_day * DAY + 9 * 3600
            end_t = start_t + length * DAY
            last = min(end_t, horizon) - 1800
            weight = np.array(
                [(4.0 if c.category == b.category else 1.0) * (1.5 if c.tier == "kol" else 1.0) for c in creators]
            )
            hired = rng.choice(len(creators), size=n_hire, replace=False, p=weight / weight.sum())
            fees = 0.0
            scale = users / FEE_AUDIENCE
            index = len(windows)
            for c in sorted(hired.tolist()):
                creator = creators[c]
                low, high = KOL_FEE if creator.tier == "kol" else KOC_FEE
                fee = float(rng.integers(low, high + 1)) * scale
                fees += fee
                disclosed = rng.random() >= cfg.undisclosed_share
                boosted = disclosed and rng.random() < 0.6
                if boosted:
                    fees += BOOST_FEE * scale
                t = int(rng.integers(start_t, max(start_t + 1, last)))
                plans.append(
                    _Plan(
                        c,
                        b.index,
                        b.category,
                        t,
                        True,
                        disclosed,
                        creator.deceptive,
                        index,
                        disclosed and rng.random() < 0.85,
                        boosted,
                        fee,
                    )
                )
            windows.append((index, b.index, k, start_t, end_t, max(100, round(fees * 100))))
    return windows, plans


def _title(rng: np.random.Generator, words: np.random.Generator, plan: _Plan, brands: list[Brand]) -> str:
    category = CATEGORIES[plan.category]
    if plan.brand < 0:
        template = _PLAIN_TITLES[int(rng.integers(0, len(_PLAIN_TITLES)))]
        return template.format(keyword=category.keywords[int(rng.integers(0, len(category.keywords)))])
    templates = _DECEPTIVE_TITLES if plan.deceptive else _HONEST_TITLES
    style = int(rng.integers(0, len(templates)))
    product = category.products[int(rng.integers(0, len(category.products)))]
    if plan.deceptive:
        return templates[style].format(brand=brands[plan.brand].id, product=product)
    # The creator's own words come from ``words``, a stream of their own: the world's draws are as before.
    own = _OWN_WORDS[style]
    template = own[int(words.integers(0, len(own)))] + _TAILS[int(words.integers(0, len(_TAILS)))]
    return template.format(
        brand=brands[plan.brand].id,
        product=product,
        span=_SPANS[int(words.integers(0, len(_SPANS)))],
        who=_WHO[int(words.integers(0, len(_WHO)))],
        verdict=_VERDICTS[int(words.integers(0, len(_VERDICTS)))],
    )


def build_world(rng: np.random.Generator, users: int, days: int, n_brands: int, cfg: WorldConfig) -> World:
    """Draw every entity of the world."""
    pseudonyms, interest, feed_cum, activity, market_pref = _people(rng, users, cfg)
    brands, stores, items = _catalogue(rng, n_brands)
    n_creators = cfg.creators or max(16, users // 80)
    creators = _creators(rng, n_creators, cfg, brands)
    windows, campaign_plans = _campaign_notes(rng, cfg, days, creators, brands, users)
    plans = sorted(
        _regular_notes(rng, cfg, days, creators, brands) + campaign_plans, key=lambda p: (p.pub_t, p.creator)
    )

    notes: list[Note] = []
    links: list[Link] = []
    collab = 0
    # Spawning leaves the world's stream untouched: titles get their words without shifting any other draw.
    words = np.random.default_rng(rng.bit_generator.seed_seq.spawn(1)[0])  # type: ignore[attr-defined]
    for i, p in enumerate(plans):
        collab_id = None
        if p.sponsored and p.disclosed:
            collab += 1
            collab_id = f"collab-{collab:05d}"
        note = Note(
            i,
            f"note-{i:05d}",
            p.creator,
            p.brand,
            p.category,
            p.pub_t,
            p.sponsored,
            p.disclosed,
            p.deceptive,
            p.campaign,
            collab_id,
            quality=float(rng.lognormal(0.0, 0.35)),
            boosted=p.boosted,
            title=_title(rng, words, p, brands),
            fee_cents=round(p.fee * 100),
        )
        if p.linked:
            brand = brands[p.brand]
            n_links = min(brand.products, 2 if rng.random() < 0.3 else 1)
            products = rng.choice(brand.products, size=n_links, replace=False, p=np.array(brand.product_popularity))
            for product in products.tolist():
                store = stores[brand.stores[int(rng.integers(0, len(brand.stores)))]]
                item = items[store.items[product]]
                url = MARKET_URLS[store.market].format(num=item.number)
                link = Link(len(links), f"lnk-{len(links):05d}", i, item.index, store.market, url)
                links.append(link)
                note.items.append(item.index)
                note.links.append(link.index)
        notes.append(note)

    plant_waves(np.random.default_rng([len(notes), users, 1_024]), cfg, notes, brands, windows)
    campaigns: list[Campaign] = []
    for index, brand_index, k, start_t, end_t, fees in windows:
        cid = f"cmp-{brands[brand_index].id}-{k + 1}"
        members = [n.index for n in notes if n.campaign == index]
        held = holdout_mask(pseudonyms, cid, cfg.holdout_share, cfg.holdout_key)
        campaigns.append(Campaign(index, cid, brand_index, start_t, end_t, fees, cfg.holdout_share, members, held))

    rings: list[Ring] = []
    pz = Pseudonymizer(cfg.match_key)
    clients: dict[int, list[int]] = {}
    for c in creators:
        if c.ring >= 0:
            clients.setdefault(c.ring, []).append(c.index)
    for r in sorted(clients):
        accounts = tuple(pz(f"fake-{r}-{j}") for j in range(cfg.ring_size))
        style = cfg.ring_styles[r % len(cfg.ring_styles)]
        rings.append(Ring(r, clients[r][0], accounts, style, tuple(clients[r])))

    k = len(CATEGORIES)
    per_cat = np.bincount([b.category for b in brands], minlength=k) if brands else np.zeros(k, dtype=np.int64)
    organic = np.zeros((users, len(brands)), dtype=np.float64)
    for b in brands:
        cat = CATEGORIES[b.category]
        organic[:, b.index] = (
            cfg.organic_rate * interest[:, b.category] * k / per_cat[b.category] * np.sqrt(10.0 / cat.mean_delay_days)
        )

    na = _note_arrays(notes, creators, campaigns, cfg)
    cat_items = [np.array([it.index for it in items if it.category == c], dtype=np.int64) for c in range(k)]
    return World(
        cfg=cfg,
        days=days,
        clock=Clock(cfg.start, days, cfg.utc_offset_hours),
        categories=CATEGORIES,
        pseudonyms=pseudonyms,
        interest=interest,
        feed_cum=feed_cum,
        activity=activity,
        market_pref=market_pref,
        organic=organic,
        brands=brands,
        stores=stores,
        items=items,
        creators=creators,
        notes=notes,
        links=links,
        campaigns=campaigns,
        rings=rings,
        na=na,
        link_item=np.array([lk.item for lk in links], dtype=np.int64),
        link_market=np.array([MARKETS.index(lk.market) for lk in links], dtype=np.int64),
        cat_items=cat_items,
    )


def _note_arrays(notes: list[Note], creators: list[Creator], campaigns: list[Campaign], cfg: WorldConfig) -> NoteArrays:
    n = len(notes)
    persuasion = np.ones(n)
    reach = np.ones(n)
    boost_start = np.zeros(n, dtype=np.int64)
    boost_end = np.zeros(n, dtype=np.int64)
    link_start = np.zeros(n, dtype=np.int64)
    for note in notes:
        creator = creators[note.creator]
        factor = cfg.deceptive_intent_boost if note.deceptive else 1.0
        if note.sponsored:
            # A label makes readers discount the pitch a little; a hidden ad is trusted as a real review.
            factor *= 0.9 if note.disclosed else 1.15
        persuasion[note.index] = factor
        reach[note.index] = creator.reach * note.quality**0.5 * (FAKE_REACH_BOOST if creator.ring >= 0 else 1.0)
        if note.boosted and note.campaign >= 0:
            boost_start[note.index] = campaigns[note.campaign].start_t
            boost_end[note.index] = campaigns[note.campaign].end_t
        if note.links:
            link_start[note.index] = note.links[0]
    return NoteArrays(
        pub_t=np.array([x.pub_t for x in notes], dtype=np.int64),
        brand=np.array([x.brand for x in notes], dtype=np.int64),
        category=np.array([x.category for x in notes], dtype=np.int64),
        campaign=np.array([x.campaign for x in notes], dtype=np.int64),
        reach=reach,
        quality=np.array([x.quality for x in notes], dtype=np.float64),
        persuasion=persuasion,
        deceptive=np.array([x.deceptive for x in notes], dtype=np.bool_),
        boost_start=boost_start,
        boost_end=boost_end,
        link_start=link_start,
        link_count=np.array([len(x.links) for x in notes], dtype=np.int64),
    )
