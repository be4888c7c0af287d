"""Rendered pages as Qt images, made on the document worker's thread (QImage is safe
to build off the UI thread) straight from the shared buffer: one copy, already in the
format painting uses."""

from __future__ import annotations

from PySide6.QtGui import QImage

from aspire_desktop.core.documents.pdf import RenderResult


def to_image(result: RenderResult, pixels: memoryview) -> tuple[RenderResult, QImage]:
    view = QImage(pixels, result.width, result.height, result.stride, QImage.Format.Format_RGB888)
    image = view.convertToFormat(QImage.Format.Format_RGB32)
    del view  # it points into the shared buffer
    return result, image
