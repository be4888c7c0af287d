"""The Bookmarks panel (bookmarks and recent documents) and the bookmark dialog."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from aspire_desktop.core.userdata.bookmarks import BookmarkData, RecentDocument
from aspire_desktop.ui.background import when_done
from aspire_desktop.ui.context import AppContext

DATA_ROLE = Qt.ItemDataRole.UserRole + 1
ALL_LABELS = "All labels"
_Index = QModelIndex | QPersistentModelIndex


def describe_place(b: BookmarkData) -> str:
    if b.kind == "resource" or b.page is None:
        return "Whole resource"
    total = f" of {b.page_count}" if b.page_count else ""
    return f"Page {b.page + 1}{total}"


class BookmarkModel(QAbstractListModel):
    """Bookmarks, newest first, narrowed by text and label; titles from the catalogue."""

    def __init__(self, title_of: Callable[[str], str | None], parent: Any = None) -> None:
        super().__init__(parent)
        self._title_of = title_of
        self._all: list[BookmarkData] = []
        self._shown: list[BookmarkData] = []
        self.text = ""
        self.label = ""

    def set_bookmarks(self, bookmarks: list[BookmarkData]) -> None:
        self._all = bookmarks
        self._refilter()

    def set_filter(self, text: str, label: str) -> None:
        self.text, self.label = text, label
        self._refilter()

    def _refilter(self) -> None:
        words = self.text.casefold().split()
        self.beginResetModel()
        self._shown = [
            b
            for b in self._all
            if (not self.label or b.label == self.label)
            and all(w in self._haystack(b) for w in words)
        ]
        self.endResetModel()

    def _haystack(self, b: BookmarkData) -> str:
        title = self._title_of(b.resource_id) or b.document_title
        return " ".join((title, b.note, b.label, b.quote.exact)).casefold()

    def bookmark(self, row: int) -> BookmarkData:
        return self._shown[row]

    def labels(self) -> list[str]:
        return sorted({b.label for b in self._all if b.label}, key=str.casefold)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._shown)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._shown):
            return None
        b = self._shown[index.row()]
        if role == DATA_ROLE:
            return b
        if role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,
            Qt.ItemDataRole.AccessibleTextRole,
        ):
            return None
        title = self._title_of(b.resource_id)
        lines = [title or b.document_title or b.resource_id]
        place = describe_place(b)
        if title is None:
            place += " · no longer in the catalogue"
        if b.label:
            place += f" · {b.label}"
        lines.append(place)
        if b.quote.exact:
            quote = " ".join(b.quote.exact.split())
            lines.append(f"“{quote[:120]}{'…' if len(quote) > 120 else ''}”")
        if b.note:
            lines.append(b.note.splitlines()[0][:120])
        return "\n".join(lines)


class RecentModel(QAbstractListModel):
    def __init__(self, title_of: Callable[[str], str | None], parent: Any = None) -> None:
        super().__init__(parent)
        self._title_of = title_of
        self._rows: list[RecentDocument] = []

    def set_recent(self, rows: list[RecentDocument]) -> None:
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        r = self._rows[index.row()]
        if role == DATA_ROLE:
            return r
        if role in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,
            Qt.ItemDataRole.AccessibleTextRole,
        ):
            key = r.document_key
            name = key[5:].rsplit("/", 1)[-1] if key.startswith("file:") else None
            title = name or self._title_of(key) or f"{key} (no longer in the catalogue)"
            return f"{title}\nRead up to {r.progress} · {r.opened_at:%-d %b %Y %H:%M}"
        return None


class BookmarkDialog(QDialog):
    """Add or edit a bookmark's note and label."""

    def __init__(
        self, title: str, place: str, note: str, label: str, labels: list[str], parent: QWidget
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Bookmark")
        self.setObjectName("bookmarkDialog")
        form = QFormLayout(self)
        heading = QLabel(f"<b>{title}</b><br>{place}")
        heading.setWordWrap(True)
        form.addRow(heading)
        self.note_edit = QPlainTextEdit(note)
        self.note_edit.setAccessibleName("Note")
        self.note_edit.setTabChangesFocus(True)
        self.note_edit.setPlaceholderText("Optional note")
        self.label_box = QComboBox()
        self.label_box.setEditable(True)
        self.label_box.setAccessibleName("Label")
        self.label_box.addItems(labels)
        self.label_box.setCurrentText(label)
        form.addRow("&Note:", self.note_edit)
        form.addRow("&Label:", self.label_box)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.resize(440, 260)

    @property
    def note(self) -> str:
        return self.note_edit.toPlainText().strip()

    @property
    def label(self) -> str:
        return self.label_box.currentText().strip()


class _DeleteCommand(QUndoCommand):
    def __init__(self, panel: BookmarksPanel, bookmark: BookmarkData) -> None:
        super().__init__(f"Delete bookmark “{bookmark.note or describe_place(bookmark)}”")
        self.panel = panel
        self.bookmark = bookmark

    def redo(self) -> None:
        uid = self.bookmark.uid
        self.panel.run(lambda u: u.delete_bookmark_uid(uid))

    def undo(self) -> None:
        bookmark = self.bookmark
        self.panel.run(lambda u: u.add_bookmark(bookmark))


class BookmarksPanel(QDockWidget):
    """Bookmarks (filter, label, open, edit, delete with undo) and recent documents."""

    open_bookmark = Signal(object)
    open_recent = Signal(object)
    changed = Signal()

    def __init__(
        self, ctx: AppContext, parent: QWidget | None = None, undo_stack: QUndoStack | None = None
    ) -> None:
        super().__init__("Bookmarks", parent)
        self.ctx = ctx
        self.setObjectName("bookmarksPanel")
        self.undo_stack = undo_stack if undo_stack is not None else QUndoStack(self)
        self.model = BookmarkModel(self._title_of, self)
        self.recent_model = RecentModel(self._title_of, self)

        self.filter_edit = QLineEdit()
        self.filter_edit.setAccessibleName("Filter bookmarks")
        self.filter_edit.setPlaceholderText("Filter bookmarks")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._filter)
        self.label_box = QComboBox()
        self.label_box.setAccessibleName("Show bookmarks with label")
        self.label_box.addItem(ALL_LABELS, "")
        self.label_box.currentIndexChanged.connect(self._filter)
        self.list = QListView()
        self.list.setObjectName("bookmarkList")
        self.list.setAccessibleName("Bookmarks")
        self.list.setModel(self.model)
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.list.activated.connect(self._activated)
        self.open_button = QPushButton("&Open")
        self.open_button.setAccessibleName("Open bookmark")
        self.open_button.clicked.connect(lambda: self._activated(self.list.currentIndex()))
        self.edit_button = QPushButton("&Edit…")
        self.edit_button.setAccessibleName("Edit bookmark")
        self.edit_button.clicked.connect(self.edit_current)
        self.delete_button = QPushButton("&Delete")
        self.delete_button.setAccessibleName("Delete bookmark")
        self.delete_button.clicked.connect(self.delete_current)
        self.empty = QLabel(
            "No bookmarks yet. In a document press Ctrl+D to bookmark the page, or select "
            "text first to bookmark a passage."
        )
        self.empty.setWordWrap(True)
        self.empty.setObjectName("bookmarksEmpty")

        marks = QWidget()
        lay = QVBoxLayout(marks)
        lay.setContentsMargins(6, 6, 6, 6)
        top = QHBoxLayout()
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.label_box)
        lay.addLayout(top)
        lay.addWidget(self.empty)
        lay.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        for b in (self.open_button, self.edit_button, self.delete_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        lay.addLayout(buttons)

        self.recent_list = QListView()
        self.recent_list.setObjectName("recentList")
        self.recent_list.setAccessibleName("Recent documents")
        self.recent_list.setModel(self.recent_model)
        self.recent_list.setAlternatingRowColors(True)
        self.recent_list.activated.connect(
            lambda index: self.open_recent.emit(index.data(DATA_ROLE))
        )
        self.tabs = QTabWidget()
        self.tabs.addTab(marks, "Bookmarks")
        self.tabs.addTab(self.recent_list, "Recent")
        self.tabs.tabBar().setAccessibleName("Bookmarks and recent documents")
        self.setWidget(self.tabs)
        self.list.installEventFilter(self)

    # Loading -------------------------------------------------------------------------
    def _title_of(self, resource_id: str) -> str | None:
        detail = self.ctx.content.reader.detail(resource_id)
        return None if detail is None else detail.title

    def run(self, fn: Callable[[Any], Any]) -> None:
        """A user-data change, then a reload of the lists."""
        when_done(self.ctx.userdata(fn), self, lambda _r: self.reload())

    def reload(self) -> None:
        when_done(self.ctx.userdata(lambda u: u.bookmarks()), self, self._loaded)
        when_done(self.ctx.userdata(lambda u: u.recent()), self, self.recent_model.set_recent)

    def _loaded(self, bookmarks: list[BookmarkData]) -> None:
        self.model.set_bookmarks(bookmarks)
        current = self.label_box.currentData()
        self.label_box.blockSignals(True)
        self.label_box.clear()
        self.label_box.addItem(ALL_LABELS, "")
        for label in self.model.labels():
            self.label_box.addItem(label, label)
        index = self.label_box.findData(current)
        self.label_box.setCurrentIndex(max(0, index))
        self.label_box.blockSignals(False)
        self.empty.setVisible(not bookmarks)
        self.changed.emit()

    def _filter(self) -> None:
        self.model.set_filter(self.filter_edit.text(), self.label_box.currentData() or "")

    # Actions -------------------------------------------------------------------------
    def current(self) -> BookmarkData | None:
        index = self.list.currentIndex()
        return index.data(DATA_ROLE) if index.isValid() else None

    def _activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_bookmark.emit(index.data(DATA_ROLE))

    def add(self, bookmark: BookmarkData, *, ask: bool = True) -> BookmarkDialog | None:
        """Save a new bookmark, after asking for a note and label (not blocking)."""
        if not ask:
            self.run(lambda u: u.add_bookmark(bookmark))
            return None
        title = self._title_of(bookmark.resource_id) or bookmark.document_title
        dialog = BookmarkDialog(
            title,
            describe_place(bookmark),
            bookmark.note,
            bookmark.label,
            self.model.labels(),
            self,
        )
        dialog.accepted.connect(
            lambda: self.run(lambda u: u.add_bookmark(bookmark.edited(dialog.note, dialog.label)))
        )
        dialog.open()
        return dialog

    def edit_current(self) -> BookmarkDialog | None:
        b = self.current()
        if b is None or b.id is None:
            return None
        bookmark_id = b.id
        dialog = BookmarkDialog(
            self._title_of(b.resource_id) or b.document_title,
            describe_place(b),
            b.note,
            b.label,
            self.model.labels(),
            self,
        )
        dialog.accepted.connect(
            lambda: self.run(lambda u: u.update_bookmark(bookmark_id, dialog.note, dialog.label))
        )
        dialog.open()
        return dialog

    def delete_current(self) -> None:
        b = self.current()
        if b is not None and b.id is not None:
            self.undo_stack.push(_DeleteCommand(self, b))

    def eventFilter(self, obj: Any, event: Any) -> bool:
        from PySide6.QtCore import QEvent
        from PySide6.QtGui import QKeyEvent

        if (
            obj is self.list
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
        ):
            if event.key() == Qt.Key.Key_Delete:
                self.delete_current()
                return True
            if event.key() == Qt.Key.Key_F2:
                self.edit_current()
                return True
        return super().eventFilter(obj, event)
