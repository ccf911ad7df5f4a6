"""Benchmark: the link redirect with durable click logging, against nginx and a FastAPI route, on loopback.

    python bench/redirect.py [--duration 10] [--connections 64] [--threads 1] [--rounds 3]
                             [--json bench/out/redirect.json]

Targets, each answering GET /l/<token> with a 302 to the same Tmall item URL, measured by wrk with the same
settings (64 connections, a phone browser's User-Agent so clicks count as people's):

- **hongmao**: ``hongmao serve`` (Granian, one worker) on a real link: token verified, click line written to
  the log before the 302, log fsynced every 50 ms, folded into the lake at idle priority;
- **hongmao-cores**: the same with one worker per core (``--workers $(nproc)``), as it would be deployed;
- **nginx**: ``return 302`` in a bare nginx (worker_processes auto, i.e. one per core; access log off): the
  strongest nginx, logging nothing while hongmao logs every click;
- **nginx-log**: the same nginx logging every request as Debian's stock configuration does: ``access_log`` to a
  file (in the run's temporary directory), default ``combined`` format, unbuffered (one ``write`` per request,
  nginx's default), no fsync;
- **fastapi**: a minimal FastAPI route returning ``RedirectResponse`` under Uvicorn (one worker, uvloop,
  httptools);
- **asgi-uvicorn**, **asgi-granian**: a bare ASGI 302 under each server (one worker): the Python floor.

wrk runs with one thread by default: on a two-core machine that leaves the other core to the server, rather
than two wrk threads competing with it. Rounds interleave the targets (the machine is shared: neighbours' load
moves absolute figures, side-by-side ratios move less); the table shows the median of the rounds. Only
127.0.0.1 is addressed; every server started is stopped; each wrk run is bounded by --duration. Missing nginx
or wrk are installed from Debian (apt-get, as root). After the runs the lake must hold at least as many clicks
as wrk saw 302s; how long each hongmao server took to stop (its final fold of the backlog) is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DESTINATION = "https://detail.tmall.com/item.htm?id=651"
AGENT = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
BIN = Path(sys.executable).parent
TARGETS = ("nginx", "nginx-log", "hongmao", "hongmao-cores", "fastapi", "asgi-uvicorn", "asgi-granian")
NGINXES = {"nginx": "nginx, access log off", "nginx-log": "nginx, access log on"}
CORES = os.cpu_count() or 1

NGINX_CONF = """
worker_processes auto;
pid {root}/nginx.pid;
error_log {root}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log {access_log};
    client_body_temp_path {root}/tmp; proxy_temp_path {root}/tmp; fastcgi_temp_path {root}/tmp;
    uwsgi_temp_path {root}/tmp; scgi_temp_path {root}/tmp;
    server {{
        listen 127.0.0.1:{port};
        location /l/ {{ return 302 {destination}; }}
    }}
}}
"""

FASTAPI_APP = f"""
from fastapi import FastAPI
from fastapi.responses import RedirectResponse

app = FastAPI()


@app.get("/l/{{token}}")
async def follow(token: str) -> RedirectResponse:
    return RedirectResponse("{DESTINATION}", status_code=302)
"""

BARE_APP = f"""
HEADERS = [(b"location", b"{DESTINATION}"), (b"content-length", b"0")]


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({{"type": message["type"] + ".complete"}})
            if message["type"] == "lifespan.shutdown":
                return
    await send({{"type": "http.response.start", "status": 302, "headers": HEADERS}})
    await send({{"type": "http.response.body", "body": b""}})
