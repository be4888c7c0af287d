"""Search for the content version in use: which index, and keeping it up to date.

* A content folder may carry a prebuilt index (``search.sqlite``, written by
  ``aspire-pack content``): when it was built from that folder's own catalogue, it is
  searched as it is, read-only, and needs no work. The shipped content has one, so
  search works the moment the app first opens.
* Otherwise (a version written by sync) the user's own index is used:
  ``<data>/search.sqlite``. The first time, it starts as a copy of the baseline's
  prebuilt index, so only documents the baseline did not have are read;
  :meth:`LibrarySearch.update` then brings it in line with the catalogue and indexes
  new and changed documents, in the background.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aspire_desktop.core.errors import DatabaseDamagedError
from aspire_desktop.core.paths import Paths
from aspire_desktop.core.search import schema
from aspire_desktop.core.search.extract import Extractor, InlineExtractor
from aspire_desktop.core.search.index import DEFAULT_LIMIT, DEFAULT_SNIPPETS, SearchIndex
from aspire_desktop.core.search.indexer import Indexer, IndexReport, Progress, remove_index
from aspire_desktop.core.search.results import Filters, IndexStatus, SearchResults, Snippet
from aspire_desktop.core.store import layout
from aspire_desktop.core.store.content import OpenedContent

log = logging.getLogger(__name__)


def user_index_path(paths: Paths) -> Path:
    """The user's own index, for content versions without a prebuilt one."""
    return paths.data_dir / schema.INDEX_FILE


def prebuilt_index(folder: Path, *, for_catalogue: Path | None = None) -> Path | None:
    """A content folder's prebuilt index if it is usable: of this schema version and,
    with ``for_catalogue``, built from that catalogue. None otherwise."""
    path = folder / schema.INDEX_FILE
    if not path.is_file():
        return None
    try:
        db = schema.connect_read_only(path, immutable=True)
        try:
            if schema.schema_version(db) != schema.SCHEMA_VERSION:
                return None
            built_from = schema.meta(db).get("catalogue_sha256")
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        log.warning("prebuilt search index %s unusable: %s", path, exc)
        return None
    if for_catalogue is not None and built_from != layout.sha256_file(for_catalogue):
        return None
    return path


def build_prebuilt(folder: Path, extractor: Extractor | None = None) -> IndexReport:
    """Write a content folder's prebuilt index from its catalogue and files (the
    publisher's build; text is extracted in this process unless told otherwise)."""
    path = folder / schema.INDEX_FILE
    remove_index(path)
    indexer = Indexer(path, extractor or InlineExtractor(), shared=False)
    try:
        report = indexer.update(folder / layout.CATALOGUE, [folder / layout.FILES])
        indexer.compact()
    finally:
        indexer.close()
    return report


