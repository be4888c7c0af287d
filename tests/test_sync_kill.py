"""The sync process killed with SIGKILL at many moments (tests/sync_killer.py): afterwards
the catalogue opens, is one whole version, and the next sync completes. The benchmark
runs the same loop with more than 200 kill points."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from feedtools import Doc, SyncEnv, make_env
from servers import Nginx

pytestmark = pytest.mark.slow

KILLER = Path(__file__).resolve().parent / "sync_killer.py"


@pytest.fixture
def env(tmp_path: Path, baseline: Path) -> SyncEnv:
    return make_env(tmp_path, baseline)


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[Nginx]:
    (tmp_path / "www").mkdir()
    server = Nginx(tmp_path / "www", tmp_path / "nginx")
    yield server
    server.stop()


def test_sync_killed_at_many_moments_leaves_one_whole_version(env: SyncEnv, nginx: Nginx) -> None:
    www = env.tmp / "www"
    old = [Doc(f"r{i}", 12_000) for i in range(6)]
    env.feed(2, old, www / "old")
    new = [Doc(f"r{i}", 12_000, label="v2" if i < 2 else "v1") for i in range(5)]
    new += [Doc(f"n{i}", 12_000) for i in range(12)]
    env.feed(3, new, www / "new")
    proc = subprocess.run(
        [
            sys.executable,
            str(KILLER),
            "--work",
            str(env.tmp / "kill"),
            "--baseline",
            str(env.store.baseline_dir),
            "--old",
            nginx.url + "old/",
            "--new",
            nginx.url + "new/",
            "--pubkey",
            str(env.key.public_file),
            "--points",
            "30",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.splitlines()[-1])
    assert report["events"] >= 30
    assert report["kill_points"] >= 25, report
    assert report["corrupt_after_kill"] == 0, proc.stderr
    assert report["next_sync_failed"] == 0, proc.stderr
