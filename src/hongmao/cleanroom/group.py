"""The group the clean room blinds in: libsodium's prime-order subgroup of Ed25519, through PyNaCl.

Every operation is a libsodium call; there is no curve arithmetic here. ``hash_to_group`` is the
random-oracle construction of RFC 9380 (two Elligator 2 maps of a 64-byte hash, added), so no one knows a
relation between two identifiers' points. Blinding is scalar multiplication without clamping, which keeps
``blind(blind(p, a), b) == blind(blind(p, b), a)`` exact and lets a key be inverted.

PyNaCl does not expose libsodium's ristretto255 functions; the Ed25519 subgroup is the same prime-order group
(order 2^252 + ...), and libsodium's maps land in it, refusing small-order points on multiplication.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from nacl import bindings as sodium
from nacl.exceptions import RuntimeError as SodiumRuntimeError

from hongmao.errors import ContractError

#: Domain tag so these points never coincide with another protocol's hash of the same text.
DOMAIN = b"hongmao-cleanroom/v1|"
POINT_BYTES = 32
SCALAR_BYTES = 32


def hash_to_group(identifier: str) -> bytes:
    """The point of a normalised identifier (see :func:`hongmao.identity.pseudonym.normalize`)."""
    h = hashlib.sha512(DOMAIN + identifier.encode("utf-8")).digest()
    return sodium.crypto_core_ed25519_add(
        sodium.crypto_core_ed25519_from_uniform(h[:32]), sodium.crypto_core_ed25519_from_uniform(h[32:])
    )


def new_scalar() -> bytes:
    """A uniformly random non-zero secret scalar."""
    while True:
        scalar = sodium.crypto_core_ed25519_scalar_reduce(secrets.token_bytes(64))
        if any(scalar):
            return scalar


def invert(scalar: bytes) -> bytes:
    return sodium.crypto_core_ed25519_scalar_invert(scalar)


def blind_one(point: bytes, scalar: bytes) -> bytes:
    if len(point) != POINT_BYTES:
        raise ContractError(f"a blinded value must be {POINT_BYTES} bytes, got {len(point)}")
    try:
        return sodium.crypto_scalarmult_ed25519_noclamp(scalar, point)
    except SodiumRuntimeError as exc:  # not a point of the group, or of small order: a malformed or hostile value
        raise ContractError("a blinded value is not a valid group element") from exc


def blind(points: Iterable[bytes], scalar: bytes) -> list[bytes]:
    """Each point raised to ``scalar`` (in order)."""
    mult = sodium.crypto_scalarmult_ed25519_noclamp
    out: list[bytes] = []
    try:
        for p in points:
            out.append(mult(scalar, p))
    except (SodiumRuntimeError, TypeError) as exc:
        raise ContractError(f"value {len(out) + 1} is not a valid group element") from exc
    return out


def hash_and_blind(identifiers: Iterable[str], scalar: bytes) -> list[bytes]:
    """``H(x)^scalar`` for each normalised identifier."""
    add, uni, mult, sha = (
        sodium.crypto_core_ed25519_add,
        sodium.crypto_core_ed25519_from_uniform,
        sodium.crypto_scalarmult_ed25519_noclamp,
        hashlib.sha512,
    )
    out = []
    for x in identifiers:
        h = sha(DOMAIN + x.encode("utf-8")).digest()
        out.append(mult(scalar, add(uni(h[:32]), uni(h[32:]))))
    return out


def lake_pseudonym(double: bytes) -> str:
    """The lake's pseudonym of a doubly blinded value: 32 hex digits, the contract's pseudonym format.

    Keyless on purpose: the value it hashes already needs both parties' secrets to compute."""
    return hashlib.sha256(b"hongmao-cleanroom/lake|" + double).hexdigest()[:32]
