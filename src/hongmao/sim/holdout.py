"""Campaign holdouts in the simulator: the one shared algorithm of :mod:`hongmao.identity.holdout`.

The community side (this simulator), the marketplace side and the measuring side (``hongmao lift``) must agree
on who is held out, so the assignment lives in ``hongmao.identity`` and is re-exported here.
"""

from __future__ import annotations

from hongmao.identity.holdout import holdout_draw, holdout_mask, in_holdout

__all__ = ["holdout_draw", "holdout_mask", "in_holdout"]
