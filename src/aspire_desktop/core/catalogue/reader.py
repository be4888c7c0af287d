"""Fast, read-only access to a catalogue database.

This is the path the window starts on, so it uses the standard library's ``sqlite3``
with fixed, parameterised SQL: importing SQLAlchemy's ORM costs ~400 ms here, more than
the whole start-up budget. The schema itself is defined once, in ``models``; a test
checks these queries against databases built from it.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from aspire_desktop.core.errors import DatabaseDamagedError


@dataclass(frozen=True)
class CategoryRow:
    id: str
    name: str
    parent_id: str | None
    position: int
    count: int


@dataclass(frozen=True)
class ResourceBrief:
    id: str
    title: str
    kind: str
    status: str
    files: int
    cached_files: int

    @property
    def has_document(self) -> bool:
        return self.files > 0

    @property
    def cached(self) -> bool:
        return self.files > 0 and self.cached_files == self.files


@dataclass(frozen=True)
class FileRow:
    id: int
    role: str
    name: str
    media_type: str
    size: int | None
    sha256: str | None
    page_count: int | None
    cached: bool


@dataclass(frozen=True)
class ResourceDetail:
    id: str
    title: str
    summary: str
    kind: str
    source_url: str | None
    publisher: str | None
    published: str | None
    updated: str | None
    reviewed: str | None
    status: str
    superseded_by: str | None
    picture_alt: str
    picture_sha256: str | None
    categories: list[tuple[str, str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    files: list[FileRow] = field(default_factory=list)

    @property
    def main_file(self) -> FileRow | None:
        """The document to open: the main one, else the first PDF the resource carries."""
        pdfs = [f for f in self.files if f.media_type == "application/pdf"]
        for f in pdfs:
            if f.role == "main":
                return f
        return pdfs[0] if pdfs else None


_CATEGORIES_SQL = """
SELECT c.id, c.name, c.parent_id, c.position, COUNT(rc.resource_id)
FROM categories AS c
LEFT JOIN resource_categories AS rc ON rc.category_id = c.id
GROUP BY c.id
ORDER BY c.position, c.name
"""

# Every word of the filter (a JSON array of case-folded words) must occur in the
# resource's filter text. Static SQL: the words are bound as one parameter.
_IDS_IN_CATEGORY_SQL = """
SELECT r.id FROM resource_categories AS rc JOIN resources AS r ON r.id = rc.resource_id
WHERE rc.category_id = :category
  AND NOT EXISTS (SELECT 1 FROM json_each(:words) AS w WHERE instr(r.filter_text, w.value) = 0)
ORDER BY rc.position, r.title COLLATE NOCASE
"""

_IDS_ALL_SQL = """
SELECT r.id FROM resources AS r
WHERE NOT EXISTS (SELECT 1 FROM json_each(:words) AS w WHERE instr(r.filter_text, w.value) = 0)
ORDER BY r.title COLLATE NOCASE, r.id
"""

# The filter index of a category: every resource's id and filter text, in list order.
# The list model filters these in memory as the user types (a few ms for 10,000).
_INDEX_IN_CATEGORY_SQL = """
SELECT r.id, r.filter_text
FROM resource_categories AS rc JOIN resources AS r ON r.id = rc.resource_id
WHERE rc.category_id = :category
ORDER BY rc.position, r.title COLLATE NOCASE
"""

_INDEX_ALL_SQL = """
SELECT r.id, r.filter_text FROM resources AS r ORDER BY r.title COLLATE NOCASE, r.id
"""

_BRIEF_SQL = """
SELECT r.id, r.title, r.kind, r.status,
       (SELECT COUNT(*) FROM files AS f WHERE f.resource_id = r.id),
       (SELECT COUNT(*) FROM files AS f WHERE f.resource_id = r.id AND f.cached)
FROM resources AS r WHERE r.id IN (SELECT value FROM json_each(:ids))
"""

_DETAIL_SQL = """
SELECT id, title, summary, kind, source_url, publisher, published, updated, reviewed,
       status, superseded_by, picture_alt, picture_sha256
FROM resources WHERE id = :id
"""


def words_of(text: str) -> list[str]:
    """The filter box's text as case-folded words (NULs dropped: SQLite's instr() stops
    at one)."""
    return text.replace("\0", " ").casefold().split()


def filter_words(text: str) -> str:
    """The filter box's text as the JSON array of words the queries bind."""
    return json.dumps(words_of(text))


def matches(filter_text: str, words: list[str]) -> bool:
    """The same test as the SQL filter: every word occurs in the filter text."""
    return all(w in filter_text for w in words)


