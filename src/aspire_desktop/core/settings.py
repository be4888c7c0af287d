"""Settings a user (or, later, central policy) can set: the one place they are read.

They are stored as JSON values in the user database's ``settings`` table
(``UserData.setting``/``set_setting``). Readers that must not write, such as
``aspire-desktop sync``, read them with :func:`read_settings`, which opens the database
read-only and never migrates it; the window reads them through its open ``UserData``.
Central policy (the installer's settings) will be applied here, on top of both.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

FEED_URL = "sync.feed_url"
EXTRA_KEY = "sync.extra_public_key"
REVOKED_KEYS = "sync.revoked_key_ids"
AUTO_SYNC = "sync.automatic"
STALE_AFTER_DAYS = "content.stale_after_days"
# Set by central policy (core.policy) today; the user's settings may hold them too.
MIRRORS = "sync.mirrors"
TRUSTED_KEYS = "sync.trusted_public_keys"
SYNC_INTERVAL_HOURS = "sync.interval_hours"
PROXY = "network.proxy"

DEFAULT_STALE_AFTER_DAYS = 90
DEFAULT_SYNC_INTERVAL_HOURS = 24


class SettingsSource(Protocol):
    def setting(self, key: str, default: Any = None) -> Any: ...


@dataclass(frozen=True)
class SyncSettings:
    #: Where the feed is (https URL, file URL or a path); None: no feed set up.
    feed_url: str | None = None
    #: A minisign public key trusted in addition to the keys that ship with the app.
    extra_public_key: str | None = None
    #: Key ids never to trust, even when they ship with the app.
    revoked_key_ids: tuple[str, ...] = ()
    #: Sync by itself when the computer comes online.
    automatic: bool = True
    #: Warn (quietly) when the content is older than this many days.
    stale_after_days: int = DEFAULT_STALE_AFTER_DAYS
    #: More trusted minisign public keys (central policy: an organisation's own feed).
    trusted_public_keys: tuple[str, ...] = ()
    #: Other places serving the same feed, tried in order after the feed itself.
    mirrors: tuple[str, ...] = ()
    #: "system" (the system's proxy settings), "none", or a proxy address.
    proxy: str = "system"
    #: Hours between automatic syncs.
    interval_hours: int = DEFAULT_SYNC_INTERVAL_HOURS


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(v.strip() for v in value if isinstance(v, str) and v.strip())


def _positive(value: Any, default: int) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
    return value if ok else default


def sync_settings(source: SettingsSource) -> SyncSettings:
    """The sync settings from ``source``, with defaults for anything unset or malformed."""
    automatic = source.setting(AUTO_SYNC, True)
    return SyncSettings(
        feed_url=_text(source.setting(FEED_URL)),
        extra_public_key=_text(source.setting(EXTRA_KEY)),
        revoked_key_ids=_texts(source.setting(REVOKED_KEYS, [])),
        automatic=automatic if isinstance(automatic, bool) else True,
        stale_after_days=_positive(
            source.setting(STALE_AFTER_DAYS, DEFAULT_STALE_AFTER_DAYS), DEFAULT_STALE_AFTER_DAYS
        ),
        trusted_public_keys=_texts(source.setting(TRUSTED_KEYS, [])),
        mirrors=_texts(source.setting(MIRRORS, [])),
        proxy=_text(source.setting(PROXY)) or "system",
        interval_hours=_positive(
            source.setting(SYNC_INTERVAL_HOURS, DEFAULT_SYNC_INTERVAL_HOURS),
            DEFAULT_SYNC_INTERVAL_HOURS,
        ),
    )


class ReadOnlySettings:
    """Settings read straight from the user database file, opened read-only."""

    def __init__(self, userdata_db: Path) -> None:
        self.values: dict[str, Any] = {}
        if not userdata_db.is_file():
            return
        try:
            db = sqlite3.connect(f"{userdata_db.resolve().as_uri()}?mode=ro", uri=True)
            try:
                rows = db.execute("SELECT key, value FROM settings").fetchall()
            finally:
                db.close()
        except sqlite3.Error as exc:
            log.warning("settings not readable from %s: %s", userdata_db, exc)
            return
        for key, value in rows:
            try:
                self.values[str(key)] = json.loads(value)
            except (TypeError, ValueError):
                log.warning("setting %s is not JSON; ignored", key)

    def setting(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


def read_settings(userdata_db: Path, policy: Any = None) -> SyncSettings:
    """The sync settings in force: central policy (``policy``, else read now) over the
    user's own settings (read-only) over the defaults."""
    from aspire_desktop.core.policy import EffectiveSettings, load_policy

    if policy is None:
        policy = load_policy(report=False)
    return sync_settings(EffectiveSettings(ReadOnlySettings(userdata_db), policy))
