"""The Bookmarks panel: adding, filtering, undoing, opening at the place, and bookmarks
that outlive a catalogue update."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from aspire_desktop.core import paths
from aspire_desktop.core.catalogue.source import SourceFile, load_source
from aspire_desktop.core.store import layout
from aspire_desktop.core.store.build import build_content
from aspire_desktop.core.userdata.bookmarks import BookmarkData, Quote
from aspire_desktop.core.userdata.store import UserData
from aspire_desktop.ui.bookmarks import BookmarkDialog
from gui_helpers import main_window
from pdfs import make_pdf

GUIDE = "aspire-desktop-user-guide"
ROOT = Path(__file__).resolve().parents[1]


def _dialog() -> BookmarkDialog:
    found = [w for w in QApplication.topLevelWidgets() if isinstance(w, BookmarkDialog)]
    assert found, "no bookmark dialog"
    return found[-1]


def _wait_bookmarks(qtbot, window, count: int) -> None:
    qtbot.waitUntil(lambda: window.bookmarks_panel.model.rowCount() == count)


@pytest.fixture
def window(qtbot, baseline):
    with main_window(qtbot) as w:
        yield w


def _open_guide(qtbot, window):
    view = window.open_resource(GUIDE)
    with qtbot.waitSignal(view.ready, timeout=20_000):
        pass
    return view


def test_bookmark_a_page_with_a_note(window, qtbot):
    view = _open_guide(qtbot, window)
    view.go_to(1)
    qtbot.keyClick(window, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    dialog = _dialog()
    qtbot.keyClicks(dialog.note_edit, "read before the training")
    dialog.label_box.setCurrentText("training")
    dialog.accept()
    _wait_bookmarks(qtbot, window, 1)
    assert window.bookmarks_panel.isVisible()
    text = window.bookmarks_panel.model.index(0, 0).data()
    assert "ASPire Desktop user guide" in text and "Page 2 of" in text
    assert "training" in text and "read before the training" in text


def test_bookmark_a_passage_keeps_its_quote(window, qtbot):
    view = _open_guide(qtbot, window)
    view.canvas.select_all_on_page()
    qtbot.waitUntil(lambda: view.canvas.selection is not None)
    data = view.bookmark_data()
    assert data is not None and data.kind == "passage" and data.quote.exact
    window.bookmarks_panel.add(data, ask=False)
    _wait_bookmarks(qtbot, window, 1)
    saved = window.bookmarks_panel.model.bookmark(0)
    assert saved.quote.exact.startswith("ASPire Desktop user guide")
    assert saved.document_sha256 == view.sha256


def test_filter_label_delete_and_undo(window, qtbot):
    panel = window.bookmarks_panel
    panel.add(BookmarkData(GUIDE, kind="page", page=0, note="keyboard", label="help"), ask=False)
    panel.add(BookmarkData(GUIDE, kind="page", page=2, note="terms", label="glossary"), ask=False)
    _wait_bookmarks(qtbot, window, 2)
    qtbot.keyClicks(panel.filter_edit, "terms")
    assert panel.model.rowCount() == 1
    panel.filter_edit.clear()
    panel.label_box.setCurrentIndex(panel.label_box.findData("help"))
    assert [panel.model.bookmark(0).note] == ["keyboard"]
    panel.label_box.setCurrentIndex(0)
    panel.show()
    panel.list.setCurrentIndex(panel.model.index(0, 0))
    qtbot.keyClick(panel.list, Qt.Key.Key_Delete)
    _wait_bookmarks(qtbot, window, 1)
    window.undo_action.trigger()
    _wait_bookmarks(qtbot, window, 2)
    assert {panel.model.bookmark(i).note for i in range(2)} == {"keyboard", "terms"}


def test_opening_a_bookmark_goes_to_its_page_and_passage(window, qtbot):
    view = _open_guide(qtbot, window)
    window.close_tab(1)
    sha = view.sha256
    mark = BookmarkData(
        GUIDE,
        kind="passage",
        page=2,
        document_sha256=sha,
        quote=Quote("Terms used in Adult Support and Protection"),
    )
    window.open_bookmark(mark)
    reopened = window.tabs.currentWidget()
    qtbot.waitUntil(lambda: reopened.info is not None and reopened.page == 2, timeout=20_000)
    qtbot.waitUntil(
        lambda: reopened.find_count.text().endswith("of 1") or "of" in reopened.find_count.text()
    )
    assert reopened.find_edit.text() == "Terms used in Adult Support and Protection"


def test_recent_lists_documents_with_progress(window, qtbot):
    view = _open_guide(qtbot, window)
    view.go_to(1)
    qtbot.waitUntil(lambda: not view._save_timer.isActive(), timeout=5000)
    window.bookmarks_panel.reload()
    qtbot.waitUntil(lambda: window.bookmarks_panel.recent_model.rowCount() == 1)
    text = window.bookmarks_panel.recent_model.index(0, 0).data()
    assert "ASPire Desktop user guide" in text and "Read up to page 2 of" in text


def test_import_and_export_from_the_window(window, qtbot, tmp_path):
    window.bookmarks_panel.add(BookmarkData(GUIDE, kind="page", page=1, note="n"), ask=False)
    _wait_bookmarks(qtbot, window, 1)
    out = tmp_path / "marks.json"
    window.export_bookmarks_to(out, as_text=False)
    qtbot.waitUntil(out.exists)
    data = json.loads(out.read_text(encoding="utf-8"))
    data["bookmarks"][0]["uid"] = "imported-one"
    data["bookmarks"][0]["note"] = "from the other laptop"
    other = tmp_path / "other.json"
    other.write_text(json.dumps(data), encoding="utf-8")
    window.import_bookmarks_from(other)
    _wait_bookmarks(qtbot, window, 2)


def _changed_catalogue(baseline: Path, tmp_path: Path) -> tuple[str, str]:
    """A per-user content version where the guide's PDF changed (the passage moved to
    page 3) and the toolkit resource is gone. Returns (old sha, new sha)."""
    source = load_source(ROOT / "resources" / "catalogue.toml")
    new_pdf = make_pdf(tmp_path / "guide-v2.pdf", pages=4, text="Revised guide")
    import pymupdf

    doc = pymupdf.open(new_pdf)
    doc[2].insert_text((72, 300), "Bookmarked passage about inquiries", fontsize=12)
    doc.saveIncr()
    doc.close()
    for r in source.resources:
        if r.id == GUIDE:
            r.files = [SourceFile(name="guide.pdf", path=new_pdf)]
    source.resources = [r for r in source.resources if r.id != "trauma-informed-practice-toolkit"]
    source.version = 2
    content_dir = paths.resolve().content_dir
    build_content(source, content_dir / "versions" / "v2", label="sync")
    (content_dir / "current.json").write_text(json.dumps({"version_dir": "v2"}))
    return "0" * 64, layout.sha256_file(new_pdf)


def test_bookmarks_survive_a_catalogue_update(qtbot, baseline, tmp_path):
    old_sha, new_sha = _changed_catalogue(baseline, tmp_path)
    store, _ = UserData.open(paths.resolve().userdata_db)
    passage = store.add_bookmark(
        BookmarkData(
            GUIDE,
            kind="passage",
            page=0,
            document_sha256=old_sha,
            quote=Quote("Bookmarked passage about inquiries", "", ""),
        )
    )
    gone = store.add_bookmark(BookmarkData("trauma-informed-practice-toolkit", kind="resource"))
    store.close()
    with main_window(qtbot) as w:
        assert not w.ctx.content.is_baseline
        _wait_bookmarks(qtbot, w, 2)
        texts = [w.bookmarks_panel.model.index(i, 0).data() for i in range(2)]
        assert any("no longer in the catalogue" in t for t in texts)
        w.open_bookmark(gone)
        assert "no longer in the catalogue" in w.statusBar().currentMessage()
        w.open_bookmark(replace(passage))
        view = w.tabs.currentWidget()
        qtbot.waitUntil(lambda: view.info is not None and view.page == 2, timeout=20_000)
        qtbot.waitUntil(lambda: view.note.isVisible())
        assert "found its passage again" in view.note.text()
        assert view.sha256 == new_sha
