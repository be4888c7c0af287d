"""Logging to the user log folder, with rotation."""

from __future__ import annotations

import logging
import logging.handlers
import sys

from aspire_desktop import APP_ID
from aspire_desktop.core.paths import Paths


def setup_logging(paths: Paths, *, console: bool) -> None:
    root = logging.getLogger()
    if any(getattr(h, "_aspire", False) for h in root.handlers):
        return
    root.setLevel(logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        paths.ensure(paths.log_dir)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            paths.log_file, maxBytes=1_000_000, backupCount=5, encoding="utf-8"
        )
    except OSError as exc:
        print(f"{APP_ID}: cannot write logs to {paths.log_dir}: {exc}", file=sys.stderr)
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(fmt)
    handler._aspire = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    if console:
        stream = logging.StreamHandler(sys.stderr)
        stream.setLevel(logging.WARNING)
        stream.setFormatter(fmt)
        root.addHandler(stream)
