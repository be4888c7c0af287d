"""The catalogue schema as SQLAlchemy 2 typed models.

A catalogue database is written once (by the content build or by sync) and then only
read. Ids are stable strings; user data refers to resources by these ids.
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

#: Bumped when the catalogue schema changes in a way readers must know about.
SCHEMA_VERSION = 1


class Base(DeclarativeBase):
    pass


class Meta(Base):
    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    name: Mapped[str] = mapped_column(String)
    introduction: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("categories.id"), default=None)

    links: Mapped[list[ResourceCategory]] = relationship(back_populates="category")


class Resource(Base):
    __tablename__ = "resources"
    # "All resources" lists by title: an index saves a sort of every row.
    __table_args__ = (Index("ix_resources_title", text("title COLLATE NOCASE"), "id"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String)
    source_url: Mapped[str | None] = mapped_column(Text, default=None)
    publisher: Mapped[str | None] = mapped_column(Text, default=None)
    published: Mapped[str | None] = mapped_column(String, default=None)
    updated: Mapped[str | None] = mapped_column(String, default=None)
    reviewed: Mapped[str | None] = mapped_column(String, default=None)
    status: Mapped[str] = mapped_column(String, default="current")
    superseded_by: Mapped[str | None] = mapped_column(String, default=None)
    picture_alt: Mapped[str] = mapped_column(Text, default="")
    picture_sha256: Mapped[str | None] = mapped_column(String, default=None)
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: Case-folded title, summary, tags and kind: what the filter box matches against.
    filter_text: Mapped[str] = mapped_column(Text, default="")

    links: Mapped[list[ResourceCategory]] = relationship(
        back_populates="resource", cascade="all, delete-orphan"
    )
    tags: Mapped[list[Tag]] = relationship(cascade="all, delete-orphan")
    files: Mapped[list[ResourceFile]] = relationship(
        back_populates="resource", cascade="all, delete-orphan", order_by="ResourceFile.id"
    )


class ResourceCategory(Base):
    __tablename__ = "resource_categories"
    __table_args__ = (Index("ix_resource_categories_category", "category_id", "position"),)

    resource_id: Mapped[str] = mapped_column(ForeignKey("resources.id"), primary_key=True)
    category_id: Mapped[str] = mapped_column(ForeignKey("categories.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    resource: Mapped[Resource] = relationship(back_populates="links")
    category: Mapped[Category] = relationship(back_populates="links")


class Tag(Base):
    __tablename__ = "tags"

    resource_id: Mapped[str] = mapped_column(ForeignKey("resources.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String, primary_key=True)


class ResourceFile(Base):
    __tablename__ = "files"
    __table_args__ = (Index("ix_files_resource", "resource_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resource_id: Mapped[str] = mapped_column(ForeignKey("resources.id"))
    role: Mapped[str] = mapped_column(String, default="main")
    name: Mapped[str] = mapped_column(String)
    media_type: Mapped[str] = mapped_column(String, default="application/pdf")
    size: Mapped[int | None] = mapped_column(Integer, default=None)
    sha256: Mapped[str | None] = mapped_column(String, default=None)
    page_count: Mapped[int | None] = mapped_column(Integer, default=None)
    cached: Mapped[bool] = mapped_column(Boolean, default=False)

    resource: Mapped[Resource] = relationship(back_populates="files")
