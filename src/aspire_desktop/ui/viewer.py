"""A document tab: pages rendered on the PyMuPDF worker, shown here.

The UI thread never renders: it asks the worker, and the newest request wins.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from aspire_desktop.core.documents.pdf import DocumentInfo, RenderedPage
from aspire_desktop.core.errors import UserError
from aspire_desktop.ui.background import when_done
from aspire_desktop.ui.context import AppContext

_doc_ids = itertools.count(1)


class DocumentView(QWidget):
    """One open document."""

    page_shown = Signal(int)
    failed = Signal(str)

    def __init__(
        self,
        ctx: AppContext,
        path: Path,
        title: str,
        document_key: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.path = path
        self.title = title
        self.document_key = document_key
        self.doc_id = next(_doc_ids)
        self.info: DocumentInfo | None = None
        self.page = 0
        self.zoom_factor = 1.0  # relative to fit width
        self._serial = 0
        self.setAccessibleName(f"Document: {title}")

        bar = QHBoxLayout()
        bar.setContentsMargins(8, 4, 8, 4)
        self.prev_button = self._tool("Previous page", "◀", self.previous_page)
        self.next_button = self._tool("Next page", "▶", self.next_page)
        self.page_label = QLabel("Opening…")
        self.page_label.setObjectName("pageLabel")
        self.zoom_out_button = self._tool(
            "Zoom out", "−", lambda: self.set_zoom(self.zoom_factor / 1.25)
        )
        self.zoom_in_button = self._tool(
            "Zoom in", "+", lambda: self.set_zoom(self.zoom_factor * 1.25)
        )
        self.fit_button = self._tool("Fit width", "↔", lambda: self.set_zoom(1.0))
        for w in (self.prev_button, self.next_button, self.page_label):
            bar.addWidget(w)
        bar.addStretch(1)
        for w in (self.zoom_out_button, self.zoom_in_button, self.fit_button):
            bar.addWidget(w)

        self.canvas = QLabel()
        self.canvas.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.canvas.setObjectName("pageCanvas")
        self.canvas.setWordWrap(True)
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.canvas)
        self.scroll.setWidgetResizable(True)
        self.scroll.setAccessibleName(f"Page view of {title}")
        self.scroll.setObjectName("pageScroll")

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(bar)
        lay.addWidget(self.scroll, 1)

        for keys, slot in (
            (QKeySequence.StandardKey.MoveToNextPage, self.next_page),
            (QKeySequence.StandardKey.MoveToPreviousPage, self.previous_page),
            (QKeySequence.StandardKey.ZoomIn, lambda: self.set_zoom(self.zoom_factor * 1.25)),
            (QKeySequence.StandardKey.ZoomOut, lambda: self.set_zoom(self.zoom_factor / 1.25)),
        ):
            sc = QShortcut(QKeySequence(keys), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)
        self._set_enabled(False)
        when_done(
            ctx.documents.submit(ctx.documents.service.open, self.doc_id, path),
            self,
            self._opened,
            self._open_failed,
        )

    def _tool(self, name: str, text: str, slot: object) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setToolTip(name)
        b.setAccessibleName(name)
        b.clicked.connect(slot)
        return b

    def _set_enabled(self, on: bool) -> None:
        for b in (
            self.prev_button,
            self.next_button,
            self.zoom_in_button,
            self.zoom_out_button,
            self.fit_button,
        ):
            b.setEnabled(on)

    # ------------------------------------------------------------------------------
    def _opened(self, info: DocumentInfo) -> None:
        self.info = info
        self._set_enabled(True)
        when_done(
            self.ctx.userdata(lambda u: u.position(self.document_key)),
            self,
            self._restore,
            lambda _e: self.go_to(0),
        )

    def _restore(self, pos: tuple[int, float | None] | None) -> None:
        page = pos[0] if pos else 0
        if pos and pos[1]:
            self.zoom_factor = pos[1]
        self.go_to(page)

    def _open_failed(self, error: UserError) -> None:
        self.page_label.setText("Cannot open")
        self.canvas.setText(f"<p><b>{error.message}</b></p><p>{error.what_to_do}</p>")
        self.canvas.setAccessibleName(f"{error.message} {error.what_to_do}")
        self.failed.emit(error.message)

    def go_to(self, page: int) -> None:
        if self.info is None:
            return
        self.page = max(0, min(page, self.info.page_count - 1))
        self.page_label.setText(f"Page {self.page + 1} of {self.info.page_count}")
        self.prev_button.setEnabled(self.page > 0)
        self.next_button.setEnabled(self.page < self.info.page_count - 1)
        self._render()
        page_no, count, zoom = self.page, self.info.page_count, self.zoom_factor
        self.ctx.userdata(lambda u: u.save_position(self.document_key, page_no, count, zoom))

    def next_page(self) -> None:
        self.go_to(self.page + 1)

    def previous_page(self) -> None:
        self.go_to(self.page - 1)

    def set_zoom(self, factor: float) -> None:
        self.zoom_factor = max(0.25, min(factor, 6.0))
        self.go_to(self.page)

    def _scale(self) -> float:
        assert self.info is not None
        width = self.info.page_sizes[self.page][0] or 1.0
        # The canvas pads 12 px a side; leave room for the vertical scroll bar too.
        bar = self.scroll.verticalScrollBar().sizeHint().width()
        available = max(200, self.scroll.viewport().width() - 28 - bar)
        return available / width * self.zoom_factor

    def _render(self) -> None:
        self._serial += 1
        serial = self._serial
        ratio = self.devicePixelRatioF()
        future = self.ctx.documents.submit(
            self.ctx.documents.service.render, self.doc_id, self.page, self._scale() * ratio
        )
        when_done(future, self, lambda page: self._show(serial, page, ratio), self._render_failed)

    def _show(self, serial: int, page: RenderedPage, ratio: float) -> None:
        if serial != self._serial:
            return  # a newer request is on its way
        image = QImage(
            page.samples, page.width, page.height, page.stride, QImage.Format.Format_RGB888
        ).copy()
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(ratio)
        self.canvas.setPixmap(pixmap)
        self.canvas.setAccessibleName(f"Page {page.page + 1} of {self.title}")
        self.page_shown.emit(page.page)

    def _render_failed(self, error: UserError) -> None:
        self.canvas.setText(f"<p><b>{error.message}</b></p><p>{error.what_to_do}</p>")

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        if self.info is not None:
            self._render()

    def close_document(self) -> None:
        self.ctx.documents.submit(self.ctx.documents.service.close, self.doc_id)
