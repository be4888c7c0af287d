"""Building a main window for GUI tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aspire_desktop.core import paths
from aspire_desktop.core.store.content import ContentStore
from aspire_desktop.ui.context import AppContext
from aspire_desktop.ui.mainwindow import MainWindow


@contextmanager
def main_window(qtbot: Any, *, background: bool = True) -> Iterator[MainWindow]:
    resolved = paths.resolve()
    store = ContentStore(resolved.content_dir, paths.baseline_dir())
    ctx = AppContext(resolved, store, store.open_current())
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    if background:
        window.start_background()
        qtbot.waitUntil(lambda: window._userdata_ready, timeout=10_000)
    try:
        yield window
    finally:
        window.close()
        ctx.shutdown()
