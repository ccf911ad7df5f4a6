"""The trust guard: disclosure (报备), the deceptive-seeding score (种骗), fake engagement (水军) and the feed's
commercial load cap (轻商业化). See docs/trust.md.

This package is the trust math and nothing else: it judges rows it is given and runs no query, opens no lake
and imports no engine, web framework or database driver. The run over a lake is
:mod:`hongmao.engine.trust` (queries on a session, then these judgements); the library calls over a data
directory are in :mod:`hongmao.api` (``trust_report``, ``trust_inputs``, ``flagged_accounts``):

* :func:`assemble` — every note and creator with flags, score and evidence, ranked, from judged inputs;
* :func:`rerank` — the commercial load cap on a scored candidate list.
"""

from __future__ import annotations

from hongmao.trust.disclosure import DisclosureFinding
from hongmao.trust.engagement import EngagementRules
from hongmao.trust.report import FLAGS, TrustInputs, TrustParams, assemble, filter_flags, flagged_users
from hongmao.trust.rerank import Feed, LoadCap, greedy_indices, rerank, rerank_indices
from hongmao.trust.shrinkage import ScoreRules

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
    "flagged_users",
    "greedy_indices",
    "rerank",
    "rerank_indices",
]
