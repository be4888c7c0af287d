"""The detail pane: what the chosen resource (or category) is, and its document."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from aspire_desktop.core.catalogue.kinds import STATUSES, kind_label
from aspire_desktop.core.catalogue.reader import ResourceDetail
from aspire_desktop.ui.icons import kind_pixmap

NOT_RECORDED = "Not recorded"


def _fmt_date(value: str | None) -> str:
    if not value:
        return NOT_RECORDED
    months = "January February March April May June July August September October November December"
    parts = value.split("-")
    try:
        if len(parts) == 1:
            return parts[0]
        month = months.split()[int(parts[1]) - 1]
        return f"{month} {parts[0]}" if len(parts) == 2 else f"{int(parts[2])} {month} {parts[0]}"
    except (ValueError, IndexError):
        return value


def _size(n: int | None) -> str:
    if n is None:
        return ""
    if n < 1024 * 1024:
        return f"{max(1, round(n / 1024))} KB"
    return f"{n / 1024 / 1024:.1f} MB"


class DetailPane(QScrollArea):
    open_requested = Signal(str)
    download_requested = Signal(str, bool)
    bookmark_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("detailPane")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAccessibleName("Resource details")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        body = QWidget()
        body.setObjectName("detailBody")
        self.setWidget(body)
        lay = QVBoxLayout(body)
        lay.setContentsMargins(18, 16, 18, 16)
        lay.setSpacing(10)

        top = QHBoxLayout()
        self.picture = QLabel()
        self.picture.setFixedSize(88, 88)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        top.addWidget(self.picture, 0, Qt.AlignmentFlag.AlignTop)
        heading = QVBoxLayout()
        self.title = QLabel()
        self.title.setObjectName("detailTitle")
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.badges = QLabel()
        self.badges.setObjectName("detailBadges")
        heading.addWidget(self.title)
        heading.addWidget(self.badges)
        heading.addStretch(1)
        top.addLayout(heading, 1)
        lay.addLayout(top)

        self.picture_caption = QLabel()
        self.picture_caption.setObjectName("pictureCaption")
        self.picture_caption.setWordWrap(True)
        lay.addWidget(self.picture_caption)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setObjectName("detailSummary")
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.summary)

        self.facts_box = QWidget()
        self.facts = QFormLayout(self.facts_box)
        self.facts.setContentsMargins(0, 4, 0, 4)
        self.facts.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        self.facts.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        lay.addWidget(self.facts_box)

        self.document_box = QFrame()
        self.document_box.setObjectName("documentBox")
        doc_lay = QVBoxLayout(self.document_box)
        doc_lay.setContentsMargins(12, 10, 12, 10)
        self.document_text = QLabel()
        self.document_text.setWordWrap(True)
        self.document_text.setObjectName("documentText")
        doc_lay.addWidget(self.document_text)
        buttons = QHBoxLayout()
        self.open_button = QPushButton("&Open document")
        self.open_button.setAccessibleName("Open document")
        self.open_button.setObjectName("openButton")
        self.open_button.clicked.connect(lambda: self.open_requested.emit(self._resource_id))
        self.request_button = QPushButton("&Get it at next sync")
        self.request_button.setObjectName("requestButton")
        self.request_button.setAccessibleName("Get it at next sync")
        self.request_button.setCheckable(True)
        self.request_button.toggled.connect(self._request_toggled)
        self.bookmark_button = QPushButton("&Bookmark…")
        self.bookmark_button.setObjectName("bookmarkButton")
        self.bookmark_button.setAccessibleName("Bookmark this resource")
        self.bookmark_button.setToolTip("Bookmark this resource (Ctrl+D)")
        self.bookmark_button.clicked.connect(self.bookmark_requested)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.request_button)
        buttons.addWidget(self.bookmark_button)
        buttons.addStretch(1)
        doc_lay.addLayout(buttons)
        lay.addWidget(self.document_box)
        lay.addStretch(1)
        for label in (self.badges, self.picture_caption, self.document_text):
            label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)

        self._resource_id = ""
        self._updating = False
        self.show_empty()

    # ------------------------------------------------------------------------------
    def _clear_facts(self) -> None:
        while self.facts.rowCount():
            self.facts.removeRow(0)

    def _fact(self, label: str, value: str, *, rich: bool = False) -> None:
        text = QLabel(value)
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        name = QLabel(f"{label}:")
        name.setObjectName("factLabel")
        name.setBuddy(text)
        self.facts.addRow(name, text)

    def _set_picture(self, kind: str) -> None:
        ratio = self.devicePixelRatioF()
        self.picture.setPixmap(kind_pixmap(kind, 80, ratio))

    def show_empty(self) -> None:
        self._resource_id = ""
        self.title.setText("Choose a resource")
        self.badges.setText("")
        self.summary.setText("Pick a category on the left, then a resource in the list.")
        self.picture.clear()
        self.picture_caption.hide()
        self._clear_facts()
        self.document_box.hide()

    def show_category(self, name: str, introduction: str, count: int) -> None:
        self._resource_id = ""
        self.title.setText(name)
        noun = "resource" if count == 1 else "resources"
        self.badges.setText(f"Category · {count} {noun}")
        self.summary.setText(introduction or "")
        self.picture.clear()
        self.picture_caption.hide()
        self._clear_facts()
        self.document_box.hide()

    def show_resource(self, r: ResourceDetail, *, file_available: bool, requested: bool) -> None:
        self._resource_id = r.id
        self.title.setText(r.title)
        status = STATUSES.get(r.status, r.status)
        self.badges.setText(f"{kind_label(r.kind)} · {status}")
        self.summary.setText(r.summary or "No summary yet.")
        self._set_picture(r.kind)
        alt = r.picture_alt or "no description"
        self.picture.setAccessibleName(f"Neutral picture for a {kind_label(r.kind).lower()}")
        self.picture.setAccessibleDescription(alt)
        self.picture_caption.setText(
            f"Picture: {alt}. The hub's picture is not on this computer, so a neutral image "
            "for this kind of resource is shown."
            if not r.picture_sha256
            else f"Picture: {alt}."
        )
        self.picture_caption.show()

        self._clear_facts()
        if r.status == "superseded":
            self._fact("Status", "Superseded: a newer resource replaces this one.")
        self._fact("Published", _fmt_date(r.published))
        if r.updated:
            self._fact("Updated", _fmt_date(r.updated))
        if r.reviewed:
            self._fact("Reviewed", _fmt_date(r.reviewed))
        if r.publisher:
            self._fact("Publisher", r.publisher)
        self._fact("Categories", ", ".join(name for _, name in r.categories))
        if r.tags:
            self._fact("Tags", ", ".join(r.tags))
        if r.source_url:
            url = html.escape(r.source_url, quote=True)
            self._fact("Source", f'<a href="{url}">{url}</a>', rich=True)
        else:
            self._fact("Source link", "Not in this catalogue yet; it arrives with a sync.")
        self._show_document(r, file_available, requested)

    def _show_document(self, r: ResourceDetail, file_available: bool, requested: bool) -> None:
        f = r.main_file
        self._updating = True
        try:
            if f is None:
                self.document_text.setText(
                    "This resource has no document to read here"
                    + (
                        ": it is a web page on the hub."
                        if r.kind in ("website", "group-page")
                        else "."
                    )
                )
                self.open_button.hide()
                self.request_button.hide()
            elif f.cached and file_available:
                pages = f"{f.page_count} pages" if f.page_count else ""
                extra = ", ".join(x for x in (pages, _size(f.size)) if x)
                self.document_text.setText(
                    f"Document: {f.name}{f' ({extra})' if extra else ''}, on this computer."
                )
                self.open_button.show()
                self.request_button.hide()
            else:
                self.document_text.setText(
                    f"Document: {f.name}. This document is not on this computer yet. "
                    + (
                        "It will be fetched at the next sync."
                        if requested
                        else "Choose “Get it at next sync” and it will be fetched when you "
                        "are next online."
                    )
                )
                self.open_button.hide()
                self.request_button.show()
                self.request_button.setChecked(requested)
                self.request_button.setText(
                    "Requested for next sync" if requested else "&Get it at next sync"
                )
            self.document_box.show()
        finally:
            self._updating = False

    def show_progress(self, resource_id: str, progress: object) -> None:
        """Add how far the user read (a RecentDocument, or None) to the document line."""
        if resource_id != self._resource_id or progress is None:
            return
        text = self.document_text.text()
        if "You have read" not in text:
            self.document_text.setText(f"{text} You have read up to {progress.progress}.")  # type: ignore[attr-defined]

    def _request_toggled(self, on: bool) -> None:
        if self._updating or not self._resource_id:
            return
        self.request_button.setText("Requested for next sync" if on else "&Get it at next sync")
        self.download_requested.emit(self._resource_id, on)

    @property
    def resource_id(self) -> str:
        return self._resource_id
