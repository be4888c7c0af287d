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
