"""Requests straight to a server (no proxy): a lean HTTP/1.1 GET on urllib3's connections.

urllib3 makes the connections (the socket, TLS with the caller's context, the host name
check, the connect timeout: the same code and the same errors as through a proxy); this
module sends a GET on one and reads the answer. Why not urllib3's own request: on a fast
link the interpreter is what limits a sync, and a request through urllib3 and
http.client (which parses the header lines with the ``email`` package) costs about
0.3 ms of it, several times this module's cost. See benchmarks/README.md.

What it reads is HTTP/1.1 as RFC 9112 frames it: a body is delimited by
``Transfer-Encoding: chunked``, ``Content-Length`` or the end of the connection, in that
order (an answer with both is not trusted to leave its connection usable); up to 10
interim (1xx) answers are skipped, and a 101 (no upgrade is ever asked for) is refused;
answers to 204 and 304 have no body. A connection goes back to the pool only when its
answer was read to the end, the server keeps it open and nothing more came on it (bytes
after an answer are no answer to the next request). Bare CR and NUL in a header value
become spaces (RFC 9110 5.5), so that no value can break a later request.
Anything malformed raises :class:`urllib3.exceptions.ProtocolError`; a body that ends
early raises it too (a download then carries on from what came).
"""

from __future__ import annotations

import io
import re
import ssl
import threading
from io import BufferedReader
from urllib.parse import quote

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ProtocolError

#: Answers whose ``Location`` is followed.
REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_LINE = 65536
_MAX_HEADERS = 100
#: Characters left as they are in a request's target.
_SAFE = "/%?=&;:@!$'()*+,~-._"
_HEX = frozenset(b"0123456789abcdefABCDEF")
#: A request target that needs no quoting (the usual: feed paths are quoted already).
_PLAIN = re.compile(r"[A-Za-z0-9/%?=&;:@!$'()*+,~._-]*")
#: The read buffer's size (socket.makefile's; the head of an answer is read through it).
_BUFFER = io.DEFAULT_BUFFER_SIZE
#: Interim (1xx) answers skipped at most before the real one.
_MAX_INTERIM = 10
_BARE = re.compile(r"[\r\x00]")


