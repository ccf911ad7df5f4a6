"""What a brand key may see of a report: figures resting on fewer than k people are withheld, and say so.

The engine and the report caches stay unsuppressed and shared between callers; the API and the console call
these functions on a report's output per caller. Operators (platform staff) see every figure; a brand key sees
the suppressed answer. The threshold is the strictest of the deployment's ``privacy_k`` and the parties'
``privacy_k_parties`` (:func:`hongmao.measure.threshold.strictest`).

* Attribution rows (per note, creator, campaign, item): a row whose credit rests on fewer than k distinct
  buyers keeps its key and loses its figures (``None``), with ``suppressed`` giving the reason. So that the
  totals do not give a withheld row back by subtraction, the withheld rows' figures are folded into one
  ``(withheld)`` row; when that pool alone rests on fewer than k buyers, the key with the fewest buyers at or
  above k joins it (the complement is withheld, as the AIPS flows do), and when no key reaches k, the pool and
  the totals are withheld as well. Which keys are withheld depends on the buyers alone (:func:`pool`), so every
  answer over them withholds the same keys.
* A single order's journey rests on one person: withheld for brand keys unless k is 1.
* The notes credited with each order of an order list, and the orders credited to one note (each one person).
* The funnel's counts of people (readers, search-back users, ...) under k, and the rate built on them.
* Items' orders and GMV, each item resting on its distinct buyers (:func:`items`); the daily series' sales
  figures, each day resting on that day's buyers and its attributed figures on that day's attributed buyers
  (:func:`timeseries`); the overview's totals and people counts (:func:`overview`). Items and days are withheld
  as keys are (:func:`pool`): with a day under k, the smallest day at or above k goes with it, so the overview's
  total less the days shown gives a pool of at least k people, never one day.
* Activity counts (impressions, reads, clicks, engagements, carts, store visits) of a note, creator, day, link or
  device class, each resting on the distinct people who produced its events (:func:`activity`), withheld as keys
  are; the funnel's window-wide counts and sales under k people (:func:`activity_totals`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hongmao.measure.threshold import party_thresholds, strictest

WITHHELD_KEY = "(withheld)"
#: The attribution figures a row's buyers stand behind.
ATTRIBUTION_FIGURES = ("orders", "gmv", "net_gmv")
#: A row's interval of its credited orders, when the model gives one (withheld with the row's figures).
INTERVAL_FIGURES = ("orders_low", "orders_high")
#: The economics rows' figures that come from attribution credit (fees and activity do not count buyers).
ECONOMICS_FIGURES = ("orders", "net_gmv", "cost_per_order", "attributed_roi")
#: Entity tables (notes, creators) carrying attribution credit, keyed by their id column.
ENTITY_KEYS = {"note": "note_id", "creator": "creator_id", "campaign": "campaign_id"}
#: A campaign row's figures from attribution credit (its spend is the brand's own).
CAMPAIGN_FIGURES = ("orders", "gmv", "net_gmv", "attributed_roi")
#: The totals of an attribution answer that, with the rows shown, would give back a withheld pool under k.
ATTRIBUTION_TOTALS = ("orders", "total_orders", "unattributed_orders", "baseline_orders")
#: An item's figures, resting on its distinct buyers.
ITEM_FIGURES = ("orders", "gmv")
#: A day's sales figures, resting on the day's buyers ...
SERIES_SALES = ("orders", "gmv", "net_gmv", "refunded")
#: ... and its attributed figures, resting on the day's attributed buyers (activity counts: :func:`activity`).
SERIES_ATTRIBUTED = ("attributed_orders", "attributed_gmv", "attributed_net_gmv")
#: The overview's totals over every order of the window (its ``buyers``) ...
OVERVIEW_SALES = ("orders", "gmv", "refunded", "net_gmv", "buyers")
#: ... and over the attributed orders (its ``attributed_buyers``); spend is the brand's own and stays.
OVERVIEW_ATTRIBUTED = ("attributed_orders", "attributed_gmv", "attributed_net_gmv", "attributed_roi")
#: The overview's counts of people, withheld under k whatever the totals.
OVERVIEW_PEOPLE = ("attributed_buyers", "new_customers", "new_customer_share")


def reason(k: int) -> str:
    return f"fewer than {k} people"


def threshold(own: int) -> int:
    """The k in force: the strictest of the deployment's own and every party's (``privacy_k_parties``)."""
    from hongmao import settings

    return strictest(own, *party_thresholds(settings.get("privacy_k_parties")))


def pool(buyers: Mapping[str, int], k: int) -> tuple[frozenset[str], bool]:
    """The keys withheld at ``k`` and whether even their pool is under k, from the buyers alone: every answer
    over the same buyers (a listing, the attribution rows, a comparison) withholds the same keys, so no two
    answers together give one back. Keys under k (a zero reveals no one and stays), and, when those alone are
    under k, the key with the fewest buyers at or above k (the complement is withheld, as the AIPS flows do).
    The pool counts as its largest key's buyers: buyers overlap between keys, so never their sum."""
    hidden = {key for key, n in buyers.items() if 0 < n < k}
    if not hidden:
        return frozenset(), False
    big = sorted((n, key) for key, n in buyers.items() if n >= k)
    if big:
        hidden.add(big[0][1])
    return frozenset(hidden), not big


