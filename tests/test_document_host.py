"""The document host through :class:`DocumentWorker`: the real child process, its time
limits, crashes and restarts, its queue, and what it says about hostile files.

The ``serve_*`` functions are host loops for the worker's ``target=``; the spawned child
imports them from this module.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path
from typing import Any

import pytest

import pdfs
from aspire_desktop.core.documents import host, pdf
from aspire_desktop.core.documents import worker as worker_module
from aspire_desktop.core.documents.fit import FIT_PAGE, FIT_WIDTH, GAP, PageView
from aspire_desktop.core.documents.pdf import (
    MAX_PIXELS,
    DocumentInfo,
    OutlineEntry,
    PasswordRequired,
    PdfService,
)
from aspire_desktop.core.documents.worker import DocumentWorker, HostFailed
from aspire_desktop.core.errors import DocumentDamagedError

pytestmark = pytest.mark.slow

WAIT = 60  # seconds: a generous ceiling for a future; a passing test never waits this long
SHM = Path("/dev/shm")


# Host loops for target= (run in the child process) ------------------------------------
class _Spy:
    """The host's end of the pipe, with ``before(request)`` run on each request first."""

    def __init__(self, conn: Any, before: Callable[[tuple[str, tuple[Any, ...]]], None]):
        self._conn = conn
        self._before = before

    def recv(self) -> Any:
        request = self._conn.recv()
        if request is not None:
            self._before(request)
        return request

    def send(self, reply: Any) -> None:
        self._conn.send(reply)


def _is_page_2(request: tuple[str, tuple[Any, ...]]) -> bool:
    method, args = request
    return method in ("render", "text") and args[1] == 1


def _hang_on_page_2(request: tuple[str, tuple[Any, ...]]) -> None:
    if _is_page_2(request):
        threading.Event().wait()  # forever: the worker's time limit ends it


def serve_hanging_on_page_2(conn: Any) -> None:
    """The real host, except that it never answers for page 2."""
    host.serve(_Spy(conn, _hang_on_page_2))


def _exit_on_page_2(request: tuple[str, tuple[Any, ...]]) -> None:
    if _is_page_2(request):
        os._exit(70)


def serve_exiting_on_page_2(conn: Any) -> None:
    """The real host, except that it exits at once when asked for page 2."""
    host.serve(_Spy(conn, _exit_on_page_2))


def _killed_on_page_2(request: tuple[str, tuple[Any, ...]]) -> None:
    if _is_page_2(request):
        os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer would


def serve_killed_on_page_2(conn: Any) -> None:
    host.serve(_Spy(conn, _killed_on_page_2))


