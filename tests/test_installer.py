"""Installers: the frozen folder is lean and starts with no Python on the machine, opening a
shipped PDF; the Debian package installs with apt, runs as a user and is removed cleanly;
the MSI builds with wixl; the Group Policy template and the WiX source name every policy.

The frozen build takes about a minute; it is cached in build/pyinstaller and reused (by
every test here, and by later runs while the sources are unchanged)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from app_process import Trace, stop_app
from aspire_desktop import APP_NAME, __version__
from aspire_desktop.core import policy
from conftest import ROOT

INSTALLER = ROOT / "installer"
GUIDE = "aspire-desktop-user-guide"
#: Keep it lean: the frozen folder, content included, in bytes.
SIZE_LIMIT = 160_000_000
UPGRADE_CODE = "0080BCBF-6B59-4746-B75A-43E61AE2F5E3"
ADMX_NS = {"p": "http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions"}


def _load_build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("installer_build", INSTALLER / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build()


@pytest.fixture(scope="module")
def frozen() -> Path:
    return build.frozen()


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime_ns)
        for p in folder.rglob("*")
    }


def _run(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    kwargs.setdefault("check", True)
    return subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)


# --- Fast checks of the sources -----------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "kept"),
    [
        ("icudt73l/uprops.icu", True),
        ("icudt73l/nfkc.nrm", True),
        ("icudt73l/root.res", True),
        ("icudt73l/pool.res", True),
        ("icudt73l/res_index.res", True),
        ("icudt73l/en_GB.res", True),
        ("icudt73l/supplementalData.res", True),
        ("icudt73l/zoneinfo64.res", True),
        ("icudt73l/coll/ucadata.icu", True),
        ("icudt73l/coll/root.res", True),
        ("icudt73l/coll/en_US_POSIX.res", True),
        ("icudt73l/de.res", False),
        ("icudt73l/yue_Hans.res", False),
        ("icudt73l/ibm-943_P15A-2003.cnv", False),
        ("icudt73l/unames.icu", False),
        ("icudt73l/coll/zh.res", False),
        ("icudt73l/brkitr/cjdict.dict", False),
        ("icudt73l/curr/en.res", False),
        ("icudt73l/zone/en.res", False),
    ],
)
def test_icu_data_keeps_what_qt_uses_in_english(item: str, kept: bool) -> None:
    assert build.icu_keeps(item) is kept


def test_icu_data_is_trimmed_into_a_valid_package() -> None:
    import PySide6

    [library] = (Path(PySide6.__file__).parent / "Qt" / "lib").glob("libicudata.so.*")
    data = library.read_bytes()
    offset, size = build._elf_symbol(data, f"icudt{library.name.rsplit('.', 1)[1]}_dat".encode())
    trimmed = build.trim_icu_data(data[offset : offset + size])
    assert len(trimmed) < size / 8
    header = int.from_bytes(trimmed[:2], "little")
    count = int.from_bytes(trimmed[header : header + 4], "little")
    names = []
    for i in range(count):
        at = header + 4 + 8 * i
        name_at = int.from_bytes(trimmed[at : at + 4], "little")
        item_at = int.from_bytes(trimmed[at + 4 : at + 8], "little")
        assert (header + item_at) % 16 == 0
        assert trimmed[header + item_at + 2 : header + item_at + 4] == b"\xda\x27"  # an item
        end = trimmed.index(b"\0", header + name_at)
        names.append(trimmed[header + name_at : end].decode())
    assert names == sorted(names) and all(build.icu_keeps(n) for n in names)
    assert any(n.endswith("/coll/ucadata.icu") for n in names)


def test_every_library_the_build_needs_maps_to_its_debian_package() -> None:
    libraries = build.SYSTEM_LIBRARIES
    cache = _run("ldconfig", "-p").stdout  # "\tlibxcb.so.1 (libc6,x86-64) => /lib/..."
    paths: set[str] = set()
    for name, path in re.findall(r"^\s+(\S+) \(libc6,x86-64[^)]*\) => (\S+)$", cache, re.M):
        if name in libraries:  # dpkg knows a file under one of /lib and /usr/lib (usrmerge)
            tail = path.removeprefix("/usr")
            paths |= {tail, "/usr" + tail}
    found = _run("dpkg", "-S", *sorted(paths), check=False)
    owners: dict[str, set[str]] = {}
    for line in found.stdout.splitlines():  # "libc6:amd64: /lib/x86_64-linux-gnu/libc.so.6"
        packages, path = line.split(": ", 1)
        for package in packages.split(", "):
            owners.setdefault(Path(path).name, set()).add(package.split(":")[0])
    assert len(owners) > len(libraries) // 2, found.stderr
    for soname, owned_by in owners.items():  # libraries not installed here are not listed
        names = {re.sub(r" \(.*\)", "", p).strip() for p in libraries[soname][0].split("|")}
        assert owned_by & names, f"{soname} is in {owned_by}, not {names}"


def test_the_group_policy_template_has_every_policy() -> None:
    admx = ET.parse(INSTALLER / "windows" / "policy" / "aspire-desktop.admx").getroot()
    adml = ET.parse(INSTALLER / "windows" / "policy" / "en-US" / "aspire-desktop.adml").getroot()
    strings = {s.get("id") for s in adml.iterfind(".//p:stringTable/p:string", ADMX_NS)}
    presentations = {
        p.get("id"): {c.get("refId") for c in p}
        for p in adml.iterfind(".//p:presentationTable/p:presentation", ADMX_NS)
    }
    names = {}
    for item in admx.iterfind(".//p:policies/p:policy", ADMX_NS):
        assert item.get("key") == policy.REGISTRY_KEY.replace("SOFTWARE", "Software")
        value_names = {item.get("valueName")} | {
            e.get("valueName") for e in item.iterfind("p:elements/*", ADMX_NS)
        }
        names[item.get("name")] = value_names - {None}
        for attribute in ("displayName", "explainText"):
            assert item.get(attribute)[len("$(string.") : -1] in strings
        if item.get("presentation"):
            ids = {e.get("id") for e in item.iterfind("p:elements/*", ADMX_NS)}
            assert presentations[item.get("presentation")[len("$(presentation.") : -1]] == ids
    assert names == {name: {name} for name in policy.POLICY_NAMES}
    admx_text = (INSTALLER / "windows" / "policy" / "aspire-desktop.admx").read_text()
    assert set(re.findall(r"\$\(string\.(\w+)\)", admx_text)) <= strings


def test_the_wix_source_is_a_per_machine_msi_without_custom_actions() -> None:
    source = (INSTALLER / "windows" / "aspire-desktop.wxs").read_text(encoding="utf-8")
    ns = {"w": "http://schemas.microsoft.com/wix/2006/wi"}
    root = ET.fromstring(source)
    product = root.find("w:Product", ns)
    assert product is not None and product.get("UpgradeCode") == UPGRADE_CODE
    assert root.find(".//w:Package", ns).get("InstallScope") == "perMachine"
    assert root.find(".//w:MajorUpgrade", ns) is not None
    assert root.find(".//w:CustomAction", ns) is None and "CustomAction" not in source
    values = {
        v.get("Name"): (v.get("Root"), v.get("Key"), v.get("Value"))
        for v in root.iterfind(".//w:RegistryValue", ns)
    }
    key = policy.REGISTRY_KEY
    assert values["FeedUrl"] == ("HKLM", key, "[FEED_URL]")
    assert values["AutoSync"] == ("HKLM", key, "[AUTOSYNC]")


def test_the_deployment_guide_documents_every_policy_and_the_silent_commands() -> None:
    guide = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    for name in policy.POLICY_NAMES:
        assert f"`{name}`" in guide, name
    for command in ("msiexec /i", "msiexec /x", "apt-get install", "apt-get purge", "nginx"):
        assert command in guide


# --- The frozen folder ------------------------------------------------------------------


@pytest.mark.frozen_build
@pytest.mark.slow
def test_the_frozen_folder_is_lean(frozen: Path) -> None:
    size = build.folder_size(frozen)
    print(f"frozen folder: {size / 1e6:.1f} MB")
    assert size <= SIZE_LIMIT
    internal = frozen / "_internal"
    plugins = {
        f"{p.parent.name}/{p.name}" for p in (internal / "PySide6" / "Qt" / "plugins").rglob("*.so")
    }
    assert "platforms/libqxcb.so" in plugins and "platforms/libqoffscreen.so" in plugins
    assert "iconengines/libqsvgicon.so" in plugins
    assert not any(
        p.startswith(("platforms/libqeglfs", "sqldrivers/", "qmltooling/")) for p in plugins
    )
    libs = {p.name.split(".so")[0] for p in internal.rglob("*.so*")}
    for unwanted in ("libQt6Qml", "libQt6Quick", "libQt6Pdf", "libQt6OpenGL"):
        assert unwanted not in libs
    # The system's libraries stay the system's (the .deb depends on them), also when the
    # Python that builds lives beside them (Debian's python3, in /usr).
    system = ("libX11", "libxcb", "libxcb-cursor", "libGL", "libglib-2.0", "libfontconfig")
    system += ("libcrypto", "libssl", "libsqlite3", "libstdc++", "libexpat", "libz")
    assert not libs & set(system), libs & set(system)
    assert not list(internal.rglob("*.qm")) and not list(internal.rglob("mupdf-devel"))
    assert (frozen / "content" / "content.json").is_file()


ICU_CHECK = """
import ctypes, sys
from pathlib import Path

