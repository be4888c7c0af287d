"""The app's side of the document host: futures, priorities, time limits, restarts.

One thread here sends requests to the host process one at a time. Requests carry a
priority (opening first, then what is on screen, then prefetching) and, within a
priority, the newest is served first: a page that scrolled away is never waited for.
A request that takes longer than its time limit, or a host that dies, costs only that
request: the host is restarted and documents are reopened on demand.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path
from typing import Any

from aspire_desktop.core.documents import host
from aspire_desktop.core.documents.fit import PageView
from aspire_desktop.core.documents.pdf import MAX_PIXELS, DocumentInfo, RenderResult
from aspire_desktop.core.errors import DocumentDamagedError, UserError

log = logging.getLogger(__name__)

# Priorities: lower first.
OPEN = 0
VISIBLE = 1  # pages on screen
INFO = 2  # outline, links, words, text, search
PREFETCH = 3  # pages next to the screen
BACKGROUND = 4  # thumbnails
CLEANUP = 5

#: Time limits in seconds.
OPEN_LIMIT = 30.0
RENDER_LIMIT = 10.0
OTHER_LIMIT = 30.0


#: How a new tab will show its document (or None), asked just before the open. It runs
#: on the worker's thread (it may wait a moment for the saved reading position), so it
#: must not touch the UI.
PageChoice = Callable[[], "PageView | None"]


#: A page rendered with the open: ``(page, zoom, rotation)`` and what the render's
#: ``convert`` made of the pixels.
FirstPage = tuple[tuple[int, float, int], Any]


@dataclass(order=True)
class _Call:
    priority: int
    order: int  # negative sequence number: newest first within a priority
    method: str = field(compare=False)
    args: tuple[Any, ...] = field(compare=False)
    future: Future[Any] = field(compare=False)
    doc_id: int | None = field(compare=False)
    limit: float = field(compare=False)
    convert: Callable[[RenderResult, memoryview], Any] | None = field(compare=False, default=None)
    #: With an open: how the new tab will show the document, and the future that gets
    #: the page the host renders for it.
    choose: PageChoice | None = field(compare=False, default=None)
    first: Future[FirstPage | None] | None = field(compare=False, default=None)
    view: PageView | None = field(compare=False, default=None)
    where: str | int = field(compare=False, default=0)


@dataclass
class _OpenDoc:
    path: Path
    password: str | None = None
    info: DocumentInfo | None = None


class HostFailed(DocumentDamagedError):
    """The document host stopped or hung while working on this request."""


class DocumentWorker:
    """Run PyMuPDF work in the document host process; results come back as futures."""

    def __init__(self, target: Callable[[Connection], None] = host.serve) -> None:
        self._target = target
        self._ctx = multiprocessing.get_context("spawn")
        self._queue: list[_Call] = []
        self._seq = itertools.count()
        self._lock = threading.Condition()
        self._closed = False
        self._docs: dict[int, _OpenDoc] = {}
        self._in_host: set[int] = set()
        self._bad_pages: set[tuple[int, int]] = set()
        self._proc: Any = None
        self._conn: Connection | None = None
        self._shm: SharedMemory | None = None
        self._shm_refused = False
        self.restarts = 0
        self._thread = threading.Thread(target=self._run, name="document-host", daemon=True)
        self._thread.start()

    # Public API (any thread) -------------------------------------------------------
    def open(self, doc_id: int, path: Path, password: str | None = None) -> Future[DocumentInfo]:
        with self._lock:
            self._docs[doc_id] = _OpenDoc(Path(path), password)
        return self._submit(OPEN, "open", (doc_id, Path(path), password), doc_id, OPEN_LIMIT)

    def open_showing(
        self,
        doc_id: int,
        path: Path,
        choose: PageChoice,
        convert: Callable[[RenderResult, memoryview], Any],
        password: str | None = None,
    ) -> tuple[Future[DocumentInfo], Future[FirstPage | None]]:
        """Open a document, and have the host render at once the page the new tab will
        show, as ``choose`` says, at the zoom its canvas will ask for: the page is drawn
        while the tab is still being built. The second future gives None if the open
        failed, nothing was chosen or the render failed (the page is then asked for
        again, and any error shown, in the usual way)."""
        first: Future[FirstPage | None] = Future()
        with self._lock:
            self._docs[doc_id] = _OpenDoc(Path(path), password)
        opening = self._submit(
            OPEN,
            "open",
            (doc_id, Path(path), password),
            doc_id,
            OPEN_LIMIT,
            convert,
            choose,
            first,
        )
        if opening.cancelled():  # shut down
            first.set_result(None)
        return opening, first

    def render(
        self,
        doc_id: int,
        page: int,
        zoom: float,
        rotation: int = 0,
        *,
        prefetch: bool = False,
        priority: int | None = None,
        convert: Callable[[RenderResult, memoryview], Any] | None = None,
    ) -> Future[Any]:
        """Render a page. The future gives ``(result, pixels)`` (RGB bytes, ``stride`` a
        row), or whatever ``convert(result, pixels)`` makes of them: it runs on this
        worker's thread with a view of the shared buffer, so an image can be made there
        with one copy instead of two."""
        if priority is None:
            priority = PREFETCH if prefetch else VISIBLE
        return self._submit(
            priority, "render", (doc_id, page, zoom, rotation), doc_id, RENDER_LIMIT, convert
        )

    def call(
        self, method: str, *args: Any, doc_id: int | None = None, priority: int = INFO
    ) -> Future[Any]:
        """Any other :class:`PdfService` method (outline, links, words, text, search...)."""
        return self._submit(priority, method, args, doc_id, OTHER_LIMIT)

    def close(self, doc_id: int) -> None:
        with self._lock:
            self._docs.pop(doc_id, None)
            for call in self._queue:
                if call.doc_id == doc_id:
                    call.future.cancel()
        self._submit(CLEANUP, "close", (doc_id,), None, OTHER_LIMIT)

    def warm_up(self) -> None:
        """Start the host process now, so the first document opens without waiting."""
        self._submit(VISIBLE, "start", (), None, OTHER_LIMIT)

    def shutdown(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for call in self._queue:
                call.future.cancel()
                if call.first is not None:
                    call.first.set_result(None)
            self._queue.clear()
            self._lock.notify_all()
        self._thread.join(timeout=30)
        self._stop_host()
        if self._shm is not None:
            self._shm.close()
            self._shm.unlink()
            self._shm = None

    # Internals ---------------------------------------------------------------------
    def _submit(
        self,
        priority: int,
        method: str,
        args: tuple[Any, ...],
        doc_id: int | None,
        limit: float,
        convert: Callable[[RenderResult, memoryview], Any] | None = None,
        choose: PageChoice | None = None,
        first: Future[FirstPage | None] | None = None,
    ) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            if self._closed:
                future.cancel()
                return future
            call = _Call(
                priority,
                -next(self._seq),
                method,
                args,
                future,
                doc_id,
                limit,
                convert,
                choose,
                first,
            )
            heapq.heappush(self._queue, call)
            self._lock.notify()
        return future

    def _next(self) -> _Call | None:
        with self._lock:
            while True:
                while not self._queue and not self._closed:
                    self._lock.wait()
                if self._closed:
                    return None
                call = heapq.heappop(self._queue)
                if call.future.set_running_or_notify_cancel():
                    return call
                if call.first is not None:  # cancelled: nothing will be rendered
                    call.first.set_result(None)

    def _run(self) -> None:
        while (call := self._next()) is not None:
            try:
                call.future.set_result(self._perform(call))
            except BaseException as exc:
                call.future.set_exception(exc)
            if call.first is not None:
                call.first.set_result(self._first_page(call))

    def _start_host(self) -> Connection:
        if self._conn is not None and self._proc is not None and self._proc.is_alive():
            return self._conn
        self._stop_host()
        parent, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(
            target=self._target, args=(child,), name="aspire-document-host", daemon=True
        )
        self._proc.start()
        child.close()
        self._conn = parent
        self._in_host.clear()
        return parent

    def _stop_host(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError, ValueError):
                self._conn.send(None)
            self._conn.close()
            self._conn = None
        if self._proc is not None:
            self._proc.join(timeout=5)
            if self._proc.is_alive():
                self._proc.kill()
                self._proc.join()
            self._proc = None

    def _kill_host(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            self._proc.kill()
            self._proc.join()
        if self._conn is not None:
            self._conn.close()
        self._conn, self._proc = None, None
        self.restarts += 1

    def _buffer(self, nbytes: int) -> SharedMemory | None:
        """The shared block renders go through, or None where the system gives none
        (``/dev/shm`` not writable, say): pixels then come through the pipe."""
        if self._shm is None or self._shm.size < nbytes:
            if self._shm is not None:
                self._shm.close()
                self._shm.unlink()
                self._shm = None
            try:
                self._shm = SharedMemory(create=True, size=max(nbytes, 8 << 20))
            except OSError as exc:
                if not self._shm_refused:
                    log.warning("no shared memory (%s): pages come through the pipe", exc)
                self._shm_refused = True
                return None
        return self._shm

    def _exchange(self, method: str, args: tuple[Any, ...], limit: float) -> Any:
        conn = self._start_host()
        try:
            conn.send((method, args))
        except (OSError, ValueError) as exc:
            raise self._stopped() from exc
        return self._receive(limit)

    def _stopped(self) -> HostFailed:
        """The host died (or broke its pipe): kill what is left; the error to raise."""
        self._kill_host()
        return HostFailed(
            "The PDF engine stopped while reading this document.",
            "The document is probably damaged; other documents still work.",
        )

    def _receive(self, limit: float) -> Any:
        """The host's next reply, within ``limit`` seconds."""
        conn = self._conn
        assert conn is not None
        try:
            if not conn.poll(limit):
                self._kill_host()
                raise HostFailed(
                    "This took too long, so it was stopped.",
                    "The document may be damaged; other pages and documents still work.",
                )
            status, value = conn.recv()
        except (EOFError, OSError) as exc:
            raise self._stopped() from exc
        if status == "error":
            if isinstance(value, UserError):
                raise value
            raise DocumentDamagedError(f"The document could not be read ({value}).", "")
        return value

    def _ensure_open(self, doc_id: int) -> None:
        """Reopen a document in a restarted host (its id stays the same)."""
        self._start_host()  # a host that was killed or died is started anew, empty
        if doc_id in self._in_host:
            return
        with self._lock:
            doc = self._docs.get(doc_id)
        if doc is None:
            raise DocumentDamagedError("This document is not open.", "Open it again.")
        doc.info = self._exchange("open", (doc_id, doc.path, doc.password), OPEN_LIMIT)
        self._in_host.add(doc_id)

    def _perform(self, call: _Call) -> Any:
        if call.method == "open":
            doc_id = call.args[0]
            call.view = self._page_view(call)
            if call.view is None:
                info = self._exchange("open", call.args, call.limit)
            else:  # the host renders the page next: see _first_page
                call.where = self._first_page_buffer(call.view)
                info = self._exchange(
                    "open_showing", (*call.args, call.view, call.where), call.limit
                )
            self._in_host.add(doc_id)
            with self._lock:
                if doc_id in self._docs:
                    self._docs[doc_id].info = info
            return info
        if call.method == "start":
            self._start_host()
            return None
        if call.method == "close":
            self._in_host.discard(call.args[0])
            return None if self._conn is None else self._exchange("close", call.args, call.limit)
        if call.doc_id is not None:
            self._ensure_open(call.doc_id)
        if call.method == "render":
            doc_id, page, zoom, rotation = call.args
            return self._render(doc_id, page, zoom, rotation, call.limit, call.convert)
        result = self._exchange(call.method, call.args, call.limit)
        if call.method == "page_sizes" and call.doc_id is not None and isinstance(result, tuple):
            # Renders size their buffer from these: keep the exact sizes from now on.
            with self._lock:
                doc = self._docs.get(call.doc_id)
                if doc is not None and doc.info is not None:
                    doc.info = replace(doc.info, page_sizes=result, sizes_exact=True)
        return result

    @staticmethod
    def _page_view(call: _Call) -> PageView | None:
        if call.choose is None:
            return None
        try:
            return call.choose()
        except Exception:
            log.exception("choosing the first page to render failed")
            return None

    def _first_page_buffer(self, view: PageView) -> str | int:
        """Where the host puts the first page: the shared block's name, or else how many
        bytes the pixels may take in its reply. (The page's size is not known yet: room
        for a page half as tall again as it is wide, at the view's width.)"""
        width = view.viewport[0] * view.ratio
        if isinstance(view.mode, float):
            width = 842.0 * view.mode * view.ratio
        nbytes = int(min(width * width * 1.5, MAX_PIXELS) * 3) + 4096
        shm = self._buffer(nbytes)
        return nbytes if shm is None else shm.name

    def _first_page(self, call: _Call) -> FirstPage | None:
        """The page the host rendered right after the open (its second reply)."""
        if call.view is None or call.future.exception() is not None:
            return None
        info: DocumentInfo = call.future.result()
        page = call.view.page_of(info.page_count)
        try:
            reply = self._receive(RENDER_LIMIT)
        except HostFailed:
            self._bad_pages.add((info.doc_id, page))
            return None
        except UserError:
            return None
        if isinstance(call.where, int):
            result, data = reply
            buffer: memoryview | None = memoryview(data)
        else:
            result = reply
            buffer = None if self._shm is None else self._shm.buf
        if result is None or buffer is None:
            return None
        pixels = buffer[: result.nbytes]
        try:
            converted = pixels.tobytes() if call.convert is None else call.convert(result, pixels)
        finally:
            pixels.release()
        return (result.page, result.zoom, result.rotation), converted

    def _render(
        self,
        doc_id: int,
        page: int,
        zoom: float,
        rotation: int,
        limit: float,
        convert: Callable[[RenderResult, memoryview], Any] | None,
    ) -> Any:
        if (doc_id, page) in self._bad_pages:
            raise HostFailed(
                f"Page {page + 1} cannot be shown: it stopped the PDF engine before.",
                "The other pages still work.",
            )
        with self._lock:
            doc = self._docs.get(doc_id)
        if doc is None:  # closed while this was on its way
            raise DocumentDamagedError("This document is not open.", "Open it again.")
        info = doc.info
        w, h = info.page_sizes[page] if info is not None else (600.0, 850.0)
        size = min(w * h * zoom * zoom, MAX_PIXELS) + 4 * (w + h) * zoom + 64
        nbytes = int(size * 3) + 4096
        shm = self._buffer(nbytes)
        try:
            reply = self._exchange(
                "render", (doc_id, page, zoom, rotation, nbytes if shm is None else shm.name), limit
            )
        except HostFailed:
            self._bad_pages.add((doc_id, page))
            raise
        buffer: memoryview | None
        if shm is None:
            result, data = reply
            buffer = memoryview(data)
        else:
            result, buffer = reply, shm.buf
        assert buffer is not None
        pixels = buffer[: result.nbytes]
        try:
            if convert is not None:
                return convert(result, pixels)
            return result, bytes(pixels)
        finally:
            pixels.release()
