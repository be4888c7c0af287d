"""The authored form of a catalogue (``resources/catalogue.toml``) and its checks.

Publishers write categories and resources in TOML; :func:`load_source` turns that into
plain data and refuses anything inconsistent with a message naming the place.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aspire_desktop.core.catalogue.kinds import KINDS, STATUSES
from aspire_desktop.core.errors import UserError

SOURCE_FORMAT = 1


class SourceError(UserError):
    """The authored catalogue is not valid."""

    exit_code = 2


@dataclass
class SourceFile:
    name: str
    media_type: str = "application/pdf"
    role: str = "main"
    #: A file to ship (a PDF, or Markdown the build renders to PDF); None: not cached.
    path: Path | None = None


@dataclass
class SourceCategory:
    id: str
    name: str
    introduction: str = ""
    position: int = 0
    parent_id: str | None = None


@dataclass
class SourceResource:
    id: str
    title: str
    kind: str
    summary: str = ""
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    status: str = "current"
    superseded_by: str | None = None
    picture_alt: str = ""
    source_url: str | None = None
    publisher: str | None = None
    published: str | None = None
    updated: str | None = None
    reviewed: str | None = None
    position: int = 0
    files: list[SourceFile] = field(default_factory=list)


@dataclass
class CatalogueSource:
    version: int
    issued: str
    categories: list[SourceCategory]
    resources: list[SourceResource]


def _text(entry: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = entry.get(key, default)
    if not isinstance(value, str) or (default is None and not value.strip()):
        raise SourceError(f"{where}: '{key}' must be a non-empty text.", "Fix the source file.")
    return value.strip()


def _opt_text(entry: dict[str, Any], key: str, where: str) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise SourceError(f"{where}: '{key}' must be text.", "Fix the source file.")
    return value.strip() or None


def _order(entry: dict[str, Any], where: str, default: int) -> int:
    value = entry.get("order", default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise SourceError(f"{where}: 'order' must be a whole number.", "Fix the source file.")
    return value


def _tables(data: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise SourceError(
            f"{where}: '{key}' must be a list of tables ([[{key}]]).", "Fix the source file."
        )
    return value


def load_source(path: Path) -> CatalogueSource:
    """Read and check an authored catalogue file."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise SourceError(f"Cannot read {path}: {exc.strerror}.", "Check the path.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(f"{path} is not valid TOML: {exc}.", "Fix the syntax.") from exc
    if data.get("format") != SOURCE_FORMAT:
        raise SourceError(
            f"{path}: 'format' must be {SOURCE_FORMAT}.", "This build reads format 1 only."
        )
    version = data.get("version")
    if not isinstance(version, int) or version < 1:
        raise SourceError(f"{path}: 'version' must be a whole number of 1 or more.", "")
    issued = _text(data, "issued", str(path))
    base = path.parent

    categories = []
    for i, entry in enumerate(_tables(data, "categories", str(path)), start=1):
        where = f"{path.name}: category {i}"
        categories.append(
            SourceCategory(
                id=_text(entry, "id", where),
                name=_text(entry, "name", where),
                introduction=_text(entry, "introduction", where, ""),
                position=_order(entry, where, i),
                parent_id=_opt_text(entry, "parent", where),
            )
        )
    resources = []
    for i, entry in enumerate(_tables(data, "resources", str(path)), start=1):
        where = f"{path.name}: resource {entry.get('id', i)!s}"
        files = []
        for f in _tables(entry, "files", where):
            src = _opt_text(f, "source", where)
            files.append(
                SourceFile(
                    name=_text(f, "name", where),
                    media_type=_text(f, "media_type", where, "application/pdf"),
                    role=_text(f, "role", where, "main"),
                    path=(base / src).resolve() if src else None,
                )
            )
        tags = entry.get("tags", [])
        cats = entry.get("categories", [])
        if not all(isinstance(t, str) for t in tags) or not all(isinstance(c, str) for c in cats):
            raise SourceError(f"{where}: tags and categories must be lists of text.", "")
        resources.append(
            SourceResource(
                id=_text(entry, "id", where),
                title=_text(entry, "title", where),
                kind=_text(entry, "kind", where),
                summary=_text(entry, "summary", where, ""),
                categories=list(cats),
                tags=[t.strip() for t in tags if t.strip()],
                status=_text(entry, "status", where, "current"),
                superseded_by=_opt_text(entry, "superseded_by", where),
                picture_alt=_text(entry, "picture_alt", where, ""),
                source_url=_opt_text(entry, "source_url", where),
                publisher=_opt_text(entry, "publisher", where),
                published=_opt_text(entry, "published", where),
                updated=_opt_text(entry, "updated", where),
                reviewed=_opt_text(entry, "reviewed", where),
                position=_order(entry, where, i),
                files=files,
            )
        )
    source = CatalogueSource(version, issued, categories, resources)
    check_source(source)
    return source


def check_source(source: CatalogueSource) -> None:
    """Refuse duplicate ids, unknown kinds, statuses or categories, missing files."""
    cat_ids = [c.id for c in source.categories]
    if len(set(cat_ids)) != len(cat_ids):
        raise SourceError("Two categories share an id.", "Give each category its own id.")
    known = set(cat_ids)
    for c in source.categories:
        if c.parent_id is not None and c.parent_id not in known:
            raise SourceError(f"Category {c.id}: unknown parent {c.parent_id}.", "")
    seen: set[str] = set()
    for r in source.resources:
        if r.id in seen:
            raise SourceError(f"Two resources share the id {r.id}.", "Give each its own id.")
        seen.add(r.id)
        if r.kind not in KINDS:
            raise SourceError(
                f"Resource {r.id}: unknown kind '{r.kind}'.", f"Use one of: {', '.join(KINDS)}."
            )
        if r.status not in STATUSES:
            raise SourceError(
                f"Resource {r.id}: unknown status '{r.status}'.",
                f"Use one of: {', '.join(STATUSES)}.",
            )
        if not r.categories:
            raise SourceError(f"Resource {r.id} is in no category.", "Add it to one.")
        for c_id in r.categories:
            if c_id not in known:
                raise SourceError(f"Resource {r.id}: unknown category {c_id}.", "")
        for f in r.files:
            if f.path is not None and not f.path.is_file():
                raise SourceError(f"Resource {r.id}: file {f.path} does not exist.", "")
