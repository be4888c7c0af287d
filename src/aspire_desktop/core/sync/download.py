"""Downloading a feed's files: in parallel, resumable, capped, verified.

Files arrive in ``<data>/content/downloads/``: ``<name>.part`` while they come in, with a
``<name>.part.json`` sidecar saying which file (checksum, size) and which server state
(ETag / Last-Modified) the part belongs to; a complete file is renamed to ``<name>`` only
after its size and sha256 matched and it was fsynced. A part is only ever used as the
start of the same file (Range + If-Range); the checksum of the whole is always checked,
so a leftover part is never trusted. Each file is hashed while it is written.

Sources are tried in order (the feed, then its mirrors): a file that fails on one
(after retries with backoff for passing problems) is fetched from the next.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import tenacity

from aspire_desktop.core.feed.errors import FileMismatchError
from aspire_desktop.core.feed.manifest import FeedFile
from aspire_desktop.core.store.durable import fsync_files, start_writeback
from aspire_desktop.core.sync.errors import (
    FeedOfflineError,
    FeedTimeoutError,
    ServerError,
    SyncCancelledError,
    SyncError,
    TooSlowError,
    TruncatedError,
)
from aspire_desktop.core.sync.progress import ProgressTracker
from aspire_desktop.core.sync.transport import RangeProblem, Transport, Validators

log = logging.getLogger(__name__)

POOL = "downloads"
PART = ".part"
SIDECAR = ".part.json"
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class DownloadOptions:
    workers: int = 4
    #: Tries per file and source for passing problems (timeouts, 5xx, broken connections).
    attempts: int = 4
    backoff: float = 0.5
    backoff_max: float = 8.0
    #: Each file may take this long plus its size at ``min_rate`` bytes a second.
    file_grace: float = 60.0
    min_rate: float = 4096.0


class Deadline:
    """A point in time after which the work is too slow to go on."""

    def __init__(self, seconds: float | None, what: str) -> None:
        self._end = None if seconds is None else time.monotonic() + seconds
        self._seconds = seconds
        self._what = what

    def check(self) -> None:
        if self._end is not None and time.monotonic() > self._end:
            raise TooSlowError(
                f"The feed is sending {self._what} far too slowly (it took more than "
                f"{self._seconds:g} seconds), so the sync stopped.",
                "Try again later, or on a better connection; what came is kept.",
            )


class _Restart(Exception):
    """Start this file again from its first byte (a resumed part did not fit)."""


class _Aborted(Exception):
    """Another file failed: stop this one quietly."""


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, TooSlowError):
        return False
    if isinstance(exc, ServerError):
        return exc.status is not None and (exc.status >= 500 or exc.status in (408, 429))
    return isinstance(exc, (TruncatedError, FeedTimeoutError, FeedOfflineError))


def retry_policy(options: DownloadOptions, sleep: Callable[[float], None]) -> tenacity.Retrying:
    """Retries with exponential backoff and jitter for passing problems only."""
    return tenacity.Retrying(
        retry=tenacity.retry_if_exception(_transient),
        stop=tenacity.stop_after_attempt(options.attempts),
        wait=tenacity.wait_exponential(multiplier=options.backoff, max=options.backoff_max)
        + tenacity.wait_random(0, options.backoff),
        sleep=sleep,
        reraise=True,
    )


class Pool:
    """The downloads folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def complete(self, f: FeedFile) -> Path:
        return self.folder / f.local_name

    def part(self, f: FeedFile) -> Path:
        return self.folder / (f.local_name + PART)

    def sidecar(self, f: FeedFile) -> Path:
        return self.folder / (f.local_name + SIDECAR)

    def read_sidecar(self, f: FeedFile) -> dict[str, object] | None:
        try:
            data = json.loads(self.sidecar(f).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("sha256") != f.sha256:
            return None
        if data.get("size") != f.size:
            return None
        return data

    def write_sidecar(self, f: FeedFile, source: str, validators: Validators) -> None:
        data = {
            "sha256": f.sha256,
            "size": f.size,
            "source": source,
            "etag": validators.etag,
            "last_modified": validators.last_modified,
        }
        self.sidecar(f).write_text(json.dumps(data), encoding="utf-8")

    def discard(self, f: FeedFile) -> None:
        self.part(f).unlink(missing_ok=True)
        self.sidecar(f).unlink(missing_ok=True)

    def tidy(self, keep: set[str]) -> None:
        """Remove everything but the parts and files of ``keep`` (local names), and any
        part without its sidecar or sidecar without its part."""
        if not self.folder.is_dir():
            return
        for entry in self.folder.iterdir():
            name = entry.name
            base = name.removesuffix(SIDECAR).removesuffix(PART)
            partner = (
                self.folder / (base + PART)
                if name.endswith(SIDECAR)
                else self.folder / (base + SIDECAR)
                if name.endswith(PART)
                else None
            )
            if base not in keep or (partner is not None and not partner.exists()):
                if entry.is_dir():
                    continue
                entry.unlink(missing_ok=True)


def verify_file(path: Path, f: FeedFile) -> bool:
    """True when ``path`` has exactly the size and sha256 of ``f``."""
    try:
        if path.stat().st_size != f.size:
            return False
        return _hash_prefix(path, f.size).hexdigest() == f.sha256
    except OSError:
        return False


def _hash_prefix(path: Path, length: int) -> hashlib._Hash:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        remaining = length
        while remaining > 0:
            chunk = fh.read(min(_HASH_CHUNK, remaining))
            if not chunk:
                break
            digest.update(chunk)
            remaining -= len(chunk)
    return digest


class Downloader:
    def __init__(
        self,
        sources: Sequence[Transport],
        pool: Pool,
        options: DownloadOptions,
        progress: ProgressTracker,
        cancel: threading.Event,
        deadline: Deadline,
    ) -> None:
        self.sources = list(sources)
        self.pool = pool
        self.options = options
        self.progress = progress
        self.cancel = cancel
        self.deadline = deadline
        self._abort = threading.Event()

    # The whole set ------------------------------------------------------------------
    def fetch_all(self, files: Sequence[FeedFile], on_done: Callable[[FeedFile], None]) -> None:
        """Download every file into the pool, complete and verified; ``on_done`` runs (in
        a worker) as each one is. The first failure stops the others and is raised.
        Returns when every file is also on disk for good: each one's writeback starts as
        it completes, and all are fsynced together at the end."""
        self.pool.folder.mkdir(parents=True, exist_ok=True)
        if not files:
            return
        self._download_all(files, on_done)
        fsync_files([self.pool.complete(f) for f in files])

    def _download_all(self, files: Sequence[FeedFile], on_done: Callable[[FeedFile], None]) -> None:
        workers = max(1, min(self.options.workers, len(files)))
        with ThreadPoolExecutor(workers, thread_name_prefix="sync-download") as pool:
            futures = [pool.submit(self._fetch_one, f, on_done) for f in files]
            try:
                done, _ = wait(futures, return_when=FIRST_EXCEPTION)
                failed = [f for f in done if f.exception() is not None]
                if failed:
                    self._abort.set()
                    for future in futures:
                        future.cancel()
                    wait(futures)
                    errors = [f.exception() for f in futures if f.done() and not f.cancelled()]
                    real = [e for e in errors if e is not None and not isinstance(e, _Aborted)]
                    raise real[0] if real else SyncCancelledError()
            except BaseException:
                self._abort.set()
                for future in futures:
                    future.cancel()
                raise

    def _fetch_one(self, f: FeedFile, on_done: Callable[[FeedFile], None]) -> None:
        path = self.fetch(f)
        assert path == self.pool.complete(f)
        on_done(f)

    # One file -------------------------------------------------------------------------
    def fetch(self, f: FeedFile) -> Path:
        """The file, complete and verified in the pool: from the first source that has it."""
        complete = self.pool.complete(f)
        if complete.exists():
            if verify_file(complete, f):
                self.progress.have(f.sha256, f.size)
                self.progress.file_done("file-found")
                return complete
            complete.unlink()
        first: SyncError | FileMismatchError | None = None
        for source in self.sources:
            try:
                path = self._fetch_from(source, f)
            except (SyncError, FileMismatchError) as exc:
                if isinstance(exc, SyncCancelledError):
                    raise
                log.warning("%s from %s: %s", f.path, source.location, exc.message)
                first = first or exc
                continue
            self.progress.file_done("file-done")
            return path
        assert first is not None
        raise first

    def _sleep(self, seconds: float) -> None:
        """Back off before a retry, but stop at once when cancelled or aborted."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if self.cancel.wait(min(left, 0.1)):
                raise SyncCancelledError()
            if self._abort.is_set():
                raise _Aborted()

    def _fetch_from(self, source: Transport, f: FeedFile) -> Path:
        return retry_policy(self.options, self._sleep)(self._attempt, source, f)

    def _check_running(self, deadline: Deadline) -> None:
        if self.cancel.is_set():
            raise SyncCancelledError()
        if self._abort.is_set():
            raise _Aborted()
        self.deadline.check()
        deadline.check()

    def _attempt(self, source: Transport, f: FeedFile) -> Path:
        """One try: resume the part if there is one; if the server will not fit it on
        (416, a wrong Content-Range, a checksum that fails after resuming), start again
        from the first byte at once."""
        try:
            return self._try(source, f)
        except _Restart:
            pass
        try:
            return self._try(source, f)  # the part is gone: this asks for the whole file
        except _Restart:
            raise FileMismatchError(
                f"The feed's file {f.path} could not be downloaded whole: the server kept "
                "answering with other parts of it.",
                "Tell the people who publish the feed (or your IT team).",
            ) from None

    def _try(self, source: Transport, f: FeedFile) -> Path:
        part = self.pool.part(f)
        sidecar = self.pool.read_sidecar(f)
        offset = part.stat().st_size if part.exists() and sidecar is not None else 0
        if offset == 0 or offset > f.size:
            self.pool.discard(f)
            offset = 0
        self.progress.have(f.sha256, offset)
        validators = None
        if sidecar is not None and sidecar.get("source") == str(source.location):
            etag, modified = sidecar.get("etag"), sidecar.get("last_modified")
            validators = Validators(
                etag if isinstance(etag, str) else None,
                modified if isinstance(modified, str) else None,
            )
        deadline = Deadline(
            self.options.file_grace + f.size / self.options.min_rate, f"the file {f.path}"
        )
        self._check_running(deadline)
        try:
            digest = self._receive(source, f, part, offset, validators, deadline)
        except RangeProblem as exc:
            log.info("%s: %s; verifying or restarting", f.path, exc)
            if offset == f.size and verify_file(part, f):
                return self._finish(f)
            self._restart(f)
        if digest != f.sha256:
            if offset > 0:  # the part on disk may be the culprit: once more from zero
                self._restart(f)
            self.progress.have(f.sha256, 0)
            self.pool.discard(f)
            raise FileMismatchError(
                f"The feed's file {f.path} did not match its checksum when downloaded from "
                f"{source.location}.",
                "Tell the people who publish the feed (or your IT team).",
            )
        return self._finish(f)

    def _restart(self, f: FeedFile) -> None:
        self.progress.have(f.sha256, 0)
        self.pool.discard(f)
        raise _Restart()

    def _finish(self, f: FeedFile) -> Path:
        """The part is whole and verified: it becomes the complete file.

        (Until the switch to a new version, durability does not matter: after a power cut
        a complete file is checked against its name's checksum before it is used.)"""
        complete = self.pool.complete(f)
        os.replace(self.pool.part(f), complete)
        self.pool.sidecar(f).unlink(missing_ok=True)
        return complete

    def _too_large(self, f: FeedFile) -> FileMismatchError:
        self.pool.discard(f)
        return FileMismatchError(
            f"The feed's file {f.path} is larger than the {f.size} bytes its list says, so "
            "it was not used.",
            "Tell the people who publish the feed (or your IT team).",
        )

    def _receive(
        self,
        source: Transport,
        f: FeedFile,
        part: Path,
        offset: int,
        validators: Validators | None,
        deadline: Deadline,
    ) -> str:
        """Fetch the rest of ``f`` into ``part``; returns the sha256 of the whole."""
        with source.open(f.path, offset, validators) as body:
            if body.start != offset:  # the server sent the whole file: start again
                self.progress.have(f.sha256, 0)
                offset = 0
            if body.length is not None and body.start + body.length > f.size:
                raise self._too_large(f)
            self.pool.write_sidecar(f, str(source.location), body.validators)
            digest = _hash_prefix(part, offset) if offset else hashlib.sha256()
            written = offset
            with part.open("r+b" if offset else "wb") as fh:
                fh.seek(offset)
                fh.truncate()
                for chunk in body.chunks:
                    self._check_running(deadline)
                    written += len(chunk)
                    if written > f.size:
                        raise self._too_large(f)
                    digest.update(chunk)
                    fh.write(chunk)
                    self.progress.received(f.sha256, len(chunk))
                if written < f.size:
                    raise TruncatedError(
                        f"The download of {f.path} stopped after {written} of {f.size} bytes.",
                        "Sync again: it carries on from where it stopped.",
                    )
                fh.flush()
                start_writeback(fh.fileno())
        return digest.hexdigest()
