"""The feed manifest: what it holds, how it is checked, and how it is written.

A manifest is UTF-8 JSON (docs/feed-format.md, docs/feed-manifest.schema.json). Parsing
refuses anything inconsistent with a message naming the place, and every file path must
be a plain relative path that stays inside the feed (no ``..``, no absolute paths, no
backslashes, drive letters, hidden or reserved names). Unknown keys are ignored, so a
later format can add fields without breaking this app.

The manifest is only parsed after its signature has been verified (see ``signing``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aspire_desktop.core.catalogue.source import (
    CatalogueSource,
    SourceCategory,
    SourceError,
    SourceResource,
    check_source,
)
from aspire_desktop.core.feed.errors import InvalidManifestError
from aspire_desktop.core.store import layout

FEED_FORMAT = 1
MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = MANIFEST_NAME + ".minisig"
#: Manifests larger than this are not read (10,000 resources take about 6 MB).
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
#: A minisign signature is four short lines; its trusted comment is at most 8 KB.
MAX_SIGNATURE_BYTES = 16 * 1024
MAX_PATH_LENGTH = 200

_SHA256 = re.compile(r"[0-9a-f]{64}")
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*")
_APP_VERSION = re.compile(r"\d+(\.\d+){0,3}")
#: What a file's display name may not hold: folders or control characters.
_NOT_IN_NAME = re.compile(r"[/\\\x00-\x1f]")
_RESERVED = {"con", "prn", "aux", "nul"} | {f"{p}{n}" for p in ("com", "lpt") for n in range(10)}


@dataclass(frozen=True)
class FeedFile:
    """A file the feed delivers: where it is, how big, its checksum and type."""

    path: str
    size: int
    sha256: str
    media_type: str

    @functools.cached_property
    def local_name(self) -> str:
        """Its name in a content version's ``files/`` folder."""
        return layout.file_name(self.sha256, self.media_type)


@dataclass(frozen=True)
class ResourceFileEntry:
    """A file a resource lists; ``sha256`` None: the feed does not deliver it (yet)."""

    name: str
    role: str = "main"
    media_type: str = "application/pdf"
    sha256: str | None = None
    page_count: int | None = None


