"""The query parser and the glossary: what typed text becomes, and that any text at all
becomes a valid FTS5 query (checked by running it, with hypothesis)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from aspire_desktop.core.search import glossary as glossary_module
from aspire_desktop.core.search.glossary import GlossaryEntry, build_glossary, load_glossary
from aspire_desktop.core.search.query import MAX_CHARS, MAX_CLAUSES, QueryParser
from aspire_desktop.core.search.tokens import TOKENIZE, Token, Tokenizer

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tokenizer() -> Iterator[Tokenizer]:
    t = Tokenizer()
    yield t
    t.close()


@pytest.fixture(scope="module")
def parser(tokenizer: Tokenizer) -> QueryParser:
    return QueryParser(tokenizer, load_glossary(tokenizer))


@pytest.fixture(scope="module")
def fts() -> Iterator[sqlite3.Connection]:
    """FTS5 tables made like the index's, with a little text, to run queries on."""
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE VIRTUAL TABLE pages USING fts5(body, tokenize='{TOKENIZE}', prefix='2 3')")
    db.execute(
        "CREATE VIRTUAL TABLE resource_text USING fts5(title, summary, tags, "
        f"tokenize='{TOKENIZE}', prefix='2 3')"
    )
    db.execute("INSERT INTO pages (body) VALUES ('an adult at risk of harm, harmed and harming')")
    db.execute("INSERT INTO resource_text VALUES ('Adult support', 'and protection', 'IRD')")
    yield db
    db.close()


def expr(parser: QueryParser, text: str) -> str | None:
    return parser.parse(text).expression


# What text becomes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("harm ", '"harm"'),
        ("Harm harmed ", '"harm" AND "harmed"'),
        ('"adult at risk"', '"adult at risk"'),
        ('"Adult at risk" harm ', '"adult at risk" AND "harm"'),
        ("harm*", '"harm"*'),  # explicit star: a prefix
        ("ha", '"ha"*'),  # the last word typed is a prefix
        ("harm h", '"harm"'),  # one letter typed so far: not used yet
        ("h", '"h"'),  # ... unless it is all there is
        ("e* ", '"e"'),  # one letter is never a prefix
        ('"adult at ri', '"adult at ri"*'),  # an open phrase, still being typed
        ('"adult at risk" ', '"adult at risk"'),
        ("harm OR abuse ", '("harm" OR "abuse")'),
        ("harm or abuse ", '"harm" AND "or" AND "abuse"'),
        ("OR harm OR ", '"harm"'),
        ("harm -abuse ", '("harm") NOT ("abuse")'),
        ('harm -"domestic abuse" ', '("harm") NOT ("domestic abuse")'),
        ("-abuse ", None),  # nothing left to find
        ("inter-agency ", '"inter agency"'),
        ("don't ", '"don t"'),
        ("NEAR(a b) AND NOT c: d^ ", '"near a" AND "b" AND "and" AND "not" AND "c" AND "d"'),
        ("😀 ", None),
        # Newer than SQLite's Unicode tables, so a "letter" to it (and so in documents).
        ("😀 🙂 ", '"🙂"'),
        ("", None),
        ("   ", None),
        ('"', None),
        ('""""', None),
        ("Ærø café ", '"ærø" AND "cafe"'),
        ("oﬄine ", '"offline"'),  # a ligature, as PDFs hold them, is the letters
    ],
)
def test_parse(parser: QueryParser, text: str, expected: str | None) -> None:
    assert expr(parser, text) == expected


def test_prefix_also_tries_the_stems_it_may_grow_into(parser: QueryParser) -> None:
    # FTS5 stems a prefix like a word: "protecti" would not find "protection" (stem
    # "protect"), nor "harmi" "harming" (stem "harm").
    assert expr(parser, "protecti") == '("protecti"* OR "protect")'
    assert expr(parser, "harmi") == '("harmi"* OR "harm")'
    assert expr(parser, "investigat") == '("investigat"* OR "investig")'
    assert expr(parser, "protection") == '"protection"*'


def test_long_prefixes_become_the_index_words_when_a_vocabulary_is_given(
    tokenizer: Tokenizer,
) -> None:
    asked: list[str] = []

    def vocabulary(stem: str) -> list[str] | None:
        asked.append(stem)
        return {"hoard": ["hoard", "hoarder"], "prot": None}.get(stem, [])

    parser = QueryParser(tokenizer, load_glossary(tokenizer), vocabulary)
    assert expr(parser, "hoarding") == '("hoard" OR "hoarder")'
    assert expr(parser, "prot") == '"prot"*'  # too many words: left to FTS5
    assert expr(parser, "har") == '"har"*'  # short prefixes have their own index
    assert expr(parser, "zzzz") == '"zzzz"'  # no such word: nothing to find
    assert asked == ["hoard", "prot", "zzzz"]


