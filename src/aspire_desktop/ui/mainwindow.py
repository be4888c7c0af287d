"""The main window: the Library tab and a tab per open document.

On start-up only a light frame is made and shown; :meth:`MainWindow.build` fills it
right after its first paint. So this module imports little at the top (importing Qt's
``Qt`` namespace alone costs ~30 ms): the rest comes in with :meth:`build`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QSettings, QSize
from PySide6.QtGui import QCloseEvent, QPaintEvent
from PySide6.QtWidgets import QLabel, QLineEdit, QMainWindow, QWidget

from aspire_desktop import APP_NAME
from aspire_desktop.ui.icons import app_icon

if TYPE_CHECKING:
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QTabWidget

    from aspire_desktop.core.errors import UserError
    from aspire_desktop.core.paths import Paths
    from aspire_desktop.core.policy import Policy
    from aspire_desktop.core.userdata.store import UserData
    from aspire_desktop.ui.context import AppContext
    from aspire_desktop.ui.library import NoticeBar
    from aspire_desktop.ui.viewer import DocumentView


USER_GUIDE_ID = "aspire-desktop-user-guide"
#: After a document's first page is shown, the next tab is built this much later (it
#: takes the UI thread about 10 ms; the user is reading by then).
SPARE_VIEW_DELAY_MS = 0


class SearchBox(QLineEdit):
    """The library search box; its size hint carries its width (the menu bar, where it
    sits, places a corner widget by its size hint)."""

    def sizeHint(self) -> QSize:
        return QSize(340, super().sizeHint().height())


class MainWindow(QMainWindow):
    def __init__(
        self, ctx: AppContext | None, *, paths: Paths | None = None, build: bool = True
    ) -> None:
        """The window for ``ctx``. With ``build=False`` (or no ``ctx`` yet) only the frame
        is made, to be shown at once; :meth:`attach` and :meth:`build` complete it."""
        super().__init__()
        self.ctx: AppContext = ctx  # type: ignore[assignment]
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(app_icon())
        self.setObjectName("mainWindow")
        self.built = False
        self._userdata_ready = False
        self._spare_view: DocumentView | None = None
        #: Called once, after the window's first paint (the start-up path uses it).
        self.on_first_paint: Callable[[], None] | None = None

        self.content_label = QLabel("")
        self.content_label.setObjectName("contentStatus")
        self.online_label = QLabel("")
        self.online_label.setObjectName("onlineStatus")
        self.statusBar().addPermanentWidget(self.content_label)
        self.statusBar().addPermanentWidget(self.online_label)
        state_file = (paths or ctx.paths).ui_state_file  # type: ignore[union-attr]
        self._state = QSettings(str(state_file), QSettings.Format.IniFormat)
        self._restore_geometry()
        if ctx is not None and build:
            self.build()
        else:
            frame = QWidget()
            frame.setObjectName("library")
            self.setCentralWidget(frame)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self.on_first_paint is not None:
            callback, self.on_first_paint = self.on_first_paint, None
            callback()

    def attach(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def build(self) -> None:
        """Create the library, the tabs and the menus, and show the first category."""
        if self.built:
            return
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QTabWidget

        from aspire_desktop.ui.library import Library, content_status

        self.built = True
        ctx = self.ctx
        self.content_label.setText(content_status(ctx))
        self.online_label.setText("Checking network…")
        self.library = Library(ctx)
        self.library.open_requested.connect(self.open_resource)
        self.library.status_message.connect(lambda text: self.statusBar().showMessage(text, 5000))

        self.tabs: QTabWidget = QTabWidget()
        self.tabs.setObjectName("tabs")
        self.tabs.setDocumentMode(True)
        self.tabs.setTabsClosable(True)
        self.tabs.setMovable(True)
        self.tabs.tabCloseRequested.connect(self.close_tab)
        self.tabs.addTab(self.library, "Library")
        # The Library tab cannot be closed but keeps its close button's room: the tab bar
        # is as tall with no document open as with some (nothing jumps, and the library
        # is not laid out again, when the first document opens or the last one closes).
        bar, right = self.tabs.tabBar(), self.tabs.tabBar().ButtonPosition.RightSide
        close_button = bar.tabButton(0, right)
        room = QWidget()
        room.setFixedSize(close_button.sizeHint())
        bar.setTabButton(0, right, room)
        self.tabs.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.tabs.tabBar().setAccessibleName("Open documents")
        self.setCentralWidget(self.tabs)

        self.library.detail.bookmark_requested.connect(self.add_bookmark_here)

        from PySide6.QtGui import QUndoStack

        # The search box sits at the top right, in the menu bar.
        self.search_edit = SearchBox()
        self.search_edit.setObjectName("searchEdit")
        self.search_edit.setAccessibleName("Search the whole library")
        self.search_edit.setPlaceholderText("Search the whole library (Ctrl+K)")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.textChanged.connect(self.search_changed)
        self.search_edit.returnPressed.connect(self._search_enter)
        self.menuBar().setCornerWidget(self.search_edit, Qt.Corner.TopRightCorner)
        self.search_panel: Any = None
        # Made after the library is on screen (start_background), not on the start path.
        self.undo_stack = QUndoStack(self)
        self.bookmarks_panel: Any = None
        self.sync: Any = None
        self._build_menus()

        splitter = self._state.value("window/splitter")
        if isinstance(splitter, QByteArray):
            self.library.splitter.restoreState(splitter)
        self.library.select_category(str(self._state.value("library/category", "")) or None)
        if ctx.content.notice is not None:
            self.add_notice(ctx.content.notice)

    # The library's parts, for callers that work with the window ----------------------
    @property
    def categories(self) -> Any:
        return self.library.categories

    @property
    def category_view(self) -> Any:
        return self.library.category_view

    @property
    def resources(self) -> Any:
        return self.library.resources

    @property
    def resource_view(self) -> Any:
        return self.library.resource_view

    @property
    def filter_edit(self) -> Any:
        return self.library.filter_edit

    @property
    def count_label(self) -> Any:
        return self.library.count_label

    @property
    def detail(self) -> Any:
        return self.library.detail

    @property
    def splitter(self) -> Any:
        return self.library.splitter

    def select_category(self, category_id: str | None) -> None:
        self.library.select_category(category_id)

    def show_resource(self, resource_id: str) -> None:
        self.library.show_resource(resource_id)

    # Menus ---------------------------------------------------------------------------
    def _action(self, menu: Any, text: str, slot: Any, *keys: Any) -> QAction:
        """A menu action bound to every one of ``keys`` (key strings, e.g. "Ctrl+W")."""
        from PySide6.QtGui import QAction, QKeySequence

        action = QAction(text, self)
        sequences: list[QKeySequence] = []
        for key in keys:
            sequences.append(QKeySequence(key))
        unique = list(dict.fromkeys(s for s in sequences if not s.isEmpty()))
        action.setShortcuts(unique)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        from PySide6.QtGui import QAction, QKeySequence

        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._action(file_menu, "&Open PDF file…", self.open_file_dialog, "Ctrl+O")
        self.close_action = self._action(
            file_menu, "&Close tab", self.close_current_tab, "Ctrl+W", "Ctrl+F4"
        )
        file_menu.addSeparator()
        self.sync_action = self._action(file_menu, "&Sync now", self.sync_now, "Ctrl+R")
        file_menu.addSeparator()
        self._action(file_menu, "&Import bookmarks…", self.import_bookmarks)
        self._action(file_menu, "&Export bookmarks…", lambda: self.export_bookmarks(False))
        self._action(file_menu, "Export bookmarks as &text…", lambda: self.export_bookmarks(True))
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, "Ctrl+Q")

        edit_menu = bar.addMenu("&Edit")
        undo = self.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcuts([QKeySequence("Ctrl+Z")])
        edit_menu.addAction(undo)
        self.undo_action = undo
        edit_menu.addSeparator()
        self._action(edit_menu, "&Find / filter", self.focus_filter, "Ctrl+F")
        self._action(edit_menu, "&Search the library", self.focus_search, "Ctrl+K")
        self._action(edit_menu, "Add &bookmark…", self.add_bookmark_here, "Ctrl+D")
        edit_menu.addSeparator()
        self._action(edit_menu, "&Preferences…", self.show_preferences, "Ctrl+,")

        view_menu = bar.addMenu("&View")
        self._action(view_menu, "&Categories", self.category_view.setFocus, "Ctrl+1")
        self._action(view_menu, "&Resources", self.resource_view.setFocus, "Ctrl+2")
        self._action(view_menu, "&Details", self.focus_details, "Ctrl+3")
        self.panel_action = QAction("&Bookmarks and recent", self)
        self.panel_action.setCheckable(True)
        self.panel_action.setShortcut(QKeySequence("Ctrl+Shift+B"))
        self.panel_action.toggled.connect(lambda on: self._panel().setVisible(on))
        view_menu.addAction(self.panel_action)
        view_menu.addSeparator()
        self._action(view_menu, "&Next tab", lambda: self._step_tab(1), "Ctrl+Tab", "Ctrl+PgDown")
        self._action(
            view_menu, "&Previous tab", lambda: self._step_tab(-1), "Ctrl+Shift+Tab", "Ctrl+PgUp"
        )
        self.fullscreen_action = self._action(
            view_menu, "&Full screen", self.toggle_full_screen, "F11"
        )
        self.fullscreen_action.setCheckable(True)
        view_menu.addSeparator()
        self._action(view_menu, "&Present", self.present_current, "F5")
        self._action(view_menu, "Presentation &playlists…", self.show_playlists, "Ctrl+Shift+P")

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&User guide", self.open_user_guide, "F1")
        self._action(help_menu, "&Diagnostics…", self.show_diagnostics)
        help_menu.addSeparator()
        self._action(help_menu, f"&About {APP_NAME}", self.show_about)

    # Start-up work after the library is painted -----------------------------------------
    def start_background(self) -> None:
        """Open user data, check the content's integrity and watch the network, all off
        the UI thread."""
        from PySide6.QtCore import QTimer

        from aspire_desktop.core.policy import load_policy
        from aspire_desktop.core.store.content import verify_version
        from aspire_desktop.ui.background import when_done
        from aspire_desktop.ui.sync import SyncController

        self.sync = SyncController(self)
        self.statusBar().addPermanentWidget(self.sync.widget)
        self.statusBar().addPermanentWidget(self.sync.status_label)
        self._panel()
        state = self._state.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        when_done(self.ctx.open_userdata(), self, self._userdata_opened, self._userdata_failed)
        when_done(self.ctx.background(load_policy), self, self._policy_loaded)
        content, store = self.ctx.content, self.ctx.store
        when_done(
            self.ctx.background(lambda: verify_version(content, store)),
            self,
            self._content_verified,
        )
        self.sync.refresh_status()
        self._check_network()
        self._network_timer = QTimer(self)
        self._network_timer.setInterval(30_000)
        self._network_timer.timeout.connect(self._check_network)
        self._network_timer.start()

    def _userdata_opened(self, result: tuple[UserData, UserError | None]) -> None:
        from aspire_desktop.ui.background import when_done

        _userdata, notice = result
        if notice is not None:
            self.add_notice(notice)
        when_done(self.ctx.userdata(lambda u: u.download_requests()), self, self._requests_loaded)
        when_done(self.ctx.userdata(lambda u: u.positions()), self, self.ctx.positions_read)

    def _policy_loaded(self, policy: Policy) -> None:
        """Central policy was read (its problems are in the log): say so if part is broken."""
        from aspire_desktop.core.errors import UserError

        self.ctx.policy = policy
        if policy.problems:
            self.add_notice(
                UserError(
                    "Some of your organisation's settings for ASPire Desktop could not be used.",
                    "Tell your IT team; Help ▸ Diagnostics shows the details.",
                )
            )

    def _userdata_failed(self, error: UserError) -> None:
        self.add_notice(error)

    def _requests_loaded(self, requested: set[str]) -> None:
        # The search index opens once user data is ready (never two threads starting up
        # their libraries at once), so search works at once with the shipped index.
        self._ensure_search_panel()
        self._userdata_ready = True
        self.library.set_requested(requested)
        self._panel().reload()

    def _content_verified(self, problems: list[str]) -> None:
        from aspire_desktop.core.errors import UserError

        if not problems:
            return
        import logging

        logging.getLogger(__name__).error("content integrity problems: %s", problems)
        if self.ctx.content.is_baseline:
            self.add_notice(
                UserError(
                    "Some of the content installed with ASPire Desktop is damaged.",
                    "Run 'aspire-desktop doctor' for details; reinstalling repairs it.",
                )
            )
            return
        self.ctx.content = self.ctx.store.fall_back(self.ctx.content)
        self.reload_content()
        if self.ctx.content.notice is not None:
            self.add_notice(self.ctx.content.notice)

    def _check_network(self) -> None:
        from aspire_desktop.core import network
        from aspire_desktop.ui.background import when_done

        when_done(self.ctx.background(network.has_default_route), self, self._network_state)

    def _network_state(self, online: bool | None) -> None:
        if online is None:
            self.online_label.setText("")
        else:
            self.online_label.setText(
                "Online" if online else "Offline: using the copy on this computer"
            )
        if self.sync is not None:
            self.sync.network_changed(online)

    # Search --------------------------------------------------------------------------
    def _ensure_search_panel(self) -> Any:
        if self.search_panel is None:
            from aspire_desktop.ui.search import SearchPanel

            self.search_panel = SearchPanel(self.ctx)
            self.search_panel.open_hit.connect(self.open_search_hit)
            self.search_panel.open_index()
        return self.search_panel

    def _show_search_tab(self) -> None:
        panel = self._ensure_search_panel()
        if self.tabs.indexOf(panel) < 0:
            self.tabs.insertTab(1, panel, "Search")
            self.tabs.tabBar().setTabButton(1, self.tabs.tabBar().ButtonPosition.RightSide, None)
        self.tabs.setCurrentWidget(panel)

    def focus_search(self) -> None:
        self.search_edit.setFocus()
        self.search_edit.selectAll()

    def search_changed(self, text: str) -> None:
        if text.strip():
            self._show_search_tab()
        self._ensure_search_panel().set_query(text)

    def _search_enter(self) -> None:
        panel = self._ensure_search_panel()
        panel.run()
        panel.tree.setFocus()

    def open_search_hit(self, resource_id: str, page: int | None, words: tuple[str, ...]) -> None:
        """Open a result at its page, with the matched words marked."""
        detail = self.ctx.content.reader.detail(resource_id)
        if detail is None or detail.main_file is None or not detail.main_file.cached:
            self.tabs.setCurrentIndex(0)
            self.library.show_and_select(resource_id)
            return
        view = self.open_resource(resource_id, page)
        if view is None or not words or page is None:
            return
        mark = max(words, key=len)

        def place() -> None:
            view.find_again(page, mark)

        if view.info is not None:
            place()
        else:
            view.ready.connect(place)

    # Sync ----------------------------------------------------------------------------
    def sync_now(self) -> None:
        if self.sync is None:
            self.statusBar().showMessage("Still starting up; try again in a moment.", 5000)
            return
        if not self.sync.start():
            self.statusBar().showMessage("A sync is already running.", 5000)

    def content_updated(self, result: Any) -> None:
        """A sync switched to new content: show it, and what is new."""
        from aspire_desktop.ui.sync import WhatsNewDialog

        old = self.ctx.content
        self.ctx.content = self.ctx.store.open_current()
        self.reload_content()
        if self.search_panel is not None:
            self.search_panel.reload_categories()
            self.search_panel.open_index()  # and index new or changed documents
        old.close()
        reader = self.ctx.content.reader

        def title_of(resource_id: str) -> str | None:
            detail = reader.detail(resource_id)
            return None if detail is None else detail.title

        self.whats_new = WhatsNewDialog(result, title_of, self)
        self.whats_new.open()

    def show_preferences(self) -> Any:
        from aspire_desktop.ui.preferences import PreferencesDialog

        dialog = PreferencesDialog(self.ctx, self)
        dialog.open()
        return dialog

    def reload_content(self) -> None:
        from aspire_desktop.ui.library import content_status

        self.library.reload_content()
        self.content_label.setText(content_status(self.ctx))

    # Focus ---------------------------------------------------------------------------
    def focus_filter(self) -> None:
        """Ctrl+F: find in the document on a document tab, else filter the library."""
        view = self.tabs.currentWidget()
        if self.tabs.currentIndex() > 0 and hasattr(view, "show_find"):
            view.show_find()
            return
        self.tabs.setCurrentIndex(0)
        self.library.focus_filter()

    def focus_details(self) -> None:
        self.tabs.setCurrentIndex(0)
        self.library.focus_details()

    # Documents -----------------------------------------------------------------------
    def open_resource(self, resource_id: str, page: int | None = None) -> DocumentView | None:
        from aspire_desktop.core.errors import DocumentNotCachedError
        from aspire_desktop.ui.messages import show_error

        detail = self.ctx.content.reader.detail(resource_id)
        if detail is None:
            return None
        f = detail.main_file
        if f is None:
            self.statusBar().showMessage("This resource has no document to open.", 5000)
            return None
        path = self.ctx.file_path(f.sha256, f.media_type) if f.cached and f.sha256 else None
        if path is None:
            show_error(
                self,
                DocumentNotCachedError(
                    f"“{detail.title}” is not on this computer yet.",
                    "Choose “Get it at next sync” in the details, and it will be fetched "
                    "when you are next online.",
                ),
            )
            return None
        return self.open_path(path, detail.title, resource_id, page, sha256=f.sha256)

    def open_path(
        self,
        path: Path,
        title: str,
        document_key: str,
        page: int | None = None,
        *,
        sha256: str | None = None,
    ) -> DocumentView:
        from aspire_desktop.ui.viewer import DocumentView

        for i in range(1, self.tabs.count()):
            view = self.tabs.widget(i)
            if isinstance(view, DocumentView) and view.document_key == document_key:
                self.tabs.setCurrentIndex(i)
                if page is not None:
                    view.go_to(page)
                return view
        # Every tab page has the size of the tab area: the new tab's pages will fill it
        # less the toolbar and sidebar, as in the last document shown.
        area = self.tabs.currentWidget().size()
        viewport = (
            area.width() - DocumentView.margins[0],
            area.height() - DocumentView.margins[1],
            self.devicePixelRatioF(),
        )
        view = self._spare_view or DocumentView(self.ctx)
        self._spare_view = None
        view.load(path, title, document_key, start_page=page, sha256=sha256, viewport=viewport)
        from PySide6.QtCore import Qt

        view.page_shown.connect(
            self._prepare_spare_view_soon, Qt.ConnectionType.SingleShotConnection
        )
        view.present_requested.connect(lambda: self.present_view(view))
        short = title if len(title) <= 32 else title[:30] + "…"
        index = self.tabs.addTab(view, short)
        self.tabs.setTabToolTip(index, title)
        self.tabs.setCurrentIndex(index)
        view.setFocus()
        return view

    def open_target(
        self, target: str, page: int | None = None, *, present: bool = False
    ) -> DocumentView | None:
        """Open a PDF file by path, or a resource by its id (the ``open`` command)."""
        from aspire_desktop.core.errors import UserError
        from aspire_desktop.ui.messages import show_error

        path = Path(target).expanduser()
        view: DocumentView | None = None
        if path.is_file():
            view = self.open_path(path, path.stem, f"file:{path.resolve()}", page)
        elif self.ctx.content.reader.detail(target) is not None:
            view = self.open_resource(target, page)
        if view is not None:
            if present:
                opened = view
                if opened.info is not None:
                    self.present_view(opened, page)
                else:
                    opened.ready.connect(lambda: self.present_view(opened, page))
            return view
        show_error(
            self,
            UserError(
                f"There is no file or resource called “{target}”.",
                "Check the path, or use a resource id from 'aspire-desktop catalogue list'.",
            ),
        )
        return None

    # Presenting ----------------------------------------------------------------------
    def document_views(self) -> list[DocumentView]:
        return [
            self.tabs.widget(i)
            for i in range(1, self.tabs.count())
            if getattr(self.tabs.widget(i), "info", None) is not None
        ]

    def present_current(self) -> None:
        view = self.tabs.currentWidget()
        if self.tabs.currentIndex() == 0 or getattr(view, "info", None) is None:
            self.statusBar().showMessage("Open a document first, then press F5 to present.", 5000)
            return
        self.present_view(view)

    def present_view(self, view: DocumentView, page: int | None = None) -> Any:
        from aspire_desktop.core.userdata.playlists import Slide

        assert view.info is not None
        slides = [Slide(view.document_key, view.title, n) for n in range(view.info.page_count)]
        return self.present(slides, view.page if page is None else page)

    def present(self, slides: list[Any], start: int = 0) -> Any:
        """Present ``slides`` from ``start`` on the chosen (remembered) screen."""
        from aspire_desktop.ui.background import when_done
        from aspire_desktop.ui.present.session import SCREEN_SETTING, PresentationSession, resolver

        def begin(screen_name: Any) -> None:
            session = PresentationSession(
                self.ctx,
                slides,
                resolver(self.ctx),
                start,
                screen_name=screen_name if isinstance(screen_name, str) else None,
                parent=self,
            )
            self.presentation = session
            session.ended.connect(self._presentation_ended)
            session.start()

        when_done(
            self.ctx.userdata(lambda u: u.setting(SCREEN_SETTING)),
            self,
            begin,
            lambda _e: begin(None),
        )

    def _presentation_ended(self) -> None:
        self.presentation = None
        self.activateWindow()

    def show_playlists(self) -> Any:
        from aspire_desktop.ui.present.playlists import PlaylistDialog

        dialog = PlaylistDialog(self.ctx, self.document_views(), self)
        dialog.present_requested.connect(lambda p: self.present(p.slides()))
        dialog.open()
        return dialog

    # Bookmarks -----------------------------------------------------------------------
    def _panel(self) -> Any:
        """The Bookmarks panel, made the first time it is needed."""
        if self.bookmarks_panel is None:
            from PySide6.QtCore import Qt

            from aspire_desktop.ui.bookmarks import BookmarksPanel

            panel = BookmarksPanel(self.ctx, self, undo_stack=self.undo_stack)
            self.bookmarks_panel = panel
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, panel)
            panel.hide()
            panel.open_bookmark.connect(self.open_bookmark)
            panel.open_recent.connect(self.open_recent)
            panel.visibilityChanged.connect(self.panel_action.setChecked)
            if self._userdata_ready:
                panel.reload()
        return self.bookmarks_panel

    def add_bookmark_here(self) -> None:
        """Ctrl+D: the passage selected or the page in view; in the library, the resource."""
        from aspire_desktop.core.userdata.bookmarks import BookmarkData

        view = self.tabs.currentWidget()
        data = view.bookmark_data() if hasattr(view, "bookmark_data") else None
        if data is None and self.tabs.currentIndex() == 0 and self.library.detail.resource_id:
            rid = self.library.detail.resource_id
            data = BookmarkData(
                rid, kind="resource", document_title=self.library.detail.title.text()
            )
        if data is None:
            self.statusBar().showMessage("Choose a resource or open a document first.", 5000)
            return
        self._panel().show()
        self._panel().add(data)

    def open_bookmark(self, b: Any) -> None:
        """Open a bookmark at its place, finding a moved passage again if need be."""
        detail = self.ctx.content.reader.detail(b.resource_id)
        if detail is None:
            self.statusBar().showMessage(
                "This bookmark's resource is no longer in the catalogue.", 8000
            )
            return
        f = detail.main_file
        if b.kind == "resource" or f is None:
            self.tabs.setCurrentIndex(0)
            self.library.show_and_select(b.resource_id)
            return
        view = self.open_resource(b.resource_id, b.page)
        if view is None:
            return
        changed = bool(b.document_sha256 and f.sha256 and b.document_sha256 != f.sha256)

        def place() -> None:
            if changed and b.quote.exact:
                view.locate(b.quote, b.page)
            elif changed:
                view.find_again(
                    b.page or 0, "", "The document has changed: this page may have moved."
                )
            elif b.quote.exact:
                view.find_again(b.page or 0, b.quote.exact)

        if view.info is not None:
            place()
        else:
            view.ready.connect(place)

    def open_recent(self, recent: Any) -> None:
        key = recent.document_key
        if key.startswith("file:"):
            path = Path(key[5:])
            if path.is_file():
                self.open_path(path, path.stem, key, recent.page)
            else:
                self.statusBar().showMessage(f"{path} is not there any more.", 8000)
            return
        self.open_resource(key, recent.page)

    def import_bookmarks(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        name, _ = QFileDialog.getOpenFileName(
            self, "Import bookmarks", "", "Bookmarks (*.json);;All files (*)"
        )
        if name:
            self.import_bookmarks_from(Path(name))

    def import_bookmarks_from(self, path: Path) -> None:
        from aspire_desktop.core.userdata.exchange import import_json
        from aspire_desktop.ui.background import when_done

        def done(result: Any) -> None:
            self._panel().reload()
            self.bookmarks_panel.show()
            self.statusBar().showMessage(
                f"Imported {result.added} bookmarks ({result.skipped} were already here).", 8000
            )

        when_done(self.ctx.userdata(lambda u: import_json(u, path)), self, done)

    def export_bookmarks(self, as_text: bool) -> None:
        from PySide6.QtWidgets import QFileDialog

        kind = "Text (*.txt)" if as_text else "Bookmarks (*.json)"
        suggested = "bookmarks.txt" if as_text else "bookmarks.json"
        name, _ = QFileDialog.getSaveFileName(self, "Export bookmarks", suggested, kind)
        if name:
            self.export_bookmarks_to(Path(name), as_text)

    def export_bookmarks_to(self, path: Path, as_text: bool) -> None:
        from aspire_desktop.core.userdata import exchange
        from aspire_desktop.ui.background import when_done

        reader = self.ctx.content.reader

        def title_of(resource_id: str) -> str | None:
            detail = reader.detail(resource_id)
            return None if detail is None else detail.title

        def write(u: Any) -> int:
            if as_text:
                return exchange.export_text(u, path, title_of)
            return exchange.export_json(u, path)

        when_done(
            self.ctx.userdata(write),
            self,
            lambda n: self.statusBar().showMessage(f"Wrote {n} bookmarks to {path}.", 8000),
        )

    def open_file_dialog(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        name, _ = QFileDialog.getOpenFileName(self, "Open a PDF file", "", "PDF files (*.pdf)")
        if name:
            path = Path(name)
            self.open_path(path, path.stem, f"file:{path.resolve()}")

    def open_user_guide(self) -> None:
        self.open_resource(USER_GUIDE_ID)

    def _prepare_spare_view_soon(self, _page: int = 0) -> None:
        """Build the next document tab ahead, once the UI is idle again."""
        from PySide6.QtCore import QTimer

        if self._spare_view is None:
            QTimer.singleShot(SPARE_VIEW_DELAY_MS, self, self.prepare_spare_view)

    def prepare_spare_view(self) -> None:
        """An empty document tab, built and styled ahead: opening a document then only
        fills it in (building one takes several frames' worth of time)."""
        from aspire_desktop.ui.viewer import DocumentView

        if self._spare_view is not None or not self.isVisible():
            return
        from PySide6.QtWidgets import QStackedWidget

        # Made inside the tab widget's own page stack: a tab moved in from elsewhere is
        # styled all over again (about 3 ms).
        stack = self.tabs.findChild(QStackedWidget, "qt_tabwidget_stackedwidget")
        view = DocumentView(self.ctx, stack or self)
        view.hide()
        view.resize(self.tabs.currentWidget().size())
        view.lay_out_ahead()
        self._spare_view = view

    def close_tab(self, index: int) -> None:
        view = self.tabs.widget(index)
        if index <= 0 or view is self.search_panel:
            return
        self.tabs.removeTab(index)
        if hasattr(view, "close_document"):
            view.close_document()
        view.deleteLater()

    def close_current_tab(self) -> None:
        self.close_tab(self.tabs.currentIndex())

    def _step_tab(self, step: int) -> None:
        self.tabs.setCurrentIndex((self.tabs.currentIndex() + step) % self.tabs.count())

    def toggle_full_screen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()
        self.fullscreen_action.setChecked(self.isFullScreen())

    # Notices, About --------------------------------------------------------------------
    def add_notice(self, error: UserError) -> NoticeBar:
        return self.library.add_notice(error)

    def show_about(self) -> None:
        from aspire_desktop.ui.about import AboutDialog

        AboutDialog(self.ctx, self).open()

    def show_diagnostics(self) -> Any:
        from aspire_desktop.ui.diagnostics import DiagnosticsDialog

        dialog = DiagnosticsDialog(self.ctx, self)
        dialog.open()
        return dialog

    # State -----------------------------------------------------------------------------
    def _restore_geometry(self) -> None:
        geometry = self._state.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)

    def save_state(self) -> None:
        self._state.setValue("window/geometry", self.saveGeometry())
        if self.built:
            self._state.setValue("window/state", self.saveState())
            self._state.setValue("window/splitter", self.splitter.saveState())
            self._state.setValue("library/category", self.resources.category_id or "")
        self._state.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        if self.built and self.search_panel is not None:
            self.search_panel.stop_indexing()
        super().closeEvent(event)
