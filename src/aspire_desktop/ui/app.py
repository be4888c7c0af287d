"""Starting the GUI: display checks, the application object, the window."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Any, NamedTuple

from aspire_desktop import APP_ID, APP_NAME
from aspire_desktop.core.paths import Paths

#: When, after start-up, the window builds its first document tab ahead (it costs the
#: UI thread some tens of milliseconds, mostly loading the viewer's code).
SPARE_VIEW_AT_START_MS = 1500

#: Set to a file path to have start-up milestones written there (used by benchmarks).
TRACE_ENV = "ASPIRE_DESKTOP_TRACE_STARTUP"

_XCB_LIBS = ("libxcb-cursor.so.0", "libxkbcommon-x11.so.0", "libxcb-icccm.so.4")

STYLE = """
QMainWindow, QWidget#library { background: #f5f7f9; }
QTreeView, QTableView, QLineEdit, QScrollArea#detailPane, QWidget#detailBody {
    background: #ffffff; }
QTreeView, QTableView { border: 1px solid #d5dde4; border-radius: 4px; }
QTreeView::item { padding: 4px 2px; }
QTableView::item { padding: 0 4px; }
QTreeView::item:selected, QTableView::item:selected { background: #d7e6f3; color: #10253a; }
QTreeView::item:selected:focus, QTableView::item:selected:focus {
    background: #2f5f8f; color: #ffffff; }
QLineEdit { border: 1px solid #b8c4ce; border-radius: 4px; padding: 5px 6px; }
QLineEdit:focus { border: 2px solid #2f5f8f; padding: 4px 5px; }
QLabel#detailTitle { font-size: 17px; font-weight: 600; color: #17324d; }
QLabel#detailBadges { color: #3b5a78; font-weight: 600; }
QLabel#pictureCaption, QLabel#countLabel { color: #5b6b7a; }
QLabel#factLabel { color: #5b6b7a; }
QFrame#documentBox { background: #eef3f7; border: 1px solid #d5dde4; border-radius: 6px; }
QFrame#noticeBar { background: #fff4d6; border: 1px solid #e3c26b; border-radius: 6px; }
QLabel#viewerNote { background: #fff4d6; padding: 6px 10px; }
QLabel#viewerMessage { font-size: 15px; color: #1f2933; }
QPushButton { padding: 5px 12px; }
QPushButton:focus, QToolButton:focus { border: 2px solid #2f5f8f; border-radius: 4px; }
QScrollArea#pageScroll { background: #5f6b76; }
QLabel#pageCanvas { background: #5f6b76; color: #ffffff; padding: 12px; }
QStatusBar QLabel { padding: 0 8px; color: #3b4a5a; }
QScrollBar:vertical { background: #e9edf1; width: 14px; margin: 0; }
QScrollBar:horizontal { background: #e9edf1; height: 14px; margin: 0; }
QScrollBar::handle { background: #7d8a96; border-radius: 4px; margin: 3px; }
QScrollBar::handle:vertical { min-height: 32px; }
QScrollBar::handle:horizontal { min-width: 32px; }
QScrollBar::handle:hover { background: #5f6b76; }
QScrollBar::handle:pressed { background: #3f4a55; }
QScrollBar::add-line, QScrollBar::sub-line { width: 0; height: 0; border: none; }
QScrollBar::add-page, QScrollBar::sub-page { background: none; }
"""


def display_problem(env: os._Environ[str] | dict[str, str] = os.environ) -> str | None:
    """A plain sentence if the GUI cannot start here, else None (checked before Qt)."""
    if not sys.platform.startswith("linux"):
        return None
    platform = env.get("QT_QPA_PLATFORM", "")
    if platform and not platform.startswith("xcb"):
        return None
    if not env.get("DISPLAY") and not (env.get("WAYLAND_DISPLAY") and not platform):
        return (
            "no display found, so the window cannot open. Start it from a desktop session, "
            "or use a command such as 'aspire-desktop catalogue list' or 'aspire-desktop doctor'."
        )
    if platform.startswith("xcb") or not env.get("WAYLAND_DISPLAY"):
        import ctypes

        for lib in _XCB_LIBS:
            try:
                ctypes.CDLL(lib)
            except OSError:
                return (
                    f"the system library {lib} is missing, so the window cannot open. "
                    "Ask your IT team to install the app's dependencies "
                    "(on Debian/Ubuntu: libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4)."
                )
        if not _can_connect_x(env.get("DISPLAY", "")):
            return (
                f"cannot connect to the display '{env.get('DISPLAY', '')}', so the window "
                "cannot open. Start it from a desktop session."
            )
    return None


def _can_connect_x(display: str) -> bool:
    """Try the X connection Qt would make (Qt aborts the process when it fails)."""
    import ctypes

    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return True  # let Qt report it
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    conn = xcb.xcb_connect(display.encode(), None)
    try:
        return bool(conn) and xcb.xcb_connection_has_error(conn) == 0
    finally:
        if conn:
            xcb.xcb_disconnect(conn)


class _Trace:
    """Start-up milestones as ``name unix-time`` lines (kept open: may be a FIFO)."""

    def __init__(self) -> None:
        path = os.environ.get(TRACE_ENV)
        self._fh = open(path, "a", buffering=1, encoding="utf-8") if path else None  # noqa: SIM115

    def mark(self, name: str) -> None:
        if self._fh is not None:
            try:
                self._fh.write(f"{name} {time.time():.6f}\n")
            except OSError:  # nobody reading any more: tracing stops, the app goes on
                self._fh = None

    def close(self) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.close()
            self._fh = None


def _quit_on_signals(app: object) -> object:
    """Quit cleanly (saving state) on SIGTERM/SIGINT, e.g. at logout.

    Python runs signal handlers only between bytecodes, so the signal's byte is written
    to a pipe that Qt watches, which wakes the event loop. (A pipe, not a socket pair:
    importing ``socket`` is not free on the start path; Windows needs the socket.)
    """
    import signal

    from PySide6.QtCore import QSocketNotifier

    if sys.platform == "win32":
        import socket

        reader, writer = socket.socketpair()
        reader.setblocking(False)
        writer.setblocking(False)
        read_fd, write_fd = reader.fileno(), writer.fileno()
        keep: tuple[object, ...] = (reader, writer)
    else:
        read_fd, write_fd = os.pipe()
        os.set_blocking(read_fd, False)
        os.set_blocking(write_fd, False)
        keep = ()
    signal.set_wakeup_fd(write_fd)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_args: None)
    notifier = QSocketNotifier(read_fd, QSocketNotifier.Type.Read)

    def woke() -> None:
        with contextlib.suppress(OSError):
            os.read(read_fd, 64)
        app.quit()  # type: ignore[attr-defined]

    notifier.activated.connect(woke)
    return (notifier, keep)


class OpenRequest(NamedTuple):
    """A document to open once the window is up: a PDF path or a resource id."""

    target: str
    page: int | None = None  # 0-based
    present: bool = False


class _Startup:
    """Finishes start-up after the window's first paint: logging, crash handler,
    content, the library; then marks ``ready`` once the resource list is painted."""

    def __init__(
        self, app: Any, window: Any, paths: Paths, trace: _Trace, request: OpenRequest | None
    ) -> None:
        self.app, self.window, self.paths, self.trace = app, window, paths, trace
        self.request = request
        self.ctx: Any = None
        self.exit_code: int | None = None
        self._keep: object = None
        self._list_painted = False

    def first_paint(self) -> None:
        from PySide6.QtCore import QTimer

        self.trace.mark("first-paint")
        QTimer.singleShot(0, self.complete)

    def complete(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        from aspire_desktop.cli import EXIT_NO_CONTENT
        from aspire_desktop.core.errors import UserError
        from aspire_desktop.core.paths import baseline_dir
        from aspire_desktop.core.store.content import ContentStore
        from aspire_desktop.ui.context import AppContext

        self.app.setStyleSheet(STYLE)
        store = ContentStore(self.paths.content_dir, baseline_dir())
        try:
            content = store.open_current()
        except UserError as exc:
            print(f"{APP_ID}: {exc}", file=sys.stderr)
            QMessageBox.critical(self.window, APP_NAME, f"{exc.message}\n\n{exc.what_to_do}")
            self.exit_code = EXIT_NO_CONTENT
            self.app.exit(EXIT_NO_CONTENT)
            return
        self.ctx = AppContext(self.paths, store, content)
        self.window.attach(self.ctx)
        self.window.build()
        self.window.resource_view.viewport().installEventFilter(self._watcher())

    def _watcher(self) -> Any:
        from PySide6.QtCore import QEvent, QObject, QTimer

        startup = self

        class ListPainted(QObject):
            def eventFilter(self, obj: QObject, event: QEvent) -> bool:
                if event.type() == QEvent.Type.Paint and not startup._list_painted:
                    startup._list_painted = True
                    startup.trace.mark("ready")
                    QTimer.singleShot(0, startup.settle)
                return False

        self._list_watcher = ListPainted()
        return self._list_watcher

    def settle(self) -> None:
        """After ``ready``: logging, the crash dialog, clean quit on signals, and the
        window's background work (user data, integrity check, network status)."""
        from aspire_desktop.core.logs import setup_logging
        from aspire_desktop.ui.crash import CrashHandler

        setup_logging(self.paths, console=True)
        CrashHandler(self.paths.log_file).install()
        from aspire_desktop.ui.instance import InstanceServer, server_name

        self.instance = InstanceServer(server_name(self.paths), self.window)
        self.instance.request.connect(self.handle)
        self.trace.mark("listening")
        self.window.start_background()
        if self.request is not None:
            view = self.window.open_target(
                self.request.target, self.request.page, present=self.request.present
            )
            if view is not None:  # the frozen-build smoke test waits for this
                view.ready.connect(lambda: self.trace.mark("document-ready"))
        else:
            self.window.ctx.documents.warm_up()  # the first document then opens at once
        from PySide6.QtCore import QTimer

        # The first document's tab, built once the start is well over (see MainWindow).
        QTimer.singleShot(SPARE_VIEW_AT_START_MS, self.window, self.window.prepare_spare_view)

    def handle(self, message: dict[str, Any]) -> None:
        """A later start asked for something: bring the window forward and do it."""
        self.trace.mark("handoff")
        window = self.window
        if window.isMinimized():
            window.showNormal()
        window.raise_()
        window.activateWindow()
        if message.get("command") == "open" and isinstance(message.get("target"), str):
            page = message.get("page")
            window.open_target(
                message["target"],
                page if isinstance(page, int) else None,
                present=message.get("present") is True,
            )

    def finish(self) -> None:
        if getattr(self, "instance", None) is not None:
            self.instance.close()
        self.window.save_state()
        if self.ctx is not None:
            self.ctx.shutdown()
        self.trace.mark("exit")
        self.trace.close()


def _absolute(target: str) -> str:
    """A file path made absolute for another process; a resource id as it is."""
    path = Path(target).expanduser()
    return str(path.resolve()) if path.exists() else target


def run_gui(paths: Paths, request: OpenRequest | None = None) -> int:
    """Show the window as early as possible: only the frame is made before its first
    paint (see :class:`_Startup` for the rest)."""
    from aspire_desktop.cli import EXIT_NO_DISPLAY

    problem = display_problem()
    if problem:
        print(f"{APP_ID}: {problem}", file=sys.stderr)
        return EXIT_NO_DISPLAY

    from aspire_desktop.ui.instance import hand_off, server_name

    message: dict[str, Any] = {"command": "show"}
    if request is not None:
        message = {
            "command": "open",
            "target": _absolute(request.target),
            "page": request.page,
            "present": request.present,
        }
    if hand_off(server_name(paths), message):
        return 0  # the running instance has it

    from PySide6.QtWidgets import QApplication

    from aspire_desktop.ui.mainwindow import MainWindow

    trace = _Trace()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setDesktopFileName(APP_ID)
    window = MainWindow(None, paths=paths, build=False)
    from aspire_desktop.ui.collector import MainThreadCollector

    collector = MainThreadCollector(app)
    startup = _Startup(app, window, paths, trace, request)
    startup._keep = _quit_on_signals(app)
    window.on_first_paint = startup.first_paint
    window.show()
    try:
        code = app.exec()
    finally:
        startup.finish()
        collector.stop()
    return startup.exit_code if startup.exit_code is not None else code
