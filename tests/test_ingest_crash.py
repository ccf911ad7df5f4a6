"""kill -9 during `hongmao ingest`: no half-written batch becomes visible, and running it again completes the
lake exactly, with what was committed before the crash counted as duplicates."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import hongmao
from conftest import user

HONGMAO = shutil.which("hongmao") or str(Path(sys.executable).with_name("hongmao"))
EVENTS, BATCH = 120_000, 4_000


@pytest.mark.slow
def test_kill_during_ingest_loses_nothing_and_shows_no_partial_batch(tmp_path: Path) -> None:
    src = tmp_path / "big.jsonl"
    who = user(7)
    with src.open("w", encoding="utf-8") as fh:
        for i in range(EVENTS):
            fh.write(
                json.dumps(
                    {
                        "id": f"k{i}",
                        "type": "note.impression",
                        "source": "community",
                        "time": f"2025-06-{1 + i % 28:02d}T08:00:00+08:00",
                        "data": {"note_id": f"n{i % 500}", "user": who},
                    }
                )
                + "\n"
            )
    lake = tmp_path / "lake"
    proc = subprocess.Popen(
        [HONGMAO, "ingest", str(src), "--data", str(lake), "--batch-size", str(BATCH), "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Kill once at least one segment has committed, while later batches are still being written.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if any((lake / "segments").glob("seg-*.parquet")):
            time.sleep(0.3)
            break
        time.sleep(0.05)
    assert proc.poll() is None, "ingest finished before it could be killed; raise EVENTS"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    before = sum(hongmao.stats(lake)["events"].values())
    assert 0 < before < EVENTS
    assert before % BATCH == 0, "a visible partial batch"
    again = subprocess.run(
        [HONGMAO, "ingest", str(src), "--data", str(lake), "--batch-size", str(BATCH), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    out = json.loads(again.stdout)
    assert (out["accepted"], out["duplicate"]) == (EVENTS - before, before)
    assert hongmao.stats(lake)["events"] == {"note.impression": EVENTS}
