"""Where the app keeps its data: --data-dir, ASPIRE_DESKTOP_HOME, platformdirs, baseline."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from aspire_desktop.core import paths


def _folders(p: paths.Paths) -> list[Path]:
    return [p.data_dir, p.config_dir, p.cache_dir, p.log_dir]


def test_data_dir_beats_home_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path / "from-env"))
    resolved = paths.resolve(tmp_path / "from-flag")
    root = (tmp_path / "from-flag").resolve()
    assert resolved.portable is True
    assert resolved.data_dir == root / "data"
    assert resolved.config_dir == root / "config"
    assert resolved.cache_dir == root / "cache"
    assert resolved.log_dir == root / "logs"
    assert all(not str(f).startswith(str(tmp_path / "from-env")) for f in _folders(resolved))


def test_home_env_beats_platformdirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path / "from-env"))
    resolved = paths.resolve()
    root = (tmp_path / "from-env").resolve()
    assert resolved.portable is True
    assert _folders(resolved) == [root / "data", root / "config", root / "cache", root / "logs"]
    assert resolved.userdata_db == root / "data" / "userdata.sqlite"
    assert resolved.content_dir == root / "data" / "content"
    assert resolved.ui_state_file == root / "config" / "ui-state.ini"
    assert resolved.log_file == root / "logs" / "aspire-desktop.log"


def test_home_env_with_tilde_is_expanded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.HOME_ENV, "~/portable")
    resolved = paths.resolve()
    assert resolved.data_dir == Path(os.environ["HOME"]).resolve() / "portable" / "data"


def test_empty_home_env_means_platformdirs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.HOME_ENV, "")
    assert paths.resolve().portable is False


def test_platformdirs_land_under_the_fake_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(paths.HOME_ENV)
    fake_home = Path(os.environ["HOME"])
    assert fake_home == tmp_path / "home"  # conftest's fake HOME, never the real one
    resolved = paths.resolve()
    assert resolved.portable is False
    for folder in _folders(resolved):
        assert folder.is_relative_to(fake_home), folder
        assert "aspire-desktop" in folder.parts
    # Four separate folders, as the platform expects.
    assert len(set(_folders(resolved))) == 4
    # Resolving creates nothing: folders are made on demand.
    assert list(fake_home.iterdir()) == []


def test_ensure_creates_folders_on_demand(tmp_path: Path) -> None:
    resolved = paths.resolve(tmp_path / "p")
    assert not resolved.log_dir.exists()
    assert resolved.ensure(resolved.log_dir) == resolved.log_dir
    assert resolved.log_dir.is_dir()
    resolved.ensure(resolved.log_dir)  # twice is fine


def test_current_resolves_once_and_reset_clears(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = paths.resolve(tmp_path / "flag")
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path / "other"))
    assert paths.current() is first  # the start-up choice sticks
    paths.reset_for_tests()
    assert paths.current().data_dir == (tmp_path / "other").resolve() / "data"


def test_paths_are_frozen(tmp_path: Path) -> None:
    resolved = paths.resolve(tmp_path)
    with pytest.raises(AttributeError):
        resolved.data_dir = tmp_path  # type: ignore[misc]


def _fake_content(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "content.json").write_text(json.dumps({"format": 1, "version": 1}))
    return folder


def test_baseline_env_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content = _fake_content(tmp_path / "content")
    monkeypatch.setenv(paths.BASELINE_ENV, str(content))
    assert paths.baseline_candidates() == [content]
    assert paths.baseline_dir() == content


def test_baseline_env_folder_without_manifest_gives_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "catalogue.sqlite").write_bytes(b"")  # not enough: content.json is the marker
    monkeypatch.setenv(paths.BASELINE_ENV, str(empty))
    assert paths.baseline_dir() is None
    monkeypatch.setenv(paths.BASELINE_ENV, str(tmp_path / "does-not-exist"))
    assert paths.baseline_dir() is None


def test_baseline_manifest_must_be_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "content"
    (folder / "content.json").mkdir(parents=True)
    monkeypatch.setenv(paths.BASELINE_ENV, str(folder))
    assert paths.baseline_dir() is None


def test_baseline_env_with_tilde(monkeypatch: pytest.MonkeyPatch) -> None:
    content = _fake_content(Path(os.environ["HOME"]) / "shipped")
    monkeypatch.setenv(paths.BASELINE_ENV, "~/shipped")
    assert paths.baseline_dir() == content


def test_baseline_candidates_without_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(paths.BASELINE_ENV, raising=False)
    candidates = paths.baseline_candidates()
    assert candidates, "there is always somewhere to look"
    assert all(c.name == "content" for c in candidates)
    # A source checkout's build output is the last resort.
    assert candidates[-1] == Path(paths.__file__).resolve().parents[3] / "build" / "content"


def test_baseline_fixture_points_at_shipped_content(baseline: Path) -> None:
    assert paths.baseline_dir() == baseline
    assert (baseline / "content.json").is_file()