def withhold_rows(
    rows: Sequence[Mapping[str, Any]],
    key_field: str,
    buyers: Mapping[str, int],
    k: int,
    figures: Sequence[str] = ATTRIBUTION_FIGURES,
) -> tuple[list[dict[str, Any]], bool]:
    """``rows`` as a brand key sees them, and whether the totals must be withheld too.

    Each row gets ``buyers`` (or ``None`` when withheld) and ``suppressed`` (``None`` or the reason); a
    withheld row loses its interval (:data:`INTERVAL_FIGURES`) with its figures. Rows shown come first in their
    order, then the withheld ones (:func:`pool`) by key, then the ``(withheld)`` row of their sums (``None``
    when the pool is under k)."""
    why = reason(k)
    gone, under = pool(buyers, k)
    figures = (*figures, *(f for f in INTERVAL_FIGURES if rows and f in rows[0] and f not in figures))
    shown: list[dict[str, Any]] = []
    withheld: list[dict[str, Any]] = []
    for row in rows:
        out = {**row, "buyers": int(buyers.get(str(row[key_field]), 0)), "suppressed": None}
        (withheld if str(row[key_field]) in gone else shown).append(out)
    if not withheld:
        return shown, False
    # The listing's share of the pool is summed only when it rests on k people itself (a listing may lack the
    # pool's key at or above k); only additive figures, a ratio (ROI, cost per order) of the pool is left out.
    thin = max(int(r["buyers"]) for r in withheld) < k
    folded = {f: sum(_num(r.get(f)) for r in withheld) if f in ATTRIBUTION_FIGURES else None for f in figures}
    for row in withheld:
        for f in (*figures, "buyers"):
            row[f] = None
        row["suppressed"] = why
    withheld.sort(key=lambda r: str(r[key_field]))
    total: dict[str, Any] = dict.fromkeys(rows[0]) | {key_field: WITHHELD_KEY, "rows": len(withheld), "buyers": None}
    total |= dict.fromkeys(figures) if under or thin else folded
    total["suppressed"] = why if under or thin else None
    return [*shown, *withheld, total], under


def attribution(body: dict[str, Any], buyers: Mapping[str, int], k: int) -> dict[str, Any]:
    """An attribution answer (``rows`` keyed by ``key``, and its totals) as a brand key sees it."""
    rows, under = withhold_rows(body["rows"], "key", buyers, k)
    out = {**body, "rows": rows, "privacy_k": k}
    if under:
        for f in ATTRIBUTION_TOTALS:
            if f in out:
                out[f] = None
        out["suppressed"] = [*ATTRIBUTION_TOTALS]
    return out


def entities(
    rows: Sequence[Mapping[str, Any]],
    by: str,
    buyers: Mapping[str, int],
    k: int,
    figures: Sequence[str] = ATTRIBUTION_FIGURES,
) -> list[dict[str, Any]]:
    """Notes or creators (``by``) with their credit (``figures``) withheld where it rests on fewer than k
    buyers; :data:`ECONOMICS_FIGURES` for the economics rows the console's creator table shows."""
    shown, _under = withhold_rows(rows, ENTITY_KEYS[by], buyers, k, figures)
    return shown