class Answer:
    """One answer: its status and headers (names in lower case), and its body read as
    it arrives (``read1``). Used by one thread."""

    def __init__(
        self,
        pool: Connections,
        key: tuple[str, str, int],
        conn: HTTPConnection,
        reader: BufferedReader,
        status: int,
        headers: dict[str, str],
        keep_alive: bool,
    ) -> None:
        self._pool = pool
        self._key = key
        self._conn: HTTPConnection | None = conn
        self._reader = reader
        self.status = status
        self.headers = headers
        self._keep_alive = keep_alive
        self._done = False
        #: Bytes left: of the body (``Content-Length``) or of the current chunk.
        self._left = 0
        self._chunked = False
        #: The body ends when the server closes the connection.
        self._to_close = False
        #: Nothing can be left in the read buffer at the body's end: a body framed by
        #: its length, longer than the buffer, empties it, and each read after that goes
        #: straight to the socket for at most what the body still needs. (Anything more
        #: the server sent is then on the socket, where taking the connection sees it.)
        self._drained = False
        if status < 200 or status in (204, 304):
            self._done = True
        elif "transfer-encoding" in headers:
            if headers.pop("content-length", None) is not None:  # (the coding decides)
                self._keep_alive = False
            codings = headers["transfer-encoding"].lower().split(",")
            self._chunked = codings[-1].strip() == "chunked"
            self._to_close = not self._chunked
        elif "content-length" in headers:
            values = {value.strip() for value in headers["content-length"].split(",")}
            length = values.pop() if len(values) == 1 else ""
            if not (length.isascii() and length.isdigit()):
                self.close()
                raise ProtocolError(f"The answer's Content-Length is not a size: {length!r}")
            headers["content-length"] = length
            self._left = int(length)
            self._done = self._left == 0
            self._drained = self._left > _BUFFER
        else:
            self._to_close = True

    @property
    def closed(self) -> bool:
        """The body was read to its end, or the answer was closed."""
        return self._done or self._conn is None

    def get_redirect_location(self) -> str | None:
        return self.headers.get("location") if self.status in REDIRECTS else None

    def read1(self, most: int) -> bytes:
        """What has arrived of the body, at most ``most`` bytes (waiting only when nothing
        has); ``b""`` at its end."""
        if self._done or self._conn is None:
            return b""
        if self._chunked:
            return self._read_chunk(most)
        if self._to_close:
            data = self._reader.read1(most)
            if not data:
                self._done = True
                self.close()
            return data
        data = self._reader.read1(min(most, self._left))
        if not data:
            raise self._cut()
        self._left -= len(data)
        if not self._left:
            self._done = True
        return data

    def _read_chunk(self, most: int) -> bytes:
        reader = self._reader
        if not self._left:
            line = reader.readline(_MAX_LINE + 1)
            size = line.split(b";", 1)[0].strip()
            if not line.endswith(b"\n") or not size or not _HEX.issuperset(size):
                raise self._cut() if not line else self._bad("a chunk's size")
            self._left = int(size, 16)
            if not self._left:  # the last chunk: skip the trailer lines
                for _ in range(_MAX_HEADERS + 1):
                    line = reader.readline(_MAX_LINE + 1)
                    if line in (b"\r\n", b"\n"):
                        self._done = True
                        return b""
                    if not line.endswith(b"\n"):
                        raise self._cut() if not line else self._bad("a trailer")
                raise self._bad("its trailers")
        data = reader.read1(min(most, self._left))
        if not data:
            raise self._cut()
        self._left -= len(data)
        if not self._left and reader.readline(3) not in (b"\r\n", b"\n"):
            raise self._bad("a chunk's end")
        return data

    def _cut(self) -> ProtocolError:
        self.close()
        return ProtocolError("The connection closed before the end of the answer.")

    def _bad(self, what: str) -> ProtocolError:
        self.close()
        return ProtocolError(f"The server's answer is malformed ({what}).")

    def close(self) -> None:
        """Close the connection (the rest of the body is not wanted)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            _hang_up(conn, self._reader)

    def _drained_all(self, conn: HTTPConnection) -> bool:
        """Nothing can be left of the answer, nor after it, in the read buffer, nor in
        TLS's own (which reads whole records: the end of a body and what follows it can
        share one)."""
        sock = conn.sock
        return self._drained and not (isinstance(sock, ssl.SSLSocket) and sock.pending())

    def release_conn(self) -> None:
        """Give the connection back for another request, if it can take one."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if (
            self._done
            and self._keep_alive
            and (self._drained_all(conn) or self._pool.nothing_more(conn, self._reader))
        ):
            self._pool.put(self._key, conn, self._reader)
        else:
            _hang_up(conn, self._reader)


