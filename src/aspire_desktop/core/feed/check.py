"""The publisher's PDF check: does each document open, how many pages, does page 1 render
within a time limit, and does it have text a reader can search and copy.

The documents are opened in a child process (``python -m aspire_desktop.core.feed.check``)
that takes one path per line and answers one JSON line each, so a document that hangs the
renderer costs only its time limit: the child is ended and a new one checks the rest.
``aspire-pack check`` prints the results; ``aspire-pack build`` refuses a broken PDF.
"""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

#: Seconds page 1 of a document may take to open and render.
DEFAULT_TIME_LIMIT = 10.0
#: Seconds the checking process may take to start (importing PyMuPDF).
_START_LIMIT = 60.0
_READY = "ready"


@dataclass(frozen=True)
class PdfCheck:
    path: Path
    opens: bool
    pages: int | None = None
    renders: bool | None = None
    render_ms: float | None = None
    has_text: bool | None = None
    #: Why the document is refused (None: it is fine).
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "ok": self.ok,
            "opens": self.opens,
            "pages": self.pages,
            "renders": self.renders,
            "render_ms": self.render_ms,
            "has_text": self.has_text,
            "problem": self.problem,
        }


def _check_one(path: str) -> dict[str, Any]:
    """In the child: open, count pages, render page 1, look for text (first 5 pages)."""
    import pymupdf

    try:
        doc = pymupdf.open(path)
    except Exception as exc:  # PyMuPDF raises several kinds for unreadable files
        return {"opens": False, "problem": f"cannot be opened as a PDF ({exc})"}
    try:
        if doc.needs_pass:
            return {"opens": True, "problem": "is protected by a password"}
        pages = int(doc.page_count)
        if pages == 0:
            return {"opens": True, "pages": 0, "problem": "has no pages"}
        start = time.perf_counter()
        try:
            doc[0].get_pixmap(dpi=72)
        except Exception as exc:
            return {"opens": True, "pages": pages, "renders": False, "problem": f"{exc}"}
        render_ms = round((time.perf_counter() - start) * 1000, 1)
        has_text = any(doc[n].get_text().strip() for n in range(min(pages, 5)))
        return {
            "opens": True,
            "pages": pages,
            "renders": True,
            "render_ms": render_ms,
            "has_text": has_text,
        }
    finally:
        doc.close()


def _worker() -> None:  # pragma: no cover - runs in the child process
    import pymupdf

    pymupdf.TOOLS.mupdf_display_errors(False)
    print(_READY, flush=True)
    for line in sys.stdin:
        print(json.dumps(_check_one(line.rstrip("\n"))), flush=True)


class _Child:
    """One checking process and a thread that hands its answers over a queue."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "aspire_desktop.core.feed.check"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
        )
        self.answers: queue.Queue[str | None] = queue.Queue()
        assert self.proc.stdout is not None
        self._thread = threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.answers.put(line)
        self.answers.put(None)

    def ask(self, path: str, time_limit: float) -> dict[str, Any] | None:
        """The answer for ``path``, or None when the child died or ran out of time."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(path + "\n")
            self.proc.stdin.flush()
        except OSError:
            return None
        return self.wait(time_limit)

    def wait(self, time_limit: float) -> dict[str, Any] | None:
        try:
            line = self.answers.get(timeout=time_limit)
        except queue.Empty:
            return None
        if line is None:
            return None
        if line.strip() == _READY:
            return {}
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._thread.join(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


def check_pdfs(paths: Sequence[Path], time_limit: float = DEFAULT_TIME_LIMIT) -> list[PdfCheck]:
    """Check every PDF in ``paths`` (in order); one slow or crashing file costs only itself."""
    results: list[PdfCheck] = []
    child: _Child | None = None
    try:
        for path in paths:
            if child is None:
                child = _Child()
                if child.wait(_START_LIMIT) is None:
                    raise RuntimeError("the PDF checking process did not start")
            answer = child.ask(str(path), time_limit)
            if answer is None:
                crashed = child.proc.poll() is not None
                child.close()
                child = None
                problem = (
                    "made the PDF reader stop (it is damaged or uses something unsupported)"
                    if crashed
                    else f"did not open and show page 1 within {time_limit:g} seconds"
                )
                results.append(PdfCheck(path, opens=False, problem=problem))
                continue
            results.append(PdfCheck(path, **answer))
    finally:
        if child is not None:
            child.close()
    return results


if __name__ == "__main__":  # pragma: no cover
    _worker()
