"""Benchmark: the engine's last and linear attribution against the fastest hand-written queries.

    python bench/attribution.py                                  # 50M touchpoints, 1M orders, 3 rounds
    python bench/attribution.py --touches 5000000 --orders 100000   # the quick check
    python bench/attribution.py --data /tmp/hongmao-bench-attribution --rounds 3 --json out.json

The data set is generated once by DuckDB straight into lake-format Parquet segments under ``--data`` (outside
the repository; a directory per size, reused while its ``done`` marker is there). Then every contender runs,
each measurement in its own process, in rounds that alternate the contenders (each round starts one further
along the list). Peak memory is the step's own (``VmHWM``, which the step reads at its end), the peak of the
processes it started (Spark's driver JVM, ``VmHWM`` read while the session is open) and the peak of the whole
process tree's summed RSS, sampled every half second; the table gives the largest of the three and the JVM's
apart. (``wait4``'s ``ru_maxrss`` is not used: Linux carries a process's pre-exec high-water mark into it, so
every step read at least this process's own peak.)

- ``engine``: ``hongmao.engine.attribute_segments`` by note, the code ``hongmao attribute`` runs (Ibis compiled
  to DuckDB, with the click chain, searches, refunds, category windows and first-registration owners that the
  hand-written queries leave out). ``--engine-src DIR`` puts another checkout's ``src`` first on the path;
- the hand-written formulations of :mod:`attribution_queries` (DuckDB SQL, Polars lazy), for last and linear.

Every contender must report the same attributed order count (asserted) and, for each note, the engine's credit
and GMV (checked to 1e-6). The table gives medians, min-max and each contender's ratio to the fastest
hand-written query of the same model, median of the ratios measured round by round.

``--spark-touches N`` (default 10M, 0 for none) adds a second data set on which Spark local[2] runs the
equality-join query beside the engine and DuckDB's fastest, start-up (session and JVM) timed apart from the
query; it runs only when PySpark imports and ``java -version`` answers, and says so otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import attribution_queries as hand

GEN_SQL = """
COPY (
  WITH base AS (SELECT range AS i FROM range({touches}))
  SELECT
    'tp' || i AS id,
    CASE WHEN i % 10 < 5 THEN 'note.impression' WHEN i % 10 < 8 THEN 'note.read'
         WHEN i % 10 < 9 THEN 'note.like' ELSE 'note.collect' END AS type,
    'community' AS source,
    TIMESTAMPTZ '2025-06-01 00:00:00+00' + to_seconds(hash(i, 1) % (60 * 86400)) AS time,
    lpad(printf('%x', (i % {users})), 32, '0') AS "user",
    -- each person mostly reads notes of the brand they will buy (brand = person % brands)
    'n' || (((i % {users}) % {brands}) + {brands} * (hash(i, 2) % ({notes} // {brands}))) AS note_id,
    NULL::VARCHAR AS creator_id, NULL::VARCHAR AS brand, NULL::VARCHAR AS item_id, NULL::VARCHAR AS store_id,
    NULL::VARCHAR AS category, NULL::VARCHAR AS link_id, NULL::VARCHAR AS click_id, NULL::VARCHAR AS order_id,
    NULL::VARCHAR AS campaign_id, NULL::VARCHAR AS query, NULL::DOUBLE AS amount, NULL::BIGINT AS quantity,
    CASE WHEN i % 10 BETWEEN 5 AND 7 THEN (hash(i, 3) % 60000)::BIGINT END AS dwell_ms,
    NULL::BIGINT AS rating, NULL::BOOLEAN AS bot, '{{}}' AS data
  FROM base
) TO '{out}/seg-touches.parquet' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000);

COPY (
  WITH o AS (SELECT range AS i FROM range({orders}))
  SELECT 'ord' || i AS id, 'market.order' AS type, 'market:tmall' AS source,
    TIMESTAMPTZ '2025-06-15 00:00:00+00' + to_seconds(hash(i, 4) % (46 * 86400)) AS time,
    lpad(printf('%x', (i % {users})), 32, '0') AS "user",
    NULL::VARCHAR AS note_id, NULL::VARCHAR AS creator_id, NULL::VARCHAR AS brand,
    'item' || ((i % {users}) % {brands}) AS item_id, NULL::VARCHAR AS store_id, NULL::VARCHAR AS category,
    NULL::VARCHAR AS link_id, NULL::VARCHAR AS click_id, 'o' || i AS order_id, NULL::VARCHAR AS campaign_id,
    NULL::VARCHAR AS query, (10 + hash(i, 5) % 500)::DOUBLE AS amount, 1::BIGINT AS quantity,
    NULL::BIGINT AS dwell_ms, NULL::BIGINT AS rating, NULL::BOOLEAN AS bot, '{{}}' AS data
  FROM o
  UNION ALL
  SELECT 'note' || i, 'note.published', 'community', TIMESTAMPTZ '2025-05-01 00:00:00+00', NULL,
    'n' || i, 'c' || (i % 5000), 'brand' || (i % {brands}), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, '{{}}'
  FROM range({notes}) t(i)
  UNION ALL
  SELECT 'it' || i, 'item.listed', 'market:tmall', TIMESTAMPTZ '2025-05-01 00:00:00+00', NULL, NULL, NULL,
    'brand' || i, 'item' || i, 's' || i, 'cat' || (i % 5), NULL, NULL, NULL, NULL, NULL, 100.0, NULL, NULL,
    NULL, NULL, '{{}}'
  FROM range({brands}) t(i)
) TO '{out}/seg-market.parquet' (FORMAT parquet, COMPRESSION zstd);
"""

MODELS = ("last", "linear")
ENGINE = "engine"
CANDIDATE = "candidate"  # the engine from --candidate-src: a change measured against the engine, round by round


def is_engine(contender: str) -> bool:
    return contender.startswith((ENGINE, CANDIDATE))


def dataset(root: Path, touches: int, orders: int) -> Path:
    """The segments of one size, generated once (1M people per 1M orders, 20 brands, 100,000 notes)."""
    out = root / f"t{touches}-o{orders}"
    if (out / "done").exists():
        print(f"reusing {out}", flush=True)
        return out
    import duckdb

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    start = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute(GEN_SQL.format(touches=touches, orders=orders, users=orders, brands=20, notes=100_000, out=out))
    (out / "done").write_text(f"{touches} {orders}\n")
    print(f"generated {touches:,} touchpoints and {orders:,} orders in {time.perf_counter() - start:.0f} s", flush=True)
    return out


# --- one measurement, in its own process --------------------------------------------------------------------


def _engine(
    files: list[str], model: str, backend: str | None, threads: int, memory: str
) -> tuple[list[tuple[str, float, float]], float, float, int]:
    """The engine's rows, attributed orders, start-up seconds (opening the session: Spark's JVM) and the peak
    RSS of the processes the session started (Spark's JVM), read before the session closes."""
    import importlib

    # The module, not the package's re-export of the function of the same name.
    engine = importlib.import_module("hongmao.engine.attribute")

    paths = [Path(f) for f in files]
    if not hasattr(engine, "attribute"):  # the engine before the Session (596ebd2 and earlier)
        if backend:
            raise SystemExit("this engine has no Session: only the default backend")
        return (*_rows(engine.attribute_segments(paths, model=model, by="note")), 0.0, 0)
    from hongmao.engine.session import Session

    start = time.perf_counter()
    # The same threads and memory as the hand-written queries: DuckDB's limit, Spark's local[N] and driver heap.
    with Session(paths, engine=backend, threads=threads, memory_limit=memory) as session:
        startup = time.perf_counter() - start
        res = engine.attribute(session, model, by="note")
        children_kb = _children_peak_kb()
    return (*_rows(res), startup, children_kb)


def _rows(res: Any) -> tuple[list[tuple[str, float, float]], float]:
    return [(r["key"], r["orders"], r["gmv"]) for r in res.rows], res.total_orders


def _status_kb(pid: int, field: str) -> int:
    """``VmHWM`` (peak RSS) or ``VmRSS`` of a live process in kB from /proc, 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _descendants(root: int) -> list[int]:
    """The live processes under ``root`` (children, their children, ...), from the parent ids in /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces and brackets, so split after ")".
            ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        kids = parents.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def _children_peak_kb() -> int:
    """The summed peak RSS (``VmHWM``) of this process's live descendants: Spark's driver JVM (and any Python
    workers it forked). A JVM the step never waits for is missing from ``wait4``'s figure, so it is read here,
    while the session is still open; a sum of peaks, so at most what they held at once."""
    return sum(_status_kb(pid, "VmHWM") for pid in _descendants(os.getpid()))


class TreeSampler(threading.Thread):
    """The largest summed RSS of a step and all its descendants, sampled every ``every`` seconds until stopped:
    what the step's processes held at the same time (the Python driver and Spark's JVM together)."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.peak_kb = pid, every, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            total = sum(_status_kb(p, "VmRSS") for p in [self.pid, *_descendants(self.pid)])
            self.peak_kb = max(self.peak_kb, total)
            self.done.wait(self.every)


def run_step(contender: str, model: str, data: Path, credits: Path, threads: int, memory: str) -> None:
    files = sorted(str(p) for p in data.glob("seg-*.parquet"))
    startup = 0.0
    other_kb = 0
    start = time.perf_counter()
    if is_engine(contender):
        backend = contender.partition("@")[2] or None
        rows, attributed, startup, other_kb = _engine(files, model, backend, threads, memory)
        start += startup
    else:
        if contender.startswith("duckdb"):
            rows = hand.run_duckdb(contender, model, files, threads, memory)
        elif contender.startswith("polars"):
            rows = hand.run_polars(contender, model, files)
        else:
            spark = hand.spark_session(threads)
            startup = time.perf_counter() - start
            start = time.perf_counter()
            rows = hand.run_spark(spark, model, files)
            other_kb = _children_peak_kb()
        attributed = sum(r[1] for r in rows)
    seconds = time.perf_counter() - start
    credits.write_text(json.dumps(sorted([k, o, g] for k, o, g in rows)))
    # The step's own peak from /proc, not wait4's ru_maxrss: Linux carries the high-water mark of the memory a
    # process had before exec into ru_maxrss, and a child spawned by vfork had the parent's (the bench, which may
    # have just generated the data set), so ru_maxrss floors every step at the parent's peak.
    own_kb = _status_kb(os.getpid(), "VmHWM")
    print(
        json.dumps(
            {
                "seconds": seconds,
                "startup_s": startup,
                "attributed": attributed,
                "own_peak_kb": own_kb,
                "jvm_peak_kb": other_kb,
            }
        )
    )


def measure(contender: str, model: str, data: Path, args: argparse.Namespace) -> dict[str, Any]:
    credits = data / f"credits-{contender}-{model}.json"
    env = dict(os.environ)
    src = args.candidate_src if contender.startswith(CANDIDATE) else args.engine_src
    if src:
        env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    argv = [sys.executable, __file__, "--step", contender, "--model", model, "--step-data", str(data)]
    argv += ["--credits", str(credits), "--threads", str(args.threads), "--memory", args.memory]
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(argv, stdout=out, stderr=err, text=True, env=env)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        # wait4, not Popen.wait: the child's own rusage, so its peak RSS (and its waited children's) is its own.
        _, status, usage = os.wait4(proc.pid, 0)
        sampler.done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise SystemExit(f"{contender} {model} failed:\n{stderr[-3000:]}")
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    # Three readings of memory: the step's own peak (VmHWM, read by the step at its end); the peak of the processes
    # it started and never waited for (Spark's JVM, VmHWM read by the step while its session is open); and the
    # sampled peak of the whole tree's summed RSS, what Python and the JVM held at the same time. wait4's
    # ru_maxrss is kept for reference only (see run_step: it is floored at this process's own peak).
    result.update(contender=contender, model=model, wall_s=wall, credits=str(credits))
    result["wait4_maxrss_mb"] = usage.ru_maxrss / 1024
    result["python_peak_mb"] = result.pop("own_peak_kb") / 1024
    result["jvm_peak_mb"] = result.pop("jvm_peak_kb") / 1024
    result["tree_peak_mb"] = sampler.peak_kb / 1024
    result["peak_mb"] = max(result["python_peak_mb"], result["jvm_peak_mb"], result["tree_peak_mb"])
    return result


# --- the run -------------------------------------------------------------------------------------------------


def _credited(result: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """key -> (orders, gmv), keys credited nothing left out (the engine lists every touched note, last or not)."""
    rows = json.loads(Path(result["credits"]).read_text())
    return {k: (o, g) for k, o, g in rows if abs(o) > 1e-12}


def check_same(results: list[dict[str, Any]]) -> None:
    """The same attributed order count everywhere (asserted), and the engine's credit per note (checked)."""
    counts = {(r["contender"], r["model"]): round(r["attributed"]) for r in results}
    assert len(set(counts.values())) == 1, f"attributed orders differ: {counts}"
    for model in MODELS:
        mine = [r for r in results if r["model"] == model]
        ref = next((r for r in mine if is_engine(r["contender"])), mine[0] if mine else None)
        if ref is None:
            continue
        want = _credited(ref)
        for r in mine:
            got = _credited(r)
            assert got.keys() == want.keys(), f"{r['contender']} {model}: other notes than {ref['contender']}"
            worst = max((abs(got[k][0] - want[k][0]) + abs(got[k][1] - want[k][1]) / 1000 for k in want), default=0)
            assert worst < 1e-6, f"{r['contender']} {model}: credit differs from {ref['contender']} by {worst}"


def run_rounds(steps: list[tuple[str, str]], data: Path, args: argparse.Namespace, rounds: int) -> list[dict[str, Any]]:
    results = []
    for rnd in range(rounds):
        order = steps[rnd % len(steps) :] + steps[: rnd % len(steps)]
        for contender, model in order:
            try:
                r = measure(contender, model, data, args)
            except SystemExit as failure:
                if "spark" not in contender:
                    raise
                # Spark is optional here: a failure is reported and the comparison goes on without it.
                print(f"  round {rnd + 1} {contender} {model} FAILED: {str(failure)[-600:]}", flush=True)
                continue
            r["round"] = rnd
            results.append(r)
            if args.json:  # every measurement as it comes, so a run stopped part-way keeps what it measured
                with args.json.with_suffix(".steps.jsonl").open("a") as steps_file:
                    steps_file.write(json.dumps(r, default=str) + "\n")
            extra = f" (start-up {r['startup_s']:.1f} s)" if r["startup_s"] else ""
            if r["jvm_peak_mb"]:
                extra += f" (JVM peak {r['jvm_peak_mb']:.0f} MB)"
            print(
                f"  round {rnd + 1} {contender:<14} {model:<7} {r['seconds']:8.1f} s{extra} "
                f"{r['peak_mb']:7.0f} MB  {r['attributed']:,.0f} attributed",
                flush=True,
            )
    check_same(results)
    return results


def summarise(results: list[dict[str, Any]], title: str) -> list[dict[str, Any]]:
    rounds = sorted({r["round"] for r in results})
    table = []
    for contender, model in dict.fromkeys((r["contender"], r["model"]) for r in results):
        mine = [r for r in results if (r["contender"], r["model"]) == (contender, model)]
        secs = [r["seconds"] for r in mine]
        table.append(
            {
                "contender": contender,
                "model": model,
                "median_s": statistics.median(secs),
                "min_s": min(secs),
                "max_s": max(secs),
                "startup_s": statistics.median(r["startup_s"] for r in mine),
                "peak_mb": max(r["peak_mb"] for r in mine),
                "jvm_peak_mb": max(r["jvm_peak_mb"] for r in mine),
                "attributed": round(mine[0]["attributed"]),
            }
        )
    for model in MODELS:
        hand_rows = [t for t in table if t["model"] == model and not is_engine(t["contender"])]
        if not hand_rows:
            continue
        best = min(hand_rows, key=lambda t: t["median_s"])
        for t in table:
            if t["model"] != model:
                continue
            t["x_fastest"] = t["median_s"] / best["median_s"]
            t["fastest_hand"] = best["contender"]
            per_round = []
            for rnd in rounds:
                this = {r["contender"]: r["seconds"] for r in results if r["round"] == rnd and r["model"] == model}
                hands = [s for c, s in this.items() if not is_engine(c)]
                if t["contender"] in this and hands:
                    per_round.append(this[t["contender"]] / min(hands))
            t["x_rounds"] = per_round
    print(f"\n{title}")
    print(
        f"{'contender':<16} {'model':<7} {'median s':>9} {'min-max s':>13} {'x fastest':>9} {'rounds':>11} "
        f"{'peak MB':>8} {'JVM MB':>7} {'attributed':>11}"
    )
    for t in table:
        rr = t.get("x_rounds") or [0.0]
        print(
            f"{t['contender']:<16} {t['model']:<7} {t['median_s']:9.1f} {t['min_s']:6.1f}-{t['max_s']:<6.1f} "
            f"{t.get('x_fastest', 0):9.2f} {min(rr):5.2f}-{max(rr):<5.2f} {t['peak_mb']:8.0f} "
            f"{t['jvm_peak_mb']:7.0f} {t['attributed']:11,}"
        )
    return table


def spark_ready() -> str | None:
    """None when Spark can run here, else why not."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "PySpark is not installed"
    try:
        subprocess.run(["java", "-version"], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "no Java runtime answers `java -version`"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--touches", type=int, default=50_000_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=Path("/tmp/hongmao-bench-attribution"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--contenders",
        default="engine,duckdb-range,duckdb-eq,duckdb-int,polars-eq,polars-int",
        help="comma-separated; each runs every model it answers",
    )
    parser.add_argument("--models", default="last,linear")
    parser.add_argument("--spark-touches", type=int, default=10_000_000)
    parser.add_argument("--spark-rounds", type=int, default=1)
    parser.add_argument(
        "--spark-contenders",
        default="engine,engine@spark,DUCKDB,spark-eq",
        help="on the Spark data set; DUCKDB: the fastest DuckDB formulation of the main run",
    )
    parser.add_argument("--engine-src", type=Path, help="a src directory to import hongmao from instead")
    parser.add_argument("--candidate-src", type=Path, help="another src directory: the contender 'candidate'")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory", default="3GB", help="DuckDB's memory limit for the hand-written queries")
    parser.add_argument("--json", type=Path, help="write every measurement and the summaries here")
    parser.add_argument("--reuse", action="store_true", help="no-op: a generated data set is always reused")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--step-data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--credits", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        run_step(args.step, args.model, args.step_data, args.credits, args.threads, args.memory)
        return
    models = [m for m in args.models.split(",") if m]
    steps = []
    for contender in args.contenders.split(","):
        answers = MODELS if is_engine(contender) else hand.FORMULATIONS[contender]
        steps += [(contender, m) for m in models if m in answers]
    report: dict[str, Any] = {"machine": {"cores": os.cpu_count(), "load_before": os.getloadavg()}}
    report["main"] = {"results": [], "table": []}
    if args.rounds:  # --rounds 0: the Spark comparison alone
        data = dataset(args.data, args.touches, args.orders)
        results = run_rounds(steps, data, args, args.rounds)
        title = f"{args.touches:,} touchpoints, {args.orders:,} orders, {args.rounds} rounds"
        report["main"] = {"results": results, "table": summarise(results, title)}
    if args.spark_touches:
        why_not = spark_ready()
        if why_not:
            print(f"\nSpark: not run ({why_not})")
            report["spark"] = {"skipped": why_not}
        else:
            spark_orders = args.spark_touches // 50
            sdata = dataset(args.data, args.spark_touches, spark_orders)
            best_duck = min(
                (t for t in report["main"]["table"] if t["contender"].startswith("duckdb")),
                key=lambda t: t["median_s"],
                default={"contender": "duckdb-eq"},
            )["contender"]
            chosen = args.spark_contenders.replace("DUCKDB", best_duck).split(",")
            ssteps = [(c, m) for c in chosen for m in models]
            sresults = run_rounds(ssteps, sdata, args, args.spark_rounds)
            stitle = f"Spark local[{args.threads}], DuckDB: {args.spark_touches:,} touches, {spark_orders:,} orders"
            report["spark"] = {"results": sresults, "table": summarise(sresults, stitle)}
    report["machine"]["load_after"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main()
