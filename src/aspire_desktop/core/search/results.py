"""What a search returns: resources, each with its best page hits and snippets.

Plain frozen data, safe to hand from a background thread to the UI thread.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from aspire_desktop.core.search.schema import MARK_END, MARK_START


@dataclass(frozen=True)
class Snippet:
    """A piece of text with the matched words marked.

    ``segments`` is the text cut into (text, matched) pieces, in order; joined they give
    ``text``. Marking is done with two control characters that indexed text can never
    contain, so nothing in a document can fake or break a highlight.
    """

    segments: tuple[tuple[str, bool], ...]

    @classmethod
    def from_marked(cls, marked: str) -> Snippet:
        """Cut SQLite's ``snippet()``/``highlight()`` output; runs of whitespace (page
        text keeps the PDF's line breaks) become one space."""
        first, *rest = " ".join(marked.split()).split(MARK_START)
        segments = [(first, False)]
        for part in rest:
            inside, _, after = part.partition(MARK_END)
            segments += [(inside, True), (after, False)]
        return cls(tuple((t, m) for t, m in segments if t))

    @property
    def text(self) -> str:
        return "".join(t for t, _ in self.segments)

    @property
    def matched(self) -> tuple[str, ...]:
        """The distinct matched words, in order (what to highlight on the page)."""
        return tuple(dict.fromkeys(t.strip() for t, m in self.segments if m and t.strip()))

    @property
    def has_match(self) -> bool:
        return any(m for _, m in self.segments)

    def html(self) -> str:
        """HTML-escaped, matched words in ``<b>``: ready for a rich-text label."""
        parts = [f"<b>{html.escape(t)}</b>" if m else html.escape(t) for t, m in self.segments]
        return "".join(parts)

    def spans(self) -> tuple[str, tuple[tuple[int, int], ...]]:
        """The text and the (start, end) character ranges of the matched words in it."""
        pos, ranges = 0, []
        for t, m in self.segments:
            if m:
                ranges.append((pos, pos + len(t)))
            pos += len(t)
        return "".join(t for t, _ in self.segments), tuple(ranges)


@dataclass(frozen=True)
class PageHit:
    """A matching page of one of the resource's documents."""

    sha256: str
    file_name: str
    page: int  # 0-based
    #: The words around the match (the first few page hits of a resource only).
    snippet: Snippet | None = None


@dataclass(frozen=True)
class ResourceHit:
    """One resource in the results."""

    resource_id: str
    title: str
    kind: str
    status: str
    category_ids: tuple[str, ...]
    #: The title with matched words marked (no marks if it did not match).
    title_snippet: Snippet
    #: The part of the summary that matched, or None when it did not.
    summary_snippet: Snippet | None
    #: Where it matched: any of "title", "summary", "tags", "text".
    matched_in: tuple[str, ...]
    #: Its matching pages, in page order within each document (main document first),
    #: at most ``index.MAX_PAGES_LISTED``; the first few carry a snippet.
    pages: tuple[PageHit, ...]
    #: How many pages of its documents match in all.
    page_count: int


@dataclass(frozen=True)
class Filters:
    """Which resources to search. Empty sets mean no restriction."""

    categories: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    include_superseded: bool = False


@dataclass(frozen=True)
class SearchResults:
    query: str
    #: The FTS5 query actually run (None: nothing searchable was typed).
    expression: str | None
    hits: tuple[ResourceHit, ...]
    #: There are more matching resources than ``limit``.
    more: bool
    #: Page-only matches were gathered from part of a very large result (a very common
    #: word or phrase); a longer query finds the rest.
    partial: bool
    #: (what was typed, the glossary term it also searched for).
    expansions: tuple[tuple[str, str], ...]
    #: Some of the query text was ignored (too long or too many words).
    truncated: bool
    elapsed_ms: float


@dataclass(frozen=True)
class IndexStatus:
    """How far indexing has got, for a status line."""

    indexed: int
    waiting: int
    failed: int
    absent: int
    pages: int
    read_only: bool