def utf16(text):
    return text.encode("utf-16-le")

lib, major = Path(sys.argv[1]), sys.argv[2]
for name in ("libicudata", "libicuuc"):
    ctypes.CDLL(str(lib / f"{name}.so.{major}"), mode=ctypes.RTLD_GLOBAL)
i18n = ctypes.CDLL(str(lib / f"libicui18n.so.{major}"))
uc = ctypes.CDLL(str(lib / f"libicuuc.so.{major}"))
status = ctypes.c_int(0)
ucol_open = i18n[f"ucol_open_{major}"]
ucol_open.restype = ctypes.c_void_p
ucol_open.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]
collator = ucol_open(b"en_GB", ctypes.byref(status))
assert collator and status.value <= 0, status.value
text = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int32, ctypes.c_char_p, ctypes.c_int32]
strcoll = i18n[f"ucol_strcoll_{major}"]
strcoll.argtypes = text
# A real collation: "apple" before "Banana" (by code points, B comes first).
assert strcoll(collator, utf16("apple"), 5, utf16("Banana"), 6) == -1
ucol_close = i18n[f"ucol_close_{major}"]
ucol_close.argtypes = [ctypes.c_void_p]
ucol_close(collator)
upper = uc[f"u_strToUpper_{major}"]
upper.argtypes = [ctypes.c_char_p, ctypes.c_int32, ctypes.c_char_p, ctypes.c_int32,
                  ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]
