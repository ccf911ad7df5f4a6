"""A new user's first minutes with the CLI: help that reads right, a demo that checks its port before it works,
and a ``Next:`` hint that pastes into a shell as printed."""

from __future__ import annotations

import shlex
import socket
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from hongmao.cli.app import app

runner = CliRunner()


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path under ``group`` (Typer's groups are Click-like: they hold ``commands``)."""
    out = [prefix]
    for name, command in sorted(group.commands.items()):
        if hasattr(command, "commands"):
            out += _commands(command, (*prefix, name))
        else:
            out.append((*prefix, name))
    return out


def test_no_help_page_shows_a_type_beside_a_flag() -> None:
    root = typer.main.get_command(app)
    commands = _commands(root)
    assert len(commands) > 10
    for path in commands:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "160"})
        assert result.exit_code == 0, (path, result.output)
        assert "<bool>" not in result.output, path


def test_demo_refuses_a_taken_port_before_simulating_and_names_the_flag(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        data = tmp_path / "demo"
        result = runner.invoke(app, ["demo", "--data", str(data), "--users", "30", "--port", str(port)])
    assert result.exit_code == 2
    assert f"port {port} on 127.0.0.1 is taken" in result.output
    assert "--port" in result.output and "--no-serve" in result.output
    assert not data.exists()  # nothing simulated


@pytest.mark.slow
def test_demo_next_hint_is_one_line_that_runs(tmp_path: Path) -> None:
    data = tmp_path / "a folder with spaces" / "demo"
    result = runner.invoke(
        app, ["demo", "--data", str(data), "--users", "60", "--days", "3", "--no-serve"], env={"COLUMNS": "40"}
    )
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("Next: "))
    argv = shlex.split(line.removeprefix("Next: "))
    assert argv[0] == "hongmao"
    again = runner.invoke(app, argv[1:])
    assert again.exit_code == 0, again.output


def test_a_second_ctrl_c_logs_no_traceback_of_the_cancelled_lifespan_and_other_errors_still_show() -> None:
    """A second Ctrl-C forces uvicorn out: it cancels the app's waiting lifespan task and logs the cancellation
    (as the exception, or as Starlette's traceback text). The demo's filter drops exactly those records."""
    import asyncio
    import logging
    import traceback

    from hongmao.cli.demo_cmd import _ForcedExitFilter

    def record(message: str, failure: BaseException | None = None) -> logging.LogRecord:
        exc_info = (type(failure), failure, failure.__traceback__) if failure is not None else None
        return logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1, message, None, exc_info)

    try:
        raise asyncio.CancelledError()
    except asyncio.CancelledError as cancelled:
        text = traceback.format_exc()
        as_exception = record("Exception in 'lifespan' protocol\n", cancelled)
    try:
        raise RuntimeError("the warm-up failed")
    except RuntimeError as broken:
        other = record("Exception in 'lifespan' protocol\n", broken)
        other_text = traceback.format_exc()
    try:
        try:
            raise RuntimeError("the shutdown hook failed")
        except RuntimeError:
            raise asyncio.CancelledError()  # noqa: B904 (implicitly chained, as a cancelled handler is)
    except asyncio.CancelledError as chained_failure:
        chained = record("Exception in 'lifespan' protocol\n", chained_failure)
        chained_text = traceback.format_exc()
    quiet = _ForcedExitFilter()
    assert not quiet.filter(as_exception)
    assert not quiet.filter(record(text))  # Starlette's lifespan.shutdown.failed message
    assert quiet.filter(other) and quiet.filter(record(other_text)) and quiet.filter(record("port in use"))
    # a cancellation while another error was being handled still shows, with the error
    assert "the shutdown hook failed" in chained_text
    assert quiet.filter(chained) and quiet.filter(record(chained_text))