def _seed(target: Path, source: Path) -> None:
    """Start the user's index as a copy of a prebuilt one (written aside, then moved)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    src = schema.connect_read_only(source, immutable=True)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    os.replace(partial, target)


@dataclass(frozen=True)
class IndexHealth:
    """What ``doctor`` says about search."""

    ok: bool
    detail: str
    what_to_do: str = ""


class LibrarySearch:
    """Search over one content version. ``search`` may be called from any thread
    (calls are serialised); ``update`` runs on a background thread."""

    def __init__(
        self,
        index: SearchIndex,
        *,
        writable: Path | None,
        catalogue: Path,
        files_dirs: tuple[Path, ...],
    ) -> None:
        self.index = index
        self.writable = writable
        self.catalogue = catalogue
        self.files_dirs = files_dirs
        self._updating = threading.Lock()

    @classmethod
    def open(cls, paths: Paths, content: OpenedContent, baseline: Path | None) -> LibrarySearch:
        """Search for ``content``, ready to use: with the user's own index, its resource
        tables are brought in line with the catalogue at once (well under a second for
        10,000 resources; the first time after a sync, the shipped index is copied in
        first): call it off the UI thread, then :meth:`update` in the background to
        index the documents that are waiting (``status().waiting``)."""
        folder = content.info.path
        catalogue = content.info.catalogue
        files_dirs = [content.info.files_dir]
        if baseline is not None and baseline.resolve() != folder.resolve():
            files_dirs.append(baseline / layout.FILES)
        prebuilt = prebuilt_index(folder, for_catalogue=catalogue)
        if prebuilt is not None:
            return cls(
                SearchIndex(prebuilt, immutable=True),
                writable=None,
                catalogue=catalogue,
                files_dirs=tuple(files_dirs),
            )
        path = user_index_path(paths)
        if not path.exists() and baseline is not None:
            seed = prebuilt_index(baseline)
            if seed is not None:
                _seed(path, seed)
        indexer = Indexer(path, InlineExtractor())  # creates it, or rebuilds a damaged one
        try:
            indexer.prepare(catalogue, files_dirs)
        finally:
            indexer.close()
        return cls(
            SearchIndex(path), writable=path, catalogue=catalogue, files_dirs=tuple(files_dirs)
        )

    @property
    def read_only(self) -> bool:
        """True for a prebuilt index: nothing to update."""
        return self.writable is None

    def search(
        self,
        text: str,
        filters: Filters | None = None,
        limit: int = DEFAULT_LIMIT,
        snippets: int = DEFAULT_SNIPPETS,
    ) -> SearchResults:
        return self.index.search(text, filters, limit, snippets)

    def snippet(self, text: str, sha256: str, page: int) -> Snippet | None:
        return self.index.snippet(text, sha256, page)

    def status(self) -> IndexStatus:
        return self.index.status()

    def update(
        self,
        progress: Callable[[Progress], None] | None = None,
        cancel: threading.Event | None = None,
        extractor: Extractor | None = None,
    ) -> IndexReport:
        """Bring the index in line with the content and index what is new or changed
        (unchanged documents are skipped by checksum). Text is read in a child process
        unless ``extractor`` says otherwise. Safe to call again: it only does what is
        left. Blocks until done or cancelled; returns what changed."""
        if self.writable is None:
            return IndexReport()
        with self._updating:
            indexer = Indexer(self.writable, extractor)
            try:
                return indexer.update(self.catalogue, self.files_dirs, progress, cancel)
            finally:
                indexer.close()

    def close(self) -> None:
        self.index.close()


def health(paths: Paths, content: OpenedContent) -> IndexHealth:
    """Look at the index the content would use, without creating or changing anything."""
    prebuilt = prebuilt_index(content.info.path, for_catalogue=content.info.catalogue)
    path = prebuilt if prebuilt is not None else user_index_path(paths)
    where = "shipped with the content" if prebuilt is not None else f"at {path}"
    if not path.exists():
        return IndexHealth(
            True, "not built yet; ASPire Desktop builds it in the background when it starts"
        )
    try:
        index = SearchIndex(path, immutable=prebuilt is not None)
    except DatabaseDamagedError as exc:
        return IndexHealth(False, exc.message, "Start ASPire Desktop: it rebuilds the index.")
    try:
        problems = index.check()
        status = index.status()
        failed = index.failures()
    finally:
        index.close()
    if problems:
        return IndexHealth(
            False,
            f"the index {where} is damaged: {'; '.join(problems[:5])}",
            "Reinstall ASPire Desktop."
            if prebuilt is not None
            else f"Delete {path}; ASPire Desktop builds it again when it starts.",
        )
    detail = f"{status.indexed} documents ({status.pages} pages) indexed, {where}"
    if status.waiting:
        detail += f"; {status.waiting} waiting to be indexed"
    if failed:
        named = "; ".join(f"{name}: {why}" for name, why in failed[:5])
        detail += f"; {len(failed)} could not be read ({named})"
    return IndexHealth(True, detail)
