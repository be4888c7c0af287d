"""Starting the window: plain words when it cannot, and a real X window when it can."""

from __future__ import annotations

import os

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
