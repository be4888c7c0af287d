"""Everything that can go wrong with a feed, served by a fault-injecting server of our own
on 127.0.0.1 (or built wrongly on purpose). Each is refused with a plain message, or
handled (verify or restart), and the content on the computer stays whole."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aspire_desktop.core.errors import DiskFullError, UserError
from aspire_desktop.core.feed import errors as feed_errors
from aspire_desktop.core.feed.manifest import MANIFEST_NAME, MAX_MANIFEST_BYTES, SIGNATURE_NAME
from aspire_desktop.core.feed.signing import sign
from aspire_desktop.core.store.content import ContentStore
from aspire_desktop.core.sync import SyncOptions, SyncProgress, download, transport
from aspire_desktop.core.sync import errors as sync_errors
from aspire_desktop.core.sync.download import POOL, SIDECAR
from feedtools import Doc, SyncEnv, make_env, make_key
from servers import FaultServer, self_signed_tls

pytestmark = pytest.mark.slow

KB = 1024


@pytest.fixture
def env(tmp_path: Path, baseline: Path) -> SyncEnv:
    return make_env(tmp_path, baseline)


@pytest.fixture
def servers() -> Iterator[list[FaultServer]]:
    started: list[FaultServer] = []
    yield started
    for server in started:
        server.stop()


def _serve(servers: list[FaultServer], root: Path, **rules: str) -> FaultServer:
    server = FaultServer(root)
    server.rules.update(rules)
    servers.append(server)
    return server


@pytest.fixture
def synced(env: SyncEnv, servers: list[FaultServer]) -> tuple[SyncEnv, Path, FaultServer]:
    """Version 2 applied from a well-behaved server; the feed folder is then free to break."""
    feed = env.feed(2, [Doc("a", 40 * KB), Doc("b", 40 * KB)])
    server = _serve(servers, feed)
    assert env.sync(server.url).version == 2
    server.served.clear()
    return env, feed, server


def _next(env: SyncEnv, feed: Path, size: int = 40 * KB) -> list[str]:
    """Publish version 3 (one new 'c' file) into the feed; the names of its new files."""
    before = {p.name for p in (feed / "files").iterdir()}
    env.feed(3, [Doc("a", 40 * KB), Doc("b", 40 * KB), Doc("c", size)], feed)
    return [f"/files/{p.name}" for p in (feed / "files").iterdir() if p.name not in before]


def _refused(env: SyncEnv, url: str, kind: type[UserError], match: str, **kw: object) -> None:
    with pytest.raises(kind, match=match) as caught:
        env.sync(url, **kw)
    assert "has not changed" in caught.value.what_to_do
    env.assert_intact(2)


# --- the server misbehaves ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "rule", "kind", "match"),
    [
        ("/manifest.json", "status:500", sync_errors.ServerError, "has a problem \\(error 500\\)"),
        ("/manifest.json", "status:404", sync_errors.ServerError, "has no file"),
        ("/manifest.json", "status:403", sync_errors.ServerError, "refused the request"),
        ("/manifest.json", "hang", sync_errors.FeedTimeoutError, "did not answer in time"),
        ("/manifest.json.minisig", "status:404", feed_errors.SignatureError, "no signature"),
        ("new", "status:503", sync_errors.ServerError, "error 503"),
        ("new", "hang", sync_errors.FeedTimeoutError, "did not answer in time"),
        ("new", "trickle", sync_errors.TooSlowError, "far too slowly"),
        ("new", "truncate", sync_errors.TruncatedError, "broke off"),
        ("new", "corrupt", feed_errors.FileMismatchError, "did not match its checksum"),
        ("new", "oversize", feed_errors.FileMismatchError, "larger than"),
        ("new", "oversize-nolength", feed_errors.FileMismatchError, "larger than"),
    ],
)
def test_server_faults_are_refused_and_content_stays(
    synced: tuple[SyncEnv, Path, FaultServer],
    target: str,
    rule: str,
    kind: type[UserError],
    match: str,
) -> None:
    env, feed, server = synced
    new = _next(env, feed)
    for path in new if target == "new" else [target]:
        server.rules[path] = rule
    options = SyncOptions(
        http=env.options.http.__class__(connect_timeout=1.0, read_timeout=0.5),
        download=env.options.download.__class__(
            attempts=2, backoff=0.01, backoff_max=0.02, file_grace=1.0, min_rate=1e6
        ),
        deadline=30.0,
    )
    _refused(env, server.url, kind, match, options=options)


def test_retries_ride_over_a_passing_server_error(
    synced: tuple[SyncEnv, Path, FaultServer],
) -> None:
    env, feed, server = synced
    new = _next(env, feed)
    server.rules[new[0]] = "status:503>ok"
    assert env.sync(server.url).version == 3
    assert [s.status for s in server.served if s.path == new[0]] == [503, 200]


@pytest.mark.parametrize(
    ("rule", "statuses"),
    [
        ("truncate>ok", [200, 206]),  # resumed with a range
        ("truncate>ignore-range", [200, 200]),  # 200 to a range: starts again
        ("truncate>bad-content-range", [200, 206, 200]),  # wrong range: starts again
        ("truncate>always-416", [200, 416, 200]),  # 416: verify the part, or start again
    ],
)
def test_broken_downloads_are_resumed_or_restarted_and_verified(
    synced: tuple[SyncEnv, Path, FaultServer], rule: str, statuses: list[int]
) -> None:
    env, feed, server = synced
    new = _next(env, feed, size=200 * KB)
    server.rules[new[0]] = rule
    result = env.sync(server.url)
    assert result.version == 3
    env.assert_intact(3)
    assert [s.status for s in server.served if s.path == new[0]] == statuses


def test_a_complete_part_answered_with_416_is_verified_not_fetched(
    synced: tuple[SyncEnv, Path, FaultServer],
) -> None:
    """Killed after the last byte, before the rename: the part is whole."""
    env, feed, server = synced
    new = _next(env, feed)
    name = new[0].removeprefix("/files/")
    pool = env.paths.content_dir / POOL
    pool.mkdir(parents=True, exist_ok=True)
    data = (feed / "files" / name).read_bytes()
    (pool / (name + ".part")).write_bytes(data)
    sha = name.split(".")[0]
    sidecar = {"sha256": sha, "size": len(data), "source": server.url}
    (pool / (name + ".part.json")).write_text(json.dumps(sidecar))
    result = env.sync(server.url)
    assert result.version == 3 and result.bytes_fetched == 0
    assert [(s.status, s.range) for s in server.served if s.path == new[0]] == [
        (416, f"bytes={len(data)}-")
    ]


def test_leftover_parts_are_never_trusted(synced: tuple[SyncEnv, Path, FaultServer]) -> None:
    env, feed, server = synced
    new = _next(env, feed)
    name = new[0].removeprefix("/files/")
    pool = env.paths.content_dir / POOL
    pool.mkdir(parents=True, exist_ok=True)
    size = (feed / "files" / name).stat().st_size
    (pool / (name + ".part")).write_bytes(b"\xff" * (size // 2))  # garbage from a crash
    sidecar = {"sha256": name.split(".")[0], "size": size, "source": server.url}
    (pool / (name + ".part.json")).write_text(json.dumps(sidecar))
    (pool / "stray.pdf.part").write_bytes(b"no sidecar")
    (pool / name.replace("a", "b", 1)).write_bytes(b"a complete file no one asked for")
    assert env.sync(server.url).version == 3
    env.assert_intact(3)
    # The resumed garbage failed the checksum; the file was fetched again from zero.
    assert [s.range is not None for s in server.served if s.path == new[0]] == [True, False]
    assert list(pool.iterdir()) == []


# --- the feed is wrong --------------------------------------------------------------------


def _resign(feed: Path, key_secret: object, data: bytes, comment: str = "timestamp:1") -> None:
    (feed / MANIFEST_NAME).write_bytes(data)
    (feed / SIGNATURE_NAME).write_bytes(sign(key_secret, data, comment))


def test_tampered_manifest(synced: tuple[SyncEnv, Path, FaultServer]) -> None:
    env, feed, server = synced
    _next(env, feed)
    data = (feed / MANIFEST_NAME).read_bytes()
    (feed / MANIFEST_NAME).write_bytes(data.replace(b"Test resource c", b"Test resource C"))
    _refused(env, server.url, feed_errors.SignatureError, "does not match its contents")


def test_tampered_trusted_comment(synced: tuple[SyncEnv, Path, FaultServer]) -> None:
    env, feed, server = synced
    _next(env, feed)
    lines = (feed / SIGNATURE_NAME).read_text().splitlines()
    lines[2] += " (edited)"
    (feed / SIGNATURE_NAME).write_text("\n".join(lines) + "\n")
    _refused(env, server.url, feed_errors.SignatureError, "does not match its contents")


def test_legacy_signature(synced: tuple[SyncEnv, Path, FaultServer]) -> None:
    env, feed, server = synced
    _next(env, feed)
    data = (feed / MANIFEST_NAME).read_bytes()
    legacy = env.key.secret.sign(data, prehash=False)
    (feed / SIGNATURE_NAME).write_bytes(bytes(legacy) + b"\n")
    _refused(env, server.url, feed_errors.SignatureError, "legacy")


def test_wrong_key(synced: tuple[SyncEnv, Path, FaultServer]) -> None:
    env, feed, server = synced
    env.feed(3, [Doc("a", 40 * KB)], feed, key=make_key(env.tmp / "k2", "intruder"))
    _refused(env, server.url, feed_errors.SignatureError, "does not trust")


def test_expired(synced: tuple[SyncEnv, Path, FaultServer]) -> None:
    env, feed, server = synced
    _next(env, feed)
    later = datetime.now(UTC) + timedelta(days=365)
    options = SyncOptions(clock=lambda: later)
    _refused(env, server.url, feed_errors.ExpiredFeedError, "expired on", options=options)


def test_expired_as_built(env: SyncEnv, servers: list[FaultServer]) -> None:
    """A publisher's build refuses to make an already expired feed."""
    from aspire_desktop.core.catalogue.source import SourceError

    with pytest.raises(SourceError, match="already passed"):
        env.feed(2, [Doc("a")], expires="2020-01-01T00:00:00Z")


