"""Finding a bookmarked passage again in a document that has changed.

As web annotation tools do with a text-quote selector: look for the exact quoted text
(with the words either side to choose between repeats); if it was edited, look for the
closest similar passage; only when nothing close enough is left, fall back to the page.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from aspire_desktop.core.userdata.bookmarks import Quote

#: How similar (0-100) an edited passage must still be to count as found.
FUZZY_THRESHOLD = 75.0

_SPACE = re.compile(r"\s+")


def collapse(text: str) -> str:
    """Case-folded, with every run of white space as one space."""
    return _SPACE.sub(" ", text).casefold()


def normalise(text: str) -> str:
    return collapse(text).strip()


@dataclass(frozen=True)
class Anchor:
    page: int
    how: str  # "exact", "similar" or "page" (the text is gone: the page number only)
    text: str = ""  # the passage as it now reads ("" when how == "page")

    @property
    def moved_message(self) -> str:
        if self.how == "exact":
            return "The document has changed; this bookmark found its passage again."
        if self.how == "similar":
            return (
                "The document has changed; this bookmark found a passage that reads much the same."
            )
        return "The document has changed and the quoted text is gone: this page may have moved."


def _context_score(text: str, start: int, end: int, quote: Quote) -> int:
    """How many characters of the prefix and suffix still match either side."""
    before = text[max(0, start - len(quote.prefix)) : start]
    after = text[end : end + len(quote.suffix)]
    score = 0
    for a, b in zip(reversed(before), reversed(collapse(quote.prefix)), strict=False):
        if a != b:
            break
        score += 1
    for a, b in zip(after, collapse(quote.suffix), strict=False):
        if a != b:
            break
        score += 1
    return score


def _widen(exact: str, text: str, start: int, end: int) -> str:
    """The aligned window grown or shrunk by whole words to read most like the quote
    (an edit may have made the passage longer or shorter)."""
    from rapidfuzz import fuzz

    while start > 0 and text[start - 1] != " ":
        start -= 1
    ends = [
        i
        for i in range(start + 1, min(len(text), start + 2 * len(exact)) + 1)
        if i == len(text) or text[i] == " "
    ]
    if not ends:
        return text[start:end]
    last = exact.split()[-1]

    def score(e: int) -> tuple[bool, float]:
        # A window ending on the quote's last word is the passage; then the most alike.
        window = text[start:e]
        return (window.rstrip(".,;:!?").endswith(last), fuzz.ratio(exact, window))

    return text[start : max(ends, key=score)]


def reanchor(quote: Quote, pages: Sequence[str], old_page: int | None) -> Anchor:
    """Where ``quote`` is now in a document whose pages read ``pages``."""
    fallback = Anchor(max(0, min(old_page or 0, max(len(pages) - 1, 0))), "page")
    exact = normalise(quote.exact)
    if not exact or not pages:
        return fallback
    texts = [normalise(p) for p in pages]
    best: tuple[int, int, int] | None = None  # (context score, -distance, page)
    for n, text in enumerate(texts):
        start = text.find(exact)
        while start >= 0:
            score = _context_score(text, start, start + len(exact), quote)
            distance = abs(n - (old_page or 0))
            here = (score, -distance, n)
            if best is None or here > best:
                best = here
            start = text.find(exact, start + 1)
    if best is not None:
        return Anchor(best[2], "exact", quote.exact)

    from rapidfuzz import fuzz

    found: tuple[float, int, int, str] | None = None  # (score, -distance, page, text)
    for n, text in enumerate(texts):
        if not text:
            continue
        match = fuzz.partial_ratio_alignment(exact, text, score_cutoff=FUZZY_THRESHOLD)
        if match is None:
            continue
        passage = _widen(exact, text, match.dest_start, match.dest_end)
        similar = (float(match.score), -abs(n - (old_page or 0)), n, passage)
        if found is None or similar[:3] > found[:3]:
            found = similar
    if found is not None:
        return Anchor(found[2], "similar", found[3])
    return fallback
