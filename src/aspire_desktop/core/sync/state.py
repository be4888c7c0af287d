"""What sync remembers between runs, in ``<data>/content/sync-state.json``.

The validators (ETag, Last-Modified) of the manifest last applied, so an unchanged feed
costs one conditional request; the highest version ever applied and its manifest's
checksum (rollback protection that survives a fallback to older content); when the feed
was last checked and last synced; the mirrors the last manifest named; and the keys
learned by rotation. User data is never written by sync: this file sits with the content.
A missing or unreadable state file only costs a full manifest download.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from aspire_desktop.core.store.durable import atomic_write

log = logging.getLogger(__name__)

STATE_FILE = "sync-state.json"
STATE_FORMAT = 1


@dataclass
class SyncState:
    feed: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    #: The version the validators belong to (a folder name, or baseline-N).
    version_dir: str | None = None
    highest_version: int = 0
    highest_sha256: str | None = None
    last_checked: str | None = None
    last_synced: str | None = None
    last_changed: str | None = None
    mirrors: list[str] = field(default_factory=list)
    learned_keys: list[str] = field(default_factory=list)


def load_state(content_dir: Path) -> SyncState:
    try:
        data: Any = json.loads((content_dir / STATE_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return SyncState()
    except (OSError, ValueError) as exc:
        log.warning("sync state unreadable (%s); starting afresh", exc)
        return SyncState()
    if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
        return SyncState()
    state = SyncState()
    for key, default in asdict(SyncState()).items():
        value = data.get(key, default)
        if isinstance(default, list):
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        elif isinstance(default, int):
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = value is None or isinstance(value, str)
        if ok:
            setattr(state, key, value)
    return state


def save_state(content_dir: Path, state: SyncState) -> None:
    content_dir.mkdir(parents=True, exist_ok=True)
    data = {"format": STATE_FORMAT, **asdict(state)}
    atomic_write(content_dir / STATE_FILE, (json.dumps(data, indent=1) + "\n").encode("utf-8"))
