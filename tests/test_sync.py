"""Sync against a real nginx on 127.0.0.1: the happy path, the no-change sync, resume,
updates with What's new, keeping and removing versions, and the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from aspire_desktop.core.catalogue.reader import CatalogueReader
from aspire_desktop.core.settings import FEED_URL, STALE_AFTER_DAYS
from aspire_desktop.core.store import layout
from aspire_desktop.core.store.content import STAGE_PREFIX as STAGE
from aspire_desktop.core.sync import SyncProgress, sync_now, sync_status
from aspire_desktop.core.sync.download import POOL
from aspire_desktop.core.sync.errors import SyncCancelledError
from aspire_desktop.core.sync.state import load_state
from feedtools import Doc, SyncEnv, make_env
from servers import Nginx

pytestmark = pytest.mark.slow

MB = 1024 * 1024


@pytest.fixture
def env(tmp_path: Path, baseline: Path) -> SyncEnv:
    return make_env(tmp_path, baseline)


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[Nginx]:
    """nginx serving tmp/www (feeds are built into tmp/www/<name>)."""
    www = tmp_path / "www"
    www.mkdir()
    server = Nginx(www, tmp_path / "nginx")
    yield server
    server.stop()


def _www(env: SyncEnv, name: str = "feed") -> Path:
    return env.tmp / "www" / name


def _docs(n: int, size: int = 20_000, label: str = "v1") -> list[Doc]:
    return [Doc(f"r{i}", size, label=label) for i in range(n)]


def test_first_sync_from_nginx(env: SyncEnv, nginx: Nginx) -> None:
    env.feed(2, _docs(5), _www(env))
    steps: list[SyncProgress] = []
    result = env.sync(nginx.url + "feed/", progress=steps.append)

    assert result.changed and result.version == 2 and result.previous_version == 1
    assert result.added == ("r0", "r1", "r2", "r3", "r4")
    assert len(result.removed) == 10  # the shipped resources, not in this feed
    assert result.files_downloaded == 5 and result.files_reused == 0
    assert result.summary() == "Content updated to version 2: 5 added, 10 removed."
    env.assert_intact(2)
    # Exactly what the feed lists, each file once; signature before any file.
    log = nginx.log()
    assert [line.path for line in log[:2]] == ["/feed/manifest.json", "/feed/manifest.json.minisig"]
    assert sorted(line.path for line in log[2:]) == sorted(
        f"/feed/files/{f.name}" for f in (_www(env) / "files").iterdir()
    )
    assert all(line.status == 200 for line in log)
    # The catalogue the app opens is the feed's.
    opened = env.store.open_current()
    try:
        assert opened.reader.resource_count() == 5
        detail = opened.reader.detail("r3")
        assert detail is not None and detail.files[0].cached and detail.files[0].page_count == 1
        assert not opened.is_baseline
    finally:
        opened.close()
    # Progress went through the phases and ended with every file and byte counted.
    phases = [s.phase for s in steps]
    assert phases[0] == "checking" and phases[-1] == "done"
    last_download = [s for s in steps if s.phase == "downloading"][-1]
    assert last_download.files_done == last_download.files_total == 5
    assert last_download.bytes_done == last_download.bytes_total
    assert not list((env.paths.content_dir / POOL).iterdir())


def test_every_download_is_on_disk_before_the_new_version_is_put_in_place(
    env: SyncEnv, nginx: Nginx, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[tuple[str, str]] = []
    fsync, replace = os.fsync, os.replace

    def fsynced(fd: int) -> None:
        fsync(fd)
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))

    def replaced(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        replace(src, dst)
        events.append(("replace", str(src)))

    monkeypatch.setattr(os, "fsync", fsynced)
    monkeypatch.setattr(os, "replace", replaced)
    env.feed(2, _docs(6), _www(env))
    assert env.sync(nginx.url + "feed/").files_downloaded == 6
    staged = [n for n, (kind, path) in enumerate(events) if kind == "replace" and STAGE in path]
    assert len(staged) == 1
    downloads = env.store.content_dir / POOL
    done = [path for kind, path in events if kind == "replace" and path.endswith(".part")]
    assert len(done) == 6
    for part in done:
        complete = os.path.realpath(downloads / Path(part).name.removesuffix(".part"))
        assert events.index(("fsync", complete)) < staged[0]
    env.assert_intact(2)


def test_nochange_sync_is_one_conditional_request_and_no_file_bytes(
    env: SyncEnv, nginx: Nginx
) -> None:
    env.feed(2, _docs(3), _www(env))
    env.sync(nginx.url + "feed/")
    nginx.clear_log()

    result = env.sync(nginx.url + "feed/")

    assert not result.changed and result.version == 2
    assert result.requests == 1 and result.bytes_fetched == 0
    log = nginx.log()
    assert len(log) == 1
    assert (log[0].path, log[0].status, log[0].bytes_sent) == ("/feed/manifest.json", 304, 0)
    assert log[0].if_none_match not in ("", "-")
    assert result.summary() == "Your content is up to date (version 2)."
    state = load_state(env.paths.content_dir)
    assert state.last_synced is not None and state.last_checked == state.last_synced


def test_interrupted_sync_resumes_where_it_stopped(env: SyncEnv, nginx: Nginx) -> None:
    # Files of 3 MB, stopped at 4.5 MB: the second file is part-way (reads are <= 1 MB).
    env.feed(2, _docs(4, size=3 * MB), _www(env))
    cancel = threading.Event()

    def stop_half_way(p: SyncProgress) -> None:
        if p.phase == "downloading" and p.bytes_done >= 4.5 * MB:
            cancel.set()

    with pytest.raises(SyncCancelledError):
        env.sync(nginx.url + "feed/", progress=stop_half_way, cancel=cancel)
    env.assert_intact(1)  # still the shipped content
    pool = env.paths.content_dir / POOL
    on_disk = sum(p.stat().st_size for p in pool.iterdir() if not p.name.endswith(".json"))
    total = sum(p.stat().st_size for p in (_www(env) / "files").iterdir())
    assert 4.5 * MB <= on_disk < total
    assert list(pool.glob("*.part"))
    for part in pool.glob("*.part"):  # each with its sidecar, so that it is resumed
        assert part.with_name(part.name + ".json").exists()
    nginx.clear_log()

    result = env.sync(nginx.url + "feed/")

    assert result.changed and result.version == 2
    env.assert_intact(2)
    files = [line for line in nginx.log() if line.path.startswith("/feed/files/")]
    assert any(line.status == 206 and line.range.startswith("bytes=") for line in files)
    fetched = sum(line.bytes_sent for line in files)
    assert fetched == result.bytes_fetched
    assert fetched / (total - on_disk) <= 1.05


def test_update_reports_what_changed_and_reuses_unchanged_files(env: SyncEnv, nginx: Nginx) -> None:
    feed = _www(env)
    env.feed(2, [Doc("keep"), Doc("change"), Doc("drop"), Doc("old")], feed)
    env.sync(nginx.url + "feed/")
    nginx.clear_log()
    docs = [
        Doc("keep"),
        Doc("change", label="v2"),
        Doc("old", status="superseded", superseded_by="new"),
        Doc("new"),
        Doc("nothing", size=None),
    ]
    env.feed(3, docs, feed)

    result = env.sync(nginx.url + "feed/")

    assert (result.added, result.updated, result.removed, result.superseded) == (
        ("new", "nothing"),
        ("change",),
        ("drop",),
        ("old",),
    )
    assert result.files_reused == 2 and result.files_downloaded == 2
    fetched = sorted(line.path for line in nginx.log() if "/files/" in line.path)
    assert len(fetched) == 2  # only the changed and the new file
    env.assert_intact(3)
    # The previous version is kept for rollback, with the new one sharing unchanged files.
    previous = env.store.previous_version()
    current = env.store.pointed_version()
    assert previous is not None and current is not None
    assert layout.read_version_info(previous).version == 2
    shared = {p.name for p in (previous / "files").iterdir()} & {
        p.name for p in (current / "files").iterdir()
    }
    assert len(shared) == 2
    assert all(os.path.samefile(previous / "files" / n, current / "files" / n) for n in shared)


def test_versions_older_than_the_previous_are_removed_unless_open(
    env: SyncEnv, nginx: Nginx
) -> None:
    feed = _www(env)
    env.feed(2, [Doc("a")], feed)
    env.sync(nginx.url + "feed/")
    v2 = env.store.pointed_version()
    assert v2 is not None
    opened = env.store.open_current()  # the window has version 2 open
    try:
        env.feed(3, [Doc("a"), Doc("b")], feed)
        env.sync(nginx.url + "feed/")
        env.feed(4, [Doc("a"), Doc("c")], feed)
        result = env.sync(nginx.url + "feed/")
        assert result.removed_versions == ()
        assert v2.is_dir()  # in use: kept
        assert opened.reader.resource_count() == 1  # and still readable
    finally:
        opened.close()
    result = env.sync(nginx.url + "feed/")  # up to date; tidies up
    assert not result.changed
    assert not v2.exists()
    names = sorted(p.name for p in env.store.versions_dir.iterdir())
    assert len(names) == 2 and all(n.startswith(("v3-", "v4-")) for n in names)


def test_user_data_is_never_touched(env: SyncEnv, nginx: Nginx) -> None:
    from aspire_desktop.core.userdata.store import UserData

    userdata, _ = UserData.open(env.paths.userdata_db)
    userdata.set_setting("some.setting", [1, 2])
    userdata.close()
    before = {p.name: p.read_bytes() for p in env.paths.data_dir.glob("userdata.sqlite*")}
    env.feed(2, _docs(2), _www(env))
    env.sync(nginx.url + "feed/")
    env.feed(3, _docs(3), _www(env))
    env.sync(nginx.url + "feed/")
    after = {p.name: p.read_bytes() for p in env.paths.data_dir.glob("userdata.sqlite*")}
    assert after == before


def test_folder_and_file_url_feeds(env: SyncEnv) -> None:
    """A feed on a USB stick or a share: a plain path, or a file:// URL."""
    feed = env.feed(2, _docs(2), env.tmp / "usb" / "feed")
    result = env.sync(feed)
    assert result.changed and result.version == 2
    env.feed(3, _docs(3), feed)
    result = env.sync((feed / "manifest.json").as_uri())
    assert result.version == 3 and result.files_reused == 2
    assert not env.sync(feed).changed
    env.assert_intact(3)


