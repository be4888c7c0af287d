"""Presentation playlists: pages and ranges from several documents, in order."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from aspire_desktop.core.errors import UserError

FORMAT = "aspire-desktop-playlist"
VERSION = 1


@dataclass(frozen=True)
class PlaylistItem:
    document_key: str  # a resource id, or "file:<path>"
    title: str
    first: int  # 0-based, inclusive
    last: int

    def pages(self) -> range:
        return range(self.first, self.last + 1)


@dataclass(frozen=True)
class Slide:
    document_key: str
    title: str
    page: int


@dataclass(frozen=True)
class PlaylistData:
    name: str
    items: tuple[PlaylistItem, ...]

    def slides(self) -> list[Slide]:
        return [Slide(i.document_key, i.title, p) for i in self.items for p in i.pages()]

    def items_json(self) -> str:
        return json.dumps([asdict(i) for i in self.items])

    @classmethod
    def from_json(cls, name: str, items: str) -> PlaylistData:
        return cls(name, tuple(PlaylistItem(**i) for i in json.loads(items)))

    def to_document(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "name": self.name,
            "items": json.loads(self.items_json()),
        }


class PlaylistFileError(UserError):
    """The file is not a playlist this app can read."""


def parse_ranges(text: str, page_count: int) -> list[tuple[int, int]]:
    """'1-5, 8, 10-' (1-based, as people type them) → 0-based inclusive ranges."""
    ranges = []
    for part in re.split(r"[,;\s]+", text.strip()):
        if not part:
            continue
        m = re.fullmatch(r"(\d+)?(?:\s*[-–]\s*(\d+)?)?", part)
        if not m or (m.group(1) is None and m.group(2) is None):
            raise UserError(f"“{part}” is not a page or a range.", "Type pages like 1-5, 8, 10-12.")
        is_range = "-" in part or "–" in part
        first = int(m.group(1)) if m.group(1) else 1
        last = int(m.group(2)) if m.group(2) else (page_count if is_range else first)
        if not 1 <= first <= last <= page_count:
            raise UserError(
                f"Pages {part} are not in this document (it has {page_count}).",
                "Type pages that the document has.",
            )
        ranges.append((first - 1, last - 1))
    if not ranges:
        raise UserError("No pages were given.", "Type pages like 1-5, 8, 10-12.")
    return ranges


def read_playlist(data: object) -> PlaylistData:
    """Check an imported playlist document (already parsed JSON)."""
    bad = PlaylistFileError(
        "This is not an ASPire Desktop playlist file.", "Choose a file made with Export playlist."
    )
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise bad
    if data.get("version") != VERSION:
        raise PlaylistFileError(
            "This playlist was made by a newer version of ASPire Desktop.", "Update the app."
        )
    name, items = data.get("name"), data.get("items")
    if not isinstance(name, str) or not name.strip() or not isinstance(items, list):
        raise bad
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise bad
        key, title = item.get("document_key"), item.get("title", "")
        first, last = item.get("first"), item.get("last")
        if not (
            isinstance(key, str)
            and key
            and isinstance(title, str)
            and isinstance(first, int)
            and isinstance(last, int)
            and 0 <= first <= last < 100_000
        ):
            raise bad
        out.append(PlaylistItem(key, title, first, last))
    return PlaylistData(name.strip()[:200], tuple(out))
