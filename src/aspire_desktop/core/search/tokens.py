"""Words as the search index sees them, cut by SQLite's own FTS5 tokenizers.

The index splits text with FTS5's ``unicode61`` tokenizer (letters, digits and
private-use characters make words; everything else separates them; case and
diacritics are folded) and stems words with ``porter``. The query parser must cut the
user's text in exactly the same way, or a word SQLite would see as empty (an emoji, a
letter newer than SQLite's Unicode tables) could turn into a phrase that matches
nothing. So it asks SQLite: the text goes into two tiny in-memory FTS5 tables and the
words come back out of their ``fts5vocab`` instance tables, about 0.1 ms a call.
"""

from __future__ import annotations

import sqlite3
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

#: The tokenizer of every full-text table in the index.
TOKENIZE = "porter unicode61 remove_diacritics 2"
#: The same without stemming: folded words, as typed.
_PLAIN = "unicode61 remove_diacritics 2"

_SCHEMA = f"""
CREATE VIRTUAL TABLE plain USING fts5(t, content='', tokenize='{_PLAIN}');
CREATE VIRTUAL TABLE plain_words USING fts5vocab(plain, 'instance');
CREATE VIRTUAL TABLE stem USING fts5(t, content='', tokenize='{TOKENIZE}');
CREATE VIRTUAL TABLE stem_words USING fts5vocab(stem, 'instance');
"""


def normalize(text: str) -> str:
    """Text in the form it is indexed and searched in: compatibility characters folded
    (PDFs often hold ligatures, so "oﬄine" is found by "offline"; also full-width
    letters and the like), and no NUL (it would end the text for the tokenizer)."""
    return unicodedata.normalize("NFKC", text).replace("\0", " ")


@dataclass(frozen=True)
class Token:
    """One word: ``folded`` (case and accents folded, as typed) and its ``stem``."""

    folded: str
    stem: str


class Tokenizer:
    """Cuts texts into index words. Safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def split(self, texts: Sequence[str]) -> list[tuple[Token, ...]]:
        """The words of each text (an empty tuple for a text with none)."""
        if not texts:
            return []
        rows = [(n, normalize(t)) for n, t in enumerate(texts)]
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany("INSERT INTO plain(rowid, t) VALUES (?, ?)", rows)
                self._db.executemany("INSERT INTO stem(rowid, t) VALUES (?, ?)", rows)
                plain = self._db.execute(
                    "SELECT doc, offset, term FROM plain_words ORDER BY doc, offset"
                ).fetchall()
                stems = self._db.execute(
                    "SELECT doc, offset, term FROM stem_words ORDER BY doc, offset"
                ).fetchall()
            finally:
                self._db.execute("ROLLBACK")
        # Stemming keeps every word in its place, so the two lists line up.
        stem_at = {(doc, offset): term for doc, offset, term in stems}
        words: list[list[Token]] = [[] for _ in texts]
        for doc, offset, term in plain:
            words[doc].append(Token(term, stem_at.get((doc, offset), term)))
        return [tuple(w) for w in words]
