"""Creating, revoking and resolving links through the library and the ``hongmao link`` command, on a real
catalog; the one-hour de-duplication of rate metrics; the in-memory revocation set and share-code cache."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from conftest import event
from enginekit import on, write_segment
from hongmao.engine.clicks import counted_clicks
from hongmao.engine.funnel import funnel
from hongmao.errors import DestinationError, LinkError
from hongmao.lake import Lake
from hongmao.links import create_link, get_link, keys, resolve_share_code, revoke_link
from hongmao.links.live import Revocations, ShareCodes, code_lookup
from hongmao.links.registry import normalize_code

HONGMAO = shutil.which("hongmao") or str(Path(sys.executable).with_name("hongmao"))
U1, U2 = "a" * 32, "b" * 32


def lake_events(data_dir: Path) -> list[dict[str, Any]]:
    with Lake.open(data_dir) as lake:
        return [row for path in lake.segment_paths() for row in pq.read_table(path).to_pylist()]


def test_creating_a_link_records_it_and_writes_link_created_to_the_lake(data_dir: Path) -> None:
    link = create_link("note-9", "651", "tmall", creator_id="c-1", campaign_id="camp-2", data_dir=data_dir)
    assert set(link.to_dict()) == {"link_id", "token", "url", "share_code"}
    assert link.url == f"http://127.0.0.1:8000/l/{link.token}"
    assert link.record.url == "https://detail.tmall.com/item.htm?id=651"
    [row] = lake_events(data_dir)
    assert (row["type"], row["id"], row["link_id"], row["note_id"]) == (
        "link.created",
        f"link.created/{link.link_id}",
        link.link_id,
        "note-9",
    )
    assert (row["creator_id"], row["campaign_id"], row["item_id"]) == ("c-1", "camp-2", "651")
    claims = keys.load(data_dir).verify(link.token)
    assert (claims.link_id, claims.market, claims.url, claims.expires) == (link.link_id, "tmall", link.record.url, None)


def test_expiry_travels_in_the_token_and_the_event(data_dir: Path) -> None:
    # Bracketed by the clock on both sides, so it holds on any day (a year boundary included) at any speed.
    before = datetime.now(UTC)
    link = create_link("n", "651", "tmall", expires=timedelta(days=30), data_dir=data_dir)
    after = datetime.now(UTC)
    claims = keys.load(data_dir).verify(link.token)
    assert claims.expires is not None
    assert int((before + timedelta(days=30)).timestamp()) <= claims.expires <= (after + timedelta(days=30)).timestamp()
    recorded = datetime.fromisoformat(json.loads(lake_events(data_dir)[0]["data"])["expires"])
    assert int(recorded.timestamp()) == claims.expires
    with pytest.raises(LinkError, match="past"):
        create_link("n", "651", "tmall", expires=datetime(2020, 1, 1, tzinfo=UTC), data_dir=data_dir)


def test_a_disallowed_destination_creates_nothing(data_dir: Path) -> None:
    with pytest.raises(DestinationError):
        create_link("n", "1", "tmall", "https://evil.example.com/", data_dir=data_dir)
    assert not (data_dir / "catalog.sqlite").exists()


def test_share_codes_resolve_as_people_paste_them(data_dir: Path) -> None:
    link = create_link("n", "600123", "taobao", data_dir=data_dir)
    code = link.share_code
    pasted = f"【红猫】￥{code[:4].lower()}-{code[4:]}￥ 打开淘宝"  # the whole 口令 text, as copied
    assert normalize_code(pasted) == code
    assert resolve_share_code(pasted, data_dir=data_dir).link_id == link.link_id
    assert normalize_code(f"{code} and words") is None
    assert get_link(code.replace("0", "O").replace("1", "I"), data_dir=data_dir).link_id == link.link_id
    with pytest.raises(LinkError):
        resolve_share_code("ZZZZZZZZ", data_dir=data_dir)
    with pytest.raises(LinkError, match="not a share code"):
        resolve_share_code("hello", data_dir=data_dir)


def test_revocation_reaches_a_serving_process_within_its_poll(data_dir: Path) -> None:
    first = create_link("n", "651", "tmall", data_dir=data_dir)
    second = create_link("n", "652", "tmall", data_dir=data_dir)
    with Lake.open(data_dir) as lake:
        revoked = Revocations(lake, interval=0.05)
        revoked.start()
        try:
            assert first.link_id not in revoked
            assert revoke_link(first.link_id, "brand request", data_dir=data_dir) is True
            assert revoke_link(first.link_id, data_dir=data_dir) is False
            # A generous deadline, not a count of polls: a loaded machine may take many of them.
            deadline = time.monotonic() + 30
            while first.link_id not in revoked and time.monotonic() < deadline:
                asyncio.run(asyncio.sleep(0.02))
            assert first.link_id in revoked and second.link_id not in revoked
            revoked.refresh(full=True)
            assert len(revoked) == 1
        finally:
            revoked.stop()
    assert get_link(first.link_id, data_dir=data_dir).revoked_at is not None
    with pytest.raises(LinkError, match="no link"):
        revoke_link("lk-nope", data_dir=data_dir)


def test_share_code_cache_looks_up_once_and_remembers_misses(data_dir: Path) -> None:
    link = create_link("n", "651", "tmall", data_dir=data_dir)
    with Lake.open(data_dir) as lake:
        calls: list[str] = []
        real = code_lookup(lake)

        def counting(code: str) -> str | None:
            calls.append(code)
            return real(code)

        codes = ShareCodes(counting)

        async def run() -> list[str | None]:
            return [
                await codes(text) for text in (link.share_code, link.share_code.lower(), "ZZZZZZZZ", "ZZZZZZZZ", "x")
            ]

        assert asyncio.run(run()) == [link.token, link.token, None, None, None]
        assert calls == [link.share_code, "ZZZZZZZZ"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HONGMAO, *args], capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})


def test_the_link_command(data_dir: Path) -> None:
    proc = cli(
        "link",
        "create",
        "--note",
        "n1",
        "--item",
        "100012043978",
        "--market",
        "jd",
        "--creator",
        "c1",
        "--expires",
        "7d",
        "--data",
        str(data_dir),
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert list(out) == ["link_id", "token", "url", "share_code"]
    assert out["url"].endswith("/l/" + out["token"])
    shown = json.loads(cli("link", "show", out["share_code"], "--data", str(data_dir), "--json").stdout)
    assert shown["url"] == "https://item.jd.com/100012043978.html" and shown["expires"] is not None
    assert cli("link", "revoke", out["link_id"], "--data", str(data_dir)).returncode == 0
    refused = cli(
        "link",
        "create",
        "--note",
        "n1",
        "--item",
        "1",
        "--market",
        "jd",
        "--url",
        "https://u.jd.com/x",
        "--data",
        str(data_dir),
    )
    assert refused.returncode == 1 and "not an allowed" in refused.stderr
    bad_expiry = cli(
        "link", "create", "--note", "n", "--item", "1", "--market", "jd", "--expires", "soon", "--data", str(data_dir)
    )
    assert bad_expiry.returncode == 2
    assert json.loads(cli("link", "fold", "--data", str(data_dir), "--json").stdout)["clicks"] == 0
    assert "k2" in cli("link", "rotate-key", "--data", str(data_dir)).stdout


# --- the one-hour de-duplication of rate metrics ---------------------------------------------------------


def at(minutes: float) -> str:
    return (datetime(2025, 6, 1, tzinfo=UTC) + timedelta(minutes=minutes)).isoformat()


def click(
    minutes: float, link: str = "l1", user: str | None = U1, click_id: str | None = None, bot: bool = False
) -> dict[str, Any]:
    data: dict[str, Any] = {"click_id": click_id or f"k{minutes}-{link}-{user}", "link_id": link, "bot": bot}
    if user:
        data["user"] = user
    return event("link.click", at(minutes), **data)


def counted(tmp_path: Path, events: list[dict[str, Any]]) -> list[str]:
    session = on([write_segment(tmp_path / "c.parquet", events)])
    return sorted(r["click_id"] for r in session.rows(counted_clicks(session.events)))


def test_a_repeat_click_within_an_hour_counts_once(tmp_path: Path) -> None:
    events = [
        click(0, click_id="a"),
        click(20, click_id="b"),  # same visitor, same link, 20 min later: the same intent
        click(79, click_id="c"),  # 59 min after the previous one: still the same burst
        click(140, click_id="d"),  # over an hour of quiet: counts again
        click(21, link="l2", click_id="e"),  # another link counts on its own
        click(22, user=U2, click_id="f"),  # another visitor counts on their own
        click(23, user=None, click_id="g"),
        click(24, user=None, click_id="h"),  # unknown visitors cannot be matched: each counts
        click(25, click_id="i", bot=True),  # bots never count
    ]
    assert counted(tmp_path, events) == ["a", "d", "e", "f", "g", "h"]


def test_the_visitor_learned_from_the_click_chain_is_de_duplicated_too(tmp_path: Path) -> None:
    events = [
        click(0, user=None, click_id="x1"),
        click(10, user=None, click_id="x2"),
        event("market.visit", at(11), click_id="x1", user=U1, item_id="i1"),
        event("market.visit", at(12), click_id="x2", user=U1, item_id="i1"),
    ]
    assert counted(tmp_path, events) == ["x1"]
    f = funnel(on([tmp_path / "c.parquet"]))
    assert (f["clicks"], f["counted_clicks"]) == (2, 1)


def test_looking_a_link_up_in_a_missing_lake_creates_nothing(tmp_path: Path) -> None:
    from hongmao.errors import NoLakeError

    typo = tmp_path / "typo"
    for call in (lambda: get_link("lk-x", data_dir=typo), lambda: revoke_link("lk-x", data_dir=typo)):
        with pytest.raises(NoLakeError, match="no lake"):
            call()
    assert not typo.exists()
    result = subprocess.run([HONGMAO, "link", "show", "lk-x", "--data", str(typo)], capture_output=True, text=True)
    assert result.returncode != 0 and "Traceback" not in result.stderr and not typo.exists()
