"""Why a feed is refused. Every one leaves the content on this computer as it was."""

from __future__ import annotations

from aspire_desktop.core.errors import UserError

_KEPT = "The content on this computer has not changed and can still be read."


class FeedRefusedError(UserError):
    """The feed was reached but what it holds cannot be trusted or used."""

    #: ``aspire-desktop sync``: the feed was refused (see cli.py).
    exit_code = 6

    def __init__(self, message: str, what_to_do: str = "") -> None:
        super().__init__(message, f"{_KEPT} {what_to_do}".strip())


class InvalidManifestError(FeedRefusedError):
    """The manifest is not a valid feed manifest (including unsafe file paths)."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"The content feed's list of contents is not valid: {detail}",
            "Tell the people who publish the feed (or your IT team).",
        )
        self.detail = detail


class ManifestTooLargeError(FeedRefusedError):
    def __init__(self, limit: int) -> None:
        super().__init__(
            f"The content feed's list of contents is larger than {limit // (1024 * 1024)} MB, "
            "more than any real feed needs, so it was not read.",
            "Check the feed address, or tell your IT team.",
        )


class SignatureError(FeedRefusedError):
    """The manifest's signature is missing, broken, of the old form, or from a key not trusted."""


class FileMismatchError(FeedRefusedError):
    """A file did not match what the manifest says (size or checksum) on every source."""


class ExpiredFeedError(FeedRefusedError):
    pass


class RollbackError(FeedRefusedError):
    pass


class VersionConflictError(FeedRefusedError):
    pass


class AppTooOldError(FeedRefusedError):
    pass
