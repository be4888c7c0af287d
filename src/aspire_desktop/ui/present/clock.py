"""The presenter's clocks (no Qt: tested with a fake clock)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta


def format_span(span: timedelta) -> str:
    seconds = int(abs(span.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    sign = "-" if span.total_seconds() < 0 else ""
    if hours:
        return f"{sign}{hours}:{minutes:02d}:{seconds:02d}"
    return f"{sign}{minutes:02d}:{seconds:02d}"


class PresenterClock:
    def __init__(self, now: Callable[[], datetime] = datetime.now) -> None:
        self._now = now
        self.started = now()
        self.end_at: time | None = None

    def restart(self) -> None:
        self.started = self._now()

    def elapsed(self) -> timedelta:
        return self._now() - self.started

    def remaining(self) -> timedelta | None:
        """Time left until the chosen end time today (negative when over time)."""
        if self.end_at is None:
            return None
        now = self._now()
        end = datetime.combine(now.date(), self.end_at, tzinfo=now.tzinfo)
        return end - now

    def lines(self) -> tuple[str, str, str]:
        """(elapsed, remaining, clock) as the console shows them."""
        remaining = self.remaining()
        if remaining is None:
            left = "No end time set"
        elif remaining.total_seconds() >= 0:
            left = f"{format_span(remaining)} left"
        else:
            left = f"{format_span(remaining)[1:]} over time"
        return (format_span(self.elapsed()), left, self._now().strftime("%H:%M"))
