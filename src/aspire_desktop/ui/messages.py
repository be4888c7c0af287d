"""One way to tell the user something: logged, and shown in plain words."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtWidgets import QMessageBox, QWidget

from aspire_desktop import APP_NAME
from aspire_desktop.core.errors import UserError

log = logging.getLogger(__name__)


def text_of(error: UserError) -> str:
    return f"{error.message}\n\n{error.what_to_do}".strip()


def show_error(parent: Any, error: UserError) -> QMessageBox:
    """Log and show a problem the user can act on, without blocking the event loop."""
    log.warning("%s: %s", type(error).__name__, error)
    widget = parent if isinstance(parent, QWidget) else None
    box = QMessageBox(QMessageBox.Icon.Warning, APP_NAME, error.message, parent=widget)
    box.setInformativeText(error.what_to_do)
    box.setObjectName("userErrorBox")
    box.open()
    return box
