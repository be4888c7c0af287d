"""Why a sync could not finish, in plain words. The content on the computer is unchanged
in every case (a sync only ever switches to a new version once it is complete)."""

from __future__ import annotations

from aspire_desktop.core.errors import OfflineError, UserError

_KEPT = "Your content has not changed and can still be read."


class SyncError(UserError):
    """Base of the sync's own errors."""

    def __init__(self, message: str, what_to_do: str = "") -> None:
        super().__init__(message, f"{_KEPT} {what_to_do}".strip())


class FeedNotSetUpError(SyncError):
    def __init__(self) -> None:
        super().__init__(
            "No content feed is set up, so there is nowhere to get updates from.",
            "Give one with --feed, or ask your IT team to set the feed address.",
        )


class FeedAddressError(SyncError):
    """The feed address is not one the app will use."""


class SyncBusyError(SyncError):
    def __init__(self) -> None:
        super().__init__(
            "Another sync is already running on this computer.",
            "Wait for it to finish; it updates the same content.",
        )


class SyncCancelledError(SyncError):
    def __init__(self) -> None:
        super().__init__(
            "The sync was cancelled.",
            "What was downloaded so far is kept: the next sync carries on from there.",
        )


class NetworkError(SyncError):
    """The feed could not be reached or did not answer properly: try again later."""

    #: ``aspire-desktop sync``: the feed could not be reached (see cli.py).
    exit_code = 5


class FeedOfflineError(NetworkError, OfflineError):
    pass


class DnsError(NetworkError):
    pass


class ProxyError(NetworkError):
    pass


class TlsError(NetworkError):
    pass


class FeedTimeoutError(NetworkError):
    pass


class TooSlowError(FeedTimeoutError):
    """A deadline passed: the server sends, but far too slowly (or trickles)."""


class ServerError(NetworkError):
    def __init__(self, message: str, what_to_do: str = "", status: int | None = None) -> None:
        super().__init__(message, what_to_do)
        self.status = status


class TruncatedError(NetworkError):
    """The connection ended before a file was complete."""
