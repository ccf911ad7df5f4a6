"""The clean room: two platforms match people without a shared secret (ECDH private set intersection).

Three parties, each with only its own secret; the protocol messages are files::

    community (key a)                  marketplace (key b)                 measurer (no key)
    ids ─ blind ─▶ C.blinded  H(x)^a ─▶ reblind ─▶ C.double  H(x)^ab ─────▶ join ─▶ tables + match report
    C.index (row → own ref) ───────────────────────────────────────────────▶
    reblind ◀─ M.blinded  H(y)^b ◀──── blind ◀─ ids
    └────────▶ M.double  H(y)^ba ──────────────────────────────────────────▶
                                       M.index (row → own ref) ────────────▶

* ``H`` hashes a normalised identifier to a prime-order point of libsodium's Curve25519 (:mod:`.group`);
  blinding is X25519, so ``(H^a)^b == (H^b)^a`` and equal people meet only as doubly blinded values.
* Each side sends its events under its *own* keyed pseudonyms ("refs", HMAC under a key only it holds) and an
  index from row number to ref; the measurer maps refs to lake pseudonyms (a hash of the doubly blinded value),
  so the lake holds neither raw identifiers nor anything a single party can recompute from a phone number.
* Keys carry ids (:mod:`.keys`); rotation re-blinds under a new key and retires the old one, while the join
  carries earlier lake pseudonyms forward so history and the click-id chain (click → visit → order, which
  never needed a person) stay whole.

The shared-key HMAC of :mod:`hongmao.identity.pseudonym` remains for a single party owning both sides.
"""

from hongmao.cleanroom.group import blind, hash_to_group, new_scalar
from hongmao.cleanroom.keys import PartyKeys
from hongmao.measure.threshold import DEFAULT_K, suppress

__all__ = ["DEFAULT_K", "PartyKeys", "blind", "hash_to_group", "new_scalar", "suppress"]
