"""A presentation: slides, rendering sized for the projector, keys, screens, notes."""

from __future__ import annotations

import itertools
import logging
from datetime import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QImage, QKeyEvent, QScreen

from aspire_desktop.core.documents.pdf import RenderResult
from aspire_desktop.core.documents.worker import VISIBLE
from aspire_desktop.core.errors import UserError
from aspire_desktop.core.userdata.playlists import Slide
from aspire_desktop.ui.background import when_done
from aspire_desktop.ui.context import AppContext
from aspire_desktop.ui.images import to_image
from aspire_desktop.ui.present.awake import KeepAwake
from aspire_desktop.ui.present.clock import PresenterClock
from aspire_desktop.ui.present.console import PresenterConsole
from aspire_desktop.ui.present.window import BLACK, PAGE, WHITE, PresentationWindow

log = logging.getLogger(__name__)

SCREEN_SETTING = "present/screen"
_ids = itertools.count(1_000_000)  # document ids of their own, apart from the viewer's

NEXT_KEYS = {
    Qt.Key.Key_PageDown,
    Qt.Key.Key_Right,
    Qt.Key.Key_Down,
    Qt.Key.Key_Space,
    Qt.Key.Key_N,
}
PREVIOUS_KEYS = {
    Qt.Key.Key_PageUp,
    Qt.Key.Key_Left,
    Qt.Key.Key_Up,
    Qt.Key.Key_Backspace,
    Qt.Key.Key_P,
}


