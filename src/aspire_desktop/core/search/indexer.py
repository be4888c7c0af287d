"""Keeping an index up to date with a content version.

:meth:`Indexer.prepare` brings the resource tables in line with a catalogue and puts
every PDF the catalogue names that is not yet indexed on the queue: the ``docs`` rows
in state ``queued``, which survive a restart (the queue is the database). Documents are
keyed by sha256, so one indexed before, in any version, is never read again.
:meth:`Indexer.run` then indexes the queue one document at a time, committing every few
seconds: a search sees a document completely or not at all, and stopping (cancel, quit,
crash) loses at most those few seconds of work; the rest stays queued. A document that
cannot be read or takes too long is recorded as ``failed`` with the reason and is not
tried again.

An Indexer is used from one thread at a time (a background thread in the app); it calls
``progress`` on that thread. Searches run meanwhile on their own connection.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from aspire_desktop.core.search import schema
from aspire_desktop.core.search.extract import (
    Cancelled,
    ExtractionFailed,
    Extractor,
    ProcessExtractor,
)
from aspire_desktop.core.store import layout

log = logging.getLogger(__name__)

PDF = "application/pdf"
#: A transaction ends after this many pages or seconds (see _Batch).
COMMIT_PAGES = 20000
COMMIT_SECONDS = 10.0
#: After a run, the pages' index is merged into one segment if it has more than this
#: many: a search reads every segment for every word of every small query (one for each
#: resource shown), and on 100,000 pages 8 segments made them five times slower.
MAX_SEGMENTS = 4

_RESOURCES_FROM_CATALOGUE = """
INSERT INTO resources (resource_id, title, kind, status, categories)
SELECT r.id, r.title, r.kind, r.status,
       (SELECT json_group_array(category_id) FROM (
            SELECT rc.category_id FROM cat.resource_categories AS rc
            JOIN cat.categories AS c ON c.id = rc.category_id
            WHERE rc.resource_id = r.id ORDER BY c.position, c.id))
FROM cat.resources AS r ORDER BY r.id
"""

_CATEGORIES_FROM_CATALOGUE = """
INSERT INTO resource_categories (category, resource)
SELECT rc.category_id, x.id FROM cat.resource_categories AS rc
JOIN resources AS x ON x.resource_id = rc.resource_id
"""

_TEXT_FROM_CATALOGUE = """
INSERT INTO resource_text (rowid, title, summary, tags)
SELECT x.id, unmark(r.title), unmark(r.summary),
       unmark(coalesce((SELECT group_concat(t.tag, ', ') FROM cat.tags AS t
                        WHERE t.resource_id = r.id), ''))
FROM cat.resources AS r JOIN resources AS x ON x.resource_id = r.id
"""

_DOCS_FROM_CATALOGUE = """
INSERT OR IGNORE INTO docs (sha256, state)
SELECT DISTINCT sha256, 'absent' FROM cat.files
WHERE media_type = :pdf AND sha256 IS NOT NULL
"""

_RESOURCE_DOCS_FROM_CATALOGUE = """
INSERT OR IGNORE INTO resource_docs (resource, doc, position, file_name)
SELECT x.id, d.id,
       row_number() OVER (PARTITION BY f.resource_id ORDER BY f.role <> 'main', f.id),
       f.name
FROM cat.files AS f
JOIN resources AS x ON x.resource_id = f.resource_id
JOIN docs AS d ON d.sha256 = f.sha256
WHERE f.media_type = :pdf
"""

_UNUSED_DOCS = "SELECT id FROM docs WHERE id NOT IN (SELECT doc FROM resource_docs)"

_QUEUE_SQL = """
SELECT d.id, d.sha256, (SELECT min(file_name) FROM resource_docs WHERE doc = d.id)
FROM docs AS d WHERE d.state = 'queued' ORDER BY d.id
"""


class _Batch:
    """Documents committed together: FTS5 writes a new segment at every commit (and at
    every savepoint), so one a document would mean endless merging. A document that
    fails part way has its pages deleted again before the batch goes on. Commits every
    ``COMMIT_PAGES`` pages or ``COMMIT_SECONDS``, so searches see new documents soon."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._open = False
        self._pages = 0
        self._started = 0.0

    def begin_document(self) -> None:
        if not self._open:
            self._db.execute("BEGIN IMMEDIATE")
            self._open, self._pages, self._started = True, 0, time.monotonic()

    def end_document(self, pages: int) -> None:
        self._pages += pages
        if self._pages >= COMMIT_PAGES or time.monotonic() - self._started >= COMMIT_SECONDS:
            self.commit()

    def commit(self) -> None:
        if self._open:
            self._db.execute("COMMIT")
            self._open = False

    def abandon(self) -> None:
        """Roll back the whole batch (its documents stay queued)."""
        if self._open:
            self._db.execute("ROLLBACK")
            self._open = False


