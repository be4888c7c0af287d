"""What the user typed, turned into an FTS5 query that is always valid.

The user's syntax is small and forgiving:

* words: every word must match, in any form (``harmed`` finds harm, harming, harms);
* ``"a phrase"``: the words next to each other, in this order;
* ``word*``: any word starting with this (two letters or more); the last word typed is
  always matched this way unless the text ends with a space (search as you type);
* ``OR`` (in capitals) between two words or phrases: either;
* ``-word`` or ``-"a phrase"``: leave out what contains it;
* glossary terms and their abbreviations find each other (``IRD`` finds "inter-agency
  referral discussion").

Anything else is taken as plain words: a lone quote, brackets, stars, operators in odd
places, emoji and very long text never make an error. This module is the only place
where query text is assembled: every word in it comes out of SQLite's own tokenizer, or
from the index's list of its words and is checked to be one word (so it holds nothing but
letters and digits), and is written inside double quotes, so nothing the user types can
become FTS5 syntax.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from aspire_desktop.core.search.glossary import Glossary
from aspire_desktop.core.search.tokens import Token, Tokenizer

#: Text beyond this many characters is ignored.
MAX_CHARS = 1000
#: At most this many words or phrases that must match (after the glossary), and left out.
MAX_CLAUSES = 16
MAX_EXCLUDED = 8
#: A phrase keeps at most this many words.
MAX_PHRASE = 32
#: Shorter prefixes would read a large part of the index: one letter matches as a word.
MIN_PREFIX = 2
#: Prefixes up to this length have an index of their own (``prefix='2 3'``); longer ones
#: are looked up in the index's list of words when a vocabulary is given.
PREFIX_INDEXED = 3

#: The index words starting with a stem, or None when there are too many to list.
Vocabulary = Callable[[str], Sequence[str] | None]
#: From this length, a prefix also tries the stems of the words it may be the start of
#: (FTS5 stems a prefix as if it were a word: "protecti" would not find "protection").
STEM_PREFIX = 4
#: Longer "words" are not English; their prefixes are matched as they are.
STEM_PREFIX_MAX = 40
#: Endings of English words that stemming takes off. When a prefix stops part way into
#: one ("protecti|on"), the rest of it completes a word whose stem the prefix misses.
_ENDINGS = (
    "es ed ing ings ion ions ive ives ively ness ment ments al ally ly er ers ies ied "
    "ity ities ation ations ational ise ised ises ising isation ize ized izes izing "
    "ization ful fully ence ences ance ances ent ently ant able ably ible ous ously ism "
    "ist ists ic ical ically ative ator ators ate ated ates ating"
).split()
_CACHE_SIZE = 256


@dataclass(frozen=True)
class Term:
    """A word or phrase: its folded words; whether the last word is a prefix; and other
    last words it may also end with (index words: (word, as a prefix of its stem))."""

    words: tuple[str, ...]
    prefix: bool = False
    endings: tuple[tuple[str, bool], ...] = ()

    def fts(self) -> str:
        forms = [_phrase(self.words) + "*"] if self.prefix else []
        forms += [_phrase((*self.words[:-1], e)) + ("*" if p else "") for e, p in self.endings]
        if not forms:
            return _phrase(self.words)
        return forms[0] if len(forms) == 1 else "(" + " OR ".join(forms) + ")"


@dataclass(frozen=True)
class Clause:
    """Alternatives, one of which must match; each is terms that must all match."""

    options: tuple[tuple[Term, ...], ...]

    def fts(self) -> str:
        parts = [_all(terms) for terms in self.options]
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    clauses: tuple[Clause, ...] = ()
    excluded: tuple[Term, ...] = ()
    #: (what was typed, the glossary term it also searched for), for display.
    expansions: tuple[tuple[str, str], ...] = ()
    #: Some of the text was ignored (too long, or too many words).
    truncated: bool = False
    expression: str | None = field(default=None, init=False)

    def in_titles(self) -> str:
        """The expression restricted to the ``title`` column of the resource table."""
        return f"title : ({self.expression})"

    def __post_init__(self) -> None:
        if not self.clauses:
            return
        expr = " AND ".join(c.fts() for c in self.clauses)
        if self.excluded:
            expr = f"({expr}) NOT ({' OR '.join(t.fts() for t in self.excluded)})"
        object.__setattr__(self, "expression", expr)


def _phrase(words: tuple[str, ...]) -> str:
    # Words come from the tokenizer and hold no quote; doubling any keeps it so anyway.
    return '"' + " ".join(w.replace('"', '""') for w in words) + '"'


def _all(terms: tuple[Term, ...]) -> str:
    return terms[0].fts() if len(terms) == 1 else "(" + " AND ".join(t.fts() for t in terms) + ")"


# Lexing ----------------------------------------------------------------------------------


@dataclass
class _Lexeme:
    raw: str
    kind: str  # "word", "phrase" or "or"
    negated: bool = False
    prefix: bool = False  # asked for with a star, or typed last with no space after
    typing: bool = False  # typed last, with no space (or closing quote) after
    tokens: tuple[Token, ...] = ()


def _lex(text: str) -> Iterator[_Lexeme]:
    n = len(text)
    i = 0
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        negated = ch == "-" and i + 1 < n and not text[i + 1].isspace()
        if negated:
            i += 1
        if text[i] == '"':
            end = text.find('"', i + 1)
            closed = end >= 0
            end = end if closed else n
            raw = text[i + 1 : end]
            i = end + 1
            star = i < n and text[i] == "*"
            if star:
                i += 1
            # An unclosed phrase at the end is still being typed.
            typing = not closed and not raw[-1:].isspace()
            yield _Lexeme(raw, "phrase", negated, star or typing, typing)
            continue
        start = i
        while i < n and not text[i].isspace() and text[i] != '"':
            i += 1
        raw = text[start:i]
        if raw == "OR" and not negated:
            yield _Lexeme(raw, "or")
            continue
        typing = i == n and not raw.endswith("*")  # the last word, no space after it yet
        yield _Lexeme(raw, "word", negated, raw.endswith("*") or typing, typing)


# Parsing ---------------------------------------------------------------------------------


class QueryParser:
    """Parses query text, with the tokenizer, the glossary and, optionally, the index's
    vocabulary. Not thread-safe: use it under the index's lock."""

    def __init__(
        self, tokenizer: Tokenizer, glossary: Glossary, vocabulary: Vocabulary | None = None
    ) -> None:
        self.tokenizer = tokenizer
        self.glossary = glossary
        self.vocabulary = vocabulary
        self._grown: dict[str, tuple[tuple[str, bool], ...]] = {}  # grown stems, recently

    def parse(self, text: str) -> ParsedQuery:
        truncated = len(text) > MAX_CHARS
        # A lone surrogate (text from a broken clipboard, say) cannot go to SQLite.
        text = text[:MAX_CHARS].encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        lexemes = list(_lex(text))
        words = [lx for lx in lexemes if lx.kind != "or"]
        for lx, tokens in zip(words, self.tokenizer.split([lx.raw for lx in words]), strict=True):
            if len(tokens) > MAX_PHRASE:
                tokens, truncated = tokens[:MAX_PHRASE], True
            lx.tokens = tokens
        lexemes = [lx for lx in lexemes if lx.kind == "or" or lx.tokens]
        last = lexemes[-1] if lexemes else None
        if (
            last is not None
            and last.kind == "word"
            and _still_typing(last)
            and any(lx.kind != "or" for lx in lexemes[:-1])
        ):
            lexemes.pop()  # one letter typed so far: wait for the next before using it
        groups, negated = _or_groups(lexemes)
        excluded = [self._term(lx) for lx in negated]
        clauses, expansions = self._expand(groups)
        if not clauses:
            return ParsedQuery(text, truncated=truncated)
        if len(clauses) > MAX_CLAUSES or len(excluded) > MAX_EXCLUDED:
            truncated = True
        return ParsedQuery(
            text,
            tuple(clauses[:MAX_CLAUSES]),
            tuple(excluded[:MAX_EXCLUDED]),
            tuple(expansions),
            truncated,
        )

    def _term(self, lx: _Lexeme) -> Term:
        words = tuple(t.folded for t in lx.tokens)
        if not lx.prefix or len(words[-1]) < MIN_PREFIX:
            return Term(words)
        last = lx.tokens[-1]
        grown = self._grown_stems(last)
        found = (
            self.vocabulary(last.stem)
            if self.vocabulary is not None and len(last.stem) > PREFIX_INDEXED
            else None
        )
        asked = self._as_asked(found) if found is not None else None
        if asked is None:
            return Term(words, True, grown)
        # The index's own words for the prefix: FTS5 reads exact words lazily (and jumps
        # to one document's pages), where it merges every word a long prefix starts first.
        return Term(words, False, tuple(sorted({*grown, *asked})))

    def _as_asked(self, words: Sequence[str]) -> list[tuple[str, bool]] | None:
        """How to ask FTS5 for each of these index words (stems): as it is if FTS5 keeps
        it when it stems the query (it stems every query word once more), else as a
        prefix of what it becomes, if the word starts with that ("financi" becomes
        "financ"); None if some word can be asked for neither way."""
        again = self.tokenizer.split(list(words))
        asked = []
        for word, restemmed in zip(words, again, strict=True):
            if len(restemmed) != 1 or not word.startswith(restemmed[0].stem):
                return None
            asked.append((word, restemmed[0].stem != word))
        return asked

    def _grown_stems(self, last: Token) -> tuple[tuple[str, bool], ...]:
        """Stems of the words the prefix may grow into that the prefix itself would not
        find ("protecti" -> "protect", "hopi" -> "hope"), as :meth:`_as_asked` says."""
        word = last.folded
        if not STEM_PREFIX <= len(word) <= STEM_PREFIX_MAX:
            return ()
        cached = self._grown.get(word)
        if cached is not None:
            return cached
        tails = sorted({e[k:] for e in _ENDINGS for k in range(1, len(e)) if word.endswith(e[:k])})
        grown = self.tokenizer.split([word + tail for tail in tails])
        candidates = sorted(
            {w[0].stem for w in grown if len(w) == 1 and not w[0].stem.startswith(last.stem)}
        )
        stems: tuple[tuple[str, bool], ...] = ()
        for candidate in candidates:
            stems += tuple(self._as_asked([candidate]) or ())
        if len(self._grown) >= _CACHE_SIZE:
            self._grown.clear()
        self._grown[word] = stems
        return stems

    def _expand(self, groups: list[list[_Lexeme]]) -> tuple[list[Clause], list[tuple[str, str]]]:
        """Clauses for the groups, with runs of single plain words that spell a glossary
        term widened to every form of it."""
        clauses: list[Clause] = []
        expansions: list[tuple[str, str]] = []
        i = 0
        while i < len(groups):
            found = self._glossary_run(groups, i)
            if found is None:
                clauses.append(Clause(tuple((self._term(lx),) for lx in groups[i])))
                i += 1
                continue
            end, entry = found
            typed = tuple(self._term(g[0]) for g in groups[i:end])
            typed_words = tuple(w for t in typed for w in t.words)
            forms = list(
                dict.fromkeys(tuple(t.folded for t in f) for f in self.glossary.forms[entry])
            )
            # A form holding another alternative matches only where that one matches too:
            # leave it out (fewer phrases, faster). What was typed counts if it is one word.
            holders = {*forms, typed_words} if len(typed_words) == 1 else set(forms)
            kept = [
                f
                for f in forms
                if f != typed_words and not any(h != f and _holds(f, h) for h in holders)
            ]
            clauses.append(Clause((typed, *((Term(f),) for f in kept))))
            said = " ".join(g[0].raw for g in groups[i:end])
            expansions.append((said, self.glossary.entries[entry].term))
            i = end
        return clauses, expansions

    def _glossary_run(self, groups: list[list[_Lexeme]], start: int) -> tuple[int, int] | None:
        """The longest run of plain words from ``start`` that is a glossary form:
        (end, entry index), or None."""
        tokens: list[Token] = []
        ends: list[tuple[int, int]] = []  # (end, number of tokens so far)
        for end in range(start, len(groups)):
            group = groups[end]
            if len(group) != 1 or group[0].kind != "word" or group[0].raw.endswith("*"):
                break
            tokens.extend(group[0].tokens)
            if len(tokens) > self.glossary.longest:
                break
            ends.append((end + 1, len(tokens)))
        for end, count in reversed(ends):
            entry = self.glossary.match(tuple(tokens[:count]))
            if entry is not None:
                return end, entry
        return None


def _holds(words: tuple[str, ...], part: tuple[str, ...]) -> bool:
    """``part`` is in ``words``, word for word, next to each other."""
    n = len(part)
    return any(words[i : i + n] == part for i in range(len(words) - n + 1))


def _still_typing(lx: _Lexeme) -> bool:
    """A word of one letter (or digit) typed last, with no space or star after it."""
    return lx.typing and len(lx.tokens) == 1 and len(lx.tokens[0].folded) < MIN_PREFIX


def _or_groups(lexemes: list[_Lexeme]) -> tuple[list[list[_Lexeme]], list[_Lexeme]]:
    """Words and phrases grouped by the ``OR``s between them, and the left-out ones. An
    ``OR`` without a word or phrase on both sides is ignored."""
    groups: list[list[_Lexeme]] = []
    negated: list[_Lexeme] = []
    joining = False
    for lx in lexemes:
        if lx.kind == "or":
            joining = bool(groups)
            continue
        if lx.negated:
            negated.append(lx)
        elif joining:
            groups[-1].append(lx)
        else:
            groups.append([lx])
        joining = False
    return groups, negated
