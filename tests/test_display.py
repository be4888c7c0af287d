"""Starting the window: plain words when it cannot, and a real X window when it can."""

from __future__ import annotations

import os
import select
import shutil
import subprocess

import pytest

from app_process import Trace, start_app, stop_app
from aspire_desktop.ui.app import display_problem

pytestmark = pytest.mark.slow


def test_no_display_is_said_in_plain_words():
    problem = display_problem({})
    assert problem is not None and problem.startswith("no display found")


def test_offscreen_needs_no_display():
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}) is None


def test_unreachable_display_is_caught_before_qt_aborts():
    problem = display_problem({"DISPLAY": ":7391"})
    assert problem is not None
    assert "display" in problem or "library" in problem


@pytest.fixture
def xvfb():
    """A real X server (Xvfb, installed by the README's test command) on a free display."""
    exe = shutil.which("Xvfb")
    assert exe, "Xvfb is missing: run the README's test command, which installs it"
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [exe, "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        ready, _, _ = select.select([read_fd], [], [], 30)
        assert ready, "Xvfb did not start"
        display = ":" + os.read(read_fd, 64).decode().strip()
        yield display
    finally:
        os.close(read_fd)
        proc.terminate()
        proc.wait(timeout=30)


def test_real_window_on_an_x_server(xvfb, baseline, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY",)}
    env.update(DISPLAY=xvfb, QT_QPA_PLATFORM="xcb")
    assert display_problem(env) is None
    trace = Trace(tmp_path / "trace")
    proc = start_app(env, trace=trace)
    try:
        assert "first-paint" in trace.wait_for("ready")
    finally:
        err = stop_app(proc)
        trace.close()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