@dataclass(frozen=True)
class Prepared:
    """What :meth:`Indexer.prepare` changed."""

    catalogue_changed: bool
    queued: int
    removed: int


@dataclass(frozen=True)
class Progress:
    """Reported before each document, and once at the end (unless cancelled)."""

    done: int
    total: int
    failed: int
    pages: int
    current: str  # the file name being read next, "" at the end


@dataclass(frozen=True)
class IndexReport:
    """What an update did: searches may show more if ``changed``."""

    indexed: int = 0
    failed: int = 0
    pages: int = 0
    remaining: int = 0
    cancelled: bool = False
    catalogue_changed: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.indexed or self.failed or self.catalogue_changed)


class Indexer:
    """Writes one index file (created, or rebuilt if unusable, on opening)."""

    def __init__(
        self, path: Path, extractor: Extractor | None = None, *, shared: bool = True
    ) -> None:
        """``shared``: searches read the file while it is written (WAL); a prebuilt
        index is written alone and left as one self-contained file."""
        self.path = path
        self.extractor: Extractor = extractor if extractor is not None else ProcessExtractor()
        self._files_dirs: list[Path] = []
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = self._open(shared)
        self._db.create_function("unmark", 1, schema.clean, deterministic=True)

    def _open(self, shared: bool) -> sqlite3.Connection:
        db = schema.connect_writer(self.path)
        try:
            version = schema.schema_version(db)
            if version not in (0, schema.SCHEMA_VERSION):
                raise ValueError(f"it has schema version {version}")
            if version == 0:
                schema.create(db)
        except (sqlite3.DatabaseError, ValueError) as exc:
            db.close()
            # Derived data: start again rather than migrate or repair.
            log.warning("search index %s unusable (%s); rebuilding it", self.path, exc)
            remove_index(self.path)
            db = schema.connect_writer(self.path)
            schema.create(db)
        db.execute("PRAGMA journal_mode = " + ("WAL" if shared else "DELETE"))
        db.execute("PRAGMA synchronous = NORMAL")
        return db

    def close(self) -> None:
        self.extractor.close()
        self._db.close()

    # Preparing -----------------------------------------------------------------------
    def prepare(self, catalogue: Path, files_dirs: Sequence[Path]) -> Prepared:
        """Match the index to a catalogue; queue its PDFs found in ``files_dirs``
        (looked in, in order) that are not indexed yet."""
        checksum = layout.sha256_file(catalogue)
        self._files_dirs = [Path(d) for d in files_dirs]
        known = schema.meta(self._db)
        changed = known.get("catalogue_sha256") != checksum
        removed = 0
        if changed:
            removed = self._load_catalogue(catalogue, checksum)
        folders = json.dumps([str(d) for d in self._files_dirs])
        if known.get("files_dirs") != folders:
            self._db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('files_dirs', ?)", (folders,)
            )
        queued = self._refresh_queue()
        return Prepared(changed, queued, removed)

    def _load_catalogue(self, catalogue: Path, checksum: str) -> int:
        uri = catalogue.resolve().as_uri() + "?mode=ro&immutable=1"
        self._db.execute("ATTACH DATABASE ? AS cat", (uri,))
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for table in schema.RESOURCE_TABLES:
                    self._db.execute(f"DROP TABLE IF EXISTS {table}")
                for statement in schema.RESOURCE_SCHEMA.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                for sql in (
                    _RESOURCES_FROM_CATALOGUE,
                    _CATEGORIES_FROM_CATALOGUE,
                    _TEXT_FROM_CATALOGUE,
                ):
                    self._db.execute(sql)
                self._db.execute(_DOCS_FROM_CATALOGUE, {"pdf": PDF})
                self._db.execute(_RESOURCE_DOCS_FROM_CATALOGUE, {"pdf": PDF})
                unused = [int(r[0]) for r in self._db.execute(_UNUSED_DOCS).fetchall()]
                for doc in unused:
                    self._delete_pages(doc)
                    self._db.execute("DELETE FROM docs WHERE id = ?", (doc,))
                self._db.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('catalogue_sha256', ?)",
                    (checksum,),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        finally:
            self._db.execute("DETACH DATABASE cat")
        return len(unused)

    def _delete_pages(self, doc: int) -> None:
        lo = doc << schema.PAGE_BITS
        self._db.execute(
            "DELETE FROM pages WHERE rowid >= ? AND rowid <= ?", (lo, lo | schema.PAGE_MASK)
        )

    def _refresh_queue(self) -> int:
        """Queue the waiting documents whose file is here; mark the others absent."""
        rows = self._db.execute(
            "SELECT id, sha256, state FROM docs WHERE state IN ('queued', 'absent')"
        ).fetchall()
        changes = []
        queued = 0
        for doc, sha256, state in rows:
            wanted = "queued" if self._locate(str(sha256)) is not None else "absent"
            queued += wanted == "queued"
            if wanted != state:
                changes.append((wanted, doc))
        if changes:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("UPDATE docs SET state = ? WHERE id = ?", changes)
            self._db.execute("COMMIT")
        return queued

    def _locate(self, sha256: str) -> Path | None:
        name = layout.file_name(sha256, PDF)
        for folder in self._files_dirs:
            candidate = folder / name
            if candidate.is_file():
                return candidate
        return None

    # Indexing ------------------------------------------------------------------------
    def pending(self) -> int:
        return int(
            self._db.execute("SELECT count(*) FROM docs WHERE state = 'queued'").fetchone()[0]
        )

    def run(
        self,
        progress: Callable[[Progress], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> IndexReport:
        """Index the queued documents until done or ``cancel`` is set."""
        if not self._files_dirs:
            saved = schema.meta(self._db).get("files_dirs")
            self._files_dirs = [Path(p) for p in json.loads(saved)] if saved else []
        queue = [(int(d), str(s), str(n or "")) for d, s, n in self._db.execute(_QUEUE_SQL)]
        indexed = failed = pages = 0
        cancelled = False
        batch = _Batch(self._db)
        try:
            for n, (doc, sha256, name) in enumerate(queue):
                if progress is not None:
                    progress(Progress(n, len(queue), failed, pages, name))
                if cancel is not None and cancel.is_set():
                    cancelled = True
                    break
                path = self._locate(sha256)
                if path is None:  # gone since it was queued (a folder was cleaned up)
                    self._set_state(doc, "absent", None)
                    continue
                batch.begin_document()
                following = self._locate(queue[n + 1][1]) if n + 1 < len(queue) else None
                try:
                    read = self._index_document(doc, path, cancel, following)
                except Cancelled:
                    self._delete_pages(doc)
                    cancelled = True
                    break
                except ExtractionFailed as exc:
                    self._delete_pages(doc)
                    log.warning("search: %s (%s) not indexed: %s", name, sha256, exc)
                    self._set_state(doc, "failed", str(exc))
                    failed += 1
                    continue
                batch.end_document(read or 0)
                if read is not None:
                    indexed += 1
                    pages += read
        except BaseException:
            batch.abandon()
            raise
        batch.commit()
        if pages and self.segments() > MAX_SEGMENTS:
            self.optimize()
        if progress is not None and not cancelled:
            progress(Progress(len(queue), len(queue), failed, pages, ""))
        return IndexReport(indexed, failed, pages, self.pending(), cancelled)

    def _index_document(
        self, doc: int, path: Path, cancel: threading.Event | None, following: Path | None
    ) -> int | None:
        """Store every page with text (inside the caller's transaction; if this raises,
        the caller deletes what was stored); the number of pages read, or None if the
        document is not waiting any more."""
        state = self._db.execute("SELECT state FROM docs WHERE id = ?", (doc,)).fetchone()
        if state is None or state[0] != "queued":  # another process got there first
            return None
        base = doc << schema.PAGE_BITS
        read = 0
        for texts in self.extractor.pages(path, cancel, following):
            rows = [(base | (read + i), schema.clean(t)) for i, t in enumerate(texts)]
            self._db.executemany(
                "INSERT INTO pages (rowid, body) VALUES (?, ?)",
                [row for row in rows if row[1] and not row[1].isspace()],
            )
            read += len(texts)
        self._db.execute(
            "UPDATE docs SET state = 'indexed', pages = ?, error = NULL WHERE id = ?",
            (read, doc),
        )
        return read

    def _set_state(self, doc: int, state: str, error: str | None) -> None:
        self._db.execute("UPDATE docs SET state = ?, error = ? WHERE id = ?", (state, error, doc))

    def update(
        self,
        catalogue: Path,
        files_dirs: Sequence[Path],
        progress: Callable[[Progress], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> IndexReport:
        """:meth:`prepare`, then :meth:`run`."""
        prepared = self.prepare(catalogue, files_dirs)
        report = self.run(progress, cancel)
        return IndexReport(
            report.indexed,
            report.failed,
            report.pages,
            report.remaining,
            report.cancelled,
            prepared.catalogue_changed,
        )

    # Upkeep --------------------------------------------------------------------------
    def segments(self) -> int:
        """How many segments the pages' full-text index is in."""
        row = self._db.execute("SELECT count(DISTINCT segid) FROM pages_idx").fetchone()
        return int(row[0])

    def optimize(self) -> None:
        """Merge the full-text indexes into one segment each (see MAX_SEGMENTS)."""
        self._db.execute("INSERT INTO pages (pages) VALUES ('optimize')")
        self._db.execute("INSERT INTO resource_text (resource_text) VALUES ('optimize')")

    def compact(self) -> None:
        """Optimise and rewrite the file at its smallest (for a prebuilt index)."""
        self.optimize()
        self._db.execute("VACUUM")


def remove_index(path: Path) -> None:
    """Delete an index file and its journals (it is derived data)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.remove(side)
