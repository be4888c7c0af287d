"""Getting bytes from a feed: over HTTP or from a folder.

HTTP uses the system's proxy settings (environment variables; on Windows and macOS the
system's own settings, read through the standard library) and the operating system's
certificate store (truststore), asks for ``Accept-Encoding: identity`` and turns every
failure into a plain-words error: offline, DNS, proxy, TLS, timeouts, server errors,
connections that break off.

A file's bytes are read as they arrive (what the connection has, up to 256 KB), so that
a download checks its deadline and Cancel between reads and a fast link is read in large
pieces with little work per byte in the interpreter. Requests straight to a server (the
usual case) go out on ``wire``'s lean HTTP/1.1 over urllib3's connections; through a
proxy, urllib3's proxy manager sends them. (Not httpx, nor urllib3's own requests when
there is no proxy: on a fast link the interpreter is the limit, and both cost several
times as much of it a request; see benchmarks/README.md.) Redirects are followed one hop
at a time, each only to an address a feed could have.

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
import threading
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol
from urllib.parse import urljoin, urlsplit

import urllib3
from urllib3 import exceptions as u3
from urllib3.response import BaseHTTPResponse

from aspire_desktop import APP_NAME, __version__
from aspire_desktop.core.sync import wire
from aspire_desktop.core.sync.errors import (
    DnsError,
    FeedAddressError,
    FeedOfflineError,
    FeedTimeoutError,
    NetworkError,
    ProxyError,
    ServerError,
    SyncError,
    TlsError,
    TruncatedError,
)
from aspire_desktop.core.sync.location import Location, parse_location

#: Bytes read from a local feed at a time.
LOCAL_CHUNK = 1 << 20
#: Bytes read from a connection at most at a time (256 KB rather than 1 MB: the
#: benchmark's 200 MB took 0.35 against 0.38 s, with less CPU, in the same run; 128 KB
#: was slower again).
HTTP_CHUNK = 256 << 10
#: Redirects followed at most for one request.
MAX_REDIRECTS = 10
_ORIGIN = re.compile(r"[^/]*//[^/?#]*")
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
    """The proxy a request to ``url`` goes through, if any."""
    if setting == "none":
        return None
    if setting != "system":
        proxy: str | None = setting
    else:
        parts = urlsplit(url)
        proxies = urllib.request.getproxies()
        proxy = proxies.get(parts.scheme) or proxies.get("all")
        if proxy and parts.hostname and urllib.request.proxy_bypass(parts.hostname):
            return None
    if proxy and "://" not in proxy:
        proxy = f"http://{proxy}"
    return proxy or None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what caused it, including what urllib3 wraps (``reason``,
    ``original_error``)."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for linked in (
            current.__cause__,
            current.__context__,
            getattr(current, "reason", None),
            getattr(current, "original_error", None),
        ):
            if isinstance(linked, BaseException):
                todo.append(linked)


def network_error(exc: Exception, url: str, proxy: str | None) -> SyncError:
    """A plain-words error for an HTTP failure talking to ``url`` (through ``proxy``)."""
    host = _host(url)
    causes = list(_chain(exc))

    def caused_by(*kinds: type[BaseException]) -> bool:
        return any(isinstance(c, kinds) for c in causes)

    # (urllib3's NewConnectionError is a ConnectTimeoutError: the proxy could not be reached)
    if caused_by(u3.ProxyError) and not caused_by(u3.ConnectTimeoutError, socket.gaierror):
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
    if caused_by(ssl.SSLError, u3.SSLError):
        return TlsError(
            f"A secure connection to {host} could not be made ({exc}).",
            "Ask your IT team whether something between you and the feed blocks it.",
        )
    if caused_by(socket.gaierror):
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
    if caused_by(u3.NewConnectionError, ConnectionRefusedError) or (
        proxy and caused_by(u3.ProxyError)
    ):
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
    # (after the above: urllib3 counts a refused connection as a timeout too)
    if caused_by(u3.TimeoutError, TimeoutError):
        return FeedTimeoutError(
            f"The feed's server at {host} did not answer in time.",
            "Try again later; a slow or busy connection can cause this.",
        )
    if caused_by(u3.ProtocolError, OSError):
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


def _origin(url: str) -> str:
    """scheme://host:port of an absolute ``url`` (as written in it)."""
    match = _ORIGIN.match(url)
    return match.group(0) if match else url


#: Letters the two standards for international names read differently (IDNA 2003, the
#: standard library's codec, and IDNA 2008, as browsers): such a name could lead to
#: another server than meant.
_DEVIATIONS = frozenset("\u00df\u03c2\u200c\u200d")


