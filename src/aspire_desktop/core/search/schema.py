"""The search index database: its tables, and opening it for reading or writing.

The index is its own SQLite file beside the catalogue, never part of it::

    meta              key/value: what the index was built for (catalogue checksum, folders)
    docs              every document seen, by sha256: queued | absent | indexed | failed
    pages             FTS5, one row per page with text; rowid = doc id << 32 | page (0-based)
    resources         the current catalogue's resources (id, title, kind, status, categories)
    resource_categories, resource_docs
                      which categories a resource is in; which documents it has
    resource_text     FTS5 over each resource's title, summary and tags (rowid = resources.id)
    pages_terms, resource_terms
                      fts5vocab: the words in each (to resolve long prefixes)

Documents are keyed by their checksum, so a document is indexed once, whatever version of
the content it comes with. The resource tables are rebuilt whenever the catalogue
changes (a few thousand rows; well under a second). The index is derived data: a file
with another schema version is rebuilt from scratch, never migrated.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from aspire_desktop.core.search.tokens import TOKENIZE, normalize

#: Bumped whenever the tables change; an index with another version is rebuilt.
SCHEMA_VERSION = 1
#: The index's file name, in a content folder (prebuilt) or in the user's data folder.
INDEX_FILE = "search.sqlite"
#: Bits of an FTS5 rowid that hold the page number (so no page cap in practice).
PAGE_BITS = 32
PAGE_MASK = (1 << PAGE_BITS) - 1

_FTS_OPTIONS = f"tokenize='{TOKENIZE}', prefix='2 3'"

DOCS_SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE docs (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    pages INTEGER,
    error TEXT
);
CREATE INDEX docs_state ON docs (state, id);
CREATE VIRTUAL TABLE pages USING fts5(body, {_FTS_OPTIONS});
CREATE VIRTUAL TABLE pages_terms USING fts5vocab(pages, 'row');
"""

RESOURCE_TABLES = (
    "resource_terms",
    "resource_text",
    "resource_docs",
    "resource_categories",
    "resources",
)

RESOURCE_SCHEMA = f"""
CREATE TABLE resources (
    id INTEGER PRIMARY KEY,
    resource_id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    categories TEXT NOT NULL
);
CREATE TABLE resource_categories (
    category TEXT NOT NULL,
    resource INTEGER NOT NULL,
    PRIMARY KEY (category, resource)
) WITHOUT ROWID;
CREATE TABLE resource_docs (
    resource INTEGER NOT NULL,
    doc INTEGER NOT NULL,
    position INTEGER NOT NULL,
    file_name TEXT NOT NULL,
    PRIMARY KEY (resource, doc)
) WITHOUT ROWID;
CREATE INDEX resource_docs_doc ON resource_docs (doc);
CREATE VIRTUAL TABLE resource_text USING fts5(title, summary, tags, {_FTS_OPTIONS});
CREATE VIRTUAL TABLE resource_terms USING fts5vocab(resource_text, 'row');
"""

# Text from catalogues and documents goes through clean() before it is indexed: the two
# characters snippets are marked with can then only ever be our markers.
MARK_START = "\x02"
MARK_END = "\x03"
_UNMARK = str.maketrans({MARK_START: " ", MARK_END: " "})


def clean(text: str) -> str:
    return normalize(text).translate(_UNMARK)


# FTS5 settings for the pages, measured on 100,000 pages: collect up to 32 MB of new
# terms in memory before writing a segment (the default, 1 MB, writes one every few
# hundred pages), and merge segments in larger steps: indexing takes about half the CPU.
_PAGES_CONFIG = {"hashsize": 32 << 20, "automerge": 8}


def create(db: sqlite3.Connection) -> None:
    """Create every table in an empty database (in one transaction)."""
    db.execute("BEGIN")
    for script in (DOCS_SCHEMA, RESOURCE_SCHEMA):
        for statement in script.split(";"):
            if statement.strip():
                db.execute(statement)
    for key, value in _PAGES_CONFIG.items():
        db.execute("INSERT INTO pages (pages, rank) VALUES (?, ?)", (key, value))
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    db.execute("COMMIT")


def schema_version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def connect_read_only(path: Path, *, immutable: bool) -> sqlite3.Connection:
    """Open for reading: ``immutable`` for a prebuilt index in a content folder (never
    changed in place, maybe on read-only media), otherwise alongside a writer (WAL)."""
    query = "mode=ro&immutable=1" if immutable else "mode=rw"
    db = sqlite3.connect(
        f"{path.resolve().as_uri()}?{query}",
        uri=True,
        check_same_thread=False,
        isolation_level=None,
    )
    if not immutable:
        db.execute("PRAGMA query_only = 1")
        db.execute("PRAGMA busy_timeout = 5000")
    return db


def connect_writer(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) for writing; transactions are explicit."""
    # A URI, so that catalogues can be attached read-only (and immutable) by URI.
    db = sqlite3.connect(
        path.resolve().as_uri(), uri=True, check_same_thread=False, isolation_level=None
    )
    db.execute("PRAGMA busy_timeout = 5000")
    # Checkpoint the write-ahead log every 40 MB rather than 4 MB: fewer waits on the disk.
    db.execute("PRAGMA wal_autocheckpoint = 10000")
    return db


def meta(db: sqlite3.Connection) -> dict[str, str]:
    return {str(k): str(v) for k, v in db.execute("SELECT key, value FROM meta")}
