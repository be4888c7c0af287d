"""Zoom arithmetic shared by the viewer and the document host (no Qt).

The host renders a new tab's first page with the open, so it must reach the very zoom
the tab's canvas will ask for: both use these functions.
"""

from __future__ import annotations

from dataclasses import dataclass

GAP = 12  # logical pixels between pages and around them
FIT_WIDTH = "fit-width"
FIT_PAGE = "fit-page"
MIN_SCALE, MAX_SCALE = 0.1, 8.0


def page_scale(
    mode: str | float, size: tuple[float, float], rotation: int, viewport: tuple[int, int]
) -> float:
    """Logical pixels per point for a zoom mode (or a fixed scale) in a viewport."""
    if isinstance(mode, str):
        w, h = size
        if rotation % 180:
            w, h = h, w
        vw = max(100, viewport[0] - 2 * GAP)
        vh = max(100, viewport[1] - 2 * GAP)
        mode = vw / w if mode == FIT_WIDTH else min(vw / w, vh / h)
    return max(MIN_SCALE, min(mode, MAX_SCALE))


def device_zoom(scale: float, ratio: float) -> float:
    """Device pixels per point, as renders are asked for and cached."""
    return round(scale * ratio, 3)


@dataclass(frozen=True)
class PageView:
    """How a new tab will show its document: enough to render that page with the open."""

    page: int  # may be past the end: see page_of
    mode: str | float  # FIT_WIDTH, FIT_PAGE or logical pixels per point
    viewport: tuple[int, int]  # the canvas's viewport, logical pixels
    ratio: float  # the screen's device pixel ratio

    def page_of(self, page_count: int) -> int:
        """The page to show in a document of ``page_count`` pages (a saved one may be
        past the end of a document that got shorter)."""
        return max(0, min(self.page, page_count - 1))

    def on_screen(self, zoom: float) -> float:
        """Points from the top of the page shown (at ``zoom``, device pixels per point)
        that are on screen when it is shown from its top, a gap below the view's top."""
        return (self.viewport[1] - GAP) * self.ratio / zoom + 1.0

    def zoom(self, first_page_size: tuple[float, float]) -> float:
        """The canvas fits its scale to the first page's size (see ``PageCanvas``)."""
        return device_zoom(page_scale(self.mode, first_page_size, 0, self.viewport), self.ratio)
