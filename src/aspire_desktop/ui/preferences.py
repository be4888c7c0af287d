"""Preferences: where updates come from and how the app behaves. Settings set by the
organisation (central policy) are shown locked, with "managed by your organisation"."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from aspire_desktop.core import settings as keys
from aspire_desktop.ui.background import when_done
from aspire_desktop.ui.context import AppContext

MANAGED = "Managed by your organisation"


class PreferencesDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("preferences")
        self.setWindowTitle("Preferences")
        current = ctx.settings()
        form = QFormLayout(self)
        intro = QLabel(
            "Updates come from a content feed: a web address or a folder (for example a "
            "shared drive or a USB stick) that your organisation gives you."
        )
        intro.setWordWrap(True)
        form.addRow(intro)
        self.feed = QLineEdit(current.feed_url or "")
        self.feed.setAccessibleName("Content feed address")
        self.feed.setPlaceholderText("https://… or a folder")
        self.automatic = QCheckBox("Sync by itself when the computer is online")
        self.automatic.setAccessibleName("Sync automatically")
        self.automatic.setChecked(current.automatic)
        self.stale = QSpinBox()
        self.stale.setAccessibleName("Warn when content is older than, in days")
        self.stale.setRange(1, 3650)
        self.stale.setSuffix(" days")
        self.stale.setValue(current.stale_after_days)
        self.key = QLineEdit(current.extra_public_key or "")
        self.key.setAccessibleName("Extra trusted publisher key")
        self.key.setPlaceholderText("Only if your IT team gives you one")
        self.fields: dict[str, tuple[QWidget, Any]] = {
            keys.FEED_URL: (self.feed, lambda: self.feed.text().strip() or None),
            keys.AUTO_SYNC: (self.automatic, self.automatic.isChecked),
            keys.STALE_AFTER_DAYS: (self.stale, self.stale.value),
            keys.EXTRA_KEY: (self.key, lambda: self.key.text().strip() or None),
        }
        form.addRow("Content &feed:", self.feed)
        form.addRow("", self.automatic)
        form.addRow("&Warn when content is older than:", self.stale)
        form.addRow("Extra trusted &key:", self.key)
        for key, (widget, _value) in self.fields.items():
            source = ctx.locked(key)
            if source:
                widget.setEnabled(False)
                widget.setToolTip(f"{MANAGED} ({source}).")
                note = QLabel(MANAGED)
                note.setObjectName("managedNote")
                form.addRow("", note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.resize(560, 260)

    def save(self) -> None:
        values = {
            key: value()
            for key, (widget, value) in self.fields.items()
            if widget.isEnabled()  # locked settings are not the user's to change
        }

        def write(u: Any) -> None:
            for key, value in values.items():
                u.set_setting(key, value)

        when_done(self.ctx.userdata(write), self, lambda _r: self._saved())

    def _saved(self) -> None:
        window = self.parent()
        if hasattr(window, "sync"):
            window.sync.refresh_status()
        self.accept()
