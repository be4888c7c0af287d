"""The Qt binding itself must not corrupt the interpreter (PySide6 6.12.0 on Python 3.11
dropped a reference to None on every call returning nothing, and the app aborted after a
few minutes of browsing)."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel


def test_calls_returning_nothing_keep_none_alive(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(2000):
        label.setText("x")
    # Other code may take or drop a few references meanwhile, never thousands.
    assert abs(sys.getrefcount(None) - before) < 100


def test_garbage_is_collected_on_the_ui_thread_only(qtbot):
    import gc

    from aspire_desktop.ui.collector import MainThreadCollector

    collector = MainThreadCollector(interval_ms=10)
    try:
        assert not gc.isenabled()  # no collection on whatever thread allocates

        class Cycle:
            pass

        for _ in range(gc.get_threshold()[0] + 10):
            a = Cycle()
            a.me = a  # type: ignore[attr-defined]
        qtbot.waitUntil(lambda: gc.get_count()[0] < gc.get_threshold()[0], timeout=5000)
    finally:
        collector.stop()
        gc.disable()  # as the test session keeps it (see conftest)
