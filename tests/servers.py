"""Real servers on 127.0.0.1 for the sync tests and the sync benchmark.

``Nginx`` runs the system's nginx (Debian package nginx-light) on a free loopback port
with a generated configuration, serving a feed folder as a static site; its access log
says what was asked and sent. ``FaultServer`` is our own HTTP server that misbehaves on
purpose (errors, hangs, trickles, short or long bodies, wrong ranges), one behaviour per
path. ``Scripted`` answers each request with the next bytes of a script, for the HTTP
client's own tests. All of them only ever listen on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import shutil
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"

_NGINX_CONF = """
worker_processes 1;
master_process off;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 256; }}
http {{
  types {{ application/pdf pdf; application/json json; }}
  default_type application/octet-stream;
  log_format feed '$request_method $uri $status $body_bytes_sent "$http_range" '
                  '"$http_if_none_match" "$http_if_modified_since"';
  access_log {tmp}/access.log feed;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 10000;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  server {{
    listen {host}:{port};
    root {root};
  }}
}}
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes] | None, timeout: float = 15) -> None:
    """Until something accepts connections on the port (or the process died)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            pass
        if proc is not None:
            try:  # waiting on the process doubles as the pause between tries
                proc.wait(timeout=0.02)
            except subprocess.TimeoutExpired:
                continue
            raise RuntimeError(f"server exited with {proc.returncode}")
    raise RuntimeError(f"nothing listens on {HOST}:{port}")


def nginx_binary() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found is None:
        raise RuntimeError(
            "nginx is not installed (Debian package nginx-light): run sh scripts/setup.sh test"
        )
    return found


@dataclass
class LogLine:
    method: str
    path: str
    status: int
    bytes_sent: int
    range: str
    if_none_match: str
    if_modified_since: str


class Nginx:
    """nginx serving ``root`` on a free loopback port; ``stop()`` ends it."""

    def __init__(self, root: Path, workdir: Path) -> None:
        self.root = root
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.sentinels = 0
        for _ in range(5):  # a free port can be taken between finding and binding it
            self.port = free_port()
            conf = workdir / "nginx.conf"
            conf.write_text(
                _NGINX_CONF.format(tmp=workdir, host=HOST, port=self.port, root=root),
                encoding="utf-8",
            )
            self.proc = subprocess.Popen(
                [nginx_binary(), "-c", str(conf), "-p", str(workdir), "-e", "stderr"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                wait_for_port(self.port, self.proc)
                return
            except RuntimeError:
                self.stop()
        raise RuntimeError(f"nginx did not start; see {workdir / 'error.log'}")

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def log(self) -> list[LogLine]:
        """Every request since the log was cleared (sentinel requests left out).

        nginx writes a request's line just after sending its last byte, so a client can
        in principle look before it is there: a sentinel request is made and the log is
        read until its line shows; nginx handles requests in order, so the earlier ones
        are in by then."""
        self.sentinels += 1
        sentinel = f"/.sentinel-{self.sentinels}"
        with socket.create_connection((HOST, self.port), timeout=10) as s:
            s.sendall(f"GET {sentinel} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            while s.recv(65536):
                pass
        end = time.monotonic() + 10
        while True:
            lines = self._read_log()
            if any(line.path == sentinel for line in lines) or time.monotonic() > end:
                return [line for line in lines if not line.path.startswith("/.sentinel-")]

    def _read_log(self) -> list[LogLine]:
        path = self.workdir / "access.log"
        if not path.exists():
            return []
        lines = []
        for raw in path.read_text(encoding="utf-8").splitlines():
            head, *quoted = raw.split('"')
            method, uri, status, sent = head.split()
            lines.append(
                LogLine(method, uri, int(status), int(sent), quoted[0], quoted[2], quoted[4])
            )
        return lines

    def clear_log(self) -> None:
        (self.workdir / "access.log").write_text("", encoding="utf-8")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@dataclass
class Served:
    path: str
    status: int
    bytes_sent: int
    range: str | None


class FaultServer:
    """Serves ``root`` like a static server, except where ``rules`` say to misbehave.

    ``rules`` maps a URL path (e.g. ``/manifest.json``), ``*`` (every file under
    ``/files/``) or ``**`` (anything else) to a behaviour: ``ok``, ``status:NNN``,
    ``hang``, ``trickle``, ``truncate``, ``corrupt``, ``oversize``,
    ``oversize-nolength``, ``ignore-range``, ``bad-content-range``, ``always-416``,
    ``proxy-auth``, ``distant`` (answers as ``ok`` but only after ``LATENCY`` seconds,
    as a server far away does), ``redirect:BASE`` (302 to the same path under the URL
    ``BASE``); ``A>B`` behaves as A the first time and as B after.
    ``most_in_flight`` is the most requests it has had at once.
    """

    LATENCY = 0.15

    def __init__(self, root: Path, tls: ssl.SSLContext | None = None) -> None:
        self.root = root
        self.rules: dict[str, str] = {}
        self.served: list[Served] = []
        self.stop_event = threading.Event()
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        self.in_flight = 0
        self.most_in_flight = 0
        handler = type("Handler", (_Handler,), {"fault": self})
        self.httpd = _Server((HOST, 0), handler)
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = int(self.httpd.server_address[1])
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        scheme = "https" if isinstance(self.httpd.socket, ssl.SSLSocket) else "http"
        return f"{scheme}://{HOST}:{self.port}/"

    def rule_for(self, path: str) -> str:
        """The path's rule, else ``*`` for files, else ``**``; ``A>B``: A once, then B."""
        rule = self.rules.get(path)
        if rule is None and path.startswith("/files/"):
            rule = self.rules.get("*")
        if rule is None:
            rule = self.rules.get("**", "ok")
        if ">" in rule:
            first, later = rule.split(">", 1)
            return first if self.first_time(path) else later
        return rule

    def first_time(self, path: str) -> bool:
        with self._lock:
            if path in self._seen:
                return False
            self._seen.add(path)
            return True

    def arrived(self, change: int) -> None:
        with self._lock:
            self.in_flight += change
            self.most_in_flight = max(self.most_in_flight, self.in_flight)

    def record(self, served: Served) -> None:
        with self._lock:
            self.served.append(served)

    def file_bytes(self) -> int:
        with self._lock:
            return sum(s.bytes_sent for s in self.served if s.path.startswith("/files/"))

    def stop(self) -> None:
        self.stop_event.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=10)


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that hang up early are part of the tests


