"""Benchmark the console's latency and the REST API's throughput on a 10,000-person world, over a real server.

    python bench/console.py                              # 10,000 people x 21 days, 4 brands (about 10 min)
    python bench/console.py --data /tmp/console-bench    # keep the world and lake; a second run reuses them
    python bench/console.py --rounds 5 --load-seconds 30 --clients 8

Builds the world as ``hongmao demo`` does (simulate, ingest, link the notes to the demo store), makes an
operator key and a key for the brand with the most sales, starts ``hongmao serve`` (``--workers``, default 1)
and signs in to the console as each. Then, for ``--rounds`` rounds:

* **just after an ingest**: a small batch (``--batch`` searches) goes in through ``POST /api/v1/events`` and
  every console page is asked for at once, one after another (the warm-up is working meanwhile);
* **after the warm-up**: another batch, the server's log is watched for the warm-up's "reports warmed" line,
  then every page is asked for once (what a person sees who opens the console a little after a change);
* **warm**: every page again, ``--warm`` times (the same lake version).

Last, ``--clients`` concurrent clients ask the REST API's report endpoints for ``--load-seconds`` seconds (a
brand key; every client waits for its answer before the next request, so the load is bounded).

Prints markdown tables: per page and phase p50 and p99 (of few samples: p99 is close to the maximum), how many
answers just after an ingest showed current figures, an earlier version's ("updating") or "computing", the
warm-up's time after each ingest (in full, and until every page's reports but the model comparison's fitted
models were warm), and the API's requests per second with their p50 and p99.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

from hongmao.web.console import pages

OPERATOR_PAGES = pages.paths(operator=True, reports_only=True)
BRAND_PAGES = pages.paths(operator=False, reports_only=True)
API_PATHS = (
    "/api/v1/reports/overview",
    "/api/v1/reports/funnel",
    "/api/v1/reports/timeseries",
    "/api/v1/reports/attribution?by=note&model=linear",
    "/api/v1/reports/campaign-roi",
)
WARMED = "reports warmed for lake version"
#: Logged when every page's reports but the model comparison's fitted models are warm (older servers: never).
PAGES_WARMED = "console pages warmed for lake version"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def build(data: Path, users: int, days: int, brands: int, seed: int, host: str) -> tuple[Path, str, str, str]:
    """The world and lake under ``data`` (reused if built before), and (lake, operator key, brand, brand key)."""
    import hongmao
    from hongmao import api
    from hongmao.web.auth import create_key
    from hongmao.web.demo_shop.setup import link_notes_to_store

    world, lake = data / "world", data / "lake"
    if not (lake / ".built").exists():
        shutil.rmtree(data, ignore_errors=True)
        began = time.perf_counter()
        print(f"simulating {users:,} people x {days} days, {brands} brands (seed {seed}) ...", flush=True)
        hongmao.simulate(world, seed=seed, users=users, days=days, brands=brands)
        report = hongmao.ingest(sorted((world / "events").glob("*.jsonl")), lake)
        os.environ["HONGMAO_LINK_HOSTS"] = host
        made = link_notes_to_store(lake, host, f"http://{host}")
        print(f"  {report.accepted:,} events, {made:,} links in {time.perf_counter() - began:.0f} s", flush=True)
        (lake / ".built").write_text("ok\n")
    by_brand = api.attribute(lake, "last", "brand")
    brand = str(max(by_brand.rows, key=lambda r: r["orders"])["key"])
    with api.open_lake(lake) as opened:
        operator = create_key(opened, "operator", label="console bench")[1]
        brand_key = create_key(opened, "brand", brand, label="console bench")[1]
    return lake, operator, brand, brand_key


class Served:
    """``hongmao serve`` in a child process, its log (JSON lines on stderr) watched for finished warm-ups."""

    def __init__(self, lake: Path, port: int, workers: int) -> None:
        self.log = lake.parent / "serve.log"
        self.base = f"http://127.0.0.1:{port}"
        command = [str(Path(sys.executable).with_name("hongmao")), "serve", "--data", str(lake), "--port", str(port)]
        command += ["--workers", str(workers)]
        env = {**os.environ, "HONGMAO_LINK_HOSTS": f"127.0.0.1:{port}"}
        self._out = self.log.open("wb")
        self.process = subprocess.Popen(command, stdout=self._out, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 600  # a loaded machine starts slowly
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise SystemExit(f"the server did not start; see {self.log}")

    def warmed(self, line: str = WARMED) -> int:
        return self.log.read_text(encoding="utf-8", errors="replace").count(line)

    def wait_warmed(self, count: int, timeout: float = 3600, pages: int | None = None) -> tuple[float, float]:
        """Seconds until the log holds more than ``count`` finished warm-ups, and until it held more than
        ``pages`` "pages warmed" lines (the full warm-up's time if the server never logs one)."""
        began = time.perf_counter()
        pages_at: float | None = None
        while self.warmed() <= count:
            if pages is not None and pages_at is None and self.warmed(PAGES_WARMED) > pages:
                pages_at = time.perf_counter() - began
            if time.perf_counter() - began > timeout:
                raise SystemExit(f"no warm-up finished within {timeout:.0f} s; see {self.log}")
            time.sleep(0.1)
        done = time.perf_counter() - began
        return done, done if pages_at is None else pages_at

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._out.close()


def sign_in(base: str, key: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=600)
    form = client.get("/console/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert token is not None, "the sign-in form has no token"
    signed = client.post("/console/login", data={"key": key, "next": "/console/", "csrf": token.group(1)})
    assert signed.status_code == 303, signed.text
    return client


#: What a page's answer showed: the current figures, an earlier version's ("updating") or "computing".
SHOWN = ("current", "stale", "computing")


def shown(html: str) -> str:
    """Which figures a console page showed (servers older than the "updating" notice: always current)."""
    if 'data-fresh="computing"' in html:
        return "computing"
    return "stale" if 'data-fresh="stale"' in html else "current"


def timed(client: httpx.Client, path: str, answers: dict[str, int] | None = None) -> float:
    """Seconds to answer ``path``; ``answers`` counts which figures it showed (:func:`shown`)."""
    began = time.perf_counter()
    response = client.get(path)
    seconds = time.perf_counter() - began
    if response.status_code != 200:
        raise SystemExit(f"{path}: {response.status_code} {response.text[:200]}")
    if answers is not None:
        kind = shown(response.text)
        answers[kind] = answers.get(kind, 0) + 1
    return seconds


def ingest(base: str, operator: str, size: int, when: str) -> None:
    from hongmao.identity import pseudonymize

    batch = [
        {
            "id": f"bench-{uuid.uuid4().hex}",
            "type": "market.search",
            "source": "market:demo",
            "time": when,
            "data": {"user": pseudonymize(f"bench-{i}", "console-bench-match-key"), "query": "面霜"},
        }
        for i in range(size)
    ]
    response = httpx.post(
        f"{base}/api/v1/events", json=batch, headers={"authorization": f"Bearer {operator}"}, timeout=600
    )
    accepted = response.json().get("accepted") if response.status_code == 200 else None
    if accepted != size:
        raise SystemExit(f"ingest: {response.status_code} {response.text[:300]}")


def load(base: str, key: str, clients: int, seconds: float) -> tuple[dict[str, float], dict[str, int]]:
    """``clients`` threads, each asking the report endpoints in turn for ``seconds`` seconds; the figures, and
    the answers that were not 200 by path and status (what a failure was, not only how many)."""
    latencies: list[float] = []
    errors = [0]
    failures: dict[str, int] = {}
    guard = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker(n: int) -> None:
        mine: list[float] = []
        bad = 0
        why: dict[str, int] = {}
        with httpx.Client(base_url=base, headers={"authorization": f"Bearer {key}"}, timeout=600) as c:
            i = n
            while time.perf_counter() < stop_at:
                began = time.perf_counter()
                path = API_PATHS[i % len(API_PATHS)]
                status: int | str
                try:
                    status = c.get(path).status_code
                except httpx.HTTPError as error:  # a refused or dropped connection counts as a failure
                    status = type(error).__name__
                mine.append(time.perf_counter() - began)
                if status != 200:
                    bad += 1
                    why[f"{path} {status}"] = why.get(f"{path} {status}", 0) + 1
                i += 1
        with guard:
            latencies.extend(mine)
            errors[0] += bad
            for what, n in why.items():
                failures[what] = failures.get(what, 0) + n

    began = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    figures = {
        "requests": len(latencies),
        "errors": errors[0],
        "rps": len(latencies) / wall,
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
    }
    return figures, failures


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=21)
    parser.add_argument("--brands", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, default=None, help="kept and reused (default: a temporary directory)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3, help="ingests measured just after and after the warm-up")
    parser.add_argument("--warm", type=int, default=5, help="warm samples per page and round")
    parser.add_argument("--batch", type=int, default=20, help="events per ingest")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--load-seconds", type=float, default=20.0)
    parser.add_argument(
        "--until",
        choices=("all", "pages"),
        default="all",
        help="'after the warm-up' waits for the whole warm-up, or (pages) for every report but the model "
        "comparison's fitted models (servers that never log it: the whole warm-up)",
    )
    parser.add_argument("--skip", action="append", default=[], help="a page not to ask for (repeatable)")
    args = parser.parse_args(argv)

    data = args.data or Path(tempfile.mkdtemp(prefix="hongmao-console-bench-"))
    port = free_port()
    lake, operator, brand, brand_key = build(data, args.users, args.days, args.brands, args.seed, f"127.0.0.1:{port}")
    from hongmao import api

    with api.open_lake(lake) as opened:
        when = str(opened.stats()["last"])
    served = Served(lake, port, args.workers)
    samples: dict[tuple[str, str], list[float]] = {}
    answers: dict[tuple[str, str], dict[str, int]] = {}
    warmups: list[float] = []
    pages_warm: list[float] = []
    try:
        started = time.perf_counter()  # the first ingest comes before the start's warm-up has finished
        clients = {"operator": sign_in(served.base, operator), brand: sign_in(served.base, brand_key)}
        pages = {
            who: [p for p in paths if p not in args.skip]
            for who, paths in (("operator", OPERATOR_PAGES), (brand, BRAND_PAGES))
        }

        def settled(done: int, pages_done: int) -> tuple[float, float]:
            """Wait for the warm-up ``--until`` names: (seconds to its end, to every page's reports but the
            fitted models); with ``--until pages`` the first is None-like (the whole warm-up not waited for)."""
            if args.until == "pages" and served.warmed(PAGES_WARMED) > pages_done:
                return float("nan"), 0.0
            began = time.perf_counter()
            while args.until == "pages" and served.warmed(PAGES_WARMED) <= pages_done and served.warmed() <= done:
                time.sleep(0.1)
            if args.until == "pages":
                part = time.perf_counter() - began
                return (part if served.warmed() > done else float("nan")), part
            return served.wait_warmed(done, pages=pages_done)

        def each_page(phase: str, times: int = 1) -> None:
            for who, client in clients.items():
                for path in pages[who]:
                    for _ in range(times):
                        counts = answers.setdefault((f"{path} ({who})", phase), {})
                        seconds = timed(client, path, counts)
                        samples.setdefault((f"{path} ({who})", phase), []).append(seconds)
                        print(f"  {phase:<22} {path} ({who}) {ms(seconds)} ms", flush=True)

        for r in range(args.rounds):
            print(f"round {r + 1}/{args.rounds}", flush=True)
            done, pages_done = served.warmed(), served.warmed(PAGES_WARMED)
            ingest(served.base, operator, args.batch, when)
            each_page("just after an ingest")
            settled(done, pages_done)
            if r == 0:
                first = time.perf_counter() - started
                print(f"  the first warm-ups done {first:.1f} s after the server answered", flush=True)
            done, pages_done = served.warmed(), served.warmed(PAGES_WARMED)
            ingest(served.base, operator, args.batch, when)
            full, part = settled(done, pages_done)
            warmups.append(full)
            pages_warm.append(part)
            print(
                f"  warm-up after an ingest: {full:.1f} s (every page but the fitted models: {part:.1f} s)", flush=True
            )
            each_page("after the warm-up")
            each_page("warm", args.warm)
        print(f"API load: {args.clients} clients for {args.load_seconds:.0f} s", flush=True)
        throughput, failures = load(served.base, brand_key, args.clients, args.load_seconds)
        for client in clients.values():
            client.close()
    finally:
        served.stop()

    phase_names = ("just after an ingest", "after the warm-up", "warm")
    print()
    print(f"{args.users:,} people x {args.days} days, {args.brands} brands; `hongmao serve --workers {args.workers}`")
    print()
    first_phase = f"{phase_names[0]}: {' / '.join(SHOWN)}"
    print("| page | " + " | ".join(f"{p} p50 / p99 (ms)" for p in phase_names) + f" | {first_phase} |")
    print("|---|" + "---:|" * (len(phase_names) + 1))
    for label in dict.fromkeys(page for page, _ in samples):
        cells = []
        for phase in phase_names:
            values = samples.get((label, phase), [])
            cells.append(f"{ms(percentile(values, 0.5))} / {ms(percentile(values, 0.99))}" if values else "-")
        counts = answers.get((label, phase_names[0]), {})
        cells.append("/".join(str(counts.get(k, 0)) for k in SHOWN))
        print(f"| `{label}` | " + " | ".join(cells) + " |")
    print()
    print(
        f"warm-up after an ingest: {', '.join(f'{w:.1f}' for w in warmups)} s "
        f"(median {statistics.median(warmups):.1f} s); at start, with the first ingest: {first:.1f} s"
    )
    print(f"all reports but the comparison's fitted models warm after: {', '.join(f'{w:.1f}' for w in pages_warm)} s")
    print()
    print("| API load | clients | seconds | requests | errors | requests/s | p50 (ms) | p99 (ms) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    t = throughput
    print(
        f"| {len(API_PATHS)} report endpoints, brand key | {args.clients} | {args.load_seconds:.0f} | "
        f"{t['requests']:,.0f} | {t['errors']:.0f} | {t['rps']:,.1f} | {ms(t['p50'])} | {ms(t['p99'])} |"
    )
    for what, n in sorted(failures.items()):
        print(f"not 200: {what} x {n}")
    if args.data is None:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
