"""Building, saving and presenting playlists: pages from several documents in order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from aspire_desktop.core.errors import UserError
from aspire_desktop.core.userdata.playlists import (
    PlaylistData,
    PlaylistFileError,
    PlaylistItem,
    parse_ranges,
    read_playlist,
)
from aspire_desktop.ui.background import when_done
from aspire_desktop.ui.context import AppContext
from aspire_desktop.ui.messages import show_error


def describe(item: PlaylistItem) -> str:
    pages = (
        f"page {item.first + 1}"
        if item.first == item.last
        else (f"pages {item.first + 1}–{item.last + 1}")
    )
    return f"{item.title}: {pages}"


class PlaylistDialog(QDialog):
    present_requested = Signal(object)

    def __init__(self, ctx: AppContext, documents: list[Any], parent: QWidget) -> None:
        """``documents``: the open document tabs (key, title, page count) to pick from."""
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("playlistDialog")
        self.setWindowTitle("Presentation playlists")
        self.items: list[PlaylistItem] = []
        self.saved = QListWidget()
        self.saved.setAccessibleName("Saved playlists")
        self.saved.currentTextChanged.connect(self._chosen)
        self.name_edit = QLineEdit()
        self.name_edit.setAccessibleName("Playlist name")
        self.name_edit.setPlaceholderText("Name, e.g. Tuesday induction session")
        self.item_list = QListWidget()
        self.item_list.setAccessibleName("Pages in this playlist")
        self.document_box = QComboBox()
        self.document_box.setAccessibleName("Open document to take pages from")
        for d in documents:
            self.document_box.addItem(f"{d.title} ({d.info.page_count} pages)", d)
        self.pages_edit = QLineEdit()
        self.pages_edit.setAccessibleName("Pages to add")
        self.pages_edit.setPlaceholderText("e.g. 1-5, 8")
        self.pages_edit.returnPressed.connect(self.add_pages)

        def button(text: str, name: str, slot: Any) -> QPushButton:
            b = QPushButton(text)
            b.setAccessibleName(name)
            b.clicked.connect(slot)
            return b

        add = button("&Add", "Add these pages", self.add_pages)
        add.setEnabled(bool(documents))
        grid = QGridLayout(self)
        left = QVBoxLayout()
        left.addWidget(QLabel("Saved playlists"))
        left.addWidget(self.saved, 1)
        row = QHBoxLayout()
        row.addWidget(button("&New", "New playlist", self.new))
        row.addWidget(button("&Delete", "Delete playlist", self.delete))
        left.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(button("&Import…", "Import a playlist", self.import_file))
        row.addWidget(button("E&xport…", "Export this playlist", self.export_file))
        left.addLayout(row)
        right = QVBoxLayout()
        right.addWidget(self.name_edit)
        right.addWidget(self.item_list, 1)
        row = QHBoxLayout()
        row.addWidget(self.document_box, 1)
        row.addWidget(self.pages_edit)
        row.addWidget(add)
        right.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(button("Move &up", "Move up", lambda: self.move(-1)))
        row.addWidget(button("Move do&wn", "Move down", lambda: self.move(1)))
        row.addWidget(button("&Remove", "Remove from playlist", self.remove))
        row.addStretch(1)
        row.addWidget(button("&Save", "Save playlist", self.save))
        row.addWidget(button("&Present", "Present this playlist", self.present))
        right.addLayout(row)
        grid.addLayout(left, 0, 0)
        grid.addLayout(right, 0, 1)
        grid.setColumnStretch(1, 2)
        self.resize(820, 460)
        self.reload()

    # Data ------------------------------------------------------------------------------
    def playlist(self) -> PlaylistData:
        return PlaylistData(self.name_edit.text().strip(), tuple(self.items))

    def set_playlist(self, playlist: PlaylistData) -> None:
        self.name_edit.setText(playlist.name)
        self.items = list(playlist.items)
        self._refresh()

    def _refresh(self) -> None:
        self.item_list.clear()
        self.item_list.addItems([describe(i) for i in self.items])

    def reload(self) -> None:
        when_done(self.ctx.userdata(lambda u: u.playlists()), self, self._loaded)

    def _loaded(self, playlists: list[PlaylistData]) -> None:
        self._playlists = {p.name: p for p in playlists}
        self.saved.blockSignals(True)
        self.saved.clear()
        self.saved.addItems(list(self._playlists))
        self.saved.blockSignals(False)

    def _chosen(self, name: str) -> None:
        if name in getattr(self, "_playlists", {}):
            self.set_playlist(self._playlists[name])

    # Editing ---------------------------------------------------------------------------
    def add_pages(self) -> None:
        doc = self.document_box.currentData()
        if doc is None or doc.info is None:
            return
        try:
            ranges = parse_ranges(self.pages_edit.text(), doc.info.page_count)
        except UserError as exc:
            show_error(self, exc)
            return
        self.items += [PlaylistItem(doc.document_key, doc.title, a, b) for a, b in ranges]
        self.pages_edit.clear()
        self._refresh()

    def move(self, step: int) -> None:
        row = self.item_list.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < len(self.items):
            return
        self.items[row], self.items[target] = self.items[target], self.items[row]
        self._refresh()
        self.item_list.setCurrentRow(target)

    def remove(self) -> None:
        row = self.item_list.currentRow()
        if row >= 0:
            del self.items[row]
            self._refresh()

    def new(self) -> None:
        self.set_playlist(PlaylistData("", ()))
        self.name_edit.setFocus()

    def save(self) -> bool:
        playlist = self.playlist()
        if not playlist.name:
            show_error(self, UserError("Give the playlist a name first.", ""))
            return False
        when_done(
            self.ctx.userdata(lambda u: u.save_playlist(playlist)), self, lambda _r: self.reload()
        )
        return True

    def delete(self) -> None:
        name = self.saved.currentItem().text() if self.saved.currentItem() else ""
        if name:
            when_done(
                self.ctx.userdata(lambda u: u.delete_playlist(name)), self, lambda _r: self.reload()
            )

    def present(self) -> None:
        playlist = self.playlist()
        if not playlist.items:
            show_error(self, UserError("This playlist has no pages yet.", "Add some pages first."))
            return
        self.present_requested.emit(playlist)
        self.accept()

    # Files -----------------------------------------------------------------------------
    def export_file(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self,
            "Export playlist",
            f"{self.playlist().name or 'playlist'}.json",
            "Playlists (*.json)",
        )
        if name:
            self.export_to(Path(name))

    def export_to(self, path: Path) -> None:
        path.write_text(json.dumps(self.playlist().to_document(), indent=2), encoding="utf-8")

    def import_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Import playlist", "", "Playlists (*.json)")
        if name:
            self.import_from(Path(name))

    def import_from(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            playlist = read_playlist(data)
        except (OSError, ValueError, UnicodeDecodeError):
            show_error(
                self,
                PlaylistFileError(f"{path.name} is not a playlist file.", "Choose another file."),
            )
            return
        except UserError as exc:
            show_error(self, exc)
            return
        self.set_playlist(playlist)
        self.save()
