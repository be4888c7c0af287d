"""Page text out of PDFs, for the index: in a child process of its own (the app), or in
the calling process (the publisher's build, which opens its own files anyway).

PyMuPDF allows one thread per process and a hostile PDF can hang or crash MuPDF, so the
app never extracts text in its own process: :class:`ProcessExtractor` runs
:func:`serve` in a spawned child, with a time limit on each step and on each document;
a hang or a crash costs that document only (it is recorded as failed) and the child is
started again for the next one. The document host (``core.documents``) is not used:
it serves the viewer, which must not wait behind a long indexing run.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

#: Pages sent to the parent at a time.
BATCH_PAGES = 32
#: Seconds the child may take over one batch of pages (or opening the file).
STEP_LIMIT = 30.0
#: Seconds one document may take in all.
DOCUMENT_LIMIT = 600.0
#: How often a wait checks for cancellation, in seconds.
_TICK = 0.1


class ExtractionFailed(Exception):
    """The document's text cannot be had; the message says why, in plain words."""


class Cancelled(Exception):
    """The caller cancelled while a document was being read."""


class Extractor(Protocol):
    def pages(
        self, path: Path, cancel: threading.Event | None = None, following: Path | None = None
    ) -> Iterator[list[str]]:
        """The document's page texts, in order, in batches. ``following`` is the document
        that will be asked for next, if known: it may be read ahead."""
        ...

    def close(self) -> None: ...


def page_batches(path: Path) -> Iterator[list[str]]:
    """Every page's text, a batch at a time (a page that cannot be read gives "")."""
    import pymupdf

    try:
        doc = pymupdf.open(path, filetype="pdf")
    except Exception as exc:  # MuPDF raises several kinds for damaged files
        raise ExtractionFailed(f"it cannot be opened as a PDF ({exc})") from exc
    with doc:
        if doc.needs_pass:
            raise ExtractionFailed("it is protected by a password")
        batch: list[str] = []
        for n in range(doc.page_count):
            try:
                batch.append(str(doc.load_page(n).get_text()))
            except Exception:
                batch.append("")
            if len(batch) == BATCH_PAGES:
                yield batch
                batch = []
        if batch:
            yield batch


def serve(conn: Connection) -> None:
    """The child's loop: a path in; ("pages", [...])... then ("done",) or ("error", why)."""
    import pymupdf

    pymupdf.TOOLS.mupdf_display_errors(False)
    pymupdf.TOOLS.mupdf_display_warnings(False)
    while True:
        try:
            path = conn.recv()
        except (EOFError, OSError):
            break
        if path is None:
            break
        try:
            for batch in page_batches(Path(path)):
                conn.send(("pages", batch))
            reply: tuple[Any, ...] = ("done",)
        except ExtractionFailed as exc:
            reply = ("error", str(exc))
        except Exception as exc:
            reply = ("error", f"{type(exc).__name__}: {exc}")
        try:
            conn.send(reply)
        except (EOFError, OSError):
            break


class InlineExtractor:
    """Extract in this process (for the publisher's build; never in the app)."""

    def pages(
        self, path: Path, cancel: threading.Event | None = None, following: Path | None = None
    ) -> Iterator[list[str]]:
        for batch in page_batches(path):
            if cancel is not None and cancel.is_set():
                raise Cancelled
            yield batch

    def close(self) -> None:
        pass


class ProcessExtractor:
    """Extract in a spawned child process, with time limits."""

    def __init__(
        self,
        target: Callable[[Connection], None] = serve,
        *,
        step_limit: float = STEP_LIMIT,
        document_limit: float = DOCUMENT_LIMIT,
    ) -> None:
        self._target = target
        self._ctx = multiprocessing.get_context("spawn")
        self.step_limit = step_limit
        self.document_limit = document_limit
        self._proc: Any = None
        self._conn: Connection | None = None
        self._sent: deque[str] = deque()  # paths sent to the child, not yet answered
        #: How many times a child was lost mid-document (hung, crashed or cancelled).
        self.restarts = 0

    def pages(
        self, path: Path, cancel: threading.Event | None = None, following: Path | None = None
    ) -> Iterator[list[str]]:
        """As :meth:`Extractor.pages`. ``following`` is sent to the child at once, so it
        reads the next document while this one is being stored (the replies come in
        order); with documents of a batch or two, that is what keeps the child busy."""
        if self._sent and self._sent[0] != str(path):
            self._kill()  # it is reading ahead a document no longer wanted
        conn = self._start()
        finished = False
        try:
            if not self._sent:
                self._send(conn, str(path))
            if following is not None and len(self._sent) == 1:
                self._send(conn, str(following))
            deadline = time.monotonic() + self.document_limit
            while True:
                message = self._receive(conn, deadline, cancel)
                if message[0] == "pages":
                    yield message[1]
                elif message[0] == "done":
                    finished = True
                    return
                else:
                    finished = True  # the child reported it and is ready for the next
                    raise ExtractionFailed(str(message[1]))
        finally:
            if finished:
                self._sent.popleft()
            else:  # hung, crashed, cancelled, or the caller stopped reading
                self._kill()
                self.restarts += 1

    def _send(self, conn: Connection, path: str) -> None:
        conn.send(path)
        self._sent.append(path)

    def _receive(
        self, conn: Connection, deadline: float, cancel: threading.Event | None
    ) -> tuple[Any, ...]:
        step_end = min(time.monotonic() + self.step_limit, deadline)
        while True:
            if cancel is not None and cancel.is_set():
                raise Cancelled
            left = step_end - time.monotonic()
            if left <= 0:
                raise ExtractionFailed(
                    "reading it took too long, so it was stopped"
                    if step_end < deadline
                    else f"it took longer than {self.document_limit:g} seconds to read"
                )
            try:
                ready = conn.poll(min(left, _TICK) if cancel is not None else left)
                if ready:
                    message: tuple[Any, ...] = conn.recv()
                    return message
            except (EOFError, OSError) as exc:
                raise ExtractionFailed("the PDF engine stopped while reading it") from exc

    def _start(self) -> Connection:
        if self._conn is not None and self._proc is not None and self._proc.is_alive():
            return self._conn
        self._kill()
        parent, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(
            target=self._target, args=(child,), name="aspire-search-extract", daemon=True
        )
        self._proc.start()
        child.close()
        self._conn = parent
        return parent

    def _kill(self) -> None:
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.kill()
            self._proc.join()
            self._proc.close()
        if self._conn is not None:
            self._conn.close()
        self._proc, self._conn = None, None
        self._sent.clear()

    def close(self) -> None:
        """Stop the child: asked to exit when idle, stopped if it is reading ahead."""
        if self._conn is not None and not self._sent:
            with contextlib.suppress(OSError, ValueError):
                self._conn.send(None)
            if self._proc is not None:
                self._proc.join(timeout=5)
        self._kill()
