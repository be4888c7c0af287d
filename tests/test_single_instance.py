"""One running instance: a second start hands over its request and exits; a socket left
by a crashed instance is recovered."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from aspire_desktop.core import paths
from aspire_desktop.ui.instance import server_name
from pdfs import make_pdf

pytestmark = pytest.mark.slow


class Trace:
    """Reads the app's start-up trace (a FIFO) as marks arrive."""

    def __init__(self, path: Path) -> None:
        os.mkfifo(path)
        self.path = path
        self.fd = os.open(path, os.O_RDWR)  # never blocks, never sees end-of-file
        self.buffer = b""
        self.marks: list[str] = []

    def wait_for(self, mark: str, timeout: float = 60) -> None:
        while mark not in self.marks:
            ready, _, _ = select.select([self.fd], [], [], timeout)
            assert ready, f"no '{mark}' within {timeout} s (got {self.marks})"
            self.buffer += os.read(self.fd, 4096)
            *lines, self.buffer = self.buffer.split(b"\n")
            self.marks += [line.split()[0].decode() for line in lines if line]

    def close(self) -> None:
        os.close(self.fd)


def _start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "aspire_desktop", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stop(proc: subprocess.Popen[str]) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=60)
    return err


@pytest.fixture
def env(baseline, tmp_path):
    environment = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_RUNTIME_DIR=str(tmp_path))
    return environment


def test_second_start_hands_over_and_exits(env, tmp_path):
    trace = Trace(tmp_path / "trace")
    first = _start(dict(env, ASPIRE_DESKTOP_TRACE_STARTUP=str(trace.path)))
    try:
        trace.wait_for("listening")
        pdf = make_pdf(tmp_path / "handout.pdf", pages=2)
        second = subprocess.run(
            [sys.executable, "-m", "aspire_desktop", "open", str(pdf), "--page", "2"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 0, second.stderr
        trace.wait_for("handoff")
        assert first.poll() is None  # the first one is still the one running
    finally:
        err = _stop(first)
        trace.close()
    assert first.returncode == 0 and "Traceback" not in err


def test_a_stale_socket_from_a_crash_is_recovered(env, tmp_path):
    os.environ["XDG_RUNTIME_DIR"] = env["XDG_RUNTIME_DIR"]
    try:
        name = server_name(paths.resolve())
    finally:
        del os.environ["XDG_RUNTIME_DIR"]
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(name)  # bound, never listening, then gone: what a crash leaves behind
    stale.close()
    assert Path(name).exists()
    trace = Trace(tmp_path / "trace")
    first = _start(dict(env, ASPIRE_DESKTOP_TRACE_STARTUP=str(trace.path)))
    try:
        trace.wait_for("listening")
        second = subprocess.run(
            [sys.executable, "-m", "aspire_desktop"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 0, second.stderr
        trace.wait_for("handoff")
    finally:
        _stop(first)
        trace.close()
