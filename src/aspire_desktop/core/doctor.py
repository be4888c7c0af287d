"""Health checks for ``aspire-desktop doctor`` (and, later, the diagnostics page)."""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import Any

from aspire_desktop import __version__
from aspire_desktop.core.errors import UserError
from aspire_desktop.core.paths import Paths, baseline_dir
from aspire_desktop.core.store.content import ContentStore, verify_version
from aspire_desktop.core.userdata.store import check_file


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    what_to_do: str = ""


def _dist_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions() -> dict[str, str]:
    return {
        "aspire-desktop": __version__,
        "python": platform.python_version(),
        "PySide6": _dist_version("PySide6-Essentials"),
        "PyMuPDF": _dist_version("pymupdf-lite"),
        "SQLAlchemy": _dist_version("SQLAlchemy"),
        "platform": f"{platform.system()} {platform.release()} ({sys.platform})",
    }


def run(paths: Paths) -> dict[str, Any]:
    """Run every check; the report is JSON-ready and has ``ok`` true only if all pass."""
    checks: list[Check] = []
    content: dict[str, Any] = {}
    base = baseline_dir()
    checks.append(
        Check("baseline content", True, str(base))
        if base is not None
        else Check(
            "baseline content",
            False,
            "no content installed with the app was found",
            "Reinstall ASPire Desktop, or set ASPIRE_DESKTOP_BASELINE to a content folder.",
        )
    )
    store = ContentStore(paths.content_dir, base)
    try:
        opened = store.open_current()
    except UserError as exc:
        checks.append(Check("current content", False, exc.message, exc.what_to_do))
    else:
        content = {
            "version": opened.info.version,
            "issued": opened.info.issued,
            "age_days": opened.info.age_days(),
            "label": opened.info.label,
            "path": str(opened.info.path),
            "is_baseline": opened.is_baseline,
            "resources": opened.reader.resource_count(),
        }
        if opened.notice is not None:
            checks.append(
                Check("current content", False, opened.notice.message, opened.notice.what_to_do)
            )
        else:
            checks.append(Check("current content", True, f"version {opened.info.version}"))
        problems = verify_version(opened, store)
        checks.append(
            Check(
                "catalogue and cached files",
                not problems,
                "; ".join(problems[:20]) or "catalogue intact, every cached file matches",
                "Sync again to replace damaged content, or reinstall ASPire Desktop."
                if problems
                else "",
            )
        )
        opened.reader.close()
    problems = check_file(paths.userdata_db)
    checks.append(
        Check(
            "user database",
            not problems,
            "; ".join(problems) or ("intact" if paths.userdata_db.exists() else "not created yet"),
            "Start ASPire Desktop: it sets the damaged file aside and starts a new one."
            if problems
            else "",
        )
    )
    writable = _writable(paths)
    checks.append(
        Check(
            "data folder writable",
            writable,
            str(paths.data_dir),
            "" if writable else "Check the folder's permissions or choose another with --data-dir.",
        )
    )
    return {
        "ok": all(c.ok for c in checks),
        "versions": versions(),
        "paths": {
            "data": str(paths.data_dir),
            "config": str(paths.config_dir),
            "cache": str(paths.cache_dir),
            "logs": str(paths.log_dir),
            "baseline": str(base) if base else None,
            "portable": paths.portable,
        },
        "content": content,
        "checks": [asdict(c) for c in checks],
    }


def _writable(paths: Paths) -> bool:
    folder = paths.data_dir
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return os.access(folder, os.W_OK)
