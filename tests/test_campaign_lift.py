"""Campaign holdout lift: the shared holdout function, the statistics from group moments, the engine on a
hand-built lake (exact moments), a small simulated world, and ``hongmao lift`` in both modes with its usage
errors."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import event, user
from enginekit import T0, at, on, write_segment
from hongmao import settings
from hongmao.cli.app import app
from hongmao.engine import Windows
from hongmao.engine.campaign import campaign_lift
from hongmao.errors import ConfigError, InputError
from hongmao.identity import holdout_draw, holdout_mask, in_holdout
from hongmao.measure.campaign import GroupMoments, compare_groups, sample_ratio_p_value
from simkit import small_world

KEY = "test-holdout-key-0123456789"
runner = CliRunner()


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return small_world(tmp_path_factory)


# -- the holdout function --------------------------------------------------------------------------------------


def test_holdout_draw_is_the_documented_hmac() -> None:
    digest = hmac.new(KEY.encode(), b"cmp-1|abc", hashlib.sha256).digest()
    assert holdout_draw("abc", "cmp-1", KEY) == int.from_bytes(digest[:8], "big") / 2**64
    assert in_holdout("abc", "cmp-1", 1e-12, KEY) is False
    assert in_holdout("abc", "cmp-1", 0.0, KEY) is False


def test_the_simulator_uses_the_identity_holdout() -> None:
    import hongmao.sim as sim

    assert sim.in_holdout is in_holdout and sim.holdout_mask is holdout_mask
    people = [user(i) for i in range(300)]
    mask = holdout_mask(people, "cmp-x", 0.3, KEY)
    assert mask.tolist() == [in_holdout(p, "cmp-x", 0.3, KEY) for p in people]
    assert 0.15 < mask.mean() < 0.45


# -- statistics from moments -----------------------------------------------------------------------------------


def moments(values: list[float], gmv: list[float], net: list[float]) -> GroupMoments:
    return GroupMoments(
        n=len(values),
        orders=sum(values),
        orders_sumsq=sum(v * v for v in values),
        buyers=sum(1 for v in values if v > 0),
        gmv=sum(gmv),
        gmv_sumsq=sum(g * g for g in gmv),
        net_gmv=sum(net),
        net_gmv_sumsq=sum(x * x for x in net),
    )


def welch(t: list[float], h: list[float]) -> tuple[float, float]:
    def var(x: list[float]) -> float:
        m = sum(x) / len(x)
        return sum((v - m) ** 2 for v in x) / (len(x) - 1)

    diff = sum(t) / len(t) - sum(h) / len(h)
    return diff, math.sqrt(var(t) / len(t) + var(h) / len(h))


def test_compare_groups_matches_a_hand_computation() -> None:
    t_orders = [0.0] * 6 + [1.0, 1.0, 2.0, 1.0]
    h_orders = [0.0] * 4 + [1.0]
    t_gmv = [0.0] * 6 + [100.0, 80.0, 150.0, 60.0]
    h_gmv = [0.0] * 4 + [90.0]
    t_net = [0.0] * 6 + [100.0, 0.0, 150.0, 60.0]
    h_net = [0.0] * 4 + [90.0]
    result = compare_groups(
        moments(t_orders, t_gmv, t_net),
        moments(h_orders, h_gmv, h_net),
        spend=50.0,
        expected_holdout_share=1 / 3,
        min_group=2,
    )
    z = 1.959963984540054
    for scaled, t, h in (
        (result.orders, t_orders, h_orders),
        (result.gmv, t_gmv, h_gmv),
        (result.net_gmv, t_net, h_net),
    ):
        diff, se = welch(t, h)
        assert scaled.estimate == pytest.approx(diff * 10)
        assert scaled.ci95[0] == pytest.approx((diff - z * se) * 10)
        assert scaled.ci95[1] == pytest.approx((diff + z * se) * 10)
    assert result.orders.estimate == pytest.approx(5.0 - 0.2 * 10)
    assert result.conversion_rate.lift == pytest.approx(0.4 - 0.2)
    assert "Newcombe" in result.conversion_rate.method
    assert result.incremental_roi == pytest.approx(result.net_gmv.estimate / 50.0)
    assert result.incremental_roi_ci95 == pytest.approx((result.net_gmv.ci95[0] / 50, result.net_gmv.ci95[1] / 50))
    # 5 of 15 held out, exactly the expected third: chi-square 0, p 1
    assert result.srm_p_value == pytest.approx(1.0)
    assert result.warnings == []
    assert "Welch" in result.method and "Newcombe" in result.method
    out = result.to_dict()
    assert out["incremental_orders"]["estimate"] == pytest.approx(3.0)
    json.dumps(out)


def test_sample_ratio_mismatch_is_flagged() -> None:
    # 200 of 1000 held out where 10% was planned: chi2 = 100^2/100 + 100^2/900
    assert sample_ratio_p_value(200, 1000, 0.1) == pytest.approx(math.erfc(math.sqrt((100 + 100 / 9) / 2)))
    g = moments([0.0, 1.0] * 400, [0.0, 10.0] * 400, [0.0, 10.0] * 400)
    h = moments([0.0, 1.0] * 100, [0.0, 10.0] * 100, [0.0, 10.0] * 100)
    result = compare_groups(g, h, expected_holdout_share=0.1)
    assert result.srm_p_value is not None and result.srm_p_value < 1e-6
    assert "sample ratio mismatch" in result.warnings[0]


def test_small_groups_are_suppressed() -> None:
    g = moments([0.0, 1.0] * 30, [0.0, 1.0] * 30, [0.0, 1.0] * 30)
    h = moments([0.0, 1.0] * 20, [0.0, 1.0] * 20, [0.0, 1.0] * 20)
    with pytest.raises(InputError, match="fewer than 50 people"):
        compare_groups(g, h)


# -- the engine on a hand-built lake ---------------------------------------------------------------------------


def order(oid: str, who: str, days: float, amount: float, item: str = "i1") -> dict[str, Any]:
    return event(
        "market.order", at(days), order_id=oid, user=who, lines=[{"item_id": item, "price": amount}], amount=amount
    )


def hand_lake(tmp_path: Path) -> tuple[Path, list[str], list[str]]:
    people = [user(i) for i in range(1, 41)]
    held = [p for p in people if in_holdout(p, "k1", 0.5, KEY)]
    treated = [p for p in people if p not in held]
    assert len(held) >= 4 and len(treated) >= 5
    events = [
        event(
            "campaign.created",
            at(0),
            campaign_id="k1",
            brand="Lumi",
            spend=1000,
            start=at(1),
            end=at(3),
            holdout_share=0.5,
            notes=["n2"],
        ),
        event("item.listed", at(0), item_id="i1", store_id="s1", brand="Lumi", category="skincare", price=100),
        event("item.listed", at(0), item_id="i2", store_id="s2", brand="Oat", category="babyfood", price=50),
        event("note.published", at(0), note_id="n1", creator_id="c1", brand="Lumi", items=["i1"]),
        event("note.published", at(0.5), note_id="n2", creator_id="c2", brand="Lumi", items=["i1"]),
    ]
    events += [event("note.impression", at(1.5), note_id="n1", user=p) for p in people]
    outsider = user(99)  # seen only after the campaign: not a unit
    events.append(event("note.impression", at(5), note_id="n1", user=outsider))
    events += [
        order("o1", treated[0], 2, 100),
        order("o2", treated[1], 3.5, 80),
        order("o3", treated[2], 4, 150),
        order("o4", treated[2], 6, 50),
        order("o5", held[0], 2.5, 90),
        event("market.refund", at(7), order_id="o5", amount=30, reason="quality"),
        order("o6", treated[3], 2, 50, item="i2"),  # another brand
        order("o7", treated[4], 30, 100),  # after the window (end + 5 days)
        order("o8", outsider, 6, 100),  # not a unit
        order("o9", treated[0], 0.5, 100),  # before the campaign
        event("note.read", at(1.6), note_id="n2", user=treated[0], dwell_ms=5000),
        event("note.impression", at(1.7), note_id="n2", user=held[1]),  # a leak the check must see
    ]
    return write_segment(tmp_path / "seg.parquet", events), treated, held


def test_engine_moments_are_exact(tmp_path: Path) -> None:
    seg, treated, held = hand_lake(tmp_path)
    result = campaign_lift(on([seg]), "k1", KEY, window_days=5, min_group=2)
    c = result.comparison
    assert (c.treated.n, c.holdout.n) == (len(treated), len(held))
    assert (c.treated.orders, c.treated.orders_sumsq, c.treated.buyers) == (4.0, 6.0, 3)
    assert (c.treated.gmv, c.treated.gmv_sumsq) == (380.0, 100**2 + 80**2 + 200**2)
    assert (c.holdout.orders, c.holdout.buyers, c.holdout.gmv, c.holdout.net_gmv) == (1.0, 1, 90.0, 60.0)
    assert c.holdout.net_gmv_sumsq == 60.0**2
    assert c.orders.estimate == pytest.approx((4 / len(treated) - 1 / len(held)) * len(treated))
    assert result.category == "skincare" and result.window_days == 5.0
    assert result.window_end == T0 + timedelta(days=8) and result.window_complete
    assert (result.treated_exposed, result.holdout_exposed) == (1, 1)
    assert any("held-out people touched" in w for w in result.warnings)
    # the category's window drives the outcome window when none is given
    by_category = campaign_lift(on([seg]), "k1", KEY, windows=Windows.with_category_days({"skincare": 5}), min_group=2)
    assert by_category.comparison == c
    default = campaign_lift(on([seg]), "k1", KEY, min_group=2)  # 15 days: the lake ends on day 30
    assert default.window_days == 15.0 and default.comparison.treated.orders == 4.0
    out = result.to_dict()
    assert out["campaign"]["campaign_id"] == "k1" and out["window"]["complete"] is True
    json.dumps(out)


def test_engine_errors_name_the_problem(tmp_path: Path) -> None:
    seg, _, _ = hand_lake(tmp_path)
    with pytest.raises(InputError, match=r"no campaign 'k9'.*k1"):
        campaign_lift(on([seg]), "k9", KEY)
    with pytest.raises(InputError, match="privacy threshold"):
        campaign_lift(on([seg]), "k1", KEY)
    with pytest.raises(InputError, match="zero or more days"):
        campaign_lift(on([seg]), "k1", KEY, window_days=-1, min_group=2)


# -- a simulated world --------------------------------------------------------------------------------------


def test_simulated_world_holdout_is_recomputed_exactly(sim: tuple[Path, Path]) -> None:
    world, lake = sim
    out = runner.invoke(
        app, ["lift", "--campaign", "cmp-lumiere-1", "--data", str(lake), "--world", str(world), "--format", "json"]
    )
    assert out.exit_code == 0, out.output
    r = json.loads(out.stdout)
    truth = {
        c["campaign_id"]: c
        for c in map(json.loads, (world / "truth" / "campaigns.jsonl").read_text(encoding="utf-8").splitlines())
    }["cmp-lumiere-1"]
    # Everyone in the simulated world is in the community every few days: every person is a unit.
    assert r["treated"]["n"] + r["holdout"]["n"] >= truth["treated_users"] + truth["holdout_users"]
    # Units touching the campaign's notes: the truth's exposed people (fake accounts and people first seen
    # after the campaign differ a little); held out: nobody.
    assert r["exposed"]["holdout"] == 0
    assert abs(r["exposed"]["treated"] - truth["exposed_users"]) <= 0.05 * truth["exposed_users"] + 30
    assert r["srm_p_value"] > 0.001
    assert all(w.startswith("the lake ends") for w in r["warnings"])
    lo, hi = r["incremental_orders"]["ci95"]
    assert lo <= r["incremental_orders"]["estimate"] <= hi
    assert "Welch" in r["method"] and "Newcombe" in r["conversion_rate"]["method"]


def test_wrong_key_shows_as_exposed_holdout(sim: tuple[Path, Path]) -> None:
    _, lake = sim
    from hongmao import api

    result = api.campaign_lift(lake, "cmp-lumiere-1", holdout_key="not-the-key-of-this-world")
    assert result.holdout_exposed > 10
    assert any("key may be wrong" in w for w in result.warnings)


def test_table_output_and_key_from_settings(
    sim: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, lake = sim
    key = json.loads((world / "truth" / "world.json").read_text(encoding="utf-8"))["config"]["holdout_key"]
    key_file = tmp_path / "holdout.key"
    key_file.write_text(key + "\n", encoding="utf-8")
    monkeypatch.delenv("HONGMAO_HOLDOUT_KEY", raising=False)
    monkeypatch.delenv("HONGMAO_HOLDOUT_KEY_FILE", raising=False)
    by_file = runner.invoke(
        app, ["lift", "--campaign", "cmp-lumiere-1", "--data", str(lake), "--holdout-key-file", str(key_file)]
    )
    assert by_file.exit_code == 0, by_file.output
    for needle in ("incremental orders", "conversion rate", "95% CI", "method:", "held out"):
        assert needle in by_file.stdout
    monkeypatch.setenv("HONGMAO_HOLDOUT_KEY", key)
    by_env = runner.invoke(app, ["lift", "--campaign", "cmp-lumiere-1", "--data", str(lake), "--format", "json"])
    assert by_env.exit_code == 0
    by_world = runner.invoke(
        app,
        ["lift", "--campaign", "cmp-lumiere-1", "--data", str(lake), "--world", str(world), "--format", "json"],
    )
    env, via_world = json.loads(by_env.stdout), json.loads(by_world.stdout)
    for group in ("treated", "holdout"):
        for field in ("n", "orders", "buyers"):
            assert env[group][field] == via_world[group][field]
    # parallel float sums may differ in the last bits between runs
    assert env["incremental_gmv"]["estimate"] == pytest.approx(via_world["incremental_gmv"]["estimate"])


# -- the command's modes and usage errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--units", "u.csv", "--campaign", "k1"],
        ["--units", "u.csv", "--data", "lake"],
        ["--units", "u.csv", "--group", "arm"],
        ["--data", "lake"],
        ["--campaign", "k1", "--world", "w", "--holdout-key-file", "k"],
        ["--campaign", "k1", "--interval", "welch"],
        ["--campaign", "k1", "--format", "xml"],
        ["--campaign", "k1", "--window-days", "-2"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    out = runner.invoke(app, ["lift", *args])
    assert out.exit_code == 2, out.output


def test_missing_key_is_a_config_error(sim: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    _, lake = sim
    monkeypatch.delenv("HONGMAO_HOLDOUT_KEY", raising=False)
    monkeypatch.delenv("HONGMAO_HOLDOUT_KEY_FILE", raising=False)
    out = runner.invoke(app, ["lift", "--campaign", "cmp-lumiere-1", "--data", str(lake)])
    assert out.exit_code == 1 and isinstance(out.exception, ConfigError)
    assert "HONGMAO_HOLDOUT_KEY" in str(out.exception)


def test_unit_mode_still_works(tmp_path: Path) -> None:
    table = tmp_path / "u.csv"
    rows = ["arm,spend"] + [f"a,{i % 3}" for i in range(10)] + [f"b,{i % 2}" for i in range(10)]
    table.write_text("\n".join(rows) + "\n", encoding="utf-8")
    args = ["lift", "--units", str(table), "--group", "arm", "--treatment", "a", "--holdout", "b", "--metric", "spend"]
    out = runner.invoke(app, [*args, "--format", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["lift"] == pytest.approx(0.9 - 0.5)


def test_holdout_key_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HONGMAO_HOLDOUT_KEY", raising=False)
    monkeypatch.delenv("HONGMAO_HOLDOUT_KEY_FILE", raising=False)
    assert "holdout_key" in settings.SETTINGS and "holdout_key_file" in settings.SETTINGS
    with pytest.raises(ConfigError, match="no holdout key"):
        settings.holdout_key()
    path = tmp_path / "k"
    path.write_text("from-a-file-0123456789\n", encoding="utf-8")
    monkeypatch.setenv("HONGMAO_HOLDOUT_KEY_FILE", str(path))
    assert settings.holdout_key() == "from-a-file-0123456789"
    monkeypatch.setenv("HONGMAO_HOLDOUT_KEY", "from-the-environment-0123")
    assert settings.holdout_key() == "from-the-environment-0123"
    assert settings.holdout_key(key_file=path) == "from-a-file-0123456789"
    with pytest.raises(ConfigError, match="at least 16 bytes"):
        settings.holdout_key("short")
    (tmp_path / "empty").write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="empty"):
        settings.holdout_key(key_file=tmp_path / "empty")
