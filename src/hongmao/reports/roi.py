"""A campaign's ROIs, kept apart by name, and the holdout key the incremental one needs.

Three ratios share "net GMV ÷ spend" and nothing else; they answer different questions:

* **attributed ROI** (归因ROI): the net GMV the chosen attribution model credits to the campaign's notes, over
  the whole lake, ÷ its spend. Credit is a share of orders that *followed* a touch, bought anyway or not.
* **attributed ROI(T+x)** (归因ROI(T+x)): the same credit (a rule model) counting only orders from the
  campaign's start to x days after its end, x = the decision cycle of the brand's category
  (:func:`hongmao.engine.cycles.roi_at_cycles`, ``hongmao roi``).
* **incremental ROI** (增量ROI): the holdout lift's incremental net GMV ÷ spend
  (:func:`hongmao.engine.campaign.campaign_lift`, ``hongmao lift --campaign ID --windows-from-cycles``):
  what the campaign *caused*, treated people against randomly held-out ones over the same T+x window.

The overview's ratio is a fourth: every note of the brand (organic ones too) credited, ÷ all campaigns' spend.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hongmao.engine.session import Session
from hongmao.engine.windows import Windows

#: Rule model used for ROI(T+x) when the chosen model is a data-driven one (it has no per-window split).
CYCLE_FALLBACK_MODEL = "linear"


def holdout_key_beside(data_dir: Path) -> str | None:
    """The holdout key of a simulated world laid out beside the lake (``hongmao demo``'s DIR/world next to
    DIR/lake), else None. A brand's own lake sets ``HONGMAO_HOLDOUT_KEY`` instead."""
    path = data_dir.parent / "world" / "truth" / "world.json"
    try:
        key = json.loads(path.read_text(encoding="utf-8"))["config"]["holdout_key"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return key if isinstance(key, str) and len(key.encode("utf-8")) >= 16 else None


def configured_holdout_key(data_dir: Path) -> str | None:
    """The holdout key from the settings (``HONGMAO_HOLDOUT_KEY[_FILE]``), else a simulated world's beside the
    lake, else None (the incremental ROI is then shown as unavailable, with the reason)."""
    from hongmao import settings
    from hongmao.errors import ConfigError

    try:
        return settings.holdout_key()
    except ConfigError:
        return holdout_key_beside(data_dir)


def cycle_rois(session: Session, model: str) -> dict[str, dict[str, Any]]:
    """ROI(T+x) of every campaign in the session, by campaign id, x = its category's decision cycle."""
    from hongmao.engine import credit
    from hongmao.engine.cycles import SEEDING_KINDS, decision_cycles, roi_at_cycles

    rule = model if model in credit.RULE_MODELS else CYCLE_FALLBACK_MODEL
    cycles = decision_cycles(session, touches=SEEDING_KINDS)
    rows = roi_at_cycles(session, cycles, model=rule)
    return {r["campaign_id"]: r for r in rows}


def campaign_lift(
    session: Session, campaign_id: str, key: str, x_days: dict[str, float], min_group: int
) -> dict[str, Any]:
    """The campaign's holdout lift over the T+x window (``x_days``: category -> days), as a dict; groups under
    ``min_group`` people (the server's privacy threshold) are suppressed."""
    from hongmao.engine.campaign import campaign_lift as run

    windows = Windows.with_category_days(x_days) if x_days else Windows()
    out: dict[str, Any] = run(session, campaign_id, key, windows=windows, min_group=min_group).to_dict()
    return out
