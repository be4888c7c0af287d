"""The main window: the library (categories, resources, details) and document tabs."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QItemSelection,
    QModelIndex,
    QObject,
    QSettings,
    Qt,
    QTimer,
)
from PySide6.QtGui import QAction, QCloseEvent, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from aspire_desktop import APP_NAME
from aspire_desktop.core import network
from aspire_desktop.core.errors import DocumentNotCachedError, UserError
from aspire_desktop.core.store.content import verify_version
from aspire_desktop.core.userdata.store import UserData
from aspire_desktop.ui.background import when_done
from aspire_desktop.ui.context import AppContext
from aspire_desktop.ui.detail import DetailPane

if TYPE_CHECKING:
    from aspire_desktop.ui.viewer import DocumentView
from aspire_desktop.ui.icons import app_icon
from aspire_desktop.ui.messages import show_error
from aspire_desktop.ui.models import ALL_RESOURCES, ID_ROLE, CategoryTreeModel, ResourceListModel

log = logging.getLogger(__name__)

USER_GUIDE_ID = "aspire-desktop-user-guide"


class NoticeBar(QFrame):
    """A calm, dismissable line at the top of the library for things the user should know."""

    def __init__(self, error: UserError, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noticeBar")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(12, 8, 8, 8)
        self.label = QLabel(f"<b>{error.message}</b> {error.what_to_do}")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.label, 1)
        close = QPushButton("Dismiss")
        close.setAccessibleName("Dismiss this notice")
        close.clicked.connect(self.deleteLater)
        lay.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)


def content_status(ctx: AppContext, today: date | None = None) -> str:
    info = ctx.content.info
    age = info.age_days(today)
    issued = info.issued_date()
    when = issued.strftime("%-d %b %Y") if issued else "unknown date"
    if age is None:
        age_text = ""
    elif age <= 0:
        age_text = " (today)"
    elif age == 1:
        age_text = " (1 day old)"
    else:
        age_text = f" ({age} days old)"
    where = "installed" if ctx.content.is_baseline else "synced"
    return f"Content version {info.version}, {where}, issued {when}{age_text}"


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext, *, build: bool = True) -> None:
        """The window; with ``build=False`` only its frame, so it can be shown at once
        and :meth:`build` fills it after the first paint (the start-up path)."""
        super().__init__()
        self.ctx = ctx
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(app_icon())
        self.setObjectName("mainWindow")
        self.requested: set[str] = set()
        self._userdata_ready = False
        self.built = False

        self.content_label = QLabel(content_status(ctx))
        self.content_label.setObjectName("contentStatus")
        self.online_label = QLabel("Checking network…")
        self.online_label.setObjectName("onlineStatus")
        self.statusBar().addPermanentWidget(self.content_label)
        self.statusBar().addPermanentWidget(self.online_label)
        self._state = QSettings(str(ctx.paths.ui_state_file), QSettings.Format.IniFormat)
        self._restore_geometry()
        if build:
            self.build()
        else:
            frame = QWidget()
            frame.setObjectName("library")
            self.setCentralWidget(frame)

    def build(self) -> None:
        """Create the library, the tabs and the menus, and show the first category."""
        if self.built:
            return
        self.built = True
        ctx = self.ctx
        reader = ctx.content.reader

        # Library: categories | filter + resources | details ------------------------------
        self.categories = CategoryTreeModel(reader, self)
        self.category_view = QTreeView()
        self.category_view.setObjectName("categoryView")
        self.category_view.setAccessibleName("Categories")
        self.category_view.setHeaderHidden(True)
        self.category_view.setModel(self.categories)
        self.category_view.setUniformRowHeights(True)
        self.category_view.expandAll()

        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("filterEdit")
        self.filter_edit.setAccessibleName("Filter resources")
        self.filter_edit.setPlaceholderText("Filter this list (Ctrl+F)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._filter_changed)
        self.filter_edit.installEventFilter(self)

        self.resources = ResourceListModel(reader, self)
        self.resource_view = QTableView()
        self.resource_view.setObjectName("resourceView")
        self.resource_view.setAccessibleName("Resources")
        self.resource_view.setShowGrid(False)
        self.resource_view.setWordWrap(False)
        self.resource_view.setAlternatingRowColors(True)
        self.resource_view.setTabKeyNavigation(False)
        self.resource_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.resource_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.resource_view.verticalHeader().hide()
        row_height = self.fontMetrics().height() + 10
        self.resource_view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.resource_view.verticalHeader().setDefaultSectionSize(row_height)
        self.resource_view.setModel(self.resources)
        # Fixed widths from the longest labels: sizing to contents reads every row.
        header = self.resource_view.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        metrics = self.fontMetrics()
        for column, longest in ((1, "Working group page"), (2, "Not on this computer")):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, metrics.horizontalAdvance(longest) + 28)
        self.resource_view.activated.connect(self._resource_activated)
        self.count_label = QLabel()
        self.count_label.setObjectName("countLabel")

        middle = QWidget()
        mid_lay = QVBoxLayout(middle)
        mid_lay.setContentsMargins(0, 0, 0, 0)
        mid_lay.setSpacing(6)
        mid_lay.addWidget(self.filter_edit)
        mid_lay.addWidget(self.resource_view, 1)
        mid_lay.addWidget(self.count_label)

        self.detail = DetailPane()
        self.detail.open_requested.connect(self.open_resource)
        self.detail.download_requested.connect(self._download_requested)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("librarySplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.category_view)
        self.splitter.addWidget(middle)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 5)
        self.splitter.setStretchFactor(2, 4)
        self.splitter.setSizes([260, 560, 440])

        library = QWidget()
        library.setObjectName("library")
        lib_lay = QVBoxLayout(library)
        lib_lay.setContentsMargins(8, 8, 8, 4)
        self.notices = QVBoxLayout()
        lib_lay.addLayout(self.notices)
        lib_lay.addWidget(self.splitter, 1)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("tabs")
        self.tabs.setDocumentMode(True)
        self.tabs.setTabsClosable(True)
        self.tabs.setMovable(True)
        self.tabs.tabCloseRequested.connect(self.close_tab)
        self.tabs.addTab(library, "Library")
        self.tabs.tabBar().setTabButton(0, self.tabs.tabBar().ButtonPosition.RightSide, None)
        self.tabs.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.tabs.tabBar().setAccessibleName("Open documents")
        self.setCentralWidget(self.tabs)

        self._build_menus()
        self.category_view.selectionModel().selectionChanged.connect(self._category_selected)
        self.resource_view.selectionModel().currentRowChanged.connect(self._resource_selected)
        self.setTabOrder(self.category_view, self.filter_edit)
        self.setTabOrder(self.filter_edit, self.resource_view)
        self.setTabOrder(self.resource_view, self.detail.open_button)
        self.setTabOrder(self.detail.open_button, self.detail.request_button)

        splitter = self._state.value("window/splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)
        self.select_category(str(self._state.value("library/category", "")) or None)
        if ctx.content.notice is not None:
            self.add_notice(ctx.content.notice)

    # Menus ---------------------------------------------------------------------------
    def _action(self, menu: object, text: str, slot: object, *keys: object) -> QAction:
        """A menu action; ``keys`` are standard keys or key strings, all of them bound
        (a platform's standard binding may be missing or differ, e.g. Close = Ctrl+F4)."""
        action = QAction(text, self)
        sequences: list[QKeySequence] = []
        for key in keys:
            if isinstance(key, QKeySequence.StandardKey):
                sequences.extend(QKeySequence.keyBindings(key))
            else:
                sequences.append(QKeySequence(key))  # type: ignore[call-overload]
        unique = list(dict.fromkeys(s for s in sequences if not s.isEmpty()))
        action.setShortcuts(unique)
        action.triggered.connect(slot)  # type: ignore[arg-type]
        menu.addAction(action)  # type: ignore[attr-defined]
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._action(
            file_menu,
            "&Open PDF file…",
            self.open_file_dialog,
            "Ctrl+O",
            QKeySequence.StandardKey.Open,
        )
        self.close_action = self._action(
            file_menu,
            "&Close tab",
            self.close_current_tab,
            "Ctrl+W",
            QKeySequence.StandardKey.Close,
        )
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, "Ctrl+Q", QKeySequence.StandardKey.Quit)

        edit_menu = bar.addMenu("&Edit")
        self._action(edit_menu, "&Find / filter", self.focus_filter, "Ctrl+F")

        view_menu = bar.addMenu("&View")
        self._action(view_menu, "&Categories", self.category_view.setFocus, "Ctrl+1")
        self._action(view_menu, "&Resources", self.resource_view.setFocus, "Ctrl+2")
        self._action(view_menu, "&Details", self.focus_details, "Ctrl+3")
        view_menu.addSeparator()
        self._action(view_menu, "&Next tab", lambda: self._step_tab(1), "Ctrl+Tab", "Ctrl+PgDown")
        self._action(
            view_menu, "&Previous tab", lambda: self._step_tab(-1), "Ctrl+Shift+Tab", "Ctrl+PgUp"
        )
        self.fullscreen_action = self._action(
            view_menu,
            "&Full screen",
            self.toggle_full_screen,
            "F11",
            QKeySequence.StandardKey.FullScreen,
        )
        self.fullscreen_action.setCheckable(True)

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&User guide", self.open_user_guide, "F1")
        help_menu.addSeparator()
        self._action(help_menu, f"&About {APP_NAME}", self.show_about)

    # Start-up work after the window is painted -------------------------------------------
    def start_background(self) -> None:
        """Open user data and check the content's integrity off the UI thread."""
        when_done(self.ctx.open_userdata(), self, self._userdata_opened, self._userdata_failed)
        content = self.ctx.content
        when_done(
            self.ctx.background(lambda: verify_version(content, self.ctx.store)),
            self,
            self._content_verified,
        )
        self._check_network()
        self._network_timer = QTimer(self)
        self._network_timer.setInterval(30_000)
        self._network_timer.timeout.connect(self._check_network)
        self._network_timer.start()

    def _userdata_opened(self, result: tuple[UserData, UserError | None]) -> None:
        _userdata, notice = result
        if notice is not None:
            self.add_notice(notice)
        when_done(self.ctx.userdata(lambda u: u.download_requests()), self, self._requests_loaded)

    def _userdata_failed(self, error: UserError) -> None:
        self.add_notice(error)

    def _requests_loaded(self, requested: set[str]) -> None:
        self.requested = requested
        self._userdata_ready = True
        self._refresh_detail()

    def _content_verified(self, problems: list[str]) -> None:
        if not problems:
            return
        log.error("content integrity problems: %s", problems)
        if self.ctx.content.is_baseline:
            self.add_notice(
                UserError(
                    "Some of the content installed with ASPire Desktop is damaged.",
                    "Run 'aspire-desktop doctor' for details; reinstalling repairs it.",
                )
            )
            return
        self.ctx.content = self.ctx.store.fall_back(self.ctx.content)
        self.reload_content()
        if self.ctx.content.notice is not None:
            self.add_notice(self.ctx.content.notice)

    def _check_network(self) -> None:
        when_done(self.ctx.background(network.has_default_route), self, self._network_state)

    def _network_state(self, online: bool | None) -> None:
        if online is None:
            self.online_label.setText("")
        else:
            self.online_label.setText(
                "Online" if online else "Offline: using the copy on this computer"
            )

    # Library -------------------------------------------------------------------------
    def reload_content(self) -> None:
        current = self.resources.category_id
        self.categories.reload(self.ctx.content.reader)
        self.category_view.expandAll()
        self.resources.set_reader(self.ctx.content.reader)
        self.content_label.setText(content_status(self.ctx))
        self.select_category(current)

    def select_category(self, category_id: str | None) -> None:
        index = self.categories.index_of(category_id) if category_id is not None else QModelIndex()
        if not index.isValid():
            index = self.categories.index_of(self.categories.first_category())
        self.category_view.setCurrentIndex(index)

    def _category_selected(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        indexes = selected.indexes()
        if not indexes:
            return
        cid = indexes[0].data(ID_ROLE)
        self.resources.set_query(cid, self.filter_edit.text())
        self._update_count()
        name = self.categories.name(cid)
        if cid == ALL_RESOURCES:
            intro = "Every resource in the library, in alphabetical order."
        else:
            intro = self.ctx.content.reader.category_introduction(cid)
        self.detail.show_category(name, intro, self.categories.count(cid))

    def _filter_changed(self, text: str) -> None:
        current = self.detail.resource_id
        self.resources.set_query(self.resources.category_id, text)
        self._update_count()
        row = self.resources.row_of(current) if current else -1
        if row >= 0:
            self.resource_view.setCurrentIndex(self.resources.index(row, 0))

    def _update_count(self) -> None:
        n = self.resources.rowCount()
        cid = self.resources.category_id
        total = self.categories.count(cid) if cid is not None else n
        noun = "resource" if total == 1 else "resources"
        if self.filter_edit.text().strip():
            self.count_label.setText(f"Showing {n} of {total} {noun}")
        else:
            self.count_label.setText(f"{total} {noun}")

    def _resource_selected(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.show_resource(current.data(ID_ROLE))

    def show_resource(self, resource_id: str) -> None:
        detail = self.ctx.content.reader.detail(resource_id)
        if detail is None:
            self.detail.show_empty()
            return
        f = detail.main_file
        available = bool(
            f is not None and f.cached and f.sha256 and self.ctx.file_path(f.sha256, f.media_type)
        )
        self.detail.show_resource(
            detail, file_available=available, requested=resource_id in self.requested
        )

    def _refresh_detail(self) -> None:
        if self.detail.resource_id:
            self.show_resource(self.detail.resource_id)

    def _resource_activated(self, index: QModelIndex) -> None:
        self.open_resource(index.data(ID_ROLE))

    def _download_requested(self, resource_id: str, on: bool) -> None:
        if on:
            self.requested.add(resource_id)
            future = self.ctx.userdata(lambda u: u.request_download(resource_id))
            self.statusBar().showMessage("The document will be fetched at the next sync.", 5000)
        else:
            self.requested.discard(resource_id)
            future = self.ctx.userdata(lambda u: u.cancel_download(resource_id))
            self.statusBar().showMessage("Request cancelled.", 5000)
        when_done(future, self, lambda _r: self._refresh_detail())

    def focus_filter(self) -> None:
        """Ctrl+F: find in the document on a document tab, else filter the library."""
        view = self.tabs.currentWidget()
        if self.tabs.currentIndex() > 0 and hasattr(view, "show_find"):
            view.show_find()
            return
        self.tabs.setCurrentIndex(0)
        self.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_edit.selectAll()

    def focus_details(self) -> None:
        self.tabs.setCurrentIndex(0)
        for button in (self.detail.open_button, self.detail.request_button):
            if button.isVisible():
                button.setFocus(Qt.FocusReason.ShortcutFocusReason)
                return

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        """Escape in a non-empty filter box clears it."""
        if (
            obj is self.filter_edit
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
            and self.filter_edit.text()
        ):
            self.filter_edit.clear()
            return True
        return super().eventFilter(obj, event)

    # Documents -----------------------------------------------------------------------
    def open_resource(self, resource_id: str, page: int | None = None) -> DocumentView | None:
        detail = self.ctx.content.reader.detail(resource_id)
        if detail is None:
            return None
        f = detail.main_file
        path = (
            self.ctx.file_path(f.sha256, f.media_type)
            if f is not None and f.cached and f.sha256
            else None
        )
        if f is None:
            self.statusBar().showMessage("This resource has no document to open.", 5000)
            return None
        if path is None:
            show_error(
                self,
                DocumentNotCachedError(
                    f"“{detail.title}” is not on this computer yet.",
                    "Choose “Get it at next sync” in the details, and it will be fetched "
                    "when you are next online.",
                ),
            )
            return None
        return self.open_path(path, detail.title, resource_id, page)

    def open_path(
        self, path: Path, title: str, document_key: str, page: int | None = None
    ) -> DocumentView:
        from aspire_desktop.ui.viewer import DocumentView

        for i in range(1, self.tabs.count()):
            view = self.tabs.widget(i)
            if isinstance(view, DocumentView) and view.document_key == document_key:
                self.tabs.setCurrentIndex(i)
                if page is not None:
                    view.go_to(page)
                return view
        view = DocumentView(self.ctx, path, title, document_key, start_page=page)
        short = title if len(title) <= 32 else title[:30] + "…"
        index = self.tabs.addTab(view, short)
        self.tabs.setTabToolTip(index, title)
        self.tabs.setCurrentIndex(index)
        view.setFocus()
        return view

    def open_file_dialog(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open a PDF file", "", "PDF files (*.pdf)")
        if name:
            path = Path(name)
            self.open_path(path, path.stem, f"file:{path.resolve()}")

    def open_user_guide(self) -> None:
        self.open_resource(USER_GUIDE_ID)

    def close_tab(self, index: int) -> None:
        if index <= 0:
            return
        view = self.tabs.widget(index)
        self.tabs.removeTab(index)
        if hasattr(view, "close_document"):
            view.close_document()
        view.deleteLater()

    def close_current_tab(self) -> None:
        self.close_tab(self.tabs.currentIndex())

    def _step_tab(self, step: int) -> None:
        self.tabs.setCurrentIndex((self.tabs.currentIndex() + step) % self.tabs.count())

    def toggle_full_screen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()
        self.fullscreen_action.setChecked(self.isFullScreen())

    # Notices, About --------------------------------------------------------------------
    def add_notice(self, error: UserError) -> NoticeBar:
        log.warning("notice: %s", error)
        bar = NoticeBar(error)
        self.notices.addWidget(bar)
        return bar

    def show_about(self) -> None:
        from aspire_desktop.ui.about import AboutDialog

        AboutDialog(self.ctx, self).open()

    # State -----------------------------------------------------------------------------
    def _restore_geometry(self) -> None:
        geometry = self._state.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)

    def save_state(self) -> None:
        self._state.setValue("window/geometry", self.saveGeometry())
        if self.built:
            self._state.setValue("window/splitter", self.splitter.saveState())
            self._state.setValue("library/category", self.resources.category_id or "")
        self._state.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        super().closeEvent(event)