def test_glossary_finds_either_form(parser: QueryParser) -> None:
    ird = expr(parser, "IRD ")
    assert (
        ird == '("ird" OR "inter agency referral discussion" OR "interagency referral discussion")'
    )
    long_form = expr(parser, "inter-agency referral discussion ")
    assert long_form == (
        '(("inter agency" AND "referral" AND "discussion") OR "ird"'
        ' OR "interagency referral discussion")'
    )
    parsed = parser.parse("lsi report ")
    assert parsed.expression == '("lsi" OR "large scale investigation") AND "report"'
    assert parsed.expansions == (("lsi", "Large Scale Investigation"),)
    # Stems: "learning reviews" is the glossary's "learning review".
    assert '"significant case review"' in (expr(parser, "learning reviews ") or "")
    # The longest run of words wins: "ASP Act" is the Act, not ASP and "act".
    assert '"aspa"' in (expr(parser, "asp act ") or "")
    # Abbreviations match whole words only, not their stems: "tips" is not "TIP".
    assert expr(parser, "tips ") == '"tips"'
    # Quoted text is taken as it is.
    assert expr(parser, '"IRD"') == '"ird"'


def test_limits(parser: QueryParser) -> None:
    words = " ".join(f"w{n}" for n in range(MAX_CLAUSES + 5))
    parsed = parser.parse(words + " ")
    assert parsed.truncated
    assert parsed.expression is not None and parsed.expression.count(" AND ") == MAX_CLAUSES - 1
    long = parser.parse("a" * (MAX_CHARS + 1))
    assert long.truncated and long.text == "a" * MAX_CHARS


# Any text is a valid query -------------------------------------------------------------

_PIECES = st.sampled_from(
    [
        '"',
        "*",
        "-",
        "OR",
        "AND",
        "NOT",
        "NEAR",
        "(",
        ")",
        ":",
        "^",
        "{",
        "}",
        "+",
        "'",
        "\0",
        "\x02",
        "\x03",
        "\\",
        "😀",
        "\ud800",
        "ﬄ",
        "title:",
        "IRD",
        "asp",
        "act",
        "inter-agency",
        "harm",
        "h",
        "adult at risk",
        "protecti",
        "NEAR/2",
        "--",
    ]
)
_QUERIES = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(exclude_categories=())),  # lone surrogates too
    st.lists(st.one_of(_PIECES, st.text(max_size=5)), max_size=12).map(
        lambda parts: "".join(parts)
    ),
    st.lists(st.one_of(_PIECES, st.text(max_size=5)), max_size=12).map(" ".join),
)


@settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(_QUERIES)
@example("x" * 5000)
@example(" OR ".join(["harm"] * 300))
@example('"' * 301)
def test_any_text_parses_to_a_valid_query(
    parser: QueryParser, fts: sqlite3.Connection, text: str
) -> None:
    parsed = parser.parse(text)
    if parsed.expression is None:
        return
    # Every piece of user text is inside double quotes.
    outside = re.sub(r'"(?:[^"]|"")*"', "", parsed.expression)
    assert set(outside) <= set("()* ANDORT"), outside
    fts.execute("SELECT count(*) FROM pages WHERE pages MATCH ?", (parsed.expression,))
    fts.execute(
        "SELECT count(*) FROM resource_text WHERE resource_text MATCH ?", (parsed.in_titles(),)
    )


# The glossary ----------------------------------------------------------------------------


def test_glossary_entries_are_sound(tokenizer: Tokenizer) -> None:
    entries = glossary_module.read_entries()
    terms = {e.term for e in entries}
    for expected in (
        "Adult Support and Protection",
        "Inter-agency Referral Discussion",
        "Large Scale Investigation",
        "Significant Case Review",
        "Trauma-informed practice",
        "Council officer",
        "Adult at risk",
    ):
        assert expected in terms
    assert all(e.explanation for e in entries)
    load_glossary(tokenizer)  # no form is empty or in two entries


def test_glossary_refuses_a_form_in_two_entries(tokenizer: Tokenizer) -> None:
    entries = [GlossaryEntry("Learning review", ("LR",)), GlossaryEntry("Other", ("lr",))]
    with pytest.raises(ValueError, match="two entries"):
        build_glossary(entries, tokenizer)
    with pytest.raises(ValueError, match="no words"):
        build_glossary([GlossaryEntry("😀")], tokenizer)


def test_the_docs_show_every_glossary_entry() -> None:
    """docs/search.md is where users read the glossary: it must say what search does."""
    doc = (ROOT / "docs" / "search.md").read_text(encoding="utf-8")
    table = doc[doc.index("## Glossary") :]
    for entry in glossary_module.read_entries():
        row = next((line for line in table.splitlines() if f"| {entry.term} |" in line), None)
        assert row is not None, f"{entry.term} is not in docs/search.md"
        for form in (*entry.short, *entry.also):
            assert form in row, f"{form} ({entry.term}) is not in docs/search.md"


def test_tokenizer_agrees_with_sqlite(tokenizer: Tokenizer) -> None:
    words = tokenizer.split(["Harming adults", "", "😀", "x\0y"])
    assert words[0] == (Token("harming", "harm"), Token("adults", "adult"))
    assert words[1] == () and words[2] == ()
    assert [t.folded for t in words[3]] == ["x", "y"]
