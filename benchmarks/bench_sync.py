"""Sync benchmark: throughput against curl, the no-change sync, resume, and kill -9.

    .venv/bin/python benchmarks/bench_sync.py [--runs 7] [--kill-points 220]

Everything is made in a temporary folder and served by nginx on 127.0.0.1: a feed of 200
test PDFs of 1 MB each (random bytes attached, so nothing compresses), built and signed
with ``aspire-pack build``'s core. Progress goes to stderr; the last line on stdout is
one JSON object (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from aspire_desktop.core.catalogue.source import load_source  # noqa: E402
from aspire_desktop.core.store.build import build_content  # noqa: E402
from aspire_desktop.core.store.content import ContentStore  # noqa: E402
from aspire_desktop.core.sync import (  # noqa: E402
    SyncOptions,
    SyncProgress,
    TrustConfig,
    run_sync,
)
from aspire_desktop.core.sync.errors import SyncCancelledError  # noqa: E402
from feedtools import Doc, build, make_key, write_source  # noqa: E402
from servers import Nginx  # noqa: E402

MB = 1024 * 1024
FILES = 200
TARGETS = {
    "throughput_ratio": (">=", 0.8),
    "nochange_requests": ("==", 1),
    "nochange_file_bytes": ("==", 0),
    "resume_bytes_ratio": ("<=", 1.05),
    "kill_points": (">=", 200),
    "corrupt_after_kill": ("==", 0),
}


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class Bench:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.www = tmp / "www"
        self.www.mkdir()
        self.key = make_key(tmp / "keys")
        self.trust = TrustConfig(extra_keys=(self.key.public,), include_shipped=False)
        self.baseline = build_content(
            load_source(ROOT / "resources" / "catalogue.toml"), tmp / "baseline"
        )
        self.homes = 0

    def store(self) -> ContentStore:
        self.homes += 1
        return ContentStore(self.tmp / "homes" / str(self.homes) / "content", self.baseline)

    def sync(self, store: ContentStore, url: str, **kwargs: object) -> object:
        return run_sync(store, url, trust=self.trust, **kwargs)  # type: ignore[arg-type]


def build_big_feed(bench: Bench) -> list[str]:
    start = time.monotonic()
    docs = [Doc(f"big-{i:03d}", MB) for i in range(FILES)]
    build(write_source(bench.tmp / "src-big", 2, docs), bench.www / "big", bench.key)
    files = sorted((bench.www / "big" / "files").iterdir())
    say(f"built the 200 MB feed in {time.monotonic() - start:.1f} s")
    return [f"big/files/{p.name}" for p in files]


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def curl_once(nginx: Nginx, paths: list[str], out: Path) -> tuple[float, float]:
    """Wall and CPU seconds of curl fetching every file over one connection."""
    out.mkdir(parents=True)
    args = []
    for n, path in enumerate(paths):
        args += ["-o", str(out / f"{n}.pdf"), nginx.url + path]
    cpu = cpu_seconds(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(["curl", "-s", "--fail", *args], check=True)
    return time.perf_counter() - start, cpu_seconds(resource.RUSAGE_CHILDREN) - cpu


def sync_once(bench: Bench, nginx: Nginx) -> tuple[float, float]:
    """Wall and CPU seconds (all threads) of a full sync into a fresh data folder."""
    store = bench.store()
    cpu = cpu_seconds(resource.RUSAGE_SELF)
    start = time.perf_counter()
    result = bench.sync(store, nginx.url + "big/", options=SyncOptions())
    elapsed = time.perf_counter() - start
    assert result.changed and result.files_downloaded == FILES  # type: ignore[attr-defined]
    return elapsed, cpu_seconds(resource.RUSAGE_SELF) - cpu


def throughput(bench: Bench, nginx: Nginx, paths: list[str], runs: int) -> dict[str, float]:
    """Interleaved runs of each. Each run's files are deleted as soon as it is measured,
    so that no run starts while the system still has another run's writes pending."""

    def curl_run(name: str) -> tuple[float, float]:
        measured = curl_once(nginx, paths, bench.tmp / name)
        shutil.rmtree(bench.tmp / name)
        return measured

    def sync_run() -> tuple[float, float]:
        measured = sync_once(bench, nginx)
        shutil.rmtree(bench.tmp / "homes" / str(bench.homes))
        return measured

    curl_runs, sync_runs = [], []
    sync_run()  # warm-up: imports, page cache of the served files
    curl_run("curl-warm")
    for n in range(runs):
        curl_runs.append(curl_run(f"curl-{n}"))
        sync_runs.append(sync_run())
        say(
            f"run {n + 1}: curl {curl_runs[-1][0]:.2f} s ({curl_runs[-1][1]:.2f} s CPU), "
            f"sync {sync_runs[-1][0]:.2f} s ({sync_runs[-1][1]:.2f} s CPU)"
        )
    curl = statistics.median(r[0] for r in curl_runs)
    sync = statistics.median(r[0] for r in sync_runs)
    total = FILES * MB
    return {
        "throughput_ratio": round(curl / sync, 3),
        "curl_seconds": round(curl, 3),
        "sync_seconds": round(sync, 3),
        "curl_cpu_seconds": round(statistics.median(r[1] for r in curl_runs), 3),
        "sync_cpu_seconds": round(statistics.median(r[1] for r in sync_runs), 3),
        "sync_mb_per_s": round(total / MB / sync, 1),
        "curl_mb_per_s": round(total / MB / curl, 1),
    }


