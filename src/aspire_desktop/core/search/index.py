"""Searching the index: resources first, then pages, every step bounded.

Ranking FTS5 pages with ``bm25()`` reads the whole list of every query word (it counts
the pages holding each word before it ranks one), and a word on most of 100,000 pages
costs over 100 ms whatever the LIMIT. So pages are never ranked that way:

1. Resources whose title matches come first (shortest title first), then those whose
   summary or tags match, ranked by ``bm25`` (title weighing most) among the first
   ``RANK_CAP``: a small table, one row a resource. A resource that matches there always
   comes before one that only matches in its documents.
2. If that leaves room, resources whose documents match are found by reading at most
   ``PAGE_SCAN_ROWS`` matching pages in index order, for at most ``PAGE_SCAN_MS``
   (FTS5 returns rows as it finds them, so this stops early), and ranked by how many of
   their pages match. ``partial`` says when the reading stopped before the end.
3. Each resource shown gets its matching pages, the first with a snippet, found within
   its own documents' rowid range (FTS5 seeks straight to it).

Prefixes longer than three letters are resolved to the index's own words first (see
``query.Vocabulary``): FTS5 would otherwise merge the lists of every word they start
again for every one of those small queries.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aspire_desktop.core.errors import DatabaseDamagedError
from aspire_desktop.core.search import schema
from aspire_desktop.core.search.glossary import load_glossary
from aspire_desktop.core.search.query import ParsedQuery, QueryParser
from aspire_desktop.core.search.results import (
    Filters,
    IndexStatus,
    PageHit,
    ResourceHit,
    SearchResults,
    Snippet,
)
from aspire_desktop.core.search.tokens import Tokenizer

#: Resources returned by default.
DEFAULT_LIMIT = 30
#: Page hits of each resource that get a snippet, by default.
DEFAULT_SNIPPETS = 1
#: Matching pages listed for each resource at most.
MAX_PAGES_LISTED = 100
#: Index words a long prefix is resolved to at most (see query.Vocabulary).
MAX_PREFIX_WORDS = 24
#: Resources ranked at most, among those matching other than in their titles.
RANK_CAP = 2000
#: Bounds on finding resources by their text alone (step 2).
PAGE_SCAN_ROWS = 2000
PAGE_SCAN_MS = 8.0
#: Column weights when ranking resources: title, summary, tags.
WEIGHTS = (10.0, 2.0, 5.0)
#: Words around a match in a page snippet, and in a summary snippet.
SNIPPET_WORDS = 16
SUMMARY_WORDS = 24

# Filters, bound as parameters: JSON arrays (or NULL for no restriction) and a flag.
# Each query that filters resources joins them as ``r``. The two queries below are put
# together from constant pieces only (hence the noqa); no text from outside is in them.
_FILTERED = """
    (:kinds IS NULL OR r.kind IN (SELECT value FROM json_each(:kinds)))
    AND (:superseded OR r.status <> 'superseded')
    AND (:categories IS NULL OR EXISTS (
        SELECT 1 FROM resource_categories AS rc
        WHERE rc.resource = r.id AND rc.category IN (SELECT value FROM json_each(:categories))))
"""

# Resources whose title matches, shortest title first (a title that is little more than
# the words searched for is about them; like bm25 for words found once in a title, but no
# scoring).
_IN_TITLES_SQL = (
    "SELECT r.id FROM resource_text"  # noqa: S608
    " JOIN resources AS r ON r.id = resource_text.rowid"
    " WHERE resource_text MATCH :expr AND"
    + _FILTERED
    + " ORDER BY length(r.title), r.id LIMIT :limit"
)

# Resources ranked by bm25 (title weighing most), among the first :cap that match; and
# how many matched, up to the cap.
_RANKED_SQL = (
    "WITH c AS MATERIALIZED (SELECT r.id AS id,"  # noqa: S608
    " bm25(resource_text, :w_title, :w_summary, :w_tags) AS score"
    " FROM resource_text JOIN resources AS r ON r.id = resource_text.rowid"
    " WHERE resource_text MATCH :expr AND"
    + _FILTERED
    + " LIMIT :cap) SELECT id, (SELECT count(*) FROM c) FROM c ORDER BY score LIMIT :limit"
)

_DOC_RESOURCES_SQL = (
    "SELECT rd.doc, r.id FROM resource_docs AS rd JOIN resources AS r"  # noqa: S608
    " ON r.id = rd.resource"
    " WHERE rd.doc IN (SELECT value FROM json_each(:docs)) AND" + _FILTERED
)

_RESOURCE_MARKS_SQL = """
SELECT rowid,
       highlight(resource_text, 0, char(2), char(3)),
       snippet(resource_text, 1, char(2), char(3), '…', :words),
       instr(highlight(resource_text, 2, char(2), char(3)), char(2)) > 0
