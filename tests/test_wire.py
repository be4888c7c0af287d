"""The downloads' HTTP/1.1 client (``core/sync/wire.py``) against a server that answers
with exact bytes: how bodies are framed, when a connection is used again, and what is
refused as malformed."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from urllib3.exceptions import ProtocolError

from aspire_desktop.core.sync import wire
from servers import CLOSE, HOST, Scripted, self_signed_tls

Serve = Callable[..., Scripted]


@pytest.fixture
def serve() -> Iterator[Serve]:
    started: list[Scripted] = []

    def start(*replies: bytes, tls: ssl.SSLContext | None = None) -> Scripted:
        server = Scripted(list(replies), tls)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


_made: list[wire.Connections] = []


@pytest.fixture(autouse=True)
def _close_connections() -> Iterator[None]:
    yield
    while _made:
        _made.pop().clear()


def _connections(
    context: ssl.SSLContext | None = None, read_timeout: float = 10.0
) -> wire.Connections:
    pool = wire.Connections(context or ssl.create_default_context(), 5.0, read_timeout, 4)
    _made.append(pool)
    return pool


def _get(
    pool: wire.Connections,
    server: Scripted,
    target: str = "/files/a.pdf",
    headers: dict[str, str] | None = None,
    scheme: str = "http",
) -> wire.Answer:
    return pool.get(scheme, HOST, server.port, target, headers or {})


def _body(answer: wire.Answer, most: int = 1 << 20) -> bytes:
    data = b""
    while piece := answer.read1(most):
        data += piece
    answer.release_conn()
    return data


def _ok(body: bytes, *headers: str) -> bytes:
    head = "".join(f"{h}\r\n" for h in headers)
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{head}\r\n".encode() + body


def test_request_and_length_framed_bodies_on_one_connection(serve: Serve) -> None:
    server = serve(_ok(b"x" * 5000, 'ETag: "abc"'), _ok(b"second"))
    pool = _connections()
    answer = _get(pool, server, "/files/a b.pdf", {"Range": "bytes=10-"})
    assert answer.status == 200
    assert answer.headers["etag"] == '"abc"'
    assert answer.headers["content-length"] == "5000"
    assert _body(answer, most=1000) == b"x" * 5000
    assert answer.closed
    assert _body(_get(pool, server)) == b"second"
    assert server.connections == 1
    first = server.requests[0].decode()
    assert first.startswith("GET /files/a%20b.pdf HTTP/1.1\r\n")
    assert f"Host: {HOST}:{server.port}" in first
    assert "Range: bytes=10-" in first


def test_chunked_body_with_extensions_and_trailers(serve: Serve) -> None:
    server = serve(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;name=value\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\n",
        _ok(b"next"),
    )
    pool = _connections()
    assert _body(_get(pool, server), most=3) == b"hello, world"
    assert _body(_get(pool, server)) == b"next"
    assert server.connections == 1


def test_body_to_the_end_of_the_connection(serve: Serve) -> None:
    server = serve(b"HTTP/1.1 200 OK\r\n\r\nall of it" + CLOSE, _ok(b"again"))
    pool = _connections()
    assert _body(_get(pool, server)) == b"all of it"
    assert _body(_get(pool, server)) == b"again"
    assert server.connections == 2


def test_informational_answers_are_skipped_and_empty_answers_have_no_body(
    serve: Serve,
) -> None:
    server = serve(
        b"HTTP/1.1 100 Continue\r\n\r\n" + _ok(b"after"),
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\n\r\n",
        _ok(b"last"),
    )
    pool = _connections()
    assert _body(_get(pool, server)) == b"after"
    not_modified = _get(pool, server)
    assert (not_modified.status, not_modified.closed) == (304, True)
    assert _body(not_modified) == b""
    assert _body(_get(pool, server)) == b""
    assert _body(_get(pool, server)) == b"last"
    assert server.connections == 1


@pytest.mark.parametrize(
    ("reply", "reused"),
    [
        (_ok(b"bye", "Connection: close"), False),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nold", False),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nold", True),
    ],
)
def test_connection_used_again_only_when_the_server_keeps_it(
    serve: Serve, reply: bytes, reused: bool
) -> None:
    server = serve(reply, _ok(b"more"))
    pool = _connections()
    _body(_get(pool, server))
    assert _body(_get(pool, server)) == b"more"
    assert server.connections == (1 if reused else 2)


def test_a_body_not_read_to_its_end_is_not_used_again(serve: Serve) -> None:
    server = serve(_ok(b"y" * 100), _ok(b"fresh"))
    pool = _connections()
    answer = _get(pool, server)
    assert answer.read1(10) == b"y" * 10
    assert not answer.closed
    answer.close()
    answer.release_conn()
    assert _body(_get(pool, server)) == b"fresh"
    assert server.connections == 2


def test_a_connection_the_server_closed_meanwhile_is_replaced(serve: Serve) -> None:
    # The server closes after its answer without saying so (as an idle timeout does).
    server = serve(_ok(b"one") + CLOSE, _ok(b"two"))
    pool = _connections()
    assert _body(_get(pool, server)) == b"one"
    assert _body(_get(pool, server)) == b"two"
    assert server.connections == 2


def test_a_new_connection_without_an_answer_fails_once(serve: Serve) -> None:
    server = serve(CLOSE, _ok(b"never asked"))
    with pytest.raises(ProtocolError, match="without an answer"):
        _get(_connections(), server)
    assert server.connections == 1


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort" + CLOSE,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel" + CLOSE,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n" + CLOSE,
    ],
)
def test_a_body_that_ends_early_is_an_error(serve: Serve, reply: bytes) -> None:
    answer = _get(_connections(), serve(reply))
    with pytest.raises(ProtocolError, match="before the end"):
        _body(answer)
    assert answer.closed


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (b"SSH-2.0-OpenSSH\r\n\r\n", "not HTTP"),
        (b"HTTP/2 200\r\n\r\n", "not HTTP"),
        (b"HTTP/1.1 2000 OK\r\n\r\n", "not HTTP"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabc", "not a size"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "not a size"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed header"),
        (b"HTTP/1.1 200 OK\r\nBad Name : x\r\n\r\n", "malformed header"),
        (b"HTTP/1.1 200 OK\r\n folded\r\n\r\n", "continuation"),
        (b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 101 + b"\r\n", "too many"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"y" * 70000 + b"\r\n\r\n", "far too long"),
    ],
)
def test_malformed_answers_are_refused(serve: Serve, reply: bytes, error: str) -> None:
    with pytest.raises(ProtocolError, match=error):
        _get(_connections(), serve(reply + CLOSE))


@pytest.mark.parametrize("chunks", [b"zz\r\nhello\r\n0\r\n\r\n", b"5\r\nhelloXX0\r\n\r\n", b"\r\n"])
def test_malformed_chunks_are_refused(serve: Serve, chunks: bytes) -> None:
    server = serve(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + CLOSE)
    answer = _get(_connections(), server)
    with pytest.raises(ProtocolError, match="malformed"):
        _body(answer)


def test_headers_repeated_or_continued_are_joined(serve: Serve) -> None:
    server = serve(
        b"HTTP/1.1 302 Found\r\nVia: a\r\nVIA: b\r\nLocation: /x\r\nX-Long: one\r\n\ttwo\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    answer = _get(_connections(), server)
    assert answer.headers["via"] == "a, b"
    assert answer.headers["x-long"] == "one two"
    assert answer.get_redirect_location() == "/x"
    answer.release_conn()


def test_a_header_cannot_carry_a_line_break(serve: Serve) -> None:
    server = serve(_ok(b"x"))
    with pytest.raises(ValueError, match="line break"):
        _get(_connections(), server, headers={"If-Range": '"a"\r\nX-Evil: 1'})
    assert server.requests == []


def test_a_server_that_stops_answering_times_out(serve: Serve) -> None:
    server = serve(b"HTTP/1.1 200 OK\r\n")  # and then nothing, the connection open
    with pytest.raises(TimeoutError):
        _get(_connections(read_timeout=0.2), server)


def test_tls_with_a_trusted_certificate(serve: Serve, tmp_path: Path) -> None:
    server = serve(_ok(b"secret"), _ok(b"again"), tls=self_signed_tls(tmp_path))
    client = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
    pool = _connections(client)
    assert _body(_get(pool, server, scheme="https")) == b"secret"
    assert _body(_get(pool, server, scheme="https")) == b"again"
    assert server.connections == 1
    with pytest.raises(ssl.SSLCertVerificationError):
        _get(_connections(), server, scheme="https")  # not trusted by default


def test_cleared_pool_keeps_nothing(serve: Serve) -> None:
    server = serve(_ok(b"a"), _ok(b"b"))
    pool = _connections()
    answer = _get(pool, server)
    pool.clear()
    assert _body(answer) == b"a"  # given back after the clear: closed, not kept
    assert _body(_get(pool, server)) == b"b"
    assert server.connections == 2


def test_bytes_after_an_answer_are_never_taken_for_the_next_one(serve: Serve) -> None:
    server = serve(
        _ok(b"abc") + _ok(b"SMUGGLED"),  # two answers to one request
        b"HTTP/1.1 304 Not Modified\r\n\r\nhello",  # and a body where none can be
        _ok(b"real"),
    )
    pool = _connections()
    assert _body(_get(pool, server)) == b"abc"
    not_modified = _get(pool, server)
    assert not_modified.status == 304
    assert _body(not_modified) == b""
    assert _body(_get(pool, server)) == b"real"
    assert server.connections == 3  # neither connection was used again


@pytest.mark.parametrize("tls", [False, True])
def test_bytes_after_a_long_answer_are_never_taken_for_the_next_one(
    serve: Serve, tmp_path: Path, tls: bool
) -> None:
    """However the answer was read (over TLS, the end of a body and what follows it can
    come in one record, kept inside TLS)."""
    server_tls = self_signed_tls(tmp_path) if tls else None
    client = ssl.create_default_context(cafile=str(tmp_path / "cert.pem")) if tls else None
    server = serve(_ok(b"x" * 20000) + _ok(b"SMUGGLED"), _ok(b"real"), tls=server_tls)
    pool = _connections(client)
    scheme = "https" if tls else "http"
    assert _body(_get(pool, server, scheme=scheme), most=4096) == b"x" * 20000
    assert _body(_get(pool, server, scheme=scheme)) == b"real"
    assert server.connections == 2


def test_a_stray_line_after_a_long_answer_costs_only_a_new_connection(serve: Serve) -> None:
    server = serve(_ok(b"x" * 20000) + b"\r\n", _ok(b"next"))
    pool = _connections()
    assert _body(_get(pool, server)) == b"x" * 20000
    assert _body(_get(pool, server)) == b"next"


def test_a_connection_with_a_doubly_framed_answer_is_not_used_again(serve: Serve) -> None:
    server = serve(
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n0\r\n\r\n",
        _ok(b"next"),
    )
    pool = _connections()
    answer = _get(pool, server)
    assert "content-length" not in answer.headers  # the transfer coding decides
    assert _body(answer) == b"abc"
    assert _body(_get(pool, server)) == b"next"
    assert server.connections == 2


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n", "switched protocols"),
        (b"HTTP/1.1 102 Processing\r\n\r\n" * 11 + _ok(b"late"), "interim answers"),
        (b"HTTP/1.1 099 Odd\r\n\r\n", "not HTTP"),
    ],
)
def test_upgrades_endless_interim_answers_and_odd_statuses_are_refused(
    serve: Serve, reply: bytes, error: str
) -> None:
    with pytest.raises(ProtocolError, match=error):
        _get(_connections(), serve(reply + CLOSE))


def test_bare_carriage_returns_in_a_header_become_spaces(serve: Serve) -> None:
    server = serve(_ok(b"x", 'ETag: "a\rb\x00c"'), _ok(b"y"))
    pool = _connections()
    answer = _get(pool, server)
    assert answer.headers["etag"] == '"a b c"'
    _body(answer)
    # The value can be sent back (as it is after a sync) without breaking the request.
    assert _body(_get(pool, server, headers={"If-None-Match": answer.headers["etag"]})) == b"y"
