"""Central policy: settings an organisation sets for every user of a computer.

Where a setting's value comes from, highest first:

1. Windows Group Policy: registry values under ``HKLM\\SOFTWARE\\Policies\\ASPire Desktop``
   (then the same key under HKCU), written by Group Policy (ADMX template in
   ``installer/windows/policy``) or by the MSI's ``FEED_URL``/``AUTOSYNC`` properties.
2. Machine policy files: every ``*.json`` in the managed policy folder
   (``/etc/aspire-desktop/policies/managed`` on Linux,
   ``%ProgramData%\\ASPire Desktop\\policies\\managed`` on Windows), read in name order;
   when two files set the same policy, the later name wins.
3. The user's own settings.
4. The default.

A setting given a value by policy is enforced and locked: the user's own value does not
count and the Preferences dialog shows "Managed by your organisation". ``LockedSettings``
locks settings at their default without giving them a value.

A broken policy (a file that is not JSON, a name nobody knows, a value of the wrong kind)
is never silently ignored: each problem is logged as an error and listed by
``aspire-desktop doctor`` and the diagnostics page, and only the broken part is left out;
the rest of the policy still applies.

Nothing here writes anything. The registry is read through :class:`PolicyRegistry`, so
tests on Linux give a fake one.
"""

from __future__ import annotations

import difflib
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from aspire_desktop import APP_ID, APP_NAME
from aspire_desktop.core.settings import (
    AUTO_SYNC,
    DEFAULT_STALE_AFTER_DAYS,
    DEFAULT_SYNC_INTERVAL_HOURS,
    FEED_URL,
    MIRRORS,
    PROXY,
    REVOKED_KEYS,
    STALE_AFTER_DAYS,
    SYNC_INTERVAL_HOURS,
    TRUSTED_KEYS,
    ReadOnlySettings,
    SettingsSource,
)

log = logging.getLogger(__name__)

#: What the Preferences dialog shows beside a locked setting.
LOCKED_NOTE = "Managed by your organisation"

REGISTRY_KEY = rf"SOFTWARE\Policies\{APP_NAME}"
#: The policy name that locks settings without giving them a value.
LOCKED_SETTINGS = "LockedSettings"
#: A name allowed in policy files for a note; it is ignored.
COMMENT = "$comment"


class PolicyValueError(ValueError):
    """A policy value of the wrong kind; the message says what was expected."""


# --- What policy can set --------------------------------------------------------------


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PolicyValueError("expected a non-empty text")
    return value.strip()


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):  # one registry string (REG_SZ) for a one-item list
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyValueError("expected a list of texts")
    return [v.strip() for v in value if v.strip()]


def _feed_address(value: Any) -> str:
    text = _text(value)
    if urlsplit(text).scheme.lower() in ("http", "https"):
        _web_address(text)
    return text


def _web_address(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise PolicyValueError(f"{text!r} is not an https address")
    return text


def _mirrors(value: Any) -> list[str]:
    return [_web_address(v) for v in _texts(value)]


_KEY_ID = re.compile(r"^[0-9A-Fa-f]{1,16}$")


def _key_ids(value: Any) -> list[str]:
    from aspire_desktop.core.feed.signing import normalise_key_id

    ids = _texts(value)
    for key_id in ids:
        if not _KEY_ID.match(key_id):
            raise PolicyValueError(f"{key_id!r} is not a key id (up to 16 hexadecimal digits)")
    return [normalise_key_id(k) for k in ids]


def _public_keys(value: Any) -> list[str]:
    from aspire_desktop.core.feed.signing import parse_public_key

    keys = _texts(value)
    for key in keys:
        try:
            parse_public_key(key)
        except ValueError as exc:
            raise PolicyValueError(f"{key[:24]!r}… is not a minisign public key") from exc
    return keys


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):  # a registry DWORD
        return bool(value)
    raise PolicyValueError("expected true or false (1 or 0 in the registry)")


