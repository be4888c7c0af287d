"""A document tab: toolbar, sidebar, page canvas, find bar and text view."""

from __future__ import annotations

import itertools
import time
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFont, QImage, QIntValidator, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from aspire_desktop.core.documents.fit import FIT_PAGE, FIT_WIDTH, PageView
from aspire_desktop.core.documents.pdf import (
    EXTERNAL_SCHEMES,
    DocumentInfo,
    PageLink,
    PasswordRequired,
    RenderResult,
    SearchHits,
)
from aspire_desktop.core.documents.worker import FirstPage, PageChoice
from aspire_desktop.core.errors import UserError
from aspire_desktop.core.userdata.bookmarks import BookmarkData, Quote
from aspire_desktop.ui.background import when_done
from aspire_desktop.ui.context import AppContext
from aspire_desktop.ui.images import to_image
from aspire_desktop.ui.viewer.canvas import PageCanvas
from aspire_desktop.ui.viewer.sidebar import Sidebar

_doc_ids = itertools.count(1)
SEARCH_CHUNK = 40
ZOOM_STEPS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0)
#: How a fit mode is kept in user data's zoom column.
_SAVED_MODES = {FIT_WIDTH: -1.0, FIT_PAGE: -2.0}
#: How long the document worker waits for the saved reading position before it renders
#: the first page of a new tab (user data answers in well under a millisecond once open).
POSITION_WAIT_S = 0.5
#: A document taking longer than this to open shows "Opening…" meanwhile.
SLOW_OPEN_MS = 400
#: How long opening a document yields to the document worker (see ``load``).
HANDOFF_S = 0.0005


def _saved_mode(zoom: float) -> str | float:
    """A zoom mode back from user data's zoom column."""
    for mode, saved in _SAVED_MODES.items():
        if zoom == saved:
            return mode
    return zoom if zoom > 0 else FIT_WIDTH


def _tool(name: str, text: str, slot: Any, shortcut: str = "") -> QToolButton:
    b = QToolButton()
    b.setText(text)
    b.setToolTip(f"{name} ({shortcut})" if shortcut else name)
    b.setAccessibleName(name)
    b.setAutoRaise(True)
    b.clicked.connect(slot)
    return b


