"""Bookmarks as plain data, independent of the database rows that hold them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime

KINDS = ("resource", "page", "passage")
#: How many characters either side of a quoted passage are kept to find it again.
CONTEXT_CHARS = 48


@dataclass(frozen=True)
class Quote:
    """A passage as text, with a little text either side (as web annotations do)."""

    exact: str = ""
    prefix: str = ""
    suffix: str = ""

    @classmethod
    def around(cls, page_text: str, start: int, end: int) -> Quote:
        return cls(
            exact=page_text[start:end],
            prefix=page_text[max(0, start - CONTEXT_CHARS) : start],
            suffix=page_text[end : end + CONTEXT_CHARS],
        )


@dataclass(frozen=True)
class BookmarkData:
    resource_id: str
    kind: str = "page"
    page: int | None = None  # 0-based
    page_count: int | None = None
    document_sha256: str | None = None
    document_title: str = ""
    quote: Quote = field(default_factory=Quote)
    note: str = ""
    label: str = ""
    uid: str = field(default_factory=lambda: uuid.uuid4().hex)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    id: int | None = None

    def edited(self, note: str, label: str) -> BookmarkData:
        return replace(self, note=note, label=label.strip())

    def same_place(self, other: BookmarkData) -> bool:
        """Two bookmarks of the same place with the same words (import dedupe)."""
        return (
            self.resource_id,
            self.kind,
            self.page,
            self.quote.exact,
            self.note,
            self.label,
        ) == (other.resource_id, other.kind, other.page, other.quote.exact, other.note, other.label)


@dataclass(frozen=True)
class ImportResult:
    added: int
    skipped: int


@dataclass(frozen=True)
class RecentDocument:
    document_key: str  # a resource id, or "file:<path>"
    page: int
    page_count: int | None
    opened_at: datetime

    @property
    def progress(self) -> str:
        if self.page_count:
            return f"page {self.page + 1} of {self.page_count}"
        return f"page {self.page + 1}"
