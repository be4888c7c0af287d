"""Bookmarks and reading progress in the user database; finding passages again;
moving bookmarks between computers; migrations that lose nothing."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from aspire_desktop.core.userdata.anchor import reanchor
from aspire_desktop.core.userdata.bookmarks import BookmarkData, Quote
from aspire_desktop.core.userdata.exchange import (
    ImportError_,
    export_json,
    export_text,
    import_json,
)
from aspire_desktop.core.userdata.store import UserData, schema_revision


@pytest.fixture
def userdata(tmp_path: Path):
    store, notice = UserData.open(tmp_path / "userdata.sqlite")
    assert notice is None
    yield store
    store.close()


def _passage(resource: str = "guide", page: int = 2, note: str = "") -> BookmarkData:
    return BookmarkData(
        resource_id=resource,
        kind="passage",
        page=page,
        page_count=10,
        document_sha256="a" * 64,
        document_title="A guide",
        quote=Quote("adults at risk of harm", "the duty to support ", " must be protected"),
        note=note,
        label="inquiry",
    )


def test_add_list_edit_delete_and_undo(userdata: UserData):
    first = userdata.add_bookmark(BookmarkData("guide", kind="resource"))
    second = userdata.add_bookmark(_passage(note="check with the council officer"))
    assert first.id is not None and second.id is not None
    listed = userdata.bookmarks()
    assert [b.uid for b in listed] == [second.uid, first.uid]  # newest first
    assert listed[0].quote.exact == "adults at risk of harm"
    edited = userdata.update_bookmark(second.id, "new note", " follow-up ")
    assert (edited.note, edited.label) == ("new note", "follow-up")
    assert userdata.labels() == ["follow-up"]
    removed = userdata.delete_bookmark(second.id)
    assert removed is not None and [b.uid for b in userdata.bookmarks()] == [first.uid]
    # Undo puts it back as it was: same uid, note, times.
    back = userdata.add_bookmark(removed)
    assert (back.uid, back.note, back.created_at) == (removed.uid, "new note", removed.created_at)
    assert userdata.delete_bookmark(9999) is None


def test_bookmarks_survive_reopening(tmp_path: Path):
    path = tmp_path / "userdata.sqlite"
    store, _ = UserData.open(path)
    store.add_bookmark(_passage())
    store.close()
    store, _ = UserData.open(path)
    try:
        assert [b.quote.prefix for b in store.bookmarks()] == ["the duty to support "]
    finally:
        store.close()


def test_recent_documents_with_progress(userdata: UserData):
    userdata.save_position("guide", 2, 10)
    userdata.save_position("file:/tmp/x.pdf", 0, None)
    recent = userdata.recent()
    assert [r.document_key for r in recent] == ["file:/tmp/x.pdf", "guide"]
    assert recent[1].progress == "page 3 of 10"
    userdata.save_position("guide", 4, 10)
    assert userdata.recent()[0].document_key == "guide"


PAGES = [
    "Introduction. This guidance covers adult support and protection.",
    "Chapter two. The duty to support adults at risk of harm must be protected by all.",
    "Chapter three. Large scale investigations.",
]


def test_reanchor_finds_exact_text_on_the_same_page():
    anchor = reanchor(_passage().quote, PAGES, 1)
    assert (anchor.page, anchor.how) == (1, "exact")


def test_reanchor_follows_text_moved_to_another_page():
    moved = [PAGES[0], "A new chapter was added here.", PAGES[2], PAGES[1]]
    anchor = reanchor(_passage().quote, moved, 1)
    assert (anchor.page, anchor.how) == (3, "exact")
    assert "found its passage again" in anchor.moved_message


def test_reanchor_uses_prefix_and_suffix_to_choose_between_repeats():
    quote = Quote("adults at risk", "the duty to support ", " of harm")
    pages = [
        "Other adults at risk of neglect.",
        "Note: the duty to support adults at risk of harm.",
    ]
    assert reanchor(quote, pages, 0).page == 1


def test_reanchor_finds_edited_text():
    edited = [PAGES[0], PAGES[2], "The duty to support adults at risk of serious harm is clear."]
    anchor = reanchor(_passage().quote, edited, 1)
    assert (anchor.page, anchor.how) == (2, "similar")
    assert "serious harm" in anchor.text


def test_reanchor_falls_back_to_the_page_when_text_is_gone():
    gone = ["Completely different.", "Nothing of the kind.", "Still nothing."]
    anchor = reanchor(_passage().quote, gone, 1)
    assert (anchor.page, anchor.how) == (1, "page")
    assert "may have moved" in anchor.moved_message
    assert reanchor(_passage().quote, ["Only one page now."], 7).page == 0


def test_export_import_round_trip_merges_without_duplicates(tmp_path: Path):
    a, _ = UserData.open(tmp_path / "a.sqlite")
    b, _ = UserData.open(tmp_path / "b.sqlite")
    try:
        a.add_bookmark(_passage(note="one"))
        a.add_bookmark(BookmarkData("toolkit", kind="resource", note="two"))
        b.add_bookmark(BookmarkData("roadmap", kind="page", page=3))
        out = tmp_path / "bookmarks.json"
        assert export_json(a, out) == 2
        data = json.loads(out.read_text(encoding="utf-8"))
        assert data["format"] == "aspire-desktop-bookmarks" and data["version"] == 1
        result = import_json(b, out)
        assert (result.added, result.skipped) == (2, 0)
        again = import_json(b, out)
        assert (again.added, again.skipped) == (0, 2)
        notes = sorted(x.note for x in b.bookmarks())
        assert notes == ["", "one", "two"]
        imported = next(x for x in b.bookmarks() if x.note == "one")
        assert imported.quote == _passage().quote and imported.page == 2
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n", "not JSON"),
        (b"[1, 2, 3]", "not an ASPire Desktop bookmarks file"),
        (json.dumps({"format": "something-else", "version": 1}).encode(), "not an ASPire"),
        (
            json.dumps(
                {"format": "aspire-desktop-bookmarks", "version": 7, "bookmarks": []}
            ).encode(),
            "newer version",
        ),
        (
            json.dumps(
                {
                    "format": "aspire-desktop-bookmarks",
                    "version": 1,
                    "bookmarks": [
                        {"uid": "abcdefgh12", "resource_id": "x", "kind": "page"},
                        {"uid": "abcdefgh13", "resource_id": "y", "kind": "everything"},
                    ],
                }
            ).encode(),
            "damaged",
        ),
    ],
)
def test_malformed_or_foreign_files_change_nothing(
    userdata: UserData, tmp_path: Path, content: bytes, message: str
):
    userdata.add_bookmark(_passage())
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    with pytest.raises(ImportError_, match=message):
        import_json(userdata, bad)
    assert len(userdata.bookmarks()) == 1


def test_plain_text_export(userdata: UserData, tmp_path: Path):
    userdata.add_bookmark(_passage(note="discuss at the IRD"))
    out = tmp_path / "bookmarks.txt"
    assert export_text(userdata, out, {"guide": "The guidance"}.get) == 1
    text = out.read_text(encoding="utf-8")
    assert "The guidance\nPage 3 of 10\n“adults at risk of harm”" in text
    assert "Note: discuss at the IRD" in text


def _make_revision_0001(path: Path) -> None:
    """A user database as the first release made it, with a bookmark in it."""
    from alembic import command
    from alembic.config import Config

    from aspire_desktop.core.userdata.store import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", f"sqlite:///{path}")
    command.upgrade(cfg, "0001")
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO bookmarks (resource_id, page, note, label, created_at) "
            "VALUES ('roadmap', 4, 'kept note', 'training', '2026-01-02 03:04:05')"
        )
        db.execute(
            "INSERT INTO bookmarks (resource_id, page, note, label, created_at) "
            "VALUES ('toolkit', NULL, '', '', '2026-01-03 03:04:05')"
        )
    db.close()


def test_upgrading_every_earlier_schema_keeps_bookmarks(tmp_path: Path):
    path = tmp_path / "userdata.sqlite"
    _make_revision_0001(path)
    assert schema_revision(path) == "0001"
    store, notice = UserData.open(path)
    try:
        assert notice is None
        marks = {b.resource_id: b for b in store.bookmarks()}
        assert marks["roadmap"].note == "kept note" and marks["roadmap"].page == 4
        assert marks["roadmap"].kind == "page" and marks["toolkit"].kind == "resource"
        assert len({b.uid for b in marks.values()}) == 2
    finally:
        store.close()
    assert schema_revision(path) != "0001"
    backups = list(tmp_path.glob("userdata.backup-r0001-*.sqlite"))
    assert len(backups) == 1 and schema_revision(backups[0]) == "0001"


def test_no_backup_when_nothing_to_migrate(tmp_path: Path):
    path = tmp_path / "userdata.sqlite"
    UserData.open(path)[0].close()
    UserData.open(path)[0].close()
    assert list(tmp_path.glob("*.backup-*")) == []


WRITER = """
import sys
from pathlib import Path
from aspire_desktop.core.userdata.store import UserData
from aspire_desktop.core.userdata.bookmarks import BookmarkData
store, _ = UserData.open(Path(sys.argv[1]))
n = 0
while True:
    store.add_bookmark(BookmarkData("res-%d" % n, kind="resource", note="x" * 200))
    n += 1
    print(n, flush=True)