class _Recorder:
    """Records the requests the host is sent. Two requests of its own: ``("seen", ())``
    answers the record; ``("hold", (fifo,))`` answers once a byte arrives on ``fifo``."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self.seen: list[tuple[str, Any]] = []

    def recv(self) -> Any:
        while True:
            request = self._conn.recv()
            if request is None:
                return None
            method, args = request
            if method == "seen":
                self._conn.send(("ok", list(self.seen)))
                continue
            if method == "hold":
                with open(args[0], "rb") as gate:
                    gate.read(1)
                self._conn.send(("ok", None))
                continue
            self.seen.append((method, args[1] if method == "render" else None))
            return request

    def send(self, reply: Any) -> None:
        self._conn.send(reply)


def serve_recording(conn: Any) -> None:
    host.serve(_Recorder(conn))


# Fixtures ------------------------------------------------------------------------------
_ids = itertools.count(1)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("host-pdfs")
    return {
        "plain": pdfs.make_pdf(d / "plain.pdf", pages=3),
        "long": pdfs.make_pdf(d / "long.pdf", pages=300, title="Three hundred pages"),
        "outline": pdfs.make_outline_pdf(d / "outline.pdf"),
        "outline5000": pdfs.make_outline_pdf(d / "outline5000.pdf", entries=5000, pages=50),
        "outline_loop": pdfs.make_outline_loop_pdf(d / "outline-loop.pdf"),
        "links": pdfs.make_links_pdf(d / "links.pdf"),
        "rotated": pdfs.make_rotated_pdf(d / "rotated.pdf"),
        "encrypted": pdfs.make_encrypted_pdf(d / "encrypted.pdf"),
        "ligature": pdfs.make_encrypted_pdf(d / "ligature.pdf", pdfs.PASSWORD_LIGATURE),
        "fullwidth": pdfs.make_encrypted_pdf(d / "fullwidth.pdf", pdfs.PASSWORD_FULLWIDTH),
        "huge": pdfs.make_huge_page_pdf(d / "huge.pdf"),
        "absurd": pdfs.make_huge_page_pdf(d / "absurd.pdf", 2_000_000),
        "truncated": pdfs.make_truncated_pdf(d / "truncated.pdf"),
        "stub": pdfs.make_truncated_pdf(d / "stub.pdf", keep=0.1),
        "empty": pdfs.make_empty_file(d / "empty.pdf"),
        "png": pdfs.make_png_named_pdf(d / "picture.pdf"),
        "text": pdfs.make_text_named_pdf(d / "notes.pdf"),
        "cycle": pdfs.make_page_tree_cycle_pdf(d / "cycle.pdf"),
        "count_cycle": pdfs.make_count_cycle_pdf(d / "count-cycle.pdf"),
        "no_pages": pdfs.make_zero_page_pdf(d / "no-pages.pdf"),
    }


@pytest.fixture(scope="module")
def shared_worker() -> Iterator[DocumentWorker]:
    """One real host for the tests that do not break it (starting one takes a while)."""
    w = DocumentWorker()
    yield w
    w.shutdown()


@pytest.fixture
def make_worker() -> Iterator[Callable[..., DocumentWorker]]:
    made: list[DocumentWorker] = []

    def make(target: Callable[[Any], None] = host.serve) -> DocumentWorker:
        w = DocumentWorker(target)
        made.append(w)
        return w

    yield make
    for w in made:
        w.shutdown()


def _open(worker: DocumentWorker, path: Path, password: str | None = None) -> tuple[int, Any]:
    doc_id = next(_ids)
    return doc_id, worker.open(doc_id, path, password).result(WAIT)


def _error(future: Future[Any]) -> BaseException:
    exc = future.exception(WAIT)
    assert exc is not None, f"expected an error, got {future.result()!r}"
    return exc


def _assert_plain(exc: BaseException) -> None:
    assert isinstance(exc, DocumentDamagedError)
    assert exc.message and "\n" not in exc.message and "Traceback" not in str(exc)


# Opening and rendering -----------------------------------------------------------------
def test_open_reports_page_count_sizes_and_title(shared_worker, files):
    doc_id, info = _open(shared_worker, files["long"])
    assert isinstance(info, DocumentInfo)
    assert info.doc_id == doc_id
    assert info.page_count == 300
    assert info.page_sizes == ((595.0, 842.0),) * 300
    assert info.title == "Three hundred pages"
    assert not info.repaired
    _, plain = _open(shared_worker, files["plain"])
    assert plain.title == "plain"  # no title in the metadata: the file's name


def test_render_gives_pixels_at_the_zoom_asked(shared_worker, files):
    doc_id, _info = _open(shared_worker, files["plain"])
    result, pixels = shared_worker.render(doc_id, 0, 1.5).result(WAIT)
    assert (result.doc_id, result.page, result.zoom) == (doc_id, 0, 1.5)
    assert abs(result.width - 595 * 1.5) <= 1 and abs(result.height - 842 * 1.5) <= 1
    assert result.stride == result.width * 3
    assert len(pixels) == result.nbytes == result.stride * result.height
    assert min(pixels) < 100 < 250 < max(pixels)  # dark text on a white page
    turned, _ = shared_worker.render(doc_id, 2, 1.0, 90).result(WAIT)
    assert (turned.width, turned.height) == (842, 595)
    # Another page at a larger zoom grows the shared buffer; both stay right.
    big, big_pixels = shared_worker.render(doc_id, 1, 4.0).result(WAIT)
    assert (big.width, big.height) == (2380, 3368)
    assert len(big_pixels) == big.stride * big.height


def test_a_rotated_page_maps_text_and_hits_into_displayed_space(shared_worker, files):
    doc_id, info = _open(shared_worker, files["rotated"])
    width, height = info.page_sizes[0]
    assert (width, height) == (842.0, 595.0)  # /Rotate 90: shown landscape
    result, _ = shared_worker.render(doc_id, 0, 1.0).result(WAIT)
    assert (result.width, result.height) == (842, 595)
    hits = shared_worker.call("search", doc_id, pdfs.ROTATED_WORD, 0, 0, doc_id=doc_id)
    found = hits.result(WAIT)
    assert list(found.hits) == [0] and len(found.hits[0]) == 1
    x0, y0, x1, y1 = found.hits[0][0]
    assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
    # The text runs down the right-hand side once the page is turned.
    assert x0 > width / 2 and y1 - y0 > x1 - x0
    words = shared_worker.call("words", doc_id, 0, doc_id=doc_id).result(WAIT)
    needle = [w for w in words if w.text == pdfs.ROTATED_WORD]
    assert len(needle) == 1
    assert needle[0].rect == pytest.approx(found.hits[0][0], abs=1.0)
    text = shared_worker.call("text", doc_id, 0, doc_id=doc_id).result(WAIT)
    assert pdfs.ROTATED_TEXT in text


def test_words_text_and_search(shared_worker, files):
    doc_id, _ = _open(shared_worker, files["plain"])
    words = shared_worker.call("words", doc_id, 1, doc_id=doc_id).result(WAIT)
    assert [w.text for w in words[:6]] == ["Test", "document,", "page", "2", "of", "3"]
    assert len({(w.block, w.line) for w in words}) == 2
    text = shared_worker.call("text", doc_id, 2, doc_id=doc_id).result(WAIT)
    assert "Test document, page 3 of 3" in text and pdfs.MARK in text
    # Past the last page is fine: the search stops at the end.
    found = shared_worker.call("search", doc_id, "PAGE 2", 0, 99, doc_id=doc_id).result(WAIT)
    assert (found.query, found.first, found.last) == ("PAGE 2", 0, 99)
    assert list(found.hits) == [1]
    nothing = shared_worker.call("search", doc_id, "zebra", 0, 2, doc_id=doc_id).result(WAIT)
    assert nothing.hits == {}


# Outline and links ---------------------------------------------------------------------
def test_outline_is_flattened_with_levels_and_zero_based_pages(shared_worker, files):
    doc_id, _ = _open(shared_worker, files["outline"])
    outline = shared_worker.call("outline", doc_id, doc_id=doc_id).result(WAIT)
    assert outline == [OutlineEntry(lv, title, page - 1) for lv, title, page in pdfs.NESTED_OUTLINE]


def test_an_outline_of_5000_entries(shared_worker, files):
    doc_id, _ = _open(shared_worker, files["outline5000"])
    outline = shared_worker.call("outline", doc_id, doc_id=doc_id).result(WAIT)
    assert len(outline) == 5000
    assert outline[0] == OutlineEntry(1, "Entry 1", 0)
    assert outline[-1] == OutlineEntry(1 + 4999 % 3, "Entry 5000", 49)
    assert all(0 <= e.page < 50 for e in outline)


def test_an_outline_is_cut_off_at_the_cap(files, monkeypatch):
    monkeypatch.setattr(pdf, "MAX_OUTLINE", 100)
    service = PdfService()
    try:
        service.open(1, files["outline5000"])
        outline = service.outline(1)
    finally:
        service.close_all()
    assert [e.title for e in outline] == [f"Entry {n}" for n in range(1, 101)]


def test_an_outline_that_loops_does_not_hang(shared_worker, files):
    doc_id, _ = _open(shared_worker, files["outline_loop"])
    outline = shared_worker.call("outline", doc_id, doc_id=doc_id).result(WAIT)
    assert len(outline) <= 2
    assert shared_worker.render(doc_id, 0, 0.5).result(WAIT)[0].page == 0


def test_links_internal_and_external(shared_worker, files):
    doc_id, _ = _open(shared_worker, files["links"])
    links = shared_worker.call("links", doc_id, 0, doc_id=doc_id).result(WAIT)
    by_target = {link.uri or link.page: link for link in links}
    internal = by_target[pdfs.LINK_INTERNAL[1]]
    assert internal.uri == "" and internal.rect == pdfs.LINK_INTERNAL[0]
    for rect, uri in (pdfs.LINK_HTTPS, pdfs.LINK_MAILTO, pdfs.LINK_JAVASCRIPT):
        assert by_target[uri].rect == rect and by_target[uri].page == -1
    # Launch links (and file: URIs, which MuPDF reads as launches) are offered as
    # "launch:" targets, which the viewer refuses to open (and says so).
    launches = [link for link in links if link.uri.startswith("launch:")]
    assert len(links) == 6 and len(launches) == 2
    assert all("passwd" in link.uri for link in launches)
    assert shared_worker.call("links", doc_id, 1, doc_id=doc_id).result(WAIT) == []


# Passwords -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "typed"),
    [
        ("encrypted", pdfs.PASSWORD_TYPED_NFD),
        ("encrypted", pdfs.PASSWORD),
        ("ligature", pdfs.PASSWORD_TYPED_LIGATURE),
        ("fullwidth", pdfs.PASSWORD_TYPED_FULLWIDTH),
    ],
)
def test_password_asked_then_refused_then_accepted(shared_worker, files, name, typed):
    doc_id = next(_ids)
    first = _error(shared_worker.open(doc_id, files[name]))
    assert isinstance(first, PasswordRequired) and first.wrong is False
    assert first.message == "This document is protected by a password."
    wrong = _error(shared_worker.open(doc_id, files[name], "not the password"))
    assert isinstance(wrong, PasswordRequired) and wrong.wrong is True
    assert wrong.message == "That password is not right."
    info = shared_worker.open(doc_id, files[name], typed).result(WAIT)
    assert info.page_count == 2
    text = shared_worker.call("text", doc_id, 0, doc_id=doc_id).result(WAIT)
    assert "Encrypted test document, page 1 of 2" in text


def test_closing_a_document_waiting_for_its_password(shared_worker, files):
    doc_id = next(_ids)
    assert isinstance(_error(shared_worker.open(doc_id, files["encrypted"])), PasswordRequired)
    shared_worker.close(doc_id)
    again = _error(shared_worker.render(doc_id, 0, 1.0))
    assert isinstance(again, DocumentDamagedError) and "not open" in again.message


# Hostile files -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("empty", "is empty (0 bytes)"),
        ("png", "is not a PDF"),
        ("text", "cannot be opened"),
        ("stub", "cannot be opened"),
        ("count_cycle", "cannot be opened"),
        ("no_pages", "has no pages"),
    ],
)
def test_a_hostile_file_is_refused_plainly_and_the_host_goes_on(shared_worker, files, name, says):
    restarts = shared_worker.restarts
    exc = _error(shared_worker.open(next(_ids), files[name]))
    _assert_plain(exc)
    assert not isinstance(exc, HostFailed)
    assert exc.message.startswith(files[name].name) and says in exc.message
    doc_id, info = _open(shared_worker, files["plain"])
    assert info.page_count == 3
    assert shared_worker.render(doc_id, 0, 0.5).result(WAIT)[0].width == 298
    assert shared_worker.restarts == restarts


def test_a_missing_file_is_refused_plainly(shared_worker, tmp_path):
    exc = _error(shared_worker.open(next(_ids), tmp_path / "gone.pdf"))
    _assert_plain(exc)
    assert exc.message == "gone.pdf is not there any more."


def test_a_page_tree_cycle_opens_but_its_pages_are_refused(shared_worker, files):
    doc_id, info = _open(shared_worker, files["cycle"])
    assert info.page_count == 3  # the /Count; no page can be loaded
    for page in range(3):
        exc = _error(shared_worker.render(doc_id, page, 1.0))
        _assert_plain(exc)
        assert exc.message.startswith(f"Page {page + 1} cannot be shown")
    assert shared_worker.call("words", doc_id, 0, doc_id=doc_id).result(WAIT) == []
    assert shared_worker.call("links", doc_id, 0, doc_id=doc_id).result(WAIT) == []
    assert _open(shared_worker, files["plain"])[1].page_count == 3


def test_a_truncated_file_is_repaired_as_far_as_it_goes(shared_worker, files):
    doc_id, info = _open(shared_worker, files["truncated"])
    assert info.repaired
    assert info.page_count >= 1
    text = shared_worker.call("text", doc_id, 0, doc_id=doc_id).result(WAIT)
    assert "Truncated test document, page 1 of 6" in text
    for page in range(info.page_count):  # every page renders, or says plainly why not
        future = shared_worker.render(doc_id, page, 0.5)
        if future.exception(WAIT) is not None:
            _assert_plain(future.exception())


@pytest.mark.parametrize("name", ["huge", "absurd"])
def test_an_absurd_page_size_is_rendered_within_max_pixels(shared_worker, files, name):
    doc_id, info = _open(shared_worker, files[name])
    if name == "huge":
        assert info.page_sizes == ((14400.0, 14400.0),)
    else:  # beyond any real page: a stand-in size keeps the layout sane
        assert info.page_sizes == ((595.0, 842.0),)
    result, pixels = shared_worker.render(doc_id, 0, 2.0).result(WAIT)
    assert result.width * result.height <= MAX_PIXELS
    assert result.width == result.height > 5000  # clamped, not refused
    assert result.zoom < 2.0
    assert len(pixels) == result.stride * result.height


# Time limits, crashes, restarts --------------------------------------------------------
def _host_children() -> list[Any]:
    return [p for p in multiprocessing.active_children() if p.name == "aspire-document-host"]


def _host_pids() -> set[int | None]:
    return {p.pid for p in _host_children()}


@pytest.mark.parametrize(
    "target", [serve_hanging_on_page_2, serve_exiting_on_page_2, serve_killed_on_page_2]
)
def test_a_page_that_stops_the_host_fails_alone(make_worker, files, monkeypatch, target):
    worker = make_worker(target)
    doc_id, _ = _open(worker, files["plain"])
    monkeypatch.setattr(worker_module, "RENDER_LIMIT", 1.0)
    failed = worker.render(doc_id, 1, 1.0)
    monkeypatch.setattr(worker_module, "RENDER_LIMIT", 30.0)
    exc = _error(failed)
    assert isinstance(exc, HostFailed)
    if target is serve_hanging_on_page_2:
        assert exc.message == "This took too long, so it was stopped."
    else:
        assert exc.message == "The PDF engine stopped while reading this document."
    assert worker.restarts == 1
    # The next request restarts the host and reopens the document.
    result, _ = worker.render(doc_id, 0, 1.0).result(WAIT)
    assert result.page == 0
    assert worker.call("text", doc_id, 2, doc_id=doc_id).result(WAIT).startswith("Test")
    # The page that stopped it is refused from now on, without trying again.
    again = _error(worker.render(doc_id, 1, 0.5))
    assert isinstance(again, HostFailed) and "stopped the PDF engine before" in again.message
    assert worker.restarts == 1
    assert worker.render(doc_id, 2, 1.0).result(WAIT)[0].page == 2


def test_a_call_over_its_time_limit_is_stopped(make_worker, files, monkeypatch):
    worker = make_worker(serve_hanging_on_page_2)
    doc_id, _ = _open(worker, files["plain"])
    monkeypatch.setattr(worker_module, "OTHER_LIMIT", 0.5)
    hung = worker.call("text", doc_id, 1, doc_id=doc_id)
    monkeypatch.setattr(worker_module, "OTHER_LIMIT", 30.0)
    exc = _error(hung)
    assert isinstance(exc, HostFailed) and "too long" in exc.message
    assert worker.restarts == 1
    assert "page 1 of 3" in worker.call("text", doc_id, 0, doc_id=doc_id).result(WAIT)
    # Only renders mark a page as bad.
    assert worker.render(doc_id, 0, 0.5).result(WAIT)[0].page == 0


def test_a_host_that_died_while_idle_is_restarted(make_worker, files):
    others = _host_pids()
    worker = make_worker()
    doc_id, _ = _open(worker, files["plain"])
    (child,) = [p for p in _host_children() if p.pid not in others]
    child.kill()
    child.join()
    result, _ = worker.render(doc_id, 1, 1.0).result(WAIT)
    assert result.page == 1
    assert worker.call("outline", doc_id, doc_id=doc_id).result(WAIT) == []


# The queue -----------------------------------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a named pipe")
def test_newest_first_within_a_priority_and_cancelled_calls_are_skipped(
    make_worker, files, tmp_path
):
    worker = make_worker(serve_recording)
    doc_id, _ = _open(worker, files["long"])
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    held = worker.call("hold", str(gate))
    with open(gate, "wb") as release:  # opens once the host is waiting on the gate
        renders = {n: worker.render(doc_id, n, 0.25) for n in range(5)}
        renders.update({n: worker.render(doc_id, n, 0.25, prefetch=True) for n in (5, 6)})
        outline = worker.call("outline", doc_id, doc_id=doc_id)
        opened = worker.open(next(_ids), files["plain"])
        for n in (1, 5):
            assert renders[n].cancel()
        release.write(b"x")
    assert held.result(WAIT) is None
    assert outline.result(WAIT) == []
    assert opened.result(WAIT).page_count == 3
    done = [renders[n].result(WAIT)[0].page for n in (0, 2, 3, 4, 6)]
    assert done == [0, 2, 3, 4, 6]
    assert renders[1].cancelled() and renders[5].cancelled()
    seen = worker.call("seen").result(WAIT)
    # Opening first; then pages on screen, newest first; then the outline; prefetches last.
    assert seen == [
        ("open", None),
        ("open", None),
        ("render", 4),
        ("render", 3),
        ("render", 2),
        ("render", 0),
        ("outline", None),
        ("render", 6),
    ]


def test_closing_cancels_its_queued_requests(make_worker, files, tmp_path):
    worker = make_worker(serve_recording)
    doc_id, _ = _open(worker, files["plain"])
    other_id, _ = _open(worker, files["long"])
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    held = worker.call("hold", str(gate))
    with open(gate, "wb") as release:
        mine = [worker.render(doc_id, n, 0.25) for n in range(3)]
        theirs = worker.render(other_id, 0, 0.25)
        worker.close(doc_id)
        release.write(b"x")
    held.result(WAIT)
    assert theirs.result(WAIT)[0].page == 0
    assert all(f.cancelled() for f in mine)
    seen = worker.call("seen").result(WAIT)
    assert seen[2:] == [("render", 0), ("close", None)]


# Opening with the first page ----------------------------------------------------------
def _pixels(result: Any, pixels: memoryview) -> tuple[Any, bytes]:
    return result, bytes(pixels)


def _view(page: int, scale: float = 0.5) -> Callable[[], PageView]:
    return lambda: PageView(page, scale, (800, 600), 1.0)


def test_the_page_to_show_is_rendered_with_the_open(make_worker, files):
    worker = make_worker(serve_recording)
    doc_id = next(_ids)
    opening, first = worker.open_showing(doc_id, files["long"], _view(2), _pixels)
    assert opening.result(WAIT).page_count == 300
    got = first.result(WAIT)
    assert got is not None
    (page, zoom, rotation), (result, pixels) = got
    assert (page, zoom, rotation) == (2, 0.5, 0)
    # The same pixels as the page asked for on its own, and the file opened once.
    again, again_pixels = worker.render(doc_id, 2, 0.5).result(WAIT)
    assert (result.width, result.height, result.page) == (again.width, again.height, 2)
    assert pixels == again_pixels
    assert worker.call("seen").result(WAIT) == [("open_showing", None), ("render", 2)]


def test_a_fitted_page_comes_at_the_zoom_the_canvas_will_ask_for(shared_worker, files):
    view = PageView(0, FIT_WIDTH, (1064, 700), 2.0)
    opening, first = shared_worker.open_showing(next(_ids), files["plain"], lambda: view, _pixels)
    info = opening.result(WAIT)
    got = first.result(WAIT)
    assert got is not None
    expected = round((1064 - 2 * GAP) / info.page_sizes[0][0] * 2.0, 3)
    assert got[0] == (0, expected, 0) == (0, view.zoom(info.page_sizes[0]), 0)


def test_only_what_is_on_screen_of_a_tall_page_comes_with_the_open(shared_worker, files):
    """Fitted to a wide, short view, the page is rendered from its top to the view's
    bottom: the same pixels as the whole page's top rows."""
    view = PageView(0, FIT_WIDTH, (800, 400), 1.0)
    opening, first = shared_worker.open_showing(next(_ids), files["long"], lambda: view, _pixels)
    info = opening.result(WAIT)
    got = first.result(WAIT)
    assert got is not None
    (page, zoom, _rotation), (top, pixels) = got
    assert top.partial and top.page == page == 0
    assert top.height == pytest.approx(view.on_screen(zoom) * zoom, abs=2)
    assert top.height == pytest.approx(400 - GAP, abs=3)  # the view's height, less the gap
    whole, whole_pixels = shared_worker.render(info.doc_id, 0, zoom).result(WAIT)
    assert not whole.partial and whole.height > 2 * top.height
    assert (top.width, top.stride) == (whole.width, whole.stride)
    rows = (top.height - 1) * top.stride  # the last row may be cut part way through
    assert pixels[:rows] == whole_pixels[:rows]


