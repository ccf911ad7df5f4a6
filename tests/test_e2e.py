"""End to end through the real ``hongmao`` command: simulate -> ingest -> stats -> attribute, the demo, and
attribute-paths on the shared fixtures."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import hongmao
from conftest import shared

HONGMAO = shutil.which("hongmao") or str(Path(sys.executable).with_name("hongmao"))
MODELS = ["first", "last", "linear", "time_decay", "position", "markov", "shapley"]


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.run([HONGMAO, *args], capture_output=True, text=True, env=env, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"hongmao {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def world_lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("e2e")
    world, lake = root / "world", root / "lake"
    cli("simulate", "--out", str(world), "--seed", "3", "--users", "800", "--days", "14", "--brands", "3")
    files = sorted(str(p) for p in (world / "events").glob("*.jsonl"))
    out = json.loads(cli("ingest", *files, "--data", str(lake), "--json").stdout)
    assert out["rejected"] == 0 and out["duplicate"] == 0 and out["accepted"] > 10_000
    return world, lake


def test_stats_match_the_simulated_files(world_lake: tuple[Path, Path]) -> None:
    world, lake = world_lake
    stats = json.loads(cli("stats", "--data", str(lake), "--json").stdout)
    counts: dict[str, int] = {}
    for path in (world / "events").glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            kind = json.loads(line)["type"]
            counts[kind] = counts.get(kind, 0) + 1
    assert stats["events"] == counts
    assert stats["rejected"] == 0 and stats["first"] < stats["last"]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("by", ["note", "creator", "campaign"])
def test_attribute_rows_sum_to_total(world_lake: tuple[Path, Path], model: str, by: str) -> None:
    _, lake = world_lake
    out = json.loads(cli("attribute", "--data", str(lake), "--model", model, "--by", by, "--format", "json").stdout)
    assert out["model"] == model and out["by"] == by
    assert out["total_orders"] > 0
    assert sum(r["orders"] for r in out["rows"]) == pytest.approx(out["total_orders"], rel=1e-9)
    assert all(r["net_gmv"] <= r["gmv"] + 1e-6 for r in out["rows"])


def test_ingesting_again_adds_nothing_and_library_agrees(world_lake: tuple[Path, Path]) -> None:
    world, lake = world_lake
    files = sorted(str(p) for p in (world / "events").glob("*.jsonl"))
    before = hongmao.stats(lake)
    again = json.loads(cli("ingest", *files, "--data", str(lake), "--json").stdout)
    assert again["accepted"] == 0 and again["duplicate"] == sum(before["events"].values())
    lib = hongmao.attribute(lake, "linear", "creator").to_dict()
    cmd = json.loads(
        cli("attribute", "--data", str(lake), "--model", "linear", "--by", "creator", "--format", "json").stdout
    )
    # Parallel float sums may differ in the last bits between runs; the results must agree to that precision.
    assert {k: v for k, v in lib.items() if k != "rows"} == {k: v for k, v in cmd.items() if k != "rows"}
    assert sorted(r["key"] for r in lib["rows"]) == sorted(r["key"] for r in cmd["rows"])
    want = {r["key"]: r for r in cmd["rows"]}
    for row in lib["rows"]:
        for field in ("orders", "gmv", "net_gmv"):
            assert row[field] == pytest.approx(want[row["key"]][field], rel=1e-9, abs=1e-9)


def test_csv_output(world_lake: tuple[Path, Path]) -> None:
    _, lake = world_lake
    text = cli("attribute", "--data", str(lake), "--model", "last", "--format", "csv").stdout
    assert text.splitlines()[0] == "key,orders,gmv,net_gmv"


def test_bad_options_are_usage_errors(world_lake: tuple[Path, Path]) -> None:
    _, lake = world_lake
    assert cli("attribute", "--data", str(lake), "--model", "nope", check=False).returncode == 1
    assert cli("attribute", "--data", str(lake), "--by", "planet", check=False).returncode == 1
    assert cli("attribute", "--data", str(lake), "--format", "xml", check=False).returncode == 2
    assert cli("attribute", "--data", str(lake), "--category-window", "beauty", check=False).returncode == 2


def test_demo_prints_the_report(tmp_path: Path) -> None:
    proc = cli("demo", "--data", str(tmp_path / "demo"), "--users", "600", "--days", "10", "--no-serve")
    text = proc.stdout
    for needle in ["Top notes", "Top creators", "last", "linear", "impressions", "search-back", "refunds", "orders"]:
        assert needle in text, needle
    assert "rejected 0" in text


def _journey_file(tmp_path: Path, case: dict[str, Any]) -> Path:
    inp = case["input"]
    lines = ["path;total_conversions;total_conversion_value;total_null"]
    for path, conv, null in zip(inp["path"], inp["total_conversions"], inp["total_null"], strict=True):
        lines.append(f"{path};{conv};{conv};{null}")
    out = tmp_path / "paths.csv"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


@pytest.mark.parametrize("model", ["first", "last", "linear", "position", "markov", "shapley"])
def test_attribute_paths_cli_reproduces_fixtures(tmp_path: Path, model: str) -> None:
    fixtures = json.loads(shared("attribution_fixtures.json").read_text(encoding="utf-8"))
    for name, case in fixtures["cases"].items():
        path = _journey_file(tmp_path, case)
        out = json.loads(cli("attribute-paths", str(path), "--model", model, "--format", "json").stdout)
        assert out["model"] == model
        got = {c["channel"]: c["conversions"] for c in out["channels"]}
        want = case["expected"][model]
        for channel in set(got) | set(want):
            assert got.get(channel, 0.0) == pytest.approx(want.get(channel, 0.0), abs=1e-9), (name, channel)
