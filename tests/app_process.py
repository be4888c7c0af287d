"""Running ``aspire-desktop`` as a real process in tests: start it, read its start-up
trace (a FIFO) as marks arrive, stop it with SIGTERM as a session logout would."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from pathlib import Path


class Trace:
    """Reads the app's start-up trace (a FIFO) as marks arrive."""

    def __init__(self, path: Path) -> None:
        os.mkfifo(path)
        self.path = path
        # Opened read-write (Linux): never blocks, and never sees end-of-file while the
        # app has not opened its end yet, so select() waits for real data.
        self.fd = os.open(path, os.O_RDWR)
        self.buffer = b""
        self.marks: dict[str, float] = {}

    def wait_for(self, mark: str, timeout: float = 60) -> dict[str, float]:
        while mark not in self.marks:
            ready, _, _ = select.select([self.fd], [], [], timeout)
            assert ready, f"no '{mark}' within {timeout} s (got {list(self.marks)})"
            self.buffer += os.read(self.fd, 4096)
            *lines, self.buffer = self.buffer.split(b"\n")
            for line in lines:
                if line:
                    name, stamp = line.decode().split()
                    self.marks[name] = float(stamp)
        return self.marks

    def close(self) -> None:
        os.close(self.fd)


def start_app(env: dict[str, str], *args: str, trace: Trace | None = None) -> subprocess.Popen[str]:
    if trace is not None:
        env = dict(env, ASPIRE_DESKTOP_TRACE_STARTUP=str(trace.path))
    return subprocess.Popen(
        [sys.executable, "-m", "aspire_desktop", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop_app(proc: subprocess.Popen[str]) -> str:
    """SIGTERM (a clean quit), then its standard error; killed if it does not stop."""
    try:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return err
