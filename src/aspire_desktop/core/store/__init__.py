"""Content versions on disk: the read-only baseline, per-user versions, the pointer."""
