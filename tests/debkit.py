"""Debian packages a test needs (nginx, Chromium), installed with apt-get when missing and running as root.

apt-get waits for the package manager's locks instead of failing at once: two test runs on one machine (or a
run beside an unattended upgrade) may both find a package missing and install it at the same time.
"""

from __future__ import annotations

import os
import subprocess

#: Seconds apt-get waits for dpkg's and the package lists' locks before giving up.
LOCK_TIMEOUT = 900


def apt_install(*packages: str) -> None:
    wait = ["-o", f"DPkg::Lock::Timeout={LOCK_TIMEOUT}"]
    subprocess.run(["apt-get", *wait, "update", "-qq"], check=True, capture_output=True, timeout=LOCK_TIMEOUT + 600)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(
        ["apt-get", *wait, "install", "-y", "-qq", *packages],
        check=True,
        capture_output=True,
        timeout=LOCK_TIMEOUT + 900,
        env=env,
    )