"""


def ensure_tools() -> None:
    missing = [tool for tool in ("nginx", "wrk") if not (shutil.which(tool) or Path(f"/usr/sbin/{tool}").exists())]
    if not missing:
        return
    if os.geteuid() != 0:
        raise SystemExit(f"missing {', '.join(missing)}: install them (apt-get install nginx wrk) or run as root")
    print(f"installing {', '.join(missing)} from Debian ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=300)
    subprocess.run(["apt-get", "install", "-y", "-qq", "nginx", "wrk"], check=True, env=env, timeout=600)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(url_path: str, port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server for {url_path} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(f"GET {url_path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
                if sock.recv(64).startswith(b"HTTP/1.1 302"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the server on port {port} did not answer within {timeout:.0f} s")


@contextmanager
def running(
    args: list[str], port: int, url_path: str, log: Path, cwd: Path, settle: float, stopped: dict[str, float]
) -> Iterator[int]:
    """Run a server in its own process group until the block ends, from ``settle`` seconds after it first
    answers (so start-up work, such as the workers' imports, is over); ``stopped["seconds"]``: how long it took
    to stop after SIGTERM (for hongmao: the final fold of whatever the idle-priority folding left)."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(args, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_ready(url_path, port, proc)
        time.sleep(settle)
        yield proc.pid  # also its process group's id
    finally:
        start = time.monotonic()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        stopped["seconds"] = time.monotonic() - start


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}
_TICK = os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(group: int) -> float:
    """User plus system CPU seconds used so far by the live processes of a process group (all their threads)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_bytes().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[2]) == group:  # fields from the state on: state, ppid, pgrp, ..., utime (11), stime (12)
            total += int(fields[11]) + int(fields[12])
    return total / _TICK


def wrk(url: str, duration: float, connections: int, threads: int) -> dict[str, float]:
    """Requests per second, 302s seen, p50/p99 latency (ms) and wrk's own CPU use (its CPU seconds over the
    run's seconds: near ``threads``, the load generator, not the server, set the pace) from one wrk run."""
    args = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration:g}s",
        "--latency",
        "-H",
        f"User-Agent: {AGENT}",
        url,
    ]
    before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=duration + 60).stdout
    after, wall = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic() - started
    wrk_cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) / wall
    latency = {p: float(v) * _UNITS[u] for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "requests": requests,
        "bad_responses": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1).strip() if socket_errors else "",  # type: ignore[dict-item]
        "p50_ms": latency["50"],
        "p99_ms": latency["99"],
        "wrk_cpu": wrk_cpu,
    }


def lake_clicks(data: Path) -> int:
    from hongmao.lake import Lake

    with Lake.open(data) as lake:
        return int(lake.stats()["events"].get("link.click", 0))


def count_lines(path: Path) -> int:
    with open(path, "rb") as file:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 20), b""))


