"""One conformance suite for every engine: the same queries on DuckDB, a local Spark and Spark through Spark Connect.

Every engine query runs on every backend over one small simulated lake (attribution by every model and grouping,
windows per category and from cycles, the click chain, refunds in net GMV, excluded accounts, the funnel, decision
cycles, ROI(T+x), campaign lift, the trust queries, the brand-scope view) and must agree with DuckDB's answer: the
same keys, numbers equal to 1e-9. A backend lacking a capability (``backends.CAPABILITIES``) has the cases that
need it marked ``xfail(strict=True)`` from its own table, never skipped. The golden path fixtures
(``../shared/data/attribution_fixtures.json``) also go through the engine as events and must equal
``attribute_paths`` on the same journeys.

The backend fixture is module-scoped and parametrised, so pytest runs every case on DuckDB, then on Spark, then on
Spark Connect: one Spark per leg, and the Spark Connect client (which marks the process as a Connect client) only
after the local Spark is done. The Spark legs skip, with the reason, only where PySpark or Java 17 is missing; CI
installs both (``.ci/run``).
"""

from __future__ import annotations

import dataclasses
import gc
import importlib
import json
import math
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import sparkkit
from conftest import SHARED_DATA, event
from enginekit import at, write_segment
from hongmao.attribution import PathRow, attribute_paths
from hongmao.engine import owners, tables, trust_disclosure, trust_engagement, trust_outcomes
from hongmao.engine.backends import resolve
from hongmao.engine.session import Session
from hongmao.engine.windows import Windows
from hongmao.reports.scope import brand_events

attribution = importlib.import_module("hongmao.engine.attribute")
campaign = importlib.import_module("hongmao.engine.campaign")
cycles = importlib.import_module("hongmao.engine.cycles")
funnel = importlib.import_module("hongmao.engine.funnel")
trust = importlib.import_module("hongmao.engine.trust")

pytestmark = [
    pytest.mark.slow,
    # PySpark 4.0's Spark Connect client logs through logging.Logger.warn, deprecated in Python 3.13's logging
    # (a DeprecationWarning from its release-execute threads, after a result has been read).
    pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated, use 'warning' instead:DeprecationWarning"),
    # Py4J (local Spark's bridge to the JVM) leaves pooled sockets to the garbage collector.
    pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning"),
    pytest.mark.filterwarnings("ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"),
]

BACKENDS = ("duckdb", "spark", "spark-connect")
TOLERANCE = 1e-9
HOLDOUT_KEY = "hongmao-sim-holdout-key-2025"  # the simulator's default (sim/config.py)
USERS, DAYS, BRANDS, SEED = 500, 10, 3, 7


# ---- backends, the lake, and DuckDB's answers ------------------------------------------------------------------