class DocumentView(QWidget):
    """One open document. Everything PyMuPDF does happens in the document host."""

    page_shown = Signal(int)
    present_requested = Signal()
    opened = Signal()
    #: The document is open and its last reading position restored.
    ready = Signal()
    failed = Signal(str)
    search_finished = Signal(int)
    #: The tab size minus its pages' viewport, from the last document shown: where a new
    #: tab's pages will go, so its first page can be rendered while the tab is built.
    margins: tuple[int, int] = (260, 40)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        """An empty tab, ready for :meth:`load` (the window keeps one built ahead, so a
        document's tab shows at once)."""
        super().__init__(parent)
        self.ctx = ctx
        self.path = Path()
        self.title = ""
        self.document_key = ""
        self.doc_id = 0
        self.sha256: str | None = None
        self.info: DocumentInfo | None = None
        self.canvas: PageCanvas | None = None
        self._position: Future[tuple[int, float | None] | None] | None = None
        self._viewport: tuple[int, int, float] | None = None
        self._start_page: int | None = None
        self._first: Future[FirstPage | None] | None = None
        self._moved_by_user = False
        #: Open, with the reader's place restored (``ready`` has been emitted).
        self.is_ready = False
        self._search_serial = 0
        self._hits: list[tuple[int, int]] = []
        self._hit_index = -1
        self.setObjectName("documentView")

        # Message / password area (shown instead of the pages when needed).
        self.message = QLabel()
        self.message.setObjectName("viewerMessage")
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setAccessibleName("Document password")
        self.password_edit.setPlaceholderText("Password")
        self.password_edit.returnPressed.connect(self._submit_password)
        self.password_button = QPushButton("Open")
        self.password_button.setAccessibleName("Open with this password")
        self.password_button.clicked.connect(self._submit_password)
        self.password_box = QWidget()
        pw = QHBoxLayout(self.password_box)
        pw.addStretch(1)
        pw.addWidget(self.password_edit)
        pw.addWidget(self.password_button)
        pw.addStretch(1)
        self.password_box.hide()
        waiting = QWidget()
        wl = QVBoxLayout(waiting)
        wl.addStretch(1)
        wl.addWidget(self.message)
        wl.addWidget(self.password_box)
        wl.addStretch(2)

        self.stack = QStackedWidget()
        self.stack.addWidget(waiting)
        self.stack.addWidget(self._build_pages())
        # The (empty) pages show at once; "Opening…" only if the document is slow.
        self.stack.setCurrentWidget(self.splitter)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        # Enabled from the start (its buttons do nothing until the document is open): a
        # document that opens at once then costs no restyling of the whole toolbar.
        self.toolbar = self._build_toolbar()
        lay.addWidget(self.toolbar)
        self.note = QLabel()
        self.note.setObjectName("viewerNote")
        self.note.setWordWrap(True)
        self.note.hide()
        lay.addWidget(self.note)
        lay.addWidget(self.stack, 1)
        self.find_bar = self._build_find_bar()
        self.find_bar.hide()
        lay.addWidget(self.find_bar)
        self.sidebar: Sidebar | None = None
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(800)
        self._save_timer.timeout.connect(self._save_position_now)

    def load(
        self,
        path: Path,
        title: str,
        document_key: str,
        *,
        start_page: int | None = None,
        sha256: str | None = None,
        viewport: tuple[int, int, float] | None = None,
    ) -> None:
        """Open a document in this (empty) tab. ``viewport``: the size its pages will
        have (logical pixels) and the screen's pixel ratio, if known: then the page to
        show is rendered with the open, while the tab is being shown."""
        assert not self.document_key, "a tab holds one document"
        self.path = path
        self.title = title
        self.document_key = document_key
        self.doc_id = next(_doc_ids)
        self.sha256 = sha256
        self._viewport = viewport
        self._start_page = start_page
        # Where the reader was: known at once once user data is read, else asked for
        # (the worker waits a moment for it to choose the page to render).
        known, saved = self.ctx.known_position(document_key)
        self._position = (
            Future() if known else self.ctx.userdata(lambda u: u.position(document_key))
        )
        if known:
            self._position.set_result(saved)
        opening = self._request_open(None)
        # Let the worker thread take the interpreter lock and send the request now:
        # adding the tab next is one long Qt call that holds the lock for milliseconds.
        time.sleep(HANDOFF_S)
        self.setAccessibleName(f"Document: {title}")
        self.message.setText(f"Opening {title}…")
        QTimer.singleShot(SLOW_OPEN_MS, self, self._show_message)
        when_done(opening, self, self._opened, self._open_failed)

    def _show_message(self) -> None:
        """The message area (opening a slow document, an error, a password)."""
        if self.info is None:
            self.stack.setCurrentIndex(0)
            self.toolbar.setEnabled(False)

    def _present(self) -> None:
        if self.info is not None:
            self.present_requested.emit()

    def lay_out_ahead(self) -> None:
        """Lay this empty, hidden tab out now (it is not painted), and learn from it
        where a new tab's pages will go (``margins``)."""
        from PySide6.QtCore import QCoreApplication, QEvent

        self.show()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        self._learn_margins(self._blank_canvas)
        self.grab()  # painted once, off screen: its first paint on screen is then quick
        self.hide()

    def _learn_margins(self, canvas: PageCanvas) -> None:
        """Where this tab's pages are, for the next new tab (see ``margins``)."""
        viewport = canvas.viewport()
        DocumentView.margins = (self.width() - viewport.width(), self.height() - viewport.height())

    # Building ---------------------------------------------------------------------------
    def _build_pages(self) -> QWidget:
        """The sidebar's place and the pages: the text view and a blank canvas, which shows
        the document once it is open."""
        self.text_view = QTextBrowser()
        self.text_view.setObjectName("textView")
        self.text_view.setAccessibleName("Text of this page")
        self.text_view.setOpenLinks(False)
        font = QFont(self.text_view.font())
        font.setPointSize(13)
        self.text_view.setFont(font)
        # The canvas is made now, blank (making the first one costs tens of milliseconds).
        self._blank_canvas = PageCanvas(self.ctx.documents)
        self._blank_canvas.setObjectName("pageCanvas")
        self.pages = QStackedWidget()
        self.pages.addWidget(self._blank_canvas)
        self.pages.addWidget(self.text_view)
        # The sidebar's place is kept from the start, so the pages do not move when it
        # is filled (after the first page is painted).
        self.sidebar_slot = QWidget()
        self.sidebar_slot.setObjectName("sidebarSlot")
        QVBoxLayout(self.sidebar_slot).setContentsMargins(0, 0, 0, 0)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.sidebar_slot)
        self.splitter.addWidget(self.pages)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([220, 800])
        return self.splitter

    def _build_toolbar(self) -> QWidget:
        bar = QWidget()
        bar.setObjectName("viewerToolbar")
        h = QHBoxLayout(bar)
        h.setContentsMargins(6, 3, 6, 3)
        h.setSpacing(2)
        self.sidebar_button = _tool("Show sidebar", "☰", self.toggle_sidebar, "F9")
        self.sidebar_button.setCheckable(True)
        self.sidebar_button.setChecked(True)
        self.first_button = _tool("First page", "|◀", lambda: self.go_to(0), "Home")
        self.prev_button = _tool("Previous page", "◀", self.previous_page, "PgUp")
        self.page_edit = QLineEdit()
        self.page_edit.setObjectName("pageBox")
        self.page_edit.setAccessibleName("Page number")
        self.page_edit.setToolTip("Type a page number and press Enter (Ctrl+G)")
        self.page_edit.setFixedWidth(56)
        self.page_edit.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.page_edit.returnPressed.connect(self._page_entered)
        self.page_label = QLabel("of …")
        self.page_label.setObjectName("pageLabel")
        self.next_button = _tool("Next page", "▶", self.next_page, "PgDown")
        self.last_button = _tool("Last page", "▶|", self.last_page, "End")
        self.zoom_out_button = _tool("Zoom out", "−", lambda: self.zoom_by(1 / 1.25), "Ctrl+-")
        self.zoom_box = QComboBox()
        self.zoom_box.setObjectName("zoomBox")
        self.zoom_box.setAccessibleName("Zoom")
        self.zoom_box.addItem("Fit width", FIT_WIDTH)
        self.zoom_box.addItem("Fit page", FIT_PAGE)
        self.zoom_box.addItem("Actual size", "actual")
        for z in ZOOM_STEPS:
            self.zoom_box.addItem(f"{round(z * 100)}%", z)
        self.zoom_box.activated.connect(self._zoom_chosen)
        self.zoom_in_button = _tool("Zoom in", "+", lambda: self.zoom_by(1.25), "Ctrl++")
        self.rotate_left_button = _tool("Rotate left", "⟲", lambda: self.rotate(-90))
        self.rotate_right_button = _tool("Rotate right", "⟳", lambda: self.rotate(90))
        self.continuous_button = _tool("Continuous scroll", "⇕", self._toggle_continuous)
        self.continuous_button.setCheckable(True)
        self.continuous_button.setChecked(True)
        self.text_button = _tool("Text view of this page", "Aa", self.toggle_text_view, "Ctrl+T")
        self.text_button.setCheckable(True)
        self.find_button = _tool("Find in document", "Find", self.show_find, "Ctrl+F")
        self.print_button = _tool("Print", "Print", self.print_dialog, "Ctrl+P")
        self.present_button = _tool("Present", "Present", self._present, "F5")
        for w in (
            self.sidebar_button,
            self.first_button,
            self.prev_button,
            self.page_edit,
            self.page_label,
            self.next_button,
            self.last_button,
        ):
            h.addWidget(w)
        h.addStretch(1)
        for w in (
            self.zoom_out_button,
            self.zoom_box,
            self.zoom_in_button,
            self.rotate_left_button,
            self.rotate_right_button,
            self.continuous_button,
            self.text_button,
            self.find_button,
            self.print_button,
            self.present_button,
        ):
            h.addWidget(w)
        for keys, slot in (
            ("Ctrl+G", self.focus_page_box),
            ("Ctrl++", lambda: self.zoom_by(1.25)),
            ("Ctrl+=", lambda: self.zoom_by(1.25)),
            ("Ctrl+-", lambda: self.zoom_by(1 / 1.25)),
            ("Ctrl+0", lambda: self.set_zoom(FIT_WIDTH)),
            ("Ctrl+T", self.toggle_text_view),
            ("Ctrl+P", self.print_dialog),
            ("F9", self.toggle_sidebar),
            ("Ctrl+A", self._select_all),
            ("Ctrl+C", self._copy),
        ):
            sc = QShortcut(QKeySequence(keys), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)
        return bar

    def _build_find_bar(self) -> QWidget:
        bar = QWidget()
        bar.setObjectName("findBar")
        h = QHBoxLayout(bar)
        h.setContentsMargins(8, 4, 8, 4)
        self.find_edit = QLineEdit()
        self.find_edit.setObjectName("findEdit")
        self.find_edit.setAccessibleName("Find in document")
        self.find_edit.setPlaceholderText("Find in this document")
        self.find_edit.setClearButtonEnabled(True)
        self.find_edit.textChanged.connect(self._find_changed)
        self.find_edit.returnPressed.connect(self.find_next)
        self.find_prev_button = _tool("Previous match", "▲", self.find_previous, "Shift+Enter")
        self.find_next_button = _tool("Next match", "▼", self.find_next, "Enter")
        self.find_count = QLabel("")
        self.find_count.setObjectName("findCount")
        close = _tool("Close find bar", "✕", self.hide_find, "Esc")
        for w in (self.find_edit, self.find_prev_button, self.find_next_button, self.find_count):
            h.addWidget(w)
        h.addStretch(1)
        h.addWidget(close)
        for keys, slot in (("Escape", self.hide_find), ("Shift+Return", self.find_previous)):
            sc = QShortcut(QKeySequence(keys), self.find_edit)
            sc.setContext(Qt.ShortcutContext.WidgetShortcut)
            sc.activated.connect(slot)
        self._find_timer = QTimer(self)
        self._find_timer.setSingleShot(True)
        self._find_timer.setInterval(150)
        self._find_timer.timeout.connect(self._start_search)
        return bar

    # Opening ----------------------------------------------------------------------------
    def _request_open(self, password: str | None) -> Future[DocumentInfo]:
        if self._viewport is None:
            self._first = None
            return self.ctx.documents.open(self.doc_id, self.path, password)
        opening, self._first = self.ctx.documents.open_showing(
            self.doc_id, self.path, self._first_page_choice(self._viewport), to_image, password
        )
        return opening

    def _first_page_choice(self, viewport: tuple[int, int, float]) -> PageChoice:
        """How the tab will show the document: its page and zoom are rendered with the
        open (this runs on the document worker's thread)."""
        start_page, position = self._start_page, self._position
        assert position is not None

        def choose() -> PageView:
            page, mode = start_page, FIT_WIDTH
            if page is None:
                try:
                    saved = position.result(timeout=POSITION_WAIT_S)
                except Exception:  # no saved place: the first page, fitted
                    saved = None
                if saved is not None:
                    page = saved[0]
                    mode = FIT_WIDTH if saved[1] is None else _saved_mode(saved[1])
            return PageView(max(0, page or 0), mode, viewport[:2], viewport[2])

        return choose

    def _open(self, password: str | None = None) -> None:
        when_done(self._request_open(password), self, self._opened, self._open_failed)

    def _open_failed(self, error: UserError) -> None:
        self._show_message()
        if isinstance(error, PasswordRequired):
            self.message.setText(f"<b>{error.message}</b><br>{error.what_to_do}")
            self.message.setAccessibleName(error.message)
            self.password_box.show()
            self.password_edit.clear()
            self.password_edit.setFocus()
            return
        self.password_box.hide()
        self.message.setText(f"<b>{error.message}</b><br>{error.what_to_do}")
        self.message.setAccessibleName(f"{error.message} {error.what_to_do}")
        self.failed.emit(error.message)

    def _submit_password(self) -> None:
        password = self.password_edit.text()
        self.message.setText("Checking the password…")
        self._open(password)

    def _opened(self, info: DocumentInfo) -> None:
        """Show the pages at once; the sidebar is built after the first page is painted."""
        self.info = info
        self.password_box.hide()
        self.canvas = self._blank_canvas
        if self._first is not None:
            self.canvas.await_first(self._first)
        self.canvas.set_document(info)
        self.canvas.page_changed.connect(self._page_changed)
        self.canvas.page_painted.connect(self.page_shown)
        self.canvas.link_clicked.connect(self._link_clicked)
        self.canvas.scale_changed.connect(self._scale_changed)
        self.stack.setCurrentWidget(self.splitter)
        self.page_label.setText(f"of {info.page_count}")
        self.page_edit.setValidator(QIntValidator(1, info.page_count, self))
        self.toolbar.setEnabled(True)
        if info.repaired:
            self.ctx_note("This file was damaged; ASPire Desktop repaired it to show it.")
        self.canvas.page_painted.connect(self._build_sidebar)
        if self._start_page is not None or self._position is None:
            self._restore(None if self._start_page is None else (self._start_page, None))
        else:
            when_done(self._position, self, self._restore, lambda _e: self._restore(None))
        self.canvas.setFocus()
        self.opened.emit()

    def _build_sidebar(self, _page: int) -> None:
        """The outline and thumbnails, once the first page is on screen."""
        if self.sidebar is not None or self.info is None or self.canvas is None:
            return
        self.canvas.page_painted.disconnect(self._build_sidebar)
        self._learn_margins(self.canvas)
        if not self.info.sizes_exact:
            when_done(
                self.ctx.documents.call("page_sizes", self.doc_id, doc_id=self.doc_id),
                self,
                self._sizes_measured,
                lambda _e: None,
            )
        self.sidebar = Sidebar(self.ctx.documents, self.info)
        self.sidebar.page_requested.connect(self.go_to)
        self.sidebar_slot.layout().addWidget(self.sidebar)
        self.sidebar.show_page(self.page)
        sidebar = self.sidebar
        when_done(
            self.ctx.documents.call("outline", self.doc_id, doc_id=self.doc_id),
            self,
            sidebar.set_outline,
            lambda _e: sidebar.set_outline([]),
        )

    def _sizes_measured(self, sizes: tuple[tuple[float, float], ...]) -> None:
        assert self.info is not None and self.canvas is not None
        self.info = replace(self.info, page_sizes=sizes, sizes_exact=True)
        self.canvas.set_sizes(sizes)
        if self.sidebar is not None:
            self.sidebar.thumbnails.info = self.info

    def ctx_note(self, text: str) -> None:
        """A quiet line above the pages (e.g. the file had to be repaired)."""
        self.note.setText(text)
        self.note.show()

    def _restore(self, pos: tuple[int, float | None] | None) -> None:
        assert self.canvas is not None
        if self._moved_by_user:
            self.is_ready = True
            self.ready.emit()
            return
        if pos is not None and pos[1] is not None:
            zoom = pos[1]
            self.canvas.set_mode(_saved_mode(zoom))
            self._sync_zoom_box()
        self.go_to(pos[0] if pos else 0)
        self._page_changed(self.canvas.page)
        self._moved_by_user = False
        self.is_ready = True
        self.ready.emit()

    # Navigation -------------------------------------------------------------------------
    def go_to(self, page: int) -> None:
        self._moved_by_user = True
        if self.canvas is not None:
            self.canvas.go_to(page)  # emits page_changed when the page changes

    def next_page(self) -> None:
        if self.canvas is not None:
            self.go_to(self.canvas.page + 1)

    def previous_page(self) -> None:
        if self.canvas is not None:
            self.go_to(self.canvas.page - 1)

    def last_page(self) -> None:
        if self.info is not None:
            self.go_to(self.info.page_count - 1)

    @property
    def page(self) -> int:
        return self.canvas.page if self.canvas is not None else 0

    def focus_page_box(self) -> None:
        self.page_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.page_edit.selectAll()

    def _page_entered(self) -> None:
        text = self.page_edit.text().strip()
        if text.isdigit():
            self.go_to(int(text) - 1)
        if self.canvas is not None:
            self.canvas.setFocus()

    def _page_changed(self, page: int) -> None:
        if self.info is None:
            return
        self.page_edit.setText(str(page + 1))
        self.first_button.setEnabled(page > 0)
        self.prev_button.setEnabled(page > 0)
        self.next_button.setEnabled(page < self.info.page_count - 1)
        self.last_button.setEnabled(page < self.info.page_count - 1)
        if self.sidebar is not None and self.sidebar.isVisible():
            self.sidebar.show_page(page)
        if self.pages.currentWidget() is self.text_view:
            self._load_text()
        self._save_position()

    def _save_position(self) -> None:
        """Remember the place soon (not on every page turn: a write is a disk sync)."""
        self._save_timer.start()

    def _save_position_now(self) -> None:
        self._save_timer.stop()
        if self.info is None or self.canvas is None:
            return
        page, count = self.canvas.page, self.info.page_count
        mode = self.canvas.mode
        zoom = _SAVED_MODES[mode] if isinstance(mode, str) else float(mode)
        key = self.document_key
        self.ctx.note_position(key, page, zoom)
        self.ctx.userdata(lambda u: u.save_position(key, page, count, zoom))

    # Zoom, rotation, modes --------------------------------------------------------------
    def zoom_by(self, factor: float) -> None:
        if self.info is not None and self.pages.currentWidget() is self.text_view:
            self.text_font_size(2 if factor > 1 else -2)
            return
        if self.canvas is not None:
            self.canvas.zoom_by(factor)
            self._sync_zoom_box()
            self._save_position()

    def set_zoom(self, mode: str | float) -> None:
        if self.canvas is None:
            return
        if mode == "actual":
            self.canvas.actual_size()
        else:
            self.canvas.set_mode(mode)
        self._sync_zoom_box()
        self._save_position()

    def _zoom_chosen(self, index: int) -> None:
        data = self.zoom_box.itemData(index)
        if isinstance(data, float) and self.canvas is not None:
            data = data * self.canvas.logicalDpiX() / 72.0
        self.set_zoom(data)

    def _scale_changed(self, _scale: float) -> None:
        self._sync_zoom_box()

    def _sync_zoom_box(self) -> None:
        if self.canvas is None:
            return
        mode = self.canvas.mode
        if isinstance(mode, str):
            self.zoom_box.setCurrentIndex(self.zoom_box.findData(mode))
            return
        percent = round(mode * 72.0 / self.canvas.logicalDpiX() * 100)
        index = self.zoom_box.findText(f"{percent}%")
        if index < 0:
            self.zoom_box.setItemText(2, "Actual size")
            self.zoom_box.setEditable(False)
            self.zoom_box.setCurrentIndex(-1)
            self.zoom_box.setPlaceholderText(f"{percent}%")
        else:
            self.zoom_box.setCurrentIndex(index)

    def rotate(self, degrees: int) -> None:
        if self.canvas is not None:
            self.canvas.rotate(degrees)

    def _toggle_continuous(self) -> None:
        if self.canvas is not None:
            self.canvas.set_continuous(self.continuous_button.isChecked())

    def toggle_sidebar(self) -> None:
        if self.info is None:
            return
        visible = not self.sidebar_slot.isVisible()
        self.sidebar_slot.setVisible(visible)
        self.sidebar_button.setChecked(visible)

    # Text view --------------------------------------------------------------------------
    def toggle_text_view(self) -> None:
        if self.info is None:
            return
        showing = self.pages.currentWidget() is self.text_view
        if showing:
            self.pages.setCurrentWidget(self.canvas)
            self.canvas.setFocus() if self.canvas else None
        else:
            self.pages.setCurrentWidget(self.text_view)
            self._load_text()
            self.text_view.setFocus()
        self.text_button.setChecked(not showing)

    def _load_text(self) -> None:
        page = self.page

        def show(text: str) -> None:
            self.text_view.setPlainText(
                text.strip() or "This page has no text that can be read out (it may be a picture)."
            )
            self.text_view.setAccessibleDescription(f"Page {page + 1} of {self.title}")

        when_done(
            self.ctx.documents.call("text", self.doc_id, page, doc_id=self.doc_id),
            self,
            show,
            lambda e: self.text_view.setPlainText(e.message),
        )

    def text_font_size(self, delta: int) -> None:
        font = self.text_view.font()
        font.setPointSize(max(8, min(48, font.pointSize() + delta)))
        self.text_view.setFont(font)

    # Find -------------------------------------------------------------------------------
    def show_find(self) -> None:
        if self.info is None:
            return
        self.find_bar.show()
        self.find_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.find_edit.selectAll()

    def hide_find(self) -> None:
        self.find_bar.hide()
        self._search_serial += 1
        if self.canvas is not None:
            self.canvas.set_hits({})
            self.canvas.current_hit = None
            self.canvas.setFocus()

    def _find_changed(self, _text: str) -> None:
        self._find_timer.start()

    def _start_search(self) -> None:
        if self.info is None or self.canvas is None:
            return
        self._search_serial += 1
        serial = self._search_serial
        text = self.find_edit.text()
        query = text if text.strip() else ""  # spaces typed on purpose are kept
        self._hits = []
        self._hit_index = -1
        self.canvas.set_hits({})
        self.canvas.current_hit = None
        if not query:
            self.find_count.setText("")
            return
        self.find_count.setText("Searching…")
        hits: dict[int, list[tuple[float, float, float, float]]] = {}
        self._search_chunk(serial, query, 0, hits)

    def _search_chunk(
        self, serial: int, query: str, first: int, hits: dict[int, list[Any]]
    ) -> None:
        assert self.info is not None
        last = min(first + SEARCH_CHUNK - 1, self.info.page_count - 1)

        def done(found: SearchHits) -> None:
            if serial != self._search_serial or self.canvas is None or self.info is None:
                return  # a newer search replaced this one
            hits.update(found.hits)
            self.canvas.set_hits(hits)
            self._hits = [(p, i) for p in sorted(hits) for i in range(len(hits[p]))]
            if self._hit_index < 0 and self._hits:
                self._goto_hit(self._first_hit_from(self.page))
            if last < self.info.page_count - 1:
                self.find_count.setText(f"Searching… {len(self._hits)} found")
                self._search_chunk(serial, query, last + 1, hits)
            else:
                self._update_count()
                self.search_finished.emit(len(self._hits))

        when_done(
            self.ctx.documents.call("search", self.doc_id, query, first, last, doc_id=self.doc_id),
            self,
            done,
            lambda _e: None,
        )

    def _first_hit_from(self, page: int) -> int:
        for n, (p, _i) in enumerate(self._hits):
            if p >= page:
                return n
        return 0

    def _update_count(self) -> None:
        if not self._hits:
            self.find_count.setText("Not found")
        else:
            self.find_count.setText(f"{self._hit_index + 1} of {len(self._hits)}")

    def _goto_hit(self, n: int) -> None:
        if not self._hits or self.canvas is None:
            return
        self._hit_index = n % len(self._hits)
        page, i = self._hits[self._hit_index]
        self.canvas.show_hit(page, i)
        self._update_count()

    def find_next(self) -> None:
        self._goto_hit(self._hit_index + 1)

    def find_previous(self) -> None:
        self._goto_hit(self._hit_index - 1)

    # Selection -------------------------------------------------------------------------
    def _select_all(self) -> None:
        if self.canvas is not None:
            self.canvas.select_all_on_page()

    def _copy(self) -> None:
        if self.canvas is not None:
            self.canvas.copy_selection()

    # Links ------------------------------------------------------------------------------
    def _link_clicked(self, link: PageLink) -> None:
        if link.page >= 0 and not link.uri:
            self.go_to(link.page)
            return
        url = QUrl(link.uri)
        if url.scheme().lower() not in EXTERNAL_SCHEMES:
            box = QMessageBox(
                QMessageBox.Icon.Information,
                "Link not opened",
                "This link was not opened: ASPire Desktop only opens web and email links.",
                QMessageBox.StandardButton.Ok,
                self,
            )
            box.setObjectName("linkRefused")
            box.setInformativeText(link.uri[:300])
            box.open()
            self.last_link_box = box
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Open link?",
            "Open this link in your web browser (or email program)?",
            QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("linkConfirm")
        box.setInformativeText(link.uri[:300])
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(
            lambda result: (
                QDesktopServices.openUrl(url) if result == QMessageBox.StandardButton.Open else None
            )
        )
        box.open()
        self.last_link_box = box

    # Printing ---------------------------------------------------------------------------
    def print_dialog(self) -> None:
        if self.info is None:
            return
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setFromTo(1, self.info.page_count)
        dialog = QPrintDialog(printer, self)
        dialog.setOption(QPrintDialog.PrintDialogOption.PrintPageRange, True)
        dialog.setMinMax(1, self.info.page_count)
        if dialog.exec() == QPrintDialog.DialogCode.Accepted:
            first, last = printer.fromPage(), printer.toPage()
            if first == 0:
                first, last = 1, self.info.page_count
            self.print_pages(printer, first - 1, last - 1)

    printed = Signal(int)

    def print_pages(self, printer: Any, first: int, last: int) -> None:
        """Render pages first..last (0-based) at the printer's resolution and print them."""
        from PySide6.QtGui import QPainter

        assert self.info is not None
        dpi = min(printer.resolution(), 300)
        painter = QPainter()
        if not painter.begin(printer):
            QMessageBox.warning(self, "Print", "The printer could not be started.")
            return
        pages = list(range(max(0, first), min(last, self.info.page_count - 1) + 1))

        def next_page(i: int) -> None:
            if i >= len(pages):
                painter.end()
                self.printed.emit(len(pages))
                return
            n = pages[i]
            future = self.ctx.documents.render(self.doc_id, n, dpi / 72.0)

            def draw(done: tuple[RenderResult, bytes]) -> None:
                r, samples = done
                image = QImage(samples, r.width, r.height, r.stride, QImage.Format.Format_RGB888)
                if i > 0:
                    printer.newPage()
                area = painter.viewport()
                area.setSize(image.size().scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio))
                painter.drawImage(area, image)  # scaled by the printer, not copied at its dpi
                next_page(i + 1)

            when_done(future, self, draw, lambda e: (painter.end(), self.failed.emit(e.message)))

        next_page(0)

    # Bookmarks ------------------------------------------------------------------------
    def bookmark_data(self) -> BookmarkData | None:
        """A bookmark of the selected passage, or else of the page in view."""
        if self.info is None or self.canvas is None or self.document_key.startswith("file:"):
            return None
        selected = self.canvas.selection_quote()
        common = {
            "resource_id": self.document_key,
            "page_count": self.info.page_count,
            "document_sha256": self.sha256,
            "document_title": self.title,
        }
        if selected is not None and selected[1].exact:
            page, quote = selected
            return BookmarkData(kind="passage", page=page, quote=quote, **common)  # type: ignore[arg-type]
        return BookmarkData(kind="page", page=self.page, **common)  # type: ignore[arg-type]

    def find_again(self, page: int, text: str, note: str = "") -> None:
        """Go to ``page`` and mark ``text`` there (a bookmark's passage)."""
        self.go_to(page)
        if note:
            self.ctx_note(note)
        words = " ".join(text.split())
        if words:
            self.show_find()
            self.find_edit.setText(words[:200])

    def locate(self, quote: Quote, page: int | None) -> None:
        """Find a passage again in this (changed) document, then show it."""
        from aspire_desktop.core.userdata.anchor import reanchor

        def found(pages: list[str]) -> None:
            anchor = reanchor(quote, pages, page)
            self.find_again(anchor.page, anchor.text, anchor.moved_message)

        when_done(
            self.ctx.documents.call("texts", self.doc_id, doc_id=self.doc_id),
            self,
            found,
            lambda _e: self.go_to(page or 0),
        )

    # Closing ----------------------------------------------------------------------------
    def close_document(self) -> None:
        if self._save_timer.isActive():
            self._save_position_now()
        if self.canvas is not None:
            self.canvas.forget()
        self.ctx.documents.close(self.doc_id)