class Connections:
    """Keep-alive connections, straight to servers; used by any number of threads."""

    def __init__(
        self, tls: ssl.SSLContext, connect_timeout: float, read_timeout: float, size: int
    ) -> None:
        self._tls = tls
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._size = size
        self._idle: dict[tuple[str, str, int], list[tuple[HTTPConnection, BufferedReader]]] = {}
        self._lock = threading.Lock()
        self._closed = False

    def clear(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
            self._closed = True
        for conns in idle.values():
            for conn, reader in conns:
                _hang_up(conn, reader)

    def nothing_more(self, conn: HTTPConnection, reader: BufferedReader) -> bool:
        """Nothing has come on the connection after its answer (looked at without
        waiting)."""
        sock = conn.sock
        if sock is None:
            return False
        sock.settimeout(0)
        try:
            extra = reader.peek(1)
        except (BlockingIOError, ssl.SSLWantReadError):
            extra = b""
        except OSError:
            return False
        finally:
            sock.settimeout(self._read_timeout)
        return not extra

    def put(self, key: tuple[str, str, int], conn: HTTPConnection, reader: BufferedReader) -> None:
        with self._lock:
            conns = self._idle.setdefault(key, [])
            if not self._closed and len(conns) < self._size:
                conns.append((conn, reader))
                return
        _hang_up(conn, reader)

    def _take(self, key: tuple[str, str, int]) -> tuple[HTTPConnection, BufferedReader] | None:
        """An idle connection the server has not closed (nor sent anything on)."""
        while True:
            with self._lock:
                conns = self._idle.get(key)
                if not conns:
                    return None
                conn, reader = conns.pop()
            if conn.is_connected:  # (and nothing arrived on it since)
                return conn, reader
            _hang_up(conn, reader)

    def _connect(self, key: tuple[str, str, int]) -> tuple[HTTPConnection, BufferedReader]:
        scheme, host, port = key
        conn: HTTPConnection
        if scheme == "https":
            conn = HTTPSConnection(host, port, timeout=self._connect_timeout, ssl_context=self._tls)
        else:
            conn = HTTPConnection(host, port, timeout=self._connect_timeout)
        try:
            conn.connect()
        except BaseException:
            conn.close()
            raise
        sock = conn.sock
        assert sock is not None
        sock.settimeout(self._read_timeout)
        return conn, sock.makefile("rb")

    def get(
        self, scheme: str, host: str, port: int, target: str, headers: dict[str, str]
    ) -> Answer:
        """GET ``target`` (path and query) from the server; its answer, body unread."""
        key = (scheme, host, port)
        authority = f"[{host}]" if ":" in host else host
        if port != (443 if scheme == "https" else 80):
            authority += f":{port}"
        if not _PLAIN.fullmatch(target):
            target = quote(target, safe=_SAFE)
        lines = [f"GET {target} HTTP/1.1", f"Host: {authority}"]
        for name, value in headers.items():
            if "\r" in value or "\n" in value:
                raise ValueError(f"A request header cannot hold a line break: {name}")
            lines.append(f"{name}: {value}")
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        idle = self._take(key)
        if idle is not None:
            try:
                return self._exchange(key, *idle, request)
            except (ProtocolError, ConnectionError):
                pass  # closed meanwhile, or something was left on it: once more, on a new one
        return self._exchange(key, *self._connect(key), request)

    def _exchange(
        self,
        key: tuple[str, str, int],
        conn: HTTPConnection,
        reader: BufferedReader,
        request: bytes,
    ) -> Answer:
        try:
            sock = conn.sock
            assert sock is not None
            sock.sendall(request)
            for _ in range(_MAX_INTERIM + 1):
                version, status = _status_line(reader.readline(_MAX_LINE + 1))
                headers = _header_lines(reader)
                if status == 101:
                    raise ProtocolError("The server switched protocols, which was not asked.")
                if status >= 200:
                    break
            else:
                raise ProtocolError("The server sent interim answers and no answer.")
        except BaseException:
            _hang_up(conn, reader)
            raise
        tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
        keep_alive = "close" not in tokens and (version == "1.1" or "keep-alive" in tokens)
        return Answer(self, key, conn, reader, status, headers, keep_alive)


def _hang_up(conn: HTTPConnection, reader: BufferedReader) -> None:
    reader.close()
    conn.close()


def _status_line(line: bytes) -> tuple[str, int]:
    if not line:
        raise ProtocolError("The server closed the connection without an answer.")
    parts = line.split(None, 2)
    if (
        len(parts) < 2
        or parts[0] not in (b"HTTP/1.1", b"HTTP/1.0")
        or len(parts[1]) != 3
        or not parts[1].isdigit()
        or parts[1] < b"100"
        or not line.endswith(b"\n")
    ):
        raise ProtocolError(f"The server's answer is not HTTP: {line[:40]!r}")
    return parts[0][5:].decode(), int(parts[1])


def _header_lines(reader: BufferedReader) -> dict[str, str]:
    headers: dict[str, str] = {}
    name = ""
    for _ in range(_MAX_HEADERS + 1):
        line = reader.readline(_MAX_LINE + 1)
        if line in (b"\r\n", b"\n"):
            return headers
        if not line.endswith(b"\n"):
            if not line:
                raise ProtocolError("The connection closed in the middle of an answer.")
            raise ProtocolError("The server's answer has a header line far too long.")
        text = line.decode("latin-1")
        if text[0] in " \t":  # an old-style continuation line
            if not name:
                raise ProtocolError("The server's answer starts with a continuation line.")
            headers[name] = f"{headers[name]} {_BARE.sub(' ', text).strip()}"
            continue
        field, sep, value = text.partition(":")
        name = field.lower()
        if not sep or not name or name != name.strip():
            raise ProtocolError(f"The server's answer has a malformed header: {text[:40]!r}")
        value = value.strip()
        if "\r" in value or "\0" in value:
            value = _BARE.sub(" ", value)
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    raise ProtocolError("The server's answer has too many header lines.")
