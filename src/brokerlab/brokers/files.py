"""Files of the native brokers that only their owner may read: run directories and secrets.

Directories are created 0700 and secret files 0600 from the start (never created readable and
tightened afterwards), and a file is replaced atomically, so a reader sees the old or the new one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def private_dir(path: Path) -> Path:
    """``path`` as a directory only its owner can enter: missing parts are created 0700, and an
    existing ``path`` (say, from an older version of the course) is tightened to 0700."""
    missing = []
    part = path
    while not part.exists():
        missing.append(part)
        part = part.parent
    for directory in reversed(missing):
        directory.mkdir(mode=0o700, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def write_private(path: Path, text: str, mode: int = 0o600) -> None:
    """Write ``text`` to ``path`` atomically; the file has ``mode`` (0600 by default) from its creation."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        if mode != 0o600:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def kept_secret(path: Path, make: Callable[[], str]) -> str:
    """The secret kept in ``path``; made by ``make`` and written 0600 (its directory 0700) the first
    time, so every later call returns the same one."""
    if not path.is_file():
        private_dir(path.parent)
        write_private(path, make())
    return path.read_text().strip()
