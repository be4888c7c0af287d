"""User data schema (SQLAlchemy 2 typed models). Changes go through alembic migrations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Setting(Base):
    """A user setting that is not Qt window state; the value is JSON."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ReadingPosition(Base):
    """Where the user was in a document, keyed by resource id or file checksum."""

    __tablename__ = "reading_positions"

    document_key: Mapped[str] = mapped_column(String, primary_key=True)
    page: Mapped[int] = mapped_column(Integer, default=0)
    page_count: Mapped[int | None] = mapped_column(Integer, default=None)
    zoom: Mapped[float | None] = mapped_column(Float, default=None)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class DownloadRequest(Base):
    """'Get it at next sync': a resource whose document the user wants cached."""

    __tablename__ = "download_requests"

    resource_id: Mapped[str] = mapped_column(String, primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(DateTime)


class Bookmark(Base):
    """A bookmarked resource, page or passage, with an optional note and label.

    It keeps what it pointed at as it was (document checksum and title, the quoted text
    with some words either side), so it can find its place again in a changed document.
    """

    __tablename__ = "bookmarks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uid: Mapped[str] = mapped_column(String, unique=True)
    resource_id: Mapped[str] = mapped_column(String, index=True)
    kind: Mapped[str] = mapped_column(String, default="page")  # resource | page | passage
    page: Mapped[int | None] = mapped_column(Integer, default=None)
    page_count: Mapped[int | None] = mapped_column(Integer, default=None)
    document_sha256: Mapped[str | None] = mapped_column(String, default=None)
    document_title: Mapped[str] = mapped_column(Text, default="")
    quote_exact: Mapped[str] = mapped_column(Text, default="")
    quote_prefix: Mapped[str] = mapped_column(Text, default="")
    quote_suffix: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    label: Mapped[str] = mapped_column(String, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class PageNote(Base):
    """A trainer's note for one page of a document (shown on the presenter console)."""

    __tablename__ = "page_notes"

    document_key: Mapped[str] = mapped_column(String, primary_key=True)
    page: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Playlist(Base):
    """A named presentation: pages and page ranges from several documents, in order."""

    __tablename__ = "playlists"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    items: Mapped[str] = mapped_column(Text, default="[]")  # JSON, see playlists.py
    updated_at: Mapped[datetime] = mapped_column(DateTime)
