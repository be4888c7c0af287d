"""The one thread that does PyMuPDF work (PyMuPDF is not thread-safe)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from aspire_desktop.core.documents.pdf import PdfService

P = ParamSpec("P")
T = TypeVar("T")


class DocumentWorker:
    """A single-thread executor that owns the :class:`PdfService`."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pymupdf")
        self.service = PdfService()
        self._closed = False

    def submit(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Queue work; after :meth:`shutdown` the work is dropped (a cancelled future)."""
        if self._closed:
            dropped: Future[T] = Future()
            dropped.cancel()
            return dropped
        return self._executor.submit(fn, *args, **kwargs)

    def shutdown(self) -> None:
        if self._closed:
            return
        self._executor.submit(self.service.close_all)
        self._closed = True
        self._executor.shutdown(wait=True, cancel_futures=True)
