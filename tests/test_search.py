"""Searching an index built from test documents: ranking, phrases, prefixes, stemming,
the glossary, filters, snippets, and any text at all through the whole search path."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aspire_desktop.core.search.index import SearchIndex
from aspire_desktop.core.search.library import prebuilt_index
from aspire_desktop.core.search.results import Filters, ResourceHit, SearchResults, Snippet
from aspire_desktop.core.search.schema import INDEX_FILE
from search_pdfs import Doc, content

FILLER = "Nothing to see on this page."

DOCS = [
    Doc(
        "toolkit",
        "Financial harm toolkit",
        "Practice guidance for social workers.",
        ["Financial harm can take many forms.", "Money, property and possessions."],
        kind="toolkit",
        tags=["money"],
    ),
    Doc(
        "annual-report",
        "Annual report",
        "What the committee did this year.",
        [FILLER] * 6 + ["One case of financial harm is mentioned in passing."],
    ),
    Doc(
        "money-guide",
        "Money matters",
        "Spotting financial harm early.",
        ["Budgets and bills."],
    ),
    Doc(
        "harm-forms",
        "Words",
        "Forms of a word.",
        ["The adult was harmed.", "Harming others.", "Harms are recorded.", FILLER],
    ),
    Doc(
        "phrase",
        "Phrases",
        "Words in order.",
        ["An adult at risk needs support.", "At home, the risk to an adult grew."],
    ),
    Doc("short-form", "Meeting notes", "Notes.", ["The IRD took place on Monday."]),
    Doc(
        "long-form",
        "Meeting record",
        "A record.",
        ["An inter-agency referral discussion was held."],
        categories=["two"],
    ),
    Doc(
        "old-guidance",
        "Old financial harm guidance",
        "Replaced by the toolkit.",
        ["Financial harm, the old way."],
        status="superseded",
    ),
    Doc(
        "hostile",
        "Strange text",
        "Odd characters.",
        ["Fake \x02marks\x03 and <b>tags</b> &amp; hoarding here."],
        categories=["two"],
    ),
    Doc("no-document", "A website about hoarding", "Help with hoarding.", kind="website"),
]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchIndex]:
    folder = content(tmp_path_factory.mktemp("search"), DOCS, index=True)
    path = prebuilt_index(folder, for_catalogue=folder / "catalogue.sqlite")
    assert path == folder / INDEX_FILE
    opened = SearchIndex(path, immutable=True)
    yield opened
    opened.close()


def ids(results: SearchResults) -> list[str]:
    return [h.resource_id for h in results.hits]


def hit(results: SearchResults, resource_id: str) -> ResourceHit:
    return next(h for h in results.hits if h.resource_id == resource_id)


def test_a_title_match_beats_a_passing_mention(index: SearchIndex) -> None:
    results = index.search("financial harm ")
    assert ids(results) == ["toolkit", "money-guide", "annual-report"]
    toolkit = hit(results, "toolkit")
    assert toolkit.matched_in == ("title", "text")
    assert toolkit.title_snippet.matched == ("Financial", "harm")
    passing = hit(results, "annual-report")
    assert passing.matched_in == ("text",)
    assert passing.page_count == 1
    (page,) = passing.pages
    assert page.page == 6  # 0-based: the seventh page
    assert page.file_name == "annual-report.pdf"
    assert page.snippet is not None and page.snippet.matched == ("financial", "harm")
    summary = hit(results, "money-guide")
    assert summary.matched_in == ("summary",)
    assert summary.summary_snippet is not None
    assert summary.summary_snippet.text == "Spotting financial harm early."


def test_every_form_of_a_word(index: SearchIndex) -> None:
    for word in ("harm ", "harmed ", "harming ", "harms "):
        found = hit(index.search(word), "harm-forms")
        assert [p.page for p in found.pages] == [0, 1, 2], word
        assert found.page_count == 3


def test_phrases(index: SearchIndex) -> None:
    results = index.search('"adult at risk"')
    assert ids(results) == ["phrase"]
    assert [p.page for p in results.hits[0].pages] == [0]
    both = index.search("adult risk ")
    assert [p.page for p in hit(both, "phrase").pages] == [0, 1]


def test_prefixes_as_you_type(index: SearchIndex) -> None:
    for typed in ("fi", "fin", "fina", "financ", "financia", "financial"):
        assert "toolkit" in ids(index.search(typed)), typed
    for typed in ("ha", "har", "harm", "harmi", "harmin", "harming"):
        assert "harm-forms" in ids(index.search(typed)), typed
    # Typing on into the next word keeps the results.
    assert ids(index.search("financial h")) == ids(index.search("financial "))


def test_glossary_finds_either_form(index: SearchIndex) -> None:
    for query in ("IRD ", "ird ", "inter-agency referral discussion "):
        results = index.search(query)
        assert sorted(ids(results)) == ["long-form", "short-form"], query
        assert results.expansions == ((query.strip(), "Inter-agency Referral Discussion"),)


def test_filters(index: SearchIndex) -> None:
    assert "old-guidance" not in ids(index.search("financial harm "))
    everything = index.search("financial harm ", Filters(include_superseded=True))
    assert ids(everything)[:2] == ["toolkit", "old-guidance"]  # both titles; shorter first
    assert hit(everything, "old-guidance").status == "superseded"
    assert ids(index.search("hoarding ", Filters(categories=frozenset({"two"})))) == ["hostile"]
    websites = index.search("hoarding ", Filters(kinds=frozenset({"website"})))
    assert ids(websites) == ["no-document"]
    assert websites.hits[0].pages == () and websites.hits[0].page_count == 0
    none = Filters(categories=frozenset({"no-such-category"}))
    assert index.search("harm ", none).hits == ()


def test_results_carry_what_the_list_shows(index: SearchIndex) -> None:
    found = hit(index.search("money "), "toolkit")
    assert (found.title, found.kind, found.status) == (
        "Financial harm toolkit",
        "toolkit",
        "current",
    )
    assert found.category_ids == ("one",)
    assert found.matched_in == ("tags", "text")
    assert found.pages[0].page == 1 and found.pages[0].sha256


def test_snippets_are_safe_whatever_the_text(index: SearchIndex) -> None:
    found = hit(index.search("hoarding "), "hostile")
    (page,) = found.pages
    snippet = page.snippet
    assert snippet is not None
    assert "\x02" not in snippet.text and "\x03" not in snippet.text
    assert snippet.matched == ("hoarding",)
    assert "<b>hoarding</b>" in snippet.html()
    assert "&lt;b&gt;tags&lt;/b&gt; &amp;amp;" in snippet.html()
    text, spans = snippet.spans()
    assert [text[a:b] for a, b in spans] == ["hoarding"]


def test_snippet_from_marked() -> None:
    s = Snippet.from_marked("…the \x02adult\x03\n at  \x02risk\x03 …")
    assert s.segments == (
        ("…the ", False),
        ("adult", True),
        (" at ", False),
        ("risk", True),
        (" …", False),
    )
    assert s.text == "…the adult at risk …"
    assert s.html() == "…the <b>adult</b> at <b>risk</b> …"
    assert Snippet.from_marked("plain").segments == (("plain", False),)


def test_limit_more_and_snippets(index: SearchIndex) -> None:
    one = index.search("financial harm ", limit=1)
    assert ids(one) == ["toolkit"] and one.more
    assert not index.search("financial harm ").more
    many = hit(index.search("harm ", snippets=2), "harm-forms")
    assert [p.snippet is not None for p in many.pages] == [True, True, False]
    none = hit(index.search("harm ", snippets=0), "harm-forms")
    assert all(p.snippet is None for p in none.pages)


def test_nothing_to_search(index: SearchIndex) -> None:
    for text in ("", "  ", '"', "😀", "-harm"):
        results = index.search(text)
        assert results.hits == () and results.expression is None
    assert index.search("zebra ").hits == ()
    assert index.search("harm ", limit=0).hits == ()


def test_status(index: SearchIndex) -> None:
    status = index.status()
    assert status.indexed == 9 and status.pages == 20
    assert (status.waiting, status.failed, status.absent) == (0, 0, 0)
    assert status.read_only
    assert index.check() == []


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.text(max_size=60)
    | st.lists(st.sampled_from(['"', "*", "-", "OR", "harm", "(", ":", "fi"])).map(" ".join)
)
def test_any_text_searches_without_error(index: SearchIndex, text: str) -> None:
    results = index.search(text, Filters(include_superseded=True))
    assert len(results.hits) <= 50


def test_a_page_snippet_on_demand(index: SearchIndex) -> None:
    found = hit(index.search("harm "), "harm-forms")
    second = found.pages[1]
    assert second.snippet is None
    snippet = index.snippet("harm ", second.sha256, second.page)
    assert snippet is not None and snippet.matched == ("Harming",)
    assert index.snippet("harm ", second.sha256, 3) is None  # a page without it
    assert index.snippet("harm ", "0" * 64, 0) is None  # no such document
    assert index.snippet("harm ", second.sha256, -1) is None
    assert index.snippet('"', second.sha256, 1) is None  # nothing to search for
