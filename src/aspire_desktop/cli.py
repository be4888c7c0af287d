"""The ``aspire-desktop`` command: the GUI with no arguments, or a subcommand.

Exit codes (also in docs/cli.md):

==  ==========================================================
0   success
1   a problem the user can act on (``doctor`` found one; a message says what to do)
2   the command line is wrong
3   the GUI cannot start: no display
4   no usable content is installed
70  an internal error (a bug): the log has the details
==  ==========================================================
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from aspire_desktop import APP_ID, APP_NAME, __version__

EXIT_OK = 0
EXIT_PROBLEM = 1
EXIT_USAGE = 2
EXIT_NO_DISPLAY = 3
EXIT_NO_CONTENT = 4
EXIT_BUG = 70


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=APP_ID,
        description=f"{APP_NAME}: an offline reader for the ASPire Hub. "
        "With no command, the window opens.",
    )
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="keep all of the app's data in DIR (portable mode); "
        "the ASPIRE_DESKTOP_HOME environment variable does the same",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    cat = sub.add_parser("catalogue", help="look at the catalogue")
    cat_sub = cat.add_subparsers(dest="catalogue_command", metavar="ACTION", required=True)
    lst = cat_sub.add_parser("list", help="list categories and their resources")
    lst.add_argument("--category", metavar="ID", help="only this category")
    lst.add_argument("--json", action="store_true", help="print JSON")
    opener = sub.add_parser("open", help="open a document (a PDF file or a resource id)")
    opener.add_argument("target", metavar="PATH_OR_RESOURCE_ID")
    opener.add_argument("--page", type=int, metavar="N", help="go to page N (1 is the first)")
    opener.add_argument("--present", action="store_true", help="present it, from that page")
    marks = sub.add_parser("bookmarks", help="export or import bookmarks and notes")
    marks_sub = marks.add_subparsers(dest="bookmarks_command", metavar="ACTION", required=True)
    export = marks_sub.add_parser("export", help="write every bookmark to FILE")
    export.add_argument("file", metavar="FILE")
    export.add_argument("--text", action="store_true", help="plain text instead of JSON")
    importer = marks_sub.add_parser("import", help="add the bookmarks in FILE (merging)")
    importer.add_argument("file", metavar="FILE")
    doc = sub.add_parser("doctor", help="check paths, content and databases")
    doc.add_argument("--json", action="store_true", help="print JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from aspire_desktop.core import paths

    resolved = paths.resolve(args.data_dir)
    if args.command in (None, "open"):
        from aspire_desktop.ui.app import OpenRequest, run_gui

        request = None
        if args.command == "open":
            if args.page is not None and args.page < 1:
                print(f"{APP_ID}: --page must be 1 or more.", file=sys.stderr)
                return EXIT_USAGE
            page = None if args.page is None else args.page - 1
            request = OpenRequest(args.target, page, args.present)
        return run_gui(resolved, request)
    from aspire_desktop.core.errors import UserError
    from aspire_desktop.core.logs import setup_logging

    setup_logging(resolved, console=False)
    try:
        if args.command == "catalogue":
            return _catalogue_list(resolved, args.category, args.json)
        if args.command == "bookmarks":
            return _bookmarks(resolved, args)
        return _doctor(resolved, args.json)
    except UserError as exc:
        print(f"{APP_ID}: {exc.message}", file=sys.stderr)
        if exc.what_to_do:
            print(exc.what_to_do, file=sys.stderr)
        return exc.exit_code
    except Exception:
        import logging

        logging.getLogger(APP_ID).exception("internal error")
        print(
            f"{APP_ID}: an internal error happened; details are in {resolved.log_file}",
            file=sys.stderr,
        )
        return EXIT_BUG


def _catalogue_list(resolved: Any, category: str | None, as_json: bool) -> int:
    from aspire_desktop.core.catalogue.kinds import kind_label
    from aspire_desktop.core.errors import UserError
    from aspire_desktop.core.paths import baseline_dir
    from aspire_desktop.core.store.content import ContentStore

    opened = ContentStore(resolved.content_dir, baseline_dir()).open_current()
    reader = opened.reader
    cats = reader.categories()
    if category is not None:
        cats = [c for c in cats if c.id == category]
        if not cats:
            known = ", ".join(c.id for c in reader.categories())
            raise UserError(f"There is no category '{category}'.", f"Known categories: {known}.")
    out: list[dict[str, Any]] = []
    for c in cats:
        ids = reader.resource_ids(c.id)
        briefs = reader.briefs(ids)
        out.append(
            {
                "id": c.id,
                "name": c.name,
                "count": c.count,
                "resources": [
                    {
                        "id": b.id,
                        "title": b.title,
                        "kind": b.kind,
                        "status": b.status,
                        "has_document": b.has_document,
                        "cached": b.cached,
                    }
                    for b in (briefs[i] for i in ids)
                ],
            }
        )
    if as_json:
        doc = {
            "content_version": opened.info.version,
            "issued": opened.info.issued,
            "categories": out,
        }
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        for entry in out:
            print(f"{entry['name']} [{entry['id']}] ({entry['count']})")
            for r in entry["resources"]:
                state = (
                    "no document"
                    if not r["has_document"]
                    else ("on this computer" if r["cached"] else "not on this computer")
                )
                print(f"  {r['id']}: {r['title']}  ({kind_label(r['kind'])}; {state})")
    if opened.notice is not None:
        print(f"{APP_ID}: {opened.notice}", file=sys.stderr)
    return EXIT_OK


def _bookmarks(resolved: Any, args: argparse.Namespace) -> int:
    from pathlib import Path

    from aspire_desktop.core.paths import baseline_dir
    from aspire_desktop.core.store.content import ContentStore
    from aspire_desktop.core.userdata import exchange
    from aspire_desktop.core.userdata.store import UserData

    userdata, notice = UserData.open(resolved.userdata_db)
    try:
        if notice is not None:
            print(f"{APP_ID}: {notice}", file=sys.stderr)
        path = Path(args.file)
        if args.bookmarks_command == "import":
            result = exchange.import_json(userdata, path)
            print(f"Imported {result.added} bookmarks ({result.skipped} already here).")
        elif args.text:
            reader = ContentStore(resolved.content_dir, baseline_dir()).open_current().reader
            try:

                def title_of(resource_id: str) -> str | None:
                    detail = reader.detail(resource_id)
                    return None if detail is None else detail.title

                count = exchange.export_text(userdata, path, title_of)
            finally:
                reader.close()
            print(f"Wrote {count} bookmarks to {path}.")
        else:
            count = exchange.export_json(userdata, path)
            print(f"Wrote {count} bookmarks to {path}.")
    finally:
        userdata.close()
    return EXIT_OK


def _doctor(resolved: Any, as_json: bool) -> int:
    from aspire_desktop.core import doctor

    report = doctor.run(resolved)
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{APP_NAME} {__version__}")
        for name, value in report["versions"].items():
            print(f"  {name}: {value}")
        print("Folders:")
        for name, value in report["paths"].items():
            print(f"  {name}: {value}")
        if report["content"]:
            c = report["content"]
            print(f"Content: version {c['version']}, issued {c['issued']} ({c['label']})")
        print("Checks:")
        for check in report["checks"]:
            mark = "ok     " if check["ok"] else "PROBLEM"
            print(f"  [{mark}] {check['name']}: {check['detail']}")
            if check["what_to_do"]:
                print(f"            what to do: {check['what_to_do']}")
        print("All checks passed." if report["ok"] else "Some checks found problems.")
    return EXIT_OK if report["ok"] else EXIT_PROBLEM