def test_rollback(synced: tuple[SyncEnv, Path, FaultServer]) -> None:
    env, feed, server = synced
    _next(env, feed)
    assert env.sync(server.url).version == 3
    old = env.feed(2, [Doc("a", 40 * KB)], env.tmp / "old-copy")
    server.root = old
    with pytest.raises(feed_errors.RollbackError, match="older than version 3"):
        env.sync(server.url)
    assert env.current() == (3, [])


def test_equal_version_with_other_bytes(synced: tuple[SyncEnv, Path, FaultServer]) -> None:
    env, _feed, server = synced
    other = env.feed(2, [Doc("a", 40 * KB), Doc("z", 40 * KB)], env.tmp / "other")
    server.root = other
    _refused(env, server.url, feed_errors.VersionConflictError, "same number")


def test_rollback_protection_survives_a_fallback(
    synced: tuple[SyncEnv, Path, FaultServer],
) -> None:
    """Content damaged and back on the baseline: an old feed is still refused, the same
    version is applied again (repair)."""
    env, _feed, server = synced
    pointed = env.store.pointed_version()
    assert pointed is not None
    (pointed / "catalogue.sqlite").write_bytes(b"damaged")
    opened = env.store.open_current()
    assert opened.is_baseline
    opened.close()
    result = env.sync(server.url)
    assert result.changed and result.version == 2
    env.assert_intact(2)


