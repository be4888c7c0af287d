"""Getting bytes from a feed: over HTTP (httpx) or from a folder.

HTTP uses the system's proxy settings (environment variables; on Windows and macOS the
system's own settings, which httpx reads through the standard library) and the
operating system's certificate store (truststore), asks for ``Accept-Encoding:
identity`` and turns every failure into a plain-words error: offline, DNS, proxy, TLS,
timeouts, server errors, connections that break off.

A ranged request (to resume a download) answers with a :class:`Body` that says where its
bytes start; a server that ignores the range (200) starts at 0. A 416 or a wrong
``Content-Range`` raises :class:`RangeProblem`, after which the caller verifies or
restarts.
"""

from __future__ import annotations

import os
import re
import socket
import ssl
import urllib.request
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol
from urllib.parse import urlsplit

import httpx

from aspire_desktop import APP_NAME, __version__
from aspire_desktop.core.sync.errors import (
    DnsError,
    FeedOfflineError,
    FeedTimeoutError,
    NetworkError,
    ProxyError,
    ServerError,
    SyncError,
    TlsError,
    TruncatedError,
)
from aspire_desktop.core.sync.location import Location

#: Bytes read from a local feed at a time.
LOCAL_CHUNK = 1 << 20
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


@dataclass(frozen=True)
class Validators:
    """What identifies one state of a file on a server (for conditional requests)."""

    etag: str | None = None
    last_modified: str | None = None

    def __bool__(self) -> bool:
        return bool(self.etag or self.last_modified)


@dataclass(frozen=True)
class Fetched:
    """A small file (manifest, signature), or ``not_modified`` for a conditional 304."""

    not_modified: bool
    data: bytes = b""
    validators: Validators = Validators()


@dataclass
class Body:
    """The bytes of one response, from ``start`` on."""

    start: int
    #: How many bytes the server says follow (Content-Length), when it says.
    length: int | None
    validators: Validators
    chunks: Iterator[bytes]


class RangeProblem(Exception):
    """The server answered a resumed download with 416 or a Content-Range we did not ask."""


