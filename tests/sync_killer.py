"""Kill a sync with SIGKILL at many moments, and check what it leaves behind.

    python tests/sync_killer.py --work DIR --baseline DIR --old URL --new URL
                                --pubkey FILE --points N

A data folder is first synced to the old feed (the template). For each kill point, a copy
of the template is synced to the new feed in a forked child that is killed with SIGKILL:
either by itself at its k-th progress event (an exact moment: after a chunk, a file, a
step of staging, the switch), or by this process as soon as it has heard of the k-th
event over a pipe (a moment somewhere after it: inside a write, an fsync, the catalogue
build). Then, here: the catalogue must open, be entirely the old or entirely the new
version (compared with reference catalogues) and pass the deep check; and a next sync,
in another child, must complete and leave the new version. No sleeping: moments are
picked by events. Prints one JSON line with the counts.

Used by tests/test_sync_kill.py (a few dozen points) and benchmarks/bench_sync.py (200+).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

from aspire_desktop.core.store.content import ContentStore, verify_version
from aspire_desktop.core.sync import SyncOptions, SyncProgress, TrustConfig, run_sync
from aspire_desktop.core.sync.diff import fingerprints


class Killer:
    def __init__(self, args: argparse.Namespace) -> None:
        self.work: Path = args.work
        self.baseline: Path = args.baseline
        self.old: str = args.old
        self.new: str = args.new
        self.trust = TrustConfig(
            extra_keys=(args.pubkey.read_text(encoding="utf-8"),), include_shipped=False
        )
        self.options = SyncOptions(progress_interval=0.0)
        self.template = self.work / "template"
        self.reference: dict[int, dict[str, tuple[str, str]]] = {}

    def store(self, home: Path) -> ContentStore:
        return ContentStore(home / "content", self.baseline)

    def sync(self, home: Path, feed: str, **kwargs: Any) -> int:
        return run_sync(
            self.store(home), feed, trust=self.trust, options=self.options, **kwargs
        ).version

    def prepare(self) -> int:
        """The template (old version) and the reference catalogues; returns the number of
        progress events a whole old-to-new sync makes."""
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        old_version = self.sync(self.template, self.old)
        self.reference[old_version] = self.fingerprint(self.template)
        reference = self.work / "reference"
        shutil.copytree(self.template, reference)
        events: list[SyncProgress] = []
        new_version = self.sync(reference, self.new, progress=events.append)
        self.reference[new_version] = self.fingerprint(reference)
        self.new_version = new_version
        return len(events)

    def fingerprint(self, home: Path) -> dict[str, tuple[str, str]]:
        opened = self.store(home).open_current()
        try:
            return fingerprints(opened.info.catalogue)
        finally:
            opened.close()

    def whole(self, home: Path) -> int | None:
        """The version the app would open, if it is whole; None if it is not."""
        try:
            store = self.store(home)
            opened = store.open_current()
            try:
                version = opened.info.version
                same = fingerprints(opened.info.catalogue) == self.reference.get(version)
                problems = verify_version(opened, store)
            finally:
                opened.close()
        except Exception as exc:  # anything at all is a failure here
            print(f"cannot open after kill: {exc!r}", file=sys.stderr)
            return None
        if not same or problems or opened.notice is not None:
            print(f"version {version} not whole: {problems[:3]}", file=sys.stderr)
            return None
        return version

    def child(self, home: Path, kill_at: int | None, pipe: int | None) -> None:
        """In the forked child: sync; never returns."""
        count = 0

        def on_progress(p: SyncProgress) -> None:
            nonlocal count
            count += 1
            if pipe is not None and count == kill_at:
                os.write(pipe, b"k")
            if pipe is None and count == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

        code = 0
        try:
            self.sync(home, self.new, progress=on_progress)
        except BaseException as exc:
            print(f"sync failed: {exc!r}", file=sys.stderr)
            code = 3
        os._exit(code)

    def run_child(self, home: Path, kill_at: int | None, external: bool) -> int:
        """Fork a syncing child; returns its wait status."""
        read_end, write_end = os.pipe() if external else (None, None)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            if read_end is not None:
                os.close(read_end)
            self.child(home, kill_at, write_end)
        if write_end is not None and read_end is not None:
            os.close(write_end)
            if os.read(read_end, 1):  # the k-th event happened: kill it now
                os.kill(pid, signal.SIGKILL)
            os.close(read_end)
        _, status = os.waitpid(pid, 0)
        return status

    def point(self, n: int, kill_at: int, external: bool) -> dict[str, bool]:
        home = self.work / "run"
        shutil.rmtree(home, ignore_errors=True)
        shutil.copytree(self.template, home, symlinks=True)
        status = self.run_child(home, kill_at, external)
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        whole = self.whole(home) is not None
        status = self.run_child(home, None, False)
        completed = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        completed = completed and self.whole(home) == self.new_version
        if not (whole and completed):
            print(f"point {n} (event {kill_at}, external={external}) failed", file=sys.stderr)
        return {"killed": killed, "whole": whole, "completed": completed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--baseline", type=Path, required=True)
    parser.add_argument("--old", required=True)
    parser.add_argument("--new", required=True)
    parser.add_argument("--pubkey", type=Path, required=True)
    parser.add_argument("--points", type=int, default=30)
    args = parser.parse_args(argv)
    killer = Killer(args)
    start = time.monotonic()
    events = killer.prepare()
    results = []
    for n in range(args.points):
        # Spread over every event, alternating exact (self) and external kills.
        kill_at = 1 + (n * events) // args.points
        results.append(killer.point(n, kill_at, external=n % 2 == 1))
    shutil.rmtree(killer.work, ignore_errors=True)
    report = {
        "events": events,
        "points": args.points,
        "kill_points": sum(r["killed"] for r in results),
        "finished_before_kill": sum(not r["killed"] for r in results),
        "corrupt_after_kill": sum(r["killed"] and not r["whole"] for r in results),
        "next_sync_failed": sum(not r["completed"] for r in results),
        "seconds": round(time.monotonic() - start, 1),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
