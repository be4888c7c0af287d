"""The embedded PDF viewer: a tab per document."""

from aspire_desktop.ui.viewer.view import DocumentView

__all__ = ["DocumentView"]
