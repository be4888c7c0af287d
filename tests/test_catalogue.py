"""The catalogue: the authored source, the content build, the read-only reader."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from aspire_desktop.core.catalogue import KINDS, STATUSES, kind_label
from aspire_desktop.core.catalogue import models as m
from aspire_desktop.core.catalogue.generate import generate
from aspire_desktop.core.catalogue.reader import CatalogueReader, filter_words
from aspire_desktop.core.catalogue.source import (
    CatalogueSource,
    SourceCategory,
    SourceError,
    SourceFile,
    SourceResource,
    check_source,
    load_source,
)
from aspire_desktop.core.errors import UserError
from aspire_desktop.core.store import layout
from aspire_desktop.core.store.build import build_content
from conftest import RESOURCES
from pdfs import make_pdf

TRAUMA_IDS = [
    "aspire-2023-domestic-abuse-and-trauma-informed-asp-webinar",
    "mental-health-trauma-informed-practice-companion",
    "alcohol-drug-use-trauma-informed-practice-companion",
    "domestic-abuse-trauma-informed-practice-companion",
    "trauma-responsive-social-work-services-delivery-group",
    "national-trauma-transformation-programme-website",
    "trauma-informed-responsive-change-roadmap",
    "trauma-informed-practice-toolkit",
    "margaret-fleming-learning-review-presentation",
]
GUIDE = "aspire-desktop-user-guide"


@pytest.fixture
def reader(shipped_content: Path) -> Iterator[CatalogueReader]:
    r = CatalogueReader(shipped_content / layout.CATALOGUE)
    yield r
    r.close()


@pytest.fixture
def large_reader(large_content: Path) -> Iterator[CatalogueReader]:
    r = CatalogueReader(large_content / layout.CATALOGUE)
    yield r
    r.close()


# --- Shipped content ----------------------------------------------------------------


def test_shipped_categories(reader: CatalogueReader) -> None:
    cats = reader.categories()
    assert [(c.id, c.name, c.count) for c in cats] == [
        ("trauma", "Trauma", 9),
        ("using-aspire-desktop", "Using ASPire Desktop", 1),
    ]
    assert all(c.parent_id is None for c in cats)
    assert reader.resource_count() == 10
    assert reader.category_introduction("trauma").startswith("Trauma is the harm")
    assert reader.category_introduction("no-such-category") == ""


def test_trauma_has_the_nine_hub_resources_in_order(reader: CatalogueReader) -> None:
    assert reader.resource_ids("trauma") == TRAUMA_IDS
    assert reader.resource_ids("using-aspire-desktop") == [GUIDE]
    assert reader.resource_ids("no-such-category") == []
    # The order is the authored one, not alphabetical.
    titles = [reader.briefs([i])[i].title for i in TRAUMA_IDS]
    assert titles != sorted(titles, key=str.casefold)


def test_shipped_meta_and_manifest(reader: CatalogueReader, shipped_content: Path) -> None:
    assert reader.meta == {
        "schema_version": str(m.SCHEMA_VERSION),
        "content_version": "1",
        "issued": "2026-11-26",
    }
    info = layout.read_version_info(shipped_content)
    assert (info.version, info.issued, info.label) == (1, "2026-11-26", "baseline")
    assert info.catalogue == shipped_content / layout.CATALOGUE


def test_user_guide_is_cached_and_opens(reader: CatalogueReader, shipped_content: Path) -> None:
    import pymupdf

    detail = reader.detail(GUIDE)
    assert detail is not None
    main = detail.main_file
    assert main is not None
    assert (main.role, main.media_type, main.cached) == ("main", "application/pdf", True)
    assert main.sha256 is not None and len(main.sha256) == 64
    path = shipped_content / layout.FILES / layout.file_name(main.sha256, main.media_type)
    assert path.is_file()
    assert layout.sha256_file(path) == main.sha256
    assert path.stat().st_size == main.size
    assert main.page_count is not None and main.page_count >= 1
    with pymupdf.open(path) as doc:
        assert doc.page_count == main.page_count
        assert doc.metadata["title"] == "ASPire Desktop user guide"
        assert "ASPire Desktop" in doc[0].get_text()
    brief = reader.briefs([GUIDE])[GUIDE]
    assert brief.has_document and brief.cached


def test_hub_files_are_not_cached(reader: CatalogueReader, shipped_content: Path) -> None:
    hub_files = [(rid, f) for rid, f in reader.all_files() if rid != GUIDE]
    assert len(hub_files) == 7  # two of the nine (a website, a group page) have no document
    for _rid, f in hub_files:
        assert f.cached is False
        assert f.sha256 is None and f.size is None and f.page_count is None
    # Only the user guide is shipped.
    assert len(list((shipped_content / layout.FILES).iterdir())) == 1
    briefs = reader.briefs(TRAUMA_IDS)
    assert not any(b.cached for b in briefs.values())
    no_doc = {i for i, b in briefs.items() if not b.has_document}
    assert no_doc == {
        "trauma-responsive-social-work-services-delivery-group",
        "national-trauma-transformation-programme-website",
    }


def test_shipped_checksums_verify(shipped_content: Path) -> None:
    lines = (shipped_content / layout.CHECKSUMS).read_text(encoding="utf-8").splitlines()
    listed = {}
    for line in lines:
        digest, name = line.split("  ", 1)
        listed[name] = digest
        assert layout.sha256_file(shipped_content / name) == digest
    assert layout.CATALOGUE in listed
    on_disk = {f"{layout.FILES}/{p.name}" for p in (shipped_content / layout.FILES).iterdir()}
    assert on_disk == set(listed) - {layout.CATALOGUE}
    assert not (shipped_content / ".work").exists()
    assert not list(shipped_content.parent.glob(".build-*"))


def test_briefs(reader: CatalogueReader) -> None:
    briefs = reader.briefs([*TRAUMA_IDS, GUIDE, "no-such-resource"])
    assert set(briefs) == {*TRAUMA_IDS, GUIDE}
    webinar = briefs[TRAUMA_IDS[0]]
    assert (webinar.kind, webinar.status, webinar.files, webinar.cached_files) == (
        "webinar",
        "current",
        1,
        0,
    )
    assert webinar.has_document and not webinar.cached
    assert briefs[GUIDE].files == briefs[GUIDE].cached_files == 1
    assert reader.briefs([]) == {}


def test_detail_fields(reader: CatalogueReader) -> None:
    roadmap = reader.detail("trauma-informed-responsive-change-roadmap")
    assert roadmap is not None
    assert roadmap.kind == "guidance"
    assert roadmap.publisher == "National Trauma Transformation Programme (NTTP)"
    assert roadmap.categories == [("trauma", "Trauma")]
    assert roadmap.tags == sorted(["nttp", "guidance", "roadmap", "trauma-informed practice"])
    assert roadmap.picture_alt == "Interconnected circles of people"
    assert roadmap.summary.startswith("Guidance for organisations")
    assert roadmap.source_url is None and roadmap.superseded_by is None
    assert roadmap.status == "current"

    slides = reader.detail("margaret-fleming-learning-review-presentation")
    assert slides is not None and slides.published == "2024-04"

    webinar = reader.detail(TRAUMA_IDS[0])
    assert webinar is not None
    # No 'main' file: the first PDF it carries is the one to open.
    assert webinar.main_file is not None and webinar.main_file.role == "briefing"

    website = reader.detail("national-trauma-transformation-programme-website")
    assert website is not None and website.files == [] and website.main_file is None
    assert reader.detail("no-such-resource") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", TRAUMA_IDS),
        ("   ", TRAUMA_IDS),
        ("COMPANION", TRAUMA_IDS[1:4]),
        ("companion DOMESTIC", [TRAUMA_IDS[3]]),
        ("domestic companion", [TRAUMA_IDS[3]]),
        ("inverclyde", [TRAUMA_IDS[8]]),  # a tag (and in the title)
        ("working group page", [TRAUMA_IDS[4]]),  # the kind's label
        ("companion nosuchword", []),
    ],
)
def test_filter_on_shipped_content(reader: CatalogueReader, text: str, expected: list[str]) -> None:
    assert reader.resource_ids("trauma", text) == expected


def test_filter_all_categories(reader: CatalogueReader) -> None:
    everything = reader.resource_ids()
    assert sorted(everything) == sorted([*TRAUMA_IDS, GUIDE])
    titles = [reader.briefs([i])[i].title.casefold() for i in everything]
    assert titles == sorted(titles)
    assert reader.resource_ids(None, "offline guide") == [GUIDE]


# --- A small catalogue made for the filter ------------------------------------------

ODD_TITLE = 'Fees: 100% "quoted" O\'Brien back\\slash under_score 🙂 [x] {y}'


@pytest.fixture(scope="module")
def small_content(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("small")
    pdf = make_pdf(base / "leaflet.pdf", pages=2, text="Small catalogue leaflet")
    source = CatalogueSource(
        version=3,
        issued="2026-01-02",
        categories=[
            SourceCategory("alpha", "Alpha", "First intro", position=2),
            SourceCategory("beta", "Beta", "", position=1),
            SourceCategory("gamma", "Gamma", "", position=3, parent_id="alpha"),
        ],
        resources=[
            SourceResource(
                "r-strasse", "Straße safety", "document", "Crossing roads.", ["alpha"],
                tags=["Zebra-Crossing"], position=3,
            ),
            SourceResource(
                "r-greek", "ΣΊΣΥΦΟΣ and the hill", "guidance", "Pushing uphill.",
                ["alpha", "beta"], position=1,
            ),
            SourceResource("r-odd", ODD_TITLE, "toolkit", "Strange characters.", ["beta"]),
            SourceResource(
                "r-group", "minutes", "group-page", "Meeting notes.", ["alpha"], position=3
            ),
            SourceResource(
                "r-ligature", "ﬁnancial harm", "presentation", "Money.", ["alpha"],
                status="superseded", superseded_by="r-strasse", position=4,
            ),
            SourceResource(
                "r-pdf", "Leaflet", "document", "A leaflet.", ["beta"], position=5,
                files=[
                    SourceFile("leaflet.pdf", path=pdf),
                    SourceFile("appendix.pdf", role="appendix"),
                    SourceFile("same-again.pdf", role="copy", path=pdf),
                ],
            ),
        ],
    )  # fmt: skip
    return build_content(source, base / "content", label="small")


@pytest.fixture
def small(small_content: Path) -> Iterator[CatalogueReader]:
    r = CatalogueReader(small_content / layout.CATALOGUE)
    yield r
    r.close()


def test_small_categories_ordered_by_position(small: CatalogueReader) -> None:
    assert [(c.id, c.count, c.parent_id) for c in small.categories()] == [
        ("beta", 3, None),
        ("alpha", 4, None),
        ("gamma", 0, "alpha"),
    ]
    assert small.resource_ids("gamma") == []


def test_category_order_is_position_then_title(small: CatalogueReader) -> None:
    # r-greek (1); then "minutes" and "Straße safety" (both 3) by title, ignoring case
    # (a case-sensitive sort would put "S" before "m"); then r-ligature (4).
    assert small.resource_ids("alpha") == ["r-greek", "r-group", "r-strasse", "r-ligature"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("STRASSE", ["r-strasse"]),  # 'ß' case-folds to 'ss'
        ("straße", ["r-strasse"]),
        ("Straße SAFETY", ["r-strasse"]),
        ("σίσυφος", ["r-greek"]),  # final sigma
        ("ΣΊΣΥΦΟΣ", ["r-greek"]),
        ("FINANCIAL", ["r-ligature"]),  # the 'ﬁ' ligature
        ("zebra-crossing", ["r-strasse"]),  # a tag
        ("zebra", ["r-strasse"]),
        ("working group", ["r-group"]),  # the kind's label only
        ("companion", []),
        ("alpha", []),  # category names and ids are not matched
        ("r-strasse", []),
    ],
)
def test_filter_words(small: CatalogueReader, text: str, expected: list[str]) -> None:
    assert small.resource_ids("alpha", text) == expected


@pytest.mark.parametrize(
    "text",
    ["%", "_", "\\", "'", '"', "🙂", "100%", "o'brien", '"quoted"', "back\\slash", "[x]", "{y}"],
)
def test_special_characters_match_literally(small: CatalogueReader, text: str) -> None:
    assert small.resource_ids(None, text) == ["r-odd"]
    assert small.resource_ids("alpha", text) == []


@pytest.mark.parametrize(
    "text",
    ["%%", "__", "'); DROP TABLE resources; --", '"]', "\\u0000", "💥", "*", "?"],
)
def test_hostile_filters_are_harmless(small: CatalogueReader, text: str) -> None:
    assert small.resource_ids(None, text) == []
    assert small.resource_ids("beta", text) == []
    assert small.resource_count() == 6


def test_nul_in_the_filter_does_not_fail(small: CatalogueReader) -> None:
    # SQLite's instr() stops at the NUL, so the word matches everything: odd, not harmful.
    assert small.resource_ids(None, "\x00") == small.resource_ids(None, "")
    assert small.resource_count() == 6


def test_filter_words_json() -> None:
    assert filter_words("  A  Straße\tb ") == '["a", "strasse", "b"]'
    assert filter_words("") == "[]"


def test_small_files_and_dedup(small: CatalogueReader, small_content: Path) -> None:
    detail = small.detail("r-pdf")
    assert detail is not None
    leaflet, appendix, again = detail.files
    assert leaflet.cached and leaflet.page_count == 2
    assert not appendix.cached and appendix.sha256 is None
    assert again.sha256 == leaflet.sha256  # the same bytes, stored once
    assert len(list((small_content / layout.FILES).iterdir())) == 1
    brief = small.briefs(["r-pdf"])["r-pdf"]
    assert (brief.files, brief.cached_files, brief.cached) == (3, 2, False)
    assert detail.main_file == leaflet
    superseded = small.detail("r-ligature")
    assert superseded is not None
    assert (superseded.status, superseded.superseded_by) == ("superseded", "r-strasse")
    assert superseded.categories == [("alpha", "Alpha")]
    greek = small.detail("r-greek")
    assert greek is not None
    assert greek.categories == [("beta", "Beta"), ("alpha", "Alpha")]  # by category order
    assert small.meta["content_version"] == "3"


# --- The large generated catalogue --------------------------------------------------


def test_large_counts(large_reader: CatalogueReader) -> None:
    source = generate(50, 10_000)
    cats = large_reader.categories()
    assert len(cats) == 50
    assert large_reader.resource_count() == 10_000
    expected = Counter(c for r in source.resources for c in r.categories)
    assert {c.id: c.count for c in cats} == dict(expected)
    assert sum(c.count for c in cats) == sum(len(r.categories) for r in source.resources)
    assert sum(c.count for c in cats) > 10_000  # some resources are in two categories
    assert [c.id for c in cats] == [f"sample-category-{i:03d}" for i in range(1, 51)]


def test_large_resource_ids_ordered(large_reader: CatalogueReader) -> None:
    source = generate(50, 10_000)
    for cat in ("sample-category-001", "sample-category-037"):
        members = [r for r in source.resources if cat in r.categories]
        expected = [r.id for r in sorted(members, key=lambda r: (r.position, r.title.casefold()))]
        ids = large_reader.resource_ids(cat)
        assert ids == expected
        assert len(ids) == len(set(ids))
    everything = large_reader.resource_ids()
    assert len(everything) == 10_000
    briefs = large_reader.briefs(everything[:500])
    titles = [briefs[i].title.casefold() for i in everything[:500]]
    assert titles == sorted(titles)


def test_large_filter_and_briefs(large_reader: CatalogueReader) -> None:
    assert len(large_reader.resource_ids(None, "SAMPLE resource generated")) == 10_000
    hoarding = large_reader.resource_ids("sample-category-002", "hoarding")
    everything = large_reader.resource_ids("sample-category-002")
    assert 0 < len(hoarding) < len(everything)
    assert set(hoarding) <= set(everything)
    briefs = large_reader.briefs(everything)
    assert set(briefs) == set(everything)
    superseded = [b for b in large_reader.briefs(large_reader.resource_ids()).values()]
    assert sum(b.status == "superseded" for b in superseded) == len(range(0, 10_000, 17))
    # The sample catalogue does not ship its documents.
    assert not any(b.cached for b in superseded)
    assert {b.kind for b in superseded} == set(KINDS)


# --- The reader's SQL against the SQLAlchemy schema -----------------------------------


def _models_db(path: Path) -> None:
    """A catalogue written through the ORM models (not the build's bulk inserts)."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    engine = create_engine(f"sqlite:///{path}")
    m.Base.metadata.create_all(engine)
    with Session(engine) as s, s.begin():
        s.add_all(
            [
                m.Meta(key="schema_version", value=str(m.SCHEMA_VERSION)),
                m.Meta(key="content_version", value="9"),
                m.Meta(key="issued", value="2026-05-05"),
            ]
        )
        parent = m.Category(id="p", name="Parent", introduction="Intro", position=1)
        child = m.Category(id="c", name="Child", position=2, parent_id="p")
        s.add_all([parent, child])
        res = m.Resource(
            id="r1",
            title="Orm resource",
            summary="Made by the models",
            kind="toolkit",
            source_url="https://example.org/r1",
            publisher="Publisher",
            published="2025",
            updated="2026-01",
            reviewed="2026-02",
            status="current",
            picture_alt="Alt",
            picture_sha256="ab" * 32,
            position=1,
            filter_text="orm resource made by the models toolkit",
        )
        res.links = [
            m.ResourceCategory(category_id="p", position=1),
            m.ResourceCategory(category_id="c", position=1),
        ]
        res.tags = [m.Tag(tag="b-tag"), m.Tag(tag="a-tag")]
        res.files = [
            m.ResourceFile(name="one.pdf", size=10, sha256="cd" * 32, page_count=2, cached=True),
            m.ResourceFile(name="two.png", role="picture", media_type="image/png"),
        ]
        s.add(res)
        s.add(m.Resource(id="r2", title="Other", kind="website", filter_text="other website"))
        s.add(m.ResourceCategory(resource_id="r2", category_id="c", position=0))
    engine.dispose()


def test_reader_queries_work_on_a_models_built_db(tmp_path: Path) -> None:
    db = tmp_path / "orm.sqlite"
    _models_db(db)
    reads: set[tuple[str, str]] = set()

    def authorizer(action: int, arg1: str | None, arg2: str | None, *_: object) -> int:
        if action == sqlite3.SQLITE_READ and arg1 and arg2:
            reads.add((arg1, arg2))
        return sqlite3.SQLITE_OK

    reader = CatalogueReader(db)
    try:
        reader._db.set_authorizer(authorizer)
        assert reader.meta["content_version"] == "9"
        cats = reader.categories()
        assert [(c.id, c.parent_id, c.count) for c in cats] == [("p", None, 1), ("c", "p", 2)]
        assert reader.category_introduction("p") == "Intro"
        assert reader.resource_count() == 2
        assert reader.resource_ids("c") == ["r2", "r1"]
        assert reader.resource_ids(None, "MODELS toolkit") == ["r1"]
        brief = reader.briefs(["r1", "r2"])
        assert (brief["r1"].files, brief["r1"].cached_files) == (2, 1)
        assert not brief["r2"].has_document
        d = reader.detail("r1")
        assert d is not None
        assert (d.source_url, d.publisher, d.published, d.updated, d.reviewed) == (
            "https://example.org/r1",
            "Publisher",
            "2025",
            "2026-01",
            "2026-02",
        )
        assert d.picture_sha256 == "ab" * 32
        assert d.tags == ["a-tag", "b-tag"]
        assert d.categories == [("p", "Parent"), ("c", "Child")]
        assert [(f.name, f.role, f.media_type, f.cached) for f in d.files] == [
            ("one.pdf", "main", "application/pdf", True),
            ("two.png", "picture", "image/png", False),
        ]
        assert d.main_file is not None and d.main_file.name == "one.pdf"
        assert [rid for rid, _ in reader.all_files()] == ["r1", "r1"]
        assert reader.integrity_problems() == []
    finally:
        reader.close()

    # Every column the reader read exists in the models and in the built database.
    model_columns = {(t.name, c.name) for t in m.Base.metadata.sorted_tables for c in t.columns}
    con = sqlite3.connect(db)
    try:
        db_columns = {
            (t, row[1])
            for t in {t for t, _ in model_columns}
            for row in con.execute(f"PRAGMA table_info({t})")
        }
    finally:
        con.close()
    assert db_columns == model_columns
    read_tables = {t for t, _ in reads} - {"json_each", "sqlite_master"}
    table_reads = {(t, c) for t, c in reads if t in read_tables}
    assert table_reads, "the authorizer saw no reads"
    assert table_reads <= model_columns, table_reads - model_columns
    # The reader looks at every table of the schema ('meta' is read when it opens,
    # before the authorizer could be set; its columns are the model's).
    assert read_tables | {"meta"} == {t.name for t in m.Base.metadata.sorted_tables}
    assert {c.name for c in m.Meta.__table__.columns} == {"key", "value"}


def test_shipped_schema_is_the_models_schema(shipped_content: Path, tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    fresh = tmp_path / "fresh.sqlite"
    engine = create_engine(f"sqlite:///{fresh}")
    m.Base.metadata.create_all(engine)
    engine.dispose()

    def schema(path: Path) -> set[tuple[str, str, str, int, int]]:
        con = sqlite3.connect(path)
        try:
            tables = [
                r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
            return {
                (t, r[1], r[2], r[3], r[5])
                for t in tables
                for r in con.execute(f"PRAGMA table_info({t})")
            }
        finally:
            con.close()

    assert schema(shipped_content / layout.CATALOGUE) == schema(fresh)


# --- Loading the authored source ------------------------------------------------------


def test_shipped_source_loads() -> None:
    source = load_source(RESOURCES / "catalogue.toml")
    assert (source.version, source.issued) == (1, "2026-11-26")
    assert [c.id for c in source.categories] == ["trauma", "using-aspire-desktop"]
    assert [r.id for r in source.resources if "trauma" in r.categories] == TRAUMA_IDS
    guide = next(r for r in source.resources if r.id == GUIDE)
    assert guide.files[0].path is not None and guide.files[0].path.is_file()
    assert guide.files[0].path.is_absolute()
    assert all(r.kind in KINDS and r.status in STATUSES for r in source.resources)
    check_source(generate(5, 50))  # the generated samples are valid too


HEADER = """
format = 1
version = 1
issued = "2026-01-01"

[[categories]]
id = "a"
name = "A"
"""

ONE = """
[[resources]]
id = "r1"
title = "One"
kind = "document"
categories = ["a"]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalogue.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_source_with_a_relative_file(tmp_path: Path) -> None:
    make_pdf(tmp_path / "docs.pdf")
    path = _write(
        tmp_path,
        HEADER
        + ONE
        + '[[resources.files]]\nname = "x.pdf"\nsource = "docs.pdf"\n'
        + '[[resources.files]]\nname = "y.pdf"\n',
    )
    source = load_source(path)
    files = source.resources[0].files
    assert files[0].path == (tmp_path / "docs.pdf").resolve()
    assert files[1].path is None
    assert source.resources[0].status == "current"
    assert source.resources[0].position == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HEADER + ONE + ONE, r"Two resources share the id r1"),
        (HEADER + '[[categories]]\nid = "a"\nname = "Again"\n', r"Two categories share an id"),
        (HEADER + ONE.replace('"document"', '"podcast"'), r"r1: unknown kind 'podcast'"),
        (HEADER + ONE + 'status = "draft"\n', r"r1: unknown status 'draft'"),
        (HEADER + ONE.replace('["a"]', '["a", "nowhere"]'), r"r1: unknown category nowhere"),
        (HEADER + ONE.replace('["a"]', "[]"), r"Resource r1 is in no category"),
        (
            HEADER + ONE + '[[resources.files]]\nname = "x.pdf"\nsource = "missing.pdf"\n',
            r"r1: file .*missing\.pdf does not exist",
        ),
        (HEADER + ONE + "title = [unclosed\n", r"is not valid TOML"),
        (HEADER.replace("format = 1", "format = 2"), r"'format' must be 1"),
        (HEADER.replace("format = 1", ""), r"'format' must be 1"),
        (HEADER.replace("version = 1", "version = 0"), r"'version' must be a whole number"),
        (HEADER.replace("version = 1", 'version = "1"'), r"'version' must be a whole number"),
        (HEADER.replace('issued = "2026-01-01"', 'issued = " "'), r"'issued' must be"),
        (HEADER + ONE.replace('title = "One"', ""), r"resource r1: 'title' must be a non-empty"),
        (HEADER + ONE.replace('title = "One"', 'title = ""'), r"'title' must be a non-empty"),
        (HEADER + ONE + "tags = [1, 2]\n", r"r1: tags and categories must be lists of text"),
        (HEADER + ONE + "publisher = 7\n", r"r1: 'publisher' must be text"),
        (HEADER + '[[categories]]\nid = "b"\nname = "B"\nparent = "zz"\n', r"unknown parent zz"),
        (HEADER + '[[categories]]\nname = "No id"\n', r"category 2: 'id' must be a non-empty"),
    ],
)
def test_source_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SourceError, match=message) as info:
        load_source(_write(tmp_path, text))
    assert isinstance(info.value, UserError)
    assert info.value.exit_code == 2


def test_unknown_kind_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as info:
        load_source(_write(tmp_path, HEADER + ONE.replace('"document"', '"podcast"')))
    assert all(k in info.value.what_to_do for k in KINDS)


def test_unreadable_source(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"Cannot read .*nope\.toml"):
        load_source(tmp_path / "nope.toml")
    with pytest.raises(SourceError, match="Cannot read"):
        load_source(tmp_path)  # a folder


def test_kind_labels() -> None:
    assert kind_label("group-page") == "Working group page"
    assert kind_label("companion") == "Companion document"
    assert kind_label("new-thing") == "New thing"


# --- Build failures leave nothing half-built ------------------------------------------


def _one_file_source(path: Path) -> CatalogueSource:
    return CatalogueSource(
        version=1,
        issued="2026-01-01",
        categories=[SourceCategory("a", "A")],
        resources=[
            SourceResource(
                "r1", "One", "document", categories=["a"], files=[SourceFile("one.pdf", path=path)]
            )
        ],
    )


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(".build-"))


@pytest.mark.parametrize("data", [b"", b"%PDF-1.7\n garbage that is not a PDF", b"\x00" * 64])
def test_corrupt_pdf_fails_the_build_cleanly(tmp_path: Path, data: bytes) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(data)
    out = tmp_path / "out" / "content"
    with pytest.raises(SourceError, match=r"bad\.pdf cannot be opened as a PDF"):
        build_content(_one_file_source(bad), out)
    assert not out.exists()
    assert _leftovers(out.parent) == []


def test_file_removed_between_load_and_build(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "going.pdf")
    path = _write(
        tmp_path, HEADER + ONE + '[[resources.files]]\nname = "g.pdf"\nsource = "going.pdf"\n'
    )
    source = load_source(path)
    pdf.unlink()
    out = tmp_path / "out" / "content"
    with pytest.raises(SourceError, match=r"going\.pdf"):
        build_content(source, out)
    assert not out.exists()
    assert _leftovers(out.parent) == []


def test_markdown_removed_between_load_and_build(tmp_path: Path) -> None:
    md = tmp_path / "guide.md"
    md.write_text("# Guide\n\nText.\n", encoding="utf-8")
    source = _one_file_source(md)
    check_source(source)
    md.unlink()
    out = tmp_path / "out" / "content"
    with pytest.raises(SourceError, match="does not exist"):
        build_content(source, out)
    assert not out.exists()
    assert _leftovers(out.parent) == []


def test_failed_rebuild_keeps_the_previous_version(tmp_path: Path) -> None:
    good = make_pdf(tmp_path / "good.pdf", pages=1)
    out = build_content(_one_file_source(good), tmp_path / "content")
    before = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"not a pdf")
    with pytest.raises(SourceError):
        build_content(_one_file_source(bad), out)
    after = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert _leftovers(tmp_path) == []


def test_rebuild_replaces_the_folder(tmp_path: Path) -> None:
    first = make_pdf(tmp_path / "first.pdf", pages=1, text="First")
    out = build_content(_one_file_source(first), tmp_path / "content")
    (out / "stray.txt").write_text("left from before")
    second = make_pdf(tmp_path / "second.pdf", pages=4, text="Second")
    assert build_content(_one_file_source(second), out, label="again") == out
    assert not (out / "stray.txt").exists()
    assert layout.read_version_info(out).label == "again"
    files = list((out / layout.FILES).iterdir())
    assert [p.name for p in files] == [
        layout.file_name(layout.sha256_file(second), "application/pdf")
    ]
    r = CatalogueReader(out / layout.CATALOGUE)
    try:
        assert r.all_files()[0][1].page_count == 4
    finally:
        r.close()
    assert _leftovers(tmp_path) == []


def test_built_folder_is_readable_by_others(tmp_path: Path) -> None:
    out = build_content(_one_file_source(make_pdf(tmp_path / "a.pdf", pages=1)), tmp_path / "c")
    assert out.stat().st_mode & 0o755 == 0o755
    assert not (out / (layout.CATALOGUE + "-journal")).exists()
    assert not (out / (layout.CATALOGUE + "-wal")).exists()
