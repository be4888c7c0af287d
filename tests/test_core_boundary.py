"""The core package (and the CLI and publisher tool) must work without Qt.

Two guards: importing every core module in a fresh interpreter pulls in no PySide6 or
shiboken6 module, and no source file under ``core`` even names Qt or the UI package.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import aspire_desktop

SRC = Path(aspire_desktop.__file__).resolve().parent
CORE = SRC / "core"
FORBIDDEN = ("PySide6", "shiboken6", "aspire_desktop.ui")

_IMPORT_ALL = r"""
import importlib, json, pkgutil, sys
import aspire_desktop.core as core

imported = []
errors = []
def onerror(name):
    errors.append(name)
for info in pkgutil.walk_packages(core.__path__, core.__name__ + ".", onerror=onerror):
    # Alembic's env.py and version scripts run only inside alembic; they are not modules.
    if ".migrations" in info.name:
        continue
    importlib.import_module(info.name)
    imported.append(info.name)
for name in ("aspire_desktop.cli", "aspire_desktop.pack"):
    importlib.import_module(name)
    imported.append(name)
qt = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6"))
ui = sorted(m for m in sys.modules if (m + ".").startswith("aspire_desktop.ui."))
import aspire_desktop
print(json.dumps({"imported": imported, "errors": errors, "qt": qt, "ui": ui,
                  "package": aspire_desktop.__file__}))
"""


def _expected_core_modules() -> set[str]:
    """Every importable module file under core, found on disk (not via pkgutil)."""
    names = set()
    for path in CORE.rglob("*.py"):
        rel = path.relative_to(SRC.parent).with_suffix("")
        if "migrations" in rel.parts:
            continue
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        names.add(".".join(parts))
    return names


@pytest.mark.slow
def test_importing_core_cli_and_pack_loads_no_qt() -> None:
    env = os.environ.copy()
    proc = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["errors"] == []
    assert report["qt"] == [], f"Qt modules were imported: {report['qt']}"
    assert report["ui"] == [], f"UI modules were imported: {report['ui']}"
    assert Path(report["package"]).resolve().parent == SRC  # the tree under test
    imported = set(report["imported"])
    # The walk really covered the package: every module file on disk was imported.
    missing = _expected_core_modules() - imported - {"aspire_desktop.core"}
    assert not missing, f"not imported by the walk: {sorted(missing)}"
    assert {"aspire_desktop.cli", "aspire_desktop.pack"} <= imported
    assert "aspire_desktop.core.userdata.store" in imported
    assert "aspire_desktop.core.catalogue.reader" in imported


def _resolve(node: ast.ImportFrom, module_name: str, is_package: bool) -> str:
    """The absolute module an ``from ... import`` names (relative imports resolved)."""
    if node.level == 0:
        return node.module or ""
    package = module_name.split(".")
    if not is_package:
        package = package[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _module_of(path: Path) -> tuple[str, bool]:
    rel = path.relative_to(SRC.parent).with_suffix("")
    is_package = rel.name == "__init__"
    return ".".join(rel.parts[:-1] if is_package else rel.parts), is_package


def _imported_names(code: str, module_name: str, is_package: bool) -> list[tuple[int, str]]:
    """Every module name the code imports: import statements, plus calls of
    ``__import__``/``importlib.import_module`` with a literal name."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node, module_name, is_package)
            found.append((node.lineno, base))
            # "from aspire_desktop import ui" names the UI package too.
            found.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Name) and node.func.id == "__import__")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            )
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def _is_forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


def test_no_core_source_imports_qt_or_the_ui() -> None:
    files = sorted(CORE.rglob("*.py"))
    assert len(files) > 15, "the scan found too few files to be meaningful"
    # The alembic scripts are scanned too: they run inside the app.
    assert any(p.parent.name == "versions" for p in files)
    offenders = [
        f"{path.relative_to(SRC.parent)}:{line}: {name}"
        for path in files
        for line, name in _imported_names(path.read_text(encoding="utf-8"), *_module_of(path))
        if _is_forbidden(name)
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("import PySide6.QtCore", "PySide6.QtCore"),
        ("import shiboken6", "shiboken6"),
        ("from PySide6.QtWidgets import QWidget", "PySide6.QtWidgets"),
        ("from aspire_desktop.ui.app import run_gui", "aspire_desktop.ui.app"),
        ("from aspire_desktop import ui", "aspire_desktop.ui"),
        ("from ...ui import app", "aspire_desktop.ui"),
        ("def f():\n    import PySide6", "PySide6"),
        ("import importlib\nimportlib.import_module('PySide6.QtGui')", "PySide6.QtGui"),
        ("__import__('shiboken6')", "shiboken6"),
    ],
)
def test_the_scan_catches_each_form_of_qt_import(code: str, expected: str) -> None:
    names = [n for _, n in _imported_names(code, "aspire_desktop.core.catalogue.probe", False)]
    assert expected in names
    assert any(_is_forbidden(n) for n in names)


def test_the_scan_allows_lookalikes() -> None:
    code = (
        "import PySide6ish\n"
        "from aspire_desktop.uix import y\n"
        "from aspire_desktop.core import ui_text\n"
        "from aspire_desktop.core.catalogue import ui\n"
    )
    names = [n for _, n in _imported_names(code, "aspire_desktop.core.x", False)]
    assert not any(_is_forbidden(n) for n in names)