def _whole(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise PolicyValueError(f"expected a whole number from {low} to {high}")
        return value

    return check


def _proxy(value: Any) -> str:
    text = _text(value)
    if text.lower() in ("system", "none"):
        return text.lower()
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise PolicyValueError(
            "expected 'system', 'none' or a proxy address such as http://proxy.example:3128"
        )
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError as exc:
        raise PolicyValueError(f"{text!r} has a port that is not a number") from exc
    return text


@dataclass(frozen=True)
class PolicySetting:
    """One setting that policy can set: its policy name, settings key and checks."""

    name: str
    key: str
    label: str
    default: Any
    check: Callable[[Any], Any]


SETTINGS: tuple[PolicySetting, ...] = (
    PolicySetting("FeedUrl", FEED_URL, "Feed address", None, _feed_address),
    PolicySetting("FeedMirrors", MIRRORS, "Feed mirrors", [], _mirrors),
    PolicySetting("TrustedKeys", TRUSTED_KEYS, "Trusted signing keys", [], _public_keys),
    PolicySetting("RevokedKeyIds", REVOKED_KEYS, "Revoked signing keys", [], _key_ids),
    PolicySetting("AutoSync", AUTO_SYNC, "Sync automatically", True, _flag),
    PolicySetting(
        "SyncIntervalHours",
        SYNC_INTERVAL_HOURS,
        "Hours between automatic syncs",
        DEFAULT_SYNC_INTERVAL_HOURS,
        _whole(1, 720),
    ),
    PolicySetting(
        "StaleAfterDays",
        STALE_AFTER_DAYS,
        "Days before content counts as old",
        DEFAULT_STALE_AFTER_DAYS,
        _whole(1, 3650),
    ),
    PolicySetting("Proxy", PROXY, "Proxy", "system", _proxy),
)
BY_NAME = {s.name: s for s in SETTINGS}
BY_KEY = {s.key: s for s in SETTINGS}
POLICY_NAMES = (*BY_NAME, LOCKED_SETTINGS)


# --- Where a value came from ----------------------------------------------------------

OriginKind = Literal["group-policy", "policy-file", "user", "default"]


@dataclass(frozen=True)
class Origin:
    kind: OriginKind
    #: The registry key or the file, for policy.
    where: str = ""

    @property
    def is_policy(self) -> bool:
        return self.kind in ("group-policy", "policy-file")

    def __str__(self) -> str:
        if self.kind == "group-policy":
            return f"Group Policy ({self.where})"
        if self.kind == "policy-file":
            return f"policy file {self.where}"
        return "your setting" if self.kind == "user" else "default"


USER = Origin("user")
DEFAULT = Origin("default")


@dataclass(frozen=True)
class PolicyProblem:
    """Part of the policy that could not be used, and why."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class Policy:
    """The policy in force: values and locks by settings key, and what went wrong."""

    values: dict[str, tuple[Any, Origin]] = field(default_factory=dict)
    locks: dict[str, Origin] = field(default_factory=dict)
    problems: list[PolicyProblem] = field(default_factory=list)
    #: Every place policy was read from (files and registry keys), highest first.
    sources: list[str] = field(default_factory=list)

    def is_locked(self, key: str) -> bool:
        return key in self.values or key in self.locks

    def locked_by(self, key: str) -> Origin | None:
        """The policy that fixes a setting (None: the user may change it)."""
        if key in self.values:
            return self.values[key][1]
        return self.locks.get(key)

    def to_json(self) -> dict[str, Any]:
        return {
            "sources": list(self.sources),
            "problems": [str(p) for p in self.problems],
        }


# --- Reading it -----------------------------------------------------------------------


class PolicyRegistry(Protocol):
    """The registry values directly under ``hive\\path`` (None: no such key)."""

    def values(self, hive: str, path: str) -> dict[str, object] | None: ...


class WindowsRegistry:
    """The real registry (Windows only; elsewhere there is none)."""

    def values(self, hive: str, path: str) -> dict[str, object] | None:
        if sys.platform == "win32":
            found = _read_registry_key(hive, path)
        else:
            found = None
        return found


if sys.platform == "win32":
    import winreg

    def _read_registry_key(hive: str, path: str) -> dict[str, object] | None:
        root = winreg.HKEY_LOCAL_MACHINE if hive == "HKLM" else winreg.HKEY_CURRENT_USER
        try:
            key = winreg.OpenKey(root, path)
        except OSError:
            return None
        out: dict[str, object] = {}
        with key:
            index = 0
            while True:
                try:
                    name, data, _kind = winreg.EnumValue(key, index)
                except OSError:
                    break
                out[name] = data
                index += 1
        return out


def policy_folders() -> list[Path]:
    """The machine policy folders of this platform (read-only to users)."""
    if sys.platform == "win32":
        folder = Path(os.environ.get("PROGRAMDATA") or r"C:\ProgramData") / APP_NAME
    else:
        folder = Path("/etc") / APP_ID
    return [folder / "policies" / "managed"]


def _suggest(name: str) -> str:
    close = difflib.get_close_matches(name, POLICY_NAMES, n=1, cutoff=0.6)
    if not close:
        close = [n for n in POLICY_NAMES if n.lower() == name.lower()]
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown policy {name!r}{hint}; known: {', '.join(POLICY_NAMES)}"


class _Reader:
    """Applies policy sources, lowest first, so that a higher one overwrites."""

    def __init__(self) -> None:
        self.policy = Policy()

    def apply(self, where: str, origin: Origin, entries: dict[str, Any], *, exact: bool) -> None:
        """``entries`` by policy name; registry names match in any case (``exact`` False)."""
        names = {n if exact else n.lower(): n for n in POLICY_NAMES}
        for raw_name, raw in entries.items():
            if exact and raw_name == COMMENT:
                continue
            name = names.get(raw_name if exact else raw_name.lower())
            if name is None:
                self.problem(where, _suggest(raw_name))
                continue
            try:
                if name == LOCKED_SETTINGS:
                    for key in self._lock_keys(raw):
                        self.policy.locks[key] = origin
                else:
                    spec = BY_NAME[name]
                    self.policy.values[spec.key] = (self._check(spec, raw, exact), origin)
            except PolicyValueError as exc:
                self.problem(where, f"{name}: {exc}; this policy is left out")

    @staticmethod
    def _check(spec: PolicySetting, raw: Any, exact: bool) -> Any:
        try:
            return spec.check(raw)
        except PolicyValueError:
            # The registry may hold a number as text (REG_SZ), as the MSI writes AutoSync.
            if exact or not isinstance(raw, str) or not raw.strip().isdigit():
                raise
            return spec.check(int(raw))

    @staticmethod
    def _lock_keys(raw: Any) -> list[str]:
        names = _texts(raw)
        if "*" in names:
            return [s.key for s in SETTINGS]
        unknown = [n for n in names if n not in BY_NAME]
        if unknown:
            raise PolicyValueError(
                f"{', '.join(map(repr, unknown))} cannot be locked; "
                f"names that can: {', '.join(BY_NAME)} (or '*' for all)"
            )
        return [BY_NAME[n].key for n in names]

    def problem(self, where: str, message: str) -> None:
        self.policy.problems.append(PolicyProblem(where, message))

    def read_file(self, path: Path) -> None:
        where = str(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            self.problem(where, f"cannot be read ({exc}); the whole file is left out")
            return
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            self.problem(
                where,
                f"is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}; "
                "the whole file is left out",
            )
            return
        if not isinstance(data, dict):
            self.problem(where, "must hold one JSON object {...}; the whole file is left out")
            return
        self.apply(where, Origin("policy-file", where), data, exact=True)


def load_policy(
    *,
    registry: PolicyRegistry | None = None,
    folders: Sequence[Path] | None = None,
    report: bool = True,
) -> Policy:
    """The policy in force on this computer. Problems are logged as errors (``report``)."""
    registry = WindowsRegistry() if registry is None else registry
    folders = policy_folders() if folders is None else folders
    reader = _Reader()
    files: list[Path] = []
    for folder in folders:
        try:
            files.extend(sorted(p for p in folder.glob("*.json") if p.is_file()))
        except OSError as exc:
            reader.problem(str(folder), f"cannot be read ({exc})")
    for path in files:  # lowest first: a later file wins
        reader.read_file(path)
    keys: list[str] = []
    for hive in ("HKCU", "HKLM"):  # HKLM (the computer's policy) wins
        where = rf"{hive}\{REGISTRY_KEY}"
        try:
            entries = registry.values(hive, REGISTRY_KEY)
        except OSError as exc:
            reader.problem(where, f"cannot be read ({exc})")
            continue
        # An empty value is not set (the MSI writes its properties empty when not given).
        given = {
            k: v for k, v in (entries or {}).items() if not (isinstance(v, str) and not v.strip())
        }
        if given:
            keys.append(where)
            reader.apply(where, Origin("group-policy", where), given, exact=False)
    policy = reader.policy
    policy.sources = [*reversed(keys), *(str(p) for p in reversed(files))]
    if report:
        for problem in policy.problems:
            log.error("policy problem: %s", problem)
    return policy


# --- Effective settings ---------------------------------------------------------------

_UNSET = object()


@dataclass(frozen=True)
class Effective:
    """A setting's value in force, where it came from, and whether the user may change it."""

    setting: PolicySetting
    value: Any
    origin: Origin
    locked: bool

    @property
    def display_value(self) -> str:
        value = self.value
        if value is None or value == []:
            return "not set"
        if isinstance(value, bool):
            return "on" if value else "off"
        if isinstance(value, list):
            if self.setting.key == TRUSTED_KEYS:
                return f"{len(value)} key(s)"
            return ", ".join(map(str, value))
        return str(value)

    @property
    def origin_text(self) -> str:
        text = str(self.origin)
        if self.locked and not self.origin.is_policy:
            text += " (locked by policy)"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.setting.name,
            "key": self.setting.key,
            "label": self.setting.label,
            "value": self.value,
            "shown": self.display_value,
            "source": str(self.origin),
            "source_kind": self.origin.kind,
            "locked": self.locked,
        }


