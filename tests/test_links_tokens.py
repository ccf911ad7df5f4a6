"""Link tokens: signature, tampering, key rotation, and where keys come from."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from hongmao.errors import ConfigError, TokenError
from hongmao.links import keys
from hongmao.links.tokens import Claims, KeyRing

OLD = ("k1", b"old-secret-0123456789")
NEW = ("k2", b"new-secret-0123456789")
CLAIMS = Claims("lk0001", "tmall", "https://detail.tmall.com/item.htm?id=42", 1_900_000_000)


def test_a_signed_token_verifies_to_its_claims() -> None:
    ring = KeyRing([OLD])
    token = ring.sign(CLAIMS)
    assert ring.verify(token) == CLAIMS
    assert ring.verify(ring.sign(Claims("lk2", "jd", "https://item.jd.com/1.html"))).expires is None


def test_a_token_is_url_safe() -> None:
    token = KeyRing([OLD]).sign(Claims("lk1", "generic", "https://shop.example.com/p?a=1&b=中", None))
    assert all(c.isalnum() or c in "-_." for c in token)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize("part", [0, 1, 2])
def test_changing_any_part_of_a_token_breaks_it(part: int) -> None:
    ring = KeyRing([OLD, ("k9", b"other-secret-0123456789")])
    pieces = ring.sign(CLAIMS).split(".")
    if part == 1:
        pieces[1] = "k9"  # another key of the ring: the MAC no longer matches
    else:
        original = pieces[part]
        pieces[part] = original[:5] + ("A" if original[5] != "A" else "B") + original[6:]
    with pytest.raises(TokenError):
        ring.verify(".".join(pieces))


def test_a_forged_payload_with_the_old_mac_is_refused() -> None:
    ring = KeyRing([OLD])
    _, kid, mac = ring.sign(CLAIMS).split(".")
    evil = _b64(json.dumps([1, "lk0001", "tmall", "https://evil.example.com/", 0]).encode())
    with pytest.raises(TokenError, match="signature"):
        ring.verify(f"{evil}.{kid}.{mac}")


def test_only_the_canonical_mac_encoding_is_accepted() -> None:
    ring = KeyRing([OLD])
    token = ring.sign(CLAIMS)
    for variant in (token + "=", token + "==", token + "!", token + "%"):
        with pytest.raises(TokenError):
            ring.verify(variant)


@pytest.mark.parametrize("token", ["", "abc", "a.b", "a.b.c.d", "..", "中.k1.x", "a.k1.", "x" * 5000])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(TokenError):
        KeyRing([OLD]).verify(token)


def test_a_well_signed_token_with_a_bad_payload_is_refused() -> None:
    ring = KeyRing([OLD])
    for body in (b"not json", json.dumps([2, "a", "b", "c", 0]).encode(), json.dumps([1, "a", "b"]).encode()):
        payload = _b64(body)
        mac = ring._mac("k1", f"{payload}.k1".encode())
        assert mac is not None
        with pytest.raises(TokenError):
            ring.verify(f"{payload}.k1.{_b64(mac)}")


def test_rotation_new_key_signs_old_keys_still_verify() -> None:
    before = KeyRing([OLD])
    old_token = before.sign(CLAIMS)
    after = KeyRing([NEW, OLD])
    new_token = after.sign(CLAIMS)
    assert new_token.split(".")[1] == "k2"
    assert after.verify(old_token) == after.verify(new_token) == CLAIMS
    with pytest.raises(TokenError, match="unknown key"):
        before.verify(new_token)
    with pytest.raises(TokenError, match="unknown key"):
        KeyRing([NEW]).verify(old_token)  # once the old key is retired, its links stop


def test_key_ring_parsing_and_checks() -> None:
    ring = KeyRing.parse(" k2:new-secret-0123456789 , k1:old-secret-0123456789,")
    assert ring.kids == ["k2", "k1"] and ring.signing_kid == "k2"
    assert "secret" not in repr(ring)
    for bad in (
        "",
        "k1",
        "k1:short",
        "bad kid:long-enough-secret-1234",
        "k1:aaaaaaaaaaaaaaaaaa,k1:bbbbbbbbbbbbbbbbbbbb",
    ):
        with pytest.raises(ConfigError):
            KeyRing.parse(bad)


def test_without_configuration_a_private_key_file_is_made_once(tmp_path: Path) -> None:
    ring = keys.load(tmp_path)
    path = keys.key_file(tmp_path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert keys.load(tmp_path).kids == ring.kids == ["k1"]
    token = ring.sign(CLAIMS)
    kid = keys.rotate(tmp_path)
    rotated = keys.load(tmp_path)
    assert kid == "k2" and rotated.kids == ["k2", "k1"] and rotated.verify(token) == CLAIMS
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_configured_keys_win_and_cannot_be_rotated_in_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HONGMAO_LINK_KEYS", "prod2:" + "x" * 20 + ",prod1:" + "y" * 20)
    assert keys.load(tmp_path).kids == ["prod2", "prod1"]
    assert not keys.key_file(tmp_path).exists()
    with pytest.raises(ConfigError, match="HONGMAO_LINK_KEYS"):
        keys.rotate(tmp_path)


def test_serving_never_invents_a_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        keys.load(tmp_path, create=False)