FROM resource_text
WHERE resource_text MATCH :expr AND rowid IN (SELECT value FROM json_each(:ids))
"""

_RESOURCES_SQL = """
SELECT id, resource_id, title, kind, status, categories FROM resources
WHERE id IN (SELECT value FROM json_each(:ids))
"""

_RESOURCE_DOCS_SQL = """
SELECT rd.resource, d.id, d.sha256, rd.file_name
FROM json_each(:ids) AS j
CROSS JOIN resource_docs AS rd ON rd.resource = j.value
CROSS JOIN docs AS d ON d.id = rd.doc
WHERE d.state = 'indexed'
ORDER BY j.key, rd.position
"""

_SCAN_PAGES_SQL = "SELECT rowid FROM pages WHERE pages MATCH :expr LIMIT :limit"

# A document's matching pages, in order; the first few with a snippet: wanted() is ours,
# true for as many rows as asked (so one query gives the pages and their snippets).
_DOC_PAGES_SQL = """
SELECT rowid, CASE WHEN wanted() THEN snippet(pages, 0, char(2), char(3), '…', :words) END
FROM pages WHERE pages MATCH :expr AND rowid >= :lo AND rowid <= :hi
"""

_PAGE_SNIPPET_SQL = """
SELECT snippet(pages, 0, char(2), char(3), '…', :words) FROM pages
WHERE pages MATCH :expr
  AND rowid = (SELECT id FROM docs WHERE sha256 = :sha256) << 32 | :page
