"""One running instance per user (and data folder).

A second start hands its request (bring the window forward, open a document) to the
running instance over a local socket and exits. The running instance listens with
QLocalServer; a socket left behind by a crashed instance is removed and reused.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from aspire_desktop import APP_ID
from aspire_desktop.core.paths import Paths

#: How long a second instance waits for the running one to answer.
HANDOFF_TIMEOUT = 3.0


def server_name(paths: Paths) -> str:
    """The local socket's name: per user and per data folder (portable copies differ)."""
    import zlib  # (not hashlib: this runs on the start path, and needs no security)

    key = f"{zlib.crc32(str(paths.data_dir).encode()):08x}"
    if sys.platform == "win32":
        return f"{APP_ID}-{os.environ.get('USERNAME', 'user')}-{key}"
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(runtime) if runtime and Path(runtime).is_dir() else Path(tempfile.gettempdir())
    return str(base / f"{APP_ID}-{os.getuid()}-{key}.sock")


def hand_off(name: str, message: dict[str, Any]) -> bool:
    """Give ``message`` to a running instance; False when none is running."""
    if sys.platform == "win32":
        return _hand_off_qt(name, message)
    import _socket  # the C module: ``socket`` costs ~8 ms to import on the start path

    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    sock.settimeout(HANDOFF_TIMEOUT)
    try:
        sock.connect(name)
        sock.sendall(json.dumps(message).encode() + b"\n")
        return sock.recv(16).startswith(b"ok")
    except OSError:  # no socket, or one left by a crashed instance
        return False
    finally:
        sock.close()


def _hand_off_qt(name: str, message: dict[str, Any]) -> bool:
    from PySide6.QtNetwork import QLocalSocket

    client = QLocalSocket()
    client.connectToServer(name)
    if not client.waitForConnected(int(HANDOFF_TIMEOUT * 1000)):
        return False
    client.write(json.dumps(message).encode() + b"\n")
    client.waitForBytesWritten(int(HANDOFF_TIMEOUT * 1000))
    ok = client.waitForReadyRead(int(HANDOFF_TIMEOUT * 1000)) and bytes(
        client.readAll().data()
    ).startswith(b"ok")
    client.disconnectFromServer()
    return ok


class InstanceServer(QObject):
    """Listens for requests from later starts; emits them as dicts."""

    request = Signal(dict)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        from PySide6.QtNetwork import QLocalServer

        super().__init__(parent)
        self.name = name
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not self.server.listen(name):
            # A crashed instance left its socket: nobody answers it, so take it over.
            QLocalServer.removeServer(name)
            if not self.server.listen(name):
                import logging

                logging.getLogger(__name__).warning(
                    "single-instance socket unavailable: %s", self.server.errorString()
                )
        self.server.newConnection.connect(self._connection)

    @property
    def listening(self) -> bool:
        return self.server.isListening()

    def _connection(self) -> None:
        client = self.server.nextPendingConnection()
        if client is None:
            return
        buffer = bytearray()

        def read() -> None:
            buffer.extend(bytes(client.readAll().data()))
            if b"\n" not in buffer:
                if len(buffer) > 65536:
                    client.abort()
                return
            line = bytes(buffer).split(b"\n", 1)[0]
            try:
                message = json.loads(line)
            except ValueError:
                message = None
            client.write(b"ok\n" if isinstance(message, dict) else b"error\n")
            client.flush()
            client.disconnectFromServer()
            if isinstance(message, dict):
                self.request.emit(message)

        client.readyRead.connect(read)
        client.disconnected.connect(client.deleteLater)
        if client.bytesAvailable():
            read()

    def close(self) -> None:
        self.server.close()