def funnel(raw: Mapping[str, Any], people: Sequence[str], k: int) -> dict[str, Any]:
    """A funnel with its counts of people (``people``) under k withheld (``None``, named in ``suppressed``),
    and the search-back rate with them; a zero reveals no one and stays."""
    out = dict(raw)
    hidden = [f for f in people if out.get(f) is not None and 0 < out[f] < k]
    for f in hidden:
        out[f] = None
    out["suppressed"] = [*raw.get("suppressed", []), *hidden]
    if out.get("search_back_users") is None or out.get("readers") is None:
        out["search_back_rate"] = None
    return out


def economics(
    tables: Mapping[str, list[dict[str, Any]]], buyers: Mapping[str, Mapping[str, int]], k: int
) -> dict[str, list[dict[str, Any]]]:
    """Economics rows (``creators`` and ``notes``) with their credit withheld where under k buyers;
    ``buyers``: per ``creator`` and ``note``, as :meth:`~hongmao.reports.service.Reports.buyers` gives them."""
    out = dict(tables)
    for table, by in (("creators", "creator"), ("notes", "note")):
        if out.get(table):
            out[table] = entities(out[table], by, buyers[by], k, ECONOMICS_FIGURES)
    return out


def compare(body: dict[str, Any], buyers_by_model: Mapping[str, Mapping[str, int]], k: int) -> dict[str, Any]:
    """A model comparison as a brand key sees it: a key is withheld when any model's attribution answer withholds
    it (:func:`pool` over that model's buyers), so no pair of answers gives a withheld row back; with any key
    withheld, the totals are withheld too."""
    gone: set[str] = set()
    for buyers in buyers_by_model.values():
        gone |= pool(buyers, k)[0]
    why = reason(k)
    out_rows = []
    for row in body["rows"]:
        if str(row["key"]) in gone:
            none = dict.fromkeys(row["orders"])
            out_rows.append({**row, "orders": none, "net_gmv": dict(none), "suppressed": why})
        else:
            out_rows.append({**row, "suppressed": None})
    out = {**body, "rows": out_rows, "privacy_k": k}
    if gone:
        out["total_orders"] = dict.fromkeys(body["total_orders"])
        out["suppressed"] = ["total_orders"]
    return out


def campaign_rois(rows: Sequence[dict[str, Any]], buyers: Mapping[str, int], k: int) -> list[dict[str, Any]]:
    """Campaigns' ROI stories as a brand key sees them: a campaign withheld from the attribution answers
    (:func:`pool` over its buyers) loses its attributed and ROI(T+x) figures and the line comparing them; a lift
    whose treated or holdout group is under k loses its figures too."""
    gone, _under = pool(buyers, k)
    why = reason(k)
    out = []
    for row in rows:
        new = {**row, "suppressed": None}
        if str(row["campaign_id"]) in gone:
            attributed = dict(row["attributed"])
            attributed |= {"orders": None, "net_gmv": None, "roi": None}
            new |= {"attributed": attributed, "at_cycle": None, "at_cycle_unavailable": why, "why": None}
            new["suppressed"] = why
        lift = row.get("incremental")
        if lift is not None and min(int(lift["treated_n"]), int(lift["holdout_n"])) < k:
            new |= {"incremental": None, "incremental_unavailable": why, "why": None, "suppressed": why}
        out.append(new)
    return out


def items(rows: Sequence[Mapping[str, Any]], k: int) -> list[dict[str, Any]]:
    """Items (each with its ``buyers``) as a brand key sees them: an item withheld by :func:`pool` over the
    buyers keeps its id, title and listing and loses its orders, GMV and buyers, with ``suppressed`` saying why.
    No folded row: the listing has no totals, and the overview's, less the items shown, are a pool of k people."""
    gone, _under = pool({str(r["item_id"]): int(r.get("buyers") or 0) for r in rows}, k)
    why = reason(k)
    out = []
    for row in rows:
        if str(row["item_id"]) in gone:
            out.append({**row, **dict.fromkeys((*ITEM_FIGURES, "buyers")), "suppressed": why})
        else:
            out.append({**row, "suppressed": None})
    return out


