"""``hongmao serve``: the link redirect (GET /l/{token}, GET /c/{code}) with its click log folded into the lake."""

from __future__ import annotations

from typing import Annotated

import typer

from hongmao.cli.misc_cmd import DataOpt
from hongmao.cli.output import err_console


def serve(
    data: DataOpt = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Worker processes (one per spare core).")] = 1,
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
    """Serve shoppable links: every click is logged before its 302 and lands in the lake within seconds."""
    from hongmao import settings
    from hongmao.links.server import ServeConfig
    from hongmao.links.server import serve as run

    config = ServeConfig(
        data_dir=str(settings.data_dir(data)),
        catalog_url=settings.get("catalog_url"),
        host=host,
        port=port,
        workers=workers,
        fold_every=fold_every,
        sync_interval=fsync_ms / 1000,
        header_timeout=header_timeout,
        stop_timeout=stop_timeout,
    )
    err_console.print(
        f"serving links on http://{host}:{port} ({workers} worker{'s' if workers > 1 else ''}), "
        f"lake {config.data_dir}; Ctrl-C to stop",
        highlight=False,
    )
    run(config)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