def _server(url: str) -> tuple[str, str, int]:
    """Scheme, host (as it goes on the wire: an international name in IDNA) and port."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if not host.isascii():
            if _DEVIATIONS.intersection(host):
                raise UnicodeError("a letter read differently by different systems")
            host = host.encode("idna").decode("ascii")
    except (UnicodeError, ValueError) as exc:  # (ValueError: a port out of range)
        raise FeedAddressError(
            f"The server in {url} cannot be used ({exc}).",
            "Check the feed address, or ask your IT team.",
        ) from None
    return parts.scheme, host, port


def _validators(headers: Mapping[str, str]) -> Validators:
    return Validators(headers.get("etag"), headers.get("last-modified"))


#: An answer: straight from the server, or through a proxy.
_Answer = wire.Answer | BaseHTTPResponse


class HttpTransport:
    """Keep-alive connections (up to ``HttpSettings.connections`` a server), direct or
    through the proxy each address needs."""

    def __init__(self, location: Location, settings: HttpSettings) -> None:
        import truststore

        assert location.url is not None
        self.location = location
        self.requests = 0
        self._settings = settings
        self._tls = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self._headers = {
            "Accept-Encoding": "identity",
            "User-Agent": f"{APP_NAME.replace(' ', '-')}/{__version__}",
        }
        self._timeout = urllib3.Timeout(
            connect=settings.connect_timeout, read=settings.read_timeout
        )
        self._managers: dict[str, urllib3.ProxyManager] = {}
        self._managers_lock = threading.Lock()
        self._direct = wire.Connections(
            self._tls,
            settings.connect_timeout,
            settings.read_timeout,
            max(1, settings.connections),
        )
        #: The proxy for each scheme and host, looked up once a sync (a lookup reads
        #: every environment variable, or the registry on Windows).
        self._proxies: dict[str, str | None] = {}
        #: Scheme, host (on the wire) and port of each scheme://host:port.
        self._servers: dict[str, tuple[str, str, int]] = {}

    def close(self) -> None:
        for manager in self._managers.values():
            manager.clear()
        self._managers.clear()
        self._direct.clear()

    def _manager(self, proxy: str) -> urllib3.ProxyManager:
        with self._managers_lock:  # (several fetchers may ask at once)
            manager = self._managers.get(proxy)
            if manager is None:
                manager = self._managers[proxy] = urllib3.ProxyManager(
                    proxy,
                    num_pools=16,
                    maxsize=max(1, self._settings.connections),
                    ssl_context=self._tls,
                    proxy_ssl_context=self._tls,
                )
            return manager

    def _get(self, url: str, headers: dict[str, str]) -> _Answer:
        """The response to a GET of ``url``, after any redirects (each hop to an address a
        feed could have: https, or http on this computer)."""
        for _hop in range(MAX_REDIRECTS + 1):
            proxy = self._proxy(url)
            try:
                response = self._send(url, headers, proxy)
            except (u3.HTTPError, OSError) as exc:
                raise network_error(exc, url, proxy) from exc
            location = response.get_redirect_location()
            if not location:
                return response
            response.close()  # its body is not wanted (nor waited for)
            response.release_conn()
            target = location
            try:
                target = urljoin(url, location)
                parse_location(target, allow_local=False)
            except (FeedAddressError, ValueError):  # (ValueError: not an address at all)
                raise ServerError(
                    f"The feed's server at {_host(url)} sent the request on to {target}, "
                    "which is not a secure address, so it was not followed.",
                    "Tell the people who publish the feed (or your IT team).",
                ) from None
            url = target
        raise ServerError(
            f"The feed's server at {_host(url)} sent the request round in circles.",
            "Tell the people who publish the feed (or your IT team).",
        )

    def _send(self, url: str, headers: dict[str, str], proxy: str | None) -> _Answer:
        """One request, its redirect (if any) not followed. Without a proxy (the usual
        case) it goes straight to the server on this module's lean HTTP/1.1 (``wire``);
        through a proxy, urllib3's proxy manager sends it."""
        if proxy is None:
            origin = _origin(url)
            server = self._servers.get(origin)
            if server is None:
                server = self._servers[origin] = _server(url)
            target = url[len(origin) :].split("#", 1)[0]
            if not target.startswith("/"):
                target = "/" + target
            return self._direct.get(*server, target, headers)
        return self._manager(proxy).urlopen(
            "GET",
            url,
            headers=headers,
            retries=False,  # the caller retries (with backoff)
            redirect=False,
            timeout=self._timeout,
            preload_content=False,
            decode_content=False,
        )

    def _proxy(self, url: str) -> str | None:
        origin = _origin(url)
        try:
            return self._proxies[origin]
        except KeyError:
            proxy = self._proxies[origin] = proxy_for(url, self._settings.proxy)
            return proxy

    @contextmanager
    def _stream(self, url: str, headers: dict[str, str]) -> Iterator[_Response]:
        """The response to a GET of ``url``, its body not yet read. Its connection is
        used again only when the body was read to its end."""
        self.requests += 1
        response = self._get(url, self._headers | headers)
        try:
            yield _Response(response, url, self._proxy(url))
        finally:
            if not response.closed:  # not read to its end
                response.close()
            response.release_conn()

    def get(self, relative: str, cap: int, conditional: Validators | None = None) -> Fetched:
        url = self.location.join(relative)
        headers = {}
        if conditional is not None and conditional.etag:
            headers["If-None-Match"] = conditional.etag
        if conditional is not None and conditional.last_modified:
            headers["If-Modified-Since"] = conditional.last_modified
        with self._stream(url, headers) as response:
            if response.status == 304 and conditional:
                return Fetched(True, validators=conditional)
            if response.status != 200:
                raise status_error(response.status, url)
            data = bytearray()
            for chunk in response.chunks(cap + 1):
                data += chunk
                if len(data) > cap:
                    break
            return Fetched(False, bytes(data), response.validators)

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
            status = response.status
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
                response.validators,
                response.chunks(HTTP_CHUNK),
            )


class _Response:
    """A response whose body is read as it arrives, failures in plain words."""

    def __init__(self, response: _Answer, url: str, proxy: str | None):
        self._response = response
        self._url = url
        self._proxy = proxy
        self.status = response.status
        self.headers = response.headers
        self.validators = _validators(response.headers)

    def chunks(self, most: int) -> Iterator[bytes]:
        """The body in pieces of at most ``most`` bytes, each what had arrived (never
        waiting for more: a slow or trickling server is checked between pieces)."""
        read1 = self._response.read1
        try:
            while chunk := read1(most):
                yield chunk
        except (u3.HTTPError, OSError) as exc:
            raise network_error(exc, self._url, self._proxy) from exc


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