out = ctypes.create_string_buffer(64)
status = ctypes.c_int(0)
length = upper(out, 32, utf16("straße"), 6, b"en", ctypes.byref(status))
assert status.value <= 0 and out.raw[: 2 * length].decode("utf-16-le") == "STRASSE"
print("ok")
"""


@pytest.mark.frozen_build
@pytest.mark.slow
def test_the_trimmed_icu_still_collates_and_maps_case(frozen: Path) -> None:
    """Run apart: this process has Qt's own ICU loaded already."""
    lib = frozen / "_internal" / "PySide6" / "Qt" / "lib"
    [data] = lib.glob("libicudata.so.*")
    assert data.stat().st_size < 4_000_000
    major = data.name.rsplit(".", 1)[1]
    assert _run(sys.executable, "-c", ICU_CHECK, str(lib), major).stdout == "ok\n"


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)  # no copying when on the same file system
    except OSError:
        shutil.copy2(source, target)


def _ldd(files: list[Path], library_path: Path) -> set[str]:
    """The system libraries ``files`` load, as the dynamic linker finds them on this
    machine (the frozen folder's own libraries come from ``library_path``, as its program
    sets it)."""
    found: set[str] = set()
    env = {"PATH": os.environ["PATH"], "LD_LIBRARY_PATH": str(library_path)}
    for path in files:
        out = _run("ldd", str(path), env=env, check=False).stdout
        found |= set(re.findall(r"^\s+(?:\S+ => )?(/\S+) \(0x", out, re.MULTILINE))
    return found