def nochange(bench: Bench, nginx: Nginx) -> dict[str, int]:
    store = bench.store()
    bench.sync(store, nginx.url + "big/")
    nginx.clear_log()
    result = bench.sync(store, nginx.url + "big/")
    log = nginx.log()
    assert not result.changed  # type: ignore[attr-defined]
    return {
        "nochange_requests": len(log),
        "nochange_file_bytes": sum(line.bytes_sent for line in log if "/files/" in line.path),
    }


def resume(bench: Bench, nginx: Nginx) -> dict[str, float]:
    store = bench.store()
    cancel = threading.Event()

    def half_way(p: SyncProgress) -> None:
        if p.phase == "downloading" and p.bytes_done >= p.bytes_total // 2:
            cancel.set()

    try:
        bench.sync(store, nginx.url + "big/", progress=half_way, cancel=cancel)
        raise AssertionError("the sync was not interrupted")
    except SyncCancelledError:
        pass
    pool = store.content_dir / "downloads"
    on_disk = sum(p.stat().st_size for p in pool.iterdir() if not p.name.endswith(".json"))
    remaining = sum(p.stat().st_size for p in (bench.www / "big" / "files").iterdir()) - on_disk
    nginx.clear_log()
    result = bench.sync(store, nginx.url + "big/")
    fetched = sum(line.bytes_sent for line in nginx.log() if "/files/" in line.path)
    assert result.changed  # type: ignore[attr-defined]
    return {
        "resume_bytes_ratio": round(fetched / remaining, 4),
        "resume_bytes_on_disk": on_disk,
        "resume_bytes_fetched": fetched,
    }


def kills(bench: Bench, nginx: Nginx, points: int) -> dict[str, int]:
    """The kill loop works in memory (/dev/shm) where there is one: a process killed
    leaves the page cache as it was, so the file system does not change what is tested,
    and each point costs a third."""
    old = [Doc(f"r{i}", 12_000) for i in range(8)]
    build(write_source(bench.tmp / "src-old", 2, old), bench.www / "old", bench.key)
    new = [Doc(f"r{i}", 12_000, label="v2" if i < 3 else "v1") for i in range(6)]
    new += [Doc(f"n{i:03d}", 12_000) for i in range(90)]
    build(write_source(bench.tmp / "src-new", 3, new), bench.www / "new", bench.key)
    shm = Path("/dev/shm")
    memory = tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else bench.tmp)
    with memory as kill_name:
        kill_dir = Path(kill_name)
        proc = _run_killer(bench, nginx, kill_dir, points)
    if proc.returncode != 0:
        say(proc.stderr)
        raise SystemExit("the kill loop failed")
    report: dict[str, int] = json.loads(proc.stdout.splitlines()[-1])
    return {
        "kill_points": report["kill_points"],
        "corrupt_after_kill": report["corrupt_after_kill"],
        "next_sync_failed_after_kill": report["next_sync_failed"],
        "kill_events": report["events"],
        "kill_seconds": report["seconds"],
    }


def _run_killer(
    bench: Bench, nginx: Nginx, kill_dir: Path, points: int
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "tests" / "sync_killer.py"),
            "--work",
            str(kill_dir / "kill"),
            "--baseline",
            str(bench.baseline),
            "--old",
            nginx.url + "old/",
            "--new",
            nginx.url + "new/",
            "--pubkey",
            str(bench.key.public_file),
            "--points",
            str(points),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def missed(report: dict[str, object]) -> list[str]:
    out = []
    for key, (op, target) in TARGETS.items():
        value = report[key]
        assert isinstance(value, int | float)
        ok = {">=": value >= target, "<=": value <= target, "==": value == target}[op]
        if not ok:
            out.append(f"{key} {value} (target {op} {target})")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="throughput runs (median)")
    parser.add_argument("--kill-points", type=int, default=220)
    args = parser.parse_args()
    if shutil.which("curl") is None:
        raise SystemExit("curl is needed for the comparison")
    start = time.monotonic()
    load_before = round(os.getloadavg()[0], 2)
    report: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="aspire-bench-sync-") as tmp_name:
        tmp = Path(tmp_name)
        os.environ["ASPIRE_DESKTOP_HOME"] = str(tmp / "unused-home")
        bench = Bench(tmp)
        paths = build_big_feed(bench)
        nginx = Nginx(bench.www, tmp / "nginx")
        try:
            report |= throughput(bench, nginx, paths, args.runs)
            say(f"throughput ratio {report['throughput_ratio']}")
            report |= nochange(bench, nginx)
            say(f"no change: {report['nochange_requests']} request(s)")
            report |= resume(bench, nginx)
            say(f"resume: ratio {report['resume_bytes_ratio']}")
            report |= kills(bench, nginx, args.kill_points)
            say(f"kill -9: {report['kill_points']} points, {report['corrupt_after_kill']} bad")
        finally:
            nginx.stop()
    report["load_avg_1min"] = [load_before, round(os.getloadavg()[0], 2)]
    report["seconds"] = round(time.monotonic() - start, 1)
    report["missed"] = missed(report)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
