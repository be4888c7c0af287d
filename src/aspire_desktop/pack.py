"""``aspire-pack``: the publisher's tool.

``aspire-pack content SOURCE OUT`` builds a content version folder (catalogue, files,
checksums) from an authored ``catalogue.toml``; the app ships one built this way.
``aspire-pack sample OUT`` builds a large generated sample catalogue for testing.

Exit codes: 0 success, 1 the build failed, 2 the command line or the source is wrong.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aspire-pack", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    content = sub.add_parser("content", help="build a content version from catalogue.toml")
    content.add_argument("source", type=Path, help="the authored catalogue.toml")
    content.add_argument("out", type=Path, help="the content folder to write (replaced)")
    content.add_argument("--label", default="baseline", help="a label for this version")
    sample = sub.add_parser("sample", help="build a generated sample catalogue")
    sample.add_argument("out", type=Path)
    sample.add_argument("--categories", type=int, default=50)
    sample.add_argument("--resources", type=int, default=10_000)
    args = parser.parse_args(argv)

    from aspire_desktop.core.errors import UserError
    from aspire_desktop.core.store.build import build_content

    try:
        if args.command == "content":
            from aspire_desktop.core.catalogue.source import load_source

            out = build_content(load_source(args.source), args.out, label=args.label)
        else:
            from aspire_desktop.core.catalogue.generate import generate

            out = build_content(generate(args.categories, args.resources), args.out, label="sample")
    except UserError as exc:
        print(f"aspire-pack: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"built {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
