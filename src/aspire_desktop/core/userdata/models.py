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
    """A bookmarked resource or page."""

    __tablename__ = "bookmarks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resource_id: Mapped[str] = mapped_column(String, index=True)
    page: Mapped[int | None] = mapped_column(Integer, default=None)
    note: Mapped[str] = mapped_column(Text, default="")
    label: Mapped[str] = mapped_column(String, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