"""


def test_kill_during_a_write_loop_loses_nothing_saved(tmp_path: Path):
    path = tmp_path / "userdata.sqlite"
    UserData.open(path)[0].close()
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    saved = 0
    try:
        for line in proc.stdout:
            saved = int(line)
            if saved >= 150:
                break
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    store, notice = UserData.open(path)
    try:
        assert notice is None  # not damaged
        assert len(store.bookmarks()) >= saved
    finally:
        store.close()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aspire_desktop", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_export_and_import(baseline, isolated_home, tmp_path: Path):
    from aspire_desktop.core import paths

    store, _ = UserData.open(paths.resolve().userdata_db)
    store.add_bookmark(
        BookmarkData("aspire-desktop-user-guide", kind="page", page=1, note="keyboard keys")
    )
    store.close()
    out = tmp_path / "marks.json"
    done = _cli("bookmarks", "export", str(out))
    assert done.returncode == 0, done.stderr
    assert "Wrote 1 bookmarks" in done.stdout
    text = tmp_path / "marks.txt"
    done = _cli("bookmarks", "export", "--text", str(text))
    assert done.returncode == 0, done.stderr
    assert text.read_text(encoding="utf-8").startswith("ASPire Desktop user guide\nPage 2")
    other = tmp_path / "other"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "aspire_desktop",
            "--data-dir",
            str(other),
            "bookmarks",
            "import",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Imported 1 bookmarks (0 already here)" in done.stdout
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    done = _cli("bookmarks", "import", str(bad))
    assert done.returncode == 1
    assert "not a bookmarks file" in done.stderr and "Traceback" not in done.stderr
