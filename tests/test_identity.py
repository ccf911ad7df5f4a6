"""Keyed pseudonyms, and proof that no raw identifier is ever stored or logged."""

from __future__ import annotations

import csv
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

import hongmao
from conftest import TEST_KEY
from hongmao.cli.app import app
from hongmao.errors import ConfigError
from hongmao.identity import Pseudonymizer, normalize, pseudonymize

PHONES = ["13800138000", "13912345678", "15000001111"]


def test_same_person_same_pseudonym_across_formats() -> None:
    forms = ["13800138000", "+86 138 0013 8000", "0086-138-0013-8000", "86 13800138000"]
    assert len({pseudonymize(p, TEST_KEY, "phone") for p in forms}) == 1
    assert pseudonymize("A@B.com", TEST_KEY, "email") == pseudonymize("a@b.com ", TEST_KEY, "email")


def test_pseudonym_depends_on_key_and_kind() -> None:
    value = "13800138000"
    a = pseudonymize(value, TEST_KEY, "phone")
    assert a != pseudonymize(value, TEST_KEY + "x", "phone")
    assert a != pseudonymize(value, TEST_KEY, "account")
    assert len(a) == 32 and int(a, 16) >= 0


def test_known_vector() -> None:
    # HMAC-SHA256(key, "account:42") truncated to 128 bits, computed independently with the standard library.
    import hashlib
    import hmac

    want = hmac.new(TEST_KEY.encode(), b"account:42", hashlib.sha256).hexdigest()[:32]
    assert pseudonymize("42", TEST_KEY) == want


def test_short_key_refused_and_repr_hides_key() -> None:
    with pytest.raises(ConfigError):
        pseudonymize("1", "short")
    assert TEST_KEY not in repr(Pseudonymizer(TEST_KEY))


@given(st.text(min_size=1).filter(lambda s: s.strip()))
def test_accounts_normalise_stably(value: str) -> None:
    assert normalize(value, "account") == normalize(value.strip(), "account")


def test_pseudonymize_cli_then_ingest_stores_no_raw_identifier(
    tmp_path: Path, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    raw = tmp_path / "orders_raw.jsonl"
    with raw.open("w", encoding="utf-8") as fh:
        for i, phone in enumerate(PHONES):
            fh.write(
                json.dumps(
                    {
                        "id": f"o{i}",
                        "type": "market.order",
                        "source": "market:jd",
                        "time": "2025-06-01T10:00:00+08:00",
                        "data": {
                            "order_id": f"o{i}",
                            "user": phone,
                            "lines": [{"item_id": "i", "price": 1}],
                            "amount": 1,
                        },
                    }
                )
                + "\n"
            )
    runner = CliRunner()
    # Raw identifiers are refused by ingest itself, and the reject does not repeat them.
    refused = runner.invoke(app, ["ingest", str(raw), "--data", str(data_dir), "--json"], catch_exceptions=False)
    assert refused.exit_code == 1 and json.loads(refused.stdout)["rejected"] == 3
    hashed = tmp_path / "orders.jsonl"
    result = runner.invoke(
        app, ["pseudonymize", str(raw), "--columns", "user", "--kind", "phone", "--out", str(hashed)]
    )
    assert result.exit_code == 0, result.output
    ok = runner.invoke(app, ["ingest", str(hashed), "--data", str(data_dir), "--json"], catch_exceptions=False)
    assert ok.exit_code == 0 and json.loads(ok.stdout)["accepted"] == 3
    assert hongmao.stats(data_dir)["events"] == {"market.order": 3}
    for phone in PHONES:
        needle = phone.encode()
        for path in data_dir.rglob("*"):
            if path.is_file():
                assert needle not in path.read_bytes(), f"{phone} found in {path}"
        assert phone not in refused.output + ok.output + caplog.text


def test_pseudonymize_csv_via_subprocess(tmp_path: Path) -> None:
    src = tmp_path / "users.csv"
    with src.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["phone", "city"])
        for p in PHONES:
            w.writerow([p, "杭州"])
    env_key = tmp_path / "key"
    env_key.write_text(TEST_KEY + "\n", encoding="utf-8")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "hongmao.cli",
            "pseudonymize",
            str(src),
            "--columns",
            "phone",
            "--kind",
            "phone",
            "--key-file",
            str(env_key),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = list(csv.DictReader(proc.stdout.splitlines()))
    assert [r["phone"] for r in rows] == [pseudonymize(p, TEST_KEY, "phone") for p in PHONES]
    assert [r["city"] for r in rows] == ["杭州"] * 3
    assert not any(p in proc.stdout + proc.stderr for p in PHONES)
