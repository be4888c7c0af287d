"""ContentStore: the baseline, per-user versions, the pointer, and falling back."""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from aspire_desktop.core.errors import ContentMissingError, DatabaseDamagedError
from aspire_desktop.core.store import layout
from aspire_desktop.core.store.content import (
    POINTER,
    VERSIONS,
    ContentStore,
    OpenedContent,
    verify_version,
)

GUIDE = "aspire-desktop-user-guide"


@pytest.fixture
def opened_list() -> Iterator[list[OpenedContent]]:
    """Collects everything a test opens and closes it afterwards."""
    items: list[OpenedContent] = []
    yield items
    for item in items:
        item.reader.close()


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    return tmp_path / "data" / "content"


def _copy(src: Path, dst: Path) -> Path:
    return Path(shutil.copytree(src, dst))


def _user_version(shipped: Path, content_dir: Path, name: str = "v2", version: int = 2) -> Path:
    """A per-user version (a copy of the shipped one, renumbered) and the pointer to it."""
    folder = _copy(shipped, content_dir / VERSIONS / name)
    layout.write_version_info(folder, version, "2026-12-01", "synced")
    _point(content_dir, name)
    return folder


def _point(content_dir: Path, name: object) -> None:
    content_dir.mkdir(parents=True, exist_ok=True)
    (content_dir / POINTER).write_text(json.dumps({"version_dir": name}), encoding="utf-8")


def _open(store: ContentStore, opened: list[OpenedContent]) -> OpenedContent:
    result = store.open_current()
    opened.append(result)
    return result


def test_baseline_only(
    shipped_content: Path, content_dir: Path, opened_list: list[OpenedContent]
) -> None:
    store = ContentStore(content_dir, shipped_content)
    assert store.pointed_version() is None
    opened = _open(store, opened_list)
    assert opened.is_baseline is True
    assert opened.notice is None
    assert opened.info.path == shipped_content
    assert opened.info.version == 1
    assert opened.reader.resource_count() == 10
    assert not content_dir.exists()  # opening never writes


def test_per_user_version_named_by_the_pointer(
    shipped_content: Path, content_dir: Path, opened_list: list[OpenedContent]
) -> None:
    folder = _user_version(shipped_content, content_dir)
    store = ContentStore(content_dir, shipped_content)
    assert store.pointer_path == content_dir / POINTER
    assert store.pointed_version() == folder
    opened = _open(store, opened_list)
    assert opened.is_baseline is False
    assert opened.notice is None
    assert opened.info.path == folder
    assert (opened.info.version, opened.info.label) == (2, "synced")
    assert opened.reader.path == folder / layout.CATALOGUE


def test_pointer_to_a_missing_folder_falls_back_with_notice(
    shipped_content: Path, content_dir: Path, opened_list: list[OpenedContent]
) -> None:
    _point(content_dir, "v-gone")
    store = ContentStore(content_dir, shipped_content)
    assert store.pointed_version() == content_dir / VERSIONS / "v-gone"
    opened = _open(store, opened_list)
    assert opened.is_baseline is True
    assert isinstance(opened.notice, DatabaseDamagedError)
    assert "installed with" in opened.notice.message
    assert "Sync again" in opened.notice.what_to_do


@pytest.mark.parametrize(
    "pointer",
    [
        b"",
        b"{not json",
        b"\xff\xfe\x00garbage",
        b"[]",
        b'"v2"',
        b"null",
        b'{"version_dir": 5}',
        b'{"version_dir": null}',
        b'{"other": "v2"}',
    ],
)
def test_garbage_pointer_means_baseline(
    shipped_content: Path,
    content_dir: Path,
    opened_list: list[OpenedContent],
    pointer: bytes,
) -> None:
    _user_version(shipped_content, content_dir)  # exists, but the pointer cannot name it
    (content_dir / POINTER).write_bytes(pointer)
    store = ContentStore(content_dir, shipped_content)
    assert store.pointed_version() is None
    opened = _open(store, opened_list)
    assert opened.is_baseline is True
    assert opened.notice is None  # a pointer that names nothing: quietly the baseline


