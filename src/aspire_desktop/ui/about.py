"""The About dialog: versions, content version, licences."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTextBrowser, QVBoxLayout, QWidget

from aspire_desktop import APP_NAME, __version__
from aspire_desktop.core.doctor import versions
from aspire_desktop.ui.context import AppContext

LICENCES = [
    ("ASPire Desktop", "GNU Affero General Public License v3.0 or later"),
    ("Qt 6 / PySide6", "GNU Lesser General Public License v3.0"),
    ("PyMuPDF / MuPDF", "GNU Affero General Public License v3.0"),
    ("SQLAlchemy, alembic", "MIT licence"),
    ("platformdirs, markdown-it-py", "MIT licence"),
    ("Python", "Python Software Foundation License"),
]


class AboutDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"About {APP_NAME}")
        self.setObjectName("aboutDialog")
        lay = QVBoxLayout(self)
        heading = QLabel(f"<h2>{APP_NAME} {html.escape(__version__)}</h2>")
        heading.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(heading)
        info = ctx.content.info
        rows = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
            for k, v in versions().items()
        )
        lic = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in LICENCES
        )
        text = QTextBrowser()
        text.setObjectName("aboutText")
        text.setAccessibleName("About this application")
        text.setOpenExternalLinks(False)
        text.setHtml(
            "<p>An offline reader for the ASPire Hub's resources for everyone working in "
            "Adult Support and Protection in Scotland.</p>"
            f"<p><b>Content:</b> version {info.version}, issued {html.escape(info.issued)} "
            f"({'installed with the app' if ctx.content.is_baseline else 'synced'}).</p>"
            f"<h3>Versions</h3><table cellpadding='3'>{rows}</table>"
            f"<h3>Licences</h3><table cellpadding='3'>{lic}</table>"
            "<p>This program is free software: you can redistribute it and/or modify it under "
            "the terms of the GNU Affero General Public License as published by the Free "
            "Software Foundation, either version 3 of the License, or (at your option) any "
            "later version. It comes with no warranty.</p>"
        )
        lay.addWidget(text, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Close).setAccessibleName("Close")
        lay.addWidget(buttons)
        self.resize(520, 520)