@pytest.mark.parametrize("mode", [FIT_PAGE, 0.3])
def test_a_page_wholly_on_screen_comes_whole(shared_worker, files, mode):
    view = PageView(0, mode, (800, 600), 1.0)
    opening, first = shared_worker.open_showing(next(_ids), files["long"], lambda: view, _pixels)
    opening.result(WAIT)
    got = first.result(WAIT)
    assert got is not None and not got[1][0].partial


def test_a_saved_page_past_the_end_shows_the_last(shared_worker, files):
    opening, first = shared_worker.open_showing(next(_ids), files["plain"], _view(99), _pixels)
    assert opening.result(WAIT).page_count == 3
    got = first.result(WAIT)
    assert got is not None and got[0][0] == 2


def _no_page() -> None:
    return None


def _broken_choice() -> PageView:
    raise RuntimeError("a bug in choosing")


@pytest.mark.parametrize("choose", [_no_page, _broken_choice])
def test_no_first_page_when_none_is_chosen(shared_worker, files, choose, caplog):
    opening, first = shared_worker.open_showing(next(_ids), files["plain"], choose, _pixels)
    assert opening.result(WAIT).page_count == 3
    assert first.result(WAIT) is None
    if choose is _broken_choice:
        assert "choosing the first page" in caplog.text


