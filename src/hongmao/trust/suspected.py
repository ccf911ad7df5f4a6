"""Suspected sponsorship: notes that look paid although the lake holds no record of any deal.

This is a separate class from ``undisclosed`` and never mixed with it. ``undisclosed`` rests on a record (a
campaign listing, a collaboration, a link, a boost) and is a finding; a *suspicion* rests on shape alone and
is a lead for a reviewer, who asks the creator and the brand. It is only raised on notes without a label and
without any record (an evidenced note is already judged by :mod:`hongmao.trust.disclosure`).

Signals, each a reason code with its evidence, each judged against the brand's *own* norm, so a bigger world
(more honest notes about a brand landing within days of each other by chance) raises no more suspicions:

* ``SAME_BRIEF`` — other creators' notes about the brand, without label or record, in the same run-up to a
  campaign (or within ``brief_days``; each creator by its most alike note), read like this one
  (character-bigram Jaccard of the titles, at least ``title_similarity``) more than the brand's notes read like
  *this* title elsewhere. The r-th most alike of m peers sets how alike counts; the share of the brand's notes
  outside the window (other creators) at least that alike to this title is uncertain, so it is a Beta posterior:
  half a pseudo-count with the brand's pooled rarity q (pairs of its notes more than ``2 * brief_days`` apart)
  as prior mean, updated with this title's own counts outside. P(BetaBinomial(m, a, b) >= r), the best r of
  2..4 paid for by a factor of three. Against the pooled q alone, a busier brand (m grows with the world) drowns
  a wave of fixed size: four twins among a hundred peers are chance when one pair in fifty is alike. Against
  the title's own baseline they are not, because a brief's words are rare outside its wave at any scale.
  Templated honest titles are common alike, so they are not rare; a brief's copies are. A brief goes to
  creators who wrote about the brand before as well as to new ones, so peers are not only first posts.
* ``BRAND_BURST`` — more creators posted about the brand within ``burst_days`` either side than its own daily
  rate makes likely (Poisson tail, Bonferroni over every note tested).
* ``FIRST_POST_BEFORE_CAMPAIGN`` / ``BEFORE_CAMPAIGN`` — the note was published within ``lead_days`` before
  one of the brand's campaigns starts (seeding paid to warm up a launch); the first code when it is the
  creator's first note about the brand.
* ``LATER_TIE`` — the brand later boosted, linked or contracted this creator; shown, decides nothing.

A note is suspected only on two signals together: SAME_BRIEF significant, and a context that points at a paid
post (a campaign's run-up or BRAND_BURST) — the context says nothing of titles, so those notes are the ones
tested, and a brief is only looked for there (elsewhere it could not suspect the note; looking costs a pass over
the window's peers, too slow on a big world's brand). The notes tested fall in families, one per campaign's
run-up (and one per brand for bursts without a campaign), and the cut-off is Benjamini and Bogomolov's: run-ups
are selected by Benjamini-Hochberg at ``alpha`` on their Bonferroni p-values, and within each, a note counts at
``alpha`` times the share of run-ups selected, shared out (Bonferroni) over the run-up's notes. One Bonferroni
cut-off over every note tested shrank with the world (a run-up holds more notes, a wave stays at about five,
and a copy's p-value does not fall with the world's size: the title's share outside is as uncertain as before);
now the cut-off grows with the run-ups that hold a wave. Within a run-up it stays Bonferroni's, because its notes
share their peers and baseline: a run-up of many weakly alike honest notes (a new way of titling, say) cannot
loosen the cut-off for itself, as a Benjamini-Hochberg cut-off over every note would. With one run-up this is
the plain Bonferroni cut-off; ``SuspectRules(control="bonferroni")`` keeps the single one over every note.
One signal alone never suspects a note.
Pure Python over rows from :mod:`hongmao.engine.trust_disclosure`.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

_KEEP = re.compile(r"[^0-9a-z\u4e00-\u9fff]+")


@dataclass(frozen=True)
class SuspectRules:
    brief_days: float = 7.0
    title_similarity: float = 0.4  # the least similarity that can make twins, however rare less is
    brief_twins: int = 2
    burst_days: float = 3.0
    lead_days: float = 10.0
    later_tie_days: float = 30.0
    alpha: float = 0.05  # BRAND_BURST: any false signal (Bonferroni); SAME_BRIEF: false share among run-ups selected
    control: str = "families"  # or "bonferroni": one cut-off over every note tested
    background_pairs: int = 20_000  # unrelated title pairs sampled per brand for its norm


@dataclass
class SuspectFinding:
    note_id: str
    creator_id: str | None
    brand: str
    suspected: bool
    reasons: list[str]
    evidence: dict[str, Any] = field(default_factory=dict)


def _bigrams(title: str) -> frozenset[str]:
    text = _KEEP.sub("", title.lower())
    return frozenset(text[i : i + 2] for i in range(len(text) - 1)) if len(text) > 1 else frozenset({text})


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the two titles' character bigrams (letters, digits and CJK only)."""
    return _alike(_bigrams(a), _bigrams(b))