def test_newer_app_needed(synced: tuple[SyncEnv, Path, FaultServer]) -> None:
    env, feed, server = synced
    env.feed(3, [Doc("a", 40 * KB)], feed, min_app_version="99.0")
    _refused(env, server.url, feed_errors.AppTooOldError, "needs ASPire Desktop 99.0")


@pytest.mark.parametrize(
    "path",
    ["../secret.pdf", "files/../../x.pdf", "/etc/passwd", "C:\\x.pdf", "files/.hidden", "con"],
)
def test_path_traversal_and_odd_names(synced: tuple[SyncEnv, Path, FaultServer], path: str) -> None:
    env, feed, server = synced
    _next(env, feed)
    doc = json.loads((feed / MANIFEST_NAME).read_bytes())
    doc["version"] = 4
    doc["files"][0]["path"] = path
    _resign(feed, env.key.secret, json.dumps(doc).encode())
    _refused(env, server.url, feed_errors.InvalidManifestError, "path")
    assert not any(".." in s.path or s.path.startswith("/etc") for s in server.served)


def test_unlisted_files_are_ignored(synced: tuple[SyncEnv, Path, FaultServer]) -> None:
    env, feed, server = synced
    _next(env, feed)
    (feed / "files" / "extra.pdf").write_bytes(b"not listed")
    (feed / "README.txt").write_text("hello")
    assert env.sync(server.url).version == 3
    assert not any("extra" in s.path or "README" in s.path for s in server.served)


