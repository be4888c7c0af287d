"""The installed command started as a real process: it comes up, and shuts down cleanly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app_process import Trace, start_app, stop_app

pytestmark = pytest.mark.slow


def test_app_starts_and_shuts_down_cleanly(baseline, isolated_home, tmp_path):
    trace = Trace(tmp_path / "trace")
    proc = start_app(dict(os.environ, QT_QPA_PLATFORM="offscreen"), trace=trace)
    try:
        marks = trace.wait_for("ready")
        assert marks["first-paint"] <= marks["ready"]
    finally:
        err = stop_app(proc)
        trace.close()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    # It saved its window state and wrote its log under the data folder, nowhere else.
    assert (isolated_home / "config" / "ui-state.ini").is_file()
    assert (isolated_home / "logs" / "aspire-desktop.log").is_file()
    assert (isolated_home / "data" / "userdata.sqlite").is_file()
    assert not any(Path(os.environ["HOME"]).iterdir())