class EffectiveSettings:
    """The settings in force: policy over the user's own settings over defaults.

    It is a :class:`~aspire_desktop.core.settings.SettingsSource`, so anything that reads
    settings (``sync_settings``) gets policy applied by reading through it.
    """

    def __init__(self, user: SettingsSource | None, policy: Policy) -> None:
        self.user = user
        self.policy = policy

    def setting(self, key: str, default: Any = None) -> Any:
        if key in self.policy.values:
            return self.policy.values[key][0]
        if key in self.policy.locks or self.user is None:
            return default
        return self.user.setting(key, default)

    def is_locked(self, key: str) -> bool:
        return self.policy.is_locked(key)

    def explain(self, key: str) -> Effective:
        """The value of a setting policy knows, and where it came from."""
        spec = BY_KEY[key]
        locked = self.policy.is_locked(key)
        if key in self.policy.values:
            value, origin = self.policy.values[key]
            return Effective(spec, value, origin, True)
        if locked:
            return Effective(spec, spec.default, DEFAULT, True)
        raw = _UNSET if self.user is None else self.user.setting(key, _UNSET)
        if raw is not _UNSET:
            try:
                return Effective(spec, spec.check(raw), USER, False)
            except PolicyValueError:
                log.warning("your setting %s is not usable; the default applies", key)
        return Effective(spec, spec.default, DEFAULT, False)

    def all(self) -> list[Effective]:
        return [self.explain(s.key) for s in SETTINGS]


def effective_settings(userdata_db: Path, policy: Policy | None = None) -> EffectiveSettings:
    """The settings in force for a user, reading their database read-only (for commands
    such as ``sync`` and ``doctor``; the window wraps its open ``UserData`` instead)."""
    return EffectiveSettings(
        ReadOnlySettings(userdata_db), load_policy() if policy is None else policy
    )
