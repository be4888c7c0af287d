"""The ``aspire-desktop`` and ``aspire-pack`` commands, run as real processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aspire_desktop.core.catalogue.reader import CatalogueReader
from aspire_desktop.core.store import layout
from conftest import RESOURCES
from pdfs import make_pdf

pytestmark = pytest.mark.slow

TRAUMA_FIRST = "aspire-2023-domestic-abuse-and-trauma-informed-asp-webinar"
GUIDE = "aspire-desktop-user-guide"


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aspire_desktop", *args],
        env=os.environ.copy() if env is None else env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def pack(*args: str) -> subprocess.CompletedProcess[str]:
    """``aspire-pack``: the installed script if there is one, else its main()."""
    script = Path(sys.executable).with_name("aspire-pack")
    main = "import sys; from aspire_desktop.pack import main; sys.exit(main())"
    command = [str(script)] if script.is_file() else [sys.executable, "-c", main]
    return subprocess.run(
        [*command, *args],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_version() -> None:
    proc = run("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == "ASPire Desktop 0.1.0"


def test_help_and_usage_errors() -> None:
    proc = run("--help")
    assert proc.returncode == 0
    assert "catalogue" in proc.stdout and "doctor" in proc.stdout
    bad = run("no-such-command")
    assert bad.returncode == 2
    assert "invalid choice" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert run("catalogue").returncode == 2  # the action is required


def test_catalogue_list_json(baseline: Path) -> None:
    proc = run("catalogue", "list", "--json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    doc = json.loads(proc.stdout)
    reader = CatalogueReader(baseline / layout.CATALOGUE)
    try:
        assert doc["content_version"] == int(reader.meta["content_version"]) == 1
        assert doc["issued"] == reader.meta["issued"]
        cats = reader.categories()
        assert [(c["id"], c["name"], c["count"]) for c in doc["categories"]] == [
            (c.id, c.name, c.count) for c in cats
        ]
        for listed, cat in zip(doc["categories"], cats, strict=True):
            ids = reader.resource_ids(cat.id)
            assert [r["id"] for r in listed["resources"]] == ids
            assert len(listed["resources"]) == listed["count"]
            briefs = reader.briefs(ids)
            for r in listed["resources"]:
                b = briefs[r["id"]]
                assert (r["title"], r["kind"], r["status"]) == (b.title, b.kind, b.status)
                assert (r["has_document"], r["cached"]) == (b.has_document, b.cached)
    finally:
        reader.close()
    by_id = {r["id"]: r for c in doc["categories"] for r in c["resources"]}
    assert by_id[GUIDE]["cached"] is True
    assert by_id[TRAUMA_FIRST]["cached"] is False
    assert by_id[TRAUMA_FIRST]["has_document"] is True
    assert by_id["national-trauma-transformation-programme-website"]["has_document"] is False


def test_catalogue_list_one_category(baseline: Path) -> None:
    proc = run("catalogue", "list", "--category", "trauma", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [c["id"] for c in doc["categories"]] == ["trauma"]
    assert doc["categories"][0]["count"] == 9
    assert doc["categories"][0]["resources"][0]["id"] == TRAUMA_FIRST


def test_catalogue_list_unknown_category(baseline: Path) -> None:
    proc = run("catalogue", "list", "--category", "nope")
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "aspire-desktop: There is no category 'nope'." in proc.stderr
    assert "Known categories: trauma, using-aspire-desktop." in proc.stderr
    assert "Traceback" not in proc.stderr


def test_catalogue_list_text(baseline: Path) -> None:
    proc = run("catalogue", "list")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "Trauma [trauma] (9)"
    assert "Using ASPire Desktop [using-aspire-desktop] (1)" in lines
    assert "not on this computer" in proc.stdout
    assert any(
        line.strip().startswith(f"{GUIDE}:") and "on this computer" in line for line in lines
    )
    assert "(Working group page; no document)" in proc.stdout
    assert "(Companion document; not on this computer)" in proc.stdout


def test_catalogue_list_large(large_baseline: Path) -> None:
    proc = run("catalogue", "list", "--category", "sample-category-001", "--json")
    assert proc.returncode == 0, proc.stderr
    cat = json.loads(proc.stdout)["categories"][0]
    assert cat["count"] == len(cat["resources"]) == 200


def test_catalogue_list_without_content(tmp_path: Path) -> None:
    env = os.environ.copy()
    env["ASPIRE_DESKTOP_BASELINE"] = str(tmp_path / "nothing-here")
    proc = run("catalogue", "list", env=env)
    assert proc.returncode == 4
    assert proc.stderr.startswith("aspire-desktop: No content is installed.")
    assert "Traceback" not in proc.stderr


def test_catalogue_list_falls_back_with_a_notice(baseline: Path, isolated_home: Path) -> None:
    """A damaged synced version: the baseline is listed and a notice printed."""
    content = isolated_home / "data" / "content"
    version = Path(shutil.copytree(baseline, content / "versions" / "v2"))
    (version / layout.CATALOGUE).write_bytes(b"garbage" * 100)
    (content / "current.json").write_text(json.dumps({"version_dir": "v2"}))
    proc = run("catalogue", "list", "--json")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["content_version"] == 1
    assert "showing the content it was installed with" in proc.stderr


def test_data_dir_flag(baseline: Path, tmp_path: Path) -> None:
    target = tmp_path / "portable"
    proc = run("--data-dir", str(target), "doctor", "--json")
    assert proc.returncode == 0, proc.stdout
    report = json.loads(proc.stdout)
    assert report["paths"]["data"] == str(target.resolve() / "data")
    assert report["paths"]["portable"] is True
    assert (target / "logs" / "aspire-desktop.log").is_file()


def test_platform_folders_under_the_fake_home(baseline: Path, tmp_path: Path) -> None:
    env = os.environ.copy()
    del env["ASPIRE_DESKTOP_HOME"]
    home = Path(env["HOME"])
    assert home == tmp_path / "home"  # conftest's fake HOME
    proc = run("doctor", "--json", env=env)
    assert proc.returncode == 0, proc.stdout
    report = json.loads(proc.stdout)
    assert report["paths"]["portable"] is False
    for name in ("data", "config", "cache", "logs"):
        assert Path(report["paths"][name]).is_relative_to(home), name
    logs = list(home.rglob("aspire-desktop.log"))
    assert len(logs) == 1 and logs[0].parent == Path(report["paths"]["logs"])


def test_doctor(baseline: Path, isolated_home: Path) -> None:
    proc = run("doctor")
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.startswith("ASPire Desktop 0.1.0\n")
    assert "All checks passed." in proc.stdout
    assert "PROBLEM" not in proc.stdout
    assert f"baseline: {baseline}" in proc.stdout
    assert f"data: {isolated_home.resolve() / 'data'}" in proc.stdout


def test_doctor_json(baseline: Path, isolated_home: Path) -> None:
    proc = run("doctor", "--json")
    assert proc.returncode == 0, proc.stdout
    report = json.loads(proc.stdout)
    assert report["ok"] is True
    names = [c["name"] for c in report["checks"]]
    assert names == [
        "baseline content",
        "current content",
        "catalogue and cached files",
        "search index",
        "user database",
        "data folder writable",
        "central policy",
    ]
    assert all(c["ok"] and c["what_to_do"] == "" for c in report["checks"])
    assert report["content"]["version"] == 1
    assert report["content"]["is_baseline"] is True
    assert report["content"]["resources"] == 10
    assert report["paths"]["baseline"] == str(baseline)
    assert report["paths"]["data"] == str(isolated_home.resolve() / "data")
    assert report["versions"]["aspire-desktop"] == "0.1.0"


def _tampered_copy(shipped: Path, tmp_path: Path) -> Path:
    copy = Path(shutil.copytree(shipped, tmp_path / "tampered"))
    (pdf,) = (copy / layout.FILES).iterdir()
    data = bytearray(pdf.read_bytes())
    data[len(data) // 2] ^= 0xFF
    pdf.write_bytes(bytes(data))
    return copy


def test_doctor_finds_a_tampered_file(shipped_content: Path, tmp_path: Path) -> None:
    env = os.environ.copy()
    env["ASPIRE_DESKTOP_BASELINE"] = str(_tampered_copy(shipped_content, tmp_path))
    proc = run("doctor", env=env)
    assert proc.returncode == 1
    assert "[PROBLEM] catalogue and cached files" in proc.stdout
    assert f"{GUIDE}: aspire-desktop-user-guide.pdf does not match its checksum" in proc.stdout
    assert "what to do: Sync again to replace damaged content" in proc.stdout
    assert "Some checks found problems." in proc.stdout

    as_json = json.loads(run("doctor", "--json", env=env).stdout)
    assert as_json["ok"] is False
    failed = [c for c in as_json["checks"] if not c["ok"]]
    assert [c["name"] for c in failed] == ["catalogue and cached files"]
    assert failed[0]["what_to_do"]


def test_doctor_finds_a_garbage_user_database(baseline: Path, isolated_home: Path) -> None:
    db = isolated_home / "data" / "userdata.sqlite"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"not a database " * 100)
    before = db.read_bytes()
    proc = run("doctor", "--json")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    check = next(c for c in report["checks"] if c["name"] == "user database")
    assert check["ok"] is False
    assert "file is not a database" in check["detail"]
    assert "sets the damaged file aside" in check["what_to_do"]
    assert db.read_bytes() == before  # doctor only looks
    text = run("doctor")
    assert text.returncode == 1
    assert "[PROBLEM] user database" in text.stdout


def test_doctor_without_baseline(tmp_path: Path) -> None:
    env = os.environ.copy()
    env["ASPIRE_DESKTOP_BASELINE"] = str(tmp_path / "none")
    proc = run("doctor", "--json", env=env)
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    failed = {c["name"] for c in report["checks"] if not c["ok"]}
    assert failed == {"baseline content", "current content"}
    assert report["content"] == {}


def test_gui_without_a_display(baseline: Path, tmp_path: Path) -> None:
    env = os.environ.copy()
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        env.pop(var, None)
    proc = run(env=env, cwd=tmp_path)
    assert proc.returncode == 3
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("aspire-desktop: no display found")
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_pack_bad_toml(tmp_path: Path) -> None:
    source = tmp_path / "catalogue.toml"
    source.write_text("format = 1\nversion = [unclosed\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = pack("content", str(source), str(out))
    assert proc.returncode == 2
    assert proc.stderr.startswith("aspire-pack: ")
    assert "is not valid TOML" in proc.stderr
    assert "Fix the syntax." in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()
    assert not list(tmp_path.glob(".build-*"))


def test_pack_invalid_source(tmp_path: Path) -> None:
    source = tmp_path / "catalogue.toml"
    source.write_text(
        'format = 1\nversion = 1\nissued = "2026-01-01"\n'
        '[[categories]]\nid = "a"\nname = "A"\n'
        '[[resources]]\nid = "r"\ntitle = "R"\nkind = "podcast"\ncategories = ["a"]\n',
        encoding="utf-8",
    )
    proc = pack("content", str(source), str(tmp_path / "out"))
    assert proc.returncode == 2
    assert "Resource r: unknown kind 'podcast'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_pack_corrupt_pdf(tmp_path: Path) -> None:
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4 but not really")
    source = tmp_path / "catalogue.toml"
    source.write_text(
        'format = 1\nversion = 1\nissued = "2026-01-01"\n'
        '[[categories]]\nid = "a"\nname = "A"\n'
        '[[resources]]\nid = "r"\ntitle = "R"\nkind = "document"\ncategories = ["a"]\n'
        '[[resources.files]]\nname = "bad.pdf"\nsource = "bad.pdf"\n',
        encoding="utf-8",
    )
    proc = pack("content", str(source), str(tmp_path / "out"))
    assert proc.returncode == 2
    assert "bad.pdf cannot be opened as a PDF" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".build-*"))


def test_pack_usage_error(tmp_path: Path) -> None:
    proc = pack("content")
    assert proc.returncode == 2
    assert "usage: aspire-pack" in proc.stderr


def _verify_sums(folder: Path) -> dict[str, str]:
    listed: dict[str, str] = {}
    for line in (folder / layout.CHECKSUMS).read_text(encoding="utf-8").splitlines():
        digest, name = line.split("  ", 1)
        assert layout.sha256_file(folder / name) == digest, name
        listed[name] = digest
    return listed


def test_pack_builds_content(tmp_path: Path) -> None:
    out = tmp_path / "built" / "content"
    proc = pack("content", str(RESOURCES / "catalogue.toml"), str(out), "--label", "test")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"built {out.resolve()}"
    assert sorted(p.name for p in out.iterdir()) == [
        layout.CHECKSUMS,
        layout.CATALOGUE,
        layout.MANIFEST,
        layout.FILES,
        "search.sqlite",  # the prebuilt search index: derived, so not in SHA256SUMS
    ]
    manifest = json.loads((out / layout.MANIFEST).read_text(encoding="utf-8"))
    assert manifest == {"format": 1, "version": 1, "issued": "2026-11-26", "label": "test"}
    listed = _verify_sums(out)
    files = {f"{layout.FILES}/{p.name}" for p in (out / layout.FILES).iterdir()}
    assert set(listed) == {layout.CATALOGUE} | files
    assert len(files) == 1
    assert not list(out.parent.glob(".build-*"))
    # The built catalogue is what the app reads.
    reader = CatalogueReader(out / layout.CATALOGUE)
    try:
        assert reader.resource_count() == 10
    finally:
        reader.close()


def test_pack_content_with_own_pdf(tmp_path: Path) -> None:
    make_pdf(tmp_path / "leaflet.pdf", pages=2)
    source = tmp_path / "catalogue.toml"
    source.write_text(
        'format = 1\nversion = 4\nissued = "2026-03-03"\n'
        '[[categories]]\nid = "a"\nname = "A"\n'
        '[[resources]]\nid = "r"\ntitle = "R"\nkind = "document"\ncategories = ["a"]\n'
        '[[resources.files]]\nname = "leaflet.pdf"\nsource = "leaflet.pdf"\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    proc = pack("content", str(source), str(out))
    assert proc.returncode == 0, proc.stderr
    listed = _verify_sums(out)
    digest = layout.sha256_file(tmp_path / "leaflet.pdf")
    assert listed[f"{layout.FILES}/{digest}.pdf"] == digest
