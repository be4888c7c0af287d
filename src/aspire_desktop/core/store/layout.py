"""The on-disk layout of one content version, shared by the build, the store and sync.

A content version is a folder::

    content.json        what this is: format, version number, issue date, label, and
                        the sha256 of the feed manifest it was made from
    catalogue.sqlite    the catalogue (see catalogue.models)
    files/<sha256>.pdf  cached documents, named by their content hash
    SHA256SUMS          checksums of the catalogue and every file, sha256sum format
    feed-manifest.json  in versions made by sync: the signed feed manifest this version
                        was made from, with its signature beside it (kept for audit)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

CONTENT_FORMAT = 1
MANIFEST = "content.json"
CATALOGUE = "catalogue.sqlite"
FILES = "files"
CHECKSUMS = "SHA256SUMS"
FEED_MANIFEST = "feed-manifest.json"

_EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}


def file_name(sha256: str, media_type: str) -> str:
    return sha256 + _EXTENSIONS.get(media_type, ".bin")


def sha256_file(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class VersionInfo:
    """What ``content.json`` says about a content version."""

    path: Path
    version: int
    issued: str
    label: str
    #: sha256 of the feed manifest this version was made from ("" when unknown).
    manifest_sha256: str = ""

    @property
    def catalogue(self) -> Path:
        return self.path / CATALOGUE

    @property
    def files_dir(self) -> Path:
        return self.path / FILES

    def issued_date(self) -> date | None:
        try:
            return date.fromisoformat(self.issued[:10])
        except ValueError:
            return None

    def age_days(self, today: date | None = None) -> int | None:
        issued = self.issued_date()
        if issued is None:
            return None
        return ((today or datetime.now(UTC).date()) - issued).days


def read_version_info(folder: Path) -> VersionInfo:
    """Read ``content.json``; raises ValueError/OSError on anything unexpected."""
    data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("format") != CONTENT_FORMAT:
        raise ValueError(f"{folder / MANIFEST}: unknown content format")
    version = data.get("version")
    if not isinstance(version, int):
        raise ValueError(f"{folder / MANIFEST}: no version number")
    return VersionInfo(
        folder,
        version,
        str(data.get("issued", "")),
        str(data.get("label", "")),
        str(data.get("manifest_sha256", "")),
    )


def write_version_info(
    folder: Path, version: int, issued: str, label: str, manifest_sha256: str = ""
) -> None:
    data: dict[str, object] = {
        "format": CONTENT_FORMAT,
        "version": version,
        "issued": issued,
        "label": label,
    }
    if manifest_sha256:
        data["manifest_sha256"] = manifest_sha256
    (folder / MANIFEST).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
