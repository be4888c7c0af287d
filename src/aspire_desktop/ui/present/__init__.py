"""Presenting to a projector: the full-screen page window, the presenter console,
playlists, and the session that ties them together."""
