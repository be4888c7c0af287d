"""Every path the application uses, resolved once.

The default locations come from platformdirs. ``--data-dir`` or the
``ASPIRE_DESKTOP_HOME`` environment variable moves *all* per-user state under one
folder (portable mode; tests use it so they never write into the real home).

The shipped baseline content is looked up separately: it is installed read-only and
shared by every user of the machine.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from aspire_desktop import APP_ID

HOME_ENV = "ASPIRE_DESKTOP_HOME"
BASELINE_ENV = "ASPIRE_DESKTOP_BASELINE"


@dataclass(frozen=True)
class Paths:
    """Resolved folders. Folders are created on demand by :meth:`ensure`."""

    data_dir: Path
    config_dir: Path
    cache_dir: Path
    log_dir: Path
    portable: bool

    @property
    def content_dir(self) -> Path:
        """Per-user content versions written by sync, and the pointer to the current one."""
        return self.data_dir / "content"

    @property
    def userdata_db(self) -> Path:
        return self.data_dir / "userdata.sqlite"

    @property
    def ui_state_file(self) -> Path:
        return self.config_dir / "ui-state.ini"

    @property
    def log_file(self) -> Path:
        return self.log_dir / f"{APP_ID}.log"

    def ensure(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        return folder


_resolved: Paths | None = None


def resolve(data_dir: str | os.PathLike[str] | None = None) -> Paths:
    """Resolve (once) and return the application's paths.

    ``data_dir`` (from ``--data-dir``) wins over ``ASPIRE_DESKTOP_HOME``, which wins
    over the platform's standard folders.
    """
    global _resolved
    home = data_dir if data_dir is not None else os.environ.get(HOME_ENV) or None
    if home is not None:
        root = Path(home).expanduser().resolve()
        _resolved = Paths(
            data_dir=root / "data",
            config_dir=root / "config",
            cache_dir=root / "cache",
            log_dir=root / "logs",
            portable=True,
        )
    else:
        import platformdirs

        dirs = platformdirs.PlatformDirs(APP_ID, appauthor=False)
        _resolved = Paths(
            data_dir=Path(dirs.user_data_dir),
            config_dir=Path(dirs.user_config_dir),
            cache_dir=Path(dirs.user_cache_dir),
            log_dir=Path(dirs.user_log_dir),
            portable=False,
        )
    return _resolved


def current() -> Paths:
    """The paths resolved at start-up (resolving from the environment if not yet)."""
    return _resolved if _resolved is not None else resolve()


def reset_for_tests() -> None:
    global _resolved
    _resolved = None


def baseline_candidates() -> list[Path]:
    """Where the read-only shipped content may be, first match wins."""
    candidates: list[Path] = []
    env = os.environ.get(BASELINE_ENV)
    if env:
        return [Path(env).expanduser()]
    if getattr(sys, "frozen", False):
        candidates.append(Path(sys.executable).resolve().parent / "content")
    candidates.append(Path(sys.prefix) / "share" / APP_ID / "content")
    if sys.platform.startswith("linux"):
        candidates.append(Path("/opt") / APP_ID / "content")
        candidates.append(Path("/usr/share") / APP_ID / "content")
    # A source checkout: content built into ./build/content by the build step.
    candidates.append(Path(__file__).resolve().parents[3] / "build" / "content")
    return candidates


def baseline_dir() -> Path | None:
    """The installed baseline content folder, or None when none is installed."""
    for candidate in baseline_candidates():
        if (candidate / "content.json").is_file():
            return candidate
    return None
