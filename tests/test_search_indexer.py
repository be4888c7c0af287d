"""Keeping the index up to date: the durable queue, checksum skipping after a new content
version, failures recorded and not retried, time limits and crashes in the extraction
child, cancelling and resuming, and which index the app searches."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from aspire_desktop.core import paths as paths_module
from aspire_desktop.core.catalogue.reader import CatalogueReader
from aspire_desktop.core.search import schema
from aspire_desktop.core.search.extract import InlineExtractor, ProcessExtractor
from aspire_desktop.core.search.index import SearchIndex
from aspire_desktop.core.search.indexer import Indexer, Progress
from aspire_desktop.core.search.library import (
    IndexHealth,
    LibrarySearch,
    health,
    user_index_path,
)
from aspire_desktop.core.store import layout
from aspire_desktop.core.store.content import OpenedContent
from search_pdfs import CRASH, HANG, Doc, content, serve_with_traps


class Counting(InlineExtractor):
    """Extracts in this process and remembers which files it read."""

    def __init__(self) -> None:
        self.read: list[str] = []

    def pages(
        self, path: Path, cancel: threading.Event | None = None, following: Path | None = None
    ) -> Iterator[list[str]]:
        self.read.append(path.stem)  # the file's checksum
        yield from super().pages(path, cancel, following)


def sha(folder: Path, resource_id: str) -> str:
    reader = CatalogueReader(folder / layout.CATALOGUE)
    try:
        detail = reader.detail(resource_id)
    finally:
        reader.close()
    assert detail is not None and detail.main_file is not None
    assert detail.main_file.sha256 is not None
    return detail.main_file.sha256


def update(index: Path, folder: Path, extractor: Counting | None = None) -> Counting:
    extractor = extractor or Counting()
    indexer = Indexer(index, extractor)
    try:
        indexer.update(folder / layout.CATALOGUE, [folder / layout.FILES])
    finally:
        indexer.close()
    return extractor


def found(index: Path, text: str) -> list[str]:
    search = SearchIndex(index)
    try:
        return [h.resource_id for h in search.search(text).hits]
    finally:
        search.close()


def states(index: Path) -> dict[str, tuple[str, str | None]]:
    with sqlite3.connect(index) as db:
        rows = db.execute("SELECT sha256, state, error FROM docs").fetchall()
    db.close()
    return {s: (state, error) for s, state, error in rows}


V1 = [
    Doc("same", "Unchanged", pages=["Aardvarks live here."]),
    Doc("changed", "Changed", pages=["The old budget."]),
    Doc("removed", "Removed", pages=["Crocodiles were here."]),
]
V2 = [
    Doc("same", "Unchanged", pages=["Aardvarks live here."]),
    Doc("changed", "Changed", pages=["The new budget, with zebras."]),
    Doc("new", "New", pages=["Dolphins arrive.", "More dolphins."]),
]


def test_a_new_version_indexes_only_what_changed(tmp_path: Path) -> None:
    index = tmp_path / "index.sqlite"
    v1 = content(tmp_path / "v1", V1)
    first = update(index, v1)
    assert sorted(first.read) == sorted(sha(v1, d.id) for d in V1)
    assert found(index, "crocodiles ") == ["removed"]

    v2 = content(tmp_path / "v2", V2, version=2)
    second = update(index, v2)
    # Only the changed and the new document are read; the unchanged one is skipped by its
    # checksum (it is the same file in both versions).
    assert sha(v1, "same") == sha(v2, "same")
    assert sorted(second.read) == sorted([sha(v2, "changed"), sha(v2, "new")])
    assert found(index, "zebras ") == ["changed"]
    assert found(index, "dolphins ") == ["new"]
    assert found(index, "aardvarks ") == ["same"]
    # What the new catalogue no longer has is gone: its resources and its pages.
    assert found(index, "crocodiles ") == []
    assert found(index, "old budget ") == []
    assert set(states(index)) == {sha(v2, d.id) for d in V2}
    # And nothing is read again when nothing changed.
    assert update(index, v2).read == []


def test_failures_are_recorded_and_not_tried_again(tmp_path: Path) -> None:
    folder = content(tmp_path, [Doc("good", "Good", pages=["Fine text."]), *_bad()])
    damaged = folder / layout.FILES / layout.file_name(sha(folder, "bad"), "application/pdf")
    damaged.write_bytes(b"%PDF-1.7 this file was damaged on disk")
    index = tmp_path / "index.sqlite"
    first = update(index, folder)
    assert len(first.read) == 2
    state, error = states(index)[sha(folder, "bad")]
    assert state == "failed" and error is not None and "cannot be opened as a PDF" in error
    assert found(index, "fine ") == ["good"]
    assert update(index, folder).read == []  # not retried
    search = SearchIndex(index)
    try:
        assert search.status().failed == 1
        ((name, why),) = search.failures()
        assert name == "bad.pdf" and "cannot be opened as a PDF" in why
    finally:
        search.close()


def _bad() -> list[Doc]:
    return [Doc("bad", "Bad", pages=["Soon damaged."])]


@pytest.mark.slow
def test_a_hang_or_a_crash_costs_only_that_document(tmp_path: Path) -> None:
    docs = [
        Doc("hangs", "Hangs", pages=[f"This one {HANG}."]),
        Doc("crashes", "Crashes", pages=[f"This one {CRASH}."]),
        Doc("fine", "Fine", pages=["Perfectly readable pelicans."]),
    ]
    folder = content(tmp_path, docs)
    index = tmp_path / "index.sqlite"
    extractor = ProcessExtractor(serve_with_traps, step_limit=1.0)
    indexer = Indexer(index, extractor)
    try:
        report = indexer.update(folder / layout.CATALOGUE, [folder / layout.FILES])
    finally:
        indexer.close()
    assert (report.indexed, report.failed, report.remaining) == (1, 2, 0)
    assert extractor.restarts == 2  # a new child after each
    recorded = states(index)
    assert recorded[sha(folder, "hangs")] == (
        "failed",
        "reading it took too long, so it was stopped",
    )
    assert recorded[sha(folder, "crashes")] == ("failed", "the PDF engine stopped while reading it")
    assert found(index, "pelicans ") == ["fine"]


@pytest.mark.slow
def test_text_is_read_in_a_child_process(tmp_path: Path) -> None:
    folder = content(tmp_path, [Doc("one", "One", pages=["Page of puffins.", "More puffins."])])
    index = tmp_path / "index.sqlite"
    indexer = Indexer(index)  # the real extraction child
    try:
        assert isinstance(indexer.extractor, ProcessExtractor)
        report = indexer.update(folder / layout.CATALOGUE, [folder / layout.FILES])
    finally:
        indexer.close()
    assert (report.indexed, report.pages) == (1, 2)
    assert found(index, "puffins ") == ["one"]


def test_cancel_and_resume(tmp_path: Path) -> None:
    docs = [Doc(f"d{n}", f"Document {n}", pages=[f"Walrus number {n}."]) for n in range(4)]
    folder = content(tmp_path, docs)
    index = tmp_path / "index.sqlite"
    cancel = threading.Event()
    seen: list[Progress] = []

    def progress(p: Progress) -> None:
        seen.append(p)
        if p.done == 2:
            cancel.set()

    first = Counting()
    indexer = Indexer(index, first)
    try:
        report = indexer.update(
            folder / layout.CATALOGUE, [folder / layout.FILES], progress, cancel
        )
    finally:
        indexer.close()
    assert report.cancelled and (report.indexed, report.remaining) == (2, 2)
    assert [p.done for p in seen] == [0, 1, 2] and seen[0].total == 4
    assert len(found(index, "walrus ")) == 2
    # The queue is in the database: a new indexer (after a restart) finishes the job.
    second = Counting()
    indexer = Indexer(index, second)
    try:
        report = indexer.run()
    finally:
        indexer.close()
    assert (report.indexed, report.remaining, report.cancelled) == (2, 0, False)
    assert not set(first.read) & set(second.read)
    assert len(found(index, "walrus ")) == 4


def test_a_file_that_arrives_later_is_indexed_then(tmp_path: Path) -> None:
    folder = content(tmp_path, [Doc("late", "Late", pages=["Otters, at last."])])
    pdf = folder / layout.FILES / layout.file_name(sha(folder, "late"), "application/pdf")
    kept = tmp_path / "kept.pdf"
    shutil.move(pdf, kept)
    index = tmp_path / "index.sqlite"
    assert update(index, folder).read == []
    assert states(index)[sha(folder, "late")] == ("absent", None)
    shutil.move(kept, pdf)
    assert update(index, folder).read == [sha(folder, "late")]
    assert found(index, "otters ") == ["late"]


@pytest.mark.parametrize("damage", ["version", "garbage"])
def test_an_unusable_index_is_rebuilt(tmp_path: Path, damage: str) -> None:
    folder = content(tmp_path, [Doc("one", "One", pages=["Some lemurs."])])
    index = tmp_path / "index.sqlite"
    update(index, folder)
    if damage == "version":
        with sqlite3.connect(index) as db:
            db.execute("PRAGMA user_version = 999")
        db.close()
    else:
        index.write_bytes(b"not a database at all" * 100)
    again = update(index, folder)
    assert len(again.read) == 1
    assert found(index, "lemurs ") == ["one"]


# Which index the app searches ------------------------------------------------------------


@pytest.fixture
def paths() -> paths_module.Paths:
    return paths_module.resolve()


def opened(folder: Path, *, baseline: bool) -> OpenedContent:
    info = layout.read_version_info(folder)
    return OpenedContent(info, CatalogueReader(info.catalogue), is_baseline=baseline)


def health_of(paths: paths_module.Paths, folder: Path, *, baseline: bool) -> IndexHealth:
    current = opened(folder, baseline=baseline)
    try:
        return health(paths, current)
    finally:
        current.reader.close()


BASE = [
    Doc("kept", "Kept", pages=["Badgers in the baseline."]),
    Doc("swapped", "Swapped", pages=["First edition."]),
]
SYNCED = [
    Doc("kept", "Kept", pages=["Badgers in the baseline."]),
    Doc("swapped", "Swapped", pages=["Second edition with herons."]),
    Doc("added", "Added", pages=["Kingfishers."]),
]


def test_the_shipped_content_is_searched_as_it_is(
    tmp_path: Path, paths: paths_module.Paths
) -> None:
    base = content(tmp_path / "base", BASE, index=True)
    current = opened(base, baseline=True)
    search = LibrarySearch.open(paths, current, base)
    try:
        assert search.read_only
        assert [h.resource_id for h in search.search("badgers ").hits] == ["kept"]
        assert not search.update().changed
    finally:
        search.close()
        current.reader.close()
    assert not user_index_path(paths).exists()
    assert health_of(paths, base, baseline=True).detail.startswith("2 documents (2 pages)")


def test_a_synced_version_starts_from_the_shipped_index(
    tmp_path: Path, paths: paths_module.Paths
) -> None:
    base = content(tmp_path / "base", BASE, index=True)
    synced = content(tmp_path / "synced", SYNCED, version=2)
    current = opened(synced, baseline=False)
    search = LibrarySearch.open(paths, current, base)
    try:
        assert not search.read_only and search.writable == user_index_path(paths)
        # Opening brings the resources in line with the synced catalogue at once...
        assert [h.resource_id for h in search.search("added ").hits] == ["added"]
        assert search.status().waiting == 2
        # ... and the documents waiting are indexed by an update.
        extractor = Counting()
        report = search.update(extractor=extractor)
        assert not report.catalogue_changed and report.indexed == 2
        # The unchanged document came with the shipped index: it was not read again.
        assert sorted(extractor.read) == sorted([sha(synced, "swapped"), sha(synced, "added")])
        assert [h.resource_id for h in search.search("herons ").hits] == ["swapped"]
        assert [h.resource_id for h in search.search("badgers ").hits] == ["kept"]
        assert search.search("first edition ").hits == ()
        assert not search.update(extractor=extractor).changed
    finally:
        search.close()
        current.reader.close()
    check = health_of(paths, synced, baseline=False)
    assert check.ok and "3 documents" in check.detail and str(paths.data_dir) in check.detail


def test_searches_see_documents_as_they_are_indexed(
    tmp_path: Path, paths: paths_module.Paths
) -> None:
    folder = content(tmp_path / "v", [Doc("one", "One", pages=["Narwhals and nautilus."])])
    current = opened(folder, baseline=False)
    search = LibrarySearch.open(paths, current, None)
    try:
        assert search.search("narw").hits == ()  # also learns the index's words for "narw"
        search.update(extractor=Counting())
        assert [h.resource_id for h in search.search("narw").hits] == ["one"]
        status = search.status()
        assert (status.indexed, status.waiting, status.read_only) == (1, 0, False)
    finally:
        search.close()
        current.reader.close()


def test_the_index_file_is_the_documented_one(paths: paths_module.Paths) -> None:
    assert user_index_path(paths) == paths.data_dir / schema.INDEX_FILE
