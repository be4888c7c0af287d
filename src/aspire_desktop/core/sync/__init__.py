"""Sync: keep the content up to date from a signed feed.

The window and the command line call :func:`sync_now` (from a background thread: it
blocks until done). It reads the settings (feed address, extra key, revoked keys), syncs
and returns a :class:`SyncResult`; progress goes to ``progress(SyncProgress)`` and
``cancel.set()`` stops it. Problems are ``UserError``s in plain words; see ``errors``
(``NetworkError``: try later; ``FeedRefusedError``: the feed cannot be trusted or used;
``DiskFullError``; ``SyncCancelledError``; ``SyncBusyError``; ``FeedNotSetUpError``).
:func:`sync_status` tells the status bar when the content was last synced and whether it
is older than the user wants.

Modules: ``location`` (feed addresses), ``transport`` (HTTP and folders), ``download``
(parallel, resumable, verified downloads), ``engine`` (one sync, staging and the atomic
switch), ``state`` (what is remembered between syncs), ``diff`` (what changed),
``progress``, ``errors``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from aspire_desktop.core.paths import Paths, baseline_dir
from aspire_desktop.core.settings import SyncSettings, sync_settings
from aspire_desktop.core.store.content import ContentStore
from aspire_desktop.core.sync.engine import SyncOptions, SyncResult, TrustConfig, run_sync
from aspire_desktop.core.sync.errors import FeedNotSetUpError
from aspire_desktop.core.sync.progress import ProgressCallback, SyncProgress
from aspire_desktop.core.sync.state import load_state

__all__ = [
    "SyncOptions",
    "SyncProgress",
    "SyncResult",
    "SyncStatus",
    "TrustConfig",
    "run_sync",
    "sync_now",
    "sync_status",
]


def trust_config(settings: SyncSettings) -> TrustConfig:
    extra = (settings.extra_public_key,) if settings.extra_public_key else ()
    return TrustConfig(
        extra_keys=(*extra, *settings.trusted_public_keys),
        revoked_key_ids=settings.revoked_key_ids,
    )


def sync_now(
    paths: Paths,
    *,
    feed: str | None = None,
    settings: SyncSettings | None = None,
    options: SyncOptions | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> SyncResult:
    """Sync from ``feed`` (default: the feed in the settings) into ``paths``' content.

    ``settings`` defaults to those in force: central policy over the user's own settings
    (read-only). Their keys, revoked keys, mirrors and proxy apply.
    """
    if settings is None:
        from aspire_desktop.core.policy import effective_settings

        settings = sync_settings(effective_settings(paths.userdata_db))
    feed = feed or settings.feed_url
    if not feed:
        raise FeedNotSetUpError()
    options = options or SyncOptions()
    options = replace(options, http=replace(options.http, proxy=settings.proxy))
    store = ContentStore(paths.content_dir, baseline_dir())
    return run_sync(
        store,
        feed,
        trust=trust_config(settings),
        mirrors=settings.mirrors,
        options=options,
        progress=progress,
        cancel=cancel,
    )


@dataclass(frozen=True)
class SyncStatus:
    """For the status bar: "Last synced ...", and a quiet warning when content is old."""

    feed: str | None
    last_synced: datetime | None
    last_checked: datetime | None
    version: int
    issued: str
    age_days: int | None
    stale: bool


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:
        return None


def sync_status(paths: Paths, settings: SyncSettings, *, now: datetime | None = None) -> SyncStatus:
    """Cheap (reads two small files and ``content.json``; opens no database)."""
    from aspire_desktop.core.store import layout

    store = ContentStore(paths.content_dir, baseline_dir())
    state = load_state(paths.content_dir)
    info: layout.VersionInfo | None = None
    for folder in (store.pointed_version(), store.baseline_dir):
        if folder is None:
            continue
        try:
            info = layout.read_version_info(folder)
            break
        except (OSError, ValueError):
            continue
    today = (now or datetime.now(UTC)).date()
    age = info.age_days(today) if info is not None else None
    return SyncStatus(
        feed=settings.feed_url,
        last_synced=_time(state.last_synced),
        last_checked=_time(state.last_checked),
        version=info.version if info is not None else 0,
        issued=info.issued if info is not None else "",
        age_days=age,
        stale=age is not None and age > settings.stale_after_days,
    )
