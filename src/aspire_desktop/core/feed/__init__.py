"""The content feed: a static, signed directory of a manifest and content-addressed files.

``manifest`` is the format (parsing, checks, safe paths), ``signing`` the minisign keys and
signatures, ``trust`` which keys the app believes, ``check`` the PDF check publishers run,
and ``build`` the publisher's side (``aspire-pack build``). The format is documented in
docs/feed-format.md with a JSON Schema beside it.
"""
