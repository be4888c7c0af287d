"""Search the whole library as you type: titles, summaries, tags and the text of every
cached document; results grouped by resource, with the page and the words around it."""

from __future__ import annotations

import html
import logging
import threading
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QPainter,
    QStandardItem,
    QStandardItemModel,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from aspire_desktop.core.catalogue.kinds import KINDS, kind_label
from aspire_desktop.ui.background import when_done
from aspire_desktop.ui.context import AppContext

log = logging.getLogger(__name__)

HIT_ROLE = Qt.ItemDataRole.UserRole + 1
HTML_ROLE = Qt.ItemDataRole.UserRole + 2
_Index = QModelIndex | QPersistentModelIndex


class HtmlDelegate(QStyledItemDelegate):
    """Rich text (bold matched words) in a list, with the normal selection look."""

    def _document(self, option: QStyleOptionViewItem, index: _Index) -> QTextDocument:
        doc = QTextDocument()
        doc.setDefaultFont(option.font)
        doc.setHtml(index.data(HTML_ROLE) or html.escape(index.data() or ""))
        width = option.rect.width()
        view = option.widget
        if width <= 0 and isinstance(view, QTreeView):  # sizeHint: no rectangle yet
            depth = 0
            parent = index.parent()
            while parent.isValid():
                depth, parent = depth + 1, parent.parent()
            width = view.viewport().width() - view.indentation() * (depth + 1)
        doc.setTextWidth(max(200, width - 8))
        return doc

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        options = QStyleOptionViewItem(option)
        self.initStyleOption(options, index)
        options.text = ""
        style = options.widget.style() if options.widget else None
        if style is not None:
            style.drawControl(
                QStyle.ControlElement.CE_ItemViewItem, options, painter, options.widget
            )
        doc = self._document(option, index)
        painter.save()
        painter.translate(option.rect.topLeft())
        painter.translate(4, 2)
        context = QAbstractTextDocumentLayout.PaintContext()
        if option.state & QStyle.StateFlag.State_Selected:
            context.palette.setColor(
                context.palette.ColorRole.Text, option.palette.highlightedText().color()
            )
        painter.setClipRect(QRectF(0, 0, option.rect.width(), option.rect.height()))
        doc.documentLayout().draw(painter, context)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        doc = self._document(option, index)
        return QSize(int(doc.idealWidth()), int(doc.size().height()) + 4)


