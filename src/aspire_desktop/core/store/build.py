"""Build a content version folder: from an authored catalogue source, or from a feed.

A content version is always made from a feed manifest (``write_version``): sync does it
with a manifest it downloaded, and ``build_content`` (the shipped baseline,
``aspire-pack content resources/catalogue.toml OUT``, and the generated samples the tests
and benchmarks use) first prepares the files and the manifest exactly as
``aspire-pack build`` does, then writes the version the same way.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from aspire_desktop.core.catalogue.kinds import kind_label
from aspire_desktop.core.catalogue.source import CatalogueSource, SourceResource
from aspire_desktop.core.store import layout
from aspire_desktop.core.store.durable import fsync_file

if TYPE_CHECKING:
    from aspire_desktop.core.feed.manifest import Manifest


def _filter_text(r: SourceResource) -> str:
    return " ".join([r.title, r.summary, kind_label(r.kind), *r.tags]).casefold()


#: The empty catalogue (schema only), made once a process.
_TEMPLATE: sqlite3.Connection | None = None
_TEMPLATE_LOCK = threading.Lock()


def _empty_catalogue(db_path: Path) -> None:
    """A new database at ``db_path`` with the catalogue's schema: SQLAlchemy's
    ``create_all`` runs once a process, into memory, and each catalogue is a copy."""
    global _TEMPLATE
    from sqlalchemy import create_engine
    from sqlalchemy.pool import StaticPool

    from aspire_desktop.core.catalogue import models as m

    with _TEMPLATE_LOCK:
        if _TEMPLATE is None:
            template = sqlite3.connect(":memory:", check_same_thread=False)
            engine = create_engine("sqlite://", creator=lambda: template, poolclass=StaticPool)
            m.Base.metadata.create_all(engine)
            _TEMPLATE = template
        target = sqlite3.connect(db_path)
        try:
            _TEMPLATE.backup(target)
        finally:
            target.close()


def write_catalogue(
    source: CatalogueSource, db_path: Path, files: dict[str, list[dict[str, object]]]
) -> None:
    """Write the catalogue database with SQLAlchemy Core (bulk inserts: 10,000 rows in
    ~1 s; the ORM's bulk path costs a third more here).

    It is written without journal or fsync (a half-written catalogue is never used: it
    is in a new version's folder, which becomes current only when whole) and fsynced
    once, at the end."""
    from sqlalchemy import create_engine, event, insert
    from sqlalchemy.pool import NullPool

    from aspire_desktop.core.catalogue import models as m

    _empty_catalogue(db_path)
    engine = create_engine(f"sqlite:///{db_path}", poolclass=NullPool)  # (one connection)

    @event.listens_for(engine, "connect")
    def _quick(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.execute("PRAGMA journal_mode=OFF")
        dbapi_connection.execute("PRAGMA synchronous=OFF")

    with engine.begin() as db:
        db.execute(
            insert(m.Meta),
            [
                {"key": "schema_version", "value": str(m.SCHEMA_VERSION)},
                {"key": "content_version", "value": str(source.version)},
                {"key": "issued", "value": source.issued},
            ],
        )
        db.execute(
            insert(m.Category),
            [
                {
                    "id": c.id,
                    "name": c.name,
                    "introduction": c.introduction,
                    "position": c.position,
                    "parent_id": c.parent_id,
                }
                for c in source.categories
            ],
        )
        rows = [
            {
                "id": r.id,
                "title": r.title,
                "summary": r.summary,
                "kind": r.kind,
                "source_url": r.source_url,
                "publisher": r.publisher,
                "published": r.published,
                "updated": r.updated,
                "reviewed": r.reviewed,
                "status": r.status,
                "superseded_by": r.superseded_by,
                "picture_alt": r.picture_alt,
                "position": r.position,
                "filter_text": _filter_text(r),
            }
            for r in source.resources
        ]
        if rows:
            db.execute(insert(m.Resource), rows)
            db.execute(
                insert(m.ResourceCategory),
                [
                    {"resource_id": r.id, "category_id": c, "position": r.position}
                    for r in source.resources
                    for c in r.categories
                ],
            )
            tags = [{"resource_id": r.id, "tag": t} for r in source.resources for t in set(r.tags)]
            if tags:
                db.execute(insert(m.Tag), tags)
            file_rows = [
                {"resource_id": rid, **row} for rid, rows_ in files.items() for row in rows_
            ]
            if file_rows:
                db.execute(insert(m.ResourceFile), file_rows)
    engine.dispose()
    # One self-contained file: no journal beside it when it is opened read-only.
    with sqlite3.connect(db_path) as plain:
        plain.execute("PRAGMA synchronous=OFF")
        plain.execute("PRAGMA journal_mode=DELETE")
        plain.execute("VACUUM")
    plain.close()
    fsync_file(db_path)


def write_version(
    folder: Path,
    manifest: Manifest,
    manifest_bytes: bytes,
    signature: bytes | None,
    *,
    label: str,
) -> None:
    """Write the catalogue, checksums and ``content.json`` of a version into ``folder``,
    whose ``files/`` already holds every file the manifest delivers (checked)."""
    write_version_catalogue(folder, manifest, manifest_bytes, signature, label=label)
    write_checksums(folder, {f.local_name: f.sha256 for f in manifest.files})


def write_version_catalogue(
    folder: Path,
    manifest: Manifest,
    manifest_bytes: bytes,
    signature: bytes | None,
    *,
    label: str,
) -> None:
    """All of a version but its files and ``SHA256SUMS``: the catalogue, the signed
    manifest (kept for audit) and ``content.json``. It needs only the manifest, so sync
    writes it while the files download."""
    from aspire_desktop.core.feed.manifest import SIGNATURE_NAME, sha256_bytes

    write_catalogue(manifest.catalogue_source(), folder / layout.CATALOGUE, manifest.file_rows())
    if signature is not None:  # a copy of a signed manifest is worth keeping, for audit
        suffix = SIGNATURE_NAME.removeprefix("manifest.json")
        (folder / layout.FEED_MANIFEST).write_bytes(manifest_bytes)
        (folder / (layout.FEED_MANIFEST + suffix)).write_bytes(signature)
    # Versions made from a signed feed record which manifest they are (sync compares it).
    signed_sha = sha256_bytes(manifest_bytes) if signature is not None else ""
    layout.write_version_info(folder, manifest.version, manifest.issued_date, label, signed_sha)


def build_content(
    source: CatalogueSource, out_dir: Path, *, label: str = "baseline", search_index: bool = True
) -> Path:
    """Build a complete content version at ``out_dir`` (replaced if it exists).

    Everything is written to a temporary folder beside ``out_dir`` and moved into place
    at the end, so a failed build never leaves a half-written version. With
    ``search_index``, the folder also gets a prebuilt search index (``search.sqlite``,
    derived data, not in ``SHA256SUMS``), so search works from the first start.
    """
    from aspire_desktop.core.feed.build import make_manifest, prepare_files
    from aspire_desktop.core.feed.manifest import dump_manifest

    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".build-", dir=out_dir.parent))
    stage.chmod(0o755)  # the baseline is shared by every user of the machine
    try:
        prepared = prepare_files(source, stage / layout.FILES)
        manifest = make_manifest(source, prepared)
        write_version(stage, manifest, dump_manifest(manifest), None, label=label)
        if search_index:
            from aspire_desktop.core.search.library import build_prebuilt

            build_prebuilt(stage)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(stage, out_dir)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return out_dir


def write_checksums(folder: Path, known: dict[str, str] | None = None) -> None:
    """``SHA256SUMS`` of the catalogue and every file; ``known`` maps file names to
    checksums already verified (files named by their hash need no second reading)."""
    known = known or {}
    lines = [f"{layout.sha256_file(folder / layout.CATALOGUE)}  {layout.CATALOGUE}"]
    for path in sorted((folder / layout.FILES).iterdir()):
        digest = known.get(path.name) or layout.sha256_file(path)
        lines.append(f"{digest}  {layout.FILES}/{path.name}")
    (folder / layout.CHECKSUMS).write_text("\n".join(lines) + "\n", encoding="utf-8")
