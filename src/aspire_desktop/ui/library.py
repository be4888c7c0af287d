"""The Library tab: categories | filter and resources | details, plus notices."""

from __future__ import annotations

import logging
from datetime import date

from PySide6.QtCore import QEvent, QItemSelection, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from aspire_desktop.core.errors import UserError
from aspire_desktop.ui.background import when_done
from aspire_desktop.ui.context import AppContext
from aspire_desktop.ui.detail import DetailPane
from aspire_desktop.ui.models import ALL_RESOURCES, ID_ROLE, CategoryTreeModel, ResourceListModel

log = logging.getLogger(__name__)


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


class Library(QWidget):
    """Browse the catalogue. Asks the window to open documents; keeps no Qt state."""

    open_requested = Signal(str)
    status_message = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("library")
        self.requested: set[str] = set()
        reader = ctx.content.reader

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
        self.detail.open_requested.connect(self.open_requested)
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

        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 4)
        self.notices = QVBoxLayout()
        lay.addLayout(self.notices)
        lay.addWidget(self.splitter, 1)

        self.category_view.selectionModel().selectionChanged.connect(self._category_selected)
        self.resource_view.selectionModel().currentRowChanged.connect(self._resource_selected)
        self.setTabOrder(self.category_view, self.filter_edit)
        self.setTabOrder(self.filter_edit, self.resource_view)
        self.setTabOrder(self.resource_view, self.detail.open_button)
        self.setTabOrder(self.detail.open_button, self.detail.request_button)

    # Content -------------------------------------------------------------------------
    def reload_content(self) -> None:
        current = self.resources.category_id
        self.categories.reload(self.ctx.content.reader)
        self.category_view.expandAll()
        self.resources.set_reader(self.ctx.content.reader)
        self.select_category(current)

    def set_requested(self, requested: set[str]) -> None:
        self.requested = requested
        self.refresh_detail()

    # Browsing ------------------------------------------------------------------------
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
        if available:
            when_done(
                self.ctx.userdata(lambda u: u.progress(resource_id)),
                self,
                lambda p: self.detail.show_progress(resource_id, p),
                lambda _e: None,
            )

    def show_and_select(self, resource_id: str) -> None:
        """Bring a resource into view in the list (via All resources if need be)."""
        if self.resources.row_of(resource_id) < 0:
            self.filter_edit.clear()
            self.select_category(ALL_RESOURCES)
        row = self.resources.row_of(resource_id)
        if row >= 0:
            index = self.resources.index(row, 0)
            self.resource_view.setCurrentIndex(index)
            self.resource_view.scrollTo(index)

    def refresh_detail(self) -> None:
        if self.detail.resource_id:
            self.show_resource(self.detail.resource_id)

    def _resource_activated(self, index: QModelIndex) -> None:
        self.open_requested.emit(index.data(ID_ROLE))

    def _download_requested(self, resource_id: str, on: bool) -> None:
        if on:
            self.requested.add(resource_id)
            future = self.ctx.userdata(lambda u: u.request_download(resource_id))
            self.status_message.emit("The document will be fetched at the next sync.")
        else:
            self.requested.discard(resource_id)
            future = self.ctx.userdata(lambda u: u.cancel_download(resource_id))
            self.status_message.emit("Request cancelled.")
        when_done(future, self, lambda _r: self.refresh_detail())

    def focus_filter(self) -> None:
        self.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_edit.selectAll()

    def focus_details(self) -> None:
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

    def add_notice(self, error: UserError) -> NoticeBar:
        log.warning("notice: %s", error)
        bar = NoticeBar(error)
        self.notices.addWidget(bar)
        return bar
