"""The installed command started as a real process: it comes up, and shuts down cleanly."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _read_marks(fifo: Path, want: str, timeout: float) -> dict[str, float]:
    """Read 'name time' lines from the app's start-up trace until ``want`` arrives."""
    marks: dict[str, float] = {}
    # Opened read-write (Linux): never blocks, and never sees end-of-file while the app
    # has not opened its end yet, so select() waits for real data.
    fd = os.open(fifo, os.O_RDWR)
    buffer = b""
    try:
        while want not in marks:
            ready, _, _ = select.select([fd], [], [], timeout)
            assert ready, f"no '{want}' from the app within {timeout} s (got {marks})"
            buffer += os.read(fd, 4096)
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                name, stamp = line.decode().split()
                marks[name] = float(stamp)
    finally:
        os.close(fd)
    return marks


def test_app_starts_and_shuts_down_cleanly(baseline, isolated_home, tmp_path):
    fifo = tmp_path / "trace"
    os.mkfifo(fifo)
    env = dict(os.environ, ASPIRE_DESKTOP_TRACE_STARTUP=str(fifo), QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen(
        [sys.executable, "-m", "aspire_desktop"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        marks = _read_marks(fifo, "ready", timeout=60)
        assert marks["first-paint"] <= marks["ready"]
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    # It saved its window state and wrote its log under the data folder, nowhere else.
    assert (isolated_home / "config" / "ui-state.ini").is_file()
    assert (isolated_home / "logs" / "aspire-desktop.log").is_file()
    assert (isolated_home / "data" / "userdata.sqlite").is_file()
    assert not any(Path(os.environ["HOME"]).iterdir())
