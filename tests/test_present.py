"""Presenting: the projector window, the presenter console, keys, screens, notes,
playlists; timers with a fake clock."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

from aspire_desktop.core.errors import UserError
from aspire_desktop.core.userdata.playlists import (
    PlaylistData,
    PlaylistFileError,
    PlaylistItem,
    parse_ranges,
    read_playlist,
)
from aspire_desktop.ui.present.clock import PresenterClock, format_span
from aspire_desktop.ui.present.window import BLACK, PAGE, WHITE
from gui_helpers import main_window
from pdfs import make_pdf

GUIDE = "aspire-desktop-user-guide"


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 26, 9, 0, 0)

    def __call__(self) -> datetime:
        return self.now


def test_clock_elapsed_countdown_and_over_time():
    fake = FakeClock()
    clock = PresenterClock(fake)
    fake.now += timedelta(minutes=12, seconds=5)
    assert clock.lines() == ("12:05", "No end time set", "09:12")
    clock.end_at = time(10, 0)
    assert clock.lines()[1] == "47:55 left"
    fake.now = datetime(2026, 11, 26, 10, 3, 30)
    assert clock.lines()[1] == "03:30 over time"
    assert format_span(timedelta(hours=1, minutes=2, seconds=3)) == "1:02:03"


def test_page_ranges_as_people_type_them():
    assert parse_ranges("1-3, 5;7", 10) == [(0, 2), (4, 4), (6, 6)]
    assert parse_ranges("8-", 10) == [(7, 9)]
    for bad in ("", "0", "3-1", "11", "a-b", "1--2"):
        with pytest.raises(UserError):
            parse_ranges(bad, 10)


def test_playlist_files_are_checked():
    good = PlaylistData("Induction", (PlaylistItem("guide", "Guide", 0, 2),))
    assert read_playlist(json.loads(json.dumps(good.to_document()))) == good
    for bad in (
        [],
        {"format": "x"},
        {"format": "aspire-desktop-playlist", "version": 9, "name": "n", "items": []},
        {"format": "aspire-desktop-playlist", "version": 1, "name": "n", "items": [{"x": 1}]},
        {"format": "aspire-desktop-playlist", "version": 1, "name": " ", "items": []},
    ):
        with pytest.raises(PlaylistFileError):
            read_playlist(bad)


@pytest.fixture
def window(qtbot, baseline):
    with main_window(qtbot) as w:
        yield w


def _present_guide(qtbot, window, page: int = 0):
    view = window.open_resource(GUIDE)
    with qtbot.waitSignal(view.ready, timeout=20_000):
        pass
    view.go_to(page)
    window.present_current()
    qtbot.waitUntil(lambda: getattr(window, "presentation", None) is not None, timeout=10_000)
    session = window.presentation
    qtbot.waitUntil(lambda: session.window.image is not None, timeout=20_000)
    return view, session


def _key(qtbot, session, key, text: str = "") -> None:
    qtbot.keyClick(session.window, key) if not text else qtbot.keyClicks(session.window, text)


def test_presents_on_the_projector_with_the_console_on_the_laptop(window, qtbot):
    _view, session = _present_guide(qtbot, window, page=1)
    assert session.index == 1
    assert session.window.screen().name() == "Projector"
    assert session.window.isFullScreen()
    assert session.console.screen().name() == "Laptop"
    image = session.window.image
    # Rendered for the projector exactly: fits 1920x1080 in device pixels.
    assert image.height() == 1080 or image.width() == 1920
    assert "Page 2 of" in session.console.position.text()
    assert session.window.cursor().shape() == Qt.CursorShape.BlankCursor
    session.end()


def test_clicker_keys_black_white_and_jump(window, qtbot):
    _view, session = _present_guide(qtbot, window)
    last = len(session.slides) - 1
    for key, expected in (
        (Qt.Key.Key_PageDown, 1),
        (Qt.Key.Key_Right, 2),
        (Qt.Key.Key_Backspace, 1),
        (Qt.Key.Key_PageUp, 0),
        (Qt.Key.Key_Space, 1),
        (Qt.Key.Key_End, last),
        (Qt.Key.Key_Home, 0),
    ):
        qtbot.keyClick(session.window, key)
        assert session.index == expected, key
    qtbot.keyClick(session.window, Qt.Key.Key_B)
    assert session.window.mode == BLACK
    qtbot.keyClick(session.window, Qt.Key.Key_PageDown)  # brings the page back, stays
    assert session.window.mode == PAGE and session.index == 0
    qtbot.keyClick(session.window, Qt.Key.Key_Comma)
    assert session.window.mode == WHITE
    qtbot.keyClick(session.window, Qt.Key.Key_W)
    assert session.window.mode == PAGE
    qtbot.keyClicks(session.window, "3")
    qtbot.keyClick(session.window, Qt.Key.Key_Return)
    assert session.index == 2
    with qtbot.waitSignal(session.ended):
        qtbot.keyClick(session.window, Qt.Key.Key_Escape)


def test_next_page_is_prerendered_so_advancing_is_instant(window, qtbot):
    _view, session = _present_guide(qtbot, window)
    qtbot.waitUntil(lambda: session._image(1) is not None, timeout=20_000)
    with qtbot.waitSignal(session.slide_shown, check_params_cb=lambda i: i == 1, timeout=1000):
        qtbot.keyClick(session.window, Qt.Key.Key_PageDown)
    session.end()


def test_notes_are_kept_per_page(window, qtbot):
    _view, session = _present_guide(qtbot, window)
    session.console.notes.setPlainText("Ask who has used the ASP Act this month")
    qtbot.keyClick(session.window, Qt.Key.Key_PageDown)
    saved = window.ctx.userdata(lambda u: u.page_note(GUIDE, 0))
    qtbot.waitUntil(saved.done)
    assert saved.result() == "Ask who has used the ASP Act this month"
    qtbot.keyClick(session.window, Qt.Key.Key_PageUp)
    qtbot.waitUntil(lambda: "ASP Act" in session.console.notes.toPlainText())
    session.end()


def test_nothing_private_reaches_the_projector(window, qtbot):
    _view, session = _present_guide(qtbot, window)
    session.console.notes.setPlainText("private note")
    assert session.window.findChildren(QWidget) == []
    assert session.window.windowTitle() == "ASPire Desktop presentation"
    session.end()


def test_one_screen_rehearses_and_a_projector_plugged_in_is_used(window, qtbot, monkeypatch):
    _view, session = _present_guide(qtbot, window)
    laptop = next(s for s in QGuiApplication.screens() if s.name() == "Laptop")
    every = QGuiApplication.screens()
    monkeypatch.setattr(QGuiApplication, "screens", staticmethod(lambda: [laptop]))
    session._screens_changed(laptop)  # the projector was unplugged
    assert session.rehearsal and not session.window.isFullScreen()
    assert session.console.isVisible()
    monkeypatch.setattr(QGuiApplication, "screens", staticmethod(lambda: every))
    session._screens_changed(every[1])  # and plugged in again
    assert not session.rehearsal and session.window.screen().name() == "Projector"
    qtbot.waitUntil(lambda: session.window.image is not None, timeout=20_000)
    session.end()


def test_playlist_across_two_documents(window, qtbot, tmp_path):
    other = make_pdf(tmp_path / "handout.pdf", pages=5, text="Handout")
    a = window.open_resource(GUIDE)
    b = window.open_path(other, "Handout", f"file:{other}")
    for view in (a, b):  # either may be ready first
        qtbot.waitUntil(lambda v=view: v.is_ready, timeout=20_000)
    dialog = window.show_playlists()
    dialog.name_edit.setText("Induction")
    dialog.document_box.setCurrentIndex(0)
    dialog.pages_edit.setText("1-2")
    dialog.add_pages()
    dialog.document_box.setCurrentIndex(1)
    dialog.pages_edit.setText("4")
    dialog.add_pages()
    assert [dialog.item_list.item(i).text() for i in range(2)] == [
        "ASPire Desktop user guide: pages 1–2",
        "Handout: page 4",
    ]
    assert dialog.save()
    out = tmp_path / "induction.json"
    dialog.export_to(out)
    saved = window.ctx.userdata(lambda u: u.playlists())
    qtbot.waitUntil(saved.done)
    assert [p.name for p in saved.result()] == ["Induction"]
    dialog.present()
    qtbot.waitUntil(lambda: getattr(window, "presentation", None) is not None, timeout=10_000)
    session = window.presentation
    assert [(s.title, s.page) for s in session.slides] == [
        ("ASPire Desktop user guide", 0),
        ("ASPire Desktop user guide", 1),
        ("Handout", 3),
    ]
    qtbot.keyClick(session.window, Qt.Key.Key_End)
    qtbot.waitUntil(lambda: session.window.image is not None and session.index == 2, timeout=20_000)
    assert "Handout, p. 4" in session.console.position.text()
    session.end()
    assert json.loads(out.read_text(encoding="utf-8"))["name"] == "Induction"


def test_open_command_can_present(window, qtbot):
    window.open_target(GUIDE, 2, present=True)
    qtbot.waitUntil(lambda: getattr(window, "presentation", None) is not None, timeout=20_000)
    assert window.presentation.index == 2
    window.presentation.end()