def test_oversize_manifest(synced: tuple[SyncEnv, Path, FaultServer]) -> None:
    env, feed, server = synced
    data = (feed / MANIFEST_NAME).read_bytes()
    padded = data[:-2] + b" " * (MAX_MANIFEST_BYTES + 1 - len(data)) + data[-2:]
    _resign(feed, env.key.secret, padded)
    _refused(env, server.url, feed_errors.ManifestTooLargeError, "larger than 16 MB")
    assert not any(s.path.endswith(".minisig") for s in server.served)  # not even fetched


# --- several files at once ------------------------------------------------------------------


def _sync_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("sync-")]


def _manifest_files(feed: Path) -> list[dict[str, object]]:
    """The manifest's files, in its order (the order they are fetched in)."""
    files: list[dict[str, object]] = json.loads((feed / MANIFEST_NAME).read_bytes())["files"]
    return files


def test_a_distant_server_gets_several_files_at_once(
    env: SyncEnv, servers: list[FaultServer]
) -> None:
    """A fetcher that mostly waits for answers is joined by more, up to the limit; the
    progress counts stay right with several files coming in at once."""
    feed = env.feed(2, [Doc(f"d{i:02d}", 20 * KB) for i in range(16)])
    server = _serve(servers, feed, **{"*": "distant"})
    events: list[SyncProgress] = []
    result = env.sync(server.url, progress=events.append)
    assert result.version == 2 and result.files_downloaded == 16
    env.assert_intact(2)
    options = env.options.download
    assert options.first_workers < server.most_in_flight <= options.workers
    downloading = [p for p in events if p.phase == "downloading"]
    assert all(p.bytes_done <= p.bytes_total for p in downloading)
    assert [p.files_done for p in downloading] == sorted(p.files_done for p in downloading)
    last = downloading[-1]
    assert (last.files_done, last.bytes_done) == (16, last.bytes_total)
    assert not _sync_threads()


def test_a_file_that_fails_stops_the_others(env: SyncEnv, servers: list[FaultServer]) -> None:
    feed = env.feed(2, [Doc(f"d{i:02d}", 20 * KB) for i in range(16)])
    server = _serve(servers, feed, **{"*": "distant"})
    server.rules["/" + str(_manifest_files(feed)[0]["path"])] = "corrupt"
    with pytest.raises(feed_errors.FileMismatchError, match="did not match its checksum"):
        env.sync(server.url)
    env.assert_intact(1)
    assert not _sync_threads()
    asked = {s.path for s in server.served if s.path.startswith("/files/")}
    assert len(asked) < 16  # the files after it were never asked for


