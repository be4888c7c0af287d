"""Where pages sit on the canvas, in logical pixels (no Qt, so it is easy to test)."""

from __future__ import annotations

from typing import NamedTuple

from aspire_desktop.core.documents.fit import GAP


class Rect(NamedTuple):
    x: float
    y: float
    w: float
    h: float

    def intersects(self, top: float, bottom: float) -> bool:
        return self.y < bottom and self.y + self.h > top


def to_view(x: float, y: float, size: tuple[float, float], rotation: int) -> tuple[float, float]:
    """A point in displayed page space (points) after the user's extra rotation."""
    w, h = size
    r = rotation % 360
    if r == 90:
        return h - y, x
    if r == 180:
        return w - x, h - y
    if r == 270:
        return y, w - x
    return x, y


def from_view(x: float, y: float, size: tuple[float, float], rotation: int) -> tuple[float, float]:
    """The inverse of :func:`to_view`."""
    w, h = size
    r = rotation % 360
    if r == 90:
        return y, h - x
    if r == 180:
        return w - x, h - y
    if r == 270:
        return w - y, x
    return x, y


class PageLayout:
    """Page rectangles for continuous (all pages stacked) or single-page display."""

    def __init__(
        self,
        sizes: tuple[tuple[float, float], ...],
        scale: float,
        rotation: int,
        viewport_width: float,
        single_page: int | None = None,
    ) -> None:
        self.sizes = sizes
        self.scale = scale
        self.rotation = rotation
        self.single_page = single_page
        shown = [single_page] if single_page is not None else range(len(sizes))
        # (A long document has thousands of pages: this runs on every zoom and resize.)
        turned = bool(rotation % 180)
        scaled = [(h * scale, w * scale) if turned else (w * scale, h * scale) for w, h in sizes]
        self.width = max(max((scaled[n][0] for n in shown), default=0) + 2 * GAP, viewport_width)
        self.rects: dict[int, Rect] = {}
        y, width, rects = float(GAP), self.width, self.rects
        for n in shown:
            w, h = scaled[n]
            rects[n] = Rect((width - w) / 2, y, w, h)
            y += h + GAP
        self.height = y
        self._order = list(rects)

    def visible(self, top: float, bottom: float) -> list[int]:
        """Pages intersecting the vertical band [top, bottom), in order."""
        if self.single_page is not None:
            return [self.single_page]
        # Binary search for the first page whose bottom is below ``top``.
        pages = self._order
        lo, hi = 0, len(pages)
        while lo < hi:
            mid = (lo + hi) // 2
            r = self.rects[pages[mid]]
            if r.y + r.h <= top:  # wholly above the view (its gap may show)
                lo = mid + 1
            else:
                hi = mid
        out = []
        for n in pages[lo:]:
            r = self.rects[n]
            if r.y >= bottom:
                break
            out.append(n)
        return out

    def page_at(self, x: float, y: float) -> int | None:
        for n in self.visible(y, y + 1):
            r = self.rects[n]
            if r.x <= x <= r.x + r.w and r.y <= y <= r.y + r.h:
                return n
        return None

    def current_page(self, top: float, height: float) -> int:
        """The page that holds the most of the viewport (the first on ties)."""
        pages = self.visible(top, top + height)
        if not pages:
            return 0 if self.single_page is None else self.single_page
        best, seen = pages[0], -1.0
        for n in pages:
            r = self.rects[n]
            overlap = min(r.y + r.h, top + height) - max(r.y, top)
            if overlap > seen + 0.5:
                best, seen = n, overlap
        return best

    def to_canvas(self, page: int, x: float, y: float) -> tuple[float, float]:
        """Displayed-page point (points) → canvas point (logical px)."""
        vx, vy = to_view(x, y, self.sizes[page], self.rotation)
        r = self.rects[page]
        return r.x + vx * self.scale, r.y + vy * self.scale

    def from_canvas(self, page: int, x: float, y: float) -> tuple[float, float]:
        r = self.rects[page]
        return from_view(
            (x - r.x) / self.scale, (y - r.y) / self.scale, self.sizes[page], self.rotation
        )
