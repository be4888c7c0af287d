"""Moving bookmarks and notes between computers: a versioned JSON file, and plain text.

The JSON format is documented in docs/bookmarks-format.md; its schema is
``bookmarks.schema.json`` beside this file. Import checks the whole file first and
changes nothing unless all of it is good; it merges, skipping what is already there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from aspire_desktop import __version__
from aspire_desktop.core.errors import UserError
from aspire_desktop.core.userdata.bookmarks import BookmarkData, ImportResult, Quote
from aspire_desktop.core.userdata.store import UserData

FORMAT = "aspire-desktop-bookmarks"
VERSION = 1
SCHEMA = Path(__file__).resolve().parent / "bookmarks.schema.json"
MAX_BYTES = 50 * 1024 * 1024


class ImportError_(UserError):
    """The file to import is not a bookmarks file this app can read."""


@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.replace(tzinfo=UTC).isoformat()


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def to_document(
    bookmarks: list[BookmarkData], notes: list[tuple[str, int, str, datetime]] | None = None
) -> dict[str, Any]:
    return {
        "page_notes": [
            {"document_key": k, "page": p, "text": t, "updated_at": _iso(u)}
            for k, p, t, u in (notes or [])
        ],
        "format": FORMAT,
        "version": VERSION,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "app_version": __version__,
        "bookmarks": [
            {
                "uid": b.uid,
                "resource_id": b.resource_id,
                "kind": b.kind,
                "page": b.page,
                "page_count": b.page_count,
                "document_sha256": b.document_sha256,
                "document_title": b.document_title,
                "quote": {
                    "exact": b.quote.exact,
                    "prefix": b.quote.prefix,
                    "suffix": b.quote.suffix,
                },
                "note": b.note,
                "label": b.label,
                "created_at": _iso(b.created_at),
                "updated_at": _iso(b.updated_at),
            }
            for b in bookmarks
        ],
    }


def export_json(userdata: UserData, path: Path) -> int:
    """Write every bookmark to ``path`` (atomically); returns how many."""
    bookmarks = userdata.bookmarks()
    document = to_document(bookmarks, userdata.page_notes())
    _write_atomically(path, json.dumps(document, indent=2, ensure_ascii=False))
    return len(bookmarks)


def export_text(userdata: UserData, path: Path, title_of: Callable[[str], str | None]) -> int:
    """Plain text for pasting into other records: title, page, quote and note."""
    bookmarks = userdata.bookmarks()
    blocks = []
    for b in bookmarks:
        title = title_of(b.resource_id) or b.document_title or b.resource_id
        lines = [title]
        if b.page is not None:
            total = f" of {b.page_count}" if b.page_count else ""
            lines.append(f"Page {b.page + 1}{total}")
        if b.quote.exact:
            lines.append(f"“{' '.join(b.quote.exact.split())}”")
        if b.label:
            lines.append(f"Label: {b.label}")
        if b.note:
            lines.append(f"Note: {b.note}")
        blocks.append("\n".join(lines))
    _write_atomically(path, "\n\n".join(blocks) + ("\n" if blocks else ""))
    return len(bookmarks)


def read_document(path: Path) -> tuple[list[BookmarkData], list[tuple[str, int, str, Any]]]:
    """Read and check a bookmarks file; raises a plain-words error for anything else."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ImportError_(f"{path.name} is too large to be a bookmarks file.", "")
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportError_(f"{path.name} cannot be read ({exc.strerror}).", "") from exc
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportError_(
            f"{path.name} is not a bookmarks file (it is not JSON).",
            "Choose a file made with File ▸ Export bookmarks.",
        ) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ImportError_(
            f"{path.name} is not an ASPire Desktop bookmarks file.",
            "Choose a file made with File ▸ Export bookmarks.",
        )
    if data.get("version") != VERSION:
        raise ImportError_(
            f"{path.name} was made by a newer version of ASPire Desktop "
            f"(format {data.get('version')!r}).",
            "Update ASPire Desktop, then import it again.",
        )
    errors = sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "the file"
        raise ImportError_(
            f"{path.name} is damaged: {where}: {errors[0].message[:200]}.",
            "Nothing was imported. Export the bookmarks again and import the new file.",
        )
    notes = [
        (n["document_key"], n["page"], n["text"], _parse_time(n.get("updated_at")))
        for n in data.get("page_notes", [])
    ]
    return [
        BookmarkData(
            uid=b["uid"],
            resource_id=b["resource_id"],
            kind=b["kind"],
            page=b.get("page"),
            page_count=b.get("page_count"),
            document_sha256=b.get("document_sha256"),
            document_title=b.get("document_title", ""),
            quote=Quote(**b.get("quote", {})),
            note=b.get("note", ""),
            label=b.get("label", ""),
            created_at=_parse_time(b.get("created_at")),
            updated_at=_parse_time(b.get("updated_at")),
        )
        for b in data["bookmarks"]
    ], notes


def import_json(userdata: UserData, path: Path) -> ImportResult:
    """Merge a bookmarks file: all of it or (on any error) nothing; no duplicates."""
    incoming, notes = read_document(path)
    result = userdata.merge_bookmarks(incoming)
    userdata.merge_page_notes(notes)
    return result


def _write_atomically(path: Path, text: str) -> None:
    import os
    import tempfile

    path = path.expanduser()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise UserError(
            f"{path.name} cannot be written ({exc.strerror}).",
            "Check the folder exists, that you may write there and that the disk is not full.",
        ) from exc