def test_no_first_page_when_the_open_fails(shared_worker, files):
    opening, first = shared_worker.open_showing(next(_ids), files["png"], _view(0), _pixels)
    _assert_plain(_error(opening))
    assert first.result(WAIT) is None
    # The host goes on.
    assert _open(shared_worker, files["plain"])[1].page_count == 3


def test_a_page_too_big_for_the_room_kept_is_left_to_the_tab(shared_worker, files):
    # Room is kept for an A4-like page; a 200-inch one is rendered when asked for.
    opening, first = shared_worker.open_showing(next(_ids), files["huge"], _view(0), _pixels)
    doc_id = opening.result(WAIT).doc_id
    assert first.result(WAIT) is None
    assert shared_worker.render(doc_id, 0, 0.5).result(WAIT)[0].width > 4000


def serve_exiting_in_first_page(conn: Any) -> None:
    """The real host, except that it exits while rendering a new tab's page."""

    def exit_(*args: Any) -> None:
        os._exit(3)

    pdf.PdfService.first_page = exit_  # type: ignore[method-assign]
    host.serve(conn)


def test_a_first_page_that_stops_the_host_leaves_the_document_open(make_worker, files):
    worker = make_worker(serve_exiting_in_first_page)
    doc_id = next(_ids)
    opening, first = worker.open_showing(doc_id, files["long"], _view(1), _pixels)
    assert opening.result(WAIT).page_count == 300
    assert first.result(WAIT) is None
    # Other pages still come (from a restarted host); that page is refused plainly.
    assert worker.render(doc_id, 2, 0.5).result(WAIT)[0].page == 2
    _assert_plain(_error(worker.render(doc_id, 1, 0.5)))


