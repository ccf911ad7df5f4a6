"""The clean room's parts: the group, key files and rotation, the protocol files, the join, thresholds, coverage."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from hongmao.cleanroom import coverage, group, identity, messages, protocol, steps, translate
from hongmao.cleanroom.keys import PartyKeys
from hongmao.errors import ConfigError, ContractError, InputError
from hongmao.identity.pseudonym import normalize
from hongmao.measure import threshold

C_IDS = ["13800000001", "+86 138 0000 0002", "13800000003", "0086-13800000003"]  # the last two are one person
M_IDS = ["13800000002", "13800000003", "13800000004"]


def test_blinding_commutes_and_stays_in_the_group() -> None:
    a, b = group.new_scalar(), group.new_scalar()
    p = group.hash_to_group("phone:13800000001")
    assert group.blind_one(group.blind_one(p, a), b) == group.blind_one(group.blind_one(p, b), a)
    assert group.blind_one(p, a) not in {p, group.blind_one(p, b)}
    assert group.hash_to_group("phone:13800000001") == p != group.hash_to_group("phone:13800000002")
    assert group.hash_and_blind(["phone:13800000001"], a) == [group.blind_one(p, a)]


def test_a_value_outside_the_group_is_refused_with_its_row() -> None:
    with pytest.raises(ContractError, match="value 2"):
        group.blind([group.hash_to_group("x"), bytes(32)], group.new_scalar())


def test_key_file_round_trip_is_private_and_rotation_retires_the_secret(tmp_path: Path) -> None:
    path = tmp_path / "c.key"
    assert steps.keygen(path, "community") == "community-1"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(ConfigError, match="exists"):
        steps.keygen(path, "community")
    first = PartyKeys.load(path)
    assert first.active.key_id == "community-1" and "scalar" not in repr(first)
    assert steps.rotate(path) == "community-2"
    second = PartyKeys.load(path)
    assert second.ref_key == first.ref_key and second.active.scalar != first.active.scalar
    with pytest.raises(ConfigError, match="retired"):
        second.scalar_for("community-1")
    assert "community-1" in path.read_text() and first.active.scalar.hex() not in path.read_text()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("edit", "reason"),
    [({"party": "brand"}, "field party"), ({"format": "x"}, "format"), ({"keys": []}, "exactly one key")],
)
def test_a_bad_key_file_names_its_field(tmp_path: Path, edit: dict[str, object], reason: str) -> None:
    path = tmp_path / "k"
    steps.keygen(path, "market")
    doc = json.loads(path.read_text()) | edit
    path.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match=reason):
        PartyKeys.load(path)


def _run(tmp_path: Path, c_ids: list[str], m_ids: list[str], ckey: Path, mkey: Path, name: str) -> Path:
    d = tmp_path / name
    steps.blind(ckey, d / "c", "phone", ids_file=_write(d / "c.txt", c_ids))
    steps.blind(mkey, d / "m", "phone", ids_file=_write(d / "m.txt", m_ids))
    steps.reblind(mkey, d / "c" / "community.blinded", d / "inbox")
    steps.reblind(ckey, d / "m" / "market.blinded", d / "inbox")
    for side, src in (("community", "c"), ("market", "m")):
        (d / "inbox" / f"{side}.index").write_bytes((d / src / f"{side}.index").read_bytes())
    return d


def _write(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def _pair(d: Path, side: str) -> tuple[Path, Path]:
    return d / "inbox" / f"{side}.index", d / "inbox" / f"{side}.double"


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    ckey, mkey = tmp_path / "c.key", tmp_path / "m.key"
    steps.keygen(ckey, "community")
    steps.keygen(mkey, "market")
    return ckey, mkey


def test_the_join_matches_exactly_the_shared_people(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    d = _run(tmp_path, C_IDS, M_IDS, *keys, "one")
    report = steps.join(_pair(d, "community"), _pair(d, "market"), d / "out", k=1)
    assert report["matched"] == 2
    assert report["community"] == {"sent": 3, "matched": 2, "rate": round(2 / 3, 6)}
    assert report["market"] == {"sent": 3, "matched": 2, "rate": round(2 / 3, 6)}
    tables = identity.load(d / "out" / "identity.json")
    cpz, mpz = (PartyKeys.load(k).pseudonymizer("phone") for k in keys)
    for number in ("13800000002", "13800000003"):
        assert tables["community"][cpz(number)] == tables["market"][mpz(number)]
    assert tables["community"][cpz("13800000001")] not in tables["market"].values()
    assert len(identity.matched(tables)) == 2
    # The match report both sides get withholds counts under k.
    withheld = steps.join(_pair(d, "community"), _pair(d, "market"), d / "out2", k=50)
    assert withheld["matched"] == threshold.SUPPRESSED and withheld["market"]["rate"] == threshold.SUPPRESSED


def test_the_same_input_and_keys_give_the_same_bytes(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    one, two = (_run(tmp_path, C_IDS, M_IDS, *keys, n) for n in ("a", "b"))
    for name in ("community.double", "market.double", "community.index"):
        assert (one / "inbox" / name).read_bytes() == (two / "inbox" / name).read_bytes()
    shuffled = _run(tmp_path, list(reversed(C_IDS)), M_IDS, *keys, "c")
    assert (shuffled / "inbox" / "community.double").read_bytes() == (one / "inbox" / "community.double").read_bytes()


def test_rotation_keeps_each_persons_lake_pseudonym(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    ckey, mkey = keys
    before = _run(tmp_path, C_IDS, M_IDS, ckey, mkey, "before")
    steps.join(_pair(before, "community"), _pair(before, "market"), before / "out")
    old = identity.load(before / "out" / "identity.json")
    steps.rotate(ckey)
    steps.rotate(mkey)
    # Both sides re-blind from raw ids under the new keys; values from before no longer join with them.
    after = _run(tmp_path, [*C_IDS, "13800000009"], [*M_IDS, "13800000009"], ckey, mkey, "after")
    assert (after / "inbox" / "community.double").read_text() != (before / "inbox" / "community.double").read_text()
    with pytest.raises(InputError, match="different keys"):
        protocol.join(_pair(before, "community"), _pair(after, "market"))
    steps.join(
        _pair(after, "community"), _pair(after, "market"), after / "out", previous=before / "out" / "identity.json"
    )
    new = identity.load(after / "out" / "identity.json")
    for side in ("community", "market"):
        assert {r: new[side][r] for r in old[side]} == old[side]
    assert len(identity.matched(new)) == 3


@pytest.mark.parametrize(
    ("target", "line", "reason"),
    [
        ("community.double", 1, "field kind"),
        ("community.double", 2, "line 2: not a 32-byte hex value"),
        ("market.index", 1, "field origin"),
    ],
)
def test_a_bad_protocol_file_names_the_file_line_and_reason(
    tmp_path: Path, keys: tuple[Path, Path], target: str, line: int, reason: str
) -> None:
    d = _run(tmp_path, C_IDS, M_IDS, *keys, "bad")
    path = d / "inbox" / target
    lines = path.read_text().splitlines()
    if line == 1:
        doc = json.loads(lines[0])
        doc |= {"kind": "blinded"} if "double" in target else {"origin": "community"}
        lines[0] = json.dumps(doc)
    else:
        lines[1] = "zz"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=reason):
        protocol.join(_pair(d, "community"), _pair(d, "market"))


def test_a_side_refuses_to_reblind_its_own_values(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    d = _run(tmp_path, C_IDS, M_IDS, *keys, "own")
    with pytest.raises(InputError, match="field origin"):
        steps.reblind(keys[0], d / "c" / "community.blinded", d / "x")
    with pytest.raises(ContractError, match="identifier 2"):
        steps.blind(keys[0], d / "y", "phone", ids_file=_write(d / "bad.txt", ["13800000001", "12"]))


def test_translate_rewrites_users_by_side_and_refuses_an_unknown_ref() -> None:
    tables = {"community": {"c" * 32: "1" * 32}, "market": {"m" * 32: "2" * 32}}
    read = json.dumps({"type": "note.read", "data": {"user": "c" * 32, "note_id": "n"}})
    order = json.dumps({"type": "market.order", "data": {"user": "m" * 32, "click_id": "k1"}})
    assert json.loads(translate.translate_line(read, tables, "f"))["data"]["user"] == "1" * 32
    assert json.loads(translate.translate_line(order, tables, "f"))["data"] == {"user": "2" * 32, "click_id": "k1"}
    assert translate.translate_line("not json", tables, "f") == "not json"
    with pytest.raises(ContractError, match=r"f line 3: field data\.user"):
        translate.translate_line(read.replace("c" * 32, "d" * 32), tables, "f line 3")


def test_threshold_helpers() -> None:
    assert threshold.suppress(12.5, people=50, k=50) == 12.5
    assert threshold.suppress(12.5, people=49, k=50) == threshold.SUPPRESSED
    assert threshold.strictest(None, 20, 100) == 100 and threshold.strictest() == threshold.DEFAULT_K
    rows = threshold.suppress_rows(
        [{"note": "a", "buyers": 3, "gmv": 9.0}, {"note": "b", "buyers": 60, "gmv": 1.0}], "buyers", ["gmv"], k=50
    )
    assert rows[0] == {"note": "a", "buyers": "suppressed", "gmv": "suppressed", "suppressed": "fewer than 50 people"}
    assert rows[1]["gmv"] == 1.0 and rows[1]["suppressed"] is None
    with pytest.raises(ValueError, match="at least 1"):
        threshold.strictest(0)


def _ev(kind: str, day: int, **data: object) -> dict[str, object]:
    return {"type": kind, "time": f"2023-03-{day:02d}T10:00:00+08:00", "data": data}


def test_coverage_counts_orders_and_names_the_days_a_side_went_quiet() -> None:
    events = []
    for day in range(1, 11):
        events += [_ev("note.read", day, user="u")] * 10
        n_orders = 0 if day == 5 else (1 if day == 6 else 4)  # the marketplace sent nothing, then a trickle
        events += [
            _ev("market.order", day, user="u" if i % 2 else "v", click_id="k" if i == 0 else None)
            for i in range(n_orders)
        ]
    report = coverage.coverage(events, matched={"u"})
    assert report["orders"] == 33 and report["orders_with_click_id"] == 9
    assert report["orders_with_matched_person"] == 16
    assert report["share_with_click_id"] == round(9 / 33, 6)
    gaps = {(g["side"], g["day"], g["edge"]) for g in report["gaps"]}
    assert gaps == {("market", "2023-03-05", False), ("market", "2023-03-06", False)}
    assert coverage.coverage(events)["share_with_matched_person"] is None


def test_messages_refuse_a_row_count_that_does_not_match_the_header(tmp_path: Path) -> None:
    path = tmp_path / "f"
    messages.write(path, messages.Header("index", "community", ("k",), "phone"), ["a", "b"])
    path.write_text(path.read_text() + "c\n")
    with pytest.raises(InputError, match="header says 2 rows, the file has 3"):
        messages.read(path, "index")


def test_the_library_twin_of_match_join_reads_an_inbox(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    from hongmao import api

    d = _run(tmp_path, C_IDS, M_IDS, *keys, "api")
    assert api.match_join(d / "inbox", d / "out", k=1)["matched"] == 2
    assert json.loads((d / "out" / "match_report.json").read_text())["market"]["sent"] == 3


def test_worker_processes_give_the_same_bytes_as_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from hongmao.cleanroom import parallel

    ids, scalar = [f"phone:1380000000{i}" for i in range(7)], group.new_scalar()
    one = parallel.hash_and_blind(ids, scalar, workers=1)
    assert [one[i : i + 32] for i in range(0, len(one), 32)] == group.hash_and_blind(ids, scalar)
    monkeypatch.setattr(parallel, "MIN_CHUNK", 2)  # chunks are cut in this process: 4 chunks over 2 workers
    assert parallel.hash_and_blind(ids, scalar, workers=2) == one
    twice = b"".join(group.blind([one[i : i + 32] for i in range(0, len(one), 32)], scalar))
    assert parallel.blind(one, scalar, workers=2) == twice


def test_a_bad_value_in_a_worker_chunk_is_named_by_its_place_in_the_whole_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hongmao.cleanroom import parallel

    points = group.hash_and_blind([f"phone:1380000000{i}" for i in range(7)], group.new_scalar())
    points[5] = bytes(32)  # the all-zero value: small order, refused by libsodium
    monkeypatch.setattr(parallel, "MIN_CHUNK", 2)
    with pytest.raises(ContractError, match="value 6 is not a valid group element"):
        parallel.blind(b"".join(points), group.new_scalar(), workers=2)


def test_the_side_ref_of_a_normalised_id_is_the_pseudonymizer_of_the_raw_one() -> None:
    keys = PartyKeys.new("community")
    raw = "+86 138-0000-0001"
    assert protocol._ref(keys.ref_key, normalize(raw, "phone")) == keys.pseudonymizer("phone")(raw)
