"""The viewer's sidebar: the document outline and page thumbnails."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import QListView, QTabWidget, QTreeView, QWidget

from aspire_desktop.core.documents.pdf import DocumentInfo, OutlineEntry, RenderResult
from aspire_desktop.core.documents.worker import BACKGROUND, DocumentWorker
from aspire_desktop.ui.background import when_done
from aspire_desktop.ui.images import to_image

PAGE_ROLE = Qt.ItemDataRole.UserRole + 1
_Index = QModelIndex | QPersistentModelIndex


class OutlineModel(QAbstractItemModel):
    """A flat list of (level, title, page) entries shown as a tree. Built once, O(n):
    outlines with tens of thousands of entries are fine."""

    def __init__(self, entries: list[OutlineEntry], parent: Any = None) -> None:
        super().__init__(parent)
        self.entries = entries
        self._parent: list[int] = []  # index of each entry's parent, -1 for top level
        self._children: dict[int, list[int]] = {-1: []}
        stack: list[int] = []
        for i, e in enumerate(entries):
            while stack and entries[stack[-1]].level >= e.level:
                stack.pop()
            parent_i = stack[-1] if stack else -1
            self._parent.append(parent_i)
            self._children.setdefault(parent_i, []).append(i)
            stack.append(i)
        self._row = {c: r for kids in self._children.values() for r, c in enumerate(kids)}

    def _item(self, index: _Index) -> int:
        return index.internalId() if index.isValid() else -1

    def index(self, row: int, column: int, parent: _Index = QModelIndex()) -> QModelIndex:
        kids = self._children.get(self._item(parent), [])
        if column != 0 or not 0 <= row < len(kids):
            return QModelIndex()
        return self.createIndex(row, 0, kids[row])

    def parent(self, index: _Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        if not index.isValid():
            return QModelIndex()
        p = self._parent[index.internalId()]
        return QModelIndex() if p < 0 else self.createIndex(self._row[p], 0, p)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        if parent.column() > 0:
            return 0
        return len(self._children.get(self._item(parent), []))

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 1

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        e = self.entries[index.internalId()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return e.title
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{e.title}, page {e.page + 1}" if e.page >= 0 else e.title
        if role == PAGE_ROLE:
            return e.page
        return None


class ThumbnailModel(QAbstractListModel):
    """Page thumbnails, rendered on demand (low priority) as they scroll into view."""

    WIDTH = 110

    def __init__(self, worker: DocumentWorker, info: DocumentInfo, parent: Any = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.info = info
        self._images: dict[int, QPixmap] = {}
        self._asked: set[int] = set()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else self.info.page_count

    def _size(self, page: int) -> QSize:
        w, h = self.info.page_sizes[page]
        return QSize(self.WIDTH, max(20, round(self.WIDTH * h / w)))

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        page = index.row()
        if role == Qt.ItemDataRole.DisplayRole:
            return str(page + 1)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"Page {page + 1}"
        if role == PAGE_ROLE:
            return page
        if role == Qt.ItemDataRole.DecorationRole:
            image = self._images.get(page)
            if image is None:
                self._ask(page)
                blank = QPixmap(self._size(page))
                blank.fill(QColor("white"))
                return blank
            return image
        if role == Qt.ItemDataRole.SizeHintRole:
            return self._size(page) + QSize(16, 28)
        return None

    def _ask(self, page: int) -> None:
        if page in self._asked:
            return
        self._asked.add(page)
        w, _ = self.info.page_sizes[page]
        zoom = self.WIDTH / w

        def done(result: tuple[RenderResult, QImage]) -> None:
            self._images[page] = QPixmap.fromImage(result[1])
            index = self.index(page, 0)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

        when_done(
            self.worker.render(self.info.doc_id, page, zoom, priority=BACKGROUND, convert=to_image),
            self,
            done,
            lambda _e: None,
        )


class Sidebar(QTabWidget):
    page_requested = Signal(int)

    def __init__(self, worker: DocumentWorker, info: DocumentInfo, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("viewerSidebar")
        self.setDocumentMode(True)
        self.outline_view = QTreeView()
        self.outline_view.setObjectName("outlineView")
        self.outline_view.setAccessibleName("Document outline")
        self.outline_view.setHeaderHidden(True)
        self.outline_view.setUniformRowHeights(True)
        self.outline_view.activated.connect(self._activated)
        self.outline_view.clicked.connect(self._activated)
        self.outline_model: OutlineModel | None = None
        self.thumbnails = ThumbnailModel(worker, info, self)
        self.thumb_view = QListView()
        self.thumb_view.setObjectName("thumbnailView")
        self.thumb_view.setAccessibleName("Page thumbnails")
        self.thumb_view.setModel(self.thumbnails)
        # Laying out hundreds of thumbnails is quick when they are all one size.
        self.thumb_view.setUniformItemSizes(len(set(info.page_sizes)) == 1)
        self.thumb_view.setLayoutMode(QListView.LayoutMode.Batched)
        self.thumb_view.setIconSize(QSize(ThumbnailModel.WIDTH, ThumbnailModel.WIDTH * 2))
        self.thumb_view.setViewMode(QListView.ViewMode.IconMode)
        self.thumb_view.setFlow(QListView.Flow.TopToBottom)
        self.thumb_view.setWrapping(False)
        self.thumb_view.setResizeMode(QListView.ResizeMode.Adjust)
        self.thumb_view.setMovement(QListView.Movement.Static)
        self.thumb_view.activated.connect(self._activated)
        self.thumb_view.clicked.connect(self._activated)
        self.addTab(self.outline_view, "Outline")
        self.addTab(self.thumb_view, "Pages")
        self.tabBar().setAccessibleName("Sidebar")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def set_outline(self, entries: list[OutlineEntry]) -> None:
        self.outline_model = OutlineModel(entries, self)
        self.outline_view.setModel(self.outline_model)
        if not entries:
            self.setCurrentWidget(self.thumb_view)
            self.setTabEnabled(0, False)
            self.setTabToolTip(0, "This document has no outline.")
        elif len(entries) < 200:
            self.outline_view.expandToDepth(0)

    def _activated(self, index: QModelIndex) -> None:
        page = index.data(PAGE_ROLE)
        if isinstance(page, int) and page >= 0:
            self.page_requested.emit(page)

    def show_page(self, page: int) -> None:
        index = self.thumbnails.index(page, 0)
        self.thumb_view.setCurrentIndex(index)
        self.thumb_view.scrollTo(index)