class Transport(Protocol):
    location: Location
    requests: int

    def get(self, relative: str, cap: int, conditional: Validators | None = None) -> Fetched:
        """A whole small file, at most ``cap`` + 1 bytes of it."""
        ...

    def open(
        self, relative: str, offset: int, validators: Validators | None
    ) -> AbstractContextManager[Body]:
        """A file's bytes from ``offset`` (or from 0 if the server will not resume)."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class HttpSettings:
    connect_timeout: float = 15.0
    #: Longest wait for the next bytes of an answer (a trickle is caught by deadlines).
    read_timeout: float = 30.0
    connections: int = 4
    #: "system" (the system's proxy settings), "none", or a proxy address.
    proxy: str = "system"


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


def proxy_for(url: str, setting: str = "system") -> str | None:
    """The proxy a request to ``url`` goes through, if any (for messages)."""
    if setting != "system":
        return None if setting == "none" else setting
    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if proxy and parts.hostname and urllib.request.proxy_bypass(parts.hostname):
        return None
    return proxy or None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def network_error(exc: Exception, url: str, proxy: str | None) -> SyncError:
    """A plain-words error for an httpx failure talking to ``url`` (through ``proxy``)."""
    host = _host(url)
    causes = list(_chain(exc))
    if isinstance(exc, httpx.ProxyError):
        return ProxyError(
            f"The proxy server ({proxy or 'from the system settings'}) would not pass on "
            f"the request to {host} ({exc}).",
            "Check the proxy settings, or ask your IT team.",
        )
    verify = next((c for c in causes if isinstance(c, ssl.SSLCertVerificationError)), None)
    if verify is not None:
        return TlsError(
            f"The feed's server at {host} could not prove who it is: its certificate is not "
            f"trusted by this computer ({verify.verify_message}).",
            "If your organisation checks secure traffic, its certificate must be in the "
            "system's certificate store: ask your IT team.",
        )
    if any(isinstance(c, ssl.SSLError) for c in causes):
        return TlsError(
            f"A secure connection to {host} could not be made ({exc}).",
            "Ask your IT team whether something between you and the feed blocks it.",
        )
    if isinstance(exc, httpx.TimeoutException):
        return FeedTimeoutError(
            f"The feed's server at {host} did not answer in time.",
            "Try again later; a slow or busy connection can cause this.",
        )
    if any(isinstance(c, socket.gaierror) for c in causes):
        if proxy:
            return ProxyError(
                f"The proxy server {proxy} could not be found.",
                "Check the proxy settings, or ask your IT team.",
            )
        return DnsError(
            f"The name of the feed's server, {host}, could not be found: this computer may be "
            "offline, or the address may be wrong.",
            "Check the connection and the feed address, then sync again.",
        )
    if isinstance(exc, httpx.ConnectError):
        if proxy:
            return ProxyError(
                f"The proxy server {proxy} could not be reached.",
                "Check the proxy settings, or ask your IT team.",
            )
        return FeedOfflineError(
            f"The feed's server at {host} could not be reached: this computer may be "
            "offline, or the server may be down.",
            "Sync again when you are connected.",
        )
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return TruncatedError(
            f"The connection to {host} broke off.",
            "Sync again: downloads carry on from where they stopped.",
        )
    return NetworkError(f"Talking to the feed's server at {host} failed ({exc}).", "")


def status_error(status: int, url: str) -> SyncError:
    host = _host(url)
    if status == 407:
        return ProxyError(
            "The proxy server asks for a sign-in that ASPire Desktop cannot give.",
            "Ask your IT team to let the app through the proxy.",
        )
    if status in (404, 410):
        return ServerError(
            f"The feed's server at {host} has no file at {url} (error {status}).",
            "Check the feed address; if it is right, tell the people who publish the feed.",
            status,
        )
    if status >= 500 or status in (408, 429):
        return ServerError(
            f"The feed's server at {host} has a problem (error {status}).",
            "Try again later.",
            status,
        )
    return ServerError(
        f"The feed's server at {host} refused the request (error {status}).",
        "Check the feed address, or ask your IT team.",
        status,
    )


def _validators(headers: httpx.Headers) -> Validators:
    return Validators(headers.get("etag"), headers.get("last-modified"))


class HttpTransport:
    def __init__(self, location: Location, settings: HttpSettings) -> None:
        import truststore

        assert location.url is not None
        self.location = location
        self.requests = 0
        self._proxy_setting = settings.proxy
        explicit = settings.proxy not in ("system", "none")
        self._client = httpx.Client(
            verify=truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT),
            proxy=settings.proxy if explicit else None,
            trust_env=settings.proxy != "none",
            follow_redirects=True,
            headers={
                "Accept-Encoding": "identity",
                "User-Agent": f"{APP_NAME.replace(' ', '-')}/{__version__}",
            },
            timeout=httpx.Timeout(
                settings.read_timeout,
                connect=settings.connect_timeout,
                pool=settings.connect_timeout + settings.read_timeout,
            ),
            limits=httpx.Limits(
                max_connections=settings.connections,
                max_keepalive_connections=settings.connections,
            ),
        )

    def close(self) -> None:
        self._client.close()

    def _error(self, exc: Exception, url: str) -> SyncError:
        return network_error(exc, url, proxy_for(url, self._proxy_setting))

    @contextmanager
    def _stream(self, url: str, headers: dict[str, str]) -> Iterator[httpx.Response]:
        self.requests += 1
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                yield response
        except httpx.HTTPError as exc:
            raise self._error(exc, url) from exc

    def _read(self, response: httpx.Response, url: str, cap: int) -> bytes:
        data = bytearray()
        try:
            for chunk in response.iter_raw():
                data += chunk
                if len(data) > cap:
                    break
        except httpx.HTTPError as exc:
            raise self._error(exc, url) from exc
        return bytes(data)

    def get(self, relative: str, cap: int, conditional: Validators | None = None) -> Fetched:
        url = self.location.join(relative)
        headers = {}
        if conditional is not None and conditional.etag:
            headers["If-None-Match"] = conditional.etag
        if conditional is not None and conditional.last_modified:
            headers["If-Modified-Since"] = conditional.last_modified
        with self._stream(url, headers) as response:
            if response.status_code == 304 and conditional:
                return Fetched(True, validators=conditional)
            if response.status_code != 200:
                raise status_error(response.status_code, url)
            return Fetched(False, self._read(response, url, cap), _validators(response.headers))

    @contextmanager
    def open(self, relative: str, offset: int, validators: Validators | None) -> Iterator[Body]:
        url = self.location.join(relative)
        headers = {}
        if offset > 0:
            headers["Range"] = f"bytes={offset}-"
            if validators is not None and validators.etag and not validators.etag.startswith("W/"):
                headers["If-Range"] = validators.etag
            elif validators is not None and validators.last_modified:
                headers["If-Range"] = validators.last_modified
        with self._stream(url, headers) as response:
            status = response.status_code
            if status == 416:
                raise RangeProblem("the server says the range cannot be satisfied (416)")
            if status == 206:
                match = _CONTENT_RANGE.fullmatch(response.headers.get("content-range", ""))
                if offset == 0 or match is None or int(match[1]) != offset:
                    raise RangeProblem("the server sent another part of the file than asked")
                start = offset
            elif status == 200:
                start = 0
            else:
                raise status_error(status, url)
            length = response.headers.get("content-length")
            yield Body(
                start,
                int(length) if length and length.isdigit() else None,
                _validators(response.headers),
                self._chunks(response, url),
            )

    def _chunks(self, response: httpx.Response, url: str) -> Iterator[bytes]:
        try:
            yield from response.iter_raw()
        except httpx.HTTPError as exc:
            raise self._error(exc, url) from exc


class LocalTransport:
    """A feed in a folder: a USB stick, a network share, a mirror on disk."""

    def __init__(self, location: Location) -> None:
        assert location.path is not None
        self.location = location
        self.root: Path = location.path
        self.requests = 0

    def close(self) -> None:
        pass

    def _open(self, relative: str) -> IO[bytes]:
        self.requests += 1
        path = Path(self.location.join(relative))
        try:
            return path.open("rb")
        except FileNotFoundError:
            if not self.root.is_dir():
                raise FeedOfflineError(
                    f"The feed folder {self.root} is not there.",
                    "Check that the USB stick or network drive is connected, then sync again.",
                ) from None
            raise ServerError(
                f"The feed folder {self.root} has no file {relative}.",
                "Tell the people who publish the feed (or your IT team).",
                404,
            ) from None
        except OSError as exc:
            raise ServerError(
                f"The feed folder {self.root} cannot be read ({exc.strerror}).",
                "Check the USB stick or network drive, or ask your IT team.",
            ) from None

    @staticmethod
    def _validators(fh: IO[bytes]) -> Validators:
        st = os.fstat(fh.fileno())
        return Validators(etag=f'"{st.st_mtime_ns:x}-{st.st_size:x}"')

    def get(self, relative: str, cap: int, conditional: Validators | None = None) -> Fetched:
        with self._open(relative) as fh:
            validators = self._validators(fh)
            if conditional is not None and conditional.etag == validators.etag:
                return Fetched(True, validators=validators)
            return Fetched(False, fh.read(cap + 1), validators)

    @contextmanager
    def open(self, relative: str, offset: int, validators: Validators | None) -> Iterator[Body]:
        with self._open(relative) as fh:
            size = os.fstat(fh.fileno()).st_size
            if offset > size:
                raise RangeProblem("the file in the feed is shorter than the part downloaded")
            fh.seek(offset)
            yield Body(offset, size - offset, self._validators(fh), _local_chunks(fh))


def _local_chunks(fh: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := fh.read(LOCAL_CHUNK):
            yield chunk
    except OSError as exc:
        raise TruncatedError(
            f"Reading the feed folder failed ({exc.strerror}).",
            "Check the USB stick or network drive, then sync again.",
        ) from None


def make_transport(location: Location, settings: HttpSettings) -> Transport:
    if location.is_local:
        return LocalTransport(location)
    return HttpTransport(location, settings)