def test_closing_or_shutting_down_answers_a_waiting_first_page(make_worker, files, tmp_path):
    worker = make_worker(serve_recording)
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    held = worker.call("hold", str(gate))
    with open(gate, "wb") as release:
        closed_id, later_id = next(_ids), next(_ids)
        closed = worker.open_showing(closed_id, files["plain"], _view(0), _pixels)
        worker.close(closed_id)
        release.write(b"x")
    held.result(WAIT)
    assert closed[0].cancelled() and closed[1].result(WAIT) is None

    held = worker.call("hold", str(gate))
    with open(gate, "wb") as release:
        later = worker.open_showing(later_id, files["plain"], _view(0), _pixels)
        stopping = threading.Thread(target=worker.shutdown)
        stopping.start()
        release.write(b"x")
    stopping.join(WAIT)
    assert later[0].cancelled() and later[1].result(WAIT) is None


# Shutting down -------------------------------------------------------------------------
@pytest.mark.skipif(not SHM.is_dir(), reason="shared memory is not listed in /dev/shm")
def test_shutdown_leaves_no_process_and_no_shared_memory(files):
    others = _host_pids()
    worker = DocumentWorker()
    try:
        doc_id, _ = _open(worker, files["plain"])
        worker.render(doc_id, 0, 1.0).result(WAIT)
        first = worker._shm.name
        worker.render(doc_id, 1, 5.0).result(WAIT)  # a bigger block replaces the first
        second = worker._shm.name
        assert first != second and not (SHM / first).exists() and (SHM / second).exists()
        # (Other processes, e.g. a parallel test run, may have blocks of their own.)
        blocks = {second}
        assert len(_host_pids() - others) == 1
    finally:
        worker.shutdown()
    assert _host_pids() - others == set()
    for name in blocks:
        with pytest.raises(FileNotFoundError):
            SharedMemory(name=name)
    # After shutdown, requests are cancelled rather than left waiting.
    assert worker.render(doc_id, 0, 1.0).cancelled()
    worker.shutdown()  # twice is harmless


def test_without_shared_memory_pages_come_through_the_pipe(make_worker, files, monkeypatch, caplog):
    """Where the system gives no shared memory (``/dev/shm`` not writable, say)."""

    def refused(*args: Any, **kwargs: Any) -> SharedMemory:
        raise PermissionError(13, "Permission denied", "/dev/shm/psm_x")

    shared = make_worker()
    doc_id, _ = _open(shared, files["long"])
    expected = shared.render(doc_id, 3, 0.5).result(WAIT)
    monkeypatch.setattr(worker_module, "SharedMemory", refused)
    worker = make_worker()
    doc_id, _ = _open(worker, files["long"])
    for _ in range(2):
        result, pixels = worker.render(doc_id, 3, 0.5).result(WAIT)
        assert (result.width, result.height, pixels) == (
            expected[0].width,
            expected[0].height,
            expected[1],
        )
    assert worker._shm is None
    assert caplog.text.count("no shared memory") == 1
