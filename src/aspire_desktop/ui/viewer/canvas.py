"""The page canvas: lays pages out, asks the worker for what is on screen, paints it.

Rendering never happens here. The canvas asks for the pages in view (and, at a lower
priority, their neighbours); a request for a page that scrolled away is cancelled; while
an exact render is on its way, any cached image of the page is drawn scaled.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QImage,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

from aspire_desktop.core.documents.fit import (
    FIT_WIDTH,
    GAP,
    MAX_SCALE,
    MIN_SCALE,
    device_zoom,
    page_scale,
)
from aspire_desktop.core.documents.pdf import DocumentInfo, PageLink, RenderResult, Word
from aspire_desktop.core.documents.worker import DocumentWorker, FirstPage
from aspire_desktop.core.errors import UserError
from aspire_desktop.core.userdata.bookmarks import CONTEXT_CHARS, Quote
from aspire_desktop.ui.background import when_done
from aspire_desktop.ui.images import to_image
from aspire_desktop.ui.viewer.cache import Key, RenderCache
from aspire_desktop.ui.viewer.layout import PageLayout

PREFETCH_BEFORE, PREFETCH_AFTER = 1, 2

_shared_cache: RenderCache | None = None


#: What a canvas made ahead of its document holds (document ids start at 1).
BLANK = DocumentInfo(0, 1, "", ((595.0, 842.0),), False, True)


def shared_cache() -> RenderCache:
    """One byte-capped cache for every open document."""
    global _shared_cache
    if _shared_cache is None:
        _shared_cache = RenderCache()
    return _shared_cache


class PageCanvas(QAbstractScrollArea):
    page_changed = Signal(int)
    scale_changed = Signal(float)
    #: A page was painted from an exact render (page number); for tests and benchmarks.
    page_painted = Signal(int)
    link_clicked = Signal(object)
    render_failed = Signal(int, str)

    def __init__(
        self,
        worker: DocumentWorker,
        info: DocumentInfo = BLANK,
        cache: RenderCache | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.worker = worker
        self.info = info
        self.doc_id = info.doc_id
        self.cache = cache or shared_cache()
        self.rotation = 0
        self.mode: str | float = FIT_WIDTH
        self.continuous = True
        self.page = 0
        self.layout_: PageLayout | None = None
        self._pending: dict[Key, Future[Any]] = {}
        self._prefetching: set[Key] = set()
        self._failed: dict[int, str] = {}
        self._links: dict[int, list[PageLink]] = {}
        self._words: dict[int, list[Word]] = {}
        self._asked: set[tuple[str, int]] = set()
        self.hits: dict[int, list[tuple[float, float, float, float]]] = {}
        self.current_hit: tuple[int, int] | None = None
        self.selection: tuple[int, int, int] | None = None  # page, first word, last word
        self._select_anchor: tuple[int, int] | None = None
        self._painted_exact: set[Key] = set()
        self._first: Future[FirstPage | None] | None = None
        #: The top of a page, rendered with the open (until the whole page comes).
        self._tops: dict[Key, QImage] = {}
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.viewport().setMouseTracking(True)
        self.setAccessibleName(f"Pages of {info.title}" if info.title else "Pages")
        self.verticalScrollBar().setSingleStep(40)
        self.horizontalScrollBar().setSingleStep(40)
        self.verticalScrollBar().valueChanged.connect(self._scrolled)
        self._relayout()

    def set_document(self, info: DocumentInfo) -> None:
        """Show a document in this canvas, made blank ahead of it."""
        assert self.doc_id == BLANK.doc_id, "a canvas shows one document"
        self.info = info
        self.doc_id = info.doc_id
        self.setAccessibleName(f"Pages of {info.title}")
        self._relayout()

    # Layout and scale ----------------------------------------------------------------
    @property
    def scale(self) -> float:
        assert self.layout_ is not None
        return self.layout_.scale

    def _effective_scale(self) -> float:
        viewport = self.viewport()
        return page_scale(
            self.mode,
            self.info.page_sizes[self.page],
            self.rotation,
            (viewport.width(), viewport.height()),
        )

    def _relayout(self, keep_page: bool = True) -> None:
        anchor = self._anchor() if keep_page and self.layout_ is not None else None
        old_scale = self.layout_.scale if self.layout_ is not None else None
        self.layout_ = PageLayout(
            self.info.page_sizes,
            self._effective_scale(),
            self.rotation,
            self.viewport().width(),
            None if self.continuous else self.page,
        )
        # A top of a page is kept while the canvas still shows the page at its scale.
        self._tops = {k: image for k, image in self._tops.items() if k == self._key(k.page)}
        bar = self.verticalScrollBar()
        bar.setPageStep(max(1, self.viewport().height() - 40))
        bar.setRange(0, max(0, int(self.layout_.height) - self.viewport().height()))
        hbar = self.horizontalScrollBar()
        hbar.setPageStep(self.viewport().width())
        hbar.setRange(0, max(0, int(self.layout_.width) - self.viewport().width()))
        if anchor is not None:
            self._restore_anchor(anchor)
        if old_scale != self.layout_.scale:
            self.scale_changed.emit(self.layout_.scale)
        self.viewport().update()
        self._request()

    def _anchor(self) -> tuple[int, float]:
        """The current page and how far down it the view is (a fraction)."""
        assert self.layout_ is not None
        top = self.verticalScrollBar().value()
        page = self.layout_.current_page(top, self.viewport().height())
        r = self.layout_.rects.get(page)
        frac = 0.0 if r is None or r.h == 0 else (top - r.y) / r.h
        return page, frac

    def _restore_anchor(self, anchor: tuple[int, float]) -> None:
        assert self.layout_ is not None
        page, frac = anchor
        r = self.layout_.rects.get(page)
        if r is not None:
            self.verticalScrollBar().setValue(int(r.y + frac * r.h))

    def set_mode(self, mode: str | float) -> None:
        if isinstance(mode, float):
            mode = max(MIN_SCALE, min(mode, MAX_SCALE))
        self.mode = mode
        self._relayout()

    def zoom_by(self, factor: float) -> None:
        self.set_mode(float(self.scale * factor))

    def actual_size(self) -> None:
        self.set_mode(float(self.logicalDpiX() / 72.0))

    def rotate(self, degrees: int) -> None:
        self.rotation = (self.rotation + degrees) % 360
        self._relayout()

    def set_sizes(self, sizes: tuple[tuple[float, float], ...]) -> None:
        """The exact page sizes arrived (long documents): lay out again, same place."""
        if sizes == self.info.page_sizes:
            return
        self.info = replace(self.info, page_sizes=sizes, sizes_exact=True)
        self._relayout()

    def set_continuous(self, on: bool) -> None:
        page = self.page
        self.continuous = on
        self._relayout(keep_page=False)
        self.go_to(page)

    # Navigation ----------------------------------------------------------------------
    def go_to(self, page: int, y: float | None = None) -> None:
        """Show ``page`` (0-based); ``y`` (points, displayed page space) to bring into view."""
        page = max(0, min(page, self.info.page_count - 1))
        if not self.continuous and page != (self.layout_.single_page if self.layout_ else None):
            self.page = page
            self._relayout(keep_page=False)
        assert self.layout_ is not None
        r = self.layout_.rects[page]
        target = r.y - GAP
        if y is not None:
            _, cy = self.layout_.to_canvas(page, 0, y)
            target = cy - self.viewport().height() / 3
        self.verticalScrollBar().setValue(int(target))
        self._set_page(page)
        self.viewport().update()
        self._request()

    def next_page(self) -> None:
        self.go_to(self.page + 1)

    def previous_page(self) -> None:
        self.go_to(self.page - 1)

    def page_down(self) -> None:
        bar = self.verticalScrollBar()
        if not self.continuous and bar.value() >= bar.maximum():
            if self.page < self.info.page_count - 1:
                self.go_to(self.page + 1)
            return
        bar.setValue(bar.value() + bar.pageStep())

    def page_up(self) -> None:
        bar = self.verticalScrollBar()
        if not self.continuous and bar.value() <= 0:
            if self.page > 0:
                self.go_to(self.page - 1)
                bar.setValue(bar.maximum())
            return
        bar.setValue(bar.value() - bar.pageStep())

    def _set_page(self, page: int) -> None:
        if page != self.page:
            self.page = page
            self.page_changed.emit(page)

    def _scrolled(self, _value: int) -> None:
        if self.layout_ is not None and self.continuous:
            top = self.verticalScrollBar().value()
            self._set_page(self.layout_.current_page(top, self.viewport().height()))
        self.viewport().update()
        self._request()

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        self.viewport().update()

    # Rendering requests --------------------------------------------------------------
    def _key(self, page: int) -> Key:
        return Key(
            self.doc_id, page, device_zoom(self.scale, self.devicePixelRatioF()), self.rotation
        )

    def visible_pages(self) -> list[int]:
        assert self.layout_ is not None
        top = self.verticalScrollBar().value()
        return self.layout_.visible(top, top + self.viewport().height())

    def _request(self) -> None:
        if self.doc_id == BLANK.doc_id or self._first is not None or not self.isVisible():
            return
        visible = self.visible_pages()
        wanted: dict[Key, bool] = {self._key(n): False for n in visible}
        if visible:
            first, last = visible[0], visible[-1]
            around = list(range(first - PREFETCH_BEFORE, first)) + list(
                range(last + 1, last + 1 + PREFETCH_AFTER)
            )
            for n in around:
                if 0 <= n < self.info.page_count and self._key(n) not in wanted:
                    wanted[self._key(n)] = True
        for key, future in list(self._pending.items()):
            # Gone from view: drop it. Asked for ahead and now on screen: ask again, sooner.
            promote = wanted.get(key) is False and key in self._prefetching
            if (key not in wanted or promote) and future.cancel():
                del self._pending[key]
                self._prefetching.discard(key)
        for key, prefetch in wanted.items():
            if key.page in self._failed or key in self._pending or self.cache.get(key):
                continue
            if prefetch:
                self._prefetching.add(key)
            future = self.worker.render(
                self.doc_id, key.page, key.zoom, key.rotation, prefetch=prefetch, convert=to_image
            )
            self._pending[key] = future
            when_done(
                future,
                self,
                lambda done, key=key: self._rendered(key, done),
                lambda error, key=key: self._render_error(key, error),
            )
        for n in visible:
            self._fetch_links(n)

    def await_first(self, first: Future[FirstPage | None]) -> None:
        """The page shown first is being rendered with the document's open: wait for
        it instead of asking again (if it was the wrong page or zoom, ask then)."""
        self._first = first
        when_done(first, self, self._first_arrived, lambda _e: self._first_arrived(None))

    def _first_arrived(self, first: FirstPage | None) -> None:
        self._first = None
        if first is not None:
            (page, zoom, rotation), rendered = first
            key = Key(self.doc_id, page, zoom, rotation)
            result, image = rendered
            if result.partial:  # kept only if it is what the canvas shows
                if key == self._key(page):
                    image.setDevicePixelRatio(key.zoom / self.scale if self.scale else 1.0)
                    self._tops[key] = image
            else:
                self._rendered(key, rendered)
            if self.isVisible():
                self.viewport().repaint()  # now: the reader is waiting for this page
        self._request()

    def _rendered(self, key: Key, done: tuple[RenderResult, QImage]) -> None:
        self._pending.pop(key, None)
        self._prefetching.discard(key)
        self._tops.pop(key, None)
        _result, image = done
        image.setDevicePixelRatio(key.zoom / self.scale if self.scale else 1.0)
        self.cache.put(key, image)
        if self.layout_ is not None and key.page in self.visible_pages():
            self.viewport().update()

    def _render_error(self, key: Key, error: UserError) -> None:
        self._pending.pop(key, None)
        self._prefetching.discard(key)
        self._failed[key.page] = error.message
        self.render_failed.emit(key.page, error.message)
        self.viewport().update()

    def _fetch_links(self, page: int) -> None:
        if ("links", page) in self._asked:
            return
        self._asked.add(("links", page))
        when_done(
            self.worker.call("links", self.doc_id, page, doc_id=self.doc_id),
            self,
            lambda links, page=page: self._links.__setitem__(page, links),
            lambda _e: None,
        )

    def _fetch_words(self, page: int, then: Any = None) -> None:
        if page in self._words:
            if then is not None:
                then()
            return
        if ("words", page) in self._asked:
            return
        self._asked.add(("words", page))

        def got(words: list[Word]) -> None:
            self._words[page] = words
            if then is not None:
                then()

        when_done(
            self.worker.call("words", self.doc_id, page, doc_id=self.doc_id),
            self,
            got,
            lambda _e: None,
        )

    # Painting ------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        assert self.layout_ is not None
        painter = QPainter(self.viewport())
        painter.fillRect(self.viewport().rect(), QColor("#5f6b76"))
        if self.doc_id == BLANK.doc_id:
            return
        dx = self.horizontalScrollBar().value()
        dy = self.verticalScrollBar().value()
        painter.translate(-dx, -dy)
        exact_painted = []
        bottom = dy + self.viewport().height()
        for n in self.visible_pages():
            r = self.layout_.rects[n]
            target = QRectF(r.x, r.y, r.w, r.h)
            key = self._key(n)
            image = self.cache.get(key)
            top = None if image is not None else self._tops.get(key)
            if image is not None:
                painter.drawImage(target, image)
                if key not in self._painted_exact:
                    self._painted_exact.add(key)
                    exact_painted.append(n)
            elif top is not None:  # the whole page is on its way
                painter.fillRect(target, QColor("white"))
                h = min(top.height() / top.devicePixelRatio(), r.h)
                painter.drawImage(QRectF(r.x, r.y, r.w, h), top)
                if r.y + h >= min(bottom, r.y + r.h) and key not in self._painted_exact:
                    self._painted_exact.add(key)  # all of the page on screen is exact
                    exact_painted.append(n)
            else:
                painter.fillRect(target, QColor("white"))
                stand_in = self.cache.nearest(self.doc_id, n, self.rotation, key.zoom)
                if stand_in is not None:
                    painter.drawImage(target, stand_in)
                else:
                    painter.setPen(QColor("#5b6b7a"))
                    text = self._failed.get(n) or f"Page {n + 1}…"
                    painter.drawText(target, Qt.AlignmentFlag.AlignCenter, text)
            self._paint_marks(painter, n)
        painter.end()
        for n in exact_painted:
            self.page_painted.emit(n)

    def _rect_on_canvas(self, page: int, rect: tuple[float, float, float, float]) -> QRectF:
        assert self.layout_ is not None
        x0, y0 = self.layout_.to_canvas(page, rect[0], rect[1])
        x1, y1 = self.layout_.to_canvas(page, rect[2], rect[3])
        return QRectF(QPointF(min(x0, x1), min(y0, y1)), QPointF(max(x0, x1), max(y0, y1)))

    def _paint_marks(self, painter: QPainter, page: int) -> None:
        for i, rect in enumerate(self.hits.get(page, [])):
            current = self.current_hit == (page, i)
            colour = QColor(255, 140, 0, 140) if current else QColor(255, 220, 0, 110)
            painter.fillRect(self._rect_on_canvas(page, rect), colour)
        if self.selection is not None and self.selection[0] == page:
            words = self._words.get(page, [])
            _, a, b = self.selection
            for w in words[min(a, b) : max(a, b) + 1]:
                painter.fillRect(self._rect_on_canvas(page, w.rect), QColor(47, 95, 143, 90))

    # Mouse and keys ------------------------------------------------------------------
    def _page_point(self, pos: QPointF) -> tuple[int, float, float] | None:
        assert self.layout_ is not None
        x = pos.x() + self.horizontalScrollBar().value()
        y = pos.y() + self.verticalScrollBar().value()
        page = self.layout_.page_at(x, y)
        if page is None:
            return None
        px, py = self.layout_.from_canvas(page, x, y)
        return page, px, py

    def link_at(self, pos: QPointF) -> PageLink | None:
        hit = self._page_point(pos)
        if hit is None:
            return None
        page, x, y = hit
        for link in self._links.get(page, []):
            x0, y0, x1, y1 = link.rect
            if x0 <= x <= x1 and y0 <= y <= y1:
                return link
        return None

    def _word_at(self, page: int, x: float, y: float) -> int | None:
        words = self._words.get(page)
        if not words:
            return None
        best, best_d = None, float("inf")
        for i, w in enumerate(words):
            x0, y0, x1, y1 = w.rect
            dx = max(x0 - x, 0.0, x - x1)
            dy = max(y0 - y, 0.0, y - y1)
            d = dx * dx + dy * dy * 4
            if d < best_d:
                best, best_d = i, d
        return best

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        link = self.link_at(event.position())
        if link is not None:
            self.link_clicked.emit(link)
            return None
        hit = self._page_point(event.position())
        self.selection = None
        self._select_anchor = None
        if hit is not None:
            page, x, y = hit

            def start() -> None:
                index = self._word_at(page, x, y)
                if index is not None:
                    self._select_anchor = (page, index)

            self._fetch_words(page, start)
        self.viewport().update()
        return None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton and self._select_anchor is not None:
            hit = self._page_point(event.position())
            page, first = self._select_anchor
            if hit is not None and hit[0] == page:
                index = self._word_at(page, hit[1], hit[2])
                if index is not None:
                    self.selection = (page, first, index)
                    self.viewport().update()
            return
        link = self.link_at(event.position())
        if link is not None:
            self.viewport().setCursor(Qt.CursorShape.PointingHandCursor)
            self.viewport().setToolTip(link.uri or f"Go to page {link.page + 1}")
        else:
            self.viewport().unsetCursor()
            self.viewport().setToolTip("")

    def selected_text(self) -> str:
        if self.selection is None:
            return ""
        page, a, b = self.selection
        words = self._words.get(page, [])[min(a, b) : max(a, b) + 1]
        out: list[str] = []
        last: tuple[int, int] | None = None
        for w in words:
            if last is not None:
                out.append(" " if (w.block, w.line) == last else "\n")
            out.append(w.text)
            last = (w.block, w.line)
        return "".join(out)

    def selection_quote(self) -> tuple[int, Quote] | None:
        """The selected passage as a quote with some words either side, and its page."""
        if self.selection is None:
            return None
        page, a, b = self.selection
        words = self._words.get(page, [])
        first, last = min(a, b), max(a, b)
        before = " ".join(w.text for w in words[max(0, first - 12) : first])
        after = " ".join(w.text for w in words[last + 1 : last + 13])
        exact = " ".join(w.text for w in words[first : last + 1])
        return page, Quote(
            exact,
            before[-CONTEXT_CHARS:] + " " if before else "",
            " " + after[:CONTEXT_CHARS] if after else "",
        )

    def select_all_on_page(self) -> None:
        page = self.page

        def done() -> None:
            words = self._words.get(page, [])
            if words:
                self.selection = (page, 0, len(words) - 1)
                self.viewport().update()

        self._fetch_words(page, done)

    def copy_selection(self) -> bool:
        text = self.selected_text()
        if text:
            QGuiApplication.clipboard().setText(text)
        return bool(text)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        mods = event.modifiers()
        if key in (Qt.Key.Key_PageDown, Qt.Key.Key_Space) and not mods:
            self.page_down()
        elif key == Qt.Key.Key_PageUp or (key == Qt.Key.Key_Space and mods):
            self.page_up()
        elif key == Qt.Key.Key_Home:
            self.go_to(0)
        elif key == Qt.Key.Key_End:
            self.go_to(self.info.page_count - 1)
        elif event.matches(QKeySequence.StandardKey.Copy):
            self.copy_selection()
        else:
            super().keyPressEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom_by(1.1 if event.angleDelta().y() > 0 else 1 / 1.1)
            event.accept()
            return
        super().wheelEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._relayout()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._request()

    # Search marks ----------------------------------------------------------------------
    def set_hits(self, hits: dict[int, list[tuple[float, float, float, float]]]) -> None:
        self.hits = hits
        self.viewport().update()

    def show_hit(self, page: int, index: int) -> None:
        self.current_hit = (page, index)
        rect = self.hits.get(page, [])[index]
        self.go_to(page, rect[1])

    def _painted_pages(self) -> set[int]:
        return {k.page for k in self._painted_exact}

    def forget(self) -> None:
        """Cancel everything pending and drop this document's images from the cache."""
        for future in self._pending.values():
            future.cancel()
        self._pending.clear()
        self._tops.clear()
        self.cache.drop_document(self.doc_id)
