"""What changed between two catalogues: resources added, updated, removed, superseded.

Both sides are read with the same fixed queries, so the comparison is of what the app
shows, not of how the bytes happen to be laid out.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

# Positions are left out: a resource that only moved in a list has not changed.
_RESOURCES_SQL = """
SELECT id, title, summary, kind, source_url, publisher, published, updated, reviewed,
       status, superseded_by, picture_alt, picture_sha256
FROM resources
"""
_FILES_SQL = """
SELECT resource_id, role, name, media_type, size, sha256, page_count, cached
FROM files ORDER BY resource_id, id
"""
_TAGS_SQL = "SELECT resource_id, tag FROM tags ORDER BY resource_id, tag"
_CATEGORIES_SQL = (
    "SELECT resource_id, category_id FROM resource_categories ORDER BY resource_id, category_id"
)


@dataclass(frozen=True)
class Changes:
    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    superseded: tuple[str, ...] = ()

    @property
    def any(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.superseded)


def fingerprints(catalogue: Path) -> dict[str, tuple[str, str]]:
    """Each resource's (status, digest of everything shown about it)."""
    uri = catalogue.resolve().as_uri() + "?mode=ro&immutable=1"
    db = sqlite3.connect(uri, uri=True)
    try:
        parts: dict[str, list[str]] = {}
        status: dict[str, str] = {}
        for row in db.execute(_RESOURCES_SQL):
            status[str(row[0])] = str(row[9])
            parts[str(row[0])] = [repr(row)]
        for sql in (_FILES_SQL, _TAGS_SQL, _CATEGORIES_SQL):
            for row in db.execute(sql):
                parts.setdefault(str(row[0]), []).append(repr(row))
    finally:
        db.close()
    return {
        rid: (status.get(rid, ""), hashlib.sha256("\n".join(rows).encode()).hexdigest())
        for rid, rows in parts.items()
        if rid in status
    }


def compare(old: Path | None, new: Path) -> Changes:
    """Changes from the catalogue ``old`` (None: nothing before) to ``new``."""
    before = fingerprints(old) if old is not None else {}
    after = fingerprints(new)
    superseded = sorted(
        rid
        for rid, (state, _) in after.items()
        if state == "superseded" and before.get(rid, ("", ""))[0] != "superseded"
    )
    return Changes(
        added=tuple(sorted(set(after) - set(before) - set(superseded))),
        updated=tuple(
            sorted(
                rid
                for rid in set(after) & set(before)
                if after[rid][1] != before[rid][1] and rid not in superseded
            )
        ),
        removed=tuple(sorted(set(before) - set(after))),
        superseded=tuple(superseded),
    )