def timeseries(days: Sequence[Mapping[str, Any]], k: int) -> list[dict[str, Any]]:
    """The daily series as a brand key sees it. A day's sales figures rest on its ``buyers``, its attributed
    figures on its ``attributed_buyers``; each set is withheld per day as :func:`pool` withholds keys, so a day
    under k takes the smallest day at or above k with it. ``suppressed`` names the reason (``None``: all shown);
    ``withheld`` lists the figures gone. Spend (the brand's own) stays; the activity counts are :func:`activity`'s."""
    sets = ((SERIES_SALES, "buyers"), (SERIES_ATTRIBUTED, "attributed_buyers"))
    gone = {people: pool({str(d["day"]): int(d.get(people) or 0) for d in days}, k)[0] for _f, people in sets}
    why = reason(k)
    out = []
    for day in days:
        new = {**day, "suppressed": None, "withheld": []}
        for figures, people in sets:
            if str(day["day"]) in gone[people]:
                new |= dict.fromkeys((*figures, people))
                new["withheld"] = [*new["withheld"], *figures, people]
                new["suppressed"] = why
        out.append(new)
    return out


def overview(raw: Mapping[str, Any], k: int) -> dict[str, Any]:
    """The overview at ``k``: its totals over every order withheld when the window's ``buyers`` are under k, its
    attributed totals (and ROI) when its ``attributed_buyers`` are, and its counts of people under k; each
    withheld field named in ``suppressed``. A zero reveals no one: totals over no buyer stay."""
    out = dict(raw)
    hidden: list[str] = []
    if 0 < int(raw.get("buyers") or 0) < k:
        hidden += OVERVIEW_SALES
    attributed = int(raw.get("attributed_buyers") or 0)
    if 0 < attributed < k:
        hidden += OVERVIEW_ATTRIBUTED
    if attributed < k:
        hidden += [f for f in OVERVIEW_PEOPLE if f not in hidden]
    for f in hidden:
        out[f] = None
    out["suppressed"] = hidden
    return out


#: The activity counts, each resting on the distinct people who produced its events (``Reports.actors``) ...
ACTIVITY_FIGURES = ("impressions", "reads", "clicks", "engagements", "carts", "bot_clicks", "store_visits")
#: ... fields counted from the same people as one of them ...
SAME_PEOPLE = {"counted_clicks": "clicks"}
#: ... and the funnel's sales, resting on the window's buyers (people with an order) as the overview's do ...
FUNNEL_SALES = {"orders": "orders", "gmv": "orders", "refunds": "orders", "refunded": "orders"}
#: ... and figures computed from them, withheld with any of the counts they need.
DERIVED = {
    "ctr": ("clicks", "counted_clicks", "reads"),
    "read_rate": ("reads", "impressions"),
    "engagement_rate": ("engagements", "reads"),
    "store_visit_rate": ("store_visits", "reads"),
    "cpm": ("impressions",),
    "cpe": ("engagements",),
}


def activity(
    rows: Sequence[Mapping[str, Any]],
    key_field: str,
    actors: Mapping[str, Mapping[str, int]],
    k: int,
    same: Mapping[str, str] = SAME_PEOPLE,
) -> list[dict[str, Any]]:
    """``rows`` (keyed by ``key_field``) as a brand key sees their activity counts. ``actors``: per figure, the
    distinct people behind each key's count (``Reports.actors``). Each figure is withheld per key as
    :func:`pool` withholds keys (under k, a zero reveals no one; with any key under k the smallest key at or
    above k goes too, so a total less the rows shown gives a pool of at least k people, never one row), and the
    figures computed from it (:data:`DERIVED`) with it. Each row lists the fields withheld in ``withheld``
    (empty: none) and, with any, gives the reason in ``suppressed`` (when nothing else set one). ``same``: other fields
    resting on the people of a figure."""
    if not rows:
        return []
    people = {**{f: f for f in ACTIVITY_FIGURES}, **same}
    counted = [f for f in people if f in rows[0]]
    gone = {f: pool(actors.get(people[f], {}), k)[0] for f in counted}
    why = reason(k)
    out = []
    for row in rows:
        key = str(row[key_field])
        hidden = [f for f in counted if key in gone[f]]
        hidden += [d for d, need in DERIVED.items() if d in row and any(n in hidden for n in need)]
        if not hidden:
            out.append({**row, "withheld": list(row.get("withheld", []))})
            continue
        new = {**row, **dict.fromkeys(hidden)}
        new["withheld"] = [*row.get("withheld", []), *hidden]
        new["suppressed"] = row.get("suppressed") or why
        out.append(new)
    return out


