"""``aspire-pack``: keygen, build, verify and check, run as the publisher would."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aspire_desktop.core.catalogue.source import load_source
from aspire_desktop.core.feed.build import make_manifest, prepare_files
from aspire_desktop.core.feed.manifest import MANIFEST_NAME, SIGNATURE_NAME, manifest_to_dict
from conftest import RESOURCES
from feedtools import Doc, make_sized_pdf, write_source
from pdfs import make_pdf

pytestmark = pytest.mark.slow


def pack(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("aspire-pack")
    main = "import sys; from aspire_desktop.pack import main; sys.exit(main())"
    command = [str(script)] if script.is_file() else [sys.executable, "-c", main]
    return subprocess.run(
        [*command, *args],
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    proc = pack("keygen", "--no-password", "--out-dir", str(tmp_path / "keys"), "--name", "pub")
    assert proc.returncode == 0, proc.stderr
    return tmp_path / "keys" / "pub.key", tmp_path / "keys" / "pub.pub"


def test_keygen(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    secret, public = keys
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert public.read_text().startswith("untrusted comment: minisign public key ")
    proc = pack("keygen", "--no-password", "--out-dir", str(secret.parent), "--name", "pub")
    assert proc.returncode == 2 and "already exists" in proc.stderr
    # A password is required unless refused explicitly (none can be typed here).
    proc = pack("keygen", "--out-dir", str(tmp_path / "k2"))
    assert proc.returncode == 2 and "needs a password" in proc.stderr


def test_build_verify_and_the_minisign_tool(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    secret, public = keys
    src = write_source(tmp_path / "src", 2, [Doc("a"), Doc("b", status="superseded")])
    out = tmp_path / "feed"
    proc = pack("build", str(src), str(out), "--key", str(secret))
    assert proc.returncode == 0, proc.stderr
    assert "built feed version 2 (2 files" in proc.stdout and "signed with key" in proc.stdout
    proc = pack("verify", str(out), "--pubkey", str(public), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] and report["version"] == 2 and report["files"] == 2
    proc = subprocess.run(
        ["minisign", "-V", "-H", "-p", str(public), "-m", str(out / MANIFEST_NAME)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    # A damaged file and a wrong key are both caught.
    victim = next((out / "files").iterdir())
    victim.write_bytes(victim.read_bytes()[:-1] + b"!")
    proc = pack("verify", str(out), "--pubkey", str(public))
    assert proc.returncode == 1 and "does not match its sha256" in proc.stdout
    other = tmp_path / "other"
    pack("keygen", "--no-password", "--out-dir", str(other))
    proc = pack("verify", str(out), "--pubkey", str(other / "aspire-feed.pub"))
    assert proc.returncode == 1 and "does not trust" in proc.stderr


def test_build_with_a_password_protected_key(tmp_path: Path) -> None:
    env = {"ASPIRE_PACK_PASSWORD": "correct horse"}
    assert pack("keygen", "--out-dir", str(tmp_path), "--name", "k", env=env).returncode == 0
    src = write_source(tmp_path / "src", 2, [Doc("a")])
    key = str(tmp_path / "k.key")
    proc = pack("build", str(src), str(tmp_path / "feed"), "--key", key, env=env)
    assert proc.returncode == 0, proc.stderr
    proc = pack("build", str(src), str(tmp_path / "feed2"), "--key", key)
    assert proc.returncode == 2 and "protected by a password" in proc.stderr


def test_unsigned_build_says_how_to_sign(tmp_path: Path) -> None:
    src = write_source(tmp_path / "src", 2, [Doc("a")])
    proc = pack("build", str(src), str(tmp_path / "feed"))
    assert proc.returncode == 0, proc.stderr
    assert "not signed" in proc.stdout and "minisign -S" in proc.stdout
    assert not (tmp_path / "feed" / SIGNATURE_NAME).exists()


def test_build_refuses_a_broken_pdf(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    src = write_source(tmp_path / "src", 2, [Doc("a")])
    pdf = next((tmp_path / "pdfs").iterdir())
    pdf.write_bytes(b"%PDF-1.7\n this is not really a PDF")
    proc = pack("build", str(src), str(tmp_path / "feed"), "--key", str(keys[0]))
    assert proc.returncode == 2
    assert f"{pdf.name} cannot be opened as a PDF" in proc.stderr
    assert "aspire-pack check" in proc.stderr
    assert not (tmp_path / "feed" / MANIFEST_NAME).exists()


def test_version_numbers_only_go_up(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    out = tmp_path / "feed"
    key = str(keys[0])
    assert (
        pack(
            "build", str(write_source(tmp_path / "s3", 3, [Doc("a")])), str(out), "--key", key
        ).returncode
        == 0
    )
    proc = pack("build", str(write_source(tmp_path / "s2", 2, [Doc("a")])), str(out), "--key", key)
    assert proc.returncode == 2 and "only go up" in proc.stderr
    proc = pack("build", str(write_source(tmp_path / "s3b", 3, [Doc("b")])), str(out), "--key", key)
    assert proc.returncode == 2 and "different feed with version 3" in proc.stderr
    # The same source again is fine (a rebuild), and so is the next version.
    assert pack("build", str(tmp_path / "s3"), str(out), "--key", key).returncode == 0
    proc = pack("build", str(write_source(tmp_path / "s4", 4, [Doc("b")])), str(out), "--key", key)
    assert proc.returncode == 0
    assert len(list((out / "files").iterdir())) == 2  # old files stay for mirrors


def test_check(tmp_path: Path) -> None:
    good = make_pdf(tmp_path / "good.pdf", pages=3)
    big = make_sized_pdf(tmp_path / "big.pdf", 200_000, "padding")
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"not a pdf")
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    proc = pack("check", str(good), str(big), str(bad), str(empty))
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("ok ") and "3 pages" in lines[0] and "has text" in lines[0]
    assert lines[1].startswith("ok ")
    assert lines[2].startswith("PROBLEM") and "cannot be opened as a PDF" in lines[2]
    assert lines[3].startswith("PROBLEM")
    proc = pack("check", str(good), "--json")
    assert proc.returncode == 0
    (report,) = json.loads(proc.stdout)
    assert report["opens"] and report["pages"] == 3 and report["renders"] and report["has_text"]


def test_check_reports_a_document_without_text(tmp_path: Path) -> None:
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.draw_rect(pymupdf.Rect(50, 50, 200, 200), color=(0, 0, 0), fill=(0.5, 0.5, 0.5))
    doc.save(tmp_path / "picture.pdf")
    doc.close()
    proc = pack("check", str(tmp_path / "picture.pdf"))
    assert proc.returncode == 0 and "NO TEXT" in proc.stdout


def test_check_time_limit(tmp_path: Path) -> None:
    """Page 1 must render within the limit; a limit no document can meet proves it."""
    pdf = make_pdf(tmp_path / "a.pdf")
    proc = pack("check", str(pdf), "--time-limit", "0.000001")
    assert proc.returncode == 1 and "within 1e-06 seconds" in proc.stdout


def test_shipped_content_is_built_the_same_way(tmp_path: Path) -> None:
    """``aspire-pack build resources/`` makes the feed of exactly what ``content`` ships."""
    out = tmp_path / "feed"
    proc = pack("build", str(RESOURCES), str(out))
    assert proc.returncode == 0, proc.stderr
    source = load_source(RESOURCES / "catalogue.toml")
    prepared = prepare_files(source, tmp_path / "again" / "files")
    ours = _without_checksums(manifest_to_dict(make_manifest(source, prepared)))
    theirs = _without_checksums(json.loads((out / MANIFEST_NAME).read_bytes()))
    assert ours == theirs
    assert len(theirs["files"]) == 1  # the user guide; hub documents are not shipped
    proc = pack("content", str(RESOURCES), str(tmp_path / "content"))
    assert proc.returncode == 0, proc.stderr
    assert len(list((tmp_path / "content" / "files").iterdir())) == 1


def _without_checksums(manifest: dict[str, Any]) -> dict[str, Any]:
    """The user guide is rendered from Markdown on each build, and its PDF's bytes (dates,
    ids) differ from one rendering to the next; everything else must be the same."""
    text = json.dumps(manifest)
    for f in manifest["files"]:
        text = text.replace(f["sha256"], "SHA").replace(f["path"], "PATH")
        text = text.replace(f'"size": {f["size"]}', '"size": 0')
    return dict(json.loads(text))
