"""Rendered pages, capped by bytes; least recently used go first."""

from __future__ import annotations

from collections import OrderedDict
from typing import NamedTuple

from PySide6.QtGui import QImage

DEFAULT_CAP = 160 * 1024 * 1024


class Key(NamedTuple):
    """Everything that changes the pixels."""

    doc_id: int
    page: int
    zoom: float  # device pixels per point, rounded
    rotation: int


class RenderCache:
    def __init__(self, cap_bytes: int = DEFAULT_CAP) -> None:
        self.cap = cap_bytes
        self.bytes = 0
        self._images: OrderedDict[Key, QImage] = OrderedDict()

    def get(self, key: Key) -> QImage | None:
        image = self._images.get(key)
        if image is not None:
            self._images.move_to_end(key)
        return image

    def nearest(self, doc_id: int, page: int, rotation: int, zoom: float) -> QImage | None:
        """Any cached image of the page (closest zoom), to show scaled meanwhile."""
        best: tuple[float, QImage] | None = None
        for key, image in self._images.items():
            if key.doc_id == doc_id and key.page == page and key.rotation == rotation:
                distance = abs(key.zoom - zoom)
                if best is None or distance < best[0]:
                    best = (distance, image)
        return None if best is None else best[1]

    def put(self, key: Key, image: QImage) -> None:
        old = self._images.pop(key, None)
        if old is not None:
            self.bytes -= old.sizeInBytes()
        self._images[key] = image
        self.bytes += image.sizeInBytes()
        while self.bytes > self.cap and len(self._images) > 1:
            _, dropped = self._images.popitem(last=False)
            self.bytes -= dropped.sizeInBytes()

    def drop_document(self, doc_id: int) -> None:
        for key in [k for k in self._images if k.doc_id == doc_id]:
            self.bytes -= self._images.pop(key).sizeInBytes()

    def __len__(self) -> int:
        return len(self._images)
