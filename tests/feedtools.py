"""Feeds the sync tests build themselves: test PDFs (PyMuPDF), an authored catalogue,
a key pair, and ``aspire-pack build`` (through its core function). Every document is
clearly marked as a test document; nothing here imitates a hub document."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import minisign

from aspire_desktop.core.catalogue.source import load_source
from aspire_desktop.core.feed.build import BuildResult, build_feed
from aspire_desktop.core.feed.signing import generate_key_pair, load_secret_key
from aspire_desktop.core.paths import Paths
from aspire_desktop.core.store.content import ContentStore, verify_version
from aspire_desktop.core.sync import SyncOptions, SyncResult, TrustConfig, run_sync
from aspire_desktop.core.sync.download import DownloadOptions
from aspire_desktop.core.sync.transport import HttpSettings


def make_sized_pdf(path: Path, size: int, label: str) -> Path:
    """A valid one-page test PDF of about ``size`` bytes (random bytes attached to it)."""
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_text((72, 100), f"Test document: {label}", fontsize=18)
    page.insert_text((72, 140), "Made by the ASPire Desktop test suite.", fontsize=11)
    padding = max(0, size - 1500)
    if padding:
        doc.embfile_add("padding.bin", os.urandom(padding))
    doc.save(path, garbage=0, deflate=False)
    doc.close()
    return path


@dataclass
class Key:
    secret: minisign.SecretKey
    public: str  # the .pub file's text
    key_id: str
    secret_file: Path
    public_file: Path


def make_key(folder: Path, name: str = "test") -> Key:
    folder.mkdir(parents=True, exist_ok=True)
    secret_bytes, public_bytes, key_id = generate_key_pair(None)
    secret_file, public_file = folder / f"{name}.key", folder / f"{name}.pub"
    secret_file.write_bytes(secret_bytes)
    public_file.write_bytes(public_bytes)
    secret = load_secret_key(secret_bytes, None, name)
    return Key(secret, public_bytes.decode(), key_id, secret_file, public_file)


@dataclass
class Doc:
    """One test resource; ``size`` None: a resource with no document delivered."""

    id: str
    size: int | None = 3000
    status: str = "current"
    title: str = ""
    superseded_by: str | None = None
    label: str = "v1"
    #: Lists a document the feed does not deliver (as the shipped hub resources do).
    undelivered: bool = False


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def write_source(folder: Path, version: int, docs: list[Doc], issued: str | None = None) -> Path:
    """A folder with catalogue.toml naming test PDFs kept in ``pdfs`` beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        "format = 1",
        f"version = {version}",
        f'issued = "{issued or today()}"',
        "",
        "[[categories]]",
        'id = "test-category"',
        'name = "Test category"',
        'introduction = "Resources made by the test suite."',
    ]
    for n, doc in enumerate(docs, 1):
        title = doc.title or f"Test resource {doc.id}"
        lines += [
            "",
            "[[resources]]",
            f'id = "{doc.id}"',
            f"order = {n}",
            f'title = "{title}"',
            'kind = "document"',
            'summary = "A test resource."',
            'categories = ["test-category"]',
            f'status = "{doc.status}"',
        ]
        if doc.superseded_by:
            lines.append(f'superseded_by = "{doc.superseded_by}"')
        if doc.undelivered:
            lines += ["", "[[resources.files]]", f'name = "{doc.id}.pdf"']
        if doc.size is not None:
            # Shared between sources: the same id and label are the same bytes.
            pdf = folder.parent / "pdfs" / f"{doc.id}-{doc.label}-{doc.size}.pdf"
            if not pdf.exists():
                pdf.parent.mkdir(exist_ok=True)
                make_sized_pdf(pdf, doc.size, f"{doc.id} {doc.label}")
            source = f"../pdfs/{pdf.name}"
            lines += ["", "[[resources.files]]", f'name = "{doc.id}.pdf"', f'source = "{source}"']
    (folder / "catalogue.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def build(source: Path, out: Path, key: Key | None, **kwargs: object) -> BuildResult:
    """``aspire-pack build SOURCE OUT --key KEY``, in process."""
    return build_feed(
        load_source(source / "catalogue.toml"),
        out,
        secret=key.secret if key is not None else None,
        **kwargs,  # type: ignore[arg-type]
    )


# --- a sync test's surroundings ---------------------------------------------------------

FAST = SyncOptions(
    http=HttpSettings(connect_timeout=2.0, read_timeout=2.0),
    download=DownloadOptions(attempts=2, backoff=0.01, backoff_max=0.05, file_grace=5.0),
    deadline=60.0,
    progress_interval=0.0,
)


@dataclass
class SyncEnv:
    """A data folder on the shipped baseline, a key pair, and feeds built in tmp."""

    tmp: Path
    key: Key
    paths: Paths
    store: ContentStore
    options: SyncOptions = FAST
    published: float = 0.0

    @property
    def trust(self) -> TrustConfig:
        return TrustConfig(extra_keys=(self.key.public,), include_shipped=False)

    def feed(
        self,
        version: int,
        docs: list[Doc],
        out: Path | None = None,
        key: Key | None = None,
        unsigned: bool = False,
        **kwargs: object,
    ) -> Path:
        """Build feed ``version`` from ``docs`` into ``out`` (default tmp/feed), signed
        with ``key`` (default: the test key) unless ``unsigned``."""
        out = out or self.tmp / "feed"
        source = write_source(self.tmp / "sources" / f"v{version}-{len(docs)}", version, docs)
        build(source, out, None if unsigned else (key or self.key), **kwargs)
        # Servers make ETags from the modification time (in seconds) and the size: a
        # manifest published again within the same second, at the same size, would look
        # unchanged. Real publications are further apart; here, move the time on.
        manifest = out / "manifest.json"
        self.published = max(self.published + 2, manifest.stat().st_mtime)
        os.utime(manifest, (self.published, self.published))
        return out

    def sync(self, feed: str | Path, **kwargs: Any) -> SyncResult:
        kwargs.setdefault("trust", self.trust)
        kwargs.setdefault("options", self.options)
        return run_sync(self.store, str(feed), **kwargs)

    def current(self) -> tuple[int, list[str]]:
        """The version the app would open now, and what a deep check finds wrong."""
        opened = self.store.open_current()
        try:
            return opened.info.version, verify_version(opened, self.store)
        finally:
            opened.close()

    def assert_intact(self, version: int) -> None:
        assert self.current() == (version, [])
        versions = self.store.versions_dir
        if versions.exists():
            assert not [p.name for p in versions.iterdir() if p.name.startswith(".stage-")]


def make_env(tmp_path: Path, baseline: Path) -> SyncEnv:
    """For a test module's ``env`` fixture (with conftest's ``baseline``)."""
    from aspire_desktop.core import paths

    resolved = paths.resolve()
    key = make_key(tmp_path / "keys")
    return SyncEnv(tmp_path, key, resolved, ContentStore(resolved.content_dir, baseline))