class CatalogueReader:
    """Read-only queries on one catalogue database (one content version)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            # Content versions are never modified in place (sync writes a new folder),
            # so the file can be opened immutable: no locks, works on read-only media.
            uri = path.resolve().as_uri() + "?mode=ro&immutable=1"
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            rows = self._db.execute("SELECT key, value FROM meta").fetchall()
        except sqlite3.DatabaseError as exc:
            raise DatabaseDamagedError(
                f"The catalogue at {path} cannot be read ({exc}).",
                "The app will use the content it was installed with.",
            ) from exc
        self.meta: dict[str, str] = dict(rows)

    def close(self) -> None:
        self._db.close()

    def _query(self, sql: str, params: dict[str, object]) -> list[tuple[object, ...]]:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.ProgrammingError:
            raise  # our mistake (e.g. a closed reader), not a damaged file
        except sqlite3.DatabaseError as exc:
            raise DatabaseDamagedError(
                f"The catalogue at {self.path} is damaged ({exc}).",
                "Run 'aspire-desktop doctor'; the next sync replaces it.",
            ) from exc

    def categories(self) -> list[CategoryRow]:
        return [
            CategoryRow(str(r[0]), str(r[1]), _opt(r[2]), int(str(r[3])), int(str(r[4])))
            for r in self._query(_CATEGORIES_SQL, {})
        ]

    def category_introduction(self, category_id: str) -> str:
        rows = self._query(
            "SELECT introduction FROM categories WHERE id = :id", {"id": category_id}
        )
        return str(rows[0][0]) if rows else ""

    def resource_count(self) -> int:
        return int(str(self._query("SELECT COUNT(*) FROM resources", {})[0][0]))

    def resource_ids(self, category_id: str | None = None, text: str = "") -> list[str]:
        """Ids of the resources in a category (all when None) whose text matches."""
        words = filter_words(text)
        if category_id is None:
            rows = self._query(_IDS_ALL_SQL, {"words": words})
        else:
            rows = self._query(_IDS_IN_CATEGORY_SQL, {"category": category_id, "words": words})
        return [str(r[0]) for r in rows]

    def filter_index(self, category_id: str | None = None) -> list[tuple[str, str]]:
        """(id, filter text) of a category's resources (all when None), in list order."""
        if category_id is None:
            rows = self._query(_INDEX_ALL_SQL, {})
        else:
            rows = self._query(_INDEX_IN_CATEGORY_SQL, {"category": category_id})
        return [(str(r[0]), str(r[1])) for r in rows]

    def briefs(self, ids: list[str]) -> dict[str, ResourceBrief]:
        rows = self._query(_BRIEF_SQL, {"ids": json.dumps(ids)})
        return {
            str(r[0]): ResourceBrief(
                str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(str(r[4])), int(str(r[5]))
            )
            for r in rows
        }

    def detail(self, resource_id: str) -> ResourceDetail | None:
        rows = self._query(_DETAIL_SQL, {"id": resource_id})
        if not rows:
            return None
        r = rows[0]
        cats = self._query(
            "SELECT c.id, c.name FROM resource_categories AS rc "
            "JOIN categories AS c ON c.id = rc.category_id "
            "WHERE rc.resource_id = :id ORDER BY c.position",
            {"id": resource_id},
        )
        tags = self._query(
            "SELECT tag FROM tags WHERE resource_id = :id ORDER BY tag", {"id": resource_id}
        )
        files = self._query(
            "SELECT id, role, name, media_type, size, sha256, page_count, cached "
            "FROM files WHERE resource_id = :id ORDER BY id",
            {"id": resource_id},
        )
        return ResourceDetail(
            id=str(r[0]),
            title=str(r[1]),
            summary=str(r[2]),
            kind=str(r[3]),
            source_url=_opt(r[4]),
            publisher=_opt(r[5]),
            published=_opt(r[6]),
            updated=_opt(r[7]),
            reviewed=_opt(r[8]),
            status=str(r[9]),
            superseded_by=_opt(r[10]),
            picture_alt=str(r[11]),
            picture_sha256=_opt(r[12]),
            categories=[(str(c[0]), str(c[1])) for c in cats],
            tags=[str(t[0]) for t in tags],
            files=[_file_row(f) for f in files],
        )

    def all_files(self) -> list[tuple[str, FileRow]]:
        """Every file row with its resource id (for integrity checks)."""
        rows = self._query(
            "SELECT resource_id, id, role, name, media_type, size, sha256, page_count, cached "
            "FROM files ORDER BY resource_id, id",
            {},
        )
        return [(str(f[0]), _file_row(f[1:])) for f in rows]

    def integrity_problems(self) -> list[str]:
        """Full SQLite integrity check plus a look at the tables (slow on big files)."""
        try:
            result = [str(r[0]) for r in self._db.execute("PRAGMA integrity_check").fetchall()]
            self._db.execute("SELECT COUNT(*) FROM resources").fetchone()
        except sqlite3.DatabaseError as exc:
            return [str(exc)]
        return [] if result == ["ok"] else result


def _file_row(f: tuple[object, ...]) -> FileRow:
    """A FileRow from (id, role, name, media_type, size, sha256, page_count, cached)."""
    return FileRow(
        int(str(f[0])),
        str(f[1]),
        str(f[2]),
        str(f[3]),
        _opt_int(f[4]),
        _opt(f[5]),
        _opt_int(f[6]),
        bool(f[7]),
    )


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


def _opt_int(value: object) -> int | None:
    return None if value is None else int(str(value))
