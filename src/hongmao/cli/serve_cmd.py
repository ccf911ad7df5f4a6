"""``hongmao serve``: the whole product on one origin (REST API, console, API docs, metrics and the link redirect),
or with ``--links-only`` the redirect alone (GET /l/{token}, GET /c/{code}); either way the click log is folded
into the lake by the main process while the workers serve."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Annotated

import typer

from hongmao.cli.misc_cmd import DataOpt
from hongmao.cli.output import err_console


def serve(
    data: DataOpt = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Worker processes (about one per core).")] = 2,
    links_only: Annotated[
        bool, typer.Option("--links-only", help="Serve the link redirect alone, without the API and console.")
    ] = False,
    public_url: Annotated[
        str | None,
        typer.Option(
            "--public-url", help="Where people reach this server (behind a proxy, the proxy's https address)."
        ),
    ] = None,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            "--forwarded-allow-ips",
            help="Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (comma-separated addresses).",
        ),
    ] = None,
    fold_every: Annotated[
        float, typer.Option("--fold-every", min=0.05, help="Seconds between folds of the click log into the lake.")
    ] = 1.0,
    fsync_ms: Annotated[
        int, typer.Option("--fsync-ms", min=1, help="Milliseconds between fsyncs of the click log.")
    ] = 50,
    header_timeout: Annotated[
        float,
        typer.Option(
            "--header-timeout",
            min=0.001,
            help="Seconds a client has to send a request's header before its connection is closed.",
        ),
    ] = 10.0,
    stop_timeout: Annotated[
        int,
        typer.Option(
            "--stop-timeout", min=1, help="Seconds a worker has to stop (after Ctrl-C or SIGTERM) before it is killed."
        ),
    ] = 5,
) -> None:
    """Serve the console, the REST API and shoppable links on one origin; every click is logged before its 302 and
    lands in the lake within seconds."""
    from hongmao import settings
    from hongmao.links.server import ServeConfig
    from hongmao.links.server import serve as run

    data_dir = settings.data_dir(data).absolute()
    url = (public_url or settings.get("public_base_url") or f"http://{host}:{port}").rstrip("/")
    config = ServeConfig(
        data_dir=str(data_dir),
        catalog_url=settings.get("catalog_url"),
        host=host,
        port=port,
        workers=workers,
        fold_every=fold_every,
        sync_interval=fsync_ms / 1000,
        header_timeout=header_timeout,
        stop_timeout=stop_timeout,
        target=TARGETS["links" if links_only else "product"],
        public_url=url,
        forwarded_allow_ips=forwarded_allow_ips,
    )
    on_fold = None
    if not links_only:
        _prepare_metrics(data_dir)
        from hongmao.web import logs, metrics
        from hongmao.web.auth import server_secret

        logs.configure()
        server_secret(data_dir)  # created once here, before the workers read it
        on_fold = metrics.observe_fold
    what = "links" if links_only else "console, API and links"
    err_console.print(
        f"serving {what} on http://{host}:{port} ({workers} worker{'s' if workers > 1 else ''}), "
        f"lake {config.data_dir}; Ctrl-C to stop",
        highlight=False,
    )
    if not links_only:
        err_console.print(f"console {url}/console/ · API docs {url}/docs · metrics {url}/metrics", highlight=False)
    run(config, on_fold)


#: What a worker serves (Granian's factory in each worker process).
TARGETS = {"product": "hongmao.web.served:worker_app", "links": "hongmao.links.server:worker_app"}


def _prepare_metrics(data_dir: Path) -> None:
    """An empty directory for every process's metric values, named before prometheus-client is imported (it picks
    its storage then) and inherited by the workers."""
    directory = data_dir / "run" / "metrics"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
