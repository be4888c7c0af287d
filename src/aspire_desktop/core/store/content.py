"""Which content version is current, and where its files are.

The baseline is installed read-only and shared by every user of the machine. Sync
writes per-user versions under ``<data>/content/versions/`` and switches the pointer
``<data>/content/current.json`` with one atomic replace. The app opens the current
catalogue read-only; if it cannot be read it falls back to the baseline and says so.

The pointer also names the previous version (kept for rollback). Opening a per-user
version takes a shared lease on it (a lock on its ``content.json``, released when the
opened content is closed or garbage-collected, or the process ends), and old versions are
only removed when no process holds one; on Windows, where an open file cannot be deleted,
a version that cannot be removed yet is simply tried again after the next sync.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from aspire_desktop.core.catalogue.reader import CatalogueReader
from aspire_desktop.core.errors import ContentMissingError, DatabaseDamagedError, UserError
from aspire_desktop.core.store import layout
from aspire_desktop.core.store.durable import atomic_write, fsync_dir

log = logging.getLogger(__name__)

POINTER = "current.json"
VERSIONS = "versions"
#: Prefixes of folders in versions/ that are not versions: being staged or being removed.
STAGE_PREFIX = ".stage-"
TRASH_PREFIX = ".trash-"


@dataclass
class OpenedContent:
    """The content version in use, its catalogue reader, and any fallback notice."""

    info: layout.VersionInfo
    reader: CatalogueReader
    is_baseline: bool
    notice: UserError | None = None
    #: The lease on a per-user version (see module doc); None for the baseline.
    lease: Lease | None = field(default=None, repr=False)

    def close(self) -> None:
        """Close the catalogue and give up the lease on the version."""
        self.reader.close()
        if self.lease is not None:
            self.lease.release()


class Lease:
    """A shared lock on a version folder: while one is held, the version is not removed."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._fd: int | None = None
        self._finalizer: weakref.finalize[[int], Lease] | None = None
        if sys.platform == "win32":  # pragma: no cover - open files are never deleted there
            return
        import fcntl

        fd = os.open(folder / layout.MANIFEST, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise
        self._fd = fd
        self._finalizer = weakref.finalize(self, os.close, fd)

    def release(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = None


def try_remove_version(folder: Path) -> bool:
    """Remove an old version unless a process holds a lease on it (True: removed).

    Never raises: a version that is in use, or that the system will not let go of yet
    (Windows), is left for a later attempt.
    """
    trash = folder.with_name(TRASH_PREFIX + folder.name)
    try:
        if sys.platform != "win32" and (folder / layout.MANIFEST).exists():
            import fcntl

            fd = os.open(folder / layout.MANIFEST, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                os.replace(folder, trash)
            finally:
                os.close(fd)
        else:
            os.replace(folder, trash)
    except OSError as exc:
        log.info("version %s not removed now (%s); will try again later", folder.name, exc)
        return False
    shutil.rmtree(trash, ignore_errors=True)
    return not trash.exists()


class ContentStore:
    def __init__(self, content_dir: Path, baseline_dir: Path | None) -> None:
        self.content_dir = content_dir
        self.baseline_dir = baseline_dir

    @property
    def pointer_path(self) -> Path:
        return self.content_dir / POINTER

    @property
    def versions_dir(self) -> Path:
        return self.content_dir / VERSIONS

    def _pointer(self) -> dict[str, object]:
        try:
            data = json.loads(self.pointer_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("content pointer unreadable: %s", exc)
            return {}
        return data if isinstance(data, dict) else {}

    def _named(self, name: object) -> Path | None:
        if not isinstance(name, str) or not name or "/" in name or "\\" in name or name[0] == ".":
            return None
        return self.versions_dir / name

    def pointed_version(self) -> Path | None:
        """The per-user version the pointer names, or None (baseline)."""
        return self._named(self._pointer().get("version_dir"))

    def previous_version(self) -> Path | None:
        """The version that was current before the last switch (kept for rollback)."""
        return self._named(self._pointer().get("previous"))

    def switch_to(self, folder: Path) -> None:
        """Make ``folder`` (a complete, fsynced version in versions/) the current one.

        One atomic replace of the pointer: a crash leaves the old pointer or the new one.
        The version that was current becomes the previous one.
        """
        if folder.parent != self.versions_dir or self._named(folder.name) is None:
            raise ValueError(f"{folder} is not a version folder of {self.content_dir}")
        current = self.pointed_version()
        previous = current.name if current is not None and current != folder else None
        data = {"version_dir": folder.name, "previous": previous}
        atomic_write(self.pointer_path, (json.dumps(data) + "\n").encode("utf-8"))
        fsync_dir(self.content_dir)

    def remove_old_versions(self) -> list[str]:
        """Remove versions other than the current and the previous one, and leftovers of
        staging; returns the names removed. Versions in use stay for a later call."""
        if not self.versions_dir.is_dir():
            return []
        keep = {p.name for p in (self.pointed_version(), self.previous_version()) if p}
        removed = []
        for entry in sorted(self.versions_dir.iterdir()):
            if entry.name in keep or not entry.is_dir():
                continue
            if entry.name.startswith((STAGE_PREFIX, TRASH_PREFIX)):
                shutil.rmtree(entry, ignore_errors=True)
            elif try_remove_version(entry):
                removed.append(entry.name)
        return removed

    def open_current(self) -> OpenedContent:
        """Open the current catalogue, falling back to the baseline when it is damaged."""
        notice: UserError | None = None
        pointed = self.pointed_version()
        if pointed is not None:
            try:
                lease = Lease(pointed)
                try:
                    info, reader = _open_version(pointed)
                except BaseException:
                    lease.release()
                    raise
                return OpenedContent(info, reader, is_baseline=False, lease=lease)
            except (DatabaseDamagedError, OSError, ValueError) as exc:
                log.warning("current content at %s unusable: %s", pointed, exc)
                notice = DatabaseDamagedError(
                    "The updated catalogue on this computer is damaged, so ASPire Desktop is "
                    "showing the content it was installed with.",
                    "Sync again when you are online to replace it. Your bookmarks and notes "
                    "are not affected.",
                )
        if self.baseline_dir is None:
            raise ContentMissingError(
                "No content is installed.",
                "Reinstall ASPire Desktop, or set ASPIRE_DESKTOP_BASELINE to a content folder.",
            )
        try:
            info, reader = _open_version(self.baseline_dir)
        except (DatabaseDamagedError, OSError, ValueError) as exc:
            raise ContentMissingError(
                f"The content installed with ASPire Desktop cannot be read ({exc}).",
                "Reinstall ASPire Desktop; your bookmarks and notes are kept.",
            ) from exc
        return OpenedContent(info, reader, is_baseline=True, notice=notice)

    def fall_back(self, current: OpenedContent) -> OpenedContent:
        """Switch from a per-user version found damaged later to the baseline."""
        current.close()
        if self.baseline_dir is None:
            raise ContentMissingError("No content is installed.", "Reinstall ASPire Desktop.")
        info, reader = _open_version(self.baseline_dir)
        return OpenedContent(
            info,
            reader,
            is_baseline=True,
            notice=DatabaseDamagedError(
                "The updated catalogue on this computer is damaged, so ASPire Desktop has "
                "gone back to the content it was installed with.",
                "Sync again when you are online to replace it.",
            ),
        )

    def file_path(self, opened: OpenedContent, sha256: str, media_type: str) -> Path | None:
        """Where a cached file is: in the current version, else in the baseline."""
        name = layout.file_name(sha256, media_type)
        folders = [opened.info.files_dir]
        if self.baseline_dir is not None:
            folders.append(self.baseline_dir / layout.FILES)
        for folder in folders:
            candidate = folder / name
            if candidate.is_file():
                return candidate
        return None


def _open_version(folder: Path) -> tuple[layout.VersionInfo, CatalogueReader]:
    info = layout.read_version_info(folder)
    if not info.catalogue.is_file():
        raise DatabaseDamagedError(f"{info.catalogue} is missing.", "")
    return info, CatalogueReader(info.catalogue)


def verify_version(opened: OpenedContent, store: ContentStore) -> list[str]:
    """Deep check: the catalogue's integrity and every cached file's size and checksum."""
    problems = [f"catalogue: {p}" for p in opened.reader.integrity_problems()]
    if problems:
        return problems
    for resource_id, f in opened.reader.all_files():
        if not f.cached or f.sha256 is None:
            continue
        path = store.file_path(opened, f.sha256, f.media_type)
        if path is None:
            problems.append(f"{resource_id}: {f.name} is missing")
        elif f.size is not None and path.stat().st_size != f.size:
            problems.append(f"{resource_id}: {f.name} has the wrong size")
        elif layout.sha256_file(path) != f.sha256:
            problems.append(f"{resource_id}: {f.name} does not match its checksum")
    return problems