class Bench:
    def __init__(self, root: Path, args: argparse.Namespace) -> None:
        self.root = root
        self.args = args
        self.data = root / "lake"
        (root / "tmp").mkdir()
        (root / "fastapi_app.py").write_text(FASTAPI_APP, encoding="utf-8")
        (root / "bare_app.py").write_text(BARE_APP, encoding="utf-8")
        from hongmao.links import create_link

        self.token = create_link("note-bench", "651", "tmall", data_dir=self.data).token
        self.answered = 0

    def command(self, target: str, port: int) -> tuple[list[str], str]:
        path = f"/l/{self.token}" if target.startswith("hongmao") else "/l/abc"
        uvicorn = [str(BIN / "python"), "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port)]
        uvicorn += ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]
        granian = [str(BIN / "granian"), "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port)]
        granian += ["--runtime-mode", "st", "--loop", "uvloop", "--http", "1", "--no-ws", "--log-level", "warning"]
        commands = {
            # The redirect alone, as measured since it was first benchmarked (hongmao serve's default also serves
            # the API and console from each worker).
            "hongmao": [
                *[str(BIN / "hongmao"), "serve", "--data", str(self.data), "--port", str(port)],
                *["--links-only", "--workers", "1"],
            ],
            "hongmao-cores": [
                *[str(BIN / "hongmao"), "serve", "--data", str(self.data), "--port", str(port)],
                *["--links-only", "--workers", str(CORES)],
            ],
            "nginx": ["nginx", "-c", str(self.root / f"nginx-{port}.conf"), "-g", "daemon off;"],
            "nginx-log": ["nginx", "-c", str(self.root / f"nginx-{port}.conf"), "-g", "daemon off;"],
            "fastapi": [*uvicorn, "fastapi_app:app"],
            "asgi-uvicorn": [*uvicorn, "bare_app:app"],
            "asgi-granian": [*granian, "bare_app:app"],
        }
        if target in NGINXES:
            # nginx-log: a path and nothing else means the combined format, written unbuffered, as Debian ships it.
            access_log = str(self.root / f"nginx-access-{port}.log") if target == "nginx-log" else "off"
            conf = NGINX_CONF.format(root=self.root, port=port, destination=DESTINATION, access_log=access_log)
            (self.root / f"nginx-{port}.conf").write_text(conf, encoding="utf-8")
        return commands[target], path

    def measure(self, target: str) -> dict[str, Any]:
        port = free_port()
        args, path = self.command(target, port)
        stopped: dict[str, float] = {}
        with running(args, port, path, self.root / f"{target}.log", self.root, self.args.settle, stopped) as group:
            url = f"http://127.0.0.1:{port}{path}"
            warm = wrk(url, 2, self.args.connections, self.args.threads)  # warm-up: caches, connections
            cpu = group_cpu_seconds(group)
            result: dict[str, Any] = wrk(url, self.args.duration, self.args.connections, self.args.threads)
            # Machine time per answer, all the server's processes and threads (for hongmao: workers and fold).
            result["server_cpu_us"] = (group_cpu_seconds(group) - cpu) / result["requests"] * 1e6
        result["stop_seconds"] = stopped["seconds"]
        if target.startswith("hongmao"):
            self.answered += int(warm["requests"]) + int(result["requests"])
        if target == "nginx-log":  # it did log: one line per request answered
            result["access_log_lines"] = count_lines(self.root / f"nginx-access-{port}.log")
            result["answered"] = int(warm["requests"]) + int(result["requests"])
        return result


def summarize(rounds: list[dict[str, dict[str, Any]]]) -> dict[str, dict[str, float]]:
    """Per target: the medians of the rounds, and the lowest and highest req/s (the spread)."""
    out: dict[str, dict[str, float]] = {}
    for target in TARGETS:
        runs = [r[target] for r in rounds if target in r]
        if runs:
            out[target] = {
                "rps": statistics.median(r["rps"] for r in runs),
                "rps_min": min(r["rps"] for r in runs),
                "rps_max": max(r["rps"] for r in runs),
                "p50_ms": statistics.median(r["p50_ms"] for r in runs),
                "p99_ms": statistics.median(r["p99_ms"] for r in runs),
                "server_cpu_us": statistics.median(r["server_cpu_us"] for r in runs),
                "wrk_cpu": statistics.median(r["wrk_cpu"] for r in runs),
            }
    return out


def ratios(rounds: list[dict[str, dict[str, Any]]], target: str, other: str) -> list[float]:
    """``target``'s req/s over ``other``'s, round by round (the two measured minutes apart, side by side)."""
    return [r[target]["rps"] / r[other]["rps"] for r in rounds if target in r and other in r]


# (target, against, goal): the throughput goals, each against a named comparison.
GOALS = (
    ("hongmao-cores", "nginx", 0.4),
    ("hongmao-cores", "nginx-log", 0.4),
    ("hongmao", "nginx", 0.4),
    ("hongmao", "nginx-log", 0.4),
    ("hongmao", "fastapi", 3.0),
    ("hongmao-cores", "fastapi", 3.0),
)
LABELS = {
    "hongmao": "hongmao, one worker",
    "hongmao-cores": f"hongmao, one worker per core ({CORES})",
    "fastapi": "the FastAPI route (one worker)",
    **{name: f"{label} (worker_processes auto)" for name, label in NGINXES.items()},
}


def report(summary: dict[str, dict[str, float]], rounds: list[dict[str, dict[str, Any]]]) -> None:
    """Print the table of medians, then each goal: ratio of the medians and the per-round range."""
    print()
    print(
        f"| target | req/s (median of {len(rounds)}) | min-max req/s | p50 ms | p99 ms | server CPU µs/req | wrk CPU |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for target, s in summary.items():
        spread = f"{s['rps_min']:,.0f}-{s['rps_max']:,.0f}"
        print(
            f"| {target} | {s['rps']:,.0f} | {spread} | {s['p50_ms']:.2f} | {s['p99_ms']:.2f} "
            f"| {s['server_cpu_us']:.1f} | {s['wrk_cpu']:.0%} |"
        )
    print()
    for target, other, goal in GOALS:
        if target in summary and other in summary:
            ratio = summary[target]["rps"] / summary[other]["rps"]
            each = ratios(rounds, target, other)
            verdict = "met" if ratio >= goal else "NOT met"
            print(
                f"{LABELS[target]} = {ratio:.3f} x {LABELS[other]} (rounds {min(each):.2f}-{max(each):.2f}); "
                f"goal >= {goal:g}: {verdict}"
            )
    for target in ("hongmao", "hongmao-cores"):
        if target in summary:
            p99 = summary[target]["p99_ms"]
            print(f"{LABELS[target]}: p99 {p99:.2f} ms; goal < 10 ms: {'met' if p99 < 10 else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10.0, help="Seconds of load per run (after 2 s warm-up).")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads.")
    parser.add_argument("--rounds", type=int, default=3, help="Each round measures every target once.")
    parser.add_argument("--settle", type=float, default=2.0, help="Seconds between a server's start and its load.")
    parser.add_argument("--targets", default=",".join(TARGETS), help="Comma-separated subset of " + ", ".join(TARGETS))
    parser.add_argument("--json", type=Path, default=Path("bench/out/redirect.json"))
    args = parser.parse_args()
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = set(targets) - set(TARGETS)
    if unknown:
        raise SystemExit(f"unknown targets: {', '.join(sorted(unknown))}")
    ensure_tools()
    # One throwaway signing key for the run, shared by the link it creates and the server it starts.
    os.environ["HONGMAO_LINK_KEYS"] = "bench:" + secrets.token_urlsafe(32)
    with tempfile.TemporaryDirectory(prefix="hongmao-bench-") as tmp:
        bench = Bench(Path(tmp), args)
        rounds: list[dict[str, dict[str, Any]]] = []
        for number in range(args.rounds):
            results: dict[str, dict[str, Any]] = {}
            for target in targets:
                results[target] = bench.measure(target)
                r = results[target]
                print(
                    f"round {number + 1} {target:<13} {r['rps']:>9,.0f} req/s  p50 {r['p50_ms']:.2f} ms  "
                    f"p99 {r['p99_ms']:.2f} ms  server {r['server_cpu_us']:.1f} CPU µs/req  "
                    f"wrk {r['wrk_cpu']:.0%} CPU  {r['socket_errors']}",
                    flush=True,
                )
            rounds.append(results)
        if any(t.startswith("hongmao") for t in targets):
            # ``hongmao serve`` folded at idle priority during the runs and the rest when it stopped.
            clicks = lake_clicks(bench.data)
            stops = ", ".join(f"{r[t]['stop_seconds']:.1f}" for r in rounds for t in r if t.startswith("hongmao"))
            print(f"lake: {clicks:,} link.click events for {bench.answered:,} requests wrk completed")
            print(f"hongmao stop (final fold of the backlog) took {stops} s")
            if clicks < bench.answered:
                raise SystemExit("the lake holds fewer clicks than wrk saw answered")
        logged = [(r["nginx-log"]["access_log_lines"], r["nginx-log"]["answered"]) for r in rounds if "nginx-log" in r]
        for lines, answered in logged:
            print(f"nginx-log: {lines:,} access log lines for {answered:,} requests wrk completed")
    summary = summarize(rounds)
    report(summary, rounds)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {"args": {k: str(v) for k, v in vars(args).items()}, "rounds": rounds, "summary": summary},
            indent=2,
        ),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