def _alike(x: frozenset[str], y: frozenset[str]) -> float:
    return len(x & y) / len(x | y) if x | y else 0.0


def binomial_tail(k: int, m: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(m, p)."""
    if k <= 0:
        return 1.0
    if k > m:
        return 0.0
    term = (1.0 - p) ** m
    below = 0.0
    for i in range(k):
        below += term
        term *= (m - i) / (i + 1) * p / (1.0 - p) if p < 1.0 else 0.0
    return max(0.0, 1.0 - below) if below < 0.999 else _upper(k, m, p)


def _upper(k: int, m: int, p: float) -> float:
    """The binomial tail summed from its own end (precise when it is tiny)."""
    term = math.comb(m, k) * p**k * (1.0 - p) ** (m - k)
    total = 0.0
    for i in range(k, m + 1):
        total += term
        term *= (m - i) / (i + 1) * p / (1.0 - p) if p < 1.0 else 0.0
    return min(1.0, total)


def poisson_tail(k: int, mean: float) -> float:
    """P(X >= k) for X ~ Poisson(mean)."""
    if k <= 0:
        return 1.0
    term = math.exp(-mean)
    below = 0.0
    for i in range(k):
        below += term
        term *= mean / (i + 1)
    if below < 0.999:
        return max(0.0, 1.0 - below)
    total, term = 0.0, math.exp(-mean) * mean**k / math.factorial(k)
    for i in range(k, k + 200):
        total += term
        term *= mean / (i + 1)
    return min(1.0, total)


def betabinomial_tail(k: int, m: int, a: float, b: float) -> float:
    """P(X >= k) for X ~ BetaBinomial(m, a, b): a binomial whose success chance is itself Beta(a, b)."""
    if k <= 0:
        return 1.0
    if k > m:
        return 0.0

    base = math.lgamma(m + 1) + math.lgamma(a + b) - math.lgamma(m + a + b) - math.lgamma(a) - math.lgamma(b)

    def log_pmf(i: int) -> float:
        return base - math.lgamma(i + 1) - math.lgamma(m - i + 1) + math.lgamma(i + a) + math.lgamma(m - i + b)

    return min(1.0, sum(math.exp(log_pmf(i)) for i in range(k, m + 1)))


def family_cuts(sizes: dict[Any, int], best: dict[Any, float], alpha: float) -> dict[Any, float]:
    """Each family's cut-off for its notes' p-values: families selected by Benjamini-Hochberg, notes within a
    selected family by Bonferroni at the level the selection leaves (Benjamini and Bogomolov, 2014).

    ``sizes``: notes tested per family; ``best``: the smallest p-value in each family. A family's own p-value is
    its Bonferroni one, ``sizes * best``; of the C families, the R with the smallest ones that BH rejects at
    ``alpha`` are selected, and within each a note counts at ``alpha * R / (C * size)``. The expected share of
    false suspicions among the families with any suspicion stays under ``alpha``. A world's waves fall in
    several campaigns' run-ups, so the cut-off grows with the waves found instead of shrinking with every note
    tested; notes of one run-up share their peers and baseline, so within it the cut-off stays Bonferroni's (a
    run-up of many weakly alike honest notes cannot loosen it for itself). One family is plain Bonferroni."""
    count = len(sizes)
    ordered = sorted(min(1.0, sizes[k] * best.get(k, 1.0)) for k in sizes)
    selected = max((r for r, p in enumerate(ordered, start=1) if p <= alpha * r / count), default=1)
    return {k: alpha * selected / (count * max(1, n)) for k, n in sizes.items()}


@dataclass
class _Norm:
    """A brand's own norms: how alike its unrelated titles are, how many creators post about it a day."""

    creators_per_day: float
    background: list[float]  # similarities of the sampled unrelated pairs, sorted

    def rarity(self, sim: float) -> float:
        """The share of the brand's unrelated pairs at least this alike (a half count when none is)."""
        above = len(self.background) - bisect.bisect_left(self.background, sim - 1e-9)
        return (above + 0.5) / (len(self.background) + 1.0)


