"""The project's glossary of Adult Support and Protection terms (``glossary.toml``).

Search expands a term written either way into both: "IRD" also finds "inter-agency
referral discussion" and the other way round. Abbreviations match whole words in any
case; full names and other names match by their stems, so "adults at risk" is the same
as "adult at risk".
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from aspire_desktop.core.search.tokens import Token, Tokenizer

GLOSSARY_FILE = Path(__file__).resolve().with_name("glossary.toml")
GLOSSARY_FORMAT = 1


@dataclass(frozen=True)
class GlossaryEntry:
    term: str
    short: tuple[str, ...] = ()
    also: tuple[str, ...] = ()
    explanation: str = ""

    @property
    def forms(self) -> tuple[str, ...]:
        """Every way of writing it: the full name, abbreviations, other names."""
        return (self.term, *self.short, *self.also)


@dataclass
class Glossary:
    """The entries, and lookups from a run of words to the entry they spell."""

    entries: list[GlossaryEntry]
    #: Folded words of each abbreviation -> entry index.
    by_short: dict[tuple[str, ...], int] = field(default_factory=dict)
    #: Stems of each full or other name -> entry index.
    by_stem: dict[tuple[str, ...], int] = field(default_factory=dict)
    #: Every form of each entry, as index words.
    forms: list[list[tuple[Token, ...]]] = field(default_factory=list)
    longest: int = 0

    def match(self, words: tuple[Token, ...]) -> int | None:
        """The entry these words spell exactly, or None."""
        found = self.by_short.get(tuple(t.folded for t in words))
        if found is None:
            found = self.by_stem.get(tuple(t.stem for t in words))
        return found


def read_entries(path: Path = GLOSSARY_FILE) -> list[GlossaryEntry]:
    """The entries of a glossary file; ValueError names what is wrong."""
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    if data.get("format") != GLOSSARY_FORMAT:
        raise ValueError(f"{path}: unknown glossary format")
    entries = []
    for n, raw in enumerate(data.get("terms", []), start=1):
        term = raw.get("term")
        short = raw.get("short", [])
        also = raw.get("also", [])
        explanation = raw.get("explanation", "")
        texts = [term, *short, *also]
        if not (isinstance(short, list) and isinstance(also, list)) or not all(
            isinstance(t, str) and t.strip() for t in texts
        ):
            raise ValueError(f"{path}: term {n} needs a 'term' and lists of texts")
        if not isinstance(explanation, str):
            raise ValueError(f"{path}: term {n}: 'explanation' must be text")
        entries.append(GlossaryEntry(term, tuple(short), tuple(also), explanation))
    return entries


def build_glossary(entries: list[GlossaryEntry], tokenizer: Tokenizer) -> Glossary:
    """Index the entries' forms by their words; ValueError if a form is empty or shared."""
    glossary = Glossary(entries)
    for index, entry in enumerate(entries):
        words = tokenizer.split(entry.forms)
        glossary.forms.append(words)
        for n, (text, tokens) in enumerate(zip(entry.forms, words, strict=True)):
            if not tokens:
                raise ValueError(f"glossary: '{text}' has no words")
            is_short = 1 <= n <= len(entry.short)
            table = glossary.by_short if is_short else glossary.by_stem
            key = tuple(t.folded if is_short else t.stem for t in tokens)
            if table.get(key, index) != index:
                raise ValueError(f"glossary: '{text}' belongs to two entries")
            table[key] = index
            glossary.longest = max(glossary.longest, len(tokens))
    return glossary


def load_glossary(tokenizer: Tokenizer, path: Path = GLOSSARY_FILE) -> Glossary:
    return build_glossary(read_entries(path), tokenizer)
