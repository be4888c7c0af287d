"""The one family of errors a user can act on.

Anything raised that is *not* a :class:`UserError` is a bug: it goes to the log and the
crash dialog. A :class:`UserError` carries a plain message and what to do about it; the
GUI shows it, the CLI prints it, both with the same words.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can do something about."""

    #: Exit code the CLI uses for this kind of problem.
    exit_code = 1

    def __init__(self, message: str, what_to_do: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.what_to_do = what_to_do

    def __str__(self) -> str:
        return f"{self.message} {self.what_to_do}".strip()


class ContentMissingError(UserError):
    """No usable content is installed."""

    exit_code = 4


class DatabaseDamagedError(UserError):
    """A database file is not readable as what it should be."""

    exit_code = 4


class DocumentDamagedError(UserError):
    """A document cannot be opened or rendered."""


class DocumentNotCachedError(UserError):
    """The resource's document is not on this computer."""


class DiskFullError(UserError):
    """Writing failed because the disk is full."""


class OfflineError(UserError):
    """The network is not reachable."""