def _norm(items: list[dict[str, Any]], rules: SuspectRules) -> _Norm:
    """Pairs of the brand's notes by different creators more than twice ``brief_days`` apart cannot share a
    brief: their similarities are the brand's norm (sampled evenly, deterministically)."""
    gap = timedelta(days=2 * rules.brief_days)
    grams = [_bigrams(str(n.get("title") or "")) for n in items]
    sims: list[float] = []
    n = len(items)
    step = max(1, (n * n) // (2 * rules.background_pairs))
    for flat in range(0, n * n, step):
        i, j = divmod(flat, n)
        if j <= i or items[i]["creator_id"] == items[j]["creator_id"]:
            continue
        if abs(items[j]["published"] - items[i]["published"]) <= gap:
            continue
        sims.append(_alike(grams[i], grams[j]))
    sims.sort()
    span = max((items[-1]["published"] - items[0]["published"]).total_seconds() / 86_400.0, 1.0) if items else 1.0
    days = {(str(m["creator_id"]), m["published"].date()) for m in items}
    return _Norm(len(days) / span, sims)


def judge(
    notes: list[dict[str, Any]],
    campaigns: list[dict[str, Any]],
    ties: list[dict[str, Any]],
    evidenced: set[str],
    rules: SuspectRules | None = None,
) -> list[SuspectFinding]:
    """One finding per unlabelled brand note without a record (``evidenced``: notes with any commercial tie).

    ``notes``: note_id, creator_id, brand, published (datetime), disclosed, title. ``campaigns``: brand,
    start (datetime). ``ties``: creator_id, brand, t — every recorded commercial tie (deal, boost, link) of a
    creator with a brand, for LATER_TIE."""
    rules = rules or SuspectRules()
    by_brand: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for n in notes:
        if n.get("brand"):
            by_brand[str(n["brand"])].append(n)
    starts: dict[str, list[datetime]] = defaultdict(list)
    for c in campaigns:
        if c.get("brand") and c.get("start") is not None:
            starts[str(c["brand"])].append(c["start"])
    tie_times: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for t in ties:
        if t.get("creator_id") and t.get("brand") and t.get("t") is not None:
            tie_times[(str(t["creator_id"]), str(t["brand"]))].append(t["t"])
    # the pool a brief could hide in, per brand: unlabelled notes without any record
    pools: dict[str, list[dict[str, Any]]] = {}
    for brand, items in by_brand.items():
        items.sort(key=lambda n: (n["published"], n["note_id"]))
        pools[brand] = [n for n in items if n["note_id"] not in evidenced and not n.get("disclosed")]
    # BRAND_BURST is tested on every note of every pool (Bonferroni), so a bigger world raises no more of them.
    burst_cut = rules.alpha / max(1, sum(len(p) for p in pools.values()))
    # First pass: every signal of every note, with its p-value against the brand's own norm. A brief is only
    # looked for where the context points at a paid post (a campaign's run-up, or a burst): elsewhere it could
    # not suspect the note, and looking costs a pass over the window's peers.
    rows: list[tuple[SuspectFinding, float, float, bool]] = []
    family: dict[int, tuple[str, datetime | None]] = {}  # the run-up (or the brand's bursts) a note is tested in
    for brand, items in sorted(by_brand.items()):
        first_by_creator: dict[str, datetime] = {}
        for n in items:
            first_by_creator.setdefault(str(n["creator_id"]), n["published"])
        pool = pools[brand]
        if not pool:
            continue
        norm = _norm(pool, rules)
        times = [n["published"] for n in pool]
        # Titles by their bigram sets, each distinct one once: similarities are computed per pair of distinct
        # titles (a brand's notes repeat a few templates), which keeps a big world's brand affordable.
        uid: dict[frozenset[str], int] = {}
        title_of = [uid.setdefault(_bigrams(str(n.get("title") or "")), len(uid)) for n in pool]
        grams = list(uid)
        total = Counter(title_of)
        row_cache: dict[int, list[float]] = {}
        by_creator: dict[str, list[int]] = defaultdict(list)
        for j, m in enumerate(pool):
            by_creator[str(m["creator_id"])].append(j)

        # creators within ``burst_days`` either side of each note, by a window sliding over the sorted pool
        span = timedelta(days=rules.burst_days)
        usual = norm.creators_per_day * (2 * rules.burst_days)
        in_window: Counter[str] = Counter()
        w_lo = w_hi = 0
        for i, n in enumerate(pool):
            t = n["published"]
            while w_hi < len(pool) and times[w_hi] <= t + span:
                in_window[str(pool[w_hi]["creator_id"])] += 1
                w_hi += 1
            while times[w_lo] < t - span:
                key = str(pool[w_lo]["creator_id"])
                in_window[key] -= 1
                if not in_window[key]:
                    del in_window[key]
                w_lo += 1
            near = len(in_window)
            p_burst = poisson_tail(near, usual)
            reasons: list[str] = []
            evidence: dict[str, Any] = {}
            first = first_by_creator[str(n["creator_id"])] == t
            ahead = [s for s in starts.get(brand, []) if timedelta(0) <= s - t <= timedelta(days=rules.lead_days)]
            ties_of = tie_times.get((str(n["creator_id"]), brand), [])
            if not ahead and p_burst > burst_cut:
                rows.append(
                    _finding(n, brand, reasons, evidence, first, ahead, ties_of, rules, (near, usual, 1.0, p_burst))
                )
                continue
            # Peers a brief would share: other creators' notes about the brand, without label or record, in the
            # same run-up to a campaign (or, without one, within ``brief_days``), each creator by its most alike
            # note. A brief goes to creators who wrote about the brand before as well as to new ones.
            if ahead:
                run_up = min(ahead)
                lo = bisect.bisect_left(times, run_up - timedelta(days=rules.lead_days))
                hi = bisect.bisect_left(times, run_up)
            else:
                lo = bisect.bisect_left(times, t - timedelta(days=rules.brief_days))
                hi = bisect.bisect_right(times, t + timedelta(days=rules.brief_days))
            sim_row = row_cache.get(title_of[i]) or row_cache.setdefault(
                title_of[i], [_alike(grams[title_of[i]], g) for g in grams]
            )
            nearest: dict[str, tuple[float, str]] = {}
            for j in range(lo, hi):
                m = pool[j]
                if m["creator_id"] == n["creator_id"]:
                    continue
                s = sim_row[title_of[j]]
                key = str(m["creator_id"])
                if key not in nearest or (s, m["note_id"]) > nearest[key]:
                    nearest[key] = (s, m["note_id"])
            sims = [(k, v) for v, k in nearest.values()]
            sims.sort(key=lambda x: (-x[1], x[0]))
            # This title's own baseline: how often the brand's notes *outside* the window (other creators) read
            # at least as alike to it. Its share among them, uncertain when few are alike (Beta posterior from a
            # Jeffreys prior), gives the chance that r of the m peers come as alike with no brief:
            # P(BetaBinomial(m, a, b) >= r). A title the brand's honest notes use all month is common at any scale;
            # a brief's words are rare outside its wave, so the test does not weaken as the brand's posting grows.
            p_brief, best, share = 1.0, 0, 0.0
            if len(sims) >= rules.brief_twins and sims[rules.brief_twins - 1][1] >= rules.title_similarity:
                outside = total.copy()
                outside.subtract(title_of[lo:hi])
                outside.subtract(title_of[j] for j in by_creator[str(n["creator_id"])] if j < lo or j >= hi)
                n_out = sum(outside.values())
                for r in range(rules.brief_twins, 5):
                    if r > len(sims) or sims[r - 1][1] < rules.title_similarity:
                        break
                    cut = sims[r - 1][1] - 1e-9
                    alike_out = sum(c for u, c in outside.items() if c > 0 and sim_row[u] >= cut)
                    q = norm.rarity(sims[r - 1][1])
                    a, b = alike_out + 0.5, n_out - alike_out + 0.5 * (1.0 - q) / q
                    p = 3.0 * betabinomial_tail(r, len(sims), a, b)
                    if p < p_brief:
                        p_brief, best, share = p, r, a / (a + b)
            if best:
                reasons.append("SAME_BRIEF")
                evidence["same_brief_notes"] = [
                    {"note_id": k, "title_similarity": round(v, 2)} for k, v in sorted(sims[:best])
                ]
                evidence["peers"] = len(sims)
                evidence["brand_share_as_alike"] = float(f"{share:.3g}")
                evidence["same_brief_p"] = float(f"{min(p_brief, 1.0):.3g}")
            rows.append(
                _finding(n, brand, reasons, evidence, first, ahead, ties_of, rules, (near, usual, p_brief, p_burst))
            )
            family[id(rows[-1][0])] = (brand, min(ahead) if ahead else None)
    # Second pass: thresholds shared out over the notes tested, so a bigger world raises no more false signals.
    for f, _, p_burst, _ in rows:
        if p_burst <= burst_cut:
            f.reasons.insert(0, "BRAND_BURST")
    # A brief is only tested where the context already points at a paid post (a first post right before a
    # campaign, or a burst): that context says nothing of titles, so those notes alone are tested, in families by
    # run-up (Benjamini and Bogomolov: run-ups selected by BH, Bonferroni within, see the module's note).
    context = {id(r[0]) for r in rows if r[3] or "BRAND_BURST" in r[0].reasons}
    sizes: Counter[Any] = Counter(family[id(f)] for f, _, _, _ in rows if id(f) in context)
    lowest: dict[Any, float] = {}
    for f, p_brief, _, _ in rows:
        if id(f) in context and "SAME_BRIEF" in f.reasons:
            lowest[family[id(f)]] = min(p_brief, lowest.get(family[id(f)], 1.0))
    if rules.control == "bonferroni":
        cuts = dict.fromkeys(sizes, rules.alpha / max(1, len(context)))
    else:
        cuts = family_cuts(sizes, lowest, rules.alpha)
    out: list[SuspectFinding] = []
    for f, p_brief, _, _ in rows:
        cut = cuts.get(family.get(id(f)), 0.0)
        f.suspected = "SAME_BRIEF" in f.reasons and p_brief <= cut and id(f) in context
        if "SAME_BRIEF" in f.reasons:
            f.evidence["same_brief_cut"] = float(f"{cut:.3g}")
        if f.reasons:
            out.append(f)
    out.sort(key=lambda f: (not f.suspected, f.note_id))
    return out


def _finding(
    n: dict[str, Any],
    brand: str,
    reasons: list[str],
    evidence: dict[str, Any],
    first: bool,
    ahead: list[datetime],
    ties: list[datetime],
    rules: SuspectRules,
    tests: tuple[int, float, float, float],
) -> tuple[SuspectFinding, float, float, bool]:
    """The note's finding with its context codes and evidence; ``tests``: creators near, usual creators near,
    the brief's p and the burst's p."""
    near, usual, p_brief, p_burst = tests
    t = n["published"]
    if ahead:
        reasons.append("FIRST_POST_BEFORE_CAMPAIGN" if first else "BEFORE_CAMPAIGN")
        evidence["campaign_starts_in_days"] = round(min((s - t).total_seconds() for s in ahead) / 86_400, 2)
    later = [x for x in ties if timedelta(0) < x - t <= timedelta(days=rules.later_tie_days)]
    if later:
        reasons.append("LATER_TIE")
        evidence["later_tie_in_days"] = round(min((x - t).total_seconds() for x in later) / 86_400, 2)
    evidence["burst_creators"] = near
    evidence["usual_creators"] = round(usual, 2)
    evidence["burst_p"] = float(f"{p_burst:.3g}")
    return SuspectFinding(n["note_id"], n["creator_id"], brand, False, reasons, evidence), p_brief, p_burst, bool(ahead)
