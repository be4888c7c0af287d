"""Searching from the window: as you type, grouped results, opening at the page."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from aspire_desktop.ui.search import HIT_ROLE
from gui_helpers import main_window

GUIDE = "aspire-desktop-user-guide"


@pytest.fixture
def window(qtbot, baseline):
    with main_window(qtbot) as w:
        yield w


def _results(window) -> list[tuple[str, int]]:
    model = window.search_panel.model
    return [
        (model.index(r, 0).data(HIT_ROLE)[0], model.item(r).rowCount())
        for r in range(model.rowCount())
    ]


def test_ctrl_k_searches_as_you_type(window, qtbot):
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert window.search_edit.hasFocus()
    qtbot.keyClicks(window.search_edit, "companion")
    panel = window.search_panel
    assert window.tabs.currentWidget() is panel
    qtbot.waitUntil(lambda: panel.model.rowCount() >= 3, timeout=20_000)
    # Title matches first: the three companion documents, then passing mentions.
    assert all("companion" in r for r, _ in _results(window)[:3])
    assert "resources for “companion”" in panel.summary.text()


def test_a_page_hit_opens_the_document_at_its_page(window, qtbot):
    window.search_edit.setText("presenter console")
    panel = window.search_panel
    qtbot.waitUntil(lambda: any(r == GUIDE for r, _ in _results(window)), timeout=20_000)
    row = next(i for i, (r, _) in enumerate(_results(window)) if r == GUIDE)
    child = panel.model.item(row).child(0)
    resource, page, words = child.data(HIT_ROLE)
    assert resource == GUIDE and page is not None and words
    panel.tree.setCurrentIndex(child.index())
    qtbot.keyClick(panel.tree, Qt.Key.Key_Return)
    view = window.tabs.currentWidget()
    qtbot.waitUntil(
        lambda: getattr(view, "info", None) is not None and view.page == page, timeout=20_000
    )
    qtbot.waitUntil(lambda: view.find_edit.text() != "", timeout=10_000)


def test_filters_and_odd_input(window, qtbot):
    panel = window._ensure_search_panel()
    for text in ['"unclosed', "AND OR NOT", "(((", "😀 trauma", "x" * 5000, "-", "*"]:
        window.search_edit.setText(text)
        panel.run()
    window.search_edit.setText("trauma")
    qtbot.waitUntil(lambda: panel.model.rowCount() > 0, timeout=20_000)
    panel.kind_box.setCurrentIndex(panel.kind_box.findData("toolkit"))
    qtbot.waitUntil(
        lambda: _results(window) == [("trauma-informed-practice-toolkit", 0)], timeout=20_000
    )
