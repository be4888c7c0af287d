"""Build a content version folder from an authored catalogue source.

Used for the shipped baseline (``aspire-pack content resources/catalogue.toml OUT``),
for the large generated catalogues the tests and benchmarks use, and later by the
publisher tool.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from aspire_desktop.core.catalogue.kinds import kind_label
from aspire_desktop.core.catalogue.source import (
    CatalogueSource,
    SourceError,
    SourceFile,
    SourceResource,
)
from aspire_desktop.core.store import layout


def _filter_text(r: SourceResource) -> str:
    return " ".join([r.title, r.summary, kind_label(r.kind), *r.tags]).casefold()


def _prepare_file(f: SourceFile, title: str, files_dir: Path, work: Path) -> dict[str, object]:
    """Copy (or render) one file into files/ under its hash; return its catalogue row."""
    try:
        return _copy_file(f, title, files_dir, work)
    except FileNotFoundError as exc:
        raise SourceError(f"{f.path} does not exist (any more).", "Check the path.") from exc


def _copy_file(f: SourceFile, title: str, files_dir: Path, work: Path) -> dict[str, object]:
    row: dict[str, object] = {"role": f.role, "name": f.name, "media_type": f.media_type}
    if f.path is None:
        return row | {"cached": False}
    if f.path.suffix.lower() == ".md":
        from aspire_desktop.core.documents.authoring import render_markdown_pdf

        rendered = work / f.name
        page_count: int | None = render_markdown_pdf(f.path, rendered, title=title)
        data_path = rendered
    else:
        data_path = f.path
        page_count = _page_count(data_path) if f.media_type == "application/pdf" else None
    sha = layout.sha256_file(data_path)
    target = files_dir / layout.file_name(sha, f.media_type)
    if not target.exists():
        shutil.copyfile(data_path, target)
    return row | {
        "cached": True,
        "sha256": sha,
        "size": data_path.stat().st_size,
        "page_count": page_count,
    }


def _page_count(path: Path) -> int:
    import pymupdf

    try:
        with pymupdf.open(path) as doc:
            return int(doc.page_count)
    except RuntimeError as exc:  # pymupdf's FileDataError, EmptyFileError, FileNotFoundError
        raise SourceError(f"{path} cannot be opened as a PDF ({exc}).", "Replace it.") from exc


def write_catalogue(
    source: CatalogueSource, db_path: Path, files: dict[str, list[dict[str, object]]]
) -> None:
    """Write the catalogue database with SQLAlchemy (bulk inserts: 10,000 rows in ~1 s)."""
    from sqlalchemy import create_engine, insert
    from sqlalchemy.orm import Session

    from aspire_desktop.core.catalogue import models as m

    engine = create_engine(f"sqlite:///{db_path}")
    m.Base.metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        session.execute(
            insert(m.Meta),
            [
                {"key": "schema_version", "value": str(m.SCHEMA_VERSION)},
                {"key": "content_version", "value": str(source.version)},
                {"key": "issued", "value": source.issued},
            ],
        )
        session.execute(
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
            session.execute(insert(m.Resource), rows)
            session.execute(
                insert(m.ResourceCategory),
                [
                    {"resource_id": r.id, "category_id": c, "position": r.position}
                    for r in source.resources
                    for c in r.categories
                ],
            )
            tags = [{"resource_id": r.id, "tag": t} for r in source.resources for t in set(r.tags)]
            if tags:
                session.execute(insert(m.Tag), tags)
            file_rows = [
                {"resource_id": rid, **row} for rid, rows_ in files.items() for row in rows_
            ]
            if file_rows:
                session.execute(insert(m.ResourceFile), file_rows)
    engine.dispose()
    # One self-contained file: no journal beside it when it is opened read-only.
    import sqlite3

    with sqlite3.connect(db_path) as db:
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute("VACUUM")
    db.close()


def build_content(source: CatalogueSource, out_dir: Path, *, label: str = "baseline") -> Path:
    """Build a complete content version at ``out_dir`` (replaced if it exists).

    Everything is written to a temporary folder beside ``out_dir`` and moved into place
    at the end, so a failed build never leaves a half-written version.
    """
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".build-", dir=out_dir.parent))
    stage.chmod(0o755)  # the baseline is shared by every user of the machine
    try:
        files_dir = stage / layout.FILES
        files_dir.mkdir()
        work = stage / ".work"
        work.mkdir()
        files = {
            r.id: [_prepare_file(f, r.title, files_dir, work) for f in r.files]
            for r in source.resources
            if r.files
        }
        shutil.rmtree(work)
        write_catalogue(source, stage / layout.CATALOGUE, files)
        write_checksums(stage)
        layout.write_version_info(stage, source.version, source.issued, label)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(stage, out_dir)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return out_dir


def write_checksums(folder: Path) -> None:
    lines = [f"{layout.sha256_file(folder / layout.CATALOGUE)}  {layout.CATALOGUE}"]
    for path in sorted((folder / layout.FILES).iterdir()):
        lines.append(f"{layout.sha256_file(path)}  {layout.FILES}/{path.name}")
    (folder / layout.CHECKSUMS).write_text("\n".join(lines) + "\n", encoding="utf-8")
