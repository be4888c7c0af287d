"""Build ASPire Desktop for installing: the frozen folder, the Debian package, the MSI.

Run with the project's Python (``.venv/bin/python``; PyInstaller comes with
``pip install -e '.[build]'``):

    python installer/build.py frozen [--force]     build/pyinstaller/dist/aspire-desktop
    python installer/build.py deb                  build/installers/aspire-desktop_V_amd64.deb
    python installer/build.py msi [--payload DIR]  build/installers/aspire-desktop-V-x64.msi

``frozen`` is a PyInstaller one-folder build with the shipped content in ``content/``
beside the executable; it is cached: run again with unchanged sources, it does nothing.
``deb`` packages that folder for /opt (Linux only). ``msi`` runs Debian's ``wixl`` on the
WiX source; on Linux the Windows program cannot be built, so without ``--payload`` the
MSI is made from a stand-in folder (marked STAND-IN in its name and in every file), which
proves the installer source, not the program. The real Windows build is
``installer/windows/ci-workflow.yml``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build"
INSTALLER = ROOT / "installer"
APP_ID = "aspire-desktop"
APP_NAME = "ASPire Desktop"
FROZEN = BUILD / "pyinstaller" / "dist" / APP_ID
OUT = BUILD / "installers"


def version() -> str:
    text = (ROOT / "src" / "aspire_desktop" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    assert found, "no __version__ in aspire_desktop/__init__.py"
    return found.group(1)


def folder_size(folder: Path) -> int:
    """Bytes in the files under ``folder`` (links not followed)."""
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


# --- The frozen folder ----------------------------------------------------------------


def _sources() -> Iterator[Path]:
    for top in ("src/aspire_desktop", "resources", "installer/pyinstaller"):
        for path in sorted((ROOT / top).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                yield path
    yield ROOT / "docs" / "user-guide.md"
    yield ROOT / "pyproject.toml"
    yield Path(__file__).resolve()


def source_stamp() -> str:
    """Changes when anything that goes into the frozen folder changes."""
    digest = hashlib.sha256(sys.version.encode())
    for path in _sources():
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    for dist in sorted(metadata.distributions(), key=lambda d: d.metadata["Name"] or ""):
        digest.update(f"{dist.metadata['Name']}=={dist.version}\n".encode())
    return digest.hexdigest()


def frozen(force: bool = False) -> Path:
    """The one-folder build with the shipped content, made only when sources changed
    (one build at a time: a second caller waits, then finds it made)."""
    FROZEN.parent.mkdir(parents=True, exist_ok=True)
    with (FROZEN.parent.parent / "lock").open("w") as lock:
        if sys.platform != "win32":
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)
        return _frozen(force)


def _frozen(force: bool) -> Path:
    stamp_file = FROZEN.parent.parent / "stamp"
    stamp = source_stamp()
    if (
        not force
        and FROZEN.is_dir()
        and stamp_file.is_file()
        and stamp_file.read_text(encoding="utf-8") == stamp
    ):
        return FROZEN
    stamp_file.unlink(missing_ok=True)
    work = FROZEN.parent.parent
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "WARN",
            "--workpath",
            str(work / "work"),
            "--distpath",
            str(FROZEN.parent),
            str(INSTALLER / "pyinstaller" / f"{APP_ID}.spec"),
        ],
        check=True,
    )
    if sys.platform.startswith("linux"):
        trim_icu(FROZEN)
    build_content(FROZEN / "content")
    stamp_file.write_text(stamp, encoding="utf-8")
    print(f"{FROZEN}: {folder_size(FROZEN) / 1e6:.1f} MB")
    return FROZEN


def build_content(out: Path) -> Path:
    """The shipped content, built the way ``aspire-pack content`` builds it."""
    from aspire_desktop.pack import main as pack

    if out.exists():
        shutil.rmtree(out)
    code = pack(["content", str(ROOT / "resources" / "catalogue.toml"), str(out)])
    if code != 0:
        raise SystemExit(f"aspire-pack content failed ({code})")
    return out


# --- ICU: the data Qt's ICU carries, cut to what the app uses ----------------------------
#
# PySide6's Linux wheels bring ICU with 32 MB of data: collation, calendars and names for
# every language, code page tables, dictionaries for line breaking. Qt does its own text
# breaking, locale formats and UTF conversions; the app is in English. So the data is cut
# to: the character properties, normalisation and name tables, the root and English
# locale and collation data, and the time zone tables; the library that holds it is
# rebuilt from that (with binutils' as and ld).

ICU_KEEP_LANGUAGES = ("en",)
_LOCALE = re.compile(r"^([a-z]{2,3})(_[A-Za-z0-9]+)*$")


def icu_keeps(item: str) -> bool:
    """Whether an ICU data item (``icudt73l/coll/root.res``) stays."""
    path = item.split("/", 1)[1]
    folder, _, base = path.rpartition("/")
    stem, _, ext = base.rpartition(".")
    locale = _LOCALE.match(stem) if stem != "res_index" else None
    english = locale is not None and locale.group(1) in ICU_KEEP_LANGUAGES
    if folder == "":
        if ext == "cnv" or base in ("unames.icu", "langInfo.res"):  # code pages, names
            return False
        return ext != "res" or locale is None or english
    if folder == "coll":
        return ext == "icu" or stem in ("root", "res_index") or english
    return False  # break iteration, currencies, languages, regions, units, zones, ...


def _elf_symbol(data: bytes, name: bytes) -> tuple[int, int]:
    """(file offset, size) of a dynamic symbol in a 64-bit little-endian ELF file."""
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [
        struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)
    ]
    for _name, kind, _flags, _addr, offset, size, link, _info, _align, entsize in sections:
        if kind != 11:  # SHT_DYNSYM
            continue
        strings = sections[link][4]
        for at in range(offset, offset + size, entsize):
            st_name, _i, _o, shndx, value, st_size = struct.unpack_from("<IBBHQQ", data, at)
            end = data.index(b"\0", strings + st_name)
            if data[strings + st_name : end] == name:
                section = sections[shndx]
                return value - section[3] + section[4], st_size
    raise ValueError(f"no symbol {name.decode()}")


def trim_icu_data(common: bytes) -> bytes:
    """An ICU common data package (``.dat``) with only the items :func:`icu_keeps`."""
    (header_size,) = struct.unpack_from("<H", common, 0)
    assert common[2:4] == b"\xda\x27" and common[12:16] == b"CmnD", "not ICU common data"
    toc = header_size
    (count,) = struct.unpack_from("<I", common, toc)
    entries = [struct.unpack_from("<II", common, toc + 4 + 8 * i) for i in range(count)]
    starts = [offset for _name, offset in entries] + [len(common) - toc]

    def name_at(offset: int) -> bytes:
        return common[toc + offset : common.index(b"\0", toc + offset)]

    kept = [
        (name_at(name), common[toc + starts[i] : toc + starts[i + 1]])
        for i, (name, _offset) in enumerate(entries)
        if icu_keeps(name_at(name).decode("ascii"))
    ]
    names = b"".join(name + b"\0" for name, _item in kept)
    names_at = 4 + 8 * len(kept)
    position = -(-(names_at + len(names)) // 16) * 16
    table, blob, name_offset = [struct.pack("<I", len(kept))], bytearray(), names_at
    for name, item in kept:
        table.append(struct.pack("<II", name_offset, position))
        name_offset += len(name) + 1
        padded = item + b"\0" * (-len(item) % 16)
        blob += padded
        position += len(padded)
    head = b"".join(table) + names
    return common[:toc] + head + b"\0" * (-len(head) % 16) + bytes(blob)


def trim_icu(folder: Path) -> None:
    """Replace the ICU data library in a frozen folder with a trimmed one."""
    [library] = [p for p in folder.rglob("libicudata.so.*") if not p.is_symlink()]
    major = library.name.rsplit(".", 1)[1]
    symbol = f"icudt{major}_dat"
    data = library.read_bytes()
    offset, size = _elf_symbol(data, symbol.encode())
    common = data[offset : offset + size]
    if len(common) < 8_000_000:
        return  # trimmed already
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "data.dat").write_bytes(trim_icu_data(common))
        (work / "data.s").write_text(
            f"\t.section .rodata\n\t.globl {symbol}\n\t.type {symbol}, @object\n"
            f'\t.balign 16\n{symbol}:\n\t.incbin "data.dat"\n'
            f"\t.size {symbol}, . - {symbol}\n"
            '\t.section .note.GNU-stack,"",@progbits\n',
            encoding="ascii",
        )
        subprocess.run(["as", "-o", "data.o", "data.s"], cwd=work, check=True)
        subprocess.run(
            ["ld", "-shared", "-soname", library.name, "-o", "lib.so", "data.o"],
            cwd=work,
            check=True,
        )
        shutil.copyfile(work / "lib.so", library)


# --- The Debian package -----------------------------------------------------------------

#: The system library each bundled file may need, and the Debian package that has it
#: (alternatives for Ubuntu's 64-bit time names). "recommends": only plugins need it.
SYSTEM_LIBRARIES: dict[str, tuple[str, bool]] = {
    "libc.so.6": ("libc6 (>= 2.34)", False),
    "libm.so.6": ("libc6 (>= 2.34)", False),
    "libdl.so.2": ("libc6 (>= 2.34)", False),
    "libpthread.so.0": ("libc6 (>= 2.34)", False),
    "libresolv.so.2": ("libc6 (>= 2.34)", False),
    "libutil.so.1": ("libc6 (>= 2.34)", False),
    "ld-linux-x86-64.so.2": ("libc6 (>= 2.34)", False),
    "libstdc++.so.6": ("libstdc++6 (>= 11)", False),
    "libgcc_s.so.1": ("libgcc-s1", False),
    "libz.so.1": ("zlib1g", False),
    "libexpat.so.1": ("libexpat1", False),
    "libbz2.so.1.0": ("libbz2-1.0", False),
    "liblzma.so.5": ("liblzma5", False),
    "libzstd.so.1": ("libzstd1", False),
    "libffi.so.8": ("libffi8", False),
    "libuuid.so.1": ("libuuid1", False),
    "libsqlite3.so.0": ("libsqlite3-0", False),
    "libssl.so.3": ("libssl3 | libssl3t64", False),
    "libcrypto.so.3": ("libssl3 | libssl3t64", False),
    "libbrotlicommon.so.1": ("libbrotli1", False),
    "libbrotlidec.so.1": ("libbrotli1", False),
    "libgssapi_krb5.so.2": ("libgssapi-krb5-2", False),
    "libglib-2.0.so.0": ("libglib2.0-0 | libglib2.0-0t64", False),
    "libgthread-2.0.so.0": ("libglib2.0-0 | libglib2.0-0t64", False),
    "libdbus-1.so.3": ("libdbus-1-3", False),
    "libfontconfig.so.1": ("libfontconfig1", False),
    "libfreetype.so.6": ("libfreetype6", False),
    "libEGL.so.1": ("libegl1", False),
    "libGL.so.1": ("libgl1", False),
    "libX11.so.6": ("libx11-6", False),
    "libX11-xcb.so.1": ("libx11-xcb1", False),
    "libxkbcommon.so.0": ("libxkbcommon0", False),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", False),
    "libxcb.so.1": ("libxcb1", False),
    "libxcb-cursor.so.0": ("libxcb-cursor0", False),
    "libxcb-icccm.so.4": ("libxcb-icccm4", False),
    "libxcb-image.so.0": ("libxcb-image0", False),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", False),
    "libxcb-randr.so.0": ("libxcb-randr0", False),
    "libxcb-render.so.0": ("libxcb-render0", False),
    "libxcb-render-util.so.0": ("libxcb-render-util0", False),
    "libxcb-shape.so.0": ("libxcb-shape0", False),
    "libxcb-shm.so.0": ("libxcb-shm0", False),
    "libxcb-sync.so.1": ("libxcb-sync1", False),
    "libxcb-util.so.1": ("libxcb-util1", False),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", False),
    "libxcb-xkb.so.1": ("libxcb-xkb1", False),
    "libcups.so.2": ("libcups2 | libcups2t64", True),  # printing to printers
    "libwayland-client.so.0": ("libwayland-client0", True),  # native Wayland windows
    "libwayland-cursor.so.0": ("libwayland-cursor0", True),
}
#: Text needs a font; any of these will do.
FONTS = "fonts-dejavu-core | fonts-noto-core | fonts-liberation2"

DESCRIPTION = """\
Offline reader for the ASPire Hub's Adult Support and Protection resources
 ASPire Desktop keeps the ASPire Hub's catalogue and documents on the computer, so
 people working in Adult Support and Protection in Scotland can browse by category,
 read and present documents, and search with no network. The content installed with
 the package is shared by every user; updates are synced per user. Central settings
 for the whole computer go in /etc/aspire-desktop/policies/managed/."""


def needed_libraries(folder: Path) -> dict[str, set[str]]:
    """The shared libraries ELF files under ``folder`` need, by file (from readelf)."""
    needs: dict[str, set[str]] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        with path.open("rb") as fh:
            if fh.read(4) != b"\x7fELF":
                continue
        out = subprocess.run(
            ["readelf", "-dW", str(path)], capture_output=True, text=True, check=True
        ).stdout
        needs[str(path.relative_to(folder))] = set(re.findall(r"\(NEEDED\).*\[(.+)\]", out))
    return needs


def system_dependencies(folder: Path) -> tuple[list[str], list[str]]:
    """(Depends, Recommends) for a frozen folder: every library it needs that it does
    not carry, mapped to its package; an unknown one is an error (add it above)."""
    needs = needed_libraries(folder)
    bundled = {Path(p).name for p in needs} | {
        p.name for p in folder.rglob("*.so*") if p.is_symlink()
    }
    depends, recommends = {FONTS}, set()
    unknown = []
    for soname in sorted(set().union(*needs.values()) - bundled):
        if soname not in SYSTEM_LIBRARIES:
            unknown.append(soname)
            continue
        package, optional = SYSTEM_LIBRARIES[soname]
        (recommends if optional else depends).add(package)
    if unknown:
        raise SystemExit(f"no Debian package known for {', '.join(unknown)}: add to build.py")
    return sorted(depends), sorted(recommends - depends)


def _copy(source: Path, target: Path, mode: int = 0o644) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    target.chmod(mode)


def render_icons(svg: Path, sizes: Iterable[int], folder: Path) -> None:
    """PNG icons for the hicolor theme, drawn from the SVG by Qt (offscreen)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer
    from PySide6.QtWidgets import QApplication

    _app = QApplication.instance() or QApplication([])  # one a widget test can share
    renderer = QSvgRenderer(str(svg))
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        renderer.render(painter)
        painter.end()
        target = folder / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(target)):
            raise SystemExit(f"could not write {target}")


