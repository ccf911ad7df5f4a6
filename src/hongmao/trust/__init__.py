"""The trust guard: disclosure (报备), the deceptive-seeding score (种骗), fake engagement (水军) and the feed's
commercial load cap (轻商业化). See docs/trust.md.

Library calls (the CLI ``hongmao trust`` and the operator page read these):

* :func:`report` — every note and creator with flags, score and evidence, ranked;
* :func:`flagged_accounts` — pseudonyms of flagged fake-engagement accounts, to leave out of attribution and the
  funnel (``exclude_users=`` of ``hongmao.engine.attribute_segments`` and ``hongmao.engine.funnel.funnel``);
* :func:`rerank` — the commercial load cap on a scored candidate list.

The math modules (disclosure, engagement, shrinkage, rerank) import no engine, web framework or database driver;
:mod:`hongmao.trust.report` calls the engine lazily.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from hongmao.trust.disclosure import DisclosureFinding
from hongmao.trust.engagement import EngagementRules
from hongmao.trust.report import FLAGS, TrustInputs, TrustParams, assemble, filter_flags, flagged_users, trust_segments
from hongmao.trust.rerank import Feed, LoadCap, greedy_indices, rerank, rerank_indices
from hongmao.trust.shrinkage import ScoreRules


def _segments(data_dir: str | Path | None, catalog_url: str | None) -> list[Path]:
    from hongmao.api import open_lake

    with open_lake(data_dir, catalog_url) as lake:
        return list(lake.segment_paths())


def inputs(
    data_dir: str | Path | None = None, params: TrustParams | None = None, catalog_url: str | None = None
) -> TrustInputs:
    """The judged findings behind the report (for callers that want more than the JSON)."""
    return trust_segments(_segments(data_dir, catalog_url), params)


def report(
    data_dir: str | Path | None = None,
    params: TrustParams | None = None,
    *,
    flags: Iterable[str] | None = None,
    include_accounts: bool = False,
    catalog_url: str | None = None,
) -> dict[str, Any]:
    """The trust report of the lake in ``data_dir``.

    ``{"notes": [{"note_id", "creator_id", "brand", "flags", "score", "evidence"}], "creators": [...],
    "accounts": {...}, "summary": {...}}``. ``flags`` keeps only entries carrying one of them;
    ``include_accounts`` lists the flagged accounts' pseudonyms and evidence.
    """
    params = params or TrustParams()
    out = assemble(inputs(data_dir, params, catalog_url), params, include_accounts=include_accounts)
    return filter_flags(out, flags) if flags is not None else out


def flagged_accounts(
    data_dir: str | Path | None = None, params: TrustParams | None = None, catalog_url: str | None = None
) -> list[str]:
    """Pseudonyms of the accounts flagged for fake engagement (pass them as ``exclude_users``)."""
    return flagged_in_segments(_segments(data_dir, catalog_url), params)


def flagged_in_segments(segments: Sequence[Path], params: TrustParams | None = None) -> list[str]:
    """Pseudonyms of the accounts flagged for fake engagement in these lake segments."""
    from hongmao.engine import backend
    from hongmao.trust.report import judge_accounts_in

    if not segments:
        return []
    con = backend.connect()
    try:
        accounts = judge_accounts_in(con, backend.events_table(con, segments), (params or TrustParams()).engagement)
    finally:
        con.disconnect()
    return sorted(a.user for a in accounts if a.flagged)


__all__ = [
    "FLAGS",
    "DisclosureFinding",
    "EngagementRules",
    "Feed",
    "LoadCap",
    "ScoreRules",
    "TrustInputs",
    "TrustParams",
    "assemble",
    "filter_flags",
    "flagged_accounts",
    "flagged_users",
    "greedy_indices",
    "inputs",
    "report",
    "rerank",
    "rerank_indices",
    "trust_segments",
]