@dataclass
class Manifest:
    version: int
    issued: str
    expires: str
    categories: list[SourceCategory]
    resources: list[SourceResource]
    resource_files: dict[str, list[ResourceFileEntry]]
    files: list[FeedFile]
    min_app_version: str = "0.1.0"
    label: str = ""
    mirrors: list[str] = field(default_factory=list)
    #: A minisign public key (base64) the publisher will sign with next (key rotation).
    next_key: str | None = None

    @property
    def issued_date(self) -> str:
        """The day it was issued (UTC), as the catalogue and ``content.json`` record it."""
        return parse_time(self.issued).date().isoformat()

    def catalogue_source(self) -> CatalogueSource:
        return CatalogueSource(self.version, self.issued_date, self.categories, self.resources)

    def file_rows(self) -> dict[str, list[dict[str, object]]]:
        """The catalogue's file rows per resource (for store.build.write_catalogue)."""
        sizes = {f.sha256: f.size for f in self.files}
        return {
            rid: [
                {
                    "role": e.role,
                    "name": e.name,
                    "media_type": e.media_type,
                    "cached": e.sha256 is not None,
                    "sha256": e.sha256,
                    "size": sizes.get(e.sha256) if e.sha256 else None,
                    "page_count": e.page_count,
                }
                for e in entries
            ]
            for rid, entries in self.resource_files.items()
            if entries
        }

    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_time(value: str) -> datetime:
    """An RFC 3339 time with its offset (``Z`` or ``+01:00``); ValueError otherwise."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("no time zone")
    return parsed.astimezone(UTC)


def format_time(value: datetime) -> str:
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def app_version_tuple(value: str) -> tuple[int, ...]:
    return tuple(int(p) for p in value.split("."))


def check_path(path: object, where: str) -> str:
    """A file path from a manifest, refused unless it is plain, relative and inside."""
    if not isinstance(path, str) or not path:
        raise InvalidManifestError(f"{where}: 'path' must be a non-empty text.")
    shown = path.encode("unicode_escape").decode("ascii")[:80]
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidManifestError(f"{where}: the path {shown!r} is too long.")
    if path.startswith("/") or "\\" in path or ":" in path:
        raise InvalidManifestError(
            f"{where}: the path {shown!r} is absolute or uses a drive, scheme or backslash; "
            "only relative paths inside the feed are allowed."
        )
    for segment in path.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidManifestError(
                f"{where}: the path {shown!r} has an empty, '.' or '..' part; "
                "paths may not leave the feed's folder."
            )
        if not _SEGMENT.fullmatch(segment) or segment.endswith("."):
            raise InvalidManifestError(
                f"{where}: the path {shown!r} has a part with characters other than "
                "letters, digits, '.', '_' and '-' (or starts with one of the last three)."
            )
        if segment.split(".")[0].lower() in _RESERVED:
            raise InvalidManifestError(f"{where}: the path {shown!r} uses a reserved name.")
    if path in (MANIFEST_NAME, SIGNATURE_NAME):
        raise InvalidManifestError(f"{where}: a file may not be the manifest itself.")
    return path


class _Obj:
    """Typed access to one JSON object, with errors that name where they are."""

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, dict):
            raise InvalidManifestError(f"{where} must be an object.")
        self.data: dict[str, Any] = data
        self.where = where

    def _fail(self, key: str, what: str) -> InvalidManifestError:
        return InvalidManifestError(f"{self.where}: '{key}' must be {what}.")

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str) or (default is None and not value.strip()):
            raise self._fail(key, "a non-empty text" if default is None else "text")
        return value

    def opt_text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            raise self._fail(key, "text or null")
        return value

    def integer(self, key: str, minimum: int = 0, default: int | None = None) -> int:
        value = self.data.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise self._fail(key, f"a whole number of {minimum} or more")
        return value

    def opt_integer(self, key: str) -> int | None:
        if self.data.get(key) is None:
            return None
        return self.integer(key)

    def items(self, key: str, required: bool = True) -> list[Any]:
        value = self.data.get(key, None if required else [])
        if not isinstance(value, list):
            raise self._fail(key, "a list")
        return value

    def texts(self, key: str) -> list[str]:
        value = self.items(key, required=False)
        if not all(isinstance(v, str) for v in value):
            raise self._fail(key, "a list of texts")
        return value

    def time(self, key: str) -> str:
        value = self.text(key)
        try:
            parse_time(value)
        except ValueError:
            raise self._fail(key, "a time such as 2026-12-01T09:00:00Z") from None
        return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise InvalidManifestError(f"the key '{key}' appears twice in one object.")
        out[key] = value
    return out


def _no_constants(name: str) -> None:
    raise InvalidManifestError(f"'{name}' is not a JSON number.")


def parse_manifest(data: bytes) -> Manifest:
    """Parse and check a manifest (whose signature has already been verified)."""
    try:
        raw = json.loads(
            data.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constants
        )
    except UnicodeDecodeError:
        raise InvalidManifestError("it is not UTF-8 text.") from None
    except json.JSONDecodeError as exc:
        raise InvalidManifestError(f"it is not valid JSON ({exc}).") from None
    top = _Obj(raw, "the manifest")
    fmt = top.data.get("format")
    if fmt != FEED_FORMAT:
        raise InvalidManifestError(
            f"it is in format {fmt!r}, and this version of ASPire Desktop reads format "
            f"{FEED_FORMAT}. Updating ASPire Desktop may help."
        )
    issued, expires = top.time("issued"), top.time("expires")
    if parse_time(expires) <= parse_time(issued):
        raise InvalidManifestError("it expires before it was issued.")
    min_app = top.text("min_app_version", "0.1.0")
    if not _APP_VERSION.fullmatch(min_app):
        raise InvalidManifestError("'min_app_version' must look like 1.2.3.")
    next_key = top.opt_text("next_key")
    if next_key is not None:
        from aspire_desktop.core.feed.signing import parse_public_key

        try:
            parse_public_key(next_key)
        except ValueError:
            raise InvalidManifestError("'next_key' is not a minisign public key.") from None
    files = _parse_files(top)
    by_sha = {f.sha256: f for f in files}
    categories = [_parse_category(c, i) for i, c in enumerate(top.items("categories"), 1)]
    resources: list[SourceResource] = []
    resource_files: dict[str, list[ResourceFileEntry]] = {}
    for i, entry in enumerate(top.items("resources"), 1):
        resource, entries = _parse_resource(entry, i, by_sha)
        resources.append(resource)
        resource_files[resource.id] = entries
    manifest = Manifest(
        version=top.integer("version", minimum=1),
        issued=issued,
        expires=expires,
        categories=categories,
        resources=resources,
        resource_files=resource_files,
        files=files,
        min_app_version=min_app,
        label=top.text("label", ""),
        mirrors=top.texts("mirrors"),
        next_key=next_key,
    )
    try:
        check_source(manifest.catalogue_source())
    except SourceError as exc:
        raise InvalidManifestError(exc.message) from None
    return manifest


def _parse_files(top: _Obj) -> list[FeedFile]:
    files: list[FeedFile] = []
    paths: set[str] = set()
    shas: set[str] = set()
    for i, entry in enumerate(top.items("files"), 1):
        obj = _Obj(entry, f"file {i}")
        path = check_path(obj.data.get("path"), obj.where)
        sha = obj.text("sha256")
        if not _SHA256.fullmatch(sha):
            raise obj._fail("sha256", "64 lowercase hexadecimal characters")
        media_type = obj.text("media_type")
        if not _MEDIA_TYPE.fullmatch(media_type):
            raise obj._fail("media_type", "a media type such as application/pdf")
        if path.lower() in paths or sha in shas:
            raise InvalidManifestError(f"{obj.where}: the same path or sha256 is listed twice.")
        paths.add(path.lower())
        shas.add(sha)
        files.append(FeedFile(path, obj.integer("size"), sha, media_type))
    return files


def _parse_category(entry: object, i: int) -> SourceCategory:
    obj = _Obj(entry, f"category {i}")
    return SourceCategory(
        id=obj.text("id"),
        name=obj.text("name"),
        introduction=obj.text("introduction", ""),
        position=obj.integer("position", default=i),
        parent_id=obj.opt_text("parent_id"),
    )


def _display_name(obj: _Obj) -> str:
    name = obj.text("name")
    if _NOT_IN_NAME.search(name) or name in (".", ".."):
        raise obj._fail("name", "a file name without folders or control characters")
    return name


def _parse_resource(
    entry: object, i: int, by_sha: dict[str, FeedFile]
) -> tuple[SourceResource, list[ResourceFileEntry]]:
    obj = _Obj(entry, f"resource {i}")
    obj.where = f"resource {obj.text('id')}"
    entries = []
    for n, raw in enumerate(obj.items("files", required=False), 1):
        f = _Obj(raw, f"{obj.where}, file {n}")
        sha = f.opt_text("sha256")
        media_type = f.text("media_type", "application/pdf")
        if sha is not None:
            delivered = by_sha.get(sha)
            if delivered is None:
                raise f._fail("sha256", "the checksum of a file in the manifest's 'files'")
            media_type = delivered.media_type
        entries.append(
            ResourceFileEntry(
                name=_display_name(f),
                role=f.text("role", "main"),
                media_type=media_type,
                sha256=sha,
                page_count=f.opt_integer("page_count"),
            )
        )
    resource = SourceResource(
        id=obj.text("id"),
        title=obj.text("title"),
        kind=obj.text("kind"),
        summary=obj.text("summary", ""),
        categories=obj.texts("categories"),
        tags=obj.texts("tags"),
        status=obj.text("status", "current"),
        superseded_by=obj.opt_text("superseded_by"),
        picture_alt=obj.text("picture_alt", ""),
        source_url=obj.opt_text("source_url"),
        publisher=obj.opt_text("publisher"),
        published=obj.opt_text("published"),
        updated=obj.opt_text("updated"),
        reviewed=obj.opt_text("reviewed"),
        position=obj.integer("position", default=i),
    )
    return resource, entries


def manifest_to_dict(m: Manifest) -> dict[str, Any]:
    out: dict[str, Any] = {
        "format": FEED_FORMAT,
        "version": m.version,
        "issued": m.issued,
        "expires": m.expires,
        "min_app_version": m.min_app_version,
    }
    if m.label:
        out["label"] = m.label
    if m.mirrors:
        out["mirrors"] = list(m.mirrors)
    if m.next_key:
        out["next_key"] = m.next_key
    out["categories"] = [
        {
            "id": c.id,
            "name": c.name,
            "introduction": c.introduction,
            "position": c.position,
            "parent_id": c.parent_id,
        }
        for c in m.categories
    ]
    out["resources"] = [_resource_dict(r, m.resource_files.get(r.id, [])) for r in m.resources]
    out["files"] = [
        {"path": f.path, "size": f.size, "sha256": f.sha256, "media_type": f.media_type}
        for f in m.files
    ]
    return out


def _resource_dict(r: SourceResource, entries: list[ResourceFileEntry]) -> dict[str, Any]:
    return {
        "id": r.id,
        "title": r.title,
        "kind": r.kind,
        "summary": r.summary,
        "categories": list(r.categories),
        "tags": list(r.tags),
        "status": r.status,
        "superseded_by": r.superseded_by,
        "picture_alt": r.picture_alt,
        "source_url": r.source_url,
        "publisher": r.publisher,
        "published": r.published,
        "updated": r.updated,
        "reviewed": r.reviewed,
        "position": r.position,
        "files": [
            {
                "name": e.name,
                "role": e.role,
                "media_type": e.media_type,
                "sha256": e.sha256,
                "page_count": e.page_count,
            }
            for e in entries
        ],
    }


def dump_manifest(m: Manifest) -> bytes:
    """The manifest as the bytes a feed publishes (deterministic for the same input)."""
    return (json.dumps(manifest_to_dict(m), indent=1, ensure_ascii=False) + "\n").encode()
