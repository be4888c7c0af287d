"""The feed format (manifest, JSON Schema, safe paths) and its signatures (py-minisign,
checked against the minisign command-line tool)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import minisign
import pytest

from aspire_desktop.core.feed import signing
from aspire_desktop.core.feed.errors import InvalidManifestError, SignatureError
from aspire_desktop.core.feed.manifest import (
    MANIFEST_NAME,
    SIGNATURE_NAME,
    check_path,
    dump_manifest,
    parse_manifest,
)
from aspire_desktop.core.feed.trust import TrustSettingError, build_trust, shipped_keys
from conftest import ROOT
from feedtools import Doc, Key, build, make_key, write_source

SCHEMA = json.loads((ROOT / "docs" / "feed-manifest.schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Key]:
    tmp = tmp_path_factory.mktemp("feed")
    key = make_key(tmp / "keys")
    docs = [
        Doc("a"),
        Doc("b", status="superseded", superseded_by="a"),
        Doc("c", size=None, undelivered=True),
    ]
    out = tmp / "feed"
    build(write_source(tmp / "src", 3, docs), out, key, mirrors=["https://mirror.example.org/f/"])
    return out, key


def _manifest(feed: tuple[Path, Key]) -> bytes:
    return (feed[0] / MANIFEST_NAME).read_bytes()


def _verify(data: bytes, sig: bytes, key: Key) -> signing.Verified:
    return build_trust(extra=[key.public], include_shipped=False).verify(data, sig)


# --- the manifest ----------------------------------------------------------------------


def test_manifest_round_trip_and_schema(feed: tuple[Path, Key]) -> None:
    data = _manifest(feed)
    manifest = parse_manifest(data)
    assert dump_manifest(manifest) == data
    assert manifest.version == 3 and manifest.mirrors == ["https://mirror.example.org/f/"]
    assert sorted(f.path for f in manifest.files) == sorted(
        f"files/{p.name}" for p in (feed[0] / "files").iterdir()
    )
    assert len(manifest.files) == 2
    entries = manifest.resource_files
    assert entries["c"][0].sha256 is None and entries["a"][0].page_count == 1
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.validate(json.loads(data), SCHEMA, cls=jsonschema.Draft202012Validator)


def test_the_schema_refuses_what_the_app_refuses(feed: tuple[Path, Key]) -> None:
    doc = json.loads(_manifest(feed))
    doc["files"][0]["path"] = "../outside.pdf"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)
    with pytest.raises(InvalidManifestError):
        parse_manifest(json.dumps(doc).encode())


@pytest.mark.parametrize(
    "path",
    [
        "../etc/passwd",
        "files/../../x.pdf",
        "/etc/passwd",
        "//server/share/x.pdf",
        "C:/Windows/x.pdf",
        "c:x.pdf",
        "files\\x.pdf",
        "files//x.pdf",
        "files/./x.pdf",
        "files/",
        ".hidden/x.pdf",
        "files/.x.pdf",
        "files/-rf",
        "files/x.pdf.",
        "files/x y.pdf",
        "files/x%2e%2e.pdf",
        "files/x?.pdf",
        "files/é.pdf",
        "files/x\x00.pdf",
        "files/x\n.pdf",
        "con.pdf",
        "files/NUL",
        "files/lpt1.txt",
        "https://example.org/x.pdf",
        MANIFEST_NAME,
        SIGNATURE_NAME,
        "a" * 201,
        "",
    ],
)
def test_unsafe_or_odd_paths_are_refused(path: str) -> None:
    with pytest.raises(InvalidManifestError, match=r"path|a file may not"):
        check_path(path, "file 1")


@pytest.mark.parametrize("path", ["files/ab.pdf", "x.pdf", "a/b/c_d-e.1.PDF", "console.pdf"])
def test_plain_relative_paths_are_accepted(path: str) -> None:
    assert check_path(path, "file 1") == path


def _edited(feed: tuple[Path, Key], edit: object) -> bytes:
    doc = json.loads(_manifest(feed))
    assert callable(edit)
    edit(doc)
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(format=2), "format 2"),
        (lambda d: d.update(version=0), "'version'"),
        (lambda d: d.update(version="3"), "'version'"),
        (lambda d: d.update(expires=d["issued"]), "expires before"),
        (lambda d: d.update(issued="yesterday"), "'issued'"),
        (lambda d: d.update(issued="2026-11-26T10:00:00"), "'issued'"),
        (lambda d: d.update(min_app_version="one"), "min_app_version"),
        (lambda d: d.update(next_key="not a key"), "next_key"),
        (lambda d: d.update(mirrors="https://x/"), "'mirrors'"),
        (lambda d: d.pop("files"), "'files'"),
        (lambda d: d["files"].append(dict(d["files"][0])), "listed twice"),
        (lambda d: d["files"][0].update(sha256="ABC"), "sha256"),
        (lambda d: d["files"][0].update(size=-1), "'size'"),
        (lambda d: d["files"][0].update(media_type="pdf"), "media_type"),
        (lambda d: d["resources"][0]["files"][0].update(sha256="0" * 64), "sha256"),
        (lambda d: d["resources"][0]["files"][0].update(name="../x.pdf"), "'name'"),
        (lambda d: d["resources"][0].update(kind="video"), "unknown kind"),
        (lambda d: d["resources"][0].update(categories=["nowhere"]), "unknown category"),
        (lambda d: d["resources"].append(dict(d["resources"][0])), "share the id"),
        (lambda d: d.update(resources={}), "'resources'"),
    ],
)
def test_inconsistent_manifests_are_refused(
    feed: tuple[Path, Key], edit: object, message: str
) -> None:
    with pytest.raises(InvalidManifestError, match=message):
        parse_manifest(_edited(feed, edit))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe{}", "UTF-8"),
        (b"{not json", "valid JSON"),
        (b'{"format": 1, "format": 1}', "twice"),
        (b'{"format": NaN}', "NaN"),
        (b"[]", "must be an object"),
    ],
)
def test_unreadable_manifests_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(InvalidManifestError, match=message):
        parse_manifest(data)


def test_unknown_keys_are_ignored(feed: tuple[Path, Key]) -> None:
    data = _edited(feed, lambda d: d.update(future_field={"x": 1}))
    assert parse_manifest(data).version == 3


# --- signatures ------------------------------------------------------------------------


def test_built_feed_verifies(feed: tuple[Path, Key]) -> None:
    out, key = feed
    verified = _verify(_manifest(feed), (out / SIGNATURE_NAME).read_bytes(), key)
    assert verified.key_id == key.key_id
    assert verified.trusted_comment.endswith("\tfile:manifest.json\thashed\tversion:3")


def test_signature_is_prehashed_and_the_minisign_tool_verifies_it(
    feed: tuple[Path, Key],
) -> None:
    out, key = feed
    line = (out / SIGNATURE_NAME).read_text().splitlines()[1]
    assert base64.b64decode(line)[:2] == b"ED"  # Ed25519 over the BLAKE2b hash
    proc = subprocess.run(
        [_minisign(), "-V", "-H", "-p", str(key.public_file), "-m", str(out / MANIFEST_NAME)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Signature and comment signature verified" in proc.stdout


def _minisign() -> str:
    found = shutil.which("minisign")
    assert found, "the minisign tool is needed (Debian package minisign): sh scripts/setup.sh test"
    return found


def test_a_feed_signed_with_the_minisign_tool_verifies(tmp_path: Path) -> None:
    """Publishers may sign with minisign itself, with its own keys or ours."""
    src = write_source(tmp_path / "src", 2, [Doc("a")])
    out = tmp_path / "feed"
    build(src, out, None)
    assert not (out / SIGNATURE_NAME).exists()
    subprocess.run(
        [_minisign(), "-G", "-W", "-p", str(tmp_path / "m.pub"), "-s", str(tmp_path / "m.key")],
        capture_output=True,
        timeout=30,
        check=True,
    )
    ours = make_key(tmp_path / "ours")
    data = (out / MANIFEST_NAME).read_bytes()
    for secret, public in (
        (tmp_path / "m.key", tmp_path / "m.pub"),
        (ours.secret_file, ours.public_file),
    ):
        subprocess.run(
            [_minisign(), "-S", "-s", str(secret), "-m", str(out / MANIFEST_NAME)],
            capture_output=True,
            timeout=30,
            check=True,
        )
        trust = build_trust(extra=[public.read_text()], include_shipped=False)
        assert trust.verify(data, (out / SIGNATURE_NAME).read_bytes()).trusted_comment


def test_legacy_signatures_are_refused(feed: tuple[Path, Key], tmp_path: Path) -> None:
    key = feed[1]
    data = _manifest(feed)
    legacy = bytes(key.secret.sign(data, prehash=False)) + b"\n"
    with pytest.raises(SignatureError, match="old \\(legacy\\) form"):
        _verify(data, legacy, key)
    copy = tmp_path / MANIFEST_NAME
    copy.write_bytes(data)
    subprocess.run(
        [_minisign(), "-S", "-l", "-s", str(key.secret_file), "-m", str(copy)],
        capture_output=True,
        timeout=30,
        check=True,
    )
    with pytest.raises(SignatureError, match="legacy"):
        _verify(data, (tmp_path / SIGNATURE_NAME).read_bytes(), key)


def test_tampering_is_caught(feed: tuple[Path, Key]) -> None:
    out, key = feed
    data = _manifest(feed)
    sig = (out / SIGNATURE_NAME).read_bytes()
    tampered = data.replace(b'"version": 3', b'"version": 4')
    assert tampered != data
    with pytest.raises(SignatureError, match="does not match"):
        _verify(tampered, sig, key)
    lines = sig.decode().splitlines()
    lines[2] = lines[2].replace("version:3", "version:4")
    with pytest.raises(SignatureError, match="does not match"):
        _verify(data, ("\n".join(lines) + "\n").encode(), key)
    lines = sig.decode().splitlines()
    lines[0] = "untrusted comment: anything at all"
    assert _verify(data, ("\n".join(lines) + "\n").encode(), key)  # untrusted, as it says


@pytest.mark.parametrize(
    "signature", [b"", b"garbage", b"untrusted comment: x\nRUQ=\ntrusted comment: y\nAAAA\n"]
)
def test_damaged_signatures_are_refused(feed: tuple[Path, Key], signature: bytes) -> None:
    with pytest.raises(SignatureError, match="damaged"):
        _verify(_manifest(feed), signature, feed[1])


def test_wrong_and_revoked_keys(feed: tuple[Path, Key], tmp_path: Path) -> None:
    out, key = feed
    data, sig = _manifest(feed), (out / SIGNATURE_NAME).read_bytes()
    other = make_key(tmp_path, "other")
    with pytest.raises(SignatureError, match="does not trust"):
        _verify(data, sig, other)
    revoked = build_trust(
        extra=[key.public], revoked=[key.key_id.lower().lstrip("0")], include_shipped=False
    )
    assert revoked.key_ids() == []
    with pytest.raises(SignatureError, match="withdrawn"):
        revoked.verify(data, sig)


def test_the_shipped_key_and_settings_keys() -> None:
    shipped = shipped_keys()
    assert len(shipped) == 1
    trust = build_trust()
    assert trust.key_ids() == ["474B6A32A17E559C"]
    assert signing.key_id_of(signing.parse_public_key(shipped[0])) == "474B6A32A17E559C"
    with pytest.raises(TrustSettingError, match="not a minisign public key"):
        build_trust(extra=["hello"])
    # No secret key ships: only public key files are in the package.
    keys = Path(signing.__file__).parent / "keys"
    assert sorted(p.suffix for p in keys.iterdir()) == [".pub"]


def test_key_pairs_made_by_keygen_work_with_minisign(tmp_path: Path) -> None:
    secret, public, key_id = signing.generate_key_pair("a password")
    (tmp_path / "k.pub").write_bytes(public)
    assert f"minisign public key {key_id}" in public.decode()
    loaded = signing.load_secret_key(secret, "a password", "k.key")
    data = b"some bytes\n"
    (tmp_path / "d").write_bytes(data)
    (tmp_path / "d.minisig").write_bytes(signing.sign(loaded, data, "timestamp:1\tfile:d"))
    proc = subprocess.run(
        [_minisign(), "-V", "-p", str(tmp_path / "k.pub"), "-m", str(tmp_path / "d")],
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0
    with pytest.raises(signing.KeyFileError, match="password"):
        signing.load_secret_key(secret, None, "k.key")
    with pytest.raises(signing.KeyFileError, match="wrong"):
        signing.load_secret_key(secret, "not it", "k.key")
    assert isinstance(minisign.PublicKey.from_bytes(public.strip()), minisign.PublicKey)