def test_retries_after_a_first_try_wait_as_the_policy_says() -> None:
    """A download's first try is made without the retry machinery; the tries after it
    wait as they would have with it: 1, 2, then 4 times the backoff (plus jitter)."""
    options = download.DownloadOptions(attempts=4, backoff=1.0, backoff_max=8.0)
    waits: list[float] = []
    tries: list[int] = []

    def fail() -> None:
        tries.append(1)
        raise sync_errors.TruncatedError("cut", "")

    with pytest.raises(sync_errors.TruncatedError):
        download.retry_policy(options, waits.append, after_a_try=True)(fail)
    assert len(tries) == 3
    assert [int(w) for w in waits] == [1, 2, 4]
    waits.clear()
    with pytest.raises(sync_errors.TruncatedError):
        download.retry_policy(options, waits.append)(fail)
    assert [int(w) for w in waits] == [1, 2, 4]  # (four tries: the same waits)


@pytest.mark.parametrize(("piece", "fetchers"), [(1000, 1), (64 * KB + 1, 2)])
def test_pieces_of_any_size_and_resumed_parts(
    env: SyncEnv,
    servers: list[FaultServer],
    monkeypatch: pytest.MonkeyPatch,
    piece: int,
    fetchers: int,
) -> None:
    """Small or large pieces from the connection, one file at a time or several; each
    file broken off half way, then resumed (its part hashed again from the disk) and
    checked whole."""
    monkeypatch.setattr(transport, "HTTP_CHUNK", piece)
    feed = env.feed(2, [Doc("a", 200 * KB), Doc("b", 3 * KB)])
    server = _serve(servers, feed, **{"*": "truncate>ok"})
    download_options = replace(env.options.download, first_workers=fetchers)
    options = replace(env.options, download=download_options)
    result = env.sync(server.url, options=options)
    assert result.version == 2
    env.assert_intact(2)
    for f in _manifest_files(feed):
        assert [s.status for s in server.served if s.path == f"/{f['path']}"] == [200, 206]


