"""One running instance: a second start hands over its request and exits; a socket left
by a crashed instance is recovered."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from app_process import Trace, start_app, stop_app
from aspire_desktop.core import paths
from aspire_desktop.ui.instance import server_name
from pdfs import make_pdf

pytestmark = pytest.mark.slow


@pytest.fixture
def env(baseline, tmp_path):
    environment = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_RUNTIME_DIR=str(tmp_path))
    return environment


def test_second_start_hands_over_and_exits(env, tmp_path):
    trace = Trace(tmp_path / "trace")
    first = start_app(env, trace=trace)
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
        err = stop_app(first)
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
    first = start_app(env, trace=trace)
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
        stop_app(first)
        trace.close()
