"""Opening, migrating and using the user database."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aspire_desktop.core.errors import DatabaseDamagedError, UserError
from aspire_desktop.core.userdata.bookmarks import (
    KINDS,
    BookmarkData,
    ImportResult,
    Quote,
    RecentDocument,
)
from aspire_desktop.core.userdata.playlists import PlaylistData

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def check_file(path: Path) -> list[str]:
    """Problems SQLite finds in the file (an empty list: healthy or absent)."""
    if not path.exists():
        return []
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = [str(r[0]) for r in db.execute("PRAGMA quick_check").fetchall()]
            db.execute("SELECT name FROM sqlite_master").fetchall()
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    return [] if rows == ["ok"] else rows


def move_aside(path: Path) -> Path:
    """Keep a damaged database (never delete it): rename it and its journals."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.stem}.damaged-{stamp}{path.suffix}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.stem}.damaged-{stamp}-{n}{path.suffix}")
    path.replace(target)
    for suffix in ("-wal", "-shm", "-journal"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.replace(target.with_name(target.name + suffix))
    return target


def schema_revision(path: Path) -> str | None:
    """The alembic revision a user database is at (None: new, or made before alembic)."""
    if not path.exists():
        return None
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        db.close()
    return None if row is None else str(row[0])


def backup(path: Path, label: str) -> Path:
    """A consistent copy of the database beside it (SQLite's online backup)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.stem}.backup-{label}-{stamp}{path.suffix}")
    source = sqlite3.connect(path)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    return target


def migrate(path: Path) -> Path | None:
    """Bring the database at ``path`` to the newest schema (creating it if needed).

    An existing database is backed up before any migration runs; the backup's path is
    returned (None when nothing needed migrating)."""
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", f"sqlite:///{path}")
    head = ScriptDirectory.from_config(cfg).get_current_head()
    kept = None
    current = schema_revision(path)
    if path.exists() and path.stat().st_size > 0 and current != head:
        kept = backup(path, f"r{current or 'none'}")
        log.info("user database at revision %s backed up to %s before migrating", current, kept)
    command.upgrade(cfg, "head")
    return kept


class UserData:
    """The user database. Every write is one transaction, flushed with synchronous=FULL."""

    def __init__(self, path: Path) -> None:
        from sqlalchemy import create_engine, event
        from sqlalchemy.orm import sessionmaker

        self.path = path
        self.engine = create_engine(f"sqlite:///{path}")

        @event.listens_for(self.engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def open(cls, path: Path) -> tuple[UserData, UserError | None]:
        """Open (creating or migrating) the user database.

        A damaged file is moved aside, kept for IT to look at, and a new one is started;
        the returned notice says so in plain words.
        """
        notice: UserError | None = None
        path.parent.mkdir(parents=True, exist_ok=True)
        problems = check_file(path)
        if problems:
            kept = move_aside(path)
            log.error("user database damaged (%s); moved to %s", "; ".join(problems), kept)
            notice = DatabaseDamagedError(
                "Your personal data file (bookmarks, notes, reading positions) was damaged. "
                f"It has been set aside as {kept.name} and a new one started.",
                f"Nothing has been deleted: your IT team can look at {kept}.",
            )
        migrate(path)
        return cls(path), notice

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _session(self) -> Iterator[Any]:
        with self._sessions() as session, session.begin():
            yield session

    # Settings ----------------------------------------------------------------------
    def setting(self, key: str, default: Any = None) -> Any:
        from aspire_desktop.core.userdata.models import Setting

        with self._session() as s:
            row = s.get(Setting, key)
            return default if row is None else json.loads(row.value)

    def set_setting(self, key: str, value: Any) -> None:
        from aspire_desktop.core.userdata.models import Setting

        with self._session() as s:
            s.merge(Setting(key=key, value=json.dumps(value)))

    # Download requests ('get it at next sync') -------------------------------------
    def request_download(self, resource_id: str) -> None:
        from aspire_desktop.core.userdata.models import DownloadRequest

        with self._session() as s:
            if s.get(DownloadRequest, resource_id) is None:
                s.add(DownloadRequest(resource_id=resource_id, requested_at=_now()))

    def _delete(self, model: Any, key: Any) -> None:
        with self._session() as s:
            row = s.get(model, key)
            if row is not None:
                s.delete(row)

    def cancel_download(self, resource_id: str) -> None:
        from aspire_desktop.core.userdata.models import DownloadRequest

        self._delete(DownloadRequest, resource_id)

    def download_requests(self) -> set[str]:
        from sqlalchemy import select

        from aspire_desktop.core.userdata.models import DownloadRequest

        with self._session() as s:
            return set(s.scalars(select(DownloadRequest.resource_id)))

    # Reading positions ---------------------------------------------------------------
    def save_position(
        self, document_key: str, page: int, page_count: int | None, zoom: float | None = None
    ) -> None:
        from aspire_desktop.core.userdata.models import ReadingPosition

        with self._session() as s:
            s.merge(
                ReadingPosition(
                    document_key=document_key,
                    page=page,
                    page_count=page_count,
                    zoom=zoom,
                    updated_at=_now(),
                )
            )

    def position(self, document_key: str) -> tuple[int, float | None] | None:
        from aspire_desktop.core.userdata.models import ReadingPosition

        with self._session() as s:
            row = s.get(ReadingPosition, document_key)
            return None if row is None else (row.page, row.zoom)

    def positions(self) -> dict[str, tuple[int, float | None]]:
        """Every saved reading position (a few hundred rows at the most)."""
        from sqlalchemy import select

        from aspire_desktop.core.userdata.models import ReadingPosition

        with self._session() as s:
            rows = s.execute(
                select(ReadingPosition.document_key, ReadingPosition.page, ReadingPosition.zoom)
            )
            return {key: (page, zoom) for key, page, zoom in rows}

    def progress(self, document_key: str) -> RecentDocument | None:
        """How far the user read a document (None: never opened)."""
        from aspire_desktop.core.userdata.models import ReadingPosition

        with self._session() as s:
            r = s.get(ReadingPosition, document_key)
            return (
                None
                if r is None
                else RecentDocument(r.document_key, r.page, r.page_count, r.updated_at)
            )

    def recent(self, limit: int = 20) -> list[RecentDocument]:
        """Documents opened lately, newest first, with how far the user read."""
        from sqlalchemy import select

        from aspire_desktop.core.userdata.models import ReadingPosition

        with self._session() as s:
            rows = s.scalars(
                select(ReadingPosition).order_by(ReadingPosition.updated_at.desc()).limit(limit)
            )
            return [
                RecentDocument(r.document_key, r.page, r.page_count, r.updated_at) for r in rows
            ]

    # Bookmarks ---------------------------------------------------------------------
    def bookmarks(self) -> list[BookmarkData]:
        """Every bookmark, newest first."""
        from sqlalchemy import select

        from aspire_desktop.core.userdata.models import Bookmark

        with self._session() as s:
            rows = s.scalars(
                select(Bookmark).order_by(Bookmark.created_at.desc(), Bookmark.id.desc())
            )
            return [_to_data(r) for r in rows]

    def add_bookmark(self, data: BookmarkData) -> BookmarkData:
        """Save a bookmark (or put a deleted one back: it keeps its uid and times)."""

        if data.kind not in KINDS:
            raise ValueError(f"unknown bookmark kind {data.kind!r}")
        with self._session() as s:
            row = _to_row(data, _now())
            s.add(row)
            s.flush()
            return _to_data(row)

    def update_bookmark(self, bookmark_id: int, note: str, label: str) -> BookmarkData:
        from aspire_desktop.core.userdata.models import Bookmark

        with self._session() as s:
            row = s.get(Bookmark, bookmark_id)
            if row is None:
                raise KeyError(bookmark_id)
            row.note, row.label, row.updated_at = note, label.strip(), _now()
            s.flush()
            return _to_data(row)

    def delete_bookmark(self, bookmark_id: int) -> BookmarkData | None:
        """Delete a bookmark; returns it as it was, so it can be put back (undo)."""
        from aspire_desktop.core.userdata.models import Bookmark

        with self._session() as s:
            row = s.get(Bookmark, bookmark_id)
            if row is None:
                return None
            data = _to_data(row)
            s.delete(row)
            return data

    def merge_bookmarks(self, incoming: list[BookmarkData]) -> ImportResult:
        """Add bookmarks not already here (by uid, or the same place and words), all in
        one transaction."""
        from sqlalchemy import select

        from aspire_desktop.core.userdata.models import Bookmark

        added = skipped = 0
        with self._session() as s:
            existing = [_to_data(r) for r in s.scalars(select(Bookmark))]
            uids = {b.uid for b in existing}
            for b in incoming:
                if b.uid in uids or any(b.same_place(e) for e in existing):
                    skipped += 1
                    continue
                s.add(_to_row(b, _now()))
                uids.add(b.uid)
                existing.append(b)
                added += 1
        return ImportResult(added, skipped)

    def delete_bookmark_uid(self, uid: str) -> BookmarkData | None:
        from sqlalchemy import select

        from aspire_desktop.core.userdata.models import Bookmark

        with self._session() as s:
            row = s.scalars(select(Bookmark).where(Bookmark.uid == uid)).first()
        return None if row is None else self.delete_bookmark(row.id)

    # Page notes (presenter console) ----------------------------------------------------
    def page_note(self, document_key: str, page: int) -> str:
        from aspire_desktop.core.userdata.models import PageNote

        with self._session() as s:
            row = s.get(PageNote, (document_key, page))
            return "" if row is None else row.text

    def set_page_note(self, document_key: str, page: int, text: str) -> None:
        from aspire_desktop.core.userdata.models import PageNote

        with self._session() as s:
            row = s.get(PageNote, (document_key, page))
            if not text.strip():
                if row is not None:
                    s.delete(row)
                return
            s.merge(PageNote(document_key=document_key, page=page, text=text, updated_at=_now()))

    def page_notes(self) -> list[tuple[str, int, str, datetime]]:
        from sqlalchemy import select

        from aspire_desktop.core.userdata.models import PageNote

        with self._session() as s:
            rows = s.scalars(select(PageNote).order_by(PageNote.document_key, PageNote.page))
            return [(r.document_key, r.page, r.text, r.updated_at) for r in rows]

    def merge_page_notes(self, notes: list[tuple[str, int, str, datetime | None]]) -> int:
        """Add imported notes; where both have a note for a page, the newer one stays."""
        from aspire_desktop.core.userdata.models import PageNote

        changed = 0
        with self._session() as s:
            for key, page, text, updated in notes:
                row = s.get(PageNote, (key, page))
                when = updated or _now()
                if row is None:
                    s.add(PageNote(document_key=key, page=page, text=text, updated_at=when))
                    changed += 1
                elif row.text != text and when > row.updated_at:
                    row.text, row.updated_at = text, when
                    changed += 1
        return changed

    # Playlists -------------------------------------------------------------------------
    def playlists(self) -> list[PlaylistData]:
        from sqlalchemy import select

        from aspire_desktop.core.userdata.models import Playlist

        with self._session() as s:
            rows = s.scalars(select(Playlist).order_by(Playlist.name))
            return [PlaylistData.from_json(r.name, r.items) for r in rows]

    def save_playlist(self, playlist: PlaylistData) -> None:
        from aspire_desktop.core.userdata.models import Playlist

        with self._session() as s:
            s.merge(Playlist(name=playlist.name, items=playlist.items_json(), updated_at=_now()))

    def delete_playlist(self, name: str) -> None:
        from aspire_desktop.core.userdata.models import Playlist

        self._delete(Playlist, name)

    def labels(self) -> list[str]:
        from sqlalchemy import select

        from aspire_desktop.core.userdata.models import Bookmark

        with self._session() as s:
            found = s.scalars(select(Bookmark.label).where(Bookmark.label != "").distinct())
            return sorted(found, key=str.casefold)


def _to_data(row: Any) -> BookmarkData:
    return BookmarkData(
        id=row.id,
        uid=row.uid,
        resource_id=row.resource_id,
        kind=row.kind,
        page=row.page,
        page_count=row.page_count,
        document_sha256=row.document_sha256,
        document_title=row.document_title,
        quote=Quote(row.quote_exact, row.quote_prefix, row.quote_suffix),
        note=row.note,
        label=row.label,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _to_row(data: BookmarkData, now: datetime) -> Any:
    from aspire_desktop.core.userdata.models import Bookmark

    return Bookmark(
        uid=data.uid,
        resource_id=data.resource_id,
        kind=data.kind,
        page=data.page,
        page_count=data.page_count,
        document_sha256=data.document_sha256,
        document_title=data.document_title,
        quote_exact=data.quote.exact,
        quote_prefix=data.quote.prefix,
        quote_suffix=data.quote.suffix,
        note=data.note,
        label=data.label.strip(),
        created_at=data.created_at or now,
        updated_at=data.updated_at or now,
    )