def deb(folder: Path, out_dir: Path = OUT, *, fast: bool = False) -> Path:
    """The Debian package of a frozen folder (per machine, under /opt/aspire-desktop);
    ``fast`` compresses less (for tests: gzip in seconds instead of xz in a minute)."""
    BUILD.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=BUILD, prefix="deb-") as tmp:
        return _deb(folder, Path(tmp), out_dir, ["-Zgzip", "-z1"] if fast else ["-Zxz", "-z6"])


def _deb(folder: Path, stage: Path, out_dir: Path, compression: list[str]) -> Path:
    linux = INSTALLER / "linux"
    stage.chmod(0o755)
    opt = stage / "opt" / APP_ID
    shutil.copytree(folder, opt, symlinks=True)
    (stage / "usr" / "bin").mkdir(parents=True)
    (stage / "usr" / "bin" / APP_ID).symlink_to(f"/opt/{APP_ID}/{APP_ID}")
    share = stage / "usr" / "share"
    _copy(linux / f"{APP_ID}.desktop", share / "applications" / f"{APP_ID}.desktop")
    _copy(linux / f"{APP_ID}.metainfo.xml", share / "metainfo" / f"{APP_ID}.metainfo.xml")
    icons = share / "icons" / "hicolor"
    _copy(ROOT / "icons" / f"{APP_ID}.svg", icons / "scalable" / "apps" / f"{APP_ID}.svg")
    render_icons(ROOT / "icons" / f"{APP_ID}.svg", (48, 64, 128, 256), icons)
    doc = share / "doc" / APP_ID
    _copy(linux / "copyright", doc / "copyright")
    _copy(ROOT / "LICENSE", doc / "LICENSE")
    _copy(ROOT / "docs" / "deployment.md", doc / "deployment.md")
    conffile = f"/etc/{APP_ID}/policies/managed/{APP_ID}.json"
    _copy(linux / "policy" / f"{APP_ID}.json", stage / conffile.lstrip("/"))
    for path in stage.rglob("*"):  # read-only for users; programs and folders runnable
        if path.is_symlink():
            continue
        executable = path.is_dir() or path.stat().st_mode & 0o111
        path.chmod(0o755 if executable else 0o644)

    depends, recommends = system_dependencies(opt)
    control = stage / "DEBIAN"
    control.mkdir()
    fields = {
        "Package": APP_ID,
        "Version": version(),
        "Architecture": "amd64",
        "Maintainer": os.environ.get(
            "DEB_MAINTAINER", "ASPire Desktop contributors <aspire-desktop@localhost>"
        ),
        "Installed-Size": str(folder_size(stage) // 1024),
        "Depends": ", ".join(depends),
        "Recommends": ", ".join(recommends),
        "Section": "misc",
        "Priority": "optional",
        "Description": DESCRIPTION,
    }
    (control / "control").write_text(
        "".join(f"{k}: {v}\n" for k, v in fields.items()), encoding="utf-8"
    )
    (control / "conffiles").write_text(conffile + "\n", encoding="utf-8")
    sums = [
        f"{hashlib.md5(p.read_bytes()).hexdigest()}  {p.relative_to(stage)}\n"  # dpkg's format
        for p in sorted(stage.rglob("*"))
        if p.is_file() and not p.is_symlink() and control not in p.parents
    ]
    (control / "md5sums").write_text("".join(sums), encoding="utf-8")
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{APP_ID}_{version()}_amd64.deb"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", *compression, "--build", str(stage), str(target)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return target


# --- The MSI ------------------------------------------------------------------------------

STAND_IN_NOTE = (
    "STAND-IN: not ASPire Desktop. This file only stands where the Windows build's file "
    "goes, so that the MSI can be built and checked on Linux.\n"
)


def stand_in_payload(folder: Path) -> Path:
    """A folder shaped like the Windows build, with the real shipped content."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name in (f"{APP_ID}.exe", f"{APP_ID}-cli.exe", "_internal/STAND-IN.txt"):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(STAND_IN_NOTE, encoding="utf-8")
    build_content(folder / "content")
    return folder


def msi(payload: Path | None = None, out_dir: Path = OUT) -> Path:
    """The per-machine MSI built with wixl from ``payload`` (default: a stand-in)."""
    stand_in = payload is None
    if payload is None:
        payload = stand_in_payload(BUILD / "msi" / "stand-in")
    payload = payload.resolve()
    work = BUILD / "msi"
    work.mkdir(parents=True, exist_ok=True)
    files = sorted(str(p) for p in payload.rglob("*") if p.is_file())
    harvested = subprocess.run(
        [
            "wixl-heat",
            "--prefix",
            f"{payload}/",
            "--directory-ref",
            "INSTALLDIR",
            "--component-group",
            "AppFiles",
            "--var",
            "var.SourceDir",
            "--win64",
        ],
        input="\n".join(files) + "\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (work / "files.wxs").write_text(harvested, encoding="utf-8")
    out_dir.mkdir(parents=True, exist_ok=True)
    name = f"{APP_ID}-{version()}-x64{'-STAND-IN' if stand_in else ''}.msi"
    target = out_dir / name
    subprocess.run(
        [
            "wixl",
            "--arch",
            "x64",
            "-D",
            "Win64=yes",
            "-D",
            f"Version={version()}",
            "-D",
            f"SourceDir={payload.name}",  # wixl wants file sources relative
            "-o",
            str(target.resolve()),
            str(INSTALLER / "windows" / f"{APP_ID}.wxs"),
            str(work / "files.wxs"),
        ],
        check=True,
        cwd=payload.parent,
    )
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    fz = sub.add_parser("frozen", help="the one-folder build (cached)")
    fz.add_argument("--force", action="store_true", help="build even if nothing changed")
    sub.add_parser("deb", help="the Debian package (builds the frozen folder first)")
    ms = sub.add_parser("msi", help="the MSI, with wixl")
    ms.add_argument("--payload", type=Path, help="the Windows build's folder")
    args = parser.parse_args(argv)
    if args.what == "frozen":
        print(frozen(args.force))
    elif args.what == "deb":
        print(deb(frozen()))
    else:
        print(msi(args.payload))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    raise SystemExit(main())
