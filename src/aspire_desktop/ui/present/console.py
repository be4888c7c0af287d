"""The presenter console: this page, the next, notes, clocks and a strip to jump."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTime, Signal
from PySide6.QtGui import QKeyEvent, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from aspire_desktop.core.userdata.playlists import Slide


class PresenterConsole(QWidget):
    key_pressed = Signal(QKeyEvent)
    jump_requested = Signal(int)
    note_edited = Signal(str)
    end_time_changed = Signal(object)
    end_requested = Signal()
    click_advance_changed = Signal(bool)

    def __init__(self, slides: list[Slide]) -> None:
        super().__init__(None, Qt.WindowType.Window)
        self.setObjectName("presenterConsole")
        self.setWindowTitle("ASPire Desktop: presenter console")
        self._loading_note = False

        self.current = QLabel()
        self.current.setObjectName("currentSlide")
        self.current.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.current.setMinimumSize(320, 200)
        self.current.setStyleSheet("background: #222;")
        self.next = QLabel()
        self.next.setObjectName("nextSlide")
        self.next.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.next.setMinimumSize(200, 130)
        self.next.setStyleSheet("background: #222; color: #ccc;")
        self.position = QLabel()
        self.position.setObjectName("slidePosition")
        self.state = QLabel("")
        self.state.setObjectName("projectorState")

        self.notes = QPlainTextEdit()
        self.notes.setObjectName("presenterNotes")
        self.notes.setAccessibleName("Notes for this page")
        self.notes.setPlaceholderText("Notes for this page (only you see them)")
        self.notes.textChanged.connect(self._notes_changed)

        self.elapsed = QLabel("00:00")
        self.elapsed.setObjectName("elapsed")
        self.remaining = QLabel("No end time set")
        self.remaining.setObjectName("remaining")
        self.clock = QLabel("")
        self.clock.setObjectName("clock")
        for label in (self.elapsed, self.remaining, self.clock):
            label.setStyleSheet("font-size: 20px; font-weight: 600;")
        self.end_edit = QTimeEdit()
        self.end_edit.setAccessibleName("End the session at")
        self.end_edit.setDisplayFormat("HH:mm")
        self.end_edit.setTime(QTime.currentTime().addSecs(3600))
        self.end_check = QCheckBox("Count down to")
        self.end_check.setAccessibleName("Count down to an end time")
        self.end_check.toggled.connect(self._end_changed)
        self.end_edit.timeChanged.connect(self._end_changed)
        self.click_check = QCheckBox("Click to advance")
        self.click_check.setAccessibleName("Click on the projector to advance")
        self.click_check.setChecked(True)
        self.click_check.toggled.connect(self.click_advance_changed)
        self.end_button = QPushButton("End presentation (Esc)")
        self.end_button.setAccessibleName("End presentation")
        self.end_button.clicked.connect(self.end_requested)

        self.strip = QListWidget()
        self.strip.setObjectName("slideStrip")
        self.strip.setAccessibleName("All pages in this presentation")
        self.strip.setFlow(QListWidget.Flow.LeftToRight)
        self.strip.setFixedHeight(70)
        for n, slide in enumerate(slides):
            item = QListWidgetItem(f"{n + 1}\n{slide.title[:24]} p.{slide.page + 1}")
            item.setSizeHint(QSize(150, 50))
            item.setToolTip(f"{slide.title}, page {slide.page + 1}")
            self.strip.addItem(item)
        self.strip.itemActivated.connect(
            lambda item: self.jump_requested.emit(self.strip.row(item))
        )
        self.strip.itemClicked.connect(lambda item: self.jump_requested.emit(self.strip.row(item)))

        grid = QGridLayout()
        grid.addWidget(QLabel("Now showing"), 0, 0)
        grid.addWidget(QLabel("Next"), 0, 1)
        grid.addWidget(self.current, 1, 0, 2, 1)
        grid.addWidget(self.next, 1, 1)
        side = QVBoxLayout()
        side.addWidget(self.position)
        side.addWidget(self.state)
        side.addWidget(QLabel("Elapsed"))
        side.addWidget(self.elapsed)
        side.addWidget(self.remaining)
        end = QHBoxLayout()
        end.addWidget(self.end_check)
        end.addWidget(self.end_edit)
        side.addLayout(end)
        side.addWidget(QLabel("Time now"))
        side.addWidget(self.clock)
        side.addWidget(self.click_check)
        side.addStretch(1)
        side.addWidget(self.end_button)
        grid.addLayout(side, 2, 1)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        lay = QVBoxLayout(self)
        lay.addLayout(grid, 3)
        lay.addWidget(QLabel("Notes"))
        lay.addWidget(self.notes, 1)
        lay.addWidget(self.strip)

    def _strip_chosen(self, item: QListWidgetItem) -> None:
        self.jump_requested.emit(self.strip.row(item))

    def show_slide(self, index: int, total: int, slide: Slide) -> None:
        self.position.setText(f"Page {index + 1} of {total}: {slide.title}, p. {slide.page + 1}")
        self.strip.setCurrentRow(index)

    def set_images(self, current: QPixmap | None, upcoming: QPixmap | None, last: bool) -> None:
        """Show the previews (pixmaps already scaled to the labels)."""
        for label, pixmap in ((self.current, current), (self.next, upcoming)):
            if pixmap is None:
                label.clear()
            else:
                label.setPixmap(pixmap)
        if last and upcoming is None:
            self.next.setText("End of the presentation")

    def set_note(self, text: str) -> None:
        self._loading_note = True
        self.notes.setPlainText(text)
        self._loading_note = False

    def _notes_changed(self) -> None:
        if not self._loading_note:
            self.note_edited.emit(self.notes.toPlainText())

    def _end_changed(self) -> None:
        self.end_time_changed.emit(
            self.end_edit.time().toPython() if self.end_check.isChecked() else None
        )

    def set_clock(self, elapsed: str, remaining: str, clock: str) -> None:
        self.elapsed.setText(elapsed)
        self.remaining.setText(remaining)
        self.clock.setText(clock)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.notes.hasFocus() or self.end_edit.hasFocus():
            if event.key() == Qt.Key.Key_Escape:
                self.strip.setFocus()
                return
            super().keyPressEvent(event)
            return
        self.key_pressed.emit(event)
