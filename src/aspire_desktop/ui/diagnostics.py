"""Help ▸ Diagnostics: what ``aspire-desktop doctor`` reports, for a support ticket.

The settings in force and where each came from, central policy and its problems, the
content version, the last sync and the integrity checks. The report is made on the
background thread (it checks every cached file) and shown as the same plain text the
command prints, which "Copy to clipboard" copies.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from aspire_desktop import APP_NAME
from aspire_desktop.ui.background import when_done
from aspire_desktop.ui.context import AppContext


class DiagnosticsDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{APP_NAME} diagnostics")
        self.setObjectName("diagnosticsDialog")
        self.report: dict[str, Any] | None = None
        lay = QVBoxLayout(self)
        self.summary = QLabel("Checking the content, the settings and the policy…")
        self.summary.setObjectName("diagnosticsSummary")
        self.summary.setWordWrap(True)
        lay.addWidget(self.summary)
        self.text = QPlainTextEdit()
        self.text.setObjectName("diagnosticsText")
        self.text.setAccessibleName("Diagnostics report")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        lay.addWidget(self.text, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("&Copy to clipboard")
        self.copy_button.setObjectName("copyDiagnostics")
        self.copy_button.setAccessibleName("Copy the report to the clipboard")
        self.copy_button.setEnabled(False)
        self.copy_button.clicked.connect(self.copy)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Close).setAccessibleName("Close")
        lay.addWidget(buttons)
        self.resize(760, 560)
        paths = ctx.paths
        when_done(ctx.background(lambda: _run(paths)), self, self.show_report)

    def show_report(self, report: dict[str, Any]) -> None:
        from aspire_desktop.core.doctor import format_text

        self.report = report
        problems = [c["name"] for c in report["checks"] if not c["ok"]]
        self._summary = (
            "All checks passed."
            if not problems
            else "Some checks found problems: " + ", ".join(problems) + ". Details below."
        )
        self.summary.setText(self._summary)
        self.text.setPlainText(format_text(report))
        self.copy_button.setEnabled(True)
        self.copy_button.setFocus()

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text.toPlainText())
        self.summary.setText(self._summary + " The report is on the clipboard.")


def _run(paths: Any) -> dict[str, Any]:
    from aspire_desktop.core import doctor

    return doctor.run(paths)
