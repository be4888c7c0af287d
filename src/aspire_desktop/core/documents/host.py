"""The document host: a child process that does all PyMuPDF work.

It answers one request at a time over a pipe: ``(method, args)`` in, ``("ok", result)``
or ``("error", exception)`` out. Render results travel through a shared memory block the
parent owns and names in the request, so page pixels are not pickled.
"""

from __future__ import annotations

from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.shared_memory import SharedMemory
from typing import Any

from aspire_desktop.core.errors import UserError


def _attach(name: str) -> SharedMemory:
    # The parent owns (and unlinks) the block. A spawned child shares the parent's
    # resource tracker, so attaching here registers nothing new.
    return SharedMemory(name=name)


def serve(conn: Connection) -> None:
    """The host's main loop (the target of the child process)."""
    import pymupdf

    from aspire_desktop.core.documents.pdf import PdfService

    pymupdf.TOOLS.mupdf_display_errors(False)
    pymupdf.TOOLS.mupdf_display_warnings(False)
    service = PdfService()
    shm: SharedMemory | None = None
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            break
        if request is None:
            break
        method, args = request
        try:
            result: Any
            if method == "open_showing":  # two replies: the document, then its page
                doc_id, path, password, view, where = args
                info = service.open(doc_id, path, password)
                conn.send(("ok", info))
                method, args = "first_page", (info, view, where)
            if method in ("render", "first_page"):
                *call, where = args
                do: Callable[..., Any] = (
                    service.render if method == "render" else service.first_page
                )
                if isinstance(where, int):  # no shared memory: the pixels go in the reply
                    pixels = bytearray(where)
                    rendered = do(*call, memoryview(pixels))
                    n = 0 if rendered is None else rendered.nbytes
                    result = (rendered, bytes(memoryview(pixels)[:n]))
                else:
                    if shm is None or shm.name != where:
                        if shm is not None:
                            shm.close()
                        shm = _attach(where)
                    assert shm.buf is not None
                    result = do(*call, shm.buf)
            else:
                result = getattr(service, method)(*args)
            reply: tuple[str, Any] = ("ok", result)
        except UserError as exc:
            reply = ("error", exc)
        except Exception as exc:  # reported to the caller as a damaged document
            reply = ("error", RuntimeError(f"{type(exc).__name__}: {exc}"))
        try:
            conn.send(reply)
        except (EOFError, OSError):
            break
    service.close_all()
    if shm is not None:
        shm.close()
