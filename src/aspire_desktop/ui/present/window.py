"""The projector's window: only ever a page (or black, or white). Nothing private."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QKeyEvent, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

BLACK, WHITE, PAGE = "black", "white", "page"


class PresentationWindow(QWidget):
    key_pressed = Signal(QKeyEvent)
    clicked = Signal()
    #: The slide index whose exact image was just painted (tests, benchmarks).
    painted = Signal(int)

    def __init__(self) -> None:
        super().__init__(None, Qt.WindowType.Window | Qt.WindowType.FramelessWindowHint)
        self.setObjectName("presentationWindow")
        self.setWindowTitle("ASPire Desktop presentation")
        self.setAccessibleName("Presentation")
        self.setCursor(Qt.CursorShape.BlankCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.image: QImage | None = None
        self.index = -1
        self.mode = PAGE
        self.click_advances = True
        self._painted_index = -2

    def show_slide(self, index: int, image: QImage | None) -> None:
        self.index, self.image = index, image
        self.update()

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        if self.mode == WHITE:
            painter.fillRect(self.rect(), QColor("white"))
        else:
            painter.fillRect(self.rect(), QColor("black"))
        if self.mode == PAGE and self.image is not None:
            ratio = self.image.devicePixelRatio() or 1.0
            w, h = self.image.width() / ratio, self.image.height() / ratio
            painter.drawImage(QPointF((self.width() - w) / 2, (self.height() - h) / 2), self.image)
        painter.end()
        if self.mode == PAGE and self.image is not None and self._painted_index != self.index:
            self._painted_index = self.index
            self.painted.emit(self.index)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        self.key_pressed.emit(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.click_advances:
            self.clicked.emit()