def test_unreadable_pointer_is_logged(
    shipped_content: Path, content_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    content_dir.mkdir(parents=True)
    (content_dir / POINTER).write_bytes(b"{not json")
    with caplog.at_level(logging.WARNING):
        assert ContentStore(content_dir, shipped_content).pointed_version() is None
    assert "content pointer unreadable" in caplog.text


@pytest.mark.parametrize(
    "name", ["../v2", "..", "../../etc", "/tmp/v2", "v2/../../x", "..\\v2", ".hidden", ""]
)
def test_pointer_escaping_the_versions_folder_is_refused(
    shipped_content: Path,
    content_dir: Path,
    tmp_path: Path,
    opened_list: list[OpenedContent],
    name: str,
) -> None:
    # A real content folder where "../v2" would lead, so following it would "work".
    _copy(shipped_content, content_dir / "v2")
    _copy(shipped_content, content_dir / VERSIONS / ".hidden")
    _point(content_dir, name)
    store = ContentStore(content_dir, shipped_content)
    assert store.pointed_version() is None
    opened = _open(store, opened_list)
    assert opened.is_baseline is True
    assert opened.info.path == shipped_content


@pytest.mark.parametrize("damage", ["garbage", "half", "empty", "missing"])
def test_damaged_per_user_catalogue_falls_back(
    shipped_content: Path, content_dir: Path, opened_list: list[OpenedContent], damage: str
) -> None:
    folder = _user_version(shipped_content, content_dir)
    catalogue = folder / layout.CATALOGUE
    if damage == "garbage":
        catalogue.write_bytes(b"this is not a database " * 500)
    elif damage == "half":
        data = catalogue.read_bytes()
        catalogue.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        catalogue.write_bytes(b"")
    else:
        catalogue.unlink()
    opened = _open(ContentStore(content_dir, shipped_content), opened_list)
    assert opened.is_baseline is True
    assert opened.info.path == shipped_content
    assert isinstance(opened.notice, DatabaseDamagedError)
    assert "damaged" in opened.notice.message
    assert "bookmarks and notes are not affected" in opened.notice.what_to_do
    assert opened.reader.resource_count() == 10  # the baseline works


@pytest.mark.parametrize("manifest", [b"", b"{}", b'{"format": 99, "version": 2}', b"[1]"])
def test_bad_per_user_manifest_falls_back(
    shipped_content: Path,
    content_dir: Path,
    opened_list: list[OpenedContent],
    manifest: bytes,
) -> None:
    folder = _user_version(shipped_content, content_dir)
    (folder / layout.MANIFEST).write_bytes(manifest)
    opened = _open(ContentStore(content_dir, shipped_content), opened_list)
    assert opened.is_baseline is True
    assert isinstance(opened.notice, DatabaseDamagedError)


def test_no_baseline_is_content_missing(content_dir: Path) -> None:
    with pytest.raises(ContentMissingError) as info:
        ContentStore(content_dir, None).open_current()
    assert info.value.exit_code == 4
    assert "ASPIRE_DESKTOP_BASELINE" in info.value.what_to_do


def test_damaged_user_version_and_no_baseline(shipped_content: Path, content_dir: Path) -> None:
    folder = _user_version(shipped_content, content_dir)
    (folder / layout.CATALOGUE).write_bytes(b"garbage")
    with pytest.raises(ContentMissingError):
        ContentStore(content_dir, None).open_current()


@pytest.mark.parametrize("damage", ["catalogue", "half", "manifest", "no-catalogue", "no-folder"])
def test_damaged_baseline_is_content_missing(
    shipped_content: Path, content_dir: Path, tmp_path: Path, damage: str
) -> None:
    base = _copy(shipped_content, tmp_path / "baseline")
    if damage == "catalogue":
        (base / layout.CATALOGUE).write_bytes(b"\x00garbage" * 100)
    elif damage == "half":
        data = (base / layout.CATALOGUE).read_bytes()
        (base / layout.CATALOGUE).write_bytes(data[: len(data) // 2])
    elif damage == "manifest":
        (base / layout.MANIFEST).write_text("{broken", encoding="utf-8")
    elif damage == "no-catalogue":
        (base / layout.CATALOGUE).unlink()
    else:
        shutil.rmtree(base)
    with pytest.raises(ContentMissingError) as info:
        ContentStore(content_dir, base).open_current()
    assert "cannot be read" in info.value.message
    assert "Reinstall" in info.value.what_to_do
    assert (shipped_content / layout.CATALOGUE).is_file()  # the shared copy is untouched


def test_fall_back_later(
    shipped_content: Path, content_dir: Path, opened_list: list[OpenedContent]
) -> None:
    _user_version(shipped_content, content_dir)
    store = ContentStore(content_dir, shipped_content)
    current = store.open_current()  # closed by fall_back
    assert current.is_baseline is False
    back = store.fall_back(current)
    opened_list.append(back)
    assert back.is_baseline is True
    assert isinstance(back.notice, DatabaseDamagedError)
    # Using the closed reader is a programming error, not "damaged content".
    with pytest.raises(sqlite3.ProgrammingError, match="closed database"):
        current.reader.resource_count()
    with pytest.raises(ContentMissingError):
        ContentStore(content_dir, None).fall_back(_open(store, []))


def _guide_file(opened: OpenedContent) -> tuple[str, str]:
    detail = opened.reader.detail(GUIDE)
    assert detail is not None and detail.main_file is not None
    assert detail.main_file.sha256 is not None
    return detail.main_file.sha256, detail.main_file.media_type


def test_file_path_prefers_the_current_version(
    shipped_content: Path, content_dir: Path, opened_list: list[OpenedContent]
) -> None:
    folder = _user_version(shipped_content, content_dir)
    store = ContentStore(content_dir, shipped_content)
    opened = _open(store, opened_list)
    sha, media = _guide_file(opened)
    name = layout.file_name(sha, media)
    assert store.file_path(opened, sha, media) == folder / layout.FILES / name
    # Not in the per-user version (sync may keep only new files there): the baseline's.
    (folder / layout.FILES / name).unlink()
    assert store.file_path(opened, sha, media) == shipped_content / layout.FILES / name
    assert store.file_path(opened, "0" * 64, media) is None
    # No baseline to fall back on.
    assert ContentStore(content_dir, None).file_path(opened, sha, media) is None


def test_file_path_in_the_baseline(
    shipped_content: Path, content_dir: Path, opened_list: list[OpenedContent]
) -> None:
    store = ContentStore(content_dir, shipped_content)
    opened = _open(store, opened_list)
    sha, media = _guide_file(opened)
    path = store.file_path(opened, sha, media)
    assert path == shipped_content / layout.FILES / layout.file_name(sha, media)
    assert store.file_path(opened, sha, "image/png") is None  # another extension


def test_verify_intact(
    shipped_content: Path, content_dir: Path, opened_list: list[OpenedContent]
) -> None:
    store = ContentStore(content_dir, shipped_content)
    assert verify_version(_open(store, opened_list), store) == []


@pytest.fixture
def damaged_copy(
    shipped_content: Path, content_dir: Path, tmp_path: Path, opened_list: list[OpenedContent]
) -> tuple[ContentStore, OpenedContent, Path]:
    base = _copy(shipped_content, tmp_path / "baseline")
    store = ContentStore(content_dir, base)
    opened = _open(store, opened_list)
    sha, media = _guide_file(opened)
    return store, opened, base / layout.FILES / layout.file_name(sha, media)


def test_verify_reports_a_tampered_file(
    damaged_copy: tuple[ContentStore, OpenedContent, Path],
) -> None:
    store, opened, pdf = damaged_copy
    data = bytearray(pdf.read_bytes())
    data[len(data) // 2] ^= 0x01
    pdf.write_bytes(bytes(data))
    assert verify_version(opened, store) == [
        f"{GUIDE}: aspire-desktop-user-guide.pdf does not match its checksum"
    ]


def test_verify_reports_a_missing_file(
    damaged_copy: tuple[ContentStore, OpenedContent, Path],
) -> None:
    store, opened, pdf = damaged_copy
    pdf.unlink()
    assert verify_version(opened, store) == [f"{GUIDE}: aspire-desktop-user-guide.pdf is missing"]


def test_verify_reports_a_wrong_size(
    damaged_copy: tuple[ContentStore, OpenedContent, Path],
) -> None:
    store, opened, pdf = damaged_copy
    with pdf.open("ab") as fh:
        fh.write(b"\n%extra")
    assert verify_version(opened, store) == [
        f"{GUIDE}: aspire-desktop-user-guide.pdf has the wrong size"
    ]


def test_verify_reports_a_damaged_catalogue(
    shipped_content: Path, content_dir: Path, tmp_path: Path, opened_list: list[OpenedContent]
) -> None:
    """A catalogue that opens but has a damaged page further in."""
    from aspire_desktop.core.catalogue.reader import CatalogueReader

    base = _copy(shipped_content, tmp_path / "baseline")
    catalogue = base / layout.CATALOGUE
    data = bytearray(catalogue.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    pages = len(data) // page
    assert pages >= 4
    # Damage every page but the first two (schema and meta): the open still works.
    for n in range(2, pages):
        data[n * page : n * page + 8] = b"\xee" * 8
    catalogue.write_bytes(bytes(data))
    store = ContentStore(content_dir, base)
    opened = _open(store, opened_list)
    problems = verify_version(opened, store)
    assert problems and all(p.startswith("catalogue: ") for p in problems)
    reader = CatalogueReader(catalogue)
    try:
        assert reader.integrity_problems()
    finally:
        reader.close()