def _is_elf(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(4) == b"\x7fELF"


def root_without_python(frozen: Path, root: Path) -> Path:
    """A root file system for ``chroot`` holding the frozen folder (at /opt) and, from this
    machine, only what the app uses from the system: the libraries its files link to,
    fontconfig's set-up and the fonts, the user and group files and a few devices. There
    is no Python in it: no interpreter, no libpython, no standard library, no packages."""
    app = root / "opt" / "aspire-desktop"
    shutil.copytree(frozen, app, symlinks=True, copy_function=_link_or_copy)
    files = [p for p in app.rglob("*") if p.is_file() and not p.is_symlink() and _is_elf(p)]
    for library in _ldd(files, app / "_internal"):
        if Path(library).is_relative_to(app) or Path(library).is_relative_to(frozen):
            continue
        target = root / library.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(Path(library).resolve(), target)
    for folder in ("/etc/fonts", "/usr/share/fontconfig", "/usr/share/fonts"):
        if Path(folder).is_dir():  # links followed: fontconfig's conf.d links to conf.avail
            shutil.copytree(folder, root / folder.lstrip("/"), copy_function=_link_or_copy)
    for name in ("passwd", "group", "nsswitch.conf"):
        if Path("/etc", name).is_file():
            shutil.copy2(Path("/etc", name), root / "etc" / name)
    (root / "dev").mkdir()
    for name, minor in (("null", 3), ("zero", 5), ("random", 8), ("urandom", 9)):
        os.mknod(root / "dev" / name, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
        (root / "dev" / name).chmod(0o666)
    for folder in ("tmp", "dev/shm"):
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder).chmod(0o1777)
    return root


@pytest.mark.frozen_build
@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="chroot needs root")
def test_the_frozen_build_starts_without_python_and_opens_a_shipped_pdf(
    frozen: Path, tmp_path: Path
) -> None:
    """In a root that has the frozen folder and the system's libraries but no Python at
    all, the app starts, reports itself healthy and opens a shipped PDF in its document
    host (a child process), writing nothing into its folder. Works in a plain chroot:
    no mount namespace, no mounts."""
    root = root_without_python(frozen, tmp_path / "root")
    app = root / "opt" / "aspire-desktop"
    python = re.compile(r"python|site-packages|\.pyc?$", re.IGNORECASE)
    outside = [p for p in root.rglob("*") if not p.is_relative_to(app)]
    assert not [p for p in outside if python.search(str(p.relative_to(root)))]
    assert (root / "lib64" / "ld-linux-x86-64.so.2").is_file()  # what the program needs

    chroot = [shutil.which("chroot", path="/usr/sbin:/sbin:/usr/bin:/bin") or "chroot", str(root)]
    program = "/opt/aspire-desktop/aspire-desktop"
    (root / "home" / "user" / "run").mkdir(parents=True, mode=0o700)
    env = {  # nothing of Python's (no PYTHONHOME, PYTHONPATH), nothing on PATH
        "PATH": "/usr/bin:/bin",
        "HOME": "/home/user",
        "ASPIRE_DESKTOP_HOME": "/home/user/aspire",
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_RUNTIME_DIR": "/home/user/run",
    }
    assert _run(*chroot, program, "--version", env=env).stdout.strip() == (
        f"{APP_NAME} {__version__}"
    )
    report = json.loads(_run(*chroot, program, "doctor", "--json", env=env).stdout)
    assert report["ok"], report["checks"]
    assert report["paths"]["baseline"] == "/opt/aspire-desktop/content"
    assert report["versions"]["PySide6"] != "not installed"

    before = _snapshot(app)
    trace = Trace(root / "tmp" / "trace")
    proc = subprocess.Popen(
        [*chroot, program, "open", GUIDE],
        env=dict(env, ASPIRE_DESKTOP_TRACE_STARTUP="/tmp/trace"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        trace.wait_for("document-ready")  # the document host (a spawned child) opened it
    finally:
        err = stop_app(proc)
        trace.close()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    log = (root / "home" / "user" / "aspire" / "logs" / "aspire-desktop.log").read_text()
    assert " ERROR " not in log and "CRITICAL" not in log, log
    assert _snapshot(app) == before  # nothing written under the install folder


# --- The Debian package -------------------------------------------------------------------


def _purge() -> None:
    subprocess.run(
        ["apt-get", "purge", "-y", "-qq", "aspire-desktop"],
        capture_output=True,
        check=False,
        env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"),
    )


@pytest.fixture
def user_home() -> Iterator[Path]:
    """A home folder for the user nobody, somewhere nobody can reach."""
    home = Path(tempfile.mkdtemp(prefix="aspire-user-"))
    (home / "run").mkdir(mode=0o700)
    for path in (home, home / "run"):
        shutil.chown(path, "nobody", "nogroup")
    try:
        yield home
    finally:
        shutil.rmtree(home)


def _process_tree(pid: int) -> list[int]:
    """A process and all its descendants (from /proc)."""
    parents: dict[int, list[int]] = {}
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone
        parents.setdefault(int(fields[1]), []).append(int(stat_file.parent.name))
    tree, todo = [], [pid]
    while todo:
        tree.append(todo.pop())
        todo += parents.get(tree[-1], [])
    return tree


def _mapped_files(pid: int) -> set[str]:
    """The files a process has mapped: its program, the libraries it loaded, ..."""
    rows = [line.split(None, 5) for line in Path(f"/proc/{pid}/maps").read_text().splitlines()]
    return {row[5] for row in rows if len(row) == 6 and row[5].startswith("/")}


def _owners(paths: set[str]) -> dict[str, set[str]]:
    """The packages that installed each file (dpkg knows a file under /lib or /usr/lib)."""
    asked = {p: p for p in paths} | {
        ("/usr" + p if not p.startswith("/usr/") else p.removeprefix("/usr")): p for p in paths
    }
    found = _run("dpkg", "-S", *sorted(asked), check=False).stdout
    owners: dict[str, set[str]] = {}
    for line in found.splitlines():  # "libc6:amd64: /lib/x86_64-linux-gnu/libc.so.6"
        packages, path = line.split(": ", 1)
        if path in asked:
            owners.setdefault(asked[path], set()).update(
                p.split(":")[0] for p in packages.split(", ")
            )
    return owners


def _dependency_closure(package: str) -> set[str]:
    """The installed packages apt installs with ``package``: its Depends, theirs, ..."""
    out = _run(
        "apt-cache", "depends", "--recurse", "--installed", "--no-recommends",
        "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances",
        package,
    ).stdout  # fmt: skip
    return {line.split(":")[0] for line in out.splitlines() if line and not line[0].isspace()}


def _essential_packages() -> set[str]:
    out = _run("dpkg-query", "-W", "-f", "${Package} ${Essential}\n").stdout
    return {line.split()[0] for line in out.splitlines() if line.endswith(" yes")}


@pytest.mark.frozen_build
@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="installs a package with apt (root)")
def test_the_debian_package_installs_runs_as_a_user_and_goes_away(
    frozen: Path, user_home: Path, xvfb: str, tmp_path: Path
) -> None:
    deb = build.deb(frozen, tmp_path, fast=True)
    info = _run("dpkg-deb", "--field", str(deb)).stdout
    assert "Package: aspire-desktop" in info and "libxcb-cursor0" in info
    apt_env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    conffile = Path("/etc/aspire-desktop/policies/managed/aspire-desktop.json")
    test_policy = conffile.with_name("50-test.json")
    _purge()
    try:
        _run("apt-get", "install", "-y", "-qq", "--no-install-recommends", str(deb), env=apt_env)
        listed = set(_run("dpkg", "-L", "aspire-desktop").stdout.split())
        for path in (
            "/opt/aspire-desktop/aspire-desktop",
            "/opt/aspire-desktop/content/content.json",
            "/usr/bin/aspire-desktop",
            "/usr/share/applications/aspire-desktop.desktop",
            "/usr/share/metainfo/aspire-desktop.metainfo.xml",
            "/usr/share/icons/hicolor/scalable/apps/aspire-desktop.svg",
            "/usr/share/icons/hicolor/256x256/apps/aspire-desktop.png",
            "/usr/share/doc/aspire-desktop/copyright",
            str(conffile),
        ):
            assert path in listed, path
        conffiles = _run("dpkg-query", "-W", "-f", "${Conffiles}", "aspire-desktop").stdout
        assert str(conffile) in conffiles
        test_policy.write_text(json.dumps({"AutoSync": False}), encoding="utf-8")

        as_user = {"user": "nobody", "group": "nogroup", "extra_groups": []}
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(user_home),
            "XDG_RUNTIME_DIR": str(user_home / "run"),
            "QT_QPA_PLATFORM": "offscreen",
        }
        version = _run("aspire-desktop", "--version", env=env, cwd=user_home, **as_user)
        assert version.stdout.strip() == f"{APP_NAME} {__version__}"
        report = json.loads(
            _run("aspire-desktop", "doctor", "--json", env=env, cwd=user_home, **as_user).stdout
        )
        assert report["ok"], report["checks"]
        assert report["paths"]["baseline"] == "/opt/aspire-desktop/content"
        assert report["paths"]["data"].startswith(str(user_home))
        auto = next(s for s in report["settings"] if s["name"] == "AutoSync")
        assert (auto["value"], auto["source"]) == (False, f"policy file {test_policy}")

        before = _snapshot(Path("/opt/aspire-desktop"))
        trace = Trace(user_home / "trace")
        os.chmod(trace.path, 0o666)
        proc = subprocess.Popen(  # in a real X session: Qt's xcb platform
            ["aspire-desktop", "open", GUIDE],
            env=dict(
                env,
                DISPLAY=xvfb,
                QT_QPA_PLATFORM="xcb",
                ASPIRE_DESKTOP_TRACE_STARTUP=str(trace.path),
            ),
            cwd=user_home,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            **as_user,
        )
        try:
            trace.wait_for("document-ready")
            libraries = {
                path
                for pid in _process_tree(proc.pid)
                for path in _mapped_files(pid)
                if ".so" in Path(path).name and not path.startswith("/opt/aspire-desktop/")
            }
        finally:
            err = stop_app(proc)
            trace.close()
        assert proc.returncode == 0, err
        assert "Traceback" not in err, err
        # Every system library it loaded comes with a package that apt installs for it (or
        # with every system): so its Depends are complete, whatever this machine has.
        assert any("libxcb-cursor.so" in p for p in libraries), libraries
        owners = _owners(libraries)
        assert set(owners) == libraries, f"owned by no package: {libraries - set(owners)}"
        installed_with_it = _dependency_closure("aspire-desktop") | _essential_packages()
        for path, packages in owners.items():
            assert packages & installed_with_it, f"{path} is from {packages}, not a dependency"
        assert _snapshot(Path("/opt/aspire-desktop")) == before
        assert list(user_home.glob(".local/share/aspire-desktop/userdata.sqlite"))
        assert list(user_home.glob(".local/state/aspire-desktop/log/aspire-desktop.log"))
        test_policy.unlink()

        _run("apt-get", "remove", "-y", "-qq", "aspire-desktop", env=apt_env)
        assert not Path("/opt/aspire-desktop").exists()
        assert not Path("/usr/bin/aspire-desktop").exists()
        assert conffile.is_file()  # removed, not purged: the configuration stays
        status = _run("dpkg-query", "-W", "-f", "${db:Status-Abbrev}", "aspire-desktop")
        assert status.stdout.strip() == "rc"

        _run("apt-get", "purge", "-y", "-qq", "aspire-desktop", env=apt_env)
        assert not Path("/etc/aspire-desktop").exists()
        gone = _run("dpkg", "-L", "aspire-desktop", check=False)
        assert gone.returncode != 0 and not gone.stdout.strip()
    finally:
        test_policy.unlink(missing_ok=True)
        _purge()


