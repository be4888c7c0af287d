"""Sync in the window: in the background, with progress and Cancel; a quiet status
when offline; "What's new" after a sync that changed something."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from aspire_desktop.core.errors import UserError
from aspire_desktop.ui.background import when_done

log = logging.getLogger(__name__)


def ago(when: datetime | None, now: datetime | None = None) -> str:
    if when is None:
        return "never"
    seconds = ((now or datetime.now(UTC)) - when).total_seconds()
    if seconds < 90:
        return "just now"
    if seconds < 3600:
        return f"{round(seconds / 60)} minutes ago"
    if seconds < 2 * 86400:
        hours = round(seconds / 3600)
        return "1 hour ago" if hours == 1 else f"{hours} hours ago"
    return f"{round(seconds / 86400)} days ago"


class SyncProgressWidget(QWidget):
    """Status-bar progress: files and bytes, and Cancel."""

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("syncProgress")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel("Syncing…")
        self.bar = QProgressBar()
        self.bar.setAccessibleName("Sync progress")
        self.bar.setFixedWidth(160)
        self.bar.setTextVisible(False)
        self.cancel = QPushButton("Cancel")
        self.cancel.setAccessibleName("Cancel sync")
        self.cancel.clicked.connect(self.cancel_requested)
        lay.addWidget(self.label)
        lay.addWidget(self.bar)
        lay.addWidget(self.cancel)
        self.hide()

    def show_progress(self, p: Any) -> None:
        if p.phase == "checking":
            self.label.setText("Checking for updates…")
            self.bar.setRange(0, 0)
        elif p.phase == "applying":
            self.label.setText("Putting the new content in place…")
            self.bar.setRange(0, 0)
        else:
            mb_done, mb_total = p.bytes_done / 1e6, p.bytes_total / 1e6
            self.label.setText(
                f"Downloading {p.files_done} of {p.files_total} files "
                f"({mb_done:.1f} of {mb_total:.1f} MB)"
            )
            self.bar.setRange(0, max(1, p.bytes_total))
            self.bar.setValue(min(p.bytes_done, p.bytes_total))
        self.show()


class WhatsNewDialog(QDialog):
    def __init__(self, result: Any, title_of: Any, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("whatsNew")
        self.setWindowTitle("What's new")
        lay = QVBoxLayout(self)
        heading = QLabel(f"<b>{result.summary()}</b>")
        heading.setWordWrap(True)
        lay.addWidget(heading)
        self.text = QTextBrowser()
        self.text.setAccessibleName("What changed")
        sections = []
        for items, name in (
            (result.added, "Added"),
            (result.updated, "Updated"),
            (result.superseded, "Superseded by newer resources"),
            (result.removed, "Removed"),
        ):
            if items:
                rows = "".join(f"<li>{_escape(title_of(i) or i)}</li>" for i in items)
                sections.append(f"<h3>{name} ({len(items)})</h3><ul>{rows}</ul>")
        self.text.setHtml("".join(sections) or "<p>No resources changed.</p>")
        lay.addWidget(self.text, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.resize(520, 420)


def _escape(text: str) -> str:
    import html

    return html.escape(text)


class SyncController(QObject):
    """Runs syncs on the network thread; the window shows what happens."""

    progress = Signal(object)
    finished = Signal(object)  # SyncResult
    failed = Signal(object)  # UserError

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.ctx = window.ctx
        self._cancel: threading.Event | None = None
        self.widget = SyncProgressWidget()
        self.widget.cancel_requested.connect(self.cancel)
        self.progress.connect(self.widget.show_progress, Qt.ConnectionType.QueuedConnection)
        self.status_label = QLabel("")
        self.status_label.setObjectName("syncStatus")
        self.was_online: bool | None = None

    @property
    def running(self) -> bool:
        return self._cancel is not None

    def start(self, *, quiet: bool = False) -> bool:
        """Sync now (unless one is running). ``quiet``: automatic, no feed is no news."""
        from aspire_desktop.core.sync import sync_now

        if self.running:
            return False
        cancel = threading.Event()
        self._cancel = cancel
        self.widget.label.setText("Checking for updates…")
        self.widget.show()
        paths = self.ctx.paths
        settings = self.ctx.settings()

        def work() -> Any:
            return sync_now(paths, settings=settings, progress=self.progress.emit, cancel=cancel)

        when_done(
            self.ctx.network(work),
            self,
            self._done,
            lambda error: self._failed(error, quiet),
        )
        return True

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            self.widget.label.setText("Cancelling…")

    def _done(self, result: Any) -> None:
        self._cancel = None
        self.widget.hide()
        self.window.statusBar().showMessage(result.summary(), 10_000)
        if result.changed:
            self.window.content_updated(result)
        self.refresh_status()
        self.finished.emit(result)

    def _failed(self, error: UserError, quiet: bool) -> None:
        from aspire_desktop.core.sync.errors import (
            FeedNotSetUpError,
            NetworkError,
            SyncCancelledError,
        )

        self._cancel = None
        self.widget.hide()
        log.info("sync did not finish: %s", error)
        if isinstance(error, FeedNotSetUpError) and quiet:
            pass
        elif isinstance(error, NetworkError | SyncCancelledError | FeedNotSetUpError):
            # A status, not a dialog: offline is normal for this app.
            self.window.statusBar().showMessage(f"{error.message} {error.what_to_do}", 15_000)
        else:
            self.window.add_notice(error)
        self.refresh_status()
        self.failed.emit(error)

    def refresh_status(self) -> None:
        from aspire_desktop.core.sync import sync_status

        paths, settings = self.ctx.paths, self.ctx.settings()
        when_done(
            self.ctx.background(lambda: sync_status(paths, settings)),
            self,
            self._status,
            lambda _e: None,
        )

    def _status(self, status: Any) -> None:
        parts = [f"Last synced {ago(status.last_synced)}"] if status.feed else []
        if status.stale and status.age_days is not None:
            parts.append(f"content is {status.age_days} days old")
        self.status_label.setText(" · ".join(parts))
        self.status_label.setToolTip(
            "Sync when you are online to get the latest content." if status.stale else ""
        )

    def network_changed(self, online: bool | None) -> None:
        """Sync by itself when the computer comes online (if the setting allows)."""
        came_online = online is True and self.was_online is False
        first_look = online is True and self.was_online is None
        self.was_online = online
        if (came_online or first_look) and self.ctx.settings().automatic:
            QTimer.singleShot(2000 if first_look else 0, self, lambda: self.start(quiet=True))
