"""Render the main window offscreen to PNG files for the README and for review.

Usage: python scripts/screenshot.py OUT_DIR [--resource ID] [--open ID]
It uses a temporary data folder and the installed (or built) shipped content.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--resource", default="mental-health-trauma-informed-practice-companion")
    parser.add_argument("--open", default="aspire-desktop-user-guide")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=760)
    args = parser.parse_args()

    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from aspire_desktop.core import paths
    from aspire_desktop.core.store.content import ContentStore
    from aspire_desktop.ui.app import STYLE
    from aspire_desktop.ui.context import AppContext
    from aspire_desktop.ui.mainwindow import MainWindow

    app = QApplication(sys.argv[:1])
    app.setStyleSheet(STYLE)
    with tempfile.TemporaryDirectory() as home:
        resolved = paths.resolve(home)
        store = ContentStore(resolved.content_dir, paths.baseline_dir())
        ctx = AppContext(resolved, store, store.open_current())
        window = MainWindow(ctx)
        window.resize(args.width, args.height)
        window.show()
        window.start_background()

        def settle(ms: int = 400) -> None:
            loop = QEventLoop()
            QTimer.singleShot(ms, loop.quit)
            loop.exec()

        settle()
        window.online_label.setText("Offline: using the copy on this computer")
        row = window.resources.row_of(args.resource)
        if row >= 0:
            window.resource_view.setCurrentIndex(window.resources.index(row, 0))
        settle()
        args.out.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(args.out / "library.png"))
        if args.open:
            window.open_resource(args.open)
            settle(800)
            window.grab().save(str(args.out / "document.png"))
        window.close()
        ctx.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
