"""Health checks for ``aspire-desktop doctor`` and the diagnostics page (Help ▸ Diagnostics)."""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import Any

from aspire_desktop import APP_NAME, __version__
from aspire_desktop.core.errors import UserError
from aspire_desktop.core.paths import Paths, baseline_dir
from aspire_desktop.core.policy import Policy, effective_settings, load_policy
from aspire_desktop.core.store.content import ContentStore, OpenedContent, verify_version
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


def run(paths: Paths, policy: Policy | None = None) -> dict[str, Any]:
    """Run every check; the report is JSON-ready and has ``ok`` true only if all pass."""
    policy = load_policy() if policy is None else policy
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
        checks.append(_search_check(paths, opened))
        opened.close()
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
    checks.append(_policy_check(policy))
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
        "sync": _last_sync(paths),
        "policy": policy.to_json(),
        "settings": [e.to_json() for e in effective_settings(paths.userdata_db, policy).all()],
        "checks": [asdict(c) for c in checks],
    }


def _search_check(paths: Paths, opened: OpenedContent) -> Check:
    from aspire_desktop.core.search.library import health

    found = health(paths, opened)
    return Check("search index", found.ok, found.detail, found.what_to_do)


def _policy_check(policy: Policy) -> Check:
    if policy.problems:
        return Check(
            "central policy",
            False,
            "; ".join(map(str, policy.problems)),
            "Ask your IT team to correct the policy (see the deployment guide); "
            "the rest of the policy still applies.",
        )
    return Check(
        "central policy",
        True,
        "read from " + ", ".join(policy.sources) if policy.sources else "none set",
    )


def _last_sync(paths: Paths) -> dict[str, Any]:
    """When the feed was last checked and last changed the content (None: never)."""
    try:
        from aspire_desktop.core.sync.state import load_state
    except ImportError:  # a build without sync
        return {"last_checked": None, "last_synced": None}
    state = load_state(paths.content_dir)
    return {"last_checked": state.last_checked, "last_synced": state.last_synced}


def format_text(report: dict[str, Any]) -> str:
    """The report as plain text: what ``doctor`` prints and the diagnostics page copies."""
    lines = [f"{APP_NAME} {__version__}"]
    lines += [f"  {name}: {value}" for name, value in report["versions"].items()]
    lines.append("Folders:")
    lines += [f"  {name}: {value}" for name, value in report["paths"].items()]
    if report["content"]:
        c = report["content"]
        lines.append(f"Content: version {c['version']}, issued {c['issued']} ({c['label']})")
    sync = report["sync"]
    lines.append(
        f"Last sync: {sync['last_synced'] or 'never'} "
        f"(feed last checked: {sync['last_checked'] or 'never'})"
    )
    lines.append("Settings in force:")
    for s in report["settings"]:
        locked = ", locked" if s["locked"] else ""
        lines.append(f"  {s['label']} ({s['name']}): {s['shown']}  [{s['source']}{locked}]")
    lines.append(
        "Central policy read from: " + (", ".join(report["policy"]["sources"]) or "nowhere")
    )
    lines.append("Checks:")
    for check in report["checks"]:
        mark = "ok     " if check["ok"] else "PROBLEM"
        lines.append(f"  [{mark}] {check['name']}: {check['detail']}")
        if check["what_to_do"]:
            lines.append(f"            what to do: {check['what_to_do']}")
    lines.append("All checks passed." if report["ok"] else "Some checks found problems.")
    return "\n".join(lines)


def _writable(paths: Paths) -> bool:
    folder = paths.data_dir
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return os.access(folder, os.W_OK)
