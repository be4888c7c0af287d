"""Downloading a feed's files: resumable, capped, verified, and as fast as the link.

Files arrive in ``<data>/content/downloads/``: ``<name>.part`` while they come in, with a
``<name>.part.json`` sidecar saying which file (checksum, size) and which server state
(ETag / Last-Modified) the part belongs to; a complete file is renamed to ``<name>`` only
after its size and sha256 matched. A part is only ever used as the start of the same
file (Range + If-Range), and never without its sidecar; the checksum of the whole is
always checked, so a leftover part is never trusted. The sidecar is written when a
download stops before its end, and at once for large files (so that a crash keeps them
too): a small file that arrives in one go needs none. A complete file is not trusted
either: it is checked again before another sync uses it. All the files a set of
downloads completes are on disk for good (fsynced) when ``fetch_all`` returns.

Sources are tried in order (the feed, then its mirrors): a file that fails on one
(after retries with backoff for passing problems) is fetched from the next.

How the work is shared. *Fetchers* (threads, one connection each) each take a file,
ask for it, and hash and write each piece as it arrives (what the connection has, up to
256 KB), then finish it: checksum compared, part renamed, ``on_done`` called. Hashing,
writing and receiving release the interpreter lock, so two fetchers keep two cores
busy; two start (``DownloadOptions.first_workers``), and another joins (up to
``DownloadOptions.workers``) whenever a fetcher spends most of its time waiting for the
network rather than working, as it does on a distant or slow server: more files in
flight then hide the waiting. A file whose checksum does not match is queued again (from
its first byte, or from the next source). (One fetcher handing its pieces to two
threads that hashed and wrote was tried: every piece then passed between threads, and
the benchmark's 200 files took 10 % longer, 0.41 against 0.37 s in the same run.)

*Making them durable.* As a fetcher finishes a file it asks the system to start writing
it to disk (``POSIX_FADV_DONTNEED`` starts the write-back on Linux, as PostgreSQL's
``pg_flush_data`` uses it), without waiting; at the end every file is fsynced, many at
once, so the disk is mostly done and the file system commits them together. An fsync as
each file completes made each wait for its own commit: for the benchmark's 200 files
that took 0.1 s longer (0.45 against 0.35 s, in the same run).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import tenacity

from aspire_desktop.core.feed.errors import FileMismatchError
from aspire_desktop.core.feed.manifest import FeedFile
from aspire_desktop.core.store.durable import fsync_file
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
#: Files with more than this to fetch get their sidecar before their first byte.
_SIDECAR_AT_ONCE = 8 << 20
_O_BINARY: int = getattr(os, "O_BINARY", 0)  # Windows: no newline translation
_NEW = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _O_BINARY
#: Starts writing a file's pages to disk (Linux); None where there is no such call.
_FADVISE: Callable[[int, int, int, int], None] | None = getattr(os, "posix_fadvise", None)
#: Files fsynced at once at the end.
_FSYNCS = 16


@dataclass(frozen=True)
class DownloadOptions:
    #: Files fetched at once at most (one connection each).
    workers: int = 4
    #: Files fetched at once from the start (more join on a slow link).
    first_workers: int = 2
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
        #: ``time.monotonic()`` at the deadline.
        self.end = math.inf if seconds is None else time.monotonic() + seconds
        self._seconds = seconds
        self._what = what

    def check(self) -> None:
        if time.monotonic() > self.end:
            raise TooSlowError(
                f"The feed is sending {self._what} far too slowly (it took more than "
                f"{self._seconds:g} seconds), so the sync stopped.",
                "Try again later, or on a better connection; what came is kept.",
            )


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, TooSlowError):
        return False
    if isinstance(exc, ServerError):
        return exc.status is not None and (exc.status >= 500 or exc.status in (408, 429))
    return isinstance(exc, (TruncatedError, FeedTimeoutError, FeedOfflineError))


def retry_policy(
    options: DownloadOptions, sleep: Callable[[float], None], *, after_a_try: bool = False
) -> tenacity.Retrying:
    """Retries with exponential backoff and jitter for passing problems only.
    ``after_a_try``: the tries after a first one made without it (a download's first
    try is, as nearly every file comes at the first: the retry machinery took a sixth
    of the interpreter's time in a fast sync), with the same waits, the first of them
    before its first try."""
    jitter = tenacity.wait_random(0, options.backoff)
    wait = tenacity.wait_exponential(multiplier=options.backoff, max=options.backoff_max)
    if not after_a_try:
        return tenacity.Retrying(
            retry=tenacity.retry_if_exception(_transient),
            stop=tenacity.stop_after_attempt(options.attempts),
            wait=wait + jitter,
            sleep=sleep,
            reraise=True,
        )
    first_wait = wait + jitter

    def before(state: tenacity.RetryCallState) -> None:
        if state.attempt_number == 1:
            sleep(first_wait(state))

    return tenacity.Retrying(
        retry=tenacity.retry_if_exception(_transient),
        stop=tenacity.stop_after_attempt(max(1, options.attempts - 1)),
        wait=tenacity.wait_exponential(multiplier=2 * options.backoff, max=options.backoff_max)
        + jitter,
        before=before,
        sleep=sleep,
        reraise=True,
    )


class Pool:
    """The downloads folder. Its files' paths are plain text (a download asks for
    several, and ``pathlib`` took a tenth of the interpreter's time for them)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._prefix = os.path.join(folder, "")

    def complete(self, f: FeedFile) -> str:
        return self._prefix + f.local_name

    def part(self, f: FeedFile) -> str:
        return self._prefix + f.local_name + PART

    def sidecar(self, f: FeedFile) -> str:
        return self._prefix + f.local_name + SIDECAR

    def read_sidecar(self, f: FeedFile) -> dict[str, object] | None:
        try:
            with open(self.sidecar(f), encoding="utf-8") as fh:
                data = json.loads(fh.read())
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
        with open(self.sidecar(f), "w", encoding="utf-8") as fh:
            fh.write(json.dumps(data))

    def discard(self, f: FeedFile) -> None:
        _remove(self.part(f))
        _remove(self.sidecar(f))

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


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def verify_file(path: str | Path, f: FeedFile) -> bool:
    """True when ``path`` has exactly the size and sha256 of ``f``."""
    try:
        if os.stat(path).st_size != f.size:
            return False
        return _hash_prefix(path, f.size).hexdigest() == f.sha256
    except OSError:
        return False


def _hash_prefix(path: str | Path, length: int) -> hashlib._Hash:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        remaining = length
        while remaining > 0:
            chunk = fh.read(min(_HASH_CHUNK, remaining))
            if not chunk:
                break
            digest.update(chunk)
            remaining -= len(chunk)
    return digest


class _Restart(Exception):
    """Start this file again from its first byte (a resumed part did not fit)."""


class _Aborted(Exception):
    """Another file failed: stop this one quietly."""


@dataclass(eq=False)
class _Job:
    """A file to fetch, and how far its sources have been tried."""

    file: FeedFile
    #: Nothing of it (part, sidecar, complete file) is in the pool.
    fresh: bool = False
    #: The source it is fetched from (an index into the sources).
    source: int = 0
    #: Already started again from its first byte on this source.
    restarted: bool = False
    #: The first failure, raised if every source fails.
    error: SyncError | FileMismatchError | None = None


class _Pace:
    """How a fetcher spends its time: mostly waiting (for the network) means that
    another fetcher would help."""

    #: Shortest stretch of time judged.
    WINDOW = 0.1

    def __init__(self) -> None:
        self._restart()

    def _restart(self) -> None:
        self._wall = time.perf_counter()
        self._cpu = time.thread_time()

    def waiting(self) -> bool:
        """True when, over the stretch that ends now, this thread has worked less than a
        quarter of the time (a fetcher whose link is fast works most of it, even when
        it takes turns with other threads)."""
        wall = time.perf_counter() - self._wall
        if wall < self.WINDOW:
            return False
        busy = time.thread_time() - self._cpu
        self._restart()
        return busy < wall / 4


class _Output:
    """One try's bytes on their way into a part file (used by one fetcher)."""

    def __init__(
        self,
        job: _Job,
        part: str,
        offset: int,
        sidecar: Callable[[], None] | None = None,
        *,
        sidecar_at_once: bool = False,
    ) -> None:
        self.job = job
        self.part = part
        #: Bytes of the part kept from before (resumed); the digest starts with them.
        self.offset = offset
        self._sidecar = sidecar
        self._sidecar_at_once = sidecar_at_once
        self.has_sidecar = False
        self._fd = -1
        self.digest = hashlib.sha256()

    def open(self) -> None:
        if self._sidecar_at_once:
            self.keep()
        if not self.offset:
            self._fd = os.open(self.part, _NEW, 0o644)
            return
        self._fd = os.open(self.part, os.O_WRONLY | _O_BINARY)
        try:
            os.ftruncate(self._fd, self.offset)
            os.lseek(self._fd, self.offset, os.SEEK_SET)
            self.digest = _hash_prefix(self.part, self.offset)
        except BaseException:
            self.close()
            raise

    def keep(self) -> None:
        """Write the part's sidecar (if not yet), so that the part can be resumed."""
        if self._sidecar is not None and not self.has_sidecar:
            self._sidecar()
            self.has_sidecar = True

    def write(self, data: bytes) -> None:
        self.digest.update(data)
        written = os.write(self._fd, data)
        if written < len(data):
            view = memoryview(data)[written:]
            while view:
                view = view[os.write(self._fd, view) :]

    def close(self, *, write_back: bool = False) -> None:
        """Close the part; ``write_back``: start writing it to disk first (not waited for;
        where the system has no way to ask, the fsync at the end does it all)."""
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            try:
                if write_back and _FADVISE is not None:
                    with contextlib.suppress(OSError):  # only advice: the fsync is what counts
                        _FADVISE(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


class Downloader:
    """Fetches files into the pool (see the module's description); used once."""

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
        self._failures: list[BaseException] = []
        self._lock = threading.Lock()
        self._done_lock = threading.Lock()
        self._queue: deque[_Job] = deque()
        self._on_done: Callable[[FeedFile], None] = lambda f: None
        self._crew: ThreadPoolExecutor | None = None
        self._fetchers: list[Future[None]] = []
        self._retrying = retry_policy(options, self._sleep, after_a_try=True)
        #: The files completed (in the pool), to fsync at the end.
        self._complete: list[str] = []

    # The whole set ------------------------------------------------------------------
    def fetch_all(self, files: Sequence[FeedFile], on_done: Callable[[FeedFile], None]) -> None:
        """Download every file into the pool, complete and verified; ``on_done`` runs (in
        a fetcher thread, one file at a time) as each one is. The first failure stops
        the others and is raised. Returns when every file is also on disk for good."""
        self.pool.folder.mkdir(parents=True, exist_ok=True)
        if not files:
            return
        self._on_done = on_done
        present = {entry.name for entry in os.scandir(self.pool.folder)}
        for f in files:
            names = {f.local_name, f.local_name + PART, f.local_name + SIDECAR}
            self._queue.append(_Job(f, fresh=not names & present))
        # Finishing a file may queue it again (to restart it, or for the next source).
        while self._queue and not self._abort.is_set():
            self._fetch_queued()
        if self._failures:
            real = [e for e in self._failures if not isinstance(e, _Aborted)]
            raise real[0] if real else SyncCancelledError()
        with ThreadPoolExecutor(_FSYNCS, thread_name_prefix="sync-fsync") as fsyncs:
            for _ in fsyncs.map(fsync_file, self._complete):
                pass

    def _fetch_queued(self) -> None:
        """Fetch what is queued: the first fetchers, joined by more as ``_paced`` sees
        fit."""
        workers = max(1, self.options.workers)
        first = max(1, min(workers, self.options.first_workers, len(self._queue)))
        with ThreadPoolExecutor(workers, thread_name_prefix="sync-fetch") as crew:
            with self._lock:
                self._crew = crew
                self._fetchers = [crew.submit(self._fetcher) for _ in range(first)]
            try:
                while running := self._running():
                    wait(running)
            except BaseException:  # e.g. Ctrl+C in the calling thread
                self._abort.set()
                raise
            finally:
                with self._lock:
                    self._crew = None

    def _running(self) -> list[Future[None]]:
        with self._lock:
            return [f for f in self._fetchers if not f.done()]

    def _fetcher(self) -> None:
        pace = _Pace()
        while not self._abort.is_set():
            try:
                job = self._queue.popleft()
            except IndexError:
                return
            try:
                self._fetch(job, pace)
                self._paced(pace)
            except BaseException as exc:
                self._fail(exc)

    def _paced(self, pace: _Pace) -> None:
        """Another fetcher joins if this one mostly waits and there is work for it."""
        if not pace.waiting():
            return
        with self._lock:
            crew = self._crew
            if crew is not None and len(self._fetchers) < self.options.workers and self._queue:
                self._fetchers.append(crew.submit(self._fetcher))

    def _fail(self, exc: BaseException) -> None:
        with self._lock:
            self._failures.append(exc)
        self._abort.set()

    def _done(self, f: FeedFile, step: str) -> None:
        """In a fetcher: ``f`` is complete in the pool."""
        self.progress.file_done(step)
        with self._done_lock:
            self._complete.append(self.pool.complete(f))
            self._on_done(f)

    # One file -------------------------------------------------------------------------
    def _fetch(self, job: _Job, pace: _Pace) -> None:
        """Fetch ``job`` from its source and finish it. Failures the next source may not
        have move the job on to it."""
        f = job.file
        if not job.fresh:
            complete = self.pool.complete(f)
            if os.path.exists(complete):
                if verify_file(complete, f):
                    self.progress.have(f.sha256, f.size)
                    self._done(f, "file-found")
                    return
                os.unlink(complete)
        source = self.sources[job.source]
        try:
            out = self._tries(job, source, pace)
        except _Restart:
            self._restart(job)
            return
        except (SyncError, FileMismatchError) as exc:
            if isinstance(exc, SyncCancelledError):
                raise
            self._next_source(job, exc)
            return
        self._finished(out)

    def _tries(self, job: _Job, source: Transport, pace: _Pace) -> _Output:
        """A first try; after a passing problem, more with backoff."""
        try:
            return self._try(job, source, pace)
        except Exception as exc:
            if not _transient(exc) or self.options.attempts < 2:
                raise
        return self._retrying(self._try, job, source, pace)

    def _restart(self, job: _Job) -> None:
        """Start ``job`` again from its first byte (once per source)."""
        f = job.file
        self.progress.have(f.sha256, 0)
        self.pool.discard(f)
        if not job.restarted:
            job.restarted = True
            self._queue.appendleft(job)
            return
        self._next_source(
            job,
            FileMismatchError(
                f"The feed's file {f.path} could not be downloaded whole: the server kept "
                "answering with other parts of it.",
                "Tell the people who publish the feed (or your IT team).",
            ),
        )

    def _next_source(self, job: _Job, exc: SyncError | FileMismatchError) -> None:
        log.warning("%s from %s: %s", job.file.path, self.sources[job.source].location, exc.message)
        job.error = job.error or exc
        job.source += 1
        job.restarted = False
        if job.source == len(self.sources):
            raise job.error
        self._queue.appendleft(job)

    def _sleep(self, seconds: float) -> None:
        """Back off before a retry, but stop at once when cancelled or aborted."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if self.cancel.wait(min(left, 0.1)):
                raise SyncCancelledError()
            if self._abort.is_set():
                raise _Aborted()

    def _check_running(self, deadline: Deadline | None = None) -> None:
        if self.cancel.is_set():
            raise SyncCancelledError()
        if self._abort.is_set():
            raise _Aborted()
        self.deadline.check()
        if deadline is not None:
            deadline.check()

    def _try(self, job: _Job, source: Transport, pace: _Pace) -> _Output:
        """One try: resume the part if there is one; the part, all in it, to finish. A
        server that will not fit it on (416, a wrong Content-Range) raises ``_Restart``,
        unless the part is already whole, which is then checked as it is."""
        f = job.file
        part = self.pool.part(f)
        sidecar = None if job.fresh else self.pool.read_sidecar(f)
        offset = os.stat(part).st_size if sidecar is not None and os.path.exists(part) else 0
        if (offset == 0 and not job.fresh) or offset > f.size:
            self.pool.discard(f)
            offset = 0
        job.fresh = False
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
            return self._receive(job, source, offset, validators, deadline, pace)
        except RangeProblem as exc:
            log.info("%s: %s; verifying or restarting", f.path, exc)
            if offset != f.size:
                raise _Restart() from None
            out = _Output(job, part, offset)  # whole already? the checksum says
            out.open()
            return out

    def _receive(
        self,
        job: _Job,
        source: Transport,
        offset: int,
        validators: Validators | None,
        deadline: Deadline,
        pace: _Pace,
    ) -> _Output:
        """Fetch the rest of the file into its part (left open, to finish). On any
        failure, what came is on disk, with its sidecar, and the part closed."""
        f = job.file
        with source.open(f.path, offset, validators) as body:
            resumed = offset > 0  # its sidecar is on disk: kept up to date
            if body.start != offset:  # the server sent the whole file: start again
                self.progress.have(f.sha256, 0)
                offset = 0
            if body.length is not None and body.start + body.length > f.size:
                raise self._too_large(f)

            def sidecar() -> None:
                self.pool.write_sidecar(f, str(source.location), body.validators)

            out = _Output(
                job,
                self.pool.part(f),
                offset,
                sidecar,
                sidecar_at_once=resumed or f.size - offset > _SIDECAR_AT_ONCE,
            )
            try:
                out.open()
                received = self._copy(body.chunks, out, deadline, pace)
            except BaseException:
                self._keep(out)
                raise
            if received > f.size:
                out.close()
                raise self._too_large(f)
            if received < f.size:
                self._keep(out)
                raise TruncatedError(
                    f"The download of {f.path} stopped after {received} of {f.size} bytes.",
                    "Sync again: it carries on from where it stopped.",
                )
        return out

    def _keep(self, out: _Output) -> None:
        """The try stopped early: keep what came, with its sidecar (if it can be written:
        without it the part is not used), and close the part."""
        try:
            out.keep()
        except OSError as exc:
            log.warning("%s: the part cannot be kept to resume (%s)", out.job.file.path, exc)
        finally:
            out.close()

    def _copy(self, chunks: Iterator[bytes], out: _Output, deadline: Deadline, pace: _Pace) -> int:
        """Hash and write ``chunks`` into the part; returns its size at the end, or as soon
        as it would be larger than the file. (This loop runs for every piece the
        connection gives: it is kept plain.)"""
        f, progress = out.job.file, self.progress
        cancel, abort, end = self.cancel, self._abort, min(deadline.end, self.deadline.end)
        received = out.offset

        def check() -> None:
            self._check_running(deadline)

        for chunk in chunks:
            if cancel.is_set() or abort.is_set() or time.monotonic() > end:
                check()
            size = len(chunk)
            received += size
            if received > f.size:
                return received
            out.write(chunk)
            progress.received(f.sha256, size)
            self._paced(pace)
        return received

    def _finished(self, out: _Output) -> None:
        """After a try's last bytes: keep the file if its checksum matches; else start it
        again (a resumed part may be the culprit) or go on to the next source."""
        job, f = out.job, out.job.file
        whole = out.digest.hexdigest() == f.sha256
        out.close(write_back=whole)
        if whole:
            os.replace(out.part, self.pool.complete(f))
            if out.offset or out.has_sidecar:
                _remove(self.pool.sidecar(f))
            self._done(f, "file-done")
            return
        if out.offset > 0 and not job.restarted:
            self._restart(job)
            return
        self.progress.have(f.sha256, 0)
        self.pool.discard(f)
        self._next_source(
            job,
            FileMismatchError(
                f"The feed's file {f.path} did not match its checksum when downloaded from "
                f"{self.sources[job.source].location}.",
                "Tell the people who publish the feed (or your IT team).",
            ),
        )

    def _too_large(self, f: FeedFile) -> FileMismatchError:
        self.pool.discard(f)
        return FileMismatchError(
            f"The feed's file {f.path} is larger than the {f.size} bytes its list says, so "
            "it was not used.",
            "Tell the people who publish the feed (or your IT team).",
        )