class _Handler(http.server.BaseHTTPRequestHandler):
    fault: FaultServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.fault.arrived(1)
        try:
            self._get()
        finally:
            self.fault.arrived(-1)

    def _get(self) -> None:
        fault = self.fault
        path = self.path.split("?")[0]
        rule = fault.rule_for(path)
        if rule == "distant":
            fault.stop_event.wait(fault.LATENCY)
            rule = "ok"
        if rule == "proxy-auth":
            self._send_status(407, {"Proxy-Authenticate": 'Basic realm="test"'})
            return
        if rule.startswith("redirect:"):
            self._send_status(302, {"Location": rule.split(":", 1)[1].rstrip("/") + self.path})
            return
        if rule.startswith("status:"):
            self._send_status(int(rule.split(":")[1]))
            return
        if rule == "hang":
            fault.stop_event.wait(30)
            self.close_connection = True
            return
        target = (fault.root / path.lstrip("/")).resolve()
        if not target.is_file() or fault.root.resolve() not in target.parents:
            self._send_status(404)
            return
        data = target.read_bytes()
        etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
        headers = {
            "ETag": etag,
            "Last-Modified": formatdate(target.stat().st_mtime, usegmt=True),
        }
        if self.headers.get("If-None-Match") == etag:
            self._send_status(304, headers)
            return
        asked = self.headers.get("Range")
        if asked and rule not in ("ignore-range", "truncate", "corrupt", "trickle"):
            start = int(asked.removeprefix("bytes=").split("-")[0])
            if rule == "always-416" or start >= len(data):
                self._send_status(416, {"Content-Range": f"bytes */{len(data)}"})
                return
            first = 0 if rule == "bad-content-range" else start
            body = data[first:]
            headers["Content-Range"] = f"bytes {first}-{len(data) - 1}/{len(data)}"
            self._send(206, body, headers, path, asked)
            return
        if rule == "corrupt":
            data = bytes(b ^ 0x5A for b in data)
        elif rule == "oversize":
            data += b"\0" * 1000
        elif rule == "oversize-nolength":
            self._send(200, data + b"\0" * 1000, headers, path, asked, length=False)
            return
        elif rule == "truncate":
            self._send(200, data[: len(data) // 2], headers, path, asked, declared=len(data))
            return
        elif rule == "trickle":
            self._trickle(data, headers, path)
            return
        self._send(200, data, headers, path, asked)

    def _send_status(self, status: int, headers: dict[str, str] | None = None) -> None:
        # Recorded before it is sent: a client that has the answer finds it recorded.
        self.fault.record(Served(self.path, status, 0, self.headers.get("Range")))
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(
        self,
        status: int,
        body: bytes,
        headers: dict[str, str],
        path: str,
        asked: str | None,
        *,
        declared: int | None = None,
        length: bool = True,
    ) -> None:
        self.fault.record(Served(path, status, len(body), asked))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if length:
            self.send_header("Content-Length", str(declared if declared is not None else len(body)))
        else:
            self.send_header("Connection", "close")
        self.end_headers()
        try:
            self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            pass
        if declared is not None or not length:
            self.close_connection = True

    def _trickle(self, data: bytes, headers: dict[str, str], path: str) -> None:
        self.send_response(200)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        # The first 2 KB go with the headers, as a quick start does; then a byte at a time.
        start = data[:2048]
        self._headers_buffer.append(b"\r\n" + start)
        self.flush_headers()
        sent = len(start)
        try:
            for byte in data[sent:]:
                if self.fault.stop_event.wait(0.05):
                    break
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                sent += 1
        except OSError:
            pass
        self.fault.record(Served(path, 200, sent, None))
        self.close_connection = True


def self_signed_tls(folder: Path) -> ssl.SSLContext:
    """A server context with a new self-signed certificate for 127.0.0.1; the certificate
    is ``folder/cert.pem`` (for a client that should trust it)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context


#: Close the connection after this reply.
CLOSE = b"<close>"


@dataclass
class Scripted:
    """Answers each request (read up to its blank line) with the next reply of
    ``replies``, as raw bytes, on whatever connection it came; a reply that ends with
    ``CLOSE`` closes its connection after it is sent. ``requests`` are the requests as
    they came; ``connections`` counts the connections accepted."""

    replies: list[bytes]
    tls: ssl.SSLContext | None = None
    requests: list[bytes] = field(default_factory=list)
    connections: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._listener = socket.create_server((HOST, 0))
        self.port = int(self._listener.getsockname()[1])
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            if self.tls is not None:
                try:
                    conn = self.tls.wrap_socket(conn, server_side=True)
                except OSError:
                    conn.close()
                    continue
            with self._lock:
                self.connections += 1
                self._open.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        data = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in data:
                    try:
                        more = conn.recv(65536)
                    except OSError:
                        return
                    if not more:
                        return
                    data += more
                request, data = data.split(b"\r\n\r\n", 1)
                with self._lock:
                    self.requests.append(request)
                    reply = self.replies.pop(0) if self.replies else CLOSE
                close = reply.endswith(CLOSE)
                try:
                    conn.sendall(reply.removesuffix(CLOSE))
                except OSError:
                    return
                if close:
                    return

    def stop(self) -> None:
        self._listener.close()
        with self._lock:
            for conn in self._open:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