def test_sync_now_reads_the_feed_from_the_settings(env: SyncEnv, nginx: Nginx) -> None:
    from aspire_desktop.core.settings import EXTRA_KEY
    from aspire_desktop.core.userdata.store import UserData

    env.feed(2, _docs(1), _www(env))
    userdata, _ = UserData.open(env.paths.userdata_db)
    userdata.set_setting(FEED_URL, nginx.url + "feed/")
    userdata.set_setting(EXTRA_KEY, env.key.public)
    userdata.close()
    result = sync_now(env.paths, options=env.options)
    assert result.version == 2
    status = sync_status(env.paths, _settings(env))
    assert status.version == 2 and status.last_synced is not None and not status.stale


def _settings(env: SyncEnv) -> object:
    from aspire_desktop.core.settings import read_settings

    return read_settings(env.paths.userdata_db)


def test_status_warns_quietly_when_content_is_old(env: SyncEnv) -> None:
    from datetime import UTC, datetime, timedelta

    from aspire_desktop.core.settings import SyncSettings

    status = sync_status(env.paths, SyncSettings(stale_after_days=30))
    assert status.version == 1 and status.last_synced is None
    later = datetime.fromisoformat(status.issued).replace(tzinfo=UTC) + timedelta(days=31)
    assert sync_status(env.paths, SyncSettings(stale_after_days=30), now=later).stale
    assert not sync_status(env.paths, SyncSettings(stale_after_days=40), now=later).stale
    assert STALE_AFTER_DAYS == "content.stale_after_days"


