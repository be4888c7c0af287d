"""The user's own data: settings, reading positions, requests, bookmarks.

Kept in its own SQLite file, apart from content; sync never touches it. Resources are
referred to by their stable string ids.
"""
