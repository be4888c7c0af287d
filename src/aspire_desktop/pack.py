"""``aspire-pack``: the publisher's tool.

``aspire-pack keygen`` makes a minisign key pair for signing feeds.
``aspire-pack build SOURCE OUT --key KEY`` builds (or updates) a signed feed in OUT from a
folder holding ``catalogue.toml`` and the PDFs it names; without ``--key`` the feed is
left unsigned, for signing with the ``minisign`` tool (``minisign -S -m OUT/manifest.json``).
``aspire-pack verify OUT --pubkey PUB`` checks a feed as the app would, and every file.
``aspire-pack check FILE...`` tells, per PDF, whether it opens, how many pages it has,
whether page 1 renders within the time limit and whether it has text; ``build`` runs the
same check and refuses a broken PDF.
``aspire-pack content SOURCE OUT`` builds a content version folder (what the app ships)
from the same source, the same way but unsigned; ``aspire-pack sample OUT`` builds a large
generated sample catalogue for testing.

Exit codes: 0 success; 1 the build failed, or ``verify``/``check`` found a problem;
2 the command line, the source or a key file is wrong.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

PASSWORD_ENV = "ASPIRE_PACK_PASSWORD"
CATALOGUE_FILE = "catalogue.toml"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aspire-pack", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    keygen = sub.add_parser("keygen", help="make a key pair for signing feeds")
    keygen.add_argument("--out-dir", type=Path, default=Path("."), help="where to write them")
    keygen.add_argument("--name", default="aspire-feed", help="NAME.key and NAME.pub")
    keygen.add_argument(
        "--no-password",
        action="store_true",
        help=f"do not protect the secret key with a password (else: ${PASSWORD_ENV} or asked)",
    )
    keygen.add_argument("--force", action="store_true", help="replace existing key files")

    build = sub.add_parser("build", help="build a signed feed from a folder of PDFs")
    build.add_argument("source", type=Path, help=f"a folder with {CATALOGUE_FILE}, or the file")
    build.add_argument("out", type=Path, help="the feed folder to write (updated in place)")
    build.add_argument("--key", type=Path, help="the secret key to sign with")
    when = build.add_mutually_exclusive_group()
    when.add_argument("--expires", metavar="TIME", help="expiry, e.g. 2027-03-01T00:00:00Z")
    when.add_argument(
        "--expires-days", type=int, metavar="N", help="expire N days after 'issued' (90)"
    )
    build.add_argument("--min-app-version", metavar="X.Y.Z", help="oldest app that may use it")
    build.add_argument("--label", default="", help="a label for this version")
    build.add_argument(
        "--mirror", action="append", default=[], metavar="URL", help="a mirror (repeatable)"
    )
    build.add_argument("--next-key", type=Path, metavar="PUB", help="announce the next key")
    build.add_argument("--time-limit", type=float, metavar="S", help="seconds for page 1")
    build.add_argument("--json", action="store_true", help="print JSON")

    verify = sub.add_parser("verify", help="check a feed's signature and every file")
    verify.add_argument("out", type=Path, help="the feed folder")
    verify.add_argument(
        "--pubkey", type=Path, action="append", required=True, metavar="PUB", help="trusted key"
    )
    verify.add_argument("--json", action="store_true", help="print JSON")

    check = sub.add_parser("check", help="check PDFs the way build does")
    check.add_argument("files", type=Path, nargs="+", metavar="FILE")
    check.add_argument("--time-limit", type=float, metavar="S", help="seconds for page 1")
    check.add_argument("--json", action="store_true", help="print JSON")

    content = sub.add_parser("content", help="build a content version from catalogue.toml")
    content.add_argument("source", type=Path, help="the authored catalogue.toml (or its folder)")
    content.add_argument("out", type=Path, help="the content folder to write (replaced)")
    content.add_argument("--label", default="baseline", help="a label for this version")

    sample = sub.add_parser("sample", help="build a generated sample catalogue")
    sample.add_argument("out", type=Path)
    sample.add_argument("--categories", type=int, default=50)
    sample.add_argument("--resources", type=int, default=10_000)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from aspire_desktop.core.errors import UserError

    commands = {
        "keygen": _keygen,
        "build": _build,
        "verify": _verify,
        "check": _check,
        "content": _content,
        "sample": _sample,
    }
    try:
        return commands[args.command](args)
    except UserError as exc:
        print(f"aspire-pack: {exc}", file=sys.stderr)
        return 2 if exc.exit_code == 2 else 1


def _source_file(path: Path) -> Path:
    return path / CATALOGUE_FILE if path.is_dir() else path


def _password(confirm: bool) -> str | None:
    password = os.environ.get(PASSWORD_ENV)
    if password:
        return password
    if not sys.stdin.isatty():
        return None
    first = getpass.getpass("Password for the secret key: ")
    if confirm and getpass.getpass("Again: ") != first:
        from aspire_desktop.core.feed.signing import KeyFileError

        raise KeyFileError("The two passwords differ.", "Run keygen again.")
    return first


def _keygen(args: argparse.Namespace) -> int:
    from aspire_desktop.core.feed.signing import KeyFileError, generate_key_pair

    secret_path = args.out_dir / f"{args.name}.key"
    public_path = args.out_dir / f"{args.name}.pub"
    for path in (secret_path, public_path):
        if path.exists() and not args.force:
            raise KeyFileError(f"{path} already exists.", "Use --force to replace it.")
    password = None if args.no_password else _password(confirm=True)
    if not args.no_password and not password:
        raise KeyFileError(
            "The secret key needs a password.",
            f"Set {PASSWORD_ENV}, run keygen in a terminal, or use --no-password.",
        )
    secret, public, key_id = generate_key_pair(password)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    secret_path.unlink(missing_ok=True)
    fd = os.open(secret_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(secret)
    public_path.write_bytes(public)
    print(f"key {key_id}: secret key {secret_path} (keep it offline), public key {public_path}")
    return 0


def _build(args: argparse.Namespace) -> int:
    from aspire_desktop.core.catalogue.source import load_source
    from aspire_desktop.core.feed.build import DEFAULT_EXPIRES_DAYS, build_feed
    from aspire_desktop.core.feed.check import DEFAULT_TIME_LIMIT
    from aspire_desktop.core.feed.signing import load_secret_key

    secret = None
    if args.key is not None:
        try:
            data = args.key.read_bytes()
        except OSError as exc:
            from aspire_desktop.core.feed.signing import KeyFileError

            raise KeyFileError(f"Cannot read {args.key}: {exc.strerror}.", "") from None
        secret = load_secret_key(data, _password(confirm=False), str(args.key))
    next_key = args.next_key.read_text(encoding="utf-8") if args.next_key else None
    if next_key is not None:
        from aspire_desktop.core.feed.signing import parse_public_key, public_key_base64

        next_key = public_key_base64(parse_public_key(next_key))
    extra: dict[str, Any] = {}
    if args.min_app_version:
        extra["min_app_version"] = args.min_app_version
    result = build_feed(
        load_source(_source_file(args.source)),
        args.out,
        secret=secret,
        expires=args.expires,
        expires_days=args.expires_days or DEFAULT_EXPIRES_DAYS,
        label=args.label,
        mirrors=args.mirror,
        next_key=next_key,
        time_limit=args.time_limit or DEFAULT_TIME_LIMIT,
        **extra,
    )
    m = result.manifest
    if args.json:
        report = {
            "out": str(result.out),
            "version": m.version,
            "expires": m.expires,
            "files": len(m.files),
            "bytes": m.total_bytes(),
            "manifest_sha256": result.manifest_sha256,
            "key_id": result.key_id,
            "checks": [c.as_dict() for c in result.checks],
        }
        print(json.dumps(report, indent=2))
        return 0
    for c in result.checks:
        if c.has_text is False:
            print(f"note: {c.path} has no text a reader can search or copy (scanned?)")
    size = m.total_bytes() / (1024 * 1024)
    print(f"built feed version {m.version} ({len(m.files)} files, {size:.1f} MB) in {result.out}")
    if result.key_id:
        print(f"signed with key {result.key_id}; expires {m.expires}")
    else:
        print(
            "not signed: sign it with 'aspire-pack build ... --key KEY' or with "
            f"'minisign -S -s KEY -m {result.out / 'manifest.json'}'"
        )
    return 0


def _verify(args: argparse.Namespace) -> int:
    from aspire_desktop.core.feed.build import verify_feed
    from aspire_desktop.core.feed.errors import FeedRefusedError
    from aspire_desktop.core.feed.signing import KeyFileError
    from aspire_desktop.core.feed.trust import build_trust

    try:
        keys = [p.read_text(encoding="utf-8") for p in args.pubkey]
    except OSError as exc:
        raise KeyFileError(f"Cannot read a public key: {exc}.", "") from None
    try:
        report = verify_feed(args.out, build_trust(extra=keys, include_shipped=False))
    except FeedRefusedError as exc:
        print(f"aspire-pack: verification failed: {exc.message}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"aspire-pack: cannot read the feed in {args.out}: {exc}", file=sys.stderr)
        return 1
    m = report.manifest
    if args.json:
        print(
            json.dumps(
                {
                    "ok": not report.problems,
                    "version": m.version,
                    "key_id": report.key_id,
                    "trusted_comment": report.trusted_comment,
                    "expires": m.expires,
                    "files": len(m.files),
                    "problems": report.problems,
                },
                indent=2,
            )
        )
    else:
        for problem in report.problems:
            print(f"PROBLEM {problem}")
        state = "problems found" if report.problems else "OK"
        print(
            f"{state}: version {m.version}, signed by key {report.key_id}, "
            f"{len(m.files)} files, expires {m.expires}"
        )
    return 1 if report.problems else 0


def _check(args: argparse.Namespace) -> int:
    from aspire_desktop.core.feed.check import DEFAULT_TIME_LIMIT, check_pdfs

    results = check_pdfs(args.files, args.time_limit or DEFAULT_TIME_LIMIT)
    failed = 0 if all(r.ok for r in results) else 1
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=2))
        return failed
    for r in results:
        if not r.ok:
            print(f"PROBLEM {r.path}: {r.problem}")
            continue
        text = "has text" if r.has_text else "NO TEXT (scanned? readers cannot search it)"
        print(f"ok      {r.path}: {r.pages} pages, page 1 in {r.render_ms:g} ms, {text}")
    return failed


def _content(args: argparse.Namespace) -> int:
    from aspire_desktop.core.catalogue.source import load_source
    from aspire_desktop.core.store.build import build_content

    out = build_content(load_source(_source_file(args.source)), args.out, label=args.label)
    print(f"built {out}")
    return 0


def _sample(args: argparse.Namespace) -> int:
    from aspire_desktop.core.catalogue.generate import generate
    from aspire_desktop.core.store.build import build_content

    out = build_content(generate(args.categories, args.resources), args.out, label="sample")
    print(f"built {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
