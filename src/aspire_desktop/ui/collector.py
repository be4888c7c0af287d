"""Python's garbage collection, on the UI thread only.

Python collects reference cycles in whichever thread happens to allocate when a
threshold is reached. If a cycle holds Qt objects (a lambda connected to a signal that
refers back to its widget, say), collecting it on a worker thread destroys those Qt
objects there, and Qt crashes. So automatic collection is switched off, and this timer
collects on the UI thread instead, generation by generation as Python would.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class MainThreadCollector(QObject):
    def __init__(self, parent: QObject | None = None, interval_ms: int = 500) -> None:
        super().__init__(parent)
        gc.disable()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        self.timer.start()

    def check(self) -> None:
        counts = gc.get_count()
        thresholds = gc.get_threshold()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                gc.collect(generation)
                break

    def stop(self) -> None:
        self.timer.stop()
        gc.enable()
