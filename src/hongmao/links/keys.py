"""Where the link signing keys come from: HONGMAO_LINK_KEYS, else a key file in the data directory.

The key file ``DATA/link-keys`` holds one ``kid:secret`` per line, the signing key first. It is created with
a random key (mode 0600) the first time a link is signed or served without HONGMAO_LINK_KEYS, so a local
setup works with no configuration. :func:`rotate` puts a new key first; old keys keep verifying.
When HONGMAO_LINK_KEYS is set it is the whole key ring and the file is not read.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import stat
from pathlib import Path

from hongmao import settings
from hongmao.errors import ConfigError
from hongmao.links.tokens import KeyRing

log = logging.getLogger(__name__)

KEY_FILE = "link-keys"


def key_file(data_dir: Path) -> Path:
    return data_dir / KEY_FILE


def _new_line(kid: str) -> str:
    return f"{kid}:{secrets.token_urlsafe(32)}\n"


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by the owner only."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, path)


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process created it first: use theirs
    try:
        os.write(fd, _new_line("k1").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    log.warning("generated a link signing key in %s (mode 0600); set HONGMAO_LINK_KEYS to manage keys yourself", path)


def _read(path: Path) -> KeyRing:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read the link key file {path}: {error}") from error
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("the link key file %s is readable by others; chmod 600 it", path)
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not lines:
        raise ConfigError(f"the link key file {path} holds no key")
    return KeyRing.parse(",".join(lines))


def load(data_dir: str | Path | None = None, *, create: bool = True) -> KeyRing:
    """The key ring: HONGMAO_LINK_KEYS when set, else ``DATA/link-keys`` (generated if absent and ``create``)."""
    configured = settings.get("link_keys")
    if configured:
        return KeyRing.parse(configured)
    path = key_file(settings.data_dir(data_dir).absolute())
    if not path.exists():
        if not create:
            raise ConfigError(f"no link keys: set HONGMAO_LINK_KEYS or create links first (key file {path})")
        _create(path)
    return _read(path)


def rotate(data_dir: str | Path | None = None) -> str:
    """Put a new signing key first in the key file; returns its id. Old keys keep verifying."""
    if settings.get("link_keys"):
        raise ConfigError("the link keys come from HONGMAO_LINK_KEYS: rotate them there (new kid:secret first)")
    path = key_file(settings.data_dir(data_dir).absolute())
    ring = load(data_dir)
    numbers = [int(m.group(1)) for kid in ring.kids if (m := re.fullmatch(r"k(\d+)", kid))]
    kid = f"k{max(numbers, default=0) + 1}"
    _write_private(path, _new_line(kid) + path.read_text(encoding="utf-8"))
    return kid
