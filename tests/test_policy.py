"""Central policy: Group Policy over machine policy files over the user's own settings,
broken policy reported and the rest still applied, and doctor showing all of it."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from aspire_desktop.core import policy
from aspire_desktop.core.policy import (
    LOCKED_NOTE,
    REGISTRY_KEY,
    SETTINGS,
    EffectiveSettings,
    Origin,
    effective_settings,
    load_policy,
)
from aspire_desktop.core.settings import (
    AUTO_SYNC,
    FEED_URL,
    MIRRORS,
    PROXY,
    REVOKED_KEYS,
    STALE_AFTER_DAYS,
    SYNC_INTERVAL_HOURS,
    TRUSTED_KEYS,
    sync_settings,
)
from conftest import ROOT

SAMPLE = ROOT / "installer" / "linux" / "policy" / "aspire-desktop.json"
SHIPPED_KEY = next((ROOT / "src" / "aspire_desktop" / "core" / "feed" / "keys").glob("*.pub"))


class FakeRegistry:
    """Registry values by (hive, key), as Group Policy would leave them."""

    def __init__(self, **hives: dict[str, object]) -> None:
        self.hives = hives

    def values(self, hive: str, path: str) -> dict[str, object] | None:
        assert path == REGISTRY_KEY
        return self.hives.get(hive)


class UserSettings(dict[str, Any]):
    def setting(self, key: str, default: Any = None) -> Any:
        return self.get(key, default)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    managed = tmp_path / "policies" / "managed"
    managed.mkdir(parents=True)
    return managed


def write(folder: Path, name: str, data: Any) -> Path:
    path = folder / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def load(folder: Path, registry: FakeRegistry | None = None) -> policy.Policy:
    return load_policy(registry=registry or FakeRegistry(), folders=[folder])


def test_no_policy_leaves_the_users_settings_and_defaults(folder: Path) -> None:
    found = load(folder)
    assert (found.values, found.locks, found.problems, found.sources) == ({}, {}, [], [])
    user = UserSettings({FEED_URL: "https://feed.example.org/", STALE_AFTER_DAYS: 30})
    settings = EffectiveSettings(user, found)
    assert settings.explain(FEED_URL).value == "https://feed.example.org/"
    assert settings.explain(FEED_URL).origin == Origin("user")
    assert str(settings.explain(AUTO_SYNC).origin) == "default"
    assert settings.explain(AUTO_SYNC).value is True
    assert not any(e.locked for e in settings.all())
    assert sync_settings(settings).stale_after_days == 30


def test_a_policy_file_wins_over_the_users_setting_and_locks_it(folder: Path) -> None:
    path = write(folder, "council.json", {"FeedUrl": "https://feed.council.example/aspire/"})
    settings = EffectiveSettings(
        UserSettings({FEED_URL: "https://mine.example/", AUTO_SYNC: False}), load(folder)
    )
    feed = settings.explain(FEED_URL)
    assert feed.value == "https://feed.council.example/aspire/"
    assert str(feed.origin) == f"policy file {path}"
    assert feed.locked and settings.is_locked(FEED_URL)
    assert str(settings.policy.locked_by(FEED_URL)) == f"policy file {path}"
    # What policy does not set stays the user's, and theirs to change.
    assert settings.explain(AUTO_SYNC).value is False
    assert not settings.is_locked(AUTO_SYNC)
    read = sync_settings(settings)
    assert (read.feed_url, read.automatic) == ("https://feed.council.example/aspire/", False)
    assert LOCKED_NOTE == "Managed by your organisation"


def test_later_policy_files_win_and_sources_are_listed_highest_first(folder: Path) -> None:
    first = write(folder, "10-defaults.json", {"AutoSync": True, "StaleAfterDays": 60})
    second = write(folder, "50-site.json", {"AutoSync": False})
    write(folder, "notes.txt", "not a policy file")
    found = load(folder)
    assert found.values[AUTO_SYNC] == (False, Origin("policy-file", str(second)))
    assert found.values[STALE_AFTER_DAYS] == (60, Origin("policy-file", str(first)))
    assert found.sources == [str(second), str(first)]


def test_group_policy_wins_over_files_and_the_computer_over_the_user(folder: Path) -> None:
    write(folder, "site.json", {"FeedUrl": "https://file.example/", "Proxy": "none"})
    registry = FakeRegistry(
        HKLM={"feedurl": "https://gpo.example/feed/", "AutoSync": 0, "FeedMirrors": []},
        HKCU={"FeedUrl": "https://user-gpo.example/", "SyncIntervalHours": 6},
    )
    found = load(folder, registry)
    machine = Origin("group-policy", rf"HKLM\{REGISTRY_KEY}")
    assert found.values[FEED_URL] == ("https://gpo.example/feed/", machine)
    assert found.values[AUTO_SYNC] == (False, machine)  # a DWORD 0
    assert found.values[SYNC_INTERVAL_HOURS][0] == 6
    assert found.values[PROXY][0] == "none"
    assert found.sources[:2] == [rf"HKLM\{REGISTRY_KEY}", rf"HKCU\{REGISTRY_KEY}"]
    assert str(machine) == rf"Group Policy (HKLM\{REGISTRY_KEY})"
    assert found.problems == []


def test_the_msis_registry_values_are_read(folder: Path) -> None:
    """msiexec ... FEED_URL=... AUTOSYNC=0 writes text values; absent ones are empty."""
    found = load(folder, FakeRegistry(HKLM={"FeedUrl": "", "AutoSync": "0"}))
    assert found.values == {AUTO_SYNC: (False, Origin("group-policy", rf"HKLM\{REGISTRY_KEY}"))}
    assert found.problems == []
    nothing = load(folder, FakeRegistry(HKLM={"FeedUrl": " ", "AutoSync": ""}))
    assert (nothing.values, nothing.sources) == ({}, [])
    hours = load(folder, FakeRegistry(HKLM={"SyncIntervalHours": "12", "AutoSync": "yes"}))
    assert hours.values[SYNC_INTERVAL_HOURS][0] == 12
    [problem] = hours.problems
    assert problem.message.startswith("AutoSync: expected true or false")


def test_every_policy_kind_is_read(folder: Path) -> None:
    key = SHIPPED_KEY.read_text(encoding="utf-8")
    write(
        folder,
        "all.json",
        {
            "$comment": "Everything, once.",
            "FeedUrl": r"\\fileserver\aspire\feed",
            "FeedMirrors": ["https://mirror.example/aspire/"],
            "TrustedKeys": [key, key.splitlines()[-1]],
            "RevokedKeyIds": ["1a2b3c4d"],
            "AutoSync": False,
            "SyncIntervalHours": 12,
            "StaleAfterDays": 45,
            "Proxy": "http://proxy.example:3128",
        },
    )
    found = load(folder)
    assert found.problems == []
    values = {k: v for k, (v, _o) in found.values.items()}
    assert values[FEED_URL] == r"\\fileserver\aspire\feed"
    assert values[MIRRORS] == ["https://mirror.example/aspire/"]
    assert len(values[TRUSTED_KEYS]) == 2
    assert values[REVOKED_KEYS] == ["000000001A2B3C4D"]
    assert values[PROXY] == "http://proxy.example:3128"
    shown = {e.setting.name: e.display_value for e in EffectiveSettings(None, found).all()}
    assert shown["TrustedKeys"] == "2 key(s)"
    assert shown["AutoSync"] == "off"
    assert set(found.values) == {s.key for s in SETTINGS}


def test_a_file_that_is_not_json_is_reported_and_the_rest_still_applies(
    folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = write(folder, "broken.json", '{"AutoSync": false,\n "FeedUrl": }')
    write(folder, "good.json", {"StaleAfterDays": 14})
    with caplog.at_level(logging.ERROR, logger="aspire_desktop.core.policy"):
        found = load(folder)
    assert found.values[STALE_AFTER_DAYS][0] == 14
    assert AUTO_SYNC not in found.values  # the broken file is left out whole
    [problem] = found.problems
    assert problem.where == str(broken)
    assert "not valid JSON" in problem.message and "line 2" in problem.message
    assert any(str(broken) in r.getMessage() for r in caplog.records)
    assert all(r.levelno == logging.ERROR for r in caplog.records)


@pytest.mark.parametrize(
    ("entries", "wanted"),
    [
        ({"FeedURL2": "https://x.example/"}, "unknown policy 'FeedURL2' (did you mean FeedUrl?)"),
        ({"AutoSync": "no"}, "AutoSync: expected true or false"),
        ({"AutoSync": 2}, "AutoSync: expected true or false"),
        ({"AutoSync": 0}, None),  # as in the registry
        ({"SyncIntervalHours": 0}, "SyncIntervalHours: expected a whole number from 1 to 720"),
        ({"StaleAfterDays": 3.5}, "StaleAfterDays: expected a whole number"),
        ({"FeedUrl": ""}, "FeedUrl: expected a non-empty text"),
        ({"FeedUrl": "http://feed.example/"}, "is not an https address"),
        ({"FeedMirrors": ["ftp://m.example/"]}, "is not an https address"),
        ({"FeedMirrors": "https://m.example/"}, None),  # one text is a one-item list
        ({"Proxy": "socks"}, "expected 'system', 'none' or a proxy address"),
        ({"Proxy": "http://proxy.example:port"}, "port that is not a number"),
        ({"TrustedKeys": ["not a key"]}, "is not a minisign public key"),
        ({"RevokedKeyIds": ["xyz"]}, "is not a key id"),
        ({"LockedSettings": ["FeedUrl", "Colour"]}, "'Colour' cannot be locked"),
    ],
)
def test_bad_entries_are_reported_and_good_ones_kept(
    folder: Path, entries: dict[str, Any], wanted: str | None
) -> None:
    write(folder, "00-good.json", {"StaleAfterDays": 7})
    write(folder, "policy.json", entries)
    found = load(folder)
    assert found.values[STALE_AFTER_DAYS][0] == 7
    if wanted is None:
        assert found.problems == []
    else:
        [problem] = found.problems
        assert wanted in problem.message


def test_a_file_must_hold_an_object(folder: Path) -> None:
    write(folder, "list.json", '["FeedUrl"]')
    [problem] = load(folder).problems
    assert "one JSON object" in problem.message


def test_an_unreadable_file_is_reported(folder: Path) -> None:
    (folder / "binary.json").write_bytes(b"\xff\xfe\x00bad")
    [problem] = load(folder).problems
    assert "cannot be read" in problem.message


def test_a_missing_folder_is_no_policy(tmp_path: Path) -> None:
    found = load_policy(registry=FakeRegistry(), folders=[tmp_path / "absent"])
    assert found.problems == [] and found.sources == []


def test_unknown_registry_values_are_reported(folder: Path) -> None:
    found = load(folder, FakeRegistry(HKLM={"AutoSync": 5, "Colour": "blue", "StaleAfterDays": 9}))
    assert found.values[STALE_AFTER_DAYS][0] == 9
    messages = sorted(p.message for p in found.problems)
    assert messages[0].startswith("AutoSync: expected true or false")
    assert messages[1].startswith("unknown policy 'Colour'")


def test_locked_settings_keep_the_default_and_ignore_the_users_value(folder: Path) -> None:
    path = write(folder, "lock.json", {"LockedSettings": ["AutoSync", "Proxy"]})
    user = UserSettings({AUTO_SYNC: False, PROXY: "none", STALE_AFTER_DAYS: 10})
    settings = EffectiveSettings(user, load(folder))
    auto = settings.explain(AUTO_SYNC)
    assert (auto.value, auto.locked, str(auto.origin)) == (True, True, "default")
    assert auto.origin_text == "default (locked by policy)"
    assert settings.setting(AUTO_SYNC, True) is True
    assert settings.setting(PROXY, "system") == "system"
    assert settings.setting(STALE_AFTER_DAYS) == 10
    assert load(folder).locks[PROXY] == Origin("policy-file", str(path))
    assert load(folder).locked_by(PROXY) == Origin("policy-file", str(path))
    assert load(folder).locked_by(STALE_AFTER_DAYS) is None


def test_everything_can_be_locked_at_once(folder: Path) -> None:
    write(folder, "kiosk.json", {"LockedSettings": ["*"], "StaleAfterDays": 5})
    settings = EffectiveSettings(UserSettings({FEED_URL: "https://mine.example/"}), load(folder))
    assert all(e.locked for e in settings.all())
    assert settings.setting(FEED_URL) is None
    assert settings.setting(STALE_AFTER_DAYS) == 5


def test_a_bad_user_value_falls_back_to_the_default() -> None:
    settings = EffectiveSettings(UserSettings({SYNC_INTERVAL_HOURS: "often"}), policy.Policy())
    explained = settings.explain(SYNC_INTERVAL_HOURS)
    assert (explained.value, str(explained.origin)) == (24, "default")


def test_the_shipped_sample_policy_is_valid_and_sets_nothing(folder: Path) -> None:
    write(folder, SAMPLE.name, SAMPLE.read_text(encoding="utf-8"))
    found = load(folder)
    assert found.problems == [] and found.values == {} and found.locks == {}


def test_the_users_database_is_read_without_writing(folder: Path, isolated_home: Path) -> None:
    from aspire_desktop.core.userdata.store import UserData

    db = isolated_home / "userdata.sqlite"
    db.parent.mkdir(parents=True)
    userdata, _notice = UserData.open(db)
    userdata.set_setting(AUTO_SYNC, False)
    userdata.set_setting(FEED_URL, "https://mine.example/")
    userdata.close()
    before = db.read_bytes()
    write(folder, "p.json", {"FeedUrl": "https://policy.example/"})
    settings = effective_settings(db, load(folder))
    assert sync_settings(settings).automatic is False
    assert sync_settings(settings).feed_url == "https://policy.example/"
    assert db.read_bytes() == before


def test_policy_folders_are_the_machine_ones() -> None:
    assert policy.policy_folders() == [Path("/etc/aspire-desktop/policies/managed")]
    assert policy.WindowsRegistry().values("HKLM", REGISTRY_KEY) is None  # not on Linux


# --- doctor -----------------------------------------------------------------------------


@pytest.fixture
def machine_policy(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(policy, "policy_folders", lambda: [folder])
    return folder


def test_doctor_shows_settings_their_sources_and_policy_problems(
    machine_policy: Path, baseline: Path
) -> None:
    from aspire_desktop.core import doctor, paths

    good = write(machine_policy, "council.json", {"AutoSync": False, "LockedSettings": ["Proxy"]})
    bad = write(machine_policy, "typo.json", {"AutoSynk": True})
    report = doctor.run(paths.resolve())
    assert not report["ok"]
    text = doctor.format_text(report)
    assert f"Sync automatically (AutoSync): off  [policy file {good}, locked]" in text
    assert "Proxy (Proxy): system  [default, locked]" in text
    assert "Feed address (FeedUrl): not set  [default]" in text
    assert f"[PROBLEM] central policy: {bad}: unknown policy 'AutoSynk'" in text
    assert "Last sync: never" in text

    report = json.loads(json.dumps(report))
    assert report["policy"]["sources"] == [str(bad), str(good)]
    [problem] = report["policy"]["problems"]
    assert problem.startswith(f"{bad}: unknown policy 'AutoSynk' (did you mean AutoSync?)")
    auto = next(s for s in report["settings"] if s["name"] == "AutoSync")
    assert auto == {
        "name": "AutoSync",
        "key": AUTO_SYNC,
        "label": "Sync automatically",
        "value": False,
        "shown": "off",
        "source": f"policy file {good}",
        "source_kind": "policy-file",
        "locked": True,
    }
    assert report["sync"] == {"last_checked": None, "last_synced": None}


def test_doctor_is_happy_with_a_good_policy(machine_policy: Path, baseline: Path) -> None:
    from aspire_desktop.core import doctor, paths

    path = write(machine_policy, "council.json", {"StaleAfterDays": 30})
    report = doctor.run(paths.resolve())
    assert report["ok"]
    assert f"[ok     ] central policy: read from {path}" in doctor.format_text(report)
    assert doctor.run(paths.resolve(), policy.Policy())["checks"][-1]["detail"] == "none set"


# --- the window ---------------------------------------------------------------------------


def test_the_window_reports_broken_policy_and_diagnostics_copies_the_report(
    machine_policy: Path, baseline: Path, qtbot: Any
) -> None:
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QWidget

    from aspire_desktop.ui.library import NoticeBar
    from gui_helpers import main_window

    write(machine_policy, "council.json", {"FeedUrl": "https://feed.council.example/"})
    bad = write(machine_policy, "zz-broken.json", "{")
    with main_window(qtbot) as window:
        qtbot.waitUntil(lambda: bool(window.library.findChildren(NoticeBar)))
        [notice] = window.library.findChildren(NoticeBar)
        assert "organisation's settings" in notice.label.text()
        assert "Diagnostics" in notice.label.text()

        dialog = window.show_diagnostics()
        assert window.findChild(QWidget, "diagnosticsDialog") is dialog
        assert not dialog.copy_button.isEnabled()
        qtbot.waitUntil(lambda: dialog.report is not None, timeout=20_000)
        assert dialog.summary.text().startswith("Some checks found problems: central policy")
        text = dialog.text.toPlainText()
        assert f"[policy file {machine_policy / 'council.json'}, locked]" in text
        assert f"{bad}: is not valid JSON" in text
        assert "Content: version 1" in text and "Last sync: never" in text
        assert "[ok     ] catalogue and cached files" in text
        dialog.copy_button.click()
        assert QGuiApplication.clipboard().text() == text
        assert dialog.summary.text().endswith("The report is on the clipboard.")
        dialog.close()