#: The key field of each ``by`` whose rows carry activity counts.
ACTIVITY_KEYS = {**ENTITY_KEYS, "day": "day", "link": "link_id", "ua_class": "ua_class"}


def activity_of(
    reports: Any,
    scope: Any,
    rows: Sequence[Mapping[str, Any]],
    by: str,
    window: Any,
    k: int,
    *,
    link_id: str | None = None,
) -> list[dict[str, Any]]:
    """:func:`activity` over ``rows`` keyed by ``by`` (:data:`ACTIVITY_KEYS`), with the people behind each key's
    counts from ``reports.actors`` (``link_id``: that link's clicks alone; asked only when the rows carry an
    activity count)."""
    if not rows or not any(f in rows[0] for f in (*ACTIVITY_FIGURES, *SAME_PEOPLE)):
        return [dict(r) for r in rows]
    return activity(rows, ACTIVITY_KEYS[by], reports.actors(scope, by, window=window, link_id=link_id), k)


def activity_totals(raw: Mapping[str, Any], actors: Mapping[str, Mapping[str, int]], k: int) -> dict[str, Any]:
    """One answer's window-wide activity counts (the funnel's) at ``k``: each withheld when the window's people
    behind it (``actors`` under the key ``""``) are under k, the figures computed from it with it, each named in
    the answer's ``suppressed`` list; its sales with them when its buyers are (:data:`FUNNEL_SALES`)."""
    (row,) = activity([{**raw, "__key": "", "withheld": []}], "__key", actors, k, {**SAME_PEOPLE, **FUNNEL_SALES})
    out = {f: v for f, v in row.items() if f not in ("__key", "withheld")}
    before = list(raw.get("suppressed", []))
    out["suppressed"] = [*before, *(f for f in row["withheld"] if f not in before)]
    return out


def withheld_count(body: Any) -> int:
    """How many rows (or days, or fields) an answer withholds, for the audit log: rows with ``suppressed`` set
    (the folded ``(withheld)`` row not counted), else the length of a ``suppressed`` list."""
    if isinstance(body, list):
        rows = [r for r in body if isinstance(r, Mapping) and r.get("suppressed")]
        return sum(1 for r in rows if WITHHELD_KEY not in r.values())
    if isinstance(body, Mapping) and isinstance(body.get("suppressed"), list):
        return len(body["suppressed"])
    return 0


def journey(found: dict[str, Any], k: int) -> dict[str, Any]:
    """One order's journey as a brand key sees it: one order is one person, so withheld unless k is 1."""
    if k <= 1:
        return {**found, "suppressed": None}
    return {
        "order_id": found["order_id"],
        "model": found.get("model"),
        "time": None,
        "item_id": None,
        "item_title": None,
        "amount": None,
        "refunded": None,
        "net": None,
        "touches": None,
        "suppressed": f"one order is one person; {reason(k)}",
        "privacy_k": k,
    }


def order(row: dict[str, Any], k: int) -> dict[str, Any]:
    """One order of a list (the brand's own sale) as a brand key sees it: the notes credited with it are one
    person's reading, so they are withheld unless k is 1; the sale itself stays."""
    if k <= 1:
        return {**row, "suppressed": None}
    return {**row, "attributed": None, "credits": None, "suppressed": f"one order is one person; {reason(k)}"}


def orders(rows: Sequence[dict[str, Any]], k: int) -> list[dict[str, Any]]:
    return [order(r, k) for r in rows]


def note_orders(rows: list[dict[str, Any]], k: int) -> list[dict[str, Any]] | None:
    """The orders credited to one note, each one person's reading of it: ``None`` (withheld) unless k is 1."""
    return rows if k <= 1 else None


def _num(value: Any) -> float:
    return float(value) if value is not None else 0.0
