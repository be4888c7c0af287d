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


def migrate(path: Path) -> None:
    """Bring the database at ``path`` to the newest schema (creating it if needed)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", f"sqlite:///{path}")
    command.upgrade(cfg, "head")


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

    def cancel_download(self, resource_id: str) -> None:
        from aspire_desktop.core.userdata.models import DownloadRequest

        with self._session() as s:
            row = s.get(DownloadRequest, resource_id)
            if row is not None:
                s.delete(row)

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