class PresentationSession(QObject):
    """Runs one presentation until Esc. ``rehearsal``: windows, not full screen."""

    ended = Signal()
    slide_shown = Signal(int)

    def __init__(
        self,
        ctx: AppContext,
        slides: list[Slide],
        resolve: Any,
        start: int = 0,
        *,
        screen_name: str | None = None,
        clock: PresenterClock | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        if not slides:
            raise UserError("There is nothing to present.", "Add pages to the presentation.")
        self.ctx = ctx
        self.slides = slides
        self._resolve = resolve  # document key -> (path, title) or None
        self.index = max(0, min(start, len(slides) - 1))
        self.clock = clock or PresenterClock()
        self.preferred_screen = screen_name
        self.window = PresentationWindow()
        self.console = PresenterConsole(slides)
        self.awake = KeepAwake()
        self._docs: dict[str, int | None] = {}
        self._images: dict[tuple[int, int, int], QImage] = {}  # (slide, w, h) -> image
        self._pending: set[tuple[int, int, int]] = set()
        self._previews: dict[int, Any] = {}  # slide -> scaled pixmaps for the console
        self._typed = ""
        self.rehearsal = False

        self.window.key_pressed.connect(self.key)
        self.window.clicked.connect(self.next)
        self.window.painted.connect(self.slide_shown)
        self.console.key_pressed.connect(self.key)
        self.console.jump_requested.connect(self.go_to)
        self.console.note_edited.connect(self._note_edited)
        self.console.end_time_changed.connect(self._end_time)
        self.console.end_requested.connect(self.end)
        self.console.click_advance_changed.connect(self._click_advance)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._update_clock)
        self._note_timer = QTimer(self)
        self._note_timer.setSingleShot(True)
        self._note_timer.setInterval(400)
        self._note_timer.timeout.connect(self._save_note)
        self._note_text: str | None = None
        app = QGuiApplication.instance()
        assert isinstance(app, QGuiApplication)
        app.screenAdded.connect(self._screens_changed)
        app.screenRemoved.connect(self._screens_changed)

    # Screens -------------------------------------------------------------------------
    def screens(self) -> tuple[QScreen, QScreen | None]:
        """(projector screen, console screen or None for rehearsal on one screen)."""
        screens = QGuiApplication.screens()
        primary = QGuiApplication.primaryScreen()
        chosen = next((s for s in screens if s.name() == self.preferred_screen), None)
        if chosen is None:
            others = [s for s in screens if s is not primary]
            chosen = others[0] if others else primary
        if len(screens) < 2:
            return chosen, None
        console = primary if chosen is not primary else next(s for s in screens if s is not chosen)
        return chosen, console

    def place(self) -> None:
        projector, console_screen = self.screens()
        self.rehearsal = console_screen is None
        self.window.setScreen(projector)
        self.console.setScreen(console_screen or projector)
        geometry = projector.geometry()
        if self.rehearsal:
            # One screen: rehearse, the pages and the console side by side in windows.
            half = QRect(geometry.x(), geometry.y(), geometry.width() // 2, geometry.height() // 2)
            self.window.setWindowFlag(Qt.WindowType.FramelessWindowHint, False)
            self.window.setGeometry(half.adjusted(40, 60, 0, 0))
            self.window.showNormal()
            self.console.setGeometry(
                half.translated(geometry.width() // 2, 0).adjusted(0, 60, -40, 0)
            )
            self.console.showNormal()
        else:
            self.window.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
            self.window.setGeometry(geometry)
            self.window.showFullScreen()
            assert console_screen is not None
            self.console.setGeometry(console_screen.availableGeometry())
            self.console.showMaximized()
        self.console.activateWindow()
        self._images.clear()
        self.show()

    def _screens_changed(self, _screen: QScreen) -> None:
        """A projector was plugged in or removed: move the presentation, re-render."""
        log.info("screens changed: %s", [s.name() for s in QGuiApplication.screens()])
        self.place()

    # Starting and ending -------------------------------------------------------------
    def start(self) -> None:
        for key in {s.document_key for s in self.slides}:
            found = self._resolve(key)
            if found is None:
                self._docs[key] = None
                continue
            doc_id = next(_ids)
            self._docs[key] = doc_id
            self.ctx.documents.open(doc_id, found[0])
        self.awake.start()
        self._tick.start()
        self.clock.restart()
        self.place()
        self._update_clock()
        projector, _ = self.screens()
        self.ctx.userdata(lambda u: u.set_setting(SCREEN_SETTING, projector.name()))

    def end(self) -> None:
        self._save_note()
        self._tick.stop()
        self.awake.stop()
        for doc_id in self._docs.values():
            if doc_id is not None:
                self.ctx.documents.close(doc_id)
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.screenAdded.disconnect(self._screens_changed)
            app.screenRemoved.disconnect(self._screens_changed)
        self.window.close()
        self.console.close()
        self.window.deleteLater()
        self.console.deleteLater()
        self.ended.emit()

    # Navigation ----------------------------------------------------------------------
    def go_to(self, index: int) -> None:
        self._save_note()
        self.index = max(0, min(index, len(self.slides) - 1))
        self.window.set_mode(PAGE)
        self.show()

    def next(self) -> None:
        if self.window.mode != PAGE:
            self.window.set_mode(PAGE)
            return
        if self.index < len(self.slides) - 1:
            self.go_to(self.index + 1)

    def previous(self) -> None:
        if self.window.mode != PAGE:
            self.window.set_mode(PAGE)
            return
        if self.index > 0:
            self.go_to(self.index - 1)

    def toggle(self, mode: str) -> None:
        self.window.set_mode(PAGE if self.window.mode == mode else mode)
        self.console.state.setText(
            {BLACK: "The projector shows black", WHITE: "The projector shows white"}.get(
                self.window.mode, ""
            )
        )

    def key(self, event: QKeyEvent) -> None:
        k = event.key()
        text = event.text()
        if text.isdigit():
            self._typed += text
            self.console.state.setText(f"Go to page {self._typed}… (Enter)")
            return
        if k in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if self._typed:
                self.go_to(int(self._typed) - 1)
                self._typed = ""
                self.console.state.setText("")
            else:
                self.next()
            return
        self._typed = ""
        if k == Qt.Key.Key_Escape:
            self.end()
        elif k in (Qt.Key.Key_B, Qt.Key.Key_Period):
            self.toggle(BLACK)
        elif k in (Qt.Key.Key_W, Qt.Key.Key_Comma):
            self.toggle(WHITE)
        elif k in NEXT_KEYS:
            self.next()
        elif k in PREVIOUS_KEYS:
            self.previous()
        elif k == Qt.Key.Key_Home:
            self.go_to(0)
        elif k == Qt.Key.Key_End:
            self.go_to(len(self.slides) - 1)

    # Showing -------------------------------------------------------------------------
    def _target(self) -> tuple[int, int, float]:
        """The projector window's size in device pixels, and its pixel ratio."""
        ratio = self.window.devicePixelRatioF()
        size = self.window.size()
        return round(size.width() * ratio), round(size.height() * ratio), ratio

    def _image(self, index: int) -> QImage | None:
        w, h, _ = self._target()
        return self._images.get((index, w, h))

    def show(self) -> None:
        slide = self.slides[self.index]
        # The projector first, painted now; the console and the prefetch come after.
        self.window.show_slide(self.index, self._image(self.index))
        self.window.repaint()
        self.console.show_slide(self.index, len(self.slides), slide)
        self._request(self.index, prefetch=False)
        if self.index + 1 < len(self.slides):
            self._request(self.index + 1, prefetch=True)
        self._update_previews()
        when_done(
            self.ctx.userdata(lambda u: u.page_note(slide.document_key, slide.page)),
            self,
            self.console.set_note,
            lambda _e: None,
        )

    def _update_previews(self) -> None:
        upcoming = self.index + 1 if self.index + 1 < len(self.slides) else None
        self.console.set_images(
            self._preview(self.index, self.console.current),
            None if upcoming is None else self._preview(upcoming, self.console.next),
            last=upcoming is None,
        )

    def _preview(self, index: int, label: Any) -> Any:
        """A console-sized pixmap of a slide, scaled once and kept."""
        from PySide6.QtGui import QPixmap

        cached = self._previews.get(index)
        if cached is not None and cached[0] == label.size():
            return cached[1]
        image = self._image(index)
        if image is None:
            return None
        pixmap = QPixmap.fromImage(image).scaled(
            label.size(),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        if len(self._previews) > 16:
            self._previews.clear()
        self._previews[index] = (label.size(), pixmap)
        return pixmap

    def _request(self, index: int, *, prefetch: bool) -> None:
        w, h, ratio = self._target()
        key = (index, w, h)
        if key in self._images or key in self._pending:
            return
        slide = self.slides[index]
        doc_id = self._docs.get(slide.document_key)
        if doc_id is None:
            return
        info_future = self.ctx.documents.call(
            "page_size", doc_id, slide.page, doc_id=doc_id, priority=VISIBLE
        )

        def sized(size: tuple[float, float]) -> None:
            pw, ph = size
            zoom = min(w / pw, h / ph)
            self._pending.add(key)
            when_done(
                self.ctx.documents.render(
                    doc_id, slide.page, zoom, prefetch=prefetch, convert=to_image
                ),
                self,
                lambda done: self._rendered(key, done, ratio),
                lambda _e: self._pending.discard(key),
            )

        when_done(info_future, self, sized, lambda _e: None)

    def _rendered(
        self, key: tuple[int, int, int], done: tuple[RenderResult, QImage], ratio: float
    ) -> None:
        self._pending.discard(key)
        _result, image = done  # already in the format painting uses
        image.setDevicePixelRatio(ratio)
        self._images[key] = image
        self._previews.pop(key[0], None)
        if len(self._images) > 8:  # keep what is near
            for old in sorted(self._images, key=lambda k: abs(k[0] - self.index))[8:]:
                del self._images[old]
        if key[0] == self.index:
            self.window.show_slide(self.index, image)
        self._update_previews()

    # Notes and clocks ----------------------------------------------------------------
    def _note_edited(self, text: str) -> None:
        self._note_text = text
        self._note_slide = self.slides[self.index]
        self._note_timer.start()

    def _save_note(self) -> None:
        if self._note_text is None:
            return
        slide, text = self._note_slide, self._note_text
        self._note_text = None
        self._note_timer.stop()
        self.ctx.userdata(lambda u: u.set_page_note(slide.document_key, slide.page, text))

    def _end_time(self, end: time | None) -> None:
        self.clock.end_at = end
        self._update_clock()

    def _click_advance(self, on: bool) -> None:
        self.window.click_advances = on

    def _update_clock(self) -> None:
        self.console.set_clock(*self.clock.lines())


def resolver(ctx: AppContext) -> Any:
    """Document key → (path, title) for slides, or None when not on this computer."""

    def resolve(key: str) -> tuple[Path, str] | None:
        if key.startswith("file:"):
            path = Path(key[5:])
            return (path, path.stem) if path.is_file() else None
        detail = ctx.content.reader.detail(key)
        f = detail.main_file if detail is not None else None
        if detail is None or f is None or not f.cached or not f.sha256:
            return None
        path = ctx.file_path(f.sha256, f.media_type)
        return None if path is None else (path, detail.title)

    return resolve