# --- The MSI ---------------------------------------------------------------------------


def _table(msi: Path, name: str) -> list[list[str]]:
    rows = _run("msiinfo", "export", str(msi), name).stdout.splitlines()
    return [row.split("\t") for row in rows[3:]]


@pytest.mark.slow
def test_the_msi_builds_with_wixl_from_a_stand_in(tmp_path: Path) -> None:
    msi = build.msi(None, tmp_path)
    assert msi.name == f"aspire-desktop-{__version__}-x64-STAND-IN.msi"
    properties = dict((row[0], row[1]) for row in _table(msi, "Property"))
    assert properties["UpgradeCode"] == "{" + UPGRADE_CODE + "}"
    assert properties["ALLUSERS"] == "1"
    assert properties["ProductVersion"] == __version__
    upgrades = _table(msi, "Upgrade")
    assert {row[-1] for row in upgrades} == {"WIX_UPGRADE_DETECTED", "WIX_DOWNGRADE_DETECTED"}
    assert _table(msi, "CustomAction") == []
    registry = {row[3]: row for row in _table(msi, "Registry")}
    assert registry["FeedUrl"][1:5] == ["2", policy.REGISTRY_KEY, "FeedUrl", "[FEED_URL]"]
    assert registry["AutoSync"][1:5] == ["2", policy.REGISTRY_KEY, "AutoSync", "[AUTOSYNC]"]
    summary = _run("msiinfo", "suminfo", str(msi)).stdout
    assert "Template: x64;1033" in summary
    files = set(_run("msiextract", "--list", str(msi)).stdout.split("\n"))
    assert "ASPire Desktop/aspire-desktop.exe" in files
    assert "ASPire Desktop/content/content.json" in files
    assert any(f.startswith("ASPire Desktop/content/files/") for f in files)
    out = tmp_path / "extracted"
    _run("msiextract", "--directory", str(out), str(msi))
    assert (out / "ASPire Desktop" / "aspire-desktop.exe").read_text().startswith("STAND-IN")