def test_sidecars_only_for_large_files_or_broken_downloads(
    env: SyncEnv, servers: list[FaultServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small file that arrives in one go needs no sidecar; a large one gets it before
    its first byte (so that a crash keeps its part); one broken off, when it stops."""
    monkeypatch.setattr(download, "_SIDECAR_AT_ONCE", 100 * KB)
    written: list[str] = []
    original = download.Pool.write_sidecar

    def record(pool: download.Pool, f: download.FeedFile, *args: object) -> None:
        written.append(f.path)
        original(pool, f, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(download.Pool, "write_sidecar", record)
    feed = env.feed(2, [Doc("small", 30 * KB), Doc("broken", 60 * KB), Doc("large", 300 * KB)])
    paths = [str(f["path"]) for f in _manifest_files(feed)]
    _small, broken, large = sorted(paths, key=lambda path: (feed / path).stat().st_size)
    server = _serve(servers, feed, **{"/" + broken: "truncate>ok"})
    assert env.sync(server.url).version == 2
    # The broken one: when it stopped, and again as it was resumed.
    assert sorted(written) == sorted([large, broken, broken])


# --- sources and networks ------------------------------------------------------------------


def test_redirects_are_followed_to_the_same_server_and_to_another(
    env: SyncEnv, servers: list[FaultServer]
) -> None:
    feed = env.feed(2, [Doc("a", 40 * KB), Doc("b", 40 * KB)])
    elsewhere = _serve(servers, feed)
    here = _serve(servers, feed.parent)
    here.rules["**"] = f"redirect:{here.url}{feed.name}/"  # the manifest and its signature
    here.rules[f"/{feed.name}/{MANIFEST_NAME}"] = "ok"
    here.rules[f"/{feed.name}/{SIGNATURE_NAME}"] = "ok"
    here.rules["*"] = f"redirect:{elsewhere.url}"
    result = env.sync(here.url)
    assert result.version == 2 and result.files_downloaded == 2
    env.assert_intact(2)
    assert [s.status for s in here.served if s.path.startswith("/files/")] == [302, 302]
    assert sorted(s.path for s in elsewhere.served) == sorted(
        s.path for s in here.served if s.path.startswith("/files/")
    )


def test_redirects_to_plain_http_elsewhere_or_in_circles_are_refused(
    synced: tuple[SyncEnv, Path, FaultServer],
) -> None:
    env, feed, server = synced
    env.feed(3, [Doc("a"), Doc("c")], feed)
    server.rules["*"] = "redirect:http://feeds.example.org/"
    with pytest.raises(sync_errors.ServerError, match="not a secure address"):
        env.sync(server.url)
    env.assert_intact(2)
    server.rules["*"] = f"redirect:{server.url}"  # to itself, again and again
    with pytest.raises(sync_errors.ServerError, match="round in circles"):
        env.sync(server.url)
    env.assert_intact(2)


def test_first_mirror_bad_second_used(env: SyncEnv, servers: list[FaultServer]) -> None:
    feed = env.tmp / "origin"
    bad = _serve(servers, feed, **{"*": "corrupt"})
    good = _serve(servers, feed)
    origin = _serve(servers, feed, **{"*": "status:404"})
    env.feed(2, [Doc("a"), Doc("b")], feed, mirrors=[bad.url, good.url])
    result = env.sync(origin.url)
    assert result.version == 2 and result.files_downloaded == 2
    env.assert_intact(2)
    for server, status in ((origin, 404), (bad, 200), (good, 200)):
        assert sorted(s.status for s in server.served if "/files/" in s.path) == [status] * 2
    assert good.file_bytes() == sum(p.stat().st_size for p in (feed / "files").iterdir())


def test_known_mirror_serves_the_manifest_when_the_feed_is_down(
    env: SyncEnv, servers: list[FaultServer]
) -> None:
    feed = env.tmp / "origin"
    mirror = _serve(servers, feed)
    origin = _serve(servers, feed)
    env.feed(2, [Doc("a")], feed, mirrors=[mirror.url])
    env.sync(origin.url)
    env.feed(3, [Doc("a"), Doc("b")], feed, mirrors=[mirror.url])
    origin.rules["**"] = "status:502"
    result = env.sync(origin.url)
    assert result.version == 3 and result.source == mirror.url


def test_offline(env: SyncEnv) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connections are refused
        with pytest.raises(sync_errors.FeedOfflineError, match="could not be reached"):
            env.sync(f"http://127.0.0.1:{port}/feed/")
    env.assert_intact(1)


@pytest.mark.parametrize("host", ["feeds.aspire-hub.invalid", "flux-bücher.invalid"])
def test_dns_failure(env: SyncEnv, monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    asked: list[object] = []

    def no_names(name: object, *args: object, **kwargs: object) -> object:
        asked.append(name)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_names)  # no query ever leaves
    for var in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(sync_errors.DnsError, match="could not be found"):
        env.sync(f"https://{host}/feed/")
    assert asked and all(str(name).isascii() for name in asked)  # (an international name in IDNA)


@pytest.mark.parametrize(
    ("server", "why"),
    [
        (f"{'ü' * 70}.invalid", "label empty or too long"),
        ("faß.invalid", "read differently"),  # (IDNA 2003 and 2008 disagree on it)
        ("127.0.0.1:99999", "out of range"),
    ],
)
def test_a_server_that_cannot_be_asked(
    env: SyncEnv, monkeypatch: pytest.MonkeyPatch, server: str, why: str
) -> None:
    for var in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(sync_errors.FeedAddressError, match=f"cannot be used .*{why}"):
        env.sync(f"https://{server}/feed/")


def test_plain_http_only_to_this_computer(env: SyncEnv) -> None:
    with pytest.raises(sync_errors.FeedAddressError, match="only allowed for a server on"):
        env.sync("http://feeds.example.org/feed/")
    with pytest.raises(sync_errors.FeedAddressError, match="not an https address"):
        env.sync("ftp://feeds.example.org/feed/")


def _proxy_env(monkeypatch: pytest.MonkeyPatch, proxy: str) -> None:
    for var in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
    for var in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(var, proxy)


def test_proxy_asking_for_a_sign_in(
    env: SyncEnv, servers: list[FaultServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = _serve(servers, env.tmp, **{"**": "proxy-auth"})
    _proxy_env(monkeypatch, proxy.url)
    with pytest.raises(sync_errors.ProxyError, match="sign-in"):
        env.sync("http://127.0.0.1:9/feed/")
    assert proxy.served  # the request went through the system's proxy setting


def test_proxy_unreachable(env: SyncEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    _proxy_env(monkeypatch, "http://127.0.0.1:9")
    with pytest.raises(sync_errors.ProxyError, match=re.escape("proxy server http://127.0.0.1:9 ")):
        env.sync("http://127.0.0.1:8/feed/")


def test_untrusted_certificate(env: SyncEnv, servers: list[FaultServer]) -> None:
    feed = env.feed(2, [Doc("a")])
    server = FaultServer(feed, tls=self_signed_tls(env.tmp))
    servers.append(server)
    assert server.url.startswith("https://127.0.0.1:")
    with pytest.raises(sync_errors.TlsError, match="certificate is not trusted"):
        env.sync(server.url)
    env.assert_intact(1)


# --- the computer ----------------------------------------------------------------------------


def test_write_back_advice_that_fails_changes_nothing(
    env: SyncEnv, servers: list[FaultServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Starting a file's write early is only advice: if the system refuses it, the sync
    goes on (the fsync at the end is what makes the files durable)."""

    def refuse(*args: object) -> None:
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(download, "_FADVISE", refuse)
    feed = env.feed(2, [Doc("a", 40 * KB), Doc("b", 40 * KB)])
    assert env.sync(_serve(servers, feed).url).version == 2
    env.assert_intact(2)


def test_a_part_that_cannot_be_read_again_is_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    part = tmp_path / "x.part"
    part.write_bytes(b"12345")

    def unreadable(path: Path, length: int) -> object:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(download, "_hash_prefix", unreadable)
    job = download._Job(download.FeedFile("files/x.pdf", 10, "0" * 64, "application/pdf"))
    out = download._Output(job, part, 5)
    with pytest.raises(OSError, match="Input/output"):
        out.open()
    assert out._fd == -1


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs (needs root, as the test machines run)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"cannot mount a small tmpfs (root is needed): {proc.stderr}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)


def test_disk_full(env: SyncEnv, servers: list[FaultServer], small_disk: Path) -> None:
    store = ContentStore(small_disk / "content", env.store.baseline_dir)
    env.store = store
    feed = env.feed(2, [Doc("a", 100 * KB)])
    server = _serve(servers, feed)
    assert env.sync(server.url).version == 2  # fits
    env.feed(3, [Doc("a", 100 * KB), Doc("big", 1500 * KB)], feed)
    with pytest.raises(DiskFullError, match=r"disk holding .* is full") as caught:
        env.sync(server.url)
    assert "Free some space" in caught.value.what_to_do
    env.assert_intact(2)
    # Space freed (here: a larger disk), the next sync completes, resuming what it had.
    subprocess.run(["mount", "-o", "remount,size=8m", str(small_disk)], check=True)
    before = server.file_bytes()
    result = env.sync(server.url)
    assert result.version == 3 and server.file_bytes() - before < 1500 * KB
    env.assert_intact(3)


def test_cancel_keeps_content_and_parts(env: SyncEnv, servers: list[FaultServer]) -> None:
    # Pieces are up to 1 MB: stopped after the first, a 3 MB file is part-way.
    feed = env.feed(2, [Doc("a", 3072 * KB), Doc("b", 3072 * KB)])
    server = _serve(servers, feed)
    cancel = threading.Event()

    def on_progress(p: SyncProgress) -> None:
        if p.bytes_done > 100 * KB:
            cancel.set()

    with pytest.raises(sync_errors.SyncCancelledError, match="cancelled"):
        env.sync(server.url, progress=on_progress, cancel=cancel)
    env.assert_intact(1)
    parts = list((env.paths.content_dir / POOL).glob("*.part"))
    assert parts
    assert all(part.with_name(part.name.removesuffix(".part") + SIDECAR).exists() for part in parts)
    assert not _sync_threads()


def test_one_sync_at_a_time(env: SyncEnv) -> None:
    import fcntl
    import os

    env.paths.content_dir.mkdir(parents=True)
    fd = os.open(env.paths.content_dir / "sync.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(sync_errors.SyncBusyError, match="already running"):
            env.sync(env.tmp / "feed")
    finally:
        os.close(fd)


def test_key_rotation_and_revocation(env: SyncEnv, servers: list[FaultServer]) -> None:
    from aspire_desktop.core.sync import TrustConfig

    feed = env.tmp / "feed"
    server = _serve(servers, feed)
    new_key = make_key(env.tmp / "next", "next")
    next_line = new_key.public.splitlines()[1]
    env.feed(2, [Doc("a")], feed, next_key=next_line)  # signed by the current key
    env.sync(server.url)
    env.feed(3, [Doc("a"), Doc("b")], feed, key=new_key)  # signed by the next key
    assert env.sync(server.url).version == 3
    # A key nobody announced is still refused.
    env.feed(4, [Doc("a")], feed, key=make_key(env.tmp / "rogue", "rogue"))
    with pytest.raises(feed_errors.SignatureError, match="does not trust"):
        env.sync(server.url)
    # The next key revoked by configuration: refused, even though it was learned.
    env.feed(4, [Doc("a")], feed, key=new_key)
    revoked = TrustConfig(
        extra_keys=(env.key.public,), revoked_key_ids=(new_key.key_id,), include_shipped=False
    )
    with pytest.raises(feed_errors.SignatureError, match="withdrawn"):
        env.sync(server.url, trust=revoked)
    assert env.current() == (3, [])


def test_settings_proxy_mirrors_and_keys(
    env: SyncEnv, servers: list[FaultServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What central policy (or the user) sets reaches the sync: sync_now applies it."""
    from aspire_desktop.core.settings import SyncSettings
    from aspire_desktop.core.sync import sync_now

    for var in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    feed = env.tmp / "feed"
    origin = _serve(servers, feed, **{"**": "status:502", "*": "status:502"})
    mirror = _serve(servers, feed)
    env.feed(2, [Doc("a")], feed)
    settings = SyncSettings(
        feed_url=origin.url,
        trusted_public_keys=(env.key.public,),
        mirrors=(mirror.url,),
    )
    result = sync_now(env.paths, settings=settings, options=env.options)
    assert result.version == 2 and result.source == mirror.url
    # An explicit proxy from the settings is used, whatever the environment says.
    proxy = _serve(servers, env.tmp, **{"**": "proxy-auth"})
    settings = SyncSettings(
        feed_url="http://127.0.0.1:9/feed/", trusted_public_keys=(env.key.public,), proxy=proxy.url
    )
    with pytest.raises(sync_errors.ProxyError, match="sign-in"):
        sync_now(env.paths, settings=settings, options=env.options)
    assert proxy.served
    # "none": no proxy even when the environment names one.
    _proxy_env(monkeypatch, proxy.url)
    served = len(proxy.served)
    settings = SyncSettings(
        feed_url=mirror.url, trusted_public_keys=(env.key.public,), proxy="none"
    )
    assert not sync_now(env.paths, settings=settings, options=env.options).changed
    assert len(proxy.served) == served
