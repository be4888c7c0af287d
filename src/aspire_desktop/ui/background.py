"""Background work with results delivered on the UI thread.

A task is a plain function run on an executor (the PyMuPDF worker, or the user-data
thread); it touches no Qt. ``on_done`` runs on the UI thread, only if ``owner`` still
exists. Failures that are :class:`UserError` go to ``on_error`` (by default the standard
message); anything else is a bug and goes to the crash handler.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal

from aspire_desktop.core.errors import UserError

T = TypeVar("T")


class _Relay(QObject):
    """Lives on the UI thread; signals emitted from workers are queued to it."""

    done = Signal(object, object)

    def __init__(self) -> None:
        super().__init__()
        self.done.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def _deliver(self, handler: Callable[[Future[Any]], None], future: Future[Any]) -> None:
        handler(future)


_relay: _Relay | None = None


def _get_relay() -> _Relay:
    global _relay
    if _relay is None or not shiboken6.isValid(_relay):
        _relay = _Relay()
    return _relay


def when_done(
    future: Future[T],
    owner: QObject,
    on_done: Callable[[T], None],
    on_error: Callable[[UserError], None] | None = None,
) -> None:
    """Call ``on_done(result)`` on the UI thread when ``future`` finishes."""
    relay = _get_relay()

    def handle(f: Future[T]) -> None:
        if not shiboken6.isValid(owner) or f.cancelled():
            return
        exc = f.exception()
        if exc is None:
            on_done(f.result())
        elif isinstance(exc, UserError):
            if on_error is not None:
                on_error(exc)
            else:
                from aspire_desktop.ui.messages import show_error

                show_error(owner if hasattr(owner, "window") else None, exc)
        else:
            sys.excepthook(type(exc), exc, exc.__traceback__)

    future.add_done_callback(lambda f: relay.done.emit(handle, f))
