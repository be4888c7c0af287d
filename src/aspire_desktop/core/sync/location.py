"""Where a feed is: an https URL, an http URL on this computer (loopback) only, a file
URL, or a plain path (a USB stick, a network share)."""

from __future__ import annotations

import ipaddress
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from aspire_desktop.core.feed.manifest import MANIFEST_NAME
from aspire_desktop.core.sync.errors import FeedAddressError


@dataclass(frozen=True)
class Location:
    """A feed's folder: ``url`` ends with '/' for http(s); ``path`` for local feeds."""

    url: str | None = None
    path: Path | None = None

    @property
    def is_local(self) -> bool:
        return self.path is not None

    def join(self, relative: str) -> str:
        """The URL (or path, as text) of a file given by its checked relative path."""
        if self.path is not None:
            return str(self.path.joinpath(*relative.split("/")))
        assert self.url is not None
        return self.url + quote(relative)

    def __str__(self) -> str:
        return self.url if self.url is not None else str(self.path)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _strip_manifest(text: str) -> str:
    return text[: -len(MANIFEST_NAME)] if text.endswith(MANIFEST_NAME) else text


def parse_location(text: str, *, allow_local: bool = True) -> Location:
    """The feed folder ``text`` names (the folder itself or its manifest.json)."""
    text = text.strip()
    if not text:
        raise FeedAddressError("The feed address is empty.", "Give the feed's address.")
    windows_drive = len(text) > 1 and text[1] == ":" and text[0].isalpha()
    parts = urlsplit(text)
    scheme = "" if windows_drive else parts.scheme.lower()
    if scheme in ("https", "http"):
        if not parts.hostname:
            raise FeedAddressError(f"The feed address {text} has no server name.", "")
        if scheme == "http" and not _is_loopback(parts.hostname):
            raise FeedAddressError(
                f"The feed address {text} uses plain http, which is only allowed for a "
                "server on this computer.",
                "Use the https address of the feed.",
            )
        base = _strip_manifest(parts._replace(query="", fragment="").geturl())
        return Location(url=base if base.endswith("/") else base + "/")
    if not allow_local:
        raise FeedAddressError(f"The mirror address {text} is not an http(s) address.", "")
    if scheme == "file":
        path_text = unquote(parts.path)
        if sys.platform == "win32" and parts.netloc:  # pragma: no cover - UNC share
            path_text = f"//{parts.netloc}{path_text}"
        path = Path(path_text)
    elif scheme and len(scheme) > 1:
        raise FeedAddressError(
            f"The feed address {text} is not an https address, a file address or a folder.",
            "",
        )
    else:
        path = Path(text).expanduser()
    if path.name == MANIFEST_NAME:
        path = path.parent
    return Location(path=path.resolve())