def _cli(env: SyncEnv, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aspire_desktop", *args],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _trust_key_by_setting(env: SyncEnv) -> None:
    from aspire_desktop.core.settings import EXTRA_KEY
    from aspire_desktop.core.userdata.store import UserData

    userdata, _ = UserData.open(env.paths.userdata_db)
    userdata.set_setting(EXTRA_KEY, env.key.public)
    userdata.close()


def test_cli_sync(env: SyncEnv, nginx: Nginx) -> None:
    _trust_key_by_setting(env)
    env.feed(2, _docs(2), _www(env))
    proc = _cli(env, "sync", "--feed", nginx.url + "feed/", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] and report["changed"] and report["version"] == 2
    assert report["added"] == ["r0", "r1"]
    proc = _cli(env, "sync", "--feed", nginx.url + "feed/")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "Your content is up to date (version 2)."
    reader = CatalogueReader(env.store.pointed_version() / layout.CATALOGUE)  # type: ignore[operator]
    try:
        assert reader.resource_count() == 2
    finally:
        reader.close()


def test_cli_sync_exit_codes(env: SyncEnv, nginx: Nginx) -> None:
    _trust_key_by_setting(env)
    proc = _cli(env, "sync")
    assert proc.returncode == 1
    assert "No content feed is set up" in proc.stderr
    # Unreachable: nothing listens on the port.
    proc = _cli(env, "sync", "--feed", "http://127.0.0.1:9/feed/", "--json")
    assert proc.returncode == 5
    error = json.loads(proc.stdout)["error"]
    assert error["kind"] == "FeedOfflineError" and "could not be reached" in error["message"]
    assert "has not changed" in error["what_to_do"]
    # Refused: signed with a key nobody trusts.
    from feedtools import make_key

    env.feed(2, _docs(1), _www(env), key=make_key(env.tmp / "other", "other"))
    proc = _cli(env, "sync", "--feed", nginx.url + "feed/")
    assert proc.returncode == 6
    assert "does not trust" in proc.stderr
    assert env.current() == (1, [])
    # Not https.
    proc = _cli(env, "sync", "--feed", "http://feeds.example.org/aspire/")
    assert proc.returncode == 1 and "plain http" in proc.stderr