@pytest.fixture(scope="module", params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The engine setting of one leg: ``duckdb``, ``spark``, or the ``sc://`` address of a server started here."""
    name: str = request.param
    if name == "duckdb":
        yield name
        return
    missing = sparkkit.spark_missing()
    if missing:
        pytest.skip(f"{name}: {missing}")
    if name == "spark":
        yield name
        # Stop the local Spark and collect Py4J's sockets here, under this module's warning filters, not in
        # whichever test of another module the garbage collector happens to run in.
        from pyspark.sql import SparkSession

        active = SparkSession.getActiveSession()
        if active is not None:
            active.stop()
        gc.collect()
        return
    with sparkkit.connect_server(tmp_path_factory.mktemp("spark-connect")) as url:
        yield url


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    import hongmao

    root = tmp_path_factory.mktemp("conformance")
    summary = hongmao.simulate(root / "world", seed=SEED, users=USERS, days=DAYS, brands=BRANDS)
    report = hongmao.ingest(summary.files, root / "lake")
    assert report.rejected == 0
    return sorted((root / "lake" / "segments").glob("*.parquet"))


@pytest.fixture(scope="module")
def session(engine: str, lake: list[Path]) -> Iterator[Session]:
    with Session(lake, engine=engine, threads=2, memory_limit="1GB") as opened:
        yield opened


_EXPECTED: dict[str, Any] = {}


@pytest.fixture(scope="module")
def duck(lake: list[Path]) -> Iterator[Session]:
    with Session(lake, engine="duckdb") as opened:
        yield opened


def expected(duck: Session, name: str, query: Callable[[Session], Any]) -> Any:
    """DuckDB's answer to a case, computed once for all legs."""
    if name not in _EXPECTED:
        _EXPECTED[name] = plain(query(duck))
    return _EXPECTED[name]


def needs(engine: str, capability: str, request: pytest.FixtureRequest) -> None:
    """Mark the running case xfail(strict) when the leg's backend lacks ``capability``, from its own table."""
    backend, _ = resolve("spark" if engine.startswith("sc://") else engine)
    if capability not in backend.capabilities:
        reason = f"the {backend.name} backend lacks {capability}"
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


# ---- comparing answers -----------------------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """An answer as JSON-like data: dataclasses and results as dicts, lists of rows in a fixed order."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    if hasattr(value, "to_dict"):
        return plain(value.to_dict())
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [plain(v) for v in value]
        if isinstance(value, set | frozenset) or (items and all(isinstance(v, dict) for v in items)):
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, default=str))
        return items
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def assert_same(got: Any, want: Any, where: str = "") -> None:
    if isinstance(want, float) or isinstance(got, float):
        assert isinstance(got, int | float) and isinstance(want, int | float), f"{where}: {got!r} vs {want!r}"
        if math.isnan(want):
            assert math.isnan(got), where
        else:
            assert got == pytest.approx(want, abs=TOLERANCE, rel=TOLERANCE), where
        return
    if isinstance(want, dict):
        assert isinstance(got, dict), f"{where}: {got!r}"
        assert sorted(got) == sorted(want), f"{where}: keys differ"
        for key in want:
            assert_same(got[key], want[key], f"{where}.{key}")
        return
    if isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), f"{where}: {len(got)} rows vs {len(want)}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same(g, w, f"{where}[{i}]")
        return
    assert got == want, f"{where}: {got!r} != {want!r}"


def conforms(session: Session, duck: Session, name: str, query: Callable[[Session], Any]) -> Any:
    want = expected(duck, name, query)
    got = plain(query(session))
    assert_same(got, want, name)
    return got


def rows(session: Session, expr: Any) -> list[dict[str, Any]]:
    return session.rows(expr)


# ---- attribution ------------------------------------------------------------------------------------------------

RULE_MODELS = ("first", "last", "linear", "time_decay", "position")
GROUPINGS = ("note", "creator", "brand", "campaign", "item")
CASES = [(m, by) for m in RULE_MODELS for by in GROUPINGS] + [
    (m, by) for m in ("markov", "shapley") for by in ("note", "creator", "campaign")
]


@pytest.mark.parametrize(("model", "by"), CASES)
def test_attribution(session: Session, duck: Session, model: str, by: str) -> None:
    got = conforms(session, duck, f"attr-{model}-{by}", lambda s: attribution.attribute(s, model, by=by))
    assert got["rows"], "a world with orders credits something"


def test_hazard_attribution(session: Session, duck: Session) -> None:
    conforms(session, duck, "attr-hazard-note", lambda s: attribution.attribute(s, "hazard", by="note"))


def test_category_windows(session: Session, duck: Session) -> None:
    windows = Windows.with_category_days({"skincare": 3, "baby_food": 40, "electronics": 9})
    conforms(session, duck, "windows", lambda s: attribution.attribute(s, "last", by="note", windows=windows))


def test_windows_from_cycles(session: Session, duck: Session) -> None:
    def query(s: Session) -> Any:
        report = cycles.decision_cycles(s, lookback_days=20, min_purchases=5)
        return attribution.attribute(s, "linear", by="note", windows=cycles.cycle_windows(report))

    conforms(session, duck, "cycle-windows", query)


