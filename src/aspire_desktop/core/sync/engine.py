"""One sync: check the feed, download what is new, and switch to it atomically.

1. Fetch ``manifest.json`` (conditionally: an unchanged feed answers 304 and that is all)
   from the feed, or from the mirrors the last manifest named when the feed is down.
2. Fetch its signature and verify it (prehashed minisign, trusted key) before anything
   else reads the manifest; then parse it and refuse an expired manifest, one for a newer
   app, a lower version than the newest applied (rollback) and the same version with
   other bytes.
3. Stage a new version in ``versions/.stage-*``: files that are unchanged are linked (or
   copied) from the versions on the computer after their checksum is checked, the rest
   are downloaded (see ``download``); meanwhile the catalogue is written from the
   manifest and checked (it needs nothing else); every file is checked to be there, and
   everything is fsynced.
4. Rename the stage to its final name and switch ``current.json`` with one atomic
   replace (``ContentStore.switch_to``). Until that moment nothing the app reads has
   changed; after it, the new version is complete. User data is never touched.
5. Remember what was applied (``state``), clear the downloads, and remove versions older
   than the previous one when nothing has them open.

A crash at any moment leaves the old or the new version current; the next sync removes
half-staged folders and resumes partial downloads (verifying them, never trusting them).
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
import shutil
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aspire_desktop import __version__
from aspire_desktop.core.errors import DiskFullError, UserError
from aspire_desktop.core.feed.errors import (
    AppTooOldError,
    ExpiredFeedError,
    ManifestTooLargeError,
    RollbackError,
    SignatureError,
    VersionConflictError,
)
from aspire_desktop.core.feed.manifest import (
    MANIFEST_NAME,
    MAX_MANIFEST_BYTES,
    MAX_SIGNATURE_BYTES,
    SIGNATURE_NAME,
    FeedFile,
    Manifest,
    app_version_tuple,
    format_time,
    parse_manifest,
    parse_time,
    sha256_bytes,
)
from aspire_desktop.core.feed.trust import build_trust
from aspire_desktop.core.store import layout
from aspire_desktop.core.store.content import STAGE_PREFIX, ContentStore
from aspire_desktop.core.store.durable import fsync_dir, fsync_file
from aspire_desktop.core.sync import diff
from aspire_desktop.core.sync.download import (
    POOL,
    Deadline,
    Downloader,
    DownloadOptions,
    Pool,
    retry_policy,
    verify_file,
)
from aspire_desktop.core.sync.errors import (
    NetworkError,
    ServerError,
    SyncBusyError,
    SyncCancelledError,
    SyncError,
)
from aspire_desktop.core.sync.location import Location, parse_location
from aspire_desktop.core.sync.progress import (
    APPLYING,
    CHECKING,
    DONE,
    DOWNLOADING,
    ProgressCallback,
    ProgressTracker,
)
from aspire_desktop.core.sync.state import SyncState, load_state, save_state
from aspire_desktop.core.sync.transport import (
    Fetched,
    HttpSettings,
    Transport,
    Validators,
    make_transport,
)

log = logging.getLogger(__name__)

LOCK_FILE = "sync.lock"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class TrustConfig:
    """Keys to trust besides those shipped (and learned by rotation), and keys revoked."""

    extra_keys: tuple[str, ...] = ()
    revoked_key_ids: tuple[str, ...] = ()
    include_shipped: bool = True


@dataclass(frozen=True)
class SyncOptions:
    http: HttpSettings = field(default_factory=HttpSettings)
    download: DownloadOptions = field(default_factory=DownloadOptions)
    #: The whole sync may take this long, in seconds (None: no limit).
    deadline: float | None = 4 * 3600.0
    manifest_cap: int = MAX_MANIFEST_BYTES
    #: Byte-count progress is reported at most this often (steps always are).
    progress_interval: float = 0.1
    #: The time expiry is checked against.
    clock: Callable[[], datetime] = _utcnow


@dataclass(frozen=True)
class SyncResult:
    """What a sync did. ``changed`` False: the content was already up to date."""

    changed: bool
    version: int
    previous_version: int
    issued: str
    feed: str
    source: str
    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    superseded: tuple[str, ...] = ()
    files_downloaded: int = 0
    files_reused: int = 0
    bytes_fetched: int = 0
    requests: int = 0
    version_dir: Path | None = None
    removed_versions: tuple[str, ...] = field(default=())

    def summary(self) -> str:
        """One plain sentence for the status bar or the command line."""
        if not self.changed:
            return f"Your content is up to date (version {self.version})."
        parts = [
            f"{len(items)} {word}"
            for items, word in (
                (self.added, "added"),
                (self.updated, "updated"),
                (self.removed, "removed"),
                (self.superseded, "superseded"),
            )
            if items
        ]
        detail = ", ".join(parts) if parts else "no resources changed"
        return f"Content updated to version {self.version}: {detail}."

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["version_dir"] = None if self.version_dir is None else str(self.version_dir)
        for key in ("added", "updated", "removed", "superseded", "removed_versions"):
            data[key] = list(data[key])
        data["summary"] = self.summary()
        return data


def is_disk_full(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(current, sqlite3.OperationalError) and "disk is full" in str(current):
            return True
        orig = getattr(current, "orig", None)  # SQLAlchemy wraps the sqlite3 error
        if isinstance(orig, BaseException) and is_disk_full(orig):
            return True
        current = current.__cause__ or current.__context__
    return False


def disk_full_error(where: Path) -> DiskFullError:
    return DiskFullError(
        f"The disk holding {where} is full, so the update could not be saved. Your content "
        "has not changed and can still be read.",
        "Free some space (or ask your IT team), then sync again: what was downloaded so "
        "far is kept.",
    )


@contextmanager
def _sync_lock(content_dir: Path) -> Iterator[None]:
    """One sync at a time per data folder (across processes); freed if a process dies."""
    content_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(content_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if sys.platform == "win32":  # pragma: no cover
            import msvcrt

            try:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            except OSError:
                raise SyncBusyError() from None
        else:
            import fcntl

            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise SyncBusyError() from None
        yield
    finally:
        os.close(fd)


def run_sync(
    store: ContentStore,
    feed: str,
    *,
    trust: TrustConfig | None = None,
    mirrors: Sequence[str] = (),
    options: SyncOptions | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> SyncResult:
    """Sync the content in ``store`` from ``feed`` (a URL or a folder); ``mirrors`` (from
    the settings) are tried in order after it, before the mirrors the feed names.

    Safe to call from a background thread. ``progress`` is called from the sync's own
    threads (keep it quick; a GUI should hand it to its UI thread); setting ``cancel``
    stops the sync soon after (``SyncCancelledError``), keeping partial downloads for the
    next one. Problems the user can act on are ``UserError``s; the content is unchanged
    whenever one is raised.
    """
    options = options or SyncOptions()
    run = _Run(
        store,
        feed,
        tuple(mirrors),
        trust or TrustConfig(),
        options,
        ProgressTracker(progress, options.progress_interval),
        cancel or threading.Event(),
    )
    try:
        with _sync_lock(store.content_dir):
            return run.run()
    except UserError:
        raise
    except Exception as exc:
        if is_disk_full(exc):
            raise disk_full_error(store.content_dir) from exc
        raise


@dataclass(frozen=True)
class _Offer:
    """A manifest the feed offers, its signature verified, parsed and checked."""

    source: Transport
    validators: Validators
    manifest: Manifest
    data: bytes
    signature: bytes

    @property
    def sha256(self) -> str:
        return sha256_bytes(self.data)


@dataclass
class _Current:
    info: layout.VersionInfo
    folder: Path | None  # None: the baseline

    @property
    def token(self) -> str:
        return self.folder.name if self.folder else f"baseline-{self.info.version}"


class _Run:
    def __init__(
        self,
        store: ContentStore,
        feed: str,
        mirrors: tuple[str, ...],
        trust: TrustConfig,
        options: SyncOptions,
        tracker: ProgressTracker,
        cancel: threading.Event,
    ) -> None:
        self.store = store
        self.feed = feed
        self.mirrors = mirrors
        self.trust_config = trust
        self.options = options
        self.tracker = tracker
        self.cancel = cancel
        self.deadline = Deadline(options.deadline, "the update")
        self.pool = Pool(store.content_dir / POOL)
        self.transports: list[Transport] = []
        self.reused = 0
        self.downloaded = 0

    def _check(self) -> None:
        if self.cancel.is_set():
            raise SyncCancelledError()
        self.deadline.check()

    def _sleep(self, seconds: float) -> None:
        if self.cancel.wait(seconds):
            raise SyncCancelledError()

    def _get(
        self, transport: Transport, name: str, cap: int, conditional: Validators | None = None
    ) -> Fetched:
        """A small file from the feed, retried with backoff on passing problems."""
        policy = retry_policy(self.options.download, self._sleep)
        return policy(transport.get, name, cap, conditional)

    def _transport(self, location: Location) -> Transport:
        transport = make_transport(location, self.options.http)
        self.transports.append(transport)
        return transport

    def run(self) -> SyncResult:
        location = parse_location(self.feed)
        try:
            return self._run(location)
        finally:
            for transport in self.transports:
                transport.close()

    def _run(self, location: Location) -> SyncResult:
        self.tracker.start(CHECKING)
        self.store.remove_old_versions()  # leftovers of a crash, and old versions
        state = load_state(self.store.content_dir)
        current = self._current()
        trust = build_trust(
            extra=self.trust_config.extra_keys,
            learned=state.learned_keys,
            revoked=self.trust_config.revoked_key_ids,
            include_shipped=self.trust_config.include_shipped,
        )
        same_feed = state.feed == str(location)
        conditional = (
            Validators(state.etag, state.last_modified)
            if same_feed and state.version_dir == current.token
            else None
        )
        mirrors = [*self.mirrors, *(state.mirrors if same_feed else [])]
        source, fetched = self._fetch_manifest(location, mirrors, conditional)
        now = format_time(self.options.clock())
        state.last_checked = now
        if fetched.not_modified:
            return self._up_to_date(state, current, source, now)
        data = fetched.data
        if len(data) > self.options.manifest_cap:
            raise ManifestTooLargeError(self.options.manifest_cap)
        signature = self._fetch_signature(source)
        self._check()
        trust.verify(data, signature)  # before anything reads the manifest
        manifest = parse_manifest(data)
        offer = _Offer(source, fetched.validators, manifest, data, signature)
        self._refuse(manifest, offer.sha256, current, state)
        if manifest.version == current.info.version:
            self._remember_feed(state, location, offer, current.token)
            return self._up_to_date(state, current, source, now)
        return self._apply(state, location, offer, current, now)

    # Checking ---------------------------------------------------------------------
    def _current(self) -> _Current:
        opened = self.store.open_current()
        try:
            return _Current(opened.info, None if opened.is_baseline else opened.info.path)
        finally:
            opened.close()

    def _fetch_manifest(
        self, location: Location, mirrors: Sequence[str], conditional: Validators | None
    ) -> tuple[Transport, Fetched]:
        """The manifest from the feed, or from a known mirror when the feed is down."""
        first: NetworkError | None = None
        for n, where in enumerate([location, *self._mirror_locations(mirrors, location)]):
            transport = self._transport(where)
            try:
                cap = self.options.manifest_cap
                return transport, self._get(
                    transport, MANIFEST_NAME, cap, conditional if n == 0 else None
                )
            except NetworkError as exc:
                log.warning("manifest from %s: %s", where, exc.message)
                first = first or exc
            self._check()
        assert first is not None
        raise first

    def _mirror_locations(self, mirrors: Sequence[str], exclude: Location) -> list[Location]:
        found = []
        for text in mirrors:
            try:
                where = parse_location(text, allow_local=False)
            except SyncError as exc:
                log.warning("mirror %s ignored: %s", text, exc.message)
                continue
            if where != exclude and where not in found:
                found.append(where)
        return found

    def _fetch_signature(self, source: Transport) -> bytes:
        try:
            fetched = self._get(source, SIGNATURE_NAME, MAX_SIGNATURE_BYTES)
        except ServerError as exc:
            if exc.status != 404:
                raise
            raise SignatureError(
                "The content feed has no signature, so its contents cannot be trusted.",
                "Tell the people who publish the feed (or your IT team).",
            ) from None
        if len(fetched.data) > MAX_SIGNATURE_BYTES:
            raise SignatureError(
                "The content feed's signature file is far too large to be a signature.",
                "Tell the people who publish the feed (or your IT team).",
            )
        return fetched.data

    def _refuse(self, m: Manifest, sha: str, current: _Current, state: SyncState) -> None:
        now = self.options.clock()
        if parse_time(m.expires) <= now:
            raise ExpiredFeedError(
                f"The content feed expired on {m.expires[:10]}: it is out of date and may "
                "have been replaced by its publishers.",
                "If this keeps happening, the feed address may point to an old copy: tell "
                "your IT team.",
            )
        if app_version_tuple(m.min_app_version) > app_version_tuple(__version__):
            raise AppTooOldError(
                f"This content needs ASPire Desktop {m.min_app_version} or newer; this is "
                f"version {__version__}.",
                "Ask your IT team to update ASPire Desktop.",
            )
        highest = max(state.highest_version, current.info.version)
        if m.version < highest:
            raise RollbackError(
                f"The content feed offers version {m.version}, older than version {highest} "
                "which this computer already had. Going back could bring back withdrawn "
                "material, so it was refused.",
                "The feed address may point to an old copy: tell your IT team.",
            )
        conflict = (
            m.version == current.info.version
            and current.info.manifest_sha256
            and current.info.manifest_sha256 != sha
        ) or (m.version == state.highest_version and state.highest_sha256 not in (None, sha))
        if conflict:
            raise VersionConflictError(
                f"The content feed's version {m.version} is not the version {m.version} this "
                "computer already had: the same number with different contents.",
                "Tell the people who publish the feed: every change needs a new version number.",
            )

    def _remember_feed(
        self, state: SyncState, location: Location, offer: _Offer, token: str
    ) -> None:
        state.feed = str(location)
        state.etag = offer.validators.etag
        state.last_modified = offer.validators.last_modified
        state.version_dir = token
        state.mirrors = list(offer.manifest.mirrors)

    def _up_to_date(
        self, state: SyncState, current: _Current, source: Transport, now: str
    ) -> SyncResult:
        state.last_synced = now
        self._save_state(state)
        self.pool.tidy(set())
        self.tracker.start(DONE)
        return SyncResult(
            changed=False,
            version=current.info.version,
            previous_version=current.info.version,
            issued=current.info.issued,
            feed=self.feed,
            source=str(source.location),
            requests=self._requests(),
            version_dir=current.folder,
        )

    def _requests(self) -> int:
        return sum(t.requests for t in self.transports)

    def _save_state(self, state: SyncState) -> None:
        try:
            save_state(self.store.content_dir, state)
        except OSError as exc:  # the content itself is fine; only a faster next sync lost
            log.warning("sync state not saved: %s", exc)

    # Applying ---------------------------------------------------------------------
    def _apply(
        self, state: SyncState, location: Location, offer: _Offer, current: _Current, now: str
    ) -> SyncResult:
        manifest = offer.manifest
        versions = self.store.versions_dir
        versions.mkdir(parents=True, exist_ok=True)
        stage = versions / f"{STAGE_PREFIX}{secrets.token_hex(4)}"
        (stage / layout.FILES).mkdir(parents=True)
        try:
            changes = self._stage(offer, stage, current)
            name = f"v{manifest.version}-{offer.sha256[:12]}-{secrets.token_hex(3)}"
            final = versions / name
            os.replace(stage, final)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            self.pool.tidy({f.local_name for f in manifest.files})
            raise
        fsync_dir(versions)
        self.tracker.step("renamed")
        self.store.switch_to(final)  # the one moment the content changes
        self.tracker.step("switched")
        self._remember_feed(state, location, offer, name)
        if manifest.version > state.highest_version:
            state.highest_version, state.highest_sha256 = manifest.version, offer.sha256
        state.last_synced = state.last_changed = now
        if manifest.next_key and manifest.next_key not in state.learned_keys:
            state.learned_keys.append(manifest.next_key)
        self._save_state(state)
        self.tracker.step("state-saved")
        with suppress(OSError):
            self.pool.tidy(set())
        removed = self.store.remove_old_versions()
        self.tracker.start(DONE)
        return SyncResult(
            changed=True,
            version=manifest.version,
            previous_version=current.info.version,
            issued=manifest.issued_date,
            feed=self.feed,
            source=str(offer.source.location),
            added=changes.added,
            updated=changes.updated,
            removed=changes.removed,
            superseded=changes.superseded,
            files_downloaded=self.downloaded,
            files_reused=self.reused,
            bytes_fetched=self.tracker.bytes_fetched,
            requests=self._requests(),
            version_dir=final,
            removed_versions=tuple(removed),
        )

    def _local_copies(self, current: _Current) -> list[Path]:
        folders = [current.folder, self.store.previous_version(), self.store.baseline_dir]
        return [f / layout.FILES for f in folders if f is not None]

    def _stage_files(
        self, manifest: Manifest, stage: Path, source: Transport, current: _Current
    ) -> None:
        files_dir = stage / layout.FILES
        self.tracker.start(DOWNLOADING, len(manifest.files), manifest.total_bytes())
        missing: list[FeedFile] = []
        local = self._local_copies(current)
        for f in manifest.files:
            self._check()
            candidates = (d / f.local_name for d in local)
            found = next((p for p in candidates if verify_file(p, f)), None)
            if found is None:
                missing.append(f)
                continue
            _link_or_copy(found, files_dir / f.local_name)
            self.reused += 1
            self.tracker.have(f.sha256, f.size)
            self.tracker.file_done("file-reused")
        if not missing:
            return
        mirrors = [*self.mirrors, *manifest.mirrors]
        sources = [source] + [
            self._transport(where) for where in self._mirror_locations(mirrors, source.location)
        ]
        downloader = Downloader(
            sources, self.pool, self.options.download, self.tracker, self.cancel, self.deadline
        )

        into = os.path.join(files_dir, "")

        def staged(f: FeedFile) -> None:
            _link_or_copy(self.pool.complete(f), into + f.local_name)
            self.downloaded += 1

        downloader.fetch_all(missing, staged)

    def _stage(self, offer: _Offer, stage: Path, current: _Current) -> diff.Changes:
        """Put the new version together in ``stage``, complete and fsynced. Its catalogue
        is written and checked in a helper thread while the files download."""
        with ThreadPoolExecutor(1, thread_name_prefix="sync-catalogue") as helper:
            catalogue = helper.submit(self._write_catalogue, offer, stage, current)
            self._stage_files(offer.manifest, stage, offer.source, current)
            changes = catalogue.result()  # (leaving the block waits for it, in any case)
        self._check()
        self.tracker.start(APPLYING)
        self._check_files(offer.manifest, stage)
        return changes

    def _write_catalogue(self, offer: _Offer, stage: Path, current: _Current) -> diff.Changes:
        """The catalogue and the rest of the version's own files, checked and fsynced;
        what changed since the current version."""
        from aspire_desktop.core.catalogue.reader import CatalogueReader
        from aspire_desktop.core.store.build import write_version_catalogue

        manifest = offer.manifest
        label = manifest.label or "synced"
        write_version_catalogue(stage, manifest, offer.data, offer.signature, label=label)
        self.tracker.step("catalogue-written")
        reader = CatalogueReader(stage / layout.CATALOGUE)
        try:
            problems = reader.integrity_problems()
            if reader.resource_count() != len(manifest.resources):
                problems.append("the number of resources differs from the manifest")
        finally:
            reader.close()
        if problems:
            raise _not_whole(problems)
        changes = diff.compare(current.info.catalogue, stage / layout.CATALOGUE)
        for path in sorted(stage.iterdir()):
            if path.is_file():
                fsync_file(path)
                self.tracker.step("fsync")
        return changes

    def _check_files(self, manifest: Manifest, stage: Path) -> None:
        """Every file the manifest delivers is in the stage, at its size; then the
        checksums list, and everything fsynced."""
        from aspire_desktop.core.store.build import write_checksums

        files = stage / layout.FILES
        with os.scandir(files) as entries:
            sizes = {e.name: e.stat().st_size for e in entries if e.is_file()}
        problems = [
            f"{f.local_name} is missing or has the wrong size"
            for f in manifest.files
            if sizes.get(f.local_name) != f.size
        ]
        if problems:
            raise _not_whole(problems)
        write_checksums(stage, {f.local_name: f.sha256 for f in manifest.files})
        fsync_file(stage / layout.CHECKSUMS)
        self.tracker.step("checked")
        fsync_dir(files)
        fsync_dir(stage)
        self.tracker.step("fsynced")


def _not_whole(problems: list[str]) -> SyncError:
    return SyncError(
        "The new content could not be checked after it was put together "
        f"({'; '.join(problems[:3])}).",
        "Sync again; if it keeps happening, run 'aspire-desktop doctor' and tell your IT team.",
    )


def _link_or_copy(source: str | Path, target: str | Path) -> None:
    """A hard link (versions share unchanged files), else a copy, fsynced."""
    try:
        os.link(source, target)
    except OSError as exc:
        if is_disk_full(exc):
            raise
        shutil.copyfile(source, target)
        fsync_file(target)
