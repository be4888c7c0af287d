"""Progress of a sync, reported to a callback (the window's progress bar, the CLI)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

CHECKING = "checking"
DOWNLOADING = "downloading"
APPLYING = "applying"
DONE = "done"


@dataclass(frozen=True)
class SyncProgress:
    """Where a sync is. ``step`` names the moment (e.g. ``file-done``, ``switched``)."""

    phase: str
    step: str
    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int


ProgressCallback = Callable[[SyncProgress], None]


class ProgressTracker:
    """Counts files and bytes from any thread; calls the callback at most every
    ``min_interval`` seconds for byte counts, and at once for every step. Calls are made
    one at a time, each with counts no older than the one before."""

    def __init__(self, callback: ProgressCallback | None, min_interval: float) -> None:
        self._callback = callback
        self._min_interval = min_interval
        self._lock = threading.Lock()
        self._calling = threading.Lock()
        self._last = 0.0
        self.phase = CHECKING
        self.files_done = 0
        self.files_total = 0
        self.bytes_done = 0
        self.bytes_total = 0
        #: Bytes received from the feed (counted again when a download restarts).
        self.bytes_fetched = 0
        self._per_file: dict[str, int] = {}

    def _emit(self, step: str, force: bool) -> None:
        if self._callback is None:
            return
        if not force and time.monotonic() - self._last < self._min_interval:
            return
        with self._calling:
            with self._lock:
                self._last = time.monotonic()
                snapshot = SyncProgress(
                    self.phase,
                    step,
                    self.files_done,
                    self.files_total,
                    self.bytes_done,
                    self.bytes_total,
                )
            self._callback(snapshot)

    def start(self, phase: str, files_total: int | None = None, bytes_total: int = 0) -> None:
        """A new phase; with ``files_total`` the counts start again (else they stay)."""
        with self._lock:
            self.phase = phase
            if files_total is not None:
                self.files_done = 0
                self.files_total = files_total
                self.bytes_done = 0
                self.bytes_total = bytes_total
                self._per_file.clear()
        self._emit(phase, True)

    def step(self, step: str) -> None:
        self._emit(step, True)

    def received(self, key: str, n: int) -> None:
        """``n`` more bytes of file ``key`` came from the feed."""
        with self._lock:
            self._per_file[key] = self._per_file.get(key, 0) + n
            self.bytes_done += n
            self.bytes_fetched += n
        self._emit("bytes", False)

    def have(self, key: str, n: int) -> None:
        """File ``key`` now has ``n`` bytes on disk (resumed, reused, or restarted)."""
        with self._lock:
            self.bytes_done += n - self._per_file.get(key, 0)
            self._per_file[key] = n

    def file_done(self, step: str) -> None:
        with self._lock:
            self.files_done += 1
        self._emit(step, True)
