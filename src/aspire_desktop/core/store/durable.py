"""Writing files so that a crash or a power cut leaves either the old or the new bytes.

``fsync`` a file before it is renamed into place, and the folder after a rename, so the
rename itself survives. On Windows folders cannot be opened for fsync; NTFS journals
renames, so that step is skipped there.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def fsync_file(path: str | os.PathLike[str]) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    if sys.platform == "win32":  # pragma: no cover - folders cannot be fsynced there
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step: temp file beside it, fsync, rename."""
    import secrets  # here, not at the top: the window's start path imports this module

    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
