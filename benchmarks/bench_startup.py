"""Start-up and browsing benchmark on the generated 10,000-resource catalogue.

Usage: python benchmarks/bench_startup.py [--runs N] [--rounds N] [--content DIR]

Start-up is measured against a bare PySide6 window started in the same run, so the
ratios hold on any machine:

* ``first_paint_ratio``: (app spawn -> main window first painted) divided by
  (bare spawn -> bare window first painted); target <= 1.2.
* ``ready_ratio``: (app spawn -> "ready": category tree and the first category's list
  painted) divided by the same bare figure; target <= 2.0.

Each app run gets a fresh, empty ``ASPIRE_DESKTOP_HOME`` (first-run cost counted); a
home reused from earlier runs is reported alongside (``*_warm_home_ms``). App and bare
runs are interleaved, one warm-up of each is discarded, and ratios are median/median.
Milestones come from the app's ``ASPIRE_DESKTOP_TRACE_STARTUP`` trace, read from a
FIFO with ``select()`` timeouts.

Browsing is measured in a child process running the window in-process (offscreen):
switching through every category and typing filter text character by character, each
sample timed until the resource list's viewport has been repainted. Targets: p95 below
50 ms each, and resident memory afterwards (``rss_mb``) below 250 MB.

The last line printed is one JSON object with the results.
"""

from __future__ import annotations

import argparse
import ctypes
import itertools
import json
import math
import operator
import os
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TRACE_ENV = "ASPIRE_DESKTOP_TRACE_STARTUP"  # as aspire_desktop.ui.app.TRACE_ENV
HOME_ENV = "ASPIRE_DESKTOP_HOME"
BASELINE_ENV = "ASPIRE_DESKTOP_BASELINE"

TARGETS = {  # figure: (comparison that must hold, limit)
    "first_paint_ratio": (operator.le, 1.2),
    "ready_ratio": (operator.le, 2.0),
    "category_switch_p95_ms": (operator.lt, 50.0),
    "filter_p95_ms": (operator.lt, 50.0),
    "rss_mb": (operator.lt, 250.0),
}
LAUNCH_TIMEOUT_S = 30.0
FILTER_PHRASES = ("adult", "harm", "protection plan")
PAINT_EVENT_BOUND = 1000  # processEvents() calls allowed before a sample counts as unpainted

# The reference: the least a PySide6 app can do to show a window of the app's size.
BARE_WINDOW = f"""
import os, sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

trace = open(os.environ[{TRACE_ENV!r}], "a", buffering=1, encoding="utf-8")
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.resize(1280, 800)


class FirstPaint(QObject):
    done = False

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and obj is window and not self.done:
            self.done = True
            trace.write(f"first-paint {{time.time():.6f}}\\n")
            QTimer.singleShot(0, app.quit)
        return False


painted = FirstPaint()
window.installEventFilter(painted)
window.show()
app.exec()
trace.write(f"exit {{time.time():.6f}}\\n")
trace.close()
"""


def log(message: str) -> None:
    print(message, flush=True)


