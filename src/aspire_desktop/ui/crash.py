"""Unexpected exceptions: logged in full, then a dialog naming the log's location."""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtWidgets import QApplication, QMessageBox

from aspire_desktop import APP_NAME

log = logging.getLogger("aspire_desktop.crash")


class CrashHandler:
    def __init__(self, log_file: Path) -> None:
        self.log_file = log_file
        self._showing = False
        self.last_dialog: QMessageBox | None = None

    def install(self) -> None:
        sys.excepthook = self

    def __call__(
        self,
        exc_type: type[BaseException],
        exc: BaseException,
        tb: TracebackType | None,
    ) -> None:
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        log.critical("unexpected error\n%s", details)
        if self._showing or QApplication.instance() is None:
            sys.stderr.write(details)
            return
        self._showing = True
        box = QMessageBox(
            QMessageBox.Icon.Critical,
            f"{APP_NAME}: unexpected problem",
            f"{APP_NAME} ran into a problem it did not expect. You can carry on working; "
            "if it happens again, please send the log file to your IT team.",
        )
        box.setObjectName("crashDialog")
        box.setInformativeText(f"The log file is:\n{self.log_file}")
        box.setDetailedText(details)
        box.finished.connect(self._closed)
        self.last_dialog = box
        box.open()

    def _closed(self, _result: int) -> None:
        self._showing = False
