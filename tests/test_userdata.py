"""The user database: creation, migrations, round trips, and damaged files set aside."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from aspire_desktop.core.errors import DatabaseDamagedError
from aspire_desktop.core.userdata.store import MIGRATIONS, UserData, check_file, migrate


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the user database goes; its folder does not exist yet."""
    return tmp_path / "data" / "userdata.sqlite"


@pytest.fixture
def opened() -> Iterator[list[UserData]]:
    """Collects every UserData a test opens and closes it afterwards."""
    items: list[UserData] = []
    yield items
    for item in items:
        item.close()


def _open(path: Path, opened: list[UserData]) -> tuple[UserData, DatabaseDamagedError | None]:
    data, notice = UserData.open(path)
    opened.append(data)
    assert notice is None or isinstance(notice, DatabaseDamagedError)
    return data, notice


def _head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def _query(path: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as con:
        return con.execute(sql).fetchall()


def test_open_creates_and_migrates(db_path: Path, opened: list[UserData]) -> None:
    assert not db_path.parent.exists()
    data, notice = _open(db_path, opened)
    assert notice is None
    assert db_path.is_file()
    assert _query(db_path, "SELECT version_num FROM alembic_version") == [(_head(),)]
    tables = {r[0] for r in _query(db_path, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"settings", "reading_positions", "download_requests", "bookmarks"} <= tables
    assert check_file(db_path) == []
    assert data.path == db_path


def test_open_twice_migrates_once(db_path: Path, opened: list[UserData]) -> None:
    data, _ = _open(db_path, opened)
    data.set_setting("kept", True)
    data.close()
    again, notice = _open(db_path, opened)
    assert notice is None
    assert again.setting("kept") is True
    assert _query(db_path, "SELECT version_num FROM alembic_version") == [(_head(),)]


def test_journal_mode_is_wal(db_path: Path, opened: list[UserData]) -> None:
    data, _ = _open(db_path, opened)
    data.set_setting("x", 1)
    with data.engine.connect() as con:
        assert con.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert con.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert con.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


@pytest.mark.parametrize(
    "value",
    [None, True, 0, 3.5, "text", 'Straße 🙂 "quoted"', [1, "two", None], {"a": {"b": [1, 2]}}],
)
def test_settings_round_trip(db_path: Path, opened: list[UserData], value: object) -> None:
    data, _ = _open(db_path, opened)
    data.set_setting("key", value)
    assert data.setting("key", "default") == value
    data.close()
    again, _ = _open(db_path, opened)
    assert again.setting("key", "default") == value


def test_settings_defaults_and_overwrite(db_path: Path, opened: list[UserData]) -> None:
    data, _ = _open(db_path, opened)
    assert data.setting("missing") is None
    assert data.setting("missing", 42) == 42
    data.set_setting("theme", "light")
    data.set_setting("theme", "dark")
    assert data.setting("theme") == "dark"
    assert _query(db_path, "SELECT key, value FROM settings") == [("theme", '"dark"')]


def test_download_requests_round_trip(db_path: Path, opened: list[UserData]) -> None:
    data, _ = _open(db_path, opened)
    assert data.download_requests() == set()
    data.request_download("r1")
    data.request_download("r2")
    data.request_download("r1")  # twice is once
    data.cancel_download("r2")
    data.cancel_download("never-requested")  # harmless
    assert data.download_requests() == {"r1"}
    data.close()
    again, _ = _open(db_path, opened)
    assert again.download_requests() == {"r1"}
    rows = _query(db_path, "SELECT resource_id, requested_at FROM download_requests")
    assert [r[0] for r in rows] == ["r1"] and rows[0][1]


def test_reading_positions_round_trip(db_path: Path, opened: list[UserData]) -> None:
    data, _ = _open(db_path, opened)
    assert data.position("doc") is None
    data.save_position("doc", 3, 10, 1.5)
    data.save_position("other", 0, None)
    assert data.position("doc") == (3, 1.5)
    data.save_position("doc", 7, 10)  # moving on; zoom forgotten when not given
    assert data.position("doc") == (7, None)
    data.close()
    again, _ = _open(db_path, opened)
    assert again.position("doc") == (7, None)
    assert again.position("other") == (0, None)
    assert _query(db_path, "SELECT page_count FROM reading_positions WHERE document_key='doc'") == [
        (10,)
    ]
    assert again.positions() == {"doc": (7, None), "other": (0, None)}


def test_the_windows_copy_of_the_positions_keeps_what_was_saved_meanwhile(tmp_path) -> None:
    from aspire_desktop.core import paths
    from aspire_desktop.core.store.content import ContentStore
    from aspire_desktop.ui.context import AppContext

    resolved = paths.resolve(str(tmp_path / "home"))
    store = ContentStore(resolved.content_dir, paths.baseline_dir())
    ctx = AppContext(resolved, store, store.open_current())
    try:
        assert ctx.known_position("a") == (False, None)
        ctx.note_position("a", 4, -1.0)  # saved before the positions were read
        ctx.positions_read({"a": (1, None), "b": (2, 1.5)})
        assert ctx.known_position("a") == (True, (4, -1.0))
        assert ctx.known_position("b") == (True, (2, 1.5))
        assert ctx.known_position("c") == (True, None)
        ctx.note_position("c", 9, None)
        assert ctx.known_position("c") == (True, (9, None))
    finally:
        ctx.shutdown()


def test_migrations_match_the_models(db_path: Path) -> None:
    """The alembic history produces exactly the schema the models describe."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from aspire_desktop.core.userdata.models import Base

    db_path.parent.mkdir(parents=True)
    migrate(db_path)
    engine = create_engine(f"sqlite:///{db_path}")
    try:
        with engine.connect() as con:
            ctx = MigrationContext.configure(con, opts={"compare_type": True})
            diff = compare_metadata(ctx, Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_compare_metadata_would_see_a_difference(tmp_path: Path) -> None:
    """The check above is not vacuous: a missing table and column are reported."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from aspire_desktop.core.userdata.models import Base

    path = tmp_path / "partial.sqlite"
    migrate(path)
    with closing(sqlite3.connect(path)) as con:
        con.execute("DROP TABLE bookmarks")
        con.execute("ALTER TABLE settings ADD COLUMN extra TEXT")
        con.commit()
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as con:
            diff = compare_metadata(MigrationContext.configure(con), Base.metadata)
    finally:
        engine.dispose()
    kinds = {d[0] if isinstance(d, tuple) else d[0][0] for d in diff}
    assert {"add_table", "remove_column"} <= kinds


def test_downgrade_and_upgrade_again(db_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    db_path.parent.mkdir(parents=True)
    migrate(db_path)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", f"sqlite:///{db_path}")
    command.downgrade(cfg, "base")
    tables = {r[0] for r in _query(db_path, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"alembic_version"}
    migrate(db_path)
    assert _query(db_path, "SELECT version_num FROM alembic_version") == [(_head(),)]


# --- Damaged files ------------------------------------------------------------------


def _multi_page_db(path: Path) -> int:
    """A healthy user database spanning many pages; returns its page size."""
    from sqlalchemy import insert

    from aspire_desktop.core.userdata.models import Setting

    data, notice = UserData.open(path)
    try:
        assert notice is None
        with data.engine.begin() as con:  # one transaction: fast
            con.execute(
                insert(Setting),
                [{"key": f"key-{i:04d}", "value": '"' + "x" * 600 + '"'} for i in range(300)],
            )
        assert data.setting("key-0001") == "x" * 600
    finally:
        data.close()
    assert check_file(path) == []
    page_size = int(str(_query(path, "PRAGMA page_size")[0][0]))
    assert path.stat().st_size // page_size >= 20
    return page_size


def _kept(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith("userdata.damaged-"))


def _assert_set_aside(
    db_path: Path, original: bytes, data: UserData, notice: DatabaseDamagedError | None
) -> Path:
    kept = [p for p in _kept(db_path.parent) if p.suffix == ".sqlite"]
    assert len(kept) == 1
    assert kept[0].name.startswith("userdata.damaged-") and kept[0].name.endswith(".sqlite")
    assert kept[0].read_bytes() == original  # byte for byte
    assert isinstance(notice, DatabaseDamagedError)
    assert kept[0].name in notice.message
    assert str(kept[0]) in notice.what_to_do
    assert "Nothing has been deleted" in notice.what_to_do
    # A new, working database was started in its place.
    assert check_file(db_path) == []
    assert data.setting("anything") is None
    data.set_setting("fresh", 1)
    assert data.setting("fresh") == 1
    assert _query(db_path, "SELECT version_num FROM alembic_version") == [(_head(),)]
    return kept[0]


@pytest.mark.parametrize(
    "garbage",
    [b"this is not a database at all\n" * 200, b"\x00" * 4096 + b"\xff" * 100, b"SQLite format 3"],
)
def test_garbage_file_is_set_aside(
    db_path: Path, opened: list[UserData], garbage: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(garbage)
    assert check_file(db_path)
    data, notice = _open(db_path, opened)
    _assert_set_aside(db_path, garbage, data, notice)
    assert "user database damaged" in caplog.text


def test_corrupted_page_is_set_aside(db_path: Path, opened: list[UserData]) -> None:
    page_size = _multi_page_db(db_path)
    data = bytearray(db_path.read_bytes())
    middle = (len(data) // page_size // 2) * page_size
    data[middle : middle + page_size] = b"\xab" * page_size
    db_path.write_bytes(bytes(data))
    damaged = bytes(data)
    problems = check_file(db_path)
    assert problems, "the damage should be visible to SQLite"
    userdata, notice = _open(db_path, opened)
    _assert_set_aside(db_path, damaged, userdata, notice)
    assert userdata.setting("key-0001") is None  # the old rows are in the kept file only


def test_truncated_db_is_set_aside(db_path: Path, opened: list[UserData]) -> None:
    _multi_page_db(db_path)
    half = db_path.read_bytes()[: db_path.stat().st_size // 2]
    db_path.write_bytes(half)
    data, notice = _open(db_path, opened)
    _assert_set_aside(db_path, half, data, notice)


def test_side_files_move_with_it(db_path: Path, opened: list[UserData]) -> None:
    db_path.parent.mkdir(parents=True)
    original = b"garbage main file " * 100
    db_path.write_bytes(original)
    sides = {
        "-wal": b"wal bytes " * 50,
        "-shm": b"shm bytes " * 50,
        "-journal": b"journal bytes " * 50,
    }
    for suffix, content in sides.items():
        db_path.with_name(db_path.name + suffix).write_bytes(content)
    data, notice = _open(db_path, opened)
    kept = _assert_set_aside(db_path, original, data, notice)
    for suffix, content in sides.items():
        moved = kept.with_name(kept.name + suffix)
        assert moved.read_bytes() == content, suffix
    # Whatever side files exist now belong to the new database, not the old ones.
    for suffix, content in sides.items():
        current = db_path.with_name(db_path.name + suffix)
        assert not current.exists() or current.read_bytes() != content


def test_second_damage_gets_its_own_name(db_path: Path, opened: list[UserData]) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"first garbage" * 100)
    first, notice1 = _open(db_path, opened)
    first.close()
    db_path.write_bytes(b"second garbage" * 100)
    # Same second, most likely: the second file must not replace the first.
    second, notice2 = _open(db_path, opened)
    assert notice1 is not None and notice2 is not None
    kept = [p for p in _kept(db_path.parent) if p.suffix == ".sqlite"]
    assert sorted(p.read_bytes() for p in kept) == [b"first garbage" * 100, b"second garbage" * 100]
    assert notice1.message != notice2.message
    assert second.setting("x") is None


def test_check_file(tmp_path: Path) -> None:
    assert check_file(tmp_path / "absent.sqlite") == []
    good = tmp_path / "good.sqlite"
    migrate(good)
    assert check_file(good) == []
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"x" * 1000)
    assert check_file(bad) == ["file is not a database"]
    # An empty file is an empty database to SQLite: not damage.
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    assert check_file(empty) == []
