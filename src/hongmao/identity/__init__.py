"""Privacy-preserving identity: keyed pseudonyms and keyed campaign holdouts (the click-id chain is resolved by
the engine)."""

from hongmao.identity.holdout import holdout_draw, holdout_mask, in_holdout
from hongmao.identity.pseudonym import Pseudonymizer, normalize, pseudonymize

__all__ = ["Pseudonymizer", "holdout_draw", "holdout_mask", "in_holdout", "normalize", "pseudonymize"]
