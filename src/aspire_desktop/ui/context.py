"""What the window works with: paths, content, the PyMuPDF worker, user data."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from aspire_desktop.core.errors import UserError
from aspire_desktop.core.paths import Paths
from aspire_desktop.core.store.content import ContentStore, OpenedContent

if TYPE_CHECKING:
    from aspire_desktop.core.documents.worker import DocumentWorker
    from aspire_desktop.core.userdata.store import UserData

T = TypeVar("T")


@dataclass
class AppContext:
    paths: Paths
    store: ContentStore
    content: OpenedContent
    _documents: DocumentWorker | None = None
    _userdata_thread: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="userdata")
    )
    _general: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="background")
    )
    _network: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="network")
    )
    _userdata: Future[tuple[UserData, UserError | None]] | None = None
    _closed: bool = False
    #: Central policy, once read (start-up reads it in the background).
    policy: Any = None
    #: The UI thread's copy of the saved reading positions, once read (a new document
    #: tab needs its page at once), and positions saved before that.
    _positions: dict[str, tuple[int, float | None]] | None = None
    _saved_meanwhile: dict[str, tuple[int, float | None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        import sys

        # The UI thread hands work to threads (the document worker above all) that need
        # the interpreter lock for a moment to pass it on; by default a thread waits up
        # to 5 ms for it while the UI thread runs Python, longer than a page takes.
        sys.setswitchinterval(0.0005)

    @staticmethod
    def _dropped() -> Future[T]:
        future: Future[T] = Future()
        future.cancel()
        return future

    @property
    def documents(self) -> DocumentWorker:
        """The PyMuPDF host, started on first use (not on the start-up path)."""
        if self._documents is None:
            from aspire_desktop.core.documents.worker import DocumentWorker

            self._documents = DocumentWorker()
        return self._documents

    def open_userdata(self) -> Future[tuple[UserData, UserError | None]]:
        """Open the user database on its own thread (SQLAlchemy and alembic load there)."""
        if self._userdata is None:
            from aspire_desktop.core.userdata.store import UserData  # not on the start path

            self._userdata = self._userdata_thread.submit(UserData.open, self.paths.userdata_db)
        return self._userdata

    def userdata(self, fn: Callable[[UserData], T]) -> Future[T]:
        """Run ``fn(userdata)`` on the user-data thread, after the database is open."""
        if self._closed:
            return self._dropped()
        opening = self.open_userdata()
        return self._userdata_thread.submit(lambda: fn(opening.result()[0]))

    def positions_read(self, positions: dict[str, tuple[int, float | None]]) -> None:
        """The saved reading positions, read from user data (UI thread)."""
        positions.update(self._saved_meanwhile)
        self._positions = positions

    def known_position(self, document_key: str) -> tuple[bool, tuple[int, float | None] | None]:
        """``(True, position or None)`` once the positions are read, else ``(False, None)``."""
        if self._positions is None:
            return False, None
        return True, self._positions.get(document_key)

    def note_position(self, document_key: str, page: int, zoom: float | None) -> None:
        """A position being saved (the viewer saves it in user data too)."""
        target = self._saved_meanwhile if self._positions is None else self._positions
        target[document_key] = (page, zoom)

    def background(self, fn: Callable[[], T]) -> Future[T]:
        """Run other slow, Qt-free work (integrity checks, status probes)."""
        if self._closed:
            return self._dropped()
        return self._general.submit(fn)

    def network(self, fn: Callable[[], T]) -> Future[T]:
        """Work that waits on the network (sync): its own thread, never the UI's."""
        if self._closed:
            return self._dropped()
        return self._network.submit(fn)

    def settings(self) -> Any:
        """The effective sync settings (the user's own, under any central policy)."""
        from aspire_desktop.core.settings import read_settings

        return read_settings(self.paths.userdata_db, self.policy)

    def locked(self, key: str) -> str | None:
        """Where a setting is fixed by central policy (None: the user may change it)."""
        if self.policy is None:
            return None
        origin = self.policy.locked_by(key)
        return None if origin is None else str(origin)

    def file_path(self, sha256: str, media_type: str) -> Path | None:
        return self.store.file_path(self.content, sha256, media_type)

    def shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._documents is not None:
            self._documents.shutdown()
        self._general.shutdown(wait=True, cancel_futures=True)
        self._network.shutdown(wait=False, cancel_futures=True)
        if self._userdata is not None:

            def close() -> None:
                assert self._userdata is not None
                if self._userdata.exception() is None:
                    self._userdata.result()[0].close()

            self._userdata_thread.submit(close)
        self._userdata_thread.shutdown(wait=True)
        self.content.close()
