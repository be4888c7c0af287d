"""The publisher's side: turn an authored catalogue and its PDFs into a feed.

``prepare_files`` copies (or renders, for Markdown) every file into a ``files/`` folder
under its content hash, after the PDF check; ``make_manifest`` describes the result; and
``build_feed`` writes a feed folder: ``files/`` first, then ``manifest.json`` and its
signature, each replaced in one step, so a mirror that copies a feed in the same order is
never inconsistent. The shipped content is built through the same ``prepare_files`` and
``make_manifest`` (see store.build.build_content).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import minisign

from aspire_desktop import __version__
from aspire_desktop.core.catalogue.source import CatalogueSource, SourceError, SourceFile
from aspire_desktop.core.feed import signing
from aspire_desktop.core.feed.check import DEFAULT_TIME_LIMIT, PdfCheck, check_pdfs
from aspire_desktop.core.feed.errors import FeedRefusedError, InvalidManifestError
from aspire_desktop.core.feed.manifest import (
    MANIFEST_NAME,
    MAX_MANIFEST_BYTES,
    MAX_SIGNATURE_BYTES,
    SIGNATURE_NAME,
    FeedFile,
    Manifest,
    ResourceFileEntry,
    dump_manifest,
    format_time,
    parse_manifest,
    parse_time,
    sha256_bytes,
)
from aspire_desktop.core.feed.trust import Trust
from aspire_desktop.core.store import layout
from aspire_desktop.core.store.durable import atomic_write

FILES = "files"
#: How long a feed stays valid after it was issued, unless the publisher says otherwise.
DEFAULT_EXPIRES_DAYS = 90
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PDF = "application/pdf"


@dataclass
class Prepared:
    """Every file of a catalogue, in place under ``files/``, and what the check found."""

    resource_files: dict[str, list[ResourceFileEntry]]
    files: list[FeedFile]
    checks: list[PdfCheck] = field(default_factory=list)


@dataclass
class BuildResult:
    out: Path
    manifest: Manifest
    manifest_sha256: str
    checks: list[PdfCheck]
    key_id: str | None


def _data_path(f: SourceFile, title: str, work: Path) -> Path:
    """The file whose bytes are shipped: the source itself, or its Markdown rendered."""
    assert f.path is not None
    if not f.path.is_file():
        raise SourceError(f"{f.path} does not exist (any more).", "Check the path.")
    if f.path.suffix.lower() != ".md":
        return f.path
    from aspire_desktop.core.documents.authoring import render_markdown_pdf

    rendered = work / f"{len(list(work.iterdir()))}-{f.name}"
    try:
        render_markdown_pdf(f.path, rendered, title=title)
    except FileNotFoundError as exc:
        raise SourceError(f"{f.path} does not exist (any more).", "Check the path.") from exc
    return rendered


def prepare_files(
    source: CatalogueSource, files_dir: Path, *, time_limit: float = DEFAULT_TIME_LIMIT
) -> Prepared:
    """Check every PDF, then copy each file into ``files_dir`` under its hash.

    A broken PDF stops the build with a message naming it (nothing is copied).
    """
    files_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".render-", dir=files_dir.parent) as tmp:
        work = Path(tmp)
        data: dict[tuple[str, int], Path] = {}
        pdf_paths: set[Path] = set()
        for r in source.resources:
            for n, f in enumerate(r.files):
                if f.path is not None:
                    data[(r.id, n)] = _data_path(f, r.title, work)
                    if f.media_type == _PDF:
                        pdf_paths.add(data[(r.id, n)])
        pdfs = sorted(pdf_paths)
        checks = check_pdfs(pdfs, time_limit) if pdfs else []
        for check in checks:
            if not check.ok:
                raise SourceError(
                    f"{check.path} {check.problem}.",
                    "Replace it; 'aspire-pack check' shows what is wrong with it.",
                )
        pages = {c.path: c.pages for c in checks}
        by_sha: dict[str, FeedFile] = {}
        resource_files: dict[str, list[ResourceFileEntry]] = {}
        for r in source.resources:
            entries = []
            for n, f in enumerate(r.files):
                path = data.get((r.id, n))
                if path is None:
                    entries.append(ResourceFileEntry(f.name, f.role, f.media_type))
                    continue
                feed_file = _place(path, f.media_type, files_dir)
                by_sha.setdefault(feed_file.sha256, feed_file)
                entries.append(
                    ResourceFileEntry(
                        f.name, f.role, f.media_type, feed_file.sha256, pages.get(path)
                    )
                )
            resource_files[r.id] = entries
    return Prepared(resource_files, list(by_sha.values()), checks)


def _place(path: Path, media_type: str, files_dir: Path) -> FeedFile:
    sha = layout.sha256_file(path)
    name = layout.file_name(sha, media_type)
    target = files_dir / name
    if not target.is_file() or target.stat().st_size != path.stat().st_size:
        tmp = files_dir / f".{name}.{os.getpid()}.tmp"
        shutil.copyfile(path, tmp)
        os.replace(tmp, target)
    return FeedFile(f"{FILES}/{name}", path.stat().st_size, sha, media_type)


def issued_time(issued: str) -> str:
    """The source's ``issued`` (a date, or a time with its zone) as an RFC 3339 time."""
    try:
        if _DATE.fullmatch(issued):
            return f"{issued}T00:00:00Z"
        return format_time(parse_time(issued))
    except ValueError:
        raise SourceError(
            f"'issued' ({issued}) is not a date such as 2026-12-01 or a time such as "
            "2026-12-01T09:00:00Z.",
            "Fix the source file.",
        ) from None


