"""The group the clean room blinds in: libsodium's Curve25519 through PyNaCl, on prime-order points.

Every operation is a libsodium call; there is no curve arithmetic here.

* ``hash_to_group`` is the random-oracle construction of RFC 9380 on Edwards25519 (two Elligator 2 maps of a
  64-byte hash, added; libsodium's maps land in the prime-order subgroup, so no one knows a relation between
  two identifiers' points), sent to its Montgomery u-coordinate.
* Blinding is X25519 (``crypto_scalarmult``): ``X25519(b, X25519(a, u)) == X25519(a, X25519(b, u))`` because the
  clamped scalars multiply. Clamping clears the cofactor, so a hostile value from the other side (a small-order
  point, a point on the twist) teaches it nothing about the key — X25519 is built to need no validation —
  and libsodium refuses the all-zero results of small-order input.

Why not the obvious choices: PyNaCl exposes no ristretto255 functions, and its Edwards multiplication
(``crypto_scalarmult_ed25519_noclamp``) validates subgroup membership on every call, costing three X25519s:
it missed the goal of two minutes per million ids per side on this machine (see docs/cleanroom.md).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from nacl import bindings as sodium
from nacl.exceptions import CryptoError

from hongmao.errors import ContractError

#: Domain tag so these points never coincide with another protocol's hash of the same text.
DOMAIN = b"hongmao-cleanroom/v1|"
POINT_BYTES = 32
SCALAR_BYTES = 32


def hash_to_group(identifier: str) -> bytes:
    """The point (u-coordinate) of a normalised identifier (see :func:`hongmao.identity.pseudonym.normalize`)."""
    h = hashlib.sha512(DOMAIN + identifier.encode("utf-8")).digest()
    edwards = sodium.crypto_core_ed25519_add(
        sodium.crypto_core_ed25519_from_uniform(h[:32]), sodium.crypto_core_ed25519_from_uniform(h[32:])
    )
    return sodium.crypto_sign_ed25519_pk_to_curve25519(edwards)


def new_scalar() -> bytes:
    """A fresh secret key (32 random bytes; X25519 clamps it on use)."""
    return secrets.token_bytes(SCALAR_BYTES)


def blind_one(point: bytes, scalar: bytes) -> bytes:
    return blind([point], scalar)[0]


def blind(points: Iterable[bytes], scalar: bytes) -> list[bytes]:
    """Each point raised to ``scalar`` (in order); a value that is not a usable point names its row."""
    points = list(points)
    if any(len(p) != POINT_BYTES for p in points):
        bad = next(i for i, p in enumerate(points) if len(p) != POINT_BYTES)
        raise ContractError(f"value {bad + 1} is not a valid group element")
    out = blind_buffer(b"".join(points), scalar)
    return [out[i : i + POINT_BYTES] for i in range(0, len(out), POINT_BYTES)]


def blind_buffer(points: bytes, scalar: bytes) -> bytes:
    """:func:`blind` over one buffer of concatenated 32-byte points, answering one buffer: what crosses a
    process boundary is then two bytes objects, not a million small ones."""
    if len(points) % POINT_BYTES:
        raise ContractError(f"a buffer of {len(points)} bytes is not a whole number of group elements")
    mult, view = sodium.crypto_scalarmult, memoryview(points)
    out = bytearray(len(points))
    i = 0
    try:
        for i in range(0, len(points), POINT_BYTES):
            out[i : i + POINT_BYTES] = mult(scalar, bytes(view[i : i + POINT_BYTES]))
    except (CryptoError, TypeError, ValueError) as exc:
        raise ContractError(f"value {i // POINT_BYTES + 1} is not a valid group element") from exc
    return bytes(out)


def hash_and_blind(identifiers: Iterable[str], scalar: bytes) -> list[bytes]:
    """``H(x)^scalar`` for each normalised identifier, in order."""
    out = hash_and_blind_buffer(identifiers, scalar)
    return [out[i : i + POINT_BYTES] for i in range(0, len(out), POINT_BYTES)]


def hash_and_blind_buffer(identifiers: Iterable[str], scalar: bytes) -> bytes:
    """``H(x)^scalar`` of each normalised identifier, concatenated (one loop: the hot path of a million ids).

    Per identifier this is four libsodium calls that cost about the same as three X25519s (the Edwards to
    Montgomery step checks subgroup membership); see docs/cleanroom.md for the measured split."""
    add, uni, mult, to_u, sha = (
        sodium.crypto_core_ed25519_add,
        sodium.crypto_core_ed25519_from_uniform,
        sodium.crypto_scalarmult,
        sodium.crypto_sign_ed25519_pk_to_curve25519,
        hashlib.sha512,
    )
    out = bytearray()
    for x in identifiers:
        h = sha(DOMAIN + x.encode("utf-8")).digest()
        out += mult(scalar, to_u(add(uni(h[:32]), uni(h[32:]))))
    return bytes(out)


def lake_pseudonym(double: bytes) -> str:
    """The lake's pseudonym of a doubly blinded value: 32 hex digits, the contract's pseudonym format.

    Keyless on purpose: the value it hashes already needs both parties' secrets to compute."""
    return hashlib.sha256(b"hongmao-cleanroom/lake|" + double).hexdigest()[:32]
