"""The main window, driven as a user would: mouse, keyboard, and what is shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton, QWidget

from aspire_desktop.ui.models import ALL_RESOURCES, ID_ROLE
from aspire_desktop.ui.viewer import DocumentView
from gui_helpers import main_window

TRAUMA_COMPANION = "mental-health-trauma-informed-practice-companion"
GUIDE = "aspire-desktop-user-guide"


@pytest.fixture
def window(qtbot, baseline):
    with main_window(qtbot) as w:
        yield w


def _select_resource(window, resource_id: str) -> None:
    row = window.resources.row_of(resource_id)
    assert row >= 0, resource_id
    window.resource_view.setCurrentIndex(window.resources.index(row, 0))


def _category_rows(window) -> list[str]:
    model = window.categories
    return [model.index(r, 0).data() for r in range(model.rowCount())]


def test_tree_shows_categories_with_counts(window):
    assert _category_rows(window) == [
        "All resources (10)",
        "Trauma (9)",
        "Using ASPire Desktop (1)",
    ]
    # The first category is chosen at start, its list filled.
    assert window.resources.category_id == "trauma"
    assert window.resources.rowCount() == 9
    assert window.count_label.text() == "9 resources"
    assert window.detail.title.text() == "Trauma"
    assert "trauma-informed" in window.detail.summary.text()


def test_choosing_a_category_lists_its_resources(window, qtbot):
    index = window.categories.index_of("using-aspire-desktop")
    rect = window.category_view.visualRect(index)
    qtbot.mouseClick(window.category_view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.resources.category_id == "using-aspire-desktop"
    assert window.resources.ids() == [GUIDE]
    window.category_view.setCurrentIndex(window.categories.index_of(ALL_RESOURCES))
    assert window.resources.rowCount() == 10


def test_filter_narrows_as_you_type(window, qtbot):
    qtbot.keyClicks(window.filter_edit, "alcohol")
    assert window.resources.ids() == ["alcohol-drug-use-trauma-informed-practice-companion"]
    assert window.count_label.text() == "Showing 1 of 9 resources"
    window.filter_edit.clear()
    qtbot.keyClicks(window.filter_edit, "COMPANION document")
    assert len(window.resources.ids()) == 3
    qtbot.keyClicks(window.filter_edit, " zzz-nothing")
    assert window.resources.rowCount() == 0
    # Escape in the filter box clears it.
    qtbot.keyClick(window.filter_edit, Qt.Key.Key_Escape)
    assert window.filter_edit.text() == ""
    assert window.resources.rowCount() == 9


def test_filter_is_safe_with_any_text(window, qtbot):
    for text in ['"', "%", "_", "\\", "'; DROP TABLE resources; --", "😀", "x" * 5000, "[(*"]:
        window.filter_edit.setText(text)
        assert window.resources.rowCount() == 0
    window.filter_edit.clear()
    assert window.resources.rowCount() == 9


def test_detail_of_an_uncached_resource(window, qtbot):
    _select_resource(window, TRAUMA_COMPANION)
    d = window.detail
    assert d.title.text() == "Mental health and trauma-informed practice: Companion document"
    assert d.badges.text() == "Companion document · Current"
    assert "Cover image of companion document" in d.picture_caption.text()
    assert "neutral image" in d.picture_caption.text()
    assert d.picture.accessibleDescription() == "Cover image of companion document"
    assert "not on this computer" in d.document_text.text()
    assert d.request_button.isVisible() and not d.open_button.isVisible()


def test_get_it_at_next_sync_is_remembered(window, qtbot):
    _select_resource(window, TRAUMA_COMPANION)
    qtbot.mouseClick(window.detail.request_button, Qt.MouseButton.LeftButton)
    assert window.detail.request_button.isChecked()
    future = window.ctx.userdata(lambda u: u.download_requests())
    qtbot.waitUntil(future.done)
    assert future.result() == {TRAUMA_COMPANION}
    qtbot.waitUntil(lambda: "fetched at the next sync" in window.detail.document_text.text())
    # Cancel it again.
    qtbot.mouseClick(window.detail.request_button, Qt.MouseButton.LeftButton)
    future = window.ctx.userdata(lambda u: u.download_requests())
    qtbot.waitUntil(future.done)
    assert future.result() == set()


def test_opening_an_uncached_document_says_so_plainly(window, qtbot):
    assert window.open_resource(TRAUMA_COMPANION) is None
    boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]
    assert boxes and "not on this computer yet" in boxes[-1].text()
    assert "Get it at next sync" in boxes[-1].informativeText()
    assert window.tabs.count() == 1
    boxes[-1].close()


def test_opening_a_cached_document_shows_a_page(window, qtbot):
    window.category_view.setCurrentIndex(window.categories.index_of("using-aspire-desktop"))
    _select_resource(window, GUIDE)
    assert window.detail.open_button.isVisible()
    assert "on this computer" in window.detail.document_text.text()
    with qtbot.waitSignal(window.detail.open_requested):
        qtbot.mouseClick(window.detail.open_button, Qt.MouseButton.LeftButton)
    assert window.tabs.count() == 2
    view = window.tabs.currentWidget()
    assert isinstance(view, DocumentView)
    qtbot.waitUntil(lambda: view.canvas is not None and 0 in view.canvas._painted_pages())
    assert view.page_edit.text() == "1"
    assert view.page_label.text() == f"of {view.info.page_count}"
    view.canvas.set_continuous(False)
    with qtbot.waitSignal(view.page_shown, check_params_cb=lambda p: p == 1):
        qtbot.keyClick(view.canvas, Qt.Key.Key_End)
        qtbot.keyClick(view.canvas, Qt.Key.Key_Home)
        view.next_page()
    assert view.page == 1
    # Opening it again switches to the same tab.
    assert window.open_resource(GUIDE) is view
    assert window.tabs.count() == 2
    qtbot.keyClick(window, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.count() == 1


def test_reopening_restores_the_page(qtbot, baseline):
    with main_window(qtbot) as w:
        view = w.open_resource(GUIDE)
        with qtbot.waitSignal(view.ready):
            pass
        view.go_to(2)
        saved = w.ctx.userdata(lambda u: u.position(GUIDE))
        qtbot.waitUntil(saved.done)
        w.close_tab(1)
    with main_window(qtbot) as w:
        view = w.open_resource(GUIDE)
        qtbot.waitUntil(lambda: view.canvas is not None and view.page == 2, timeout=10_000)
        assert view.page_edit.text() == "3"


def test_damaged_pdf_says_what_is_wrong_in_its_tab(window, qtbot, tmp_path):
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.7\nthis is not really a pdf\n")
    view = window.open_path(bad, "Broken file", "file:broken")
    with qtbot.waitSignal(view.failed, timeout=10_000):
        pass
    assert "cannot be opened" in view.message.text()
    assert view.canvas is None
    # The rest of the app goes on.
    window.tabs.setCurrentIndex(0)
    window.filter_edit.setText("toolkit")
    assert window.resources.ids() == ["trauma-informed-practice-toolkit"]


def test_keyboard_alone(window, qtbot):
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.filter_edit.hasFocus()
    qtbot.keyClicks(window.filter_edit, "guide")
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.category_view.hasFocus()
    qtbot.keyClick(window.category_view, Qt.Key.Key_Down)
    assert window.resources.category_id == "using-aspire-desktop"
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.resource_view.hasFocus()
    qtbot.keyClick(window.resource_view, Qt.Key.Key_Down)
    assert window.detail.resource_id == GUIDE
    qtbot.keyClick(window.resource_view, Qt.Key.Key_Return)
    assert window.tabs.count() == 2
    qtbot.keyClick(window, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentIndex() == 0


def test_every_focusable_widget_has_an_accessible_name(window, qtbot):
    window.open_resource(GUIDE)
    _select_resource(window, TRAUMA_COMPANION)
    window.tabs.setCurrentIndex(0)
    missing = []
    for w in window.findChildren(QWidget):
        # Reachable from the keyboard (Tab) and on screen.
        if not (w.focusPolicy() & Qt.FocusPolicy.TabFocus) or not w.isVisibleTo(window):
            continue
        if w is window.category_view.viewport() or w.objectName().startswith("qt_"):
            continue
        name = w.accessibleName() or (w.text() if isinstance(w, QPushButton) else "")
        if not name:
            missing.append(f"{type(w).__name__} {w.objectName()!r}")
    assert missing == []


def test_models_pass_qtmodeltester(window, qtmodeltester):
    qtmodeltester.check(window.categories)
    qtmodeltester.check(window.resources)


def test_models_pass_qtmodeltester_on_a_large_catalogue(qtbot, large_baseline, qtmodeltester):
    with main_window(qtbot, background=False) as w:
        assert w.categories.rowCount() == 51
        w.category_view.setCurrentIndex(w.categories.index_of(ALL_RESOURCES))
        assert w.resources.rowCount() == 10_000
        qtmodeltester.check(w.categories)
        # The list model fetches rows lazily; check it on one category's rows.
        w.select_category("sample-category-001")
        qtmodeltester.check(w.resources)
        ids = w.resources.ids()
        assert all(i.startswith("sample-resource-") for i in ids)
        assert w.resources.index(0, 0).data(ID_ROLE) == ids[0]


def test_window_layout_and_category_are_remembered(qtbot, baseline):
    with main_window(qtbot) as w:
        w.resize(700, 500)
        w.select_category("using-aspire-desktop")
    with main_window(qtbot) as w:
        assert w.resources.category_id == "using-aspire-desktop"
        assert (w.width(), w.height()) == (700, 500)


def test_status_bar_shows_content_version_and_age(window, qtbot):
    text = window.content_label.text()
    assert text.startswith("Content version 1, installed, issued 26 Nov 2026")
    qtbot.waitUntil(lambda: window.online_label.text() != "Checking network…")


def test_damaged_user_database_is_set_aside_and_the_app_starts(qtbot, baseline, isolated_home):
    from aspire_desktop.core import paths

    db = paths.resolve().userdata_db
    db.parent.mkdir(parents=True)
    db.write_bytes(b"not a database at all" * 100)
    with main_window(qtbot) as w:
        bars = w.findChildren(QWidget, "noticeBar")
        assert len(bars) == 1
        assert "set aside" in bars[0].label.text()
    kept = list(db.parent.glob("userdata.damaged-*.sqlite"))
    assert len(kept) == 1 and kept[0].read_bytes() == b"not a database at all" * 100


def test_damaged_current_catalogue_falls_back_to_the_baseline(qtbot, baseline):
    import json
    import shutil

    from aspire_desktop.core import paths

    content_dir = paths.resolve().content_dir
    version = content_dir / "versions" / "v2"
    shutil.copytree(baseline, version)
    (version / "catalogue.sqlite").write_bytes(b"garbage" * 1000)
    (content_dir / "current.json").write_text(json.dumps({"version_dir": "v2"}))
    with main_window(qtbot) as w:
        assert w.ctx.content.is_baseline
        bars = w.findChildren(QWidget, "noticeBar")
        assert any("damaged" in b.label.text() for b in bars)
        assert w.resources.rowCount() == 9


def test_unexpected_errors_show_the_crash_dialog_and_are_logged(qtbot, tmp_path: Path):
    from aspire_desktop.ui.crash import CrashHandler

    log_file = tmp_path / "app.log"
    handler = CrashHandler(log_file)
    try:
        raise RuntimeError("boom for the test")
    except RuntimeError as exc:
        handler(type(exc), exc, exc.__traceback__)
    box = handler.last_dialog
    assert box is not None and box.isVisible()
    assert str(log_file) in box.informativeText()
    assert "boom for the test" in box.detailedText()
    box.close()


def test_about_dialog_names_versions_and_licences(window, qtbot):
    window.show_about()
    dialog = window.findChild(QWidget, "aboutDialog")
    assert dialog is not None
    text = dialog.findChild(QWidget, "aboutText").toPlainText()
    assert "Affero" in text and "PySide6" in text and "Content: version 1" in text
    dialog.close()


def test_open_command_targets(window, qtbot, tmp_path):
    from pdfs import make_pdf

    pdf = make_pdf(tmp_path / "three.pdf", pages=3)
    view = window.open_target(str(pdf), 2)
    assert view is not None
    qtbot.waitUntil(lambda: view.canvas is not None and view.page == 2)
    guide = window.open_target(GUIDE)
    assert guide is not None and guide.document_key == GUIDE
    assert window.open_target("no-such-thing") is None
    boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]
    assert any("no file or resource" in b.text() for b in boxes)
    for b in boxes:
        b.close()


def test_open_command_rejects_a_bad_page(tmp_path):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "aspire_desktop", "open", "x.pdf", "--page", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--page must be 1 or more" in done.stderr