class SearchPanel(QWidget):
    """The Search tab: the filters and the results; the query box is in the toolbar."""

    open_hit = Signal(str, object, object)  # resource id, page (or None), words to mark

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("searchPanel")
        self.search: Any = None  # LibrarySearch, opened in the background
        self._serial = 0
        self.query = ""
        self.category_box = QComboBox()
        self.category_box.setAccessibleName("Search in category")
        self.kind_box = QComboBox()
        self.kind_box.setAccessibleName("Search for kind of resource")
        self.kind_box.addItem("All kinds", "")
        for kind in KINDS:
            self.kind_box.addItem(kind_label(kind), kind)
        self.superseded = QCheckBox("Include superseded")
        self.superseded.setAccessibleName("Include superseded resources")
        for w in (self.category_box, self.kind_box):
            w.currentIndexChanged.connect(self.run)
        self.superseded.toggled.connect(self.run)
        self.summary = QLabel("Type in the search box (Ctrl+K) to search the whole library.")
        self.summary.setObjectName("searchSummary")
        self.summary.setWordWrap(True)
        self.model = QStandardItemModel(self)
        self.tree = QTreeView()
        self.tree.setObjectName("searchResults")
        self.tree.setAccessibleName("Search results")
        self.tree.setHeaderHidden(True)
        self.tree.setModel(self.model)
        self.tree.setItemDelegate(HtmlDelegate(self.tree))
        self.tree.setWordWrap(True)
        self.tree.setUniformRowHeights(False)
        self.tree.activated.connect(self._activated)
        top = QHBoxLayout()
        top.addWidget(self.category_box)
        top.addWidget(self.kind_box)
        top.addWidget(self.superseded)
        top.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 4)
        lay.addLayout(top)
        lay.addWidget(self.summary)
        lay.addWidget(self.tree, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(120)
        self._timer.timeout.connect(self.run)
        self.reload_categories()

    def reload_categories(self) -> None:
        current = self.category_box.currentData()
        self.category_box.blockSignals(True)
        self.category_box.clear()
        self.category_box.addItem("All categories", "")
        for c in self.ctx.content.reader.categories():
            self.category_box.addItem(c.name, c.id)
        self.category_box.setCurrentIndex(max(0, self.category_box.findData(current)))
        self.category_box.blockSignals(False)

    # Opening the index ---------------------------------------------------------------
    def open_index(self) -> None:
        """Open the index for the content in use (off the UI thread), then bring it up
        to date in the background (new and changed documents only)."""
        # Imported here, on the UI thread: the background thread then only runs code.
        from aspire_desktop.core.paths import baseline_dir
        from aspire_desktop.core.search import index, indexer, query, tokens  # noqa: F401
        from aspire_desktop.core.search.library import LibrarySearch

        paths, content = self.ctx.paths, self.ctx.content
        old = self.search
        self.search = None
        when_done(
            self.ctx.background(lambda: LibrarySearch.open(paths, content, baseline_dir())),
            self,
            lambda s: self._opened(s, old),
        )

    def _opened(self, search: Any, old: Any) -> None:
        self.search = search
        if old is not None:
            self.ctx.background(old.close)
        if self.query:
            self.run()
        if not search.read_only:
            self._cancel = threading.Event()
            cancel = self._cancel
            when_done(
                self.ctx.background(lambda: search.update(cancel=cancel)),
                self,
                self._indexed,
                lambda _e: None,
            )

    def _indexed(self, report: Any) -> None:
        if report.changed and self.query:
            self.run()

    # Searching -----------------------------------------------------------------------
    def set_query(self, text: str) -> None:
        self.query = text
        self._timer.start()

    def run(self) -> None:
        from aspire_desktop.core.search.results import Filters

        text = self.query
        self._serial += 1
        serial = self._serial
        if not text.strip():
            self.model.clear()
            self.summary.setText("Type in the search box (Ctrl+K) to search the whole library.")
            return
        if self.search is None:
            self.summary.setText("Getting the search index ready…")
            return
        category, kind = self.category_box.currentData(), self.kind_box.currentData()
        filters = Filters(
            categories=frozenset([category]) if category else frozenset(),
            kinds=frozenset([kind]) if kind else frozenset(),
            include_superseded=self.superseded.isChecked(),
        )
        search = self.search
        when_done(
            self.ctx.background(lambda: search.search(text, filters, snippets=3)),
            self,
            lambda results: self._show(serial, results),
        )

    def _show(self, serial: int, results: Any) -> None:
        if serial != self._serial:
            return  # a newer query is on its way
        self.model.clear()
        for hit in results.hits:
            title = (
                hit.title_snippet.html() if hit.title_snippet.has_match else html.escape(hit.title)
            )
            where = ", ".join(hit.matched_in)
            pages = (
                ""
                if not hit.page_count
                else "; 1 page matches"
                if hit.page_count == 1
                else f"; {hit.page_count} pages match"
            )
            status = " · superseded" if hit.status == "superseded" else ""
            item = QStandardItem()
            item.setData(
                f"<b>{title}</b><br><span style='color:#5b6b7a'>{kind_label(hit.kind)}"
                f"{status} · matched in {where}{pages}</span>"
                + (f"<br>{hit.summary_snippet.html()}" if hit.summary_snippet else ""),
                HTML_ROLE,
            )
            item.setData(f"{hit.title}, matched in {where}{pages}", Qt.ItemDataRole.DisplayRole)
            item.setData((hit.resource_id, None, ()), HIT_ROLE)
            item.setEditable(False)
            for page in hit.pages:
                words = page.snippet.matched if page.snippet else ()
                snippet = page.snippet.html() if page.snippet else ""
                child = QStandardItem()
                child.setData(f"Page {page.page + 1}: {snippet}", HTML_ROLE)
                plain = page.snippet.text if page.snippet else ""
                child.setData(f"Page {page.page + 1}: {plain}", Qt.ItemDataRole.DisplayRole)
                child.setData((hit.resource_id, page.page, words), HIT_ROLE)
                child.setEditable(False)
                item.appendRow(child)
            self.model.appendRow(item)
        n = len(results.hits)
        found = f"{n}{'+' if results.more else ''} resource{'s' if n != 1 else ''}"
        also = "".join(
            f" (also searched for “{b}”)"
            for a, b in results.expansions[:3]
            if a.casefold() != b.casefold()
        )
        self.summary.setText(
            f"{found} for “{results.query}”{also}."
            if n
            else f"Nothing found for “{results.query}”{also}."
        )
        if n:
            self.tree.expandToDepth(0)
            self.tree.setCurrentIndex(self.model.index(0, 0))

    def _activated(self, index: QModelIndex) -> None:
        data = index.data(HIT_ROLE)
        if data is None:
            return
        resource_id, page, words = data
        if page is None and self.model.itemFromIndex(index).rowCount():
            first = self.model.itemFromIndex(index).child(0)
            resource_id, page, words = first.data(HIT_ROLE)
        self.open_hit.emit(resource_id, page, words)

    def stop_indexing(self) -> None:
        if getattr(self, "_cancel", None) is not None:
            self._cancel.set()
