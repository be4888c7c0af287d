"""Keeping the screen awake while presenting (best effort, per platform)."""

from __future__ import annotations

import logging
import sys
from typing import Any

log = logging.getLogger(__name__)


class KeepAwake:
    def __init__(self) -> None:
        self._cookie: Any = None

    def start(self, reason: str = "Presenting") -> None:
        try:
            if sys.platform == "win32":
                import ctypes

                # ES_CONTINUOUS | ES_DISPLAY_REQUIRED | ES_SYSTEM_REQUIRED
                ctypes.windll.kernel32.SetThreadExecutionState(0x80000003)  # type: ignore[attr-defined]
                self._cookie = True
            else:
                import os

                if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
                    return  # no desktop session bus: nothing to tell
                from PySide6.QtDBus import QDBusConnection, QDBusInterface

                bus = QDBusConnection.sessionBus()
                if not bus.isConnected():
                    return
                iface = QDBusInterface(
                    "org.freedesktop.ScreenSaver",
                    "/org/freedesktop/ScreenSaver",
                    "org.freedesktop.ScreenSaver",
                    bus,
                )
                if not iface.isValid():
                    return
                reply = iface.call("Inhibit", "ASPire Desktop", reason)
                args = reply.arguments()
                self._cookie = args[0] if args else None
        except Exception as exc:  # never let this stop a presentation
            log.info("could not keep the screen awake: %s", exc)

    def stop(self) -> None:
        if self._cookie is None:
            return
        try:
            if sys.platform == "win32":
                import ctypes

                ctypes.windll.kernel32.SetThreadExecutionState(0x80000000)  # type: ignore[attr-defined]
            else:
                from PySide6.QtDBus import QDBusConnection, QDBusInterface

                iface = QDBusInterface(
                    "org.freedesktop.ScreenSaver",
                    "/org/freedesktop/ScreenSaver",
                    "org.freedesktop.ScreenSaver",
                    QDBusConnection.sessionBus(),
                )
                iface.call("UnInhibit", self._cookie)
        except Exception as exc:
            log.info("could not release the screen: %s", exc)
        self._cookie = None
