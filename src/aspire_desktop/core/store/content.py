"""Which content version is current, and where its files are.

The baseline is installed read-only and shared by every user of the machine. Sync
writes per-user versions under ``<data>/content/versions/`` and switches the pointer
``<data>/content/current.json`` with one atomic replace. The app opens the current
catalogue read-only; if it cannot be read it falls back to the baseline and says so.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from aspire_desktop.core.catalogue.reader import CatalogueReader
from aspire_desktop.core.errors import ContentMissingError, DatabaseDamagedError, UserError
from aspire_desktop.core.store import layout

log = logging.getLogger(__name__)

POINTER = "current.json"
VERSIONS = "versions"


@dataclass
class OpenedContent:
    """The content version in use, its catalogue reader, and any fallback notice."""

    info: layout.VersionInfo
    reader: CatalogueReader
    is_baseline: bool
    notice: UserError | None = None


class ContentStore:
    def __init__(self, content_dir: Path, baseline_dir: Path | None) -> None:
        self.content_dir = content_dir
        self.baseline_dir = baseline_dir

    @property
    def pointer_path(self) -> Path:
        return self.content_dir / POINTER

    def pointed_version(self) -> Path | None:
        """The per-user version the pointer names, or None (baseline)."""
        try:
            data = json.loads(self.pointer_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("content pointer unreadable: %s", exc)
            return None
        name = data.get("version_dir") if isinstance(data, dict) else None
        if not isinstance(name, str) or not name or "/" in name or "\\" in name or name[0] == ".":
            return None
        return self.content_dir / VERSIONS / name

    def open_current(self) -> OpenedContent:
        """Open the current catalogue, falling back to the baseline when it is damaged."""
        notice: UserError | None = None
        pointed = self.pointed_version()
        if pointed is not None:
            try:
                return OpenedContent(*_open_version(pointed), is_baseline=False)
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
        current.reader.close()
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
