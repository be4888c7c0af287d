"""The app's own icons: a neutral picture per kind of resource, and the app icon."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon, QPixmap

ICONS = Path(__file__).resolve().parent / "icons"


def icon_path(name: str) -> Path:
    path = ICONS / f"{name}.svg"
    return path if path.is_file() else ICONS / "document.svg"


@cache
def app_icon() -> QIcon:
    return QIcon(str(icon_path("app")))


def kind_pixmap(kind: str, size: int, ratio: float = 1.0) -> QPixmap:
    """The neutral picture for a kind, drawn crisp at the screen's pixel ratio."""
    from PySide6.QtCore import QSize, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer  # only when a picture is shown

    px = round(size * ratio)
    image = QImage(QSize(px, px), QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    QSvgRenderer(str(icon_path(kind))).render(painter)
    painter.end()
    pixmap = QPixmap.fromImage(image)
    pixmap.setDevicePixelRatio(ratio)
    return pixmap