"""

_PREFIX_WORDS_SQL = """
SELECT term FROM pages_terms WHERE term >= :lo AND term < :hi
UNION
SELECT term FROM resource_terms WHERE term >= :lo AND term < :hi
LIMIT :limit
"""

_FAILURES_SQL = """
SELECT min(rd.file_name), coalesce(d.error, '')
FROM docs AS d JOIN resource_docs AS rd ON rd.doc = d.id
WHERE d.state = 'failed' GROUP BY d.id ORDER BY 1
"""

_STATUS_SQL = """
SELECT state, count(*), coalesce(sum(pages), 0) FROM docs
WHERE id IN (SELECT doc FROM resource_docs) GROUP BY state
"""


class SearchIndexDamagedError(DatabaseDamagedError):
    """The search index cannot be read (the app rebuilds its own; a prebuilt one comes
    back with a reinstall). Not a content problem, so not exit code 4."""

    exit_code = 1


@dataclass
class _Resource:
    id: int
    resource_id: str = ""
    title: str = ""
    kind: str = ""
    status: str = ""
    categories: tuple[str, ...] = ()
    title_marked: str = ""
    summary_marked: str = ""
    tags_matched: bool = False


class SearchIndex:
    """Read-only searches on one index file. Thread-safe: calls are serialised.

    ``immutable`` is for a prebuilt index in a content folder (never written); an index
    the app writes is opened so that searches see each document as it is committed.
    """

    def __init__(self, path: Path, *, immutable: bool = False) -> None:
        self.path = path
        self.immutable = immutable
        self._lock = threading.Lock()
        self._tokenizer = Tokenizer()
        self._parser = QueryParser(
            self._tokenizer, load_glossary(self._tokenizer), self._prefix_words
        )
        self._words: dict[str, tuple[str, ...] | None] = {}  # prefix -> index words
        self._data_version = -1
        self._snippets_left = 0
        try:
            self._db = schema.connect_read_only(path, immutable=immutable)
            version = schema.schema_version(self._db)
        except sqlite3.DatabaseError as exc:
            self._tokenizer.close()
            raise self._damaged(exc) from exc
        self._db.create_function("wanted", 0, self._wanted)
        if version != schema.SCHEMA_VERSION:
            self.close()
            raise SearchIndexDamagedError(
                f"The search index at {path} is of another version ({version}).",
                "It is rebuilt when ASPire Desktop starts.",
            )

    def _damaged(self, exc: BaseException) -> SearchIndexDamagedError:
        return SearchIndexDamagedError(
            f"The search index at {self.path} cannot be read ({exc}).",
            "Reinstall ASPire Desktop: the index came with it."
            if self.immutable
            else f"Quit ASPire Desktop and delete {self.path}: it is built again at the "
            "next start. Your content and notes are not affected.",
        )

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """Hold the lock; a database error is a damaged index, in plain words."""
        with self._lock:
            try:
                yield
            except sqlite3.ProgrammingError:
                raise  # our mistake (a closed index), not a damaged file
            except sqlite3.DatabaseError as exc:
                if str(exc).startswith("fts5: syntax error"):
                    raise  # a bug in the parser: the fuzz tests say it cannot happen
                raise self._damaged(exc) from exc

    def close(self) -> None:
        with self._lock:
            if hasattr(self, "_db"):
                self._db.close()
            self._tokenizer.close()

    def parse(self, text: str) -> ParsedQuery:
        with self._lock:
            return self._parse(text)

    def _parse(self, text: str) -> ParsedQuery:
        # Words learnt from the index go stale when a writer commits new documents.
        version = int(self._db.execute("PRAGMA data_version").fetchone()[0])
        if version != self._data_version:
            self._words.clear()
            self._data_version = version
        return self._parser.parse(text)

    def _wanted(self) -> bool:
        self._snippets_left -= 1
        return self._snippets_left >= 0

    def _prefix_words(self, stem: str) -> tuple[str, ...] | None:
        if stem not in self._words:
            rows = self._db.execute(
                _PREFIX_WORDS_SQL,
                {"lo": stem, "hi": stem + "\U0010ffff", "limit": MAX_PREFIX_WORDS + 1},
            ).fetchall()
            words = tuple(str(r[0]) for r in rows)
            if len(self._words) >= 1024:
                self._words.clear()
            self._words[stem] = words if len(words) <= MAX_PREFIX_WORDS else None
        return self._words[stem]

    # Searching -----------------------------------------------------------------------
    def search(
        self,
        text: str,
        filters: Filters | None = None,
        limit: int = DEFAULT_LIMIT,
        snippets: int = DEFAULT_SNIPPETS,
    ) -> SearchResults:
        """The resources matching ``text`` (any text: it is never an error), best first,
        at most ``limit``; the first ``snippets`` page hits of each carry a snippet."""
        started = time.perf_counter()
        hits: tuple[ResourceHit, ...] = ()
        more = partial = False
        with self._reading():
            parsed = self._parse(text)
            if parsed.expression is not None and limit > 0:
                hits, more, partial = self._search(
                    parsed, filters or Filters(), limit, max(snippets, 0)
                )
        return SearchResults(
            query=text,
            expression=parsed.expression,
            hits=hits,
            more=more,
            partial=partial,
            expansions=parsed.expansions,
            truncated=parsed.truncated,
            elapsed_ms=(time.perf_counter() - started) * 1000,
        )

    def snippet(self, text: str, sha256: str, page: int) -> Snippet | None:
        """The snippet of one page (0-based) of a document for ``text``, or None if the
        page does not match: for a page hit listed without one (to show it, or to know
        which words to highlight when the page is opened)."""
        with self._reading():
            parsed = self._parse(text)
            if parsed.expression is None or not 0 <= page <= schema.PAGE_MASK:
                return None
            row = self._db.execute(
                _PAGE_SNIPPET_SQL,
                {"expr": parsed.expression, "sha256": sha256, "page": page, "words": SNIPPET_WORDS},
            ).fetchone()
        return None if row is None else Snippet.from_marked(row[0])

    def _search(
        self, query: ParsedQuery, filters: Filters, limit: int, snippets: int
    ) -> tuple[tuple[ResourceHit, ...], bool, bool]:
        expr = query.expression
        assert expr is not None
        bound = _filter_params(filters)
        # Title matches first (all of them), then the rest (ranked up to a cap).
        rows = self._db.execute(
            _IN_TITLES_SQL, {"expr": query.in_titles(), "limit": limit + 1, **bound}
        ).fetchall()
        ids = [int(r[0]) for r in rows]
        partial = False
        if len(ids) <= limit:
            more_ids, partial = self._ranked(expr, bound, limit + 1 + len(ids))
            seen = set(ids)
            ids += [i for i in more_ids if i not in seen]
        chosen = [_Resource(i) for i in ids[:limit]]
        more = len(ids) > limit
        if not more:
            found, scanned_part = self._by_text(expr, bound, set(ids))
            room = limit - len(chosen)
            chosen += found[:room]
            more = len(found) > room
            partial |= scanned_part
        if not chosen:
            return (), more, partial
        self._fill(expr, chosen)
        page_hits = self._page_hits(expr, chosen, snippets)
        hits = []
        for r in chosen:
            found_pages, count = page_hits.get(r.id, ((), 0))
            title = Snippet.from_marked(r.title_marked or r.title)
            summary = Snippet.from_marked(r.summary_marked) if r.summary_marked else None
            if summary is not None and not summary.has_match:
                summary = None
            matched_in = [
                name
                for name, yes in (
                    ("title", title.has_match),
                    ("summary", summary is not None),
                    ("tags", r.tags_matched),
                    ("text", count > 0),
                )
                if yes
            ]
            hits.append(
                ResourceHit(
                    resource_id=r.resource_id,
                    title=r.title,
                    kind=r.kind,
                    status=r.status,
                    category_ids=r.categories,
                    title_snippet=title,
                    summary_snippet=summary,
                    matched_in=tuple(matched_in),
                    pages=found_pages,
                    page_count=count,
                )
            )
        return tuple(hits), more, partial

    def _ranked(self, expr: str, bound: dict[str, object], limit: int) -> tuple[list[int], bool]:
        """Resource row ids best first, and whether more matched than were ranked."""
        rows = self._db.execute(
            _RANKED_SQL,
            {
                "expr": expr,
                "limit": limit,
                "cap": RANK_CAP,
                "w_title": WEIGHTS[0],
                "w_summary": WEIGHTS[1],
                "w_tags": WEIGHTS[2],
                **bound,
            },
        ).fetchall()
        return [int(r[0]) for r in rows], bool(rows and rows[0][1] >= RANK_CAP)

    def _by_text(
        self, expr: str, bound: dict[str, object], exclude: set[int]
    ) -> tuple[list[_Resource], bool]:
        """Resources (not in ``exclude``) whose documents match, most matching pages
        first, from a bounded read of the matching pages; and whether it was cut short."""
        counts: Counter[int] = Counter()
        rows = 0
        deadline = time.perf_counter() + PAGE_SCAN_MS / 1000
        stopped = False

        def over_time() -> bool:
            nonlocal stopped
            stopped = time.perf_counter() > deadline
            return stopped

        self._db.set_progress_handler(over_time, 2000)
        cursor = self._db.cursor()
        try:
            cursor.execute(_SCAN_PAGES_SQL, {"expr": expr, "limit": PAGE_SCAN_ROWS})
            while batch := cursor.fetchmany(1024):
                rows += len(batch)
                counts.update(rowid >> schema.PAGE_BITS for (rowid,) in batch)
                if time.perf_counter() > deadline:
                    stopped = True
                    break
        except sqlite3.OperationalError:
            if not stopped:  # "interrupted" by over_time(); anything else is not ours
                raise
        finally:
            cursor.close()
            self._db.set_progress_handler(None, 0)
        if not counts:
            return [], stopped
        scores: Counter[int] = Counter()
        for doc, resource in self._db.execute(
            _DOC_RESOURCES_SQL, {"docs": json.dumps(list(counts)), **bound}
        ):
            if resource not in exclude:
                scores[int(resource)] += counts[int(doc)]
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        return [_Resource(rid) for rid, _ in ranked], stopped or rows >= PAGE_SCAN_ROWS

    def _fill(self, expr: str, chosen: list[_Resource]) -> None:
        """Titles, kinds, categories and marked title/summary of the chosen resources."""
        by_id = {r.id: r for r in chosen}
        ids = json.dumps(list(by_id))
        for rid, resource_id, title, kind, status, categories in self._db.execute(
            _RESOURCES_SQL, {"ids": ids}
        ):
            r = by_id[int(rid)]
            r.resource_id, r.title, r.kind, r.status = resource_id, title, kind, status
            r.categories = tuple(json.loads(categories))
        for rid, title_marked, summary_marked, tags_matched in self._db.execute(
            _RESOURCE_MARKS_SQL, {"expr": expr, "ids": ids, "words": SUMMARY_WORDS}
        ):
            r = by_id[int(rid)]
            r.title_marked, r.summary_marked = title_marked, summary_marked
            r.tags_matched = bool(tags_matched)

    def _page_hits(
        self, expr: str, chosen: list[_Resource], snippets: int
    ) -> dict[int, tuple[tuple[PageHit, ...], int]]:
        """Each chosen resource's matching pages (the first ``snippets`` with a snippet)
        and how many match in all."""
        docs = self._db.execute(
            _RESOURCE_DOCS_SQL, {"ids": json.dumps([r.id for r in chosen])}
        ).fetchall()
        found: dict[int, tuple[tuple[PageHit, ...], int]] = {}
        for resource, doc, sha256, file_name in docs:
            hits, count = found.get(resource, ((), 0))
            self._snippets_left = snippets - sum(h.snippet is not None for h in hits)
            lo = int(doc) << schema.PAGE_BITS
            rows = self._db.execute(
                _DOC_PAGES_SQL,
                {"expr": expr, "lo": lo, "hi": lo | schema.PAGE_MASK, "words": SNIPPET_WORDS},
            ).fetchall()
            room = max(MAX_PAGES_LISTED - len(hits), 0)
            hits += tuple(
                PageHit(
                    sha256,
                    file_name,
                    rowid & schema.PAGE_MASK,
                    None if marked is None else Snippet.from_marked(marked),
                )
                for rowid, marked in rows[:room]
            )
            found[resource] = (hits, count + len(rows))
        return found

    # State ---------------------------------------------------------------------------
    def check(self) -> list[str]:
        """Problems SQLite finds in the file (empty: healthy)."""
        with self._lock:
            try:
                rows = [str(r[0]) for r in self._db.execute("PRAGMA quick_check")]
            except sqlite3.DatabaseError as exc:
                return [str(exc)]
        return [] if rows == ["ok"] else rows

    def _read(self, sql: str) -> list[tuple[Any, ...]]:
        with self._reading():
            return self._db.execute(sql).fetchall()

    def failures(self) -> list[tuple[str, str]]:
        """(file name, why) of each document of the content that could not be indexed."""
        return [(str(name), str(why)) for name, why in self._read(_FAILURES_SQL)]

    def status(self) -> IndexStatus:
        rows = self._read(_STATUS_SQL)
        by_state = {str(state): (int(n), int(p)) for state, n, p in rows}
        return IndexStatus(
            indexed=by_state.get("indexed", (0, 0))[0],
            waiting=by_state.get("queued", (0, 0))[0],
            failed=by_state.get("failed", (0, 0))[0],
            absent=by_state.get("absent", (0, 0))[0],
            pages=by_state.get("indexed", (0, 0))[1],
            read_only=self.immutable,
        )


def _filter_params(filters: Filters) -> dict[str, object]:
    return {
        "kinds": json.dumps(sorted(filters.kinds)) if filters.kinds else None,
        "categories": json.dumps(sorted(filters.categories)) if filters.categories else None,
        "superseded": filters.include_superseded,
    }
