"""Shared fixtures. Every test runs with its own data folder and a fake home, so nothing
is ever written into the real user's folders."""

from __future__ import annotations

import gc
import os
import select
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Two virtual screens (a laptop and a projector), so presenting is tested as it is used.
os.environ["QT_QPA_PLATFORM"] = (
    f"offscreen:configfile={Path(__file__).resolve().parent / 'screens.json'}"
)
os.environ.pop("ASPIRE_DESKTOP_TRACE_STARTUP", None)

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = ROOT / "resources"

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session", autouse=True)
def collect_on_the_main_thread() -> Iterator[None]:
    """As the app does (ui/collector.py): no automatic garbage collection, which could
    run on a worker thread and destroy Qt objects there; collect between tests instead."""
    gc.disable()
    yield
    gc.enable()


@pytest.fixture(autouse=True)
def _collect_after_each_test() -> Iterator[None]:
    yield
    gc.collect()


@pytest.fixture(scope="session")
def shipped_content(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped content, built from resources/ the way the app ships it."""
    from aspire_desktop.core.catalogue.source import load_source
    from aspire_desktop.core.store.build import build_content

    out = tmp_path_factory.mktemp("shipped") / "content"
    return build_content(load_source(RESOURCES / "catalogue.toml"), out)


@pytest.fixture(scope="session")
def large_content(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated 10,000-resource, 50-category catalogue."""
    from aspire_desktop.core.catalogue.generate import generate
    from aspire_desktop.core.store.build import build_content

    out = tmp_path_factory.mktemp("large") / "content"
    return build_content(generate(50, 10_000), out, label="sample")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fake HOME and XDG folders, and ASPIRE_DESKTOP_HOME pointing into tmp."""
    from aspire_desktop.core import paths

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path / "aspire-home"))
    paths.reset_for_tests()
    yield tmp_path / "aspire-home"
    paths.reset_for_tests()


@pytest.fixture
def baseline(shipped_content: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the app at the shipped content."""
    from aspire_desktop.core import paths

    monkeypatch.setenv(paths.BASELINE_ENV, str(shipped_content))
    return shipped_content


@pytest.fixture
def large_baseline(large_content: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from aspire_desktop.core import paths

    monkeypatch.setenv(paths.BASELINE_ENV, str(large_content))
    return large_content


@pytest.fixture
def xvfb() -> Iterator[str]:
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
