"""Test documents and content folders for the search tests (made with PyMuPDF, marked as
test documents), and stand-in extraction children for the indexer's ``target=``: the
spawned child imports them from this module."""

from __future__ import annotations

import os
import textwrap
import threading
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

from aspire_desktop.core.catalogue.source import (
    CatalogueSource,
    SourceCategory,
    SourceFile,
    SourceResource,
)
from aspire_desktop.core.search import extract
from aspire_desktop.core.store.build import build_content

MARK = "Test document made by the test suite."


def text_pdf(path: Path, pages: list[str]) -> Path:
    """A PDF with one page for each text (wrapped), and the test-document mark."""
    import pymupdf

    doc = pymupdf.open()
    for text in pages:
        page = doc.new_page(width=595, height=842)
        lines = [line for para in text.split("\n") for line in textwrap.wrap(para, 80) or [""]]
        page.insert_text((56, 72), lines, fontsize=10)
        page.insert_text((56, 800), MARK, fontsize=8)
    # The same texts make the same file (the same checksum), as a republished document
    # that did not change would be.
    stamp = "D:20260101000000Z"
    doc.set_metadata(
        {"title": f"Test document: {path.stem}", "creationDate": stamp, "modDate": stamp}
    )
    doc.save(path, no_new_id=True)
    doc.close()
    return path


@dataclass
class Doc:
    """A resource of a test catalogue; ``pages`` (texts) make its PDF, or ``pdf`` is one."""

    id: str
    title: str
    summary: str = "A test resource."
    pages: list[str] | None = None
    pdf: Path | None = None
    kind: str = "document"
    categories: list[str] = field(default_factory=lambda: ["one"])
    tags: list[str] = field(default_factory=list)
    status: str = "current"


def content(folder: Path, docs: list[Doc], *, version: int = 1, index: bool = False) -> Path:
    """A content folder (``folder/content``) with these resources, in two categories
    ("one", "two"); with ``index``, a prebuilt search index too."""
    sources = folder / "sources"
    sources.mkdir(parents=True, exist_ok=True)
    resources = []
    for n, d in enumerate(docs):
        files = []
        if d.pages is not None:
            path = text_pdf(sources / f"{d.id}.pdf", d.pages)
            files = [SourceFile(name=f"{d.id}.pdf", path=path)]
        elif d.pdf is not None:
            files = [SourceFile(name=f"{d.id}.pdf", path=d.pdf)]
        resources.append(
            SourceResource(
                id=d.id,
                title=d.title,
                kind=d.kind,
                summary=d.summary,
                categories=d.categories,
                tags=d.tags,
                status=d.status,
                position=n,
                files=files,
            )
        )
    source = CatalogueSource(
        version=version,
        issued="2026-11-01",
        categories=[
            SourceCategory("one", "Category one", position=1),
            SourceCategory("two", "Category two", position=2),
        ],
        resources=resources,
    )
    return build_content(source, folder / "content", label="test", search_index=index)


# A stand-in for the extraction child ---------------------------------------------------

HANG = "HANG-HERE"
CRASH = "CRASH-HERE"


def serve_with_traps(conn: Connection) -> None:
    """The real extraction child, except that it never answers for a document whose text
    says HANG-HERE (a file that takes too long) and dies on one that says CRASH-HERE (a
    crash in the PDF engine)."""
    while (path := conn.recv()) is not None:
        try:
            batches = list(extract.page_batches(Path(path)))
        except extract.ExtractionFailed as exc:
            conn.send(("error", str(exc)))
            continue
        text = " ".join(t for batch in batches for t in batch)
        if HANG in text:
            threading.Event().wait()
        if CRASH in text:
            os._exit(70)
        for batch in batches:
            conn.send(("pages", batch))
        conn.send(("done",))