def p95(samples: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


# Content --------------------------------------------------------------------------------


def build_sample(out: Path) -> Path:
    from aspire_desktop.core.catalogue.generate import generate
    from aspire_desktop.core.store.build import build_content

    return build_content(generate(50, 10_000), out, label="sample")


# Start-up ---------------------------------------------------------------------------------


@dataclass
class Launch:
    """One traced process that exited cleanly: its milestones in ms after spawn."""

    marks: dict[str, float]
    terminated_at: float | None  # ms after spawn when SIGTERM was sent


class LaunchError(RuntimeError):
    pass


class Trace:
    """The read end of a trace FIFO: ``name unix-time`` lines from one process."""

    def __init__(self, fifo: Path) -> None:
        # Opened before the process is spawned, so its open() for writing never blocks.
        self._fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        self._buf = b""
        self.marks: dict[str, float] = {}
        self.eof = False

    def close(self) -> None:
        os.close(self._fd)

    def read_until(self, mark: str | None, proc: subprocess.Popen[bytes], deadline: float) -> None:
        """Read lines until ``mark`` has been seen, or (``mark`` None) until EOF."""
        while not self.eof and (mark is None or mark not in self.marks):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LaunchError(f"timed out waiting for {mark or 'exit'}: {sorted(self.marks)}")
            ready, _, _ = select.select([self._fd], [], [], min(remaining, 0.5))
            if not ready:
                if proc.poll() is not None:  # it died without ever opening the trace
                    raise LaunchError(f"exited with {proc.returncode}: {sorted(self.marks)}")
                continue
            chunk = os.read(self._fd, 4096)
            if not chunk:  # every writer has closed it: the process is ending
                self.eof = True
            *lines, self._buf = (self._buf + chunk).split(b"\n")
            for line in lines:
                name, _, stamp = line.decode().partition(" ")
                self.marks[name] = float(stamp)


def launch(cmd: list[str], env: dict[str, str], stop_after: str | None, work: Path) -> Launch:
    """Spawn ``cmd`` with its trace on a FIFO; SIGTERM it once ``stop_after`` is traced.

    With ``stop_after`` None the process is expected to quit by itself.
    """
    fifo = work / "trace.fifo"
    os.mkfifo(fifo)
    trace = Trace(fifo)
    stderr_path = work / "stderr.txt"
    terminated_at: float | None = None
    try:
        with open(stderr_path, "wb") as stderr:
            spawn = time.time()
            proc = subprocess.Popen(
                cmd, env=env | {TRACE_ENV: str(fifo)}, stdout=subprocess.DEVNULL, stderr=stderr
            )
        try:
            deadline = time.monotonic() + LAUNCH_TIMEOUT_S
            if stop_after is not None:
                trace.read_until(stop_after, proc, deadline)
                terminated_at = time.time()
                proc.send_signal(signal.SIGTERM)
            trace.read_until(None, proc, deadline)
            returncode = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    finally:
        trace.close()
        fifo.unlink()
    marks = trace.marks
    needed = {"first-paint", "exit"} | ({stop_after} if stop_after else set())
    if returncode != 0 or not needed <= marks.keys():
        tail = stderr_path.read_text(errors="replace")[-2000:]
        raise LaunchError(
            f"{cmd[1:]} exited with {returncode}, trace {sorted(marks)}; stderr:\n{tail}"
        )
    return Launch(
        {name: (stamp - spawn) * 1000 for name, stamp in marks.items()},
        None if terminated_at is None else (terminated_at - spawn) * 1000,
    )


def child_env(tmp: Path) -> dict[str, str]:
    """The environment for measured processes, with a bytecode cache as an install has.

    Python then reads compiled modules as it does from an installed app, even where
    PYTHONDONTWRITEBYTECODE is set (a source checkout would otherwise be compiled on
    every launch); the cache lives in the run's temporary folder, and the discarded
    warm-up launches fill it.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    return env


def measure_startup(content: Path, runs: int, tmp: Path) -> dict[str, float]:
    base_env = child_env(tmp) | {"QT_QPA_PLATFORM": "offscreen", BASELINE_ENV: str(content)}
    base_env.pop(HOME_ENV, None)
    app_cmd = [sys.executable, "-m", "aspire_desktop"]
    bare_cmd = [sys.executable, "-c", BARE_WINDOW]
    warm_home = tmp / "warm-home"
    homes = itertools.count()

    def bare() -> Launch:
        return launch(bare_cmd, base_env, None, tmp)

    def app(home: Path | None = None) -> Launch:
        if home is None:
            home = tmp / f"home-{next(homes)}"  # created by the app: a first run
        return launch(app_cmd, base_env | {HOME_ENV: str(home)}, "ready", tmp)

    def app_warm() -> Launch:
        return app(warm_home)

    first = app_warm()  # warm-up; also leaves the warm home as a user's would be
    log(
        f"warm-up: app first launch (empty home) first-paint {first.marks['first-paint']:.0f} ms, "
        f"ready {first.marks['ready']:.0f} ms; bare first-paint "
        f"{bare().marks['first-paint']:.0f} ms (both discarded)"
    )
    kinds: dict[str, Callable[[], Launch]] = {"bare": bare, "app": app, "app_warm": app_warm}
    results: dict[str, list[Launch]] = {kind: [] for kind in kinds}
    order = list(kinds)
    for run in range(runs):
        rotated = order[run % len(order) :] + order[: run % len(order)]  # no fixed order bias
        for kind in rotated:
            results[kind].append(kinds[kind]())
        b, a, w = (results[k][-1] for k in order)
        log(
            f"run {run + 1}/{runs}: bare {b.marks['first-paint']:.0f} ms | app first-paint "
            f"{a.marks['first-paint']:.0f} ms, ready {a.marks['ready']:.0f} ms | warm home "
            f"{w.marks['first-paint']:.0f} / {w.marks['ready']:.0f} ms"
        )

    def median(kind: str, mark: str) -> float:
        return statistics.median(launch.marks[mark] for launch in results[kind])

    def exit_ms(launch: Launch) -> float:
        assert launch.terminated_at is not None
        return launch.marks["exit"] - launch.terminated_at

    bare_ms = median("bare", "first-paint")
    return {
        "bare_first_paint_ms": bare_ms,
        "app_first_paint_ms": median("app", "first-paint"),
        "app_ready_ms": median("app", "ready"),
        "app_first_paint_warm_home_ms": median("app_warm", "first-paint"),
        "app_ready_warm_home_ms": median("app_warm", "ready"),
        "app_exit_ms": statistics.median(exit_ms(launch) for launch in results["app"]),
        "first_paint_ratio": median("app", "first-paint") / bare_ms,
        "ready_ratio": median("app", "ready") / bare_ms,
    }


# Browsing (run in a child process: ``--browse CONTENT``) ------------------------------------


def _guard_none_refcount(app: object) -> bool:
    """Whether Qt's void methods drop a reference to None (PySide6 6.12.0 on Python 3.11).

    Each call then takes one reference from None, and once they run out the interpreter
    aborts ("none_dealloc: deallocating None"); the app itself would after enough use.
    So the browsing can finish, None is given a large stock of references here: where
    None is immortal (Python 3.12+) or the bindings are right, this does nothing.
    """
    before = sys.getrefcount(None)
    for _ in range(100):
        app.processEvents()  # type: ignore[attr-defined]
    if before - sys.getrefcount(None) < 100:
        return False
    log(
        "WARNING: every call to a void Qt method drops a reference to None: this PySide6 "
        "build on this Python will abort with 'deallocating None' after enough use"
    )
    ctypes.c_ssize_t.from_address(id(None)).value += 1 << 40
    return True


def browse(content: Path, rounds: int) -> dict[str, float]:
    """Switch categories and type filters in a live window; time each until repainted."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ[BASELINE_ENV] = str(content)
    from PySide6.QtCore import QEvent, QModelIndex, QObject
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from aspire_desktop.core import paths
    from aspire_desktop.core.store.content import ContentStore
    from aspire_desktop.ui.app import STYLE
    from aspire_desktop.ui.context import AppContext
    from aspire_desktop.ui.mainwindow import MainWindow
    from aspire_desktop.ui.models import ALL_RESOURCES, ID_ROLE

    app = QApplication(sys.argv[:1])
    app.setStyleSheet(STYLE)
    none_leak = _guard_none_refcount(app)
    with tempfile.TemporaryDirectory(prefix="aspire-bench-home-") as home:
        resolved = paths.resolve(home)
        store = ContentStore(resolved.content_dir, paths.baseline_dir())
        ctx = AppContext(resolved, store, store.open_current())
        window = MainWindow(ctx)
        viewport = window.resource_view.viewport()

        class PaintSeen(QObject):
            seen = False

            def eventFilter(self, obj: QObject, event: QEvent) -> bool:
                if obj is viewport and event.type() == QEvent.Type.Paint:
                    self.seen = True
                return False

        painted = PaintSeen()
        viewport.installEventFilter(painted)
        unpainted = 0

        def timed(action: Callable[[], object]) -> float:
            """ms from the action until the list's viewport has been painted."""
            nonlocal unpainted
            painted.seen = False
            start = time.perf_counter()
            action()
            for _ in range(PAINT_EVENT_BOUND):
                app.processEvents()
                if painted.seen:
                    break
            else:
                unpainted += 1
            return (time.perf_counter() - start) * 1000

        window.show()
        timed(lambda: None)  # first paint
        # As in the app: user data and the integrity check start once the window is up.
        window.start_background()
        ctx.background(lambda: None).result(timeout=60)  # the integrity check has run
        ctx.userdata(lambda _u: None).result(timeout=60)  # the database is open
        deadline = time.monotonic() + 10
        while not window._userdata_ready and time.monotonic() < deadline:  # requests loaded
            app.processEvents()

        tree = window.categories
        nodes = [QModelIndex()]  # "All resources" and every category, in tree order
        for parent in nodes:
            nodes.extend(tree.index(row, 0, parent) for row in range(tree.rowCount(parent)))
        nodes = nodes[1:]
        ids = [node.data(ID_ROLE) for node in nodes]
        switch: list[float] = []
        for _ in range(rounds):
            for node in nodes:
                switch.append(timed(lambda node=node: window.category_view.setCurrentIndex(node)))
        log(
            f"category switch: {len(switch)} samples over {len(ids)} nodes, "
            f"median {statistics.median(switch):.1f} ms, p95 {p95(switch):.1f} ms, "
            f"max {max(switch):.1f} ms"
        )

        typing: dict[str, list[float]] = {}
        edit = window.filter_edit
        for label, cid in (("All resources", ALL_RESOURCES), ("a category", ids[1])):
            window.select_category(cid)
            timed(lambda: None)
            samples = typing.setdefault(label, [])
            for _ in range(rounds):
                for phrase in FILTER_PHRASES:
                    for char in phrase:
                        samples.append(timed(lambda char=char: QTest.keyClick(edit, char)))
                    if window.resources.filter_text != phrase:
                        raise RuntimeError(f"typing {phrase!r} filtered on {edit.text()!r}")
                    samples.append(timed(edit.clear))
        filter_all = [s for samples in typing.values() for s in samples]
        for label, samples in typing.items():
            log(
                f"filter typing on {label}: {len(samples)} samples, median "
                f"{statistics.median(samples):.1f} ms, p95 {p95(samples):.1f} ms, "
                f"max {max(samples):.1f} ms"
            )

        status = Path("/proc/self/status").read_text()
        memory = {
            line.split(":")[0]: int(line.split()[1]) / 1024
            for line in status.splitlines()
            if line.startswith(("VmRSS:", "VmHWM:"))
        }
        window.close()
        ctx.shutdown()
    return {
        "category_switch_p95_ms": p95(switch),
        "category_switch_median_ms": statistics.median(switch),
        "filter_p95_ms": p95(filter_all),
        "filter_all_resources_p95_ms": p95(typing["All resources"]),
        "filter_category_p95_ms": p95(typing["a category"]),
        "filter_median_ms": statistics.median(filter_all),
        "rss_mb": memory["VmRSS"],
        "rss_peak_mb": memory["VmHWM"],
        "unpainted_samples": unpainted,
        "none_leak": none_leak,
    }


def child_json(args: list[str], tmp: Path, timeout: float, what: str) -> dict[str, Any]:
    """Run this interpreter on ``args``; its progress lines are logged, and its last line
    is the JSON result."""
    proc = subprocess.run(
        [sys.executable, *args],
        env=child_env(tmp),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    lines = proc.stdout.strip().splitlines()
    for line in lines[:-1]:
        log(line)
    return dict(json.loads(lines[-1]))


def measure_browsing(content: Path, rounds: int, tmp: Path) -> dict[str, float]:
    args = [__file__, "--browse", str(content), "--rounds", str(rounds)]
    return child_json(args, tmp, 300, "browsing")


# Main -------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="measured launches of each (9)")
    parser.add_argument("--rounds", type=int, default=2, help="browsing rounds (2)")
    parser.add_argument("--content", type=Path, help="an existing content folder to use")
    parser.add_argument("--browse", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.browse is not None:
        print(json.dumps(browse(args.browse, args.rounds)))
        return 0

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="aspire-bench-") as tmp_name:
        tmp = Path(tmp_name)
        content = args.content
        if content is None:
            log("building the 10,000-resource sample catalogue…")
            content = build_sample(tmp / "content")
        startup = measure_startup(content, args.runs, tmp)
        browsing = measure_browsing(content, args.rounds, tmp)

    figures = startup | browsing
    result: dict[str, object] = {
        key: round(figures[key], 2 if key.endswith("ratio") else 1)
        for key in (
            "first_paint_ratio",
            "ready_ratio",
            "category_switch_p95_ms",
            "filter_p95_ms",
            "rss_mb",
            "bare_first_paint_ms",
            "app_first_paint_ms",
            "app_ready_ms",
            "app_first_paint_warm_home_ms",
            "app_ready_warm_home_ms",
            "app_exit_ms",
            "category_switch_median_ms",
            "filter_median_ms",
            "filter_all_resources_p95_ms",
            "filter_category_p95_ms",
            "rss_peak_mb",
        )
    }
    result["unpainted_samples"] = int(figures["unpainted_samples"])
    result["none_leak"] = bool(figures["none_leak"])
    result["runs"] = args.runs
    result["missed"] = [
        key for key, (holds, limit) in TARGETS.items() if not holds(figures[key], limit)
    ]
    result["seconds"] = round(time.monotonic() - started)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