def make_manifest(
    source: CatalogueSource,
    prepared: Prepared,
    *,
    expires: str | None = None,
    expires_days: int = DEFAULT_EXPIRES_DAYS,
    min_app_version: str = __version__,
    label: str = "",
    mirrors: list[str] | None = None,
    next_key: str | None = None,
) -> Manifest:
    issued = issued_time(source.issued)
    if expires is None:
        expires = format_time(parse_time(issued) + timedelta(days=expires_days))
    else:
        try:
            expires = format_time(parse_time(expires))
        except ValueError:
            raise SourceError(
                f"The expiry {expires} is not a time such as 2027-03-01T00:00:00Z.", ""
            ) from None
    return Manifest(
        version=source.version,
        issued=issued,
        expires=expires,
        categories=source.categories,
        resources=source.resources,
        resource_files=prepared.resource_files,
        files=prepared.files,
        min_app_version=min_app_version,
        label=label,
        mirrors=list(mirrors or []),
        next_key=next_key,
    )


def build_feed(
    source: CatalogueSource,
    out: Path,
    *,
    secret: minisign.SecretKey | None,
    expires: str | None = None,
    expires_days: int = DEFAULT_EXPIRES_DAYS,
    min_app_version: str = __version__,
    label: str = "",
    mirrors: list[str] | None = None,
    next_key: str | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
    now: datetime | None = None,
) -> BuildResult:
    """Build (or update) the feed in ``out``; sign it when ``secret`` is given."""
    now = now or datetime.now(UTC)
    out.mkdir(parents=True, exist_ok=True)
    _refuse_going_back(out, source.version)
    prepared = prepare_files(source, out / FILES, time_limit=time_limit)
    manifest = make_manifest(
        source,
        prepared,
        expires=expires,
        expires_days=expires_days,
        min_app_version=min_app_version,
        label=label,
        mirrors=mirrors,
        next_key=next_key,
    )
    if parse_time(manifest.expires) <= now:
        raise SourceError(
            f"The feed would expire at {manifest.expires}, which has already passed.",
            "Give a later expiry (--expires or --expires-days) or a newer 'issued' date.",
        )
    data = dump_manifest(manifest)
    try:  # check what we wrote exactly as the app will (paths, ids, kinds, times)
        parse_manifest(data)
    except InvalidManifestError as exc:
        raise SourceError(f"The feed would not be valid: {exc.detail}", "") from None
    old = out / MANIFEST_NAME
    if old.is_file() and old.read_bytes() != data and _version_of(old) == manifest.version:
        raise SourceError(
            f"{out} already holds a different feed with version {manifest.version}.",
            "Raise 'version' in the source: every change needs a higher version number.",
        )
    atomic_write(out / MANIFEST_NAME, data)
    key_id = None
    if secret is not None:
        key_id = signing.key_id_of(secret.get_public_key())
        comment = (
            f"timestamp:{int(now.timestamp())}\tfile:{MANIFEST_NAME}\thashed"
            f"\tversion:{manifest.version}"
        )
        atomic_write(out / SIGNATURE_NAME, signing.sign(secret, data, comment))
    else:
        (out / SIGNATURE_NAME).unlink(missing_ok=True)  # it would not match any more
    return BuildResult(out, manifest, sha256_bytes(data), prepared.checks, key_id)


def _version_of(path: Path) -> int | None:
    try:
        return parse_manifest(path.read_bytes()).version
    except (OSError, FeedRefusedError):
        return None


def _refuse_going_back(out: Path, version: int) -> None:
    published = _version_of(out / MANIFEST_NAME)
    if published is not None and version < published:
        raise SourceError(
            f"{out} already holds version {published}; this source is version {version}.",
            "Version numbers only go up: apps that have the newer version refuse older ones.",
        )


@dataclass
class VerifyReport:
    manifest: Manifest
    key_id: str
    trusted_comment: str
    problems: list[str]


def read_capped(path: Path, cap: int) -> bytes:
    with path.open("rb") as fh:
        data = fh.read(cap + 1)
    if len(data) > cap:
        from aspire_desktop.core.feed.errors import ManifestTooLargeError

        raise ManifestTooLargeError(cap)
    return data


def verify_feed(out: Path, trust: Trust) -> VerifyReport:
    """Check a feed folder as the app would, and every file's size and checksum."""
    data = read_capped(out / MANIFEST_NAME, MAX_MANIFEST_BYTES)
    signature = read_capped(out / SIGNATURE_NAME, MAX_SIGNATURE_BYTES)
    verified = trust.verify(data, signature)
    manifest = parse_manifest(data)
    problems = []
    for f in manifest.files:
        path = out / f.path
        if not path.is_file():
            problems.append(f"{f.path} is missing")
        elif path.stat().st_size != f.size:
            problems.append(f"{f.path} has {path.stat().st_size} bytes, not {f.size}")
        elif layout.sha256_file(path) != f.sha256:
            problems.append(f"{f.path} does not match its sha256")
    return VerifyReport(manifest, verified.key_id, verified.trusted_comment, problems)
