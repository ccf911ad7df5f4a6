"""ROI guarantees (对赌): the settlement rule as properties (money accounted for, the cap and the straddle rule),
contracts and settlements on a small simulated lake through the library and the CLI, the catalog on SQLite and
PostgreSQL, and the trust flags a settlement uses as they stood at its date."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from hongmao.cli.app import app
from hongmao.errors import CatalogError, InputError
from hongmao.settle import api, asof, guarantee_api, store
from hongmao.settle.guarantees import GuaranteeEntry, Measured, owed_now, parse_guarantee, restate, settle_guarantee
from hongmao.settle.late import late_refunds
from simkit import small_world

runner = CliRunner()
DUE = datetime(2025, 7, 1, tzinfo=UTC)
CAMPAIGN = "cmp-lumiere-1"


def contract(**over: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "guarantee_id": "g",
        "brand": "b",
        "campaign_id": "c",
        "target_roi": "3",
        "share": "0.5",
        "spend": "10000",
        "x_days": 14,
    }
    spec.update(over)
    return spec


def cents(text: str) -> int:
    return int(Decimal(text) * 100)


# --- the rule, pure ----------------------------------------------------------------------------------------------

rois = st.floats(min_value=-5, max_value=10, allow_nan=False).map(lambda x: round(x, 4))


@given(
    target=st.decimals(min_value="0.5", max_value="8", places=2),
    share=st.decimals(min_value=0, max_value=1, places=2),
    spend=st.integers(min_value=1, max_value=10**9),
    cap=st.one_of(st.none(), st.integers(min_value=0, max_value=10**9)),
    point=rois,
    half=st.floats(min_value=0, max_value=4).map(lambda x: round(x, 4)),
    rule=st.sampled_from(["point", "lower", "upper"]),
)
def test_what_is_owed_accounts_for_the_target_to_the_cent(
    target: Decimal, share: Decimal, spend: int, cap: int | None, point: float, half: float, rule: str
) -> None:
    spec = contract(target_roi=str(target), share=str(share), spend=str(Decimal(spend) / 100), straddle=rule)
    if cap is not None:
        spec["cap"] = str(Decimal(cap) / 100)
    g = parse_guarantee(spec)
    s = settle_guarantee(g, Measured(point, point * spend / 100, point - half, point + half), DUE)
    used = Decimal(s["roi_used"])
    # What the campaign reached plus the shortfall is the target, in money, to the rounding cent.
    reached = used * spend
    assert abs(reached + cents(s["shortfall"]) - target * spend) <= Decimal("0.5") or used >= target
    gap = max(Decimal(0), target - used) * spend
    assert cents(s["shortfall"]) == int(gap.quantize(Decimal(1), "ROUND_HALF_UP"))
    # The share returned, then the cap: never more than either, never negative.
    assert cents(s["returned"]) == int((share * cents(s["shortfall"])).quantize(Decimal(1), "ROUND_HALF_UP"))
    limit = cap if cap is not None else spend
    assert s["owed_cents"] == min(cents(s["returned"]), limit) >= 0
    assert s["capped"] == (s["owed_cents"] < cents(s["returned"]))
    # The contract's rule applies only when the interval straddles the target.
    lo, hi = (Decimal(x) for x in s["interval"])
    assert s["straddles"] == (lo < target < hi)
    expected = {"point": Decimal(s["measured_roi"]), "lower": lo, "upper": hi}[rule if s["straddles"] else "point"]
    assert used == expected


@given(
    point=rois,
    better=st.floats(min_value=0, max_value=3).map(lambda x: round(x, 4)),
    half=st.floats(min_value=0, max_value=4).map(lambda x: round(x, 4)),
    cap=st.one_of(st.none(), st.integers(min_value=0, max_value=10**7)),
)
def test_more_return_never_owes_more_and_the_lower_bound_owes_most(
    point: float, better: float, half: float, cap: int | None
) -> None:
    def owed(rule: str, roi: float) -> int:
        spec = contract(straddle=rule, **({"cap": str(Decimal(cap) / 100)} if cap is not None else {}))
        statement = settle_guarantee(parse_guarantee(spec), Measured(roi, roi * 10_000, roi - half, roi + half), DUE)
        amount: int = statement["owed_cents"]
        return amount

    # On the point estimate, a better campaign never owes more (the bounds jump where the straddle starts).
    assert owed("point", point + better) <= owed("point", point)
    # Under doubt the lower bound owes the most and the upper bound the least.
    assert owed("lower", point) >= owed("point", point) >= owed("upper", point)


def test_a_straddling_interval_is_said_and_settles_by_the_named_rule() -> None:
    measured = Measured(2.8, 28_000, 2.2, 3.4)
    owed = {}
    for rule in ("point", "lower", "upper"):
        s = settle_guarantee(parse_guarantee(contract(straddle=rule)), measured, DUE)
        assert s["straddles"] and "straddles the target 3" in s["why"] and s["settled_on"] == rule
        owed[rule] = s["owed"]
    # spend 10,000: (3 - 2.8) x 10,000 x 50% = 1,000; (3 - 2.2) ... = 4,000; the upper bound meets the target.
    assert owed == {"point": "1000.00", "lower": "4000.00", "upper": "0.00"}
    clear = settle_guarantee(parse_guarantee(contract(straddle="lower")), Measured(2.0, 20_000, 1.5, 2.5), DUE)
    assert not clear["straddles"] and clear["settled_on"] == "point" and clear["owed"] == "5000.00"
    capped = settle_guarantee(parse_guarantee(contract(cap="800")), Measured(1.0, 10_000), DUE)
    assert capped["owed"] == "800.00" and capped["capped"] and "the cap 800.00 applies" in capped["why"]
    assert capped["interval"] is None  # attributed-style: no interval, no straddle
    met = settle_guarantee(parse_guarantee(contract()), Measured(3.5, 35_000, 3.1, 3.9), DUE)
    assert met["owed"] == "0.00" and "meets the target" in met["why"]


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"target_roi": "0"}, "target_roi: must be above 0"),
        ({"share": "1.5"}, "share: a fraction"),
        ({"measure": "vibes"}, "'measure' must be one of"),
        ({"straddle": "middle"}, "'straddle' must be one of"),
        ({"x_days": -1}, "x_days"),
        ({"spend": "0"}, "spend: must be above 0"),
        ({"guarantee_id": "a b"}, "guarantee_id"),
        ({"colour": "red"}, "unknown fields"),
        ({"confidence": "1"}, "confidence"),
    ],
)
def test_bad_contracts_are_refused_with_the_field_and_reason(over: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_guarantee(contract(**over))


# --- on a small simulated lake -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    world, lake = small_world(tmp_path_factory)
    key: str = json.loads((world / "truth" / "world.json").read_text(encoding="utf-8"))["config"]["holdout_key"]
    return world, lake, key


@pytest.fixture
def lake(sim: tuple[Path, Path, str], tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(sim[1], tmp_path / "lake"))


def test_an_incremental_contract_settles_once_at_its_due_date_on_the_lift(
    sim: tuple[Path, Path, str], lake: Path
) -> None:
    key = sim[2]
    g = parse_guarantee(contract(guarantee_id="g1", brand="lumiere", campaign_id=CAMPAIGN, spend=None, x_days=0))
    (made,) = guarantee_api.create([g], lake)
    assert made.spend_cents and made.spec["spend"]  # the campaign's declared spend, resolved and stored
    assert guarantee_api.create([g], lake) == [made]  # the same contract again: no change
    with pytest.raises(InputError, match="already stored with other terms"):
        guarantee_api.create([parse_guarantee({**g.spec, "share": "0.9"})], lake)
    row = guarantee_api.listing(lake, guarantee_id="g1")[0]
    due = datetime.fromisoformat(row["due"])
    with pytest.raises(InputError, match="not due until"):
        guarantee_api.settle("g1", lake, at=due - timedelta(seconds=1), holdout_key=key)
    statement, new = guarantee_api.settle("g1", lake, at=due, holdout_key=key)
    assert new
    # The figure is the engine's holdout lift on the events up to the due date, over the contract's spend.
    from hongmao.engine.campaign import campaign_lift

    with api._lake(lake, None) as lk:
        segments = lk.segment_paths()
    with asof.AsOfSession(segments, due) as session:
        direct = campaign_lift(session, CAMPAIGN, key, window_days=0.0).comparison.net_gmv
    spend = made.spend_cents / 100
    assert Decimal(statement["measured_roi"]) == Decimal(repr(direct.estimate / spend)).quantize(Decimal("0.0001"))
    lo, hi = (Decimal(x) for x in statement["interval"])
    assert lo <= Decimal(statement["measured_roi"]) <= hi
    assert statement["straddles"] == (lo < Decimal(3) < hi)
    # A re-run, later, on the same lake measures the same and adds nothing; another key is refused, since it
    # would measure another holdout split.
    again, new_again = guarantee_api.settle("g1", lake, at=due + timedelta(days=30), holdout_key=key)
    assert not new_again and again == statement
    assert [e["kind"] for e in again["entries"]] == ["settle"] and again["entries"][0]["owed"] == again["owed"]
    with pytest.raises(InputError, match="another holdout key"):
        guarantee_api.settle("g1", lake, at=due + timedelta(days=30), holdout_key="x" * 16)
    assert guarantee_api.listing(lake)[0]["owed"] == statement["owed"]


def test_an_attributed_contract_takes_x_from_the_category_cycle(lake: Path) -> None:
    spec = contract(guarantee_id="g2", brand="lumiere", campaign_id=CAMPAIGN, measure="attributed", x_days=None)
    del spec["x_days"]
    (made,) = guarantee_api.create([parse_guarantee(spec)], lake)
    assert made.x_days is not None and made.x_days >= 1 and "cycle" in made.x_from


def test_the_cli_creates_lists_and_settles_and_a_brand_cannot_reach_another_brands_contract(
    sim: tuple[Path, Path, str], lake: Path
) -> None:
    data = ["--data", str(lake)]
    terms = ["--target-roi", "2", "--measure", "attributed", "--x-days", "0", "--spend", "1000", "--format", "json"]
    made = runner.invoke(
        app, ["guarantees", "create", *data, "--brand", "lumiere", "--id", "ga", "--campaign", CAMPAIGN, *terms]
    )
    assert made.exit_code == 0, made.output
    listed = runner.invoke(app, ["guarantees", "list", *data, "--format", "json"])
    assert [r["guarantee_id"] for r in json.loads(listed.stdout)] == ["ga"]
    due = json.loads(listed.stdout)[0]["due"]
    settled = runner.invoke(app, ["guarantees", "settle", "ga", *data, "--at", due, "--format", "json"])
    assert settled.exit_code == 0, settled.output
    s = json.loads(settled.stdout)
    assert s["new"] and s["measure"] == "attributed" and s["interval"] is None
    assert abs(Decimal(s["measured_roi"]) - Decimal(s["net_gmv"]) / 1000) <= Decimal("0.0001")
    # Another brand: its scope holds no such contract; nor may it create one for lumiere's campaign.
    other = runner.invoke(app, ["guarantees", "settle", "ga", *data, "--brand", "beibei", "--at", due])
    assert other.exit_code != 0 and "no such guarantee of brand beibei" in str(other.exception)
    assert runner.invoke(
        app, ["guarantees", "list", *data, "--brand", "beibei", "--format", "json"]
    ).stdout.strip() in (
        "[]",
        "",
    )
    with pytest.raises(InputError, match="no such campaign of brand beibei"):
        guarantee_api.create(
            [parse_guarantee(contract(guarantee_id="gb", brand="beibei", campaign_id=CAMPAIGN))], lake, brand="beibei"
        )
    with pytest.raises(InputError, match="belongs to brand"):
        guarantee_api.create(
            [parse_guarantee(contract(guarantee_id="gc", brand="lumiere", campaign_id=CAMPAIGN))], lake, brand="beibei"
        )


# --- trust flags as they stood at the settlement date ------------------------------------------------------------


def test_settlement_uses_the_trust_flags_kept_for_its_date(lake: Path) -> None:
    """The first settlement through a date keeps the flags computed on the events before it; a later run through
    that date uses them, not what the grown lake would say today, and so adds nothing."""
    from hongmao.settle.programs import parse_program

    through = datetime(2025, 6, 12, tzinfo=UTC)
    program = parse_program({"program_id": "p", "brand": "lumiere", "credit": "last", "terms": [{"rate": 0.1}]})
    api.add_programs([program], lake)
    first = api.settle(through, lake)
    with api._lake(lake, None) as lk, lk.connect("test") as conn:
        kept = store.load_trust_snapshot(conn, through)
        segments = lk.segment_paths()
    assert kept is not None and kept == asof.trust_holds(segments, through)
    assert api.settle(through, lake).added == 0
    # Stand in for a lake that grew: another date's snapshot flags a creator the lake never flagged.
    creator = next(e.creator_id for e in api.entries(lake) if e.creator_id not in kept)
    later = through + timedelta(days=1)
    evidence = json.dumps({"flags": ["deceptive"], "evidence": {"deceptive": "kept at that date"}})
    with api._lake(lake, None) as lk, lk.connect("test", transaction=True) as conn:
        store.add_trust_snapshot(conn, later, {creator: evidence}, later)
    report = api.settle(later, lake)
    holds = [e for e in api.entries(lake) if e.kind == "hold"]
    assert report.by_kind.get("hold", 0) > 0 and all(e.creator_id == creator for e in holds if e.note == evidence)
    assert api.settle(later, lake).added == 0 and first.added > 0


def test_the_as_of_session_sees_only_the_events_up_to_its_date(sim: tuple[Path, Path, str]) -> None:
    with api._lake(sim[1], None) as lk:
        segments = lk.segment_paths()
    cut = datetime(2025, 6, 8, tzinfo=UTC)
    with asof.AsOfSession(segments, cut) as s, asof.AsOfSession(segments, cut, before=True) as b:
        assert s.scalar(s.events.time.max()) <= cut and b.scalar(b.events.time.max()) < cut
        full = s.read(segments)
        assert s.scalar(s.events.count()) == s.scalar(full.filter(full.time <= cut).count()) > 0


# --- the catalog, SQLite and PostgreSQL ----------------------------------------------------------------------------


def test_guarantees_and_snapshots_round_trip_through_the_catalog(catalog_url: str | None, tmp_path: Path) -> None:
    from hongmao.lake import Lake

    with Lake.open(tmp_path / "lake", catalog_url):
        pass
    g = parse_guarantee(contract(guarantee_id="g9"))
    statement = settle_guarantee(g, Measured(2.5, 25_000, 2.0, 3.2), DUE)
    with api._lake(tmp_path / "lake", catalog_url) as lk, lk.connect("test", transaction=True) as conn:
        assert store.add_guarantee(conn, g, DUE) and not store.add_guarantee(conn, g, DUE)
        assert store.add_settlement(conn, statement, DUE, DUE) is statement
        other = {**statement, "owed_cents": 1, "owed": "0.01"}
        assert store.add_settlement(conn, other, DUE, DUE)["owed"] == statement["owed"]  # the first stays
        assert store.add_trust_snapshot(conn, DUE, {"c1": "e"}, DUE) == {"c1": "e"}
        assert store.add_trust_snapshot(conn, DUE, {}, DUE) == {"c1": "e"}
    with api._lake(tmp_path / "lake", catalog_url) as lk, lk.connect("test") as conn:
        assert store.load_guarantees(conn, "b") == [g] and store.load_guarantees(conn, "other") == []
        (back,) = store.load_settlements(conn, "b")
        assert back["owed"] == "2500.00" and store.load_settlements(conn, "other") == []
        assert store.load_trust_snapshot(conn, DUE) == {"c1": "e"}
        assert store.load_trust_snapshot(conn, DUE + timedelta(days=1)) is None


# --- ids are per brand ---------------------------------------------------------------------------------------------


def test_two_brands_may_use_one_id_and_each_keeps_its_own_contract(catalog_url: str | None, tmp_path: Path) -> None:
    """The catalog keys contracts and settlements by (brand, guarantee_id): another brand's use of an id neither
    blocks a contract nor shows through, and settling one leaves the other as it was."""
    from hongmao.lake import Lake

    with Lake.open(tmp_path / "lake", catalog_url):
        pass
    mine = parse_guarantee(contract(guarantee_id="g-same", brand="b1", target_roi="2", spend="1000"))
    theirs = parse_guarantee(contract(guarantee_id="g-same", brand="b2", target_roi="4", spend="3000"))
    with api._lake(tmp_path / "lake", catalog_url) as lk, lk.connect("test", transaction=True) as conn:
        assert store.add_guarantee(conn, mine, DUE) and store.add_guarantee(conn, theirs, DUE)
        assert not store.add_guarantee(conn, theirs, DUE)  # the same contract again: no change
        with pytest.raises(InputError, match="already stored with other terms"):
            store.add_guarantee(conn, parse_guarantee({**mine.spec, "share": "0.9"}), DUE)
        statement = settle_guarantee(mine, Measured(1.0, 1_000), DUE)
        assert store.add_settlement(conn, statement, DUE, DUE) is statement
    with api._lake(tmp_path / "lake", catalog_url) as lk, lk.connect("test") as conn:
        assert store.load_guarantees(conn, "b1", "g-same") == [mine]
        assert store.load_guarantees(conn, "b2", "g-same") == [theirs]
        assert store.load_guarantees(conn, None, "g-same") == [mine, theirs]
        assert [s["brand"] for s in store.load_settlements(conn, None)] == ["b1"]
        assert store.load_settlements(conn, "b2", "g-same") == []
    # The other brand's settlement is its own, on its own terms; the first brand's stays as it was.
    other = settle_guarantee(theirs, Measured(1.0, 3_000), DUE)
    with api._lake(tmp_path / "lake", catalog_url) as lk, lk.connect("test", transaction=True) as conn:
        assert store.add_settlement(conn, other, DUE, DUE) is other
    with api._lake(tmp_path / "lake", catalog_url) as lk, lk.connect("test") as conn:
        (first,) = store.load_settlements(conn, "b1", "g-same")
        (second,) = store.load_settlements(conn, "b2", "g-same")
    assert first["owed"] == statement["owed"] == "500.00"  # (2 - 1) x 1,000 x 50%
    assert second["owed"] == other["owed"] == "3000.00"  # (4 - 1) x 3,000 x 50% = 4,500, capped at the spend


def test_migration_0006_keys_guarantees_by_brand_and_downgrades(catalog_url: str | None, tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from hongmao.lake import Lake
    from hongmao.lake.catalog import _alembic_config

    with Lake.open(tmp_path / "lake", catalog_url):
        pass

    def keys(conn: Any) -> dict[str, list[str]]:
        found = inspect(conn)
        names = set(found.get_table_names())
        return {
            t: found.get_pk_constraint(t)["constrained_columns"]
            for t in ("guarantees", "guarantee_settlements")
            if t in names
        }

    with api._lake(tmp_path / "lake", catalog_url) as lk, lk.connect("test", transaction=True) as conn:
        assert keys(conn) == {t: ["brand", "guarantee_id"] for t in ("guarantees", "guarantee_settlements")}
        config = _alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, "0005")
        assert keys(conn) == {} and "trust_snapshots" not in inspect(conn).get_table_names()
        command.upgrade(config, "head")
        assert keys(conn) == {t: ["brand", "guarantee_id"] for t in ("guarantees", "guarantee_settlements")}


def test_the_same_id_in_two_brands_settles_each_on_its_own_terms(lake: Path) -> None:
    data = ["--data", str(lake)]
    fixed = ["--measure", "attributed", "--x-days", "0", "--format", "json"]
    for brand, roi, spend in (("lumiere", "2", "1000"), ("beibei", "5", "2000")):
        terms = ["--campaign", f"cmp-{brand}-1", "--target-roi", roi, "--spend", spend, *fixed]
        made = runner.invoke(app, ["guarantees", "create", *data, "--brand", brand, "--id", "g-same", *terms])
        assert made.exit_code == 0, made.output
        assert Decimal(str(json.loads(made.stdout)[0]["target_roi"])) == Decimal(roi)
    mine = guarantee_api.listing(lake, brand="lumiere")
    theirs = guarantee_api.listing(lake, brand="beibei")
    assert [(r["brand"], Decimal(r["target_roi"]), r["spend"]) for r in mine] == [("lumiere", Decimal(2), "1000.00")]
    assert [(r["brand"], Decimal(r["target_roi"]), r["spend"]) for r in theirs] == [("beibei", Decimal(5), "2000.00")]
    # The operator naming an id two brands use is asked which brand; a brand settles its own.
    due = mine[0]["due"]
    ambiguous = runner.invoke(app, ["guarantees", "settle", "g-same", *data, "--at", due])
    assert ambiguous.exit_code != 0 and "beibei, lumiere each have a guarantee" in str(ambiguous.exception)
    settle = ["guarantees", "settle", "g-same", *data, "--brand", "lumiere", "--at", due, "--format", "json"]
    settled = runner.invoke(app, settle)
    assert settled.exit_code == 0, settled.output
    s = json.loads(settled.stdout)
    assert s["new"] and s["brand"] == "lumiere" and s["spend"] == "1000.00" and Decimal(s["target_roi"]) == 2
    # Nothing happened to the other brand's contract of the same id: still unsettled, then settled on its terms.
    (still,) = guarantee_api.listing(lake, brand="beibei")
    assert still["settlement"] is None and still["owed"] is None
    statement, new = guarantee_api.settle("g-same", lake, brand="beibei", at=datetime.fromisoformat(still["due"]))
    assert new and statement["brand"] == "beibei" and statement["spend"] == "2000.00"
    assert Decimal(statement["target_roi"]) == 5 and statement["campaign_id"] == "cmp-beibei-1"
    again, new_again = guarantee_api.settle("g-same", lake, brand="lumiere", at=datetime.fromisoformat(due))
    assert not new_again and again["owed"] == s["owed"] and again["brand"] == "lumiere"


# --- what a contract owes, as append-only entries restated on late data ------------------------------------------


def owed_statement(owed: int, gid: str = "g", brand: str = "b") -> dict[str, Any]:
    return {"guarantee_id": gid, "brand": brand, "owed_cents": owed, "owed": str(Decimal(owed) / 100), "why": "w"}


@settings(max_examples=200)
@given(runs=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=12), repeat=st.booleans())
def test_restating_appends_the_difference_and_a_rerun_adds_nothing(runs: list[int], repeat: bool) -> None:
    """Over any sequence of settlements (each what the data then says is owed): the entries only grow, their sum
    is what the latest settlement owes, each adjustment is the difference, and settling again on the same data
    adds nothing."""
    entries: list[GuaranteeEntry] = []
    for n, owed in enumerate(runs):
        before = list(entries)
        for _ in range(2 if repeat else 1):  # the same data again: no entry
            entry = restate(entries, owed_statement(owed), DUE, DUE + timedelta(days=n))
            if entry is not None:
                entries.append(entry)
        assert entries[: len(before)] == before  # nothing edited or removed
        assert owed_now(entries) == owed == entries[-1].owed_cents
        assert restate(entries, owed_statement(owed), DUE, DUE) is None
    changes = sum(1 for a, b in itertools.pairwise(runs) if a != b)
    assert len(entries) == 1 + changes
    assert [e.seq for e in entries] == list(range(len(entries)))
    assert [e.kind for e in entries] == ["settle"] + ["adjust"] * changes
    assert all(e.amount_cents != 0 for e in entries[1:])
    distinct = [runs[0]] + [b for a, b in itertools.pairwise(runs) if a != b]
    assert [e.amount_cents for e in entries[1:]] == [b - a for a, b in itertools.pairwise(distinct)]


@settings(max_examples=100)
@given(
    rois=st.lists(st.floats(min_value=-2, max_value=6).map(lambda x: round(x, 4)), min_size=1, max_size=8),
    cap=st.one_of(st.none(), st.integers(min_value=0, max_value=10**6)),
)
def test_restated_settlements_of_a_contract_sum_to_what_the_last_measurement_owes(
    rois: list[float], cap: int | None
) -> None:
    g = parse_guarantee(contract(**({"cap": str(Decimal(cap) / 100)} if cap is not None else {})))
    entries: list[GuaranteeEntry] = []
    for roi in rois:
        statement = settle_guarantee(g, Measured(roi, roi * 10_000), DUE)
        entry = restate(entries, statement, DUE, DUE)
        entries += [entry] if entry is not None else []
        assert owed_now(entries) == statement["owed_cents"] <= g.cap
        if entry is not None and entry.kind == "adjust":
            assert "restated" in entry.statement["why"] and entry.statement["owed"] == statement["owed"]


def test_restating_refuses_another_contracts_entries() -> None:
    first = restate([], owed_statement(5, gid="g1"), DUE, DUE)
    assert first is not None
    with pytest.raises(ValueError, match="another contract"):
        restate([first], owed_statement(5, gid="g2"), DUE, DUE)


def test_guarantee_entries_are_appended_and_read_back_on_both_catalogs(catalog_url: str | None, tmp_path: Path) -> None:
    from hongmao.lake import Lake

    with Lake.open(tmp_path / "lake", catalog_url):
        pass
    g = parse_guarantee(contract(guarantee_id="g7"))
    first = settle_guarantee(g, Measured(2.0, 20_000), DUE)  # (3 - 2) x 10,000 x 50% = 5,000
    late = settle_guarantee(g, Measured(1.5, 15_000), DUE)  # 7,500: 2,500 more
    theirs = settle_guarantee(parse_guarantee(contract(guarantee_id="g7", brand="b2")), Measured(3.5, 35_000), DUE)
    with api._lake(tmp_path / "lake", catalog_url) as lk, lk.connect("test", transaction=True) as conn:
        assert store.record_settlement(conn, first, DUE, DUE) is not None
        assert store.record_settlement(conn, first, DUE, DUE + timedelta(days=1)) is None  # same data: nothing
        adjust = store.record_settlement(conn, late, DUE, DUE + timedelta(days=2))
        assert adjust is not None and (adjust.seq, adjust.kind, adjust.amount_cents) == (1, "adjust", 250_000)
        assert store.record_settlement(conn, late, DUE, DUE + timedelta(days=3)) is None
        assert store.record_settlement(conn, theirs, DUE, DUE) is not None
    with api._lake(tmp_path / "lake", catalog_url) as lk, lk.connect("test") as conn:
        mine = store.load_guarantee_entries(conn, "b", "g7")
        assert [(e.seq, e.kind, e.amount_cents, e.owed_cents) for e in mine] == [
            (0, "settle", 500_000, 500_000),
            (1, "adjust", 250_000, 750_000),
        ]
        assert mine[1].recorded_at == DUE + timedelta(days=2) and mine[0].due == DUE
        (current,) = store.load_settlements(conn, "b", "g7")
        assert current["owed"] == "7500.00" and current["owed_cents"] == 750_000
        assert current["previously_owed"] == "5000.00" and current["adjustment"] == "2500.00"
        assert [e["amount"] for e in current["entries"]] == ["5000.00", "2500.00"]
        # The other brand's contract of the same id keeps its own entries; brands see only theirs.
        assert [(e.brand, e.owed_cents) for e in store.load_guarantee_entries(conn, "b2")] == [("b2", 0)]
        assert [s["brand"] for s in store.load_settlements(conn, None, "g7")] == ["b", "b2"]
        # The settlement at T+x stays as it was recorded.
        row = conn.execute(sa.select(store.guarantee_settlements).where(store.guarantee_settlements.c.brand == "b"))
        assert [r.owed_cents for r in row] == [500_000]
    # Append-only: a second entry with a used (brand, guarantee_id, seq) is refused by the key.
    lk = api._lake(tmp_path / "lake", catalog_url)
    with lk, pytest.raises(CatalogError, match="guarantee_entries"), lk.connect("test", transaction=True) as conn:
        store.append_guarantee_entry(conn, mine[1])


def test_migration_0007_carries_earlier_settlements_into_entries(catalog_url: str | None, tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from hongmao.lake import Lake
    from hongmao.lake.catalog import _alembic_config

    with Lake.open(tmp_path / "lake", catalog_url):
        pass
    statement = settle_guarantee(parse_guarantee(contract(guarantee_id="old")), Measured(1.0, 10_000), DUE)
    with api._lake(tmp_path / "lake", catalog_url) as lk, lk.connect("test", transaction=True) as conn:
        config = _alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, "0006")
        assert "guarantee_entries" not in inspect(conn).get_table_names()
        conn.execute(
            sa.insert(store.guarantee_settlements).values(
                brand="b",
                guarantee_id="old",
                due=DUE,
                owed_cents=statement["owed_cents"],
                statement_json=json.dumps(statement),
                recorded_at=DUE,
            )
        )
        command.upgrade(config, "head")
        assert inspect(conn).get_pk_constraint("guarantee_entries")["constrained_columns"] == [
            "brand",
            "guarantee_id",
            "seq",
        ]
        (entry,) = store.load_guarantee_entries(conn, "b")
        assert (entry.seq, entry.kind, entry.owed_cents) == (0, "settle", statement["owed_cents"])
        assert store.record_settlement(conn, statement, DUE, DUE) is None  # a re-run after the upgrade: nothing


def _late_refunds(world: Path, out: Path, before: datetime, at: datetime, half: int) -> Path:
    """A market file of full refunds, dated ``at``, of half (0 or 1: alternate ones) of the orders placed before
    ``before`` and not refunded yet (the bench writes its late refunds with the same helper)."""
    late_refunds(world, out, before, at, half, tag=f"late-{half}-{at:%Y%m%d%H%M%S}")
    return out


def test_late_refunds_dated_before_the_due_date_restate_by_one_adjusting_entry(
    sim: tuple[Path, Path, str], lake: Path, tmp_path: Path
) -> None:
    import hongmao

    spec = contract(guarantee_id="gl", brand="lumiere", campaign_id=CAMPAIGN, measure="attributed", x_days=0)
    guarantee_api.create([parse_guarantee({**spec, "target_roi": "50", "share": "0.01", "spend": "1000"})], lake)
    due = datetime.fromisoformat(guarantee_api.listing(lake, guarantee_id="gl")[0]["due"])
    first, new = guarantee_api.settle("gl", lake, at=due)
    assert new and first["owed_cents"] > 0 and Decimal(first["measured_roi"]) > 0
    # Refunds dated after the due date arrive: the figure at T+x does not move, nothing is added.
    after = hongmao.ingest([_late_refunds(sim[0], tmp_path / "a.jsonl", due, due + timedelta(days=1), 0)], lake)
    assert after.rejected == 0 and after.accepted > 0
    again, new = guarantee_api.settle("gl", lake, at=due + timedelta(days=2))
    assert not new and again == first
    # Refunds dated before the due date arrive late: one adjusting entry by the difference, no edit.
    report = hongmao.ingest([_late_refunds(sim[0], tmp_path / "b.jsonl", due, due - timedelta(seconds=1), 1)], lake)
    assert report.rejected == 0 and report.accepted > 0
    restated, new = guarantee_api.settle("gl", lake, at=due + timedelta(days=3))
    assert new and Decimal(restated["measured_roi"]) < Decimal(first["measured_roi"])
    kinds = [(e["kind"], e["amount"]) for e in restated["entries"]]
    gained = restated["owed_cents"] - first["owed_cents"]
    assert kinds == [("settle", first["owed"]), ("adjust", str(Decimal(gained) / 100))] and gained > 0
    assert "restated" in restated["why"] and restated["previously_owed"] == first["owed"]
    # Settling again on the same lake adds nothing; the listing shows what is owed now.
    final, new = guarantee_api.settle("gl", lake, at=due + timedelta(days=4))
    assert not new and final == restated
    assert guarantee_api.listing(lake, guarantee_id="gl")[0]["owed"] == restated["owed"]


def test_a_payout_file_marks_what_guarantees_owe_paid_once(catalog_url: str | None, tmp_path: Path) -> None:
    """Guarantees' money goes owed -> paid by a payout file like commissions': paying a period again adds
    nothing; an adjustment recorded after the period's end is paid by the next period's payout; a contract
    restated below what was paid pays nothing more and shows what the brand was overpaid."""
    from hongmao.lake import Lake
    from hongmao.settle.guarantees import still_owed

    with Lake.open(tmp_path / "lake", catalog_url):
        pass
    lake = tmp_path / "lake"
    g = parse_guarantee(contract(guarantee_id="g9"))
    other = parse_guarantee(contract(guarantee_id="g9", brand="b2"))
    with api._lake(lake, catalog_url) as lk, lk.connect("test", transaction=True) as conn:
        store.record_settlement(conn, settle_guarantee(g, Measured(2.0, 20_000), DUE), DUE, DUE)  # owes 5,000
        store.record_settlement(conn, settle_guarantee(other, Measured(3.5, 35_000), DUE), DUE, DUE)  # owes 0
    july = [("guarantee-payout:b:2025-07", "b", "g9", "5000.00", "2025-07-31T23:59:59+00:00")]
    rows = guarantee_api.pay("2025-07", lake, catalog_url=catalog_url, now=DUE + timedelta(days=40))
    assert [tuple(r[c] for c in guarantee_api.PAYOUT_COLUMNS) for r in rows] == july
    assert guarantee_api.pay("2025-07", lake, catalog_url=catalog_url, now=DUE + timedelta(days=41)) == rows
    assert guarantee_api.pay("2025-07", lake, brand="b2", catalog_url=catalog_url) == []
    # Late data: owed 7,500 from 2025-08-05 on; July's payout stays as it was, August's pays the 2,500.
    with api._lake(lake, catalog_url) as lk, lk.connect("test", transaction=True) as conn:
        store.record_settlement(conn, settle_guarantee(g, Measured(1.5, 15_000), DUE), DUE, DUE + timedelta(days=35))
    assert guarantee_api.pay("2025-07", lake, catalog_url=catalog_url, now=DUE + timedelta(days=42)) == rows
    aug = guarantee_api.pay("2025-08", lake, brand="b", catalog_url=catalog_url, now=DUE + timedelta(days=70))
    assert [(r["guarantee_id"], r["amount"]) for r in aug] == [("g9", "2500.00")]
    # Restated down to 1,000 owed after 7,500 paid: nothing more is paid; the brand was overpaid 6,500.
    with api._lake(lake, catalog_url) as lk, lk.connect("test", transaction=True) as conn:
        store.record_settlement(conn, settle_guarantee(g, Measured(2.8, 28_000), DUE), DUE, DUE + timedelta(days=75))
    assert guarantee_api.pay("2025-09", lake, catalog_url=catalog_url, now=DUE + timedelta(days=100)) == []
    with api._lake(lake, catalog_url) as lk, lk.connect("test") as conn:
        entries = store.load_guarantee_entries(conn, "b", "g9")
        payments = store.load_guarantee_payments(conn, "b", "g9")
    assert [(p.seq, p.amount_cents, p.batch) for p in payments] == [
        (0, 500_000, "guarantee-payout:b:2025-07"),
        (1, 250_000, "guarantee-payout:b:2025-08"),
    ]
    assert still_owed(entries, payments) == 100_000 - 750_000
    # Append-only: a payment with a used (brand, guarantee_id, seq) is refused by the key.
    lk = api._lake(lake, catalog_url)
    with lk, pytest.raises(CatalogError, match="guarantee_payments"), lk.connect("test", transaction=True) as conn:
        store.append_guarantee_payment(conn, payments[1])


def test_the_cli_pays_a_period_writes_the_payout_file_and_another_brand_pays_nothing(
    sim: tuple[Path, Path, str], lake: Path, tmp_path: Path
) -> None:
    """``hongmao guarantees pay``: the payout file of what settled contracts owe at the period's end, once; a
    brand's scope pays only its own contracts; ``list`` shows what is paid and still owed."""
    import csv

    data = ["--data", str(lake)]
    terms = ["--target-roi", "50", "--measure", "attributed", "--x-days", "0", "--spend", "1000"]
    made = runner.invoke(
        app, ["guarantees", "create", *data, "--brand", "lumiere", "--id", "gp", "--campaign", CAMPAIGN, *terms]
    )
    assert made.exit_code == 0, made.output
    due = json.loads(runner.invoke(app, ["guarantees", "list", *data, "--format", "json"]).stdout)[0]["due"]
    settled = runner.invoke(app, ["guarantees", "settle", "gp", *data, "--at", due, "--format", "json"])
    assert settled.exit_code == 0, settled.output
    owed = json.loads(settled.stdout)["owed"]
    assert Decimal(owed) > 0

    def pay(period: str, *scope: str) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
        out = tmp_path / f"payout-{period}-{'-'.join(scope) or 'all'}.csv"
        done = runner.invoke(
            app, ["guarantees", "pay", *data, "--period", period, "--payout", str(out), *scope, "--format", "json"]
        )
        assert done.exit_code == 0, done.output
        return json.loads(done.stdout), list(csv.DictReader(io_text(out)))

    # Recorded when settled (now): a period that ended before pays nothing; another brand's scope pays nothing.
    assert pay("2025-07") == ([], [])
    assert pay("2099-12", "--brand", "beibei") == ([], [])
    listed = json.loads(runner.invoke(app, ["guarantees", "list", *data, "--format", "json"]).stdout)
    assert [(r["paid"], r["outstanding"], r["payments"]) for r in listed] == [("0.00", owed, [])]
    shown, file = pay("2099-12", "--brand", "lumiere")
    assert (
        shown
        == file
        == [
            {
                "batch": "guarantee-payout:lumiere:2099-12",
                "brand": "lumiere",
                "guarantee_id": "gp",
                "amount": owed,
                "paid_at": "2099-12-31T23:59:59+00:00",
            }
        ]
    )
    assert pay("2099-12") == (shown, file)  # paying again adds nothing: the same file
    (row,) = json.loads(runner.invoke(app, ["guarantees", "list", *data, "--format", "json"]).stdout)
    assert (row["paid"], row["outstanding"], len(row["payments"])) == (owed, "0.00", 1)
    table = runner.invoke(app, ["guarantees", "list", *data, "--format", "csv"])
    assert table.stdout.splitlines()[0].endswith(",owed,paid,outstanding")
    bad = runner.invoke(app, ["guarantees", "pay", *data, "--period", "2099", "--payout", str(tmp_path / "x.csv")])
    assert bad.exit_code != 0 and "expected YYYY-MM" in str(bad.exception)


def io_text(path: Path) -> Any:
    import io

    return io.StringIO(path.read_text(encoding="utf-8").lstrip("\ufeff"))