def test_click_chain(session: Session, duck: Session) -> None:
    got = conforms(session, duck, "clicks", lambda s: attribution.attribute(s, "last", by="note", touches=["click"]))
    assert got["rows"], "link clicks (visitor from the click -> visit -> order chain) credit orders"


def test_refunds_net_out(session: Session, duck: Session) -> None:
    got = conforms(session, duck, "refunds", lambda s: rows(s, tables.conversions(s.events).order_by("order_id")))
    assert any(r["refunded"] > 0 for r in got), "the world has refunds"


def test_excluded_accounts(session: Session, duck: Session) -> None:
    people = [r["user"] for r in rows(duck, tables.touches(duck.events, frozenset({"read"})).select("user").distinct())]
    left_out = sorted(people)[:25]

    def query(s: Session) -> Any:
        return [
            attribution.attribute(s, "linear", by="creator", exclude_users=left_out),
            funnel.funnel(s, exclude_users=left_out),
        ]

    conforms(session, duck, "excluded", query)


# ---- funnel, cycles, ROI, lift -------------------------------------------------------------------------------------


def test_funnel(session: Session, duck: Session) -> None:
    conforms(session, duck, "funnel", funnel.funnel)


@pytest.mark.parametrize("method", ["excess-lag", "first-exposure"])
def test_decision_cycles(session: Session, duck: Session, method: str) -> None:
    conforms(
        session,
        duck,
        f"cycles-{method}",
        lambda s: cycles.decision_cycles(s, method=method, lookback_days=20, min_purchases=5).to_dict(profile=True),
    )


def test_roi_at_cycles(session: Session, duck: Session) -> None:
    def query(s: Session) -> Any:
        return cycles.roi_at_cycles(s, cycles.decision_cycles(s, lookback_days=20, min_purchases=5))

    assert conforms(session, duck, "roi", query), "the world has campaigns"


def test_campaign_lift(session: Session, duck: Session) -> None:
    def query(s: Session) -> Any:
        known = campaign.campaigns(s, s.events)
        held = [cid for cid, info in sorted(known.items()) if info.holdout_share > 0]
        return [campaign.campaign_lift(s, cid, HOLDOUT_KEY, min_group=2) for cid in held]

    assert conforms(session, duck, "lift", query), "the world has a campaign with a holdout"


# ---- trust and the brand scope -------------------------------------------------------------------------------------


def _evidence(s: Session) -> Any:
    return trust_disclosure.evidence_rows(s, s.events)


TRUST_QUERIES: dict[str, Callable[[Session], Any]] = {
    "evidence": _evidence,
    "activity": lambda s: rows(s, trust_engagement.account_activity(s.events, 3_000)),
    "lockstep": lambda s: rows(s, trust_engagement.lockstep_pairs(s.events, 600, 1)),
    "note-engagement": lambda s: rows(s, trust_engagement.note_engagement(s.events, 3_600, ["nobody"])),
    "outcomes": lambda s: rows(s, trust_outcomes.order_outcomes(s.events)),
    "credited": lambda s: rows(s, trust_outcomes.credited(s.events, "creator")),
    "note-items": lambda s: rows(s, trust_outcomes.note_items(s.events)),
    "inputs": trust.trust_inputs,
    "flagged": trust.flagged_accounts,
}


@pytest.mark.parametrize("name", list(TRUST_QUERIES))
def test_trust(session: Session, duck: Session, engine: str, name: str, request: pytest.FixtureRequest) -> None:
    if name in ("evidence", "inputs", "note-items"):
        needs(engine, "json_arrays", request)  # a campaign record's notes, a note's items: JSON arrays
    conforms(session, duck, f"trust-{name}", TRUST_QUERIES[name])


def test_brand_scope(session: Session, duck: Session) -> None:
    def query(s: Session) -> Any:
        names = sorted(r["brand"] for r in rows(s, tables.brands(s.events)))
        return {b: sorted(r["id"] for r in rows(s, brand_events(s.events, b).select("id"))) for b in names}

    got = conforms(session, duck, "scope", query)
    assert len(got) == BRANDS and all(got.values())


