"""Privacy-preserving identity: keyed pseudonyms (the click-id chain is resolved by the engine)."""

from hongmao.identity.pseudonym import Pseudonymizer, normalize, pseudonymize

__all__ = ["Pseudonymizer", "normalize", "pseudonymize"]
