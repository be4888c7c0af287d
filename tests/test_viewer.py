"""The document viewer, driven as a user would: keys, clicks, the toolbar, the sidebar,
find, links, passwords, damaged files, printing."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import (
    QDesktopServices,
    QGuiApplication,
    QImage,
    QInputMethodEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QApplication, QMessageBox

import pdfs
from aspire_desktop.core.documents.fit import FIT_PAGE, FIT_WIDTH
from aspire_desktop.core.documents.pdf import RenderResult
from aspire_desktop.ui.viewer import DocumentView
from aspire_desktop.ui.viewer import view as view_module
from aspire_desktop.ui.viewer.cache import Key
from aspire_desktop.ui.viewer.canvas import PageCanvas
from aspire_desktop.ui.viewer.sidebar import PAGE_ROLE
from gui_helpers import main_window

pytestmark = pytest.mark.slow

CTRL = Qt.KeyboardModifier.ControlModifier
LONG = 300


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("viewer-pdfs")
    return {
        "plain": pdfs.make_pdf(d / "plain.pdf", pages=3),
        "long": pdfs.make_pdf(d / "long.pdf", pages=LONG),
        "outline": pdfs.make_outline_pdf(d / "outline.pdf"),
        "outline5000": pdfs.make_outline_pdf(d / "outline5000.pdf", entries=5000, pages=50),
        "links": pdfs.make_links_pdf(d / "links.pdf"),
        "encrypted": pdfs.make_encrypted_pdf(d / "encrypted.pdf"),
        "truncated": pdfs.make_truncated_pdf(d / "truncated.pdf"),
        "cycle": pdfs.make_page_tree_cycle_pdf(d / "cycle.pdf"),
        "empty": pdfs.make_empty_file(d / "empty.pdf"),
        "png": pdfs.make_png_named_pdf(d / "picture.pdf"),
        "text": pdfs.make_text_named_pdf(d / "notes.pdf"),
        "stub": pdfs.make_truncated_pdf(d / "stub.pdf", keep=0.1),
        "count_cycle": pdfs.make_count_cycle_pdf(d / "count-cycle.pdf"),
        "no_pages": pdfs.make_zero_page_pdf(d / "no-pages.pdf"),
    }


@pytest.fixture
def window(qtbot, baseline):
    with main_window(qtbot) as w:
        yield w


def _open(window, qtbot, path: Path, key: str | None = None) -> DocumentView:
    """Open ``path`` and wait until its first page is painted."""
    view = window.open_path(path, path.stem, key or f"file:{path}")
    with qtbot.waitSignal(view.ready, timeout=20_000):
        pass
    _painted(qtbot, view, view.page)
    return view


def _painted(qtbot, view: DocumentView, page: int) -> None:
    """Wait until ``page`` is painted from an exact render at the current zoom."""
    canvas = view.canvas
    assert canvas is not None
    qtbot.waitUntil(lambda: canvas._key(page) in canvas._painted_exact, timeout=20_000)


def _click_at(qtbot, view: DocumentView, page: int, x: float, y: float) -> None:
    """Click the point (x, y), in the page's displayed points, on the canvas."""
    canvas = view.canvas
    cx, cy = canvas.layout_.to_canvas(page, x, y)
    pos = QPoint(
        round(cx - canvas.horizontalScrollBar().value()),
        round(cy - canvas.verticalScrollBar().value()),
    )
    assert canvas.viewport().rect().contains(pos)
    qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def _centre(rect: tuple[float, float, float, float]) -> tuple[float, float]:
    return (rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2


# Pages -----------------------------------------------------------------------------------
def test_a_300_page_document_opens_and_the_keys_move_through_it(window, qtbot, files):
    view = _open(window, qtbot, files["long"])
    canvas = view.canvas
    assert window.tabs.currentWidget() is view and window.tabs.count() == 2
    assert view.page == 0 and view.page_edit.text() == "1"
    assert view.page_label.text() == f"of {LONG}"
    assert not view.first_button.isEnabled() and not view.prev_button.isEnabled()
    assert view.next_button.isEnabled() and view.last_button.isEnabled()
    assert canvas.hasFocus()

    bar = canvas.verticalScrollBar()
    qtbot.keyClick(canvas, Qt.Key.Key_PageDown)
    assert bar.value() == bar.pageStep()
    for _ in range(5):
        if view.page == 1:
            break
        qtbot.keyClick(canvas, Qt.Key.Key_PageDown)
    assert view.page == 1 and view.page_edit.text() == "2"
    _painted(qtbot, view, 1)

    qtbot.keyClick(canvas, Qt.Key.Key_End)
    assert view.page == LONG - 1 and view.page_edit.text() == str(LONG)
    assert not view.next_button.isEnabled() and not view.last_button.isEnabled()
    _painted(qtbot, view, LONG - 1)
    qtbot.keyClick(canvas, Qt.Key.Key_PageUp)
    assert view.page == LONG - 2

    qtbot.keyClick(canvas, Qt.Key.Key_Home)
    assert view.page == 0 and bar.value() == 0

    # Ctrl+G, a number, Enter.
    qtbot.keyClick(canvas, Qt.Key.Key_G, CTRL)
    assert view.page_edit.hasFocus() and view.page_edit.selectedText() == "1"
    qtbot.keyClicks(view.page_edit, "150")
    qtbot.keyClick(view.page_edit, Qt.Key.Key_Return)
    assert view.page == 149 and view.page_edit.text() == "150"
    assert canvas.hasFocus()
    _painted(qtbot, view, 149)
    # The page box takes only page numbers.
    qtbot.keyClick(canvas, Qt.Key.Key_G, CTRL)
    qtbot.keyClicks(view.page_edit, "x0")
    assert view.page_edit.text() in ("", "0")
    qtbot.keyClick(view.page_edit, Qt.Key.Key_Return)
    assert view.page == 149

    # The toolbar buttons.
    qtbot.mouseClick(view.next_button, Qt.MouseButton.LeftButton)
    assert view.page == 150
    qtbot.mouseClick(view.prev_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(view.prev_button, Qt.MouseButton.LeftButton)
    assert view.page == 148
    qtbot.mouseClick(view.last_button, Qt.MouseButton.LeftButton)
    assert view.page == LONG - 1
    qtbot.mouseClick(view.first_button, Qt.MouseButton.LeftButton)
    assert view.page == 0
    # The thumbnails follow the page.
    assert view.sidebar.thumb_view.currentIndex().row() == 0


def test_zoom_keys_and_the_zoom_box(window, qtbot, files):
    view = _open(window, qtbot, files["plain"])
    canvas = view.canvas
    assert canvas.mode == FIT_WIDTH and view.zoom_box.currentText() == "Fit width"
    fit_width = canvas.scale
    assert canvas.layout_.rects[0].w == pytest.approx(canvas.viewport().width() - 24, abs=1)

    qtbot.keyClick(canvas, Qt.Key.Key_Plus, CTRL)
    assert canvas.scale == pytest.approx(fit_width * 1.25)
    assert isinstance(canvas.mode, float)
    shown = round(canvas.scale * 72 / canvas.logicalDpiX() * 100)
    assert f"{shown}%" in (view.zoom_box.currentText(), view.zoom_box.placeholderText())
    _painted(qtbot, view, 0)
    qtbot.keyClick(canvas, Qt.Key.Key_Minus, CTRL)
    assert canvas.scale == pytest.approx(fit_width)

    dpi_scale = canvas.logicalDpiX() / 72.0
    view.zoom_box.activated.emit(view.zoom_box.findData(FIT_PAGE))
    assert canvas.mode == FIT_PAGE and view.zoom_box.currentText() == "Fit page"
    page = canvas.layout_.rects[0]
    assert page.h <= canvas.viewport().height() and page.w < canvas.viewport().width()
    view.zoom_box.activated.emit(view.zoom_box.findData("actual"))
    assert canvas.scale == pytest.approx(dpi_scale)
    assert view.zoom_box.currentText() == "100%"
    view.zoom_box.activated.emit(view.zoom_box.findText("200%"))
    assert canvas.scale == pytest.approx(2 * dpi_scale)
    assert view.zoom_box.currentText() == "200%"
    _painted(qtbot, view, 0)
    qtbot.keyClick(canvas, Qt.Key.Key_0, CTRL)
    assert canvas.mode == FIT_WIDTH and canvas.scale == pytest.approx(fit_width)
    assert view.zoom_box.currentText() == "Fit width"
    # Ctrl+wheel zooms too; the wheel alone scrolls.
    QApplication.sendEvent(canvas.viewport(), _wheel(120, CTRL))
    assert canvas.scale == pytest.approx(fit_width * 1.1)
    QApplication.sendEvent(canvas.viewport(), _wheel(-120, CTRL))
    assert canvas.scale == pytest.approx(fit_width)
    QApplication.sendEvent(canvas.viewport(), _wheel(-120))
    assert canvas.verticalScrollBar().value() > 0 and canvas.scale == pytest.approx(fit_width)


def _wheel(delta: int, modifiers: Any = Qt.KeyboardModifier.NoModifier) -> QWheelEvent:
    pos = QPointF(200, 200)
    return QWheelEvent(
        pos,
        pos,
        QPoint(0, 0),
        QPoint(0, delta),
        Qt.MouseButton.NoButton,
        modifiers,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )


def test_the_render_asked_for_includes_the_device_pixel_ratio(window, qtbot, files):
    view = _open(window, qtbot, files["plain"])
    canvas = view.canvas
    key = canvas._key(0)
    assert key.zoom == round(canvas.scale * canvas.devicePixelRatioF(), 3)
    # As on a 2× screen: twice the pixels, drawn into the same page rectangle.
    canvas.devicePixelRatioF = lambda: 2.0
    view.zoom_by(1.25)
    key = canvas._key(0)
    assert key.zoom == round(canvas.scale * 2.0, 3)
    _painted(qtbot, view, 0)
    image = canvas.cache.get(key)
    assert image.width() == pytest.approx(595 * canvas.scale * 2, abs=2)
    assert image.devicePixelRatio() == pytest.approx(2.0, abs=0.01)


@pytest.fixture
def asked(window, monkeypatch) -> list[tuple[int, float, bool]]:
    """Renders the canvases ask for: (page, zoom, ahead of being seen)."""
    calls: list[tuple[int, float, bool]] = []
    documents = window.ctx.documents
    render = documents.render

    def spy(doc_id: int, page: int, zoom: float, *args: Any, **kwargs: Any) -> Any:
        calls.append((page, zoom, bool(kwargs.get("prefetch"))))
        return render(doc_id, page, zoom, *args, **kwargs)

    monkeypatch.setattr(documents, "render", spy)
    return calls


def test_a_new_tab_shows_the_page_rendered_with_the_open(window, qtbot, files, asked, monkeypatch):
    first = _open(window, qtbot, files["long"], "file:first")
    vp = first.canvas.viewport()
    margins = (first.width() - vp.width(), first.height() - vp.height())
    assert DocumentView.margins == margins
    # The next tab is built ahead, hidden, inside the window.
    qtbot.waitUntil(lambda: window._spare_view is not None)
    # Laid out, a tab built ahead tells where its pages will go.
    window._spare_view.deleteLater()
    window._spare_view = None
    monkeypatch.setattr(DocumentView, "margins", (0, 0))
    window.prepare_spare_view()
    assert DocumentView.margins == margins
    spare = window._spare_view
    assert not spare.isVisible() and spare.window() is window
    assert spare not in QApplication.topLevelWidgets()
    window.prepare_spare_view()  # as the app does after start-up: one is enough
    assert window._spare_view is spare
    asked.clear()

    view = _open(window, qtbot, files["long"], "file:second")
    assert view is spare and window._spare_view is not spare  # and the next one is made
    key = view.canvas._key(0)
    # The top of page 1, as much as is on screen, came with the open and was painted
    # (see test_the_top_of_the_first_page_comes_first); the canvas then asked once for
    # the whole page, and for the pages after it ahead of being seen (the sidebar's
    # thumbnails are asked for at their own, small zoom).
    qtbot.waitUntil(lambda: view.canvas.cache.get(key) is not None)
    assert not view.canvas._tops
    at_zoom = [(page, prefetch) for page, zoom, prefetch in asked if zoom == key.zoom]
    assert at_zoom[0] == (0, False), asked
    assert all(prefetch for _page, prefetch in at_zoom[1:]), asked


def test_the_top_of_the_first_page_comes_first(window, qtbot, files, monkeypatch):
    """What is on screen of the page a new tab shows comes with the open and is painted
    at once; the whole page follows and takes its place."""
    arrived: list[tuple[bool, int, bool]] = []
    real = PageCanvas._first_arrived

    def spy(canvas: PageCanvas, first: Any) -> None:
        real(canvas, first)
        if first is not None:
            (page, zoom, rotation), (result, image) = first
            key = Key(canvas.doc_id, page, zoom, rotation)
            arrived.append((result.partial, image.height(), key in canvas._painted_exact))

    monkeypatch.setattr(PageCanvas, "_first_arrived", spy)
    _open(window, qtbot, files["plain"])  # the window learns where a tab's pages go
    qtbot.waitUntil(lambda: window._spare_view is not None)
    arrived.clear()
    view = _open(window, qtbot, files["long"])
    canvas = view.canvas
    key = canvas._key(0)
    [(partial, height, painted)] = arrived
    assert partial and painted
    assert canvas.layout_.rects[0].h * key.zoom / canvas.scale > 1.5 * height
    qtbot.waitUntil(lambda: canvas.cache.get(key) is not None)
    assert not canvas._tops and canvas.cache.get(key).height() > 1.5 * height


def test_a_top_is_kept_only_while_it_is_what_the_canvas_shows(window, qtbot, files):
    view = _open(window, qtbot, files["long"])
    canvas = view.canvas
    key = canvas._key(0)
    qtbot.waitUntil(lambda: canvas.cache.get(key) is not None)

    def top(zoom: float) -> Any:
        image = QImage(40, 20, QImage.Format.Format_RGB32)
        result = RenderResult(canvas.doc_id, 0, zoom, 0, 40, 20, 160, 3200, True)
        return (0, zoom, 0), (result, image)

    canvas._first_arrived(top(key.zoom / 2))  # not the canvas's zoom (say, shrunk): dropped
    assert not canvas._tops
    canvas._first_arrived(top(key.zoom))
    assert list(canvas._tops) == [key]
    view.set_zoom(canvas.scale * 1.5)  # another scale: the whole page is asked for anew
    assert not canvas._tops
    canvas._first_arrived(top(canvas._key(0).zoom))
    assert canvas._tops
    canvas.forget()
    assert not canvas._tops


def test_a_slow_document_says_it_is_opening(window, qtbot, files, monkeypatch):
    documents = window.ctx.documents
    real = documents.open_showing
    held: list[Any] = []

    def slow(*args: Any, **kwargs: Any) -> tuple[Future[Any], Future[Any]]:
        held.append((args, kwargs, Future(), Future()))
        return held[-1][2], held[-1][3]

    monkeypatch.setattr(documents, "open_showing", slow)
    monkeypatch.setattr(view_module, "SLOW_OPEN_MS", 1)
    presented: list[Any] = []
    monkeypatch.setattr(window, "present_view", lambda *args: presented.append(args))
    view = window.open_path(files["plain"], "plain", "file:slow")
    # At first its (empty) pages, not a message that would flash by; the toolbar's
    # buttons do nothing yet.
    assert view.stack.currentWidget() is view.splitter
    qtbot.mouseClick(view.present_button, Qt.MouseButton.LeftButton)
    assert presented == []
    # A document that takes a while says so.
    qtbot.waitUntil(lambda: view.message.isVisible())
    assert view.message.text() == "Opening plain…" and not view.toolbar.isEnabled()
    args, kwargs, opening, first = held[0]
    real_opening, real_first = real(*args, **kwargs)
    real_opening.add_done_callback(lambda f: opening.set_result(f.result()))
    real_first.add_done_callback(lambda f: first.set_result(f.result()))
    with qtbot.waitSignal(view.ready, timeout=20_000):
        pass
    assert view.stack.currentWidget() is view.splitter and not view.message.isVisible()
    assert view.toolbar.isEnabled()
    _painted(qtbot, view, 0)


def test_the_tab_bar_keeps_its_height_as_documents_open_and_close(window, qtbot, files):
    bar, library = window.tabs.tabBar(), window.library
    height, size = bar.height(), library.size()
    view = _open(window, qtbot, files["plain"])
    assert bar.height() == height
    window.close_tab(window.tabs.indexOf(view))
    qtbot.waitUntil(lambda: window.tabs.currentWidget() is library)
    assert (bar.height(), library.size()) == (height, size)


def test_a_wrong_guess_of_the_tab_size_costs_only_a_second_render(
    window, qtbot, files, asked, monkeypatch
):
    monkeypatch.setattr(DocumentView, "margins", (700, 300))
    view = _open(window, qtbot, files["long"], "file:guessed")
    key = view.canvas._key(0)
    assert (0, key.zoom, False) in asked  # asked for again at the right zoom
    assert view.canvas.cache.get(key) is not None


def test_a_reopened_document_has_its_saved_page_rendered_with_the_open(window, qtbot, files, asked):
    key = "file:long-first-render"
    view = _open(window, qtbot, files["long"], key)
    view.go_to(120)
    view.zoom_box.activated.emit(view.zoom_box.findText("150%"))
    _painted(qtbot, view, 120)
    assert _saved(window, qtbot, key)[0] == 120
    window.close_tab(window.tabs.indexOf(view))
    asked.clear()

    view = _open(window, qtbot, files["long"], key)
    assert view.page == 120 and view.zoom_box.currentText() == "150%"
    visible = view.canvas.visible_pages()
    assert visible[0] == 120
    # The saved page came with the open (its top: what is on screen); it was asked for
    # once after that, whole.
    assert asked.count((120, view.canvas._key(120).zoom, False)) <= 1


def test_rotating_turns_the_page_box(window, qtbot, files):
    view = _open(window, qtbot, files["plain"])
    canvas = view.canvas
    view.set_zoom(1.0)
    upright = canvas.layout_.rects[0]
    assert upright.h / upright.w == pytest.approx(842 / 595, abs=0.01)
    qtbot.mouseClick(view.rotate_right_button, Qt.MouseButton.LeftButton)
    assert canvas.rotation == 90
    turned = canvas.layout_.rects[0]
    assert (turned.w, turned.h) == pytest.approx((upright.h, upright.w))
    _painted(qtbot, view, 0)
    assert canvas.cache.get(canvas._key(0)).width() > canvas.cache.get(canvas._key(0)).height()
    qtbot.mouseClick(view.rotate_left_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(view.rotate_left_button, Qt.MouseButton.LeftButton)
    assert canvas.rotation == 270
    assert canvas.layout_.rects[0].w == pytest.approx(upright.h)
    qtbot.mouseClick(view.rotate_right_button, Qt.MouseButton.LeftButton)
    assert canvas.rotation == 0 and canvas.layout_.rects[0] == upright


def test_single_page_mode(window, qtbot, files):
    view = _open(window, qtbot, files["plain"])
    canvas = view.canvas
    view.go_to(1)
    qtbot.mouseClick(view.continuous_button, Qt.MouseButton.LeftButton)
    assert not canvas.continuous and not view.continuous_button.isChecked()
    assert list(canvas.layout_.rects) == [1] and canvas.visible_pages() == [1]
    assert view.page == 1
    _painted(qtbot, view, 1)
    # Page Down at the foot of a page turns to the next one.
    bar = canvas.verticalScrollBar()
    for _ in range(10):
        if view.page == 2:
            break
        qtbot.keyClick(canvas, Qt.Key.Key_PageDown)
    assert view.page == 2 and list(canvas.layout_.rects) == [2]
    _painted(qtbot, view, 2)
    qtbot.keyClick(canvas, Qt.Key.Key_PageUp)
    assert view.page == 1 and bar.value() == bar.maximum()
    qtbot.keyClick(canvas, Qt.Key.Key_Home)
    assert view.page == 0 and list(canvas.layout_.rects) == [0]
    qtbot.mouseClick(view.continuous_button, Qt.MouseButton.LeftButton)
    assert canvas.continuous and len(canvas.layout_.rects) == 3 and view.page == 0


# Sidebar ---------------------------------------------------------------------------------
def _outline_index(model, title: str) -> Any:
    hits = model.match(
        model.index(0, 0), Qt.ItemDataRole.DisplayRole, title, 1, Qt.MatchFlag.MatchRecursive
    )
    assert hits, title
    return hits[0]


def test_the_outline_jumps_to_its_pages(window, qtbot, files, qtmodeltester):
    view = _open(window, qtbot, files["outline"])
    sidebar = view.sidebar
    qtbot.waitUntil(lambda: sidebar.outline_model is not None)
    model = sidebar.outline_model
    assert [model.index(r, 0).data() for r in range(model.rowCount())] == [
        "Chapter 1 Introduction",
        "Chapter 2 Practice",
        "Appendix",
    ]
    qtmodeltester.check(model)
    qtmodeltester.check(sidebar.thumbnails)
    assert sidebar.currentWidget() is sidebar.outline_view and sidebar.isTabEnabled(0)
    detail = _outline_index(model, "Detail 1.1.1 Scope")
    assert detail.parent().data() == "Section 1.1 Purpose"
    assert detail.data(Qt.ItemDataRole.AccessibleTextRole) == "Detail 1.1.1 Scope, page 3"
    # Top levels start expanded: a second-level entry is there to click.
    section = _outline_index(model, "Section 2.1 Referrals")
    tree = sidebar.outline_view
    assert tree.isExpanded(section.parent())
    qtbot.mouseClick(
        tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualRect(section).center()
    )
    assert view.page == 6 and view.page_edit.text() == "7"
    _painted(qtbot, view, 6)
    appendix = _outline_index(model, "Appendix")
    qtbot.mouseClick(
        tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualRect(appendix).center()
    )
    assert view.page == 9
    # Thumbnails: rendered as they come into view; a click goes to the page.
    sidebar.setCurrentWidget(sidebar.thumb_view)
    thumbs = sidebar.thumbnails
    qtbot.waitUntil(lambda: 0 in thumbs._images)
    assert thumbs._images[0].width() == thumbs.WIDTH
    index = thumbs.index(4, 0)
    sidebar.thumb_view.scrollTo(index)
    qtbot.mouseClick(
        sidebar.thumb_view.viewport(),
        Qt.MouseButton.LeftButton,
        pos=sidebar.thumb_view.visualRect(index).center(),
    )
    assert view.page == 4


def test_an_outline_of_5000_entries_loads_and_works(window, qtbot, files, qtmodeltester):
    view = _open(window, qtbot, files["outline5000"])
    sidebar = view.sidebar
    qtbot.waitUntil(lambda: sidebar.outline_model is not None)
    model = sidebar.outline_model
    assert len(model.entries) == 5000
    assert model.rowCount() == 1667  # levels run 1, 2, 3, 1, 2, 3...
    assert model.rowCount(model.index(0, 0)) == 1
    qtmodeltester.check(model)
    tree = sidebar.outline_view
    last = model.index(model.rowCount() - 1, 0)
    assert last.data() == "Entry 4999" and last.data(PAGE_ROLE) == 49
    assert not tree.isExpanded(model.index(0, 0))  # too many to open them all
    tree.setFocus()
    tree.setCurrentIndex(last)
    tree.scrollTo(last)
    qtbot.keyClick(tree, Qt.Key.Key_Return)
    assert view.page == 49
    _painted(qtbot, view, 49)


# Find and text ---------------------------------------------------------------------------
def test_find_counts_moves_and_highlights(window, qtbot, files):
    view = _open(window, qtbot, files["long"])
    canvas = view.canvas
    qtbot.keyClick(canvas, Qt.Key.Key_F, CTRL)
    assert view.find_bar.isVisible() and view.find_edit.hasFocus()
    with qtbot.waitSignal(view.search_finished, timeout=20_000) as found:
        qtbot.keyClicks(view.find_edit, "PAGE 12 of")  # case does not matter
    assert found.args == [1]
    assert view.find_count.text() == "1 of 1"
    assert canvas.hits == {11: canvas.hits[11]} and len(canvas.hits[11]) == 1
    assert canvas.current_hit == (11, 0) and view.page == 11

    with qtbot.waitSignal(view.search_finished, timeout=20_000) as found:
        for _ in " of":
            qtbot.keyClick(view.find_edit, Qt.Key.Key_Backspace)
    assert found.args == [11]  # "page 12": 12 and 120-129 (a space typed would count)
    assert view.find_count.text() == "1 of 11"
    assert sorted(canvas.hits) == [11, *range(119, 129)]
    qtbot.keyClick(view.find_edit, Qt.Key.Key_Return)  # next
    assert view.find_count.text() == "2 of 11" and view.page == 119
    assert canvas.current_hit == (119, 0)
    _painted(qtbot, view, 119)
    qtbot.mouseClick(view.find_next_button, Qt.MouseButton.LeftButton)
    assert view.find_count.text() == "3 of 11" and view.page == 120
    qtbot.keyClick(view.find_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(view.find_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert view.find_count.text() == "1 of 11" and view.page == 11
    qtbot.mouseClick(view.find_prev_button, Qt.MouseButton.LeftButton)
    assert view.find_count.text() == "11 of 11" and view.page == 128  # wraps round

    with qtbot.waitSignal(view.search_finished, timeout=20_000) as found:
        view.find_edit.setText("zebra")
    assert found.args == [0] and view.find_count.text() == "Not found"
    assert canvas.hits == {}

    qtbot.keyClick(view.find_edit, Qt.Key.Key_Escape)
    assert not view.find_bar.isVisible()
    assert canvas.hits == {} and canvas.current_hit is None
    assert canvas.hasFocus()


def test_the_text_view_follows_the_page(window, qtbot, files):
    view = _open(window, qtbot, files["long"])
    qtbot.keyClick(view.canvas, Qt.Key.Key_T, CTRL)
    assert view.pages.currentWidget() is view.text_view and view.text_button.isChecked()
    qtbot.waitUntil(lambda: "page 1 of 300" in view.text_view.toPlainText())
    assert pdfs.MARK in view.text_view.toPlainText()
    view.go_to(41)
    qtbot.waitUntil(lambda: "page 42 of 300" in view.text_view.toPlainText())
    assert view.text_view.accessibleDescription() == "Page 42 of long"
    # Zoom keys size the text instead.
    size = view.text_view.font().pointSize()
    scale = view.canvas.scale
    qtbot.keyClick(view.text_view, Qt.Key.Key_Plus, CTRL)
    assert view.text_view.font().pointSize() == size + 2 and view.canvas.scale == scale
    qtbot.keyClick(view.text_view, Qt.Key.Key_T, CTRL)
    assert view.pages.currentWidget() is view.canvas and not view.text_button.isChecked()


def test_select_all_and_copy_puts_the_page_text_on_the_clipboard(window, qtbot, files):
    view = _open(window, qtbot, files["plain"])
    QGuiApplication.clipboard().clear()
    view.go_to(1)
    qtbot.keyClick(view.canvas, Qt.Key.Key_A, CTRL)
    qtbot.waitUntil(lambda: view.canvas.selection is not None)
    assert view.canvas.selection[0] == 1
    qtbot.keyClick(view.canvas, Qt.Key.Key_C, CTRL)
    assert QGuiApplication.clipboard().text() == f"Test document, page 2 of 3\n{pdfs.MARK}"


def test_dragging_selects_words(window, qtbot, files):
    view = _open(window, qtbot, files["plain"])
    canvas = view.canvas
    words = canvas.worker.call("words", view.doc_id, 0, doc_id=view.doc_id)
    qtbot.waitUntil(words.done)
    by_text = {w.text: w for w in words.result()}
    start = _centre(by_text["document,"].rect)
    end = _centre(by_text["of"].rect)
    _click_at(qtbot, view, 0, *start)  # fetches the page's words
    qtbot.waitUntil(lambda: 0 in canvas._words)
    cx, cy = canvas.layout_.to_canvas(0, *start)
    ex, ey = canvas.layout_.to_canvas(0, *end)
    dy = canvas.verticalScrollBar().value()
    qtbot.mousePress(
        canvas.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(round(cx), round(cy - dy))
    )
    qtbot.waitUntil(lambda: canvas._select_anchor is not None)
    qtbot.mouseMove(canvas.viewport(), QPoint(round(ex), round(ey - dy)))
    qtbot.mouseRelease(
        canvas.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(round(ex), round(ey - dy))
    )
    assert canvas.selected_text() == "document, page 1 of"


# Links -----------------------------------------------------------------------------------
@pytest.fixture
def opened_urls(monkeypatch) -> list[Any]:
    """QDesktopServices.openUrl, recorded instead of starting a browser."""
    urls: list[Any] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: urls.append(url) or True)
    return urls


def _links_view(window, qtbot, files) -> DocumentView:
    view = _open(window, qtbot, files["links"])
    qtbot.waitUntil(lambda: 0 in view.canvas._links)
    return view


def test_an_internal_link_goes_to_its_page(window, qtbot, files, opened_urls):
    view = _links_view(window, qtbot, files)
    rect, target = pdfs.LINK_INTERNAL
    canvas = view.canvas
    x, y = canvas.layout_.to_canvas(0, *_centre(rect))
    pos = QPoint(round(x), round(y - canvas.verticalScrollBar().value()))
    qtbot.mouseMove(canvas.viewport(), pos)
    assert canvas.viewport().toolTip() == "Go to page 3"
    with qtbot.waitSignal(canvas.link_clicked) as clicked:
        _click_at(qtbot, view, 0, *_centre(rect))
    assert clicked.args[0].page == target
    assert view.page == target
    _painted(qtbot, view, target)
    assert opened_urls == []


@pytest.mark.parametrize("which", ["https", "mailto"])
def test_an_external_link_asks_first(window, qtbot, files, opened_urls, which):
    view = _links_view(window, qtbot, files)
    rect, uri = pdfs.LINK_HTTPS if which == "https" else pdfs.LINK_MAILTO
    _click_at(qtbot, view, 0, *_centre(rect))
    box = view.last_link_box
    assert box.objectName() == "linkConfirm" and box.isVisible()
    assert box.informativeText() == uri
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    assert not box.isVisible() and opened_urls == []
    assert view.page == 0
    # Asked again, and this time opened.
    _click_at(qtbot, view, 0, *_centre(rect))
    box = view.last_link_box
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Open), Qt.MouseButton.LeftButton)
    assert [u.toString() for u in opened_urls] == [uri]


def test_a_script_link_is_refused(window, qtbot, files, opened_urls):
    view = _links_view(window, qtbot, files)
    rect, uri = pdfs.LINK_JAVASCRIPT
    _click_at(qtbot, view, 0, *_centre(rect))
    box = view.last_link_box
    assert box.objectName() == "linkRefused" and box.isVisible()
    assert box.informativeText() == uri
    assert "only opens web and email links" in box.text()
    assert box.standardButtons() == QMessageBox.StandardButton.Ok
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert not box.isVisible() and opened_urls == []


def test_file_and_launch_links_are_refused(window, qtbot, files, opened_urls):
    view = _links_view(window, qtbot, files)
    for rect, _target in (pdfs.LINK_FILE_URI, pdfs.LINK_LAUNCH):
        _click_at(qtbot, view, 0, *_centre(rect))
        box = view.last_link_box
        assert box.objectName() == "linkRefused" and box.isVisible()
        assert "only opens web and email links" in box.text()
        box.close()
    assert view.page == 0 and opened_urls == []


# Passwords and damaged files -------------------------------------------------------------
def _committed(text: str) -> QInputMethodEvent:
    event = QInputMethodEvent()
    event.setCommitString(text)
    return event


def test_a_password_is_asked_for_and_checked(window, qtbot, files):
    view = window.open_path(files["encrypted"], "Encrypted", "file:encrypted")
    qtbot.waitUntil(lambda: view.password_box.isVisible(), timeout=20_000)
    assert "protected by a password" in view.message.text()
    assert view.password_edit.hasFocus() and view.canvas is None
    assert view.password_edit.echoMode() == view.password_edit.EchoMode.Password
    qtbot.keyClicks(view.password_edit, "not the password")
    qtbot.keyClick(view.password_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "not right" in view.message.text(), timeout=20_000)
    assert view.password_box.isVisible() and view.password_edit.text() == ""
    assert view.message.accessibleName() == "That password is not right."
    # The right password, typed decomposed (e + combining acute): it still opens.
    # (as an input method sends it: QTest types ASCII only)
    QApplication.sendEvent(view.password_edit, _committed(pdfs.PASSWORD_TYPED_NFD))
    assert view.password_edit.text() == pdfs.PASSWORD_TYPED_NFD
    with qtbot.waitSignal(view.ready, timeout=20_000):
        qtbot.mouseClick(view.password_button, Qt.MouseButton.LeftButton)
    assert not view.password_box.isVisible() and view.info.page_count == 2
    _painted(qtbot, view, 0)


def test_damaged_files_say_so_in_their_tabs_and_the_app_goes_on(window, qtbot, files):
    expected = {
        "empty": "empty.pdf is empty (0 bytes).",
        "png": "picture.pdf is not a PDF.",
        "text": "notes.pdf cannot be opened",
        "stub": "stub.pdf cannot be opened",
        "count_cycle": "count-cycle.pdf cannot be opened",
        "no_pages": "no-pages.pdf has no pages.",
    }
    for name, says in expected.items():
        view = window.open_path(files[name], name, f"file:{name}")
        with qtbot.waitSignal(view.failed, timeout=20_000) as failed:
            pass
        assert failed.args[0].startswith(says)
        assert view.canvas is None and not view.toolbar.isEnabled()
        assert f"<b>{failed.args[0]}</b>" in view.message.text()
        assert view.message.isVisible() and not view.password_box.isVisible()
    assert window.tabs.count() == 1 + len(expected)
    assert window.ctx.documents.restarts == 0
    # A page tree that loops: the document opens, its page says it cannot be shown.
    view = window.open_path(files["cycle"], "cycle", "file:cycle")
    with qtbot.waitSignal(view.ready, timeout=20_000):
        pass
    canvas = view.canvas
    qtbot.waitUntil(lambda: 0 in canvas._failed, timeout=20_000)
    assert canvas._failed[0].startswith("Page 1 cannot be shown")
    # A truncated file is repaired, and says so.
    view = _open(window, qtbot, files["truncated"])
    assert view.info.repaired
    assert view.note.isVisible() and "repaired" in view.note.text()
    # A good document still opens, and closing the broken tabs is fine.
    view = _open(window, qtbot, files["plain"])
    assert view.info.page_count == 3
    while window.tabs.count() > 2:
        window.close_tab(1)
    assert window.tabs.widget(1) is view


# Position, printing ----------------------------------------------------------------------
def _saved(window, qtbot, key: str) -> Any:
    """The saved position, once the view has written it (it waits a moment after a page
    turn before writing, so turning pages quickly costs no disk syncs)."""
    for i in range(window.tabs.count()):
        view = window.tabs.widget(i)
        if getattr(view, "document_key", None) == key:
            qtbot.waitUntil(lambda v=view: not v._save_timer.isActive(), timeout=5000)
    future = window.ctx.userdata(lambda u: u.position(key))
    qtbot.waitUntil(future.done)
    return future.result()


def test_reopening_restores_the_page_and_zoom(window, qtbot, files):
    key = "file:long-position"
    view = _open(window, qtbot, files["long"], key)
    view.go_to(41)
    view.zoom_box.activated.emit(view.zoom_box.findText("150%"))
    zoom = view.canvas.mode
    assert _saved(window, qtbot, key)[:2] == (41, zoom)
    window.close_tab(window.tabs.indexOf(view))

    view = window.open_path(files["long"], "long", key)
    with qtbot.waitSignal(view.ready, timeout=20_000):
        pass
    assert view.page == 41 and view.page_edit.text() == "42"
    assert view.canvas.mode == zoom and view.zoom_box.currentText() == "150%"
    _painted(qtbot, view, 41)
    view.zoom_box.activated.emit(view.zoom_box.findData(FIT_PAGE))
    view.go_to(7)
    assert _saved(window, qtbot, key)[:2] == (7, -2.0)
    window.close_tab(window.tabs.indexOf(view))

    view = window.open_path(files["long"], "long", key)
    with qtbot.waitSignal(view.ready, timeout=20_000):
        pass
    assert view.page == 7 and view.canvas.mode == FIT_PAGE
    assert view.zoom_box.currentText() == "Fit page"
    # A page asked for (a link from elsewhere) wins over the saved one.
    window.close_tab(window.tabs.indexOf(view))
    view = window.open_path(files["long"], "long", key, page=99)
    with qtbot.waitSignal(view.ready, timeout=20_000):
        pass
    assert view.page == 99


def test_printing_pages_to_a_pdf_file(window, qtbot, files, tmp_path):
    import pymupdf
    from PySide6.QtPrintSupport import QPrinter

    view = _open(window, qtbot, files["long"])
    out = tmp_path / "printed.pdf"
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(out))
    with qtbot.waitSignal(view.printed, timeout=30_000) as printed:
        view.print_pages(printer, 9, 11)
    assert printed.args == [3]
    with pymupdf.open(out) as doc:
        assert doc.page_count == 3
        assert all(len(page.get_images()) == 1 for page in doc)