def test_owners(session: Session, duck: Session) -> None:
    def query(s: Session) -> Any:
        return {kind: rows(s, owners.owners(s.events, kind)) for kind in owners.KINDS}

    conforms(session, duck, "owners", query)


def test_empty_lake(engine: str, session: Session) -> None:
    """No segments: the typed empty events table (an in-memory table) goes through the same queries."""
    with Session([], engine=engine, threads=2) as empty:
        result = attribution.attribute(empty, "linear", by="note")
        assert (result.rows, result.orders) == ([], 0)
        assert funnel.funnel(empty)["orders"] == 0


# ---- the golden path fixtures, as events -------------------------------------------------------------------------

FIXTURES = SHARED_DATA / "attribution_fixtures.json"
FIXTURE_MODELS = ("first", "last", "linear", "position", "markov", "shapley")
PRICE = 7.5


def _fixture_cases() -> list[Any]:
    if not FIXTURES.exists():
        reason = f"attribution fixtures {FIXTURES} are absent (CI has them at ../shared/data beside the clone)"
        return [pytest.param("none", None, marks=pytest.mark.skip(reason=reason))]
    cases = json.loads(FIXTURES.read_text(encoding="utf-8"))["cases"]
    return [pytest.param(name, case, id=name) for name, case in cases.items()]


def journeys_as_events(case: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Each journey of the case as one person's reads of one note per channel (in path order, a minute apart) and,
    for a converting journey, an order of the brand's item an hour after the last read. Returns the events and
    note id -> channel."""
    given = case["input"]
    channels = sorted({step for path in given["path"] for step in path.split(" > ")})
    note_of = {channel: f"note-{i}" for i, channel in enumerate(channels)}
    events = [event("item.listed", at(0), item_id="i1", store_id="s1", brand="Fx", category="c", price=PRICE)]
    events += [
        event("note.published", at(0), note_id=note, creator_id=f"cr-{note}", brand="Fx", items=["i1"])
        for note in note_of.values()
    ]
    person = 0
    for path, converted, idle in zip(given["path"], given["total_conversions"], given["total_null"], strict=True):
        steps = path.split(" > ")
        for k in range(int(converted) + int(idle)):
            person += 1
            user = f"{person:032x}"  # a pseudonym: 32 hex digits
            for j, step in enumerate(steps):
                events.append(event("note.read", at(1 + j / 1440), note_id=note_of[step], user=user, dwell_ms=9000))
            if k < int(converted):
                line = {"item_id": "i1", "quantity": 1, "price": PRICE}
                order = {"order_id": f"o-{person}", "lines": [line], "amount": PRICE, "user": user}
                events.append(event("market.order", at(1 + len(steps) / 1440 + 1 / 24), **order))
    return events, {note: channel for channel, note in note_of.items()}


@pytest.mark.parametrize(("name", "case"), _fixture_cases())
def test_fixture_journeys_through_the_engine(engine: str, tmp_path: Path, name: str, case: dict[str, Any]) -> None:
    events, channel_of = journeys_as_events(case)
    segment = write_segment(tmp_path / f"{name}.parquet", events)
    given = case["input"]
    paths = [
        PathRow(tuple(path.split(" > ")), float(c), PRICE * c, float(n))
        for path, c, n in zip(given["path"], given["total_conversions"], given["total_null"], strict=True)
    ]
    with Session([segment], engine=engine, threads=2) as s:
        for model in FIXTURE_MODELS:
            result = attribution.attribute(s, model, by="note", touches=["read"])
            got = {channel_of[r["key"]]: r["orders"] for r in result.rows}
            want = {c.channel: c.conversions for c in attribute_paths(paths, model)}
            for channel in set(got) | set(want):
                assert got.get(channel, 0.0) == pytest.approx(want.get(channel, 0.0), abs=TOLERANCE), (model, channel)
            assert sum(got.values()) == pytest.approx(sum(given["total_conversions"]), abs=TOLERANCE), model
