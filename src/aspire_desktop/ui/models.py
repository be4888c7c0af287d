"""Item models for the category tree and the resource list.

Models hold ids only and fetch rows from the catalogue reader when a view asks for
them, a window of rows at a time, so a 10,000-resource category costs one id list.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QFont

from aspire_desktop.core.catalogue.kinds import kind_label
from aspire_desktop.core.catalogue.reader import (
    CatalogueReader,
    CategoryRow,
    ResourceBrief,
    matches,
    words_of,
)

ID_ROLE = Qt.ItemDataRole.UserRole + 1
ALL_RESOURCES = ""  # the id of the "All resources" node

_Index = QModelIndex | QPersistentModelIndex


class CategoryTreeModel(QAbstractItemModel):
    """ "All resources", then the categories as a tree (a category may have a parent)."""

    def __init__(self, reader: CatalogueReader, parent: Any = None) -> None:
        super().__init__(parent)
        self._load(reader)

    def _load(self, reader: CatalogueReader) -> None:
        rows = reader.categories()
        total = reader.resource_count()
        self._rows: dict[str, CategoryRow] = {c.id: c for c in rows}
        self._rows[ALL_RESOURCES] = CategoryRow(ALL_RESOURCES, "All resources", None, -1, total)
        # Indexes carry a small integer (the node's number), never a Python object.
        self._nodes: list[str] = [ALL_RESOURCES, *(c.id for c in rows)]
        self._number = {cid: n for n, cid in enumerate(self._nodes)}
        self._children: dict[str | None, list[str]] = {None: [ALL_RESOURCES]}
        for c in rows:
            parent = c.parent_id if c.parent_id in self._rows else None
            self._children.setdefault(parent, []).append(c.id)
        self._parent: dict[str, str | None] = {
            child: parent for parent, kids in self._children.items() for child in kids
        }

    def reload(self, reader: CatalogueReader) -> None:
        self.beginResetModel()
        self._load(reader)
        self.endResetModel()

    def _id(self, index: _Index) -> str | None:
        return self._nodes[index.internalId()] if index.isValid() else None

    def _make(self, category_id: str) -> QModelIndex:
        row = self._children[self._parent[category_id]].index(category_id)
        return self.createIndex(row, 0, self._number[category_id])

    def index(self, row: int, column: int, parent: _Index = QModelIndex()) -> QModelIndex:
        kids = self._children.get(self._id(parent), [])
        if column != 0 or not 0 <= row < len(kids):
            return QModelIndex()
        return self.createIndex(row, 0, self._number[kids[row]])

    def parent(self, index: _Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        cid = self._id(index)
        parent = self._parent.get(cid) if cid is not None else None
        return QModelIndex() if parent is None else self._make(parent)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        if parent.column() > 0:
            return 0
        return len(self._children.get(self._id(parent), []))

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 1

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        cid = self._id(index)
        if cid is None:
            return None
        row = self._rows[cid]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{row.name} ({row.count})"
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            noun = "resource" if row.count == 1 else "resources"
            return f"{row.name}, {row.count} {noun}"
        if role == ID_ROLE:
            return cid
        if role == Qt.ItemDataRole.FontRole and cid == ALL_RESOURCES:
            font = QFont()
            font.setItalic(True)
            return font
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return "Categories" if section == 0 else None
        return None

    def index_of(self, category_id: str) -> QModelIndex:
        return self._make(category_id) if category_id in self._parent else QModelIndex()

    def first_category(self) -> str:
        top = self._children[None]
        return top[1] if len(top) > 1 else ALL_RESOURCES

    def name(self, category_id: str) -> str:
        return self._rows[category_id].name

    def count(self, category_id: str) -> int:
        return self._rows[category_id].count


class ResourceListModel(QAbstractTableModel):
    """The resources of one category, narrowed by the filter text."""

    COLUMNS = ("Title", "Kind", "Document")
    _WINDOW = 200
    _CACHE_LIMIT = 4000

    def __init__(self, reader: CatalogueReader, parent: Any = None) -> None:
        super().__init__(parent)
        self._reader = reader
        self._ids: list[str] = []
        self._rows: dict[str, ResourceBrief] = {}
        self._index: list[tuple[str, str]] | None = None
        self.category_id: str | None = None
        self.filter_text = ""

    def set_reader(self, reader: CatalogueReader) -> None:
        self._reader = reader
        self._rows.clear()
        self._index = None
        self.set_query(self.category_id, self.filter_text)

    def set_query(self, category_id: str | None, text: str) -> None:
        """Show a category's resources that match ``text`` (every word, anywhere)."""
        if self._index is None or category_id != self.category_id:
            # One query per category switch; typing then filters in memory.
            self._index = self._reader.filter_index(category_id or None)
        self.beginResetModel()
        self.category_id = category_id
        self.filter_text = text
        words = words_of(text)
        self._ids = [rid for rid, t in self._index if not words or matches(t, words)]
        if len(self._rows) > self._CACHE_LIMIT:
            self._rows.clear()
        self.endResetModel()

    def ids(self) -> list[str]:
        return list(self._ids)

    def row_of(self, resource_id: str) -> int:
        try:
            return self._ids.index(resource_id)
        except ValueError:
            return -1

    def brief(self, row: int) -> ResourceBrief:
        rid = self._ids[row]
        found = self._rows.get(rid)
        if found is None:
            start = max(0, row - self._WINDOW // 4)
            window = [i for i in self._ids[start : start + self._WINDOW] if i not in self._rows]
            self._rows.update(self._reader.briefs(window))
            found = self._rows[rid]
        return found

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        if role == ID_ROLE:
            return self._ids[index.row()]
        if role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,
            Qt.ItemDataRole.AccessibleTextRole,
            Qt.ItemDataRole.FontRole,
        ):
            return None
        b = self.brief(index.row())
        col = index.column()
        if role == Qt.ItemDataRole.FontRole:
            if b.status == "superseded":
                font = QFont()
                font.setItalic(True)
                return font
            return None
        if col == 0:
            title = b.title + (" (superseded)" if b.status == "superseded" else "")
            return title
        if col == 1:
            return kind_label(b.kind)
        if not b.has_document:
            return "No document" if role != Qt.ItemDataRole.DisplayRole else "—"
        return "On this computer" if b.cached else "Not on this computer"

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section] if 0 <= section < len(self.COLUMNS) else None
        return None
