"""Spark for the tests: whether it can run here, and a Spark Connect server started (and stopped) by the tests.

The server is PySpark's own: ``bin/spark-submit`` of the pip package with the Spark Connect server class, whose jar
ships in ``pyspark/jars`` (nothing is downloaded). It listens on loopback on a free port, in a process group of its
own so that stopping it stops the JVM behind the launcher script too.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

CONNECT_SERVER = "org.apache.spark.sql.connect.service.SparkConnectServer"
#: Starting a JVM and Spark on a busy two-core machine can take minutes; past this, the fixture fails with the log.
READY_SECONDS = 300.0
STOP_SECONDS = 30.0
JAVA_MIN = 17


def _java() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


def java_major(java: str) -> int:
    out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60).stderr
    found = re.search(r'version "(?:1\.)?(\d+)', out)
    return int(found.group(1)) if found else 0


def spark_home() -> Path:
    """The pip-installed PySpark directory, which is a Spark home (bin/, jars/)."""
    spec = importlib.util.find_spec("pyspark")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent


def spark_missing() -> str | None:
    """Why Spark cannot run here (None: it can): PySpark, Java 17 and the Spark Connect jar are needed."""
    if importlib.util.find_spec("pyspark") is None:
        return "PySpark is not installed (pip install -e '.[spark]'; CI installs it with the test extra)"
    java = _java()
    if java is None:
        return f"no java on PATH or JAVA_HOME (Java {JAVA_MIN}: apt-get install openjdk-{JAVA_MIN}-jre-headless)"
    major = java_major(java)
    if major < JAVA_MIN:
        return f"java {major} is older than the {JAVA_MIN} PySpark 4 needs"
    if not list((spark_home() / "jars").glob("spark-connect_*.jar")):
        return "this PySpark ships no Spark Connect server jar"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1.0)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _tail(log: Path, lines: int = 40) -> str:
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def connect_server(workdir: Path, cores: int = 2) -> Iterator[str]:
    """A Spark Connect server on 127.0.0.1 for the duration of the block; yields its ``sc://`` address."""
    port = _free_port()
    home = spark_home()
    log = workdir / "spark-connect.log"
    env = {k: v for k, v in os.environ.items() if k not in ("SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED")}
    env.update(SPARK_HOME=str(home), PYSPARK_PYTHON=sys.executable, SPARK_LOCAL_IP="127.0.0.1")
    command = [
        str(home / "bin" / "spark-submit"),
        "--class",
        CONNECT_SERVER,
        "--name",
        "hongmao-tests",
        "--master",
        f"local[{cores}]",
        "--driver-memory",
        "1g",
    ]
    for key, value in {
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(port),
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.sql.shuffle.partitions": str(cores * 2),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
    }.items():
        command += ["--conf", f"{key}={value}"]
    with log.open("wb") as out:
        server = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=workdir, start_new_session=True
        )
        try:
            deadline = time.monotonic() + READY_SECONDS
            while not _listening(port):
                if server.poll() is not None:
                    raise RuntimeError(f"the Spark Connect server exited ({server.returncode}):\n{_tail(log)}")
                if time.monotonic() > deadline:
                    waited = f"no Spark Connect server on port {port} after {READY_SECONDS:g} s"
                    raise RuntimeError(f"{waited}:\n{_tail(log)}")
                time.sleep(0.5)
            yield f"sc://127.0.0.1:{port}"
        finally:
            _stop(server)


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(STOP_SECONDS)
