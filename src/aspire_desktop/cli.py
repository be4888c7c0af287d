"""The ``aspire-desktop`` command: the GUI with no arguments, or a subcommand.

Exit codes (also in docs/cli.md):

==  ==========================================================
0   success (``search``: whether or not anything matched)
1   a problem the user can act on (``doctor`` found one; a message says what to do)
2   the command line is wrong
3   the GUI cannot start: no display
4   no usable content is installed
5   ``sync``: the feed could not be reached (offline, DNS, proxy, TLS, timeout, server
    error); the content is unchanged, try again later
6   ``sync``: the feed was refused (bad or untrusted signature, expired, rollback,
    invalid manifest, a file that does not match); the content is unchanged
70  an internal error (a bug): the log has the details
130 ``sync`` was interrupted (Ctrl+C); what was downloaded is kept for the next sync;
    ``search`` was interrupted while indexing; what was indexed is kept
==  ==========================================================
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from aspire_desktop import APP_ID, APP_NAME, __version__

if TYPE_CHECKING:
    from aspire_desktop.core.search.results import IndexStatus, SearchResults, Snippet

EXIT_OK = 0
EXIT_PROBLEM = 1
EXIT_USAGE = 2
EXIT_NO_DISPLAY = 3
EXIT_NO_CONTENT = 4
EXIT_FEED_UNREACHABLE = 5
EXIT_FEED_REFUSED = 6
EXIT_BUG = 70
EXIT_INTERRUPTED = 130


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
    _add_sync_parser(sub)
    _add_search_parser(sub)
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
        if args.command == "sync":
            return _sync(resolved, args)
        if args.command == "search":
            return _search(resolved, args)
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
            opened = ContentStore(resolved.content_dir, baseline_dir()).open_current()
            reader = opened.reader
            try:

                def title_of(resource_id: str) -> str | None:
                    detail = reader.detail(resource_id)
                    return None if detail is None else detail.title

                count = exchange.export_text(userdata, path, title_of)
            finally:
                opened.close()
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
    print(json.dumps(report, indent=2) if as_json else doctor.format_text(report))
    return EXIT_OK if report["ok"] else EXIT_PROBLEM


# --- sync -----------------------------------------------------------------------------


def _add_sync_parser(sub: Any) -> None:
    sync = sub.add_parser("sync", help="update the content from the feed")
    sync.add_argument(
        "--feed",
        metavar="URL_OR_PATH",
        help="the feed to use this time (https URL, file URL or folder); "
        "default: the feed in the settings",
    )
    sync.add_argument("--json", action="store_true", help="print JSON")


def _sync(resolved: Any, args: argparse.Namespace) -> int:
    from aspire_desktop.core.errors import UserError
    from aspire_desktop.core.sync import SyncProgress, sync_now

    show_progress = not args.json and sys.stderr.isatty()

    def progress(p: SyncProgress) -> None:
        if show_progress and p.files_total:
            mb = 1024 * 1024
            print(
                f"\r{p.files_done}/{p.files_total} files, "
                f"{p.bytes_done / mb:.1f}/{p.bytes_total / mb:.1f} MB",
                end="",
                file=sys.stderr,
                flush=True,
            )

    try:
        result = sync_now(resolved, feed=args.feed, progress=progress)
    except KeyboardInterrupt:
        print(f"\n{APP_ID}: sync interrupted; the content has not changed.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except UserError as exc:
        if not args.json:
            raise
        error = {
            "kind": type(exc).__name__,
            "message": exc.message,
            "what_to_do": exc.what_to_do,
            "exit_code": exc.exit_code,
        }
        print(json.dumps({"ok": False, "error": error}, indent=2))
        return exc.exit_code
    finally:
        if show_progress:
            print(file=sys.stderr)
    if args.json:
        print(json.dumps({"ok": True, **result.as_dict()}, indent=2))
    else:
        print(result.summary())
    return EXIT_OK


# --- search ---------------------------------------------------------------------------


def _add_search_parser(sub: Any) -> None:
    from aspire_desktop.core.catalogue.kinds import KINDS

    search = sub.add_parser(
        "search", help="search the titles, summaries, tags and documents of the catalogue"
    )
    search.add_argument(
        "query",
        nargs="+",
        metavar="QUERY",
        help='words (all must match), "a phrase", word* (starting with), a OR b, -word '
        "(leave out); see docs/search.md",
    )
    search.add_argument(
        "--category", action="append", metavar="ID", help="only in this category (repeatable)"
    )
    search.add_argument(
        "--kind", action="append", choices=sorted(KINDS), help="only of this kind (repeatable)"
    )
    search.add_argument(
        "--include-superseded", action="store_true", help="include superseded resources"
    )
    search.add_argument(
        "--limit", type=int, default=20, metavar="N", help="at most N resources (default 20)"
    )
    search.add_argument("--json", action="store_true", help="print JSON")


def _search(resolved: Any, args: argparse.Namespace) -> int:
    from aspire_desktop.core.errors import UserError
    from aspire_desktop.core.paths import baseline_dir
    from aspire_desktop.core.search.indexer import Progress
    from aspire_desktop.core.search.library import LibrarySearch
    from aspire_desktop.core.search.results import Filters
    from aspire_desktop.core.store.content import ContentStore

    if args.limit < 1:
        print(f"{APP_ID}: --limit must be 1 or more.", file=sys.stderr)
        return EXIT_USAGE
    show_progress = not args.json and sys.stderr.isatty()

    def progress(p: Progress) -> None:
        if show_progress and p.total:
            print(f"\rIndexing documents: {p.done}/{p.total}", end="", file=sys.stderr, flush=True)

    opened = ContentStore(resolved.content_dir, baseline_dir()).open_current()
    try:
        known = {c.id for c in opened.reader.categories()}
        for category in args.category or []:
            if category not in known:
                raise UserError(
                    f"There is no category '{category}'.",
                    f"Known categories: {', '.join(sorted(known))}.",
                )
        library = LibrarySearch.open(resolved, opened, baseline_dir())
        try:
            try:
                library.update(progress)
            except KeyboardInterrupt:
                print(
                    f"\n{APP_ID}: indexing interrupted; what was indexed is kept.",
                    file=sys.stderr,
                )
                return EXIT_INTERRUPTED
            finally:
                if show_progress:
                    print("\r\033[K", end="", file=sys.stderr, flush=True)
            filters = Filters(
                frozenset(args.category or ()),
                frozenset(args.kind or ()),
                args.include_superseded,
            )
            results = library.search(" ".join(args.query), filters, args.limit, snippets=3)
            status = library.status()
        finally:
            library.close()
        if args.json:
            print(json.dumps(_search_json(results, status, opened.info.version), indent=2))
        else:
            print(_search_text(results, bold=sys.stdout.isatty()))
        if opened.notice is not None:
            print(f"{APP_ID}: {opened.notice}", file=sys.stderr)
    finally:
        opened.close()
    return EXIT_OK


def _marked(snippet: Snippet | None) -> dict[str, Any] | None:
    if snippet is None:
        return None
    text, spans = snippet.spans()
    return {"text": text, "highlights": [list(s) for s in spans]}


def _search_json(
    results: SearchResults, status: IndexStatus, content_version: int
) -> dict[str, Any]:
    return {
        "query": results.query,
        "expression": results.expression,
        "content_version": content_version,
        "expansions": [{"typed": t, "term": term} for t, term in results.expansions],
        "more": results.more,
        "partial": results.partial,
        "truncated": results.truncated,
        "index": {
            "documents_indexed": status.indexed,
            "pages_indexed": status.pages,
            "waiting": status.waiting,
            "failed": status.failed,
            "not_on_this_computer": status.absent,
            "prebuilt": status.read_only,
        },
        "results": [
            {
                "id": hit.resource_id,
                "title": hit.title,
                "kind": hit.kind,
                "status": hit.status,
                "categories": list(hit.category_ids),
                "matched_in": list(hit.matched_in),
                "title_highlights": [list(s) for s in hit.title_snippet.spans()[1]],
                "summary": _marked(hit.summary_snippet),
                "page_count": hit.page_count,
                "pages": [
                    {
                        "file": page.file_name,
                        "sha256": page.sha256,
                        "page": page.page + 1,
                        "snippet": _marked(page.snippet),
                    }
                    for page in hit.pages
                ],
            }
            for hit in results.hits
        ],
    }


def _search_text(results: SearchResults, *, bold: bool) -> str:
    from aspire_desktop.core.catalogue.kinds import kind_label

    def show(snippet: Snippet) -> str:
        if not bold:
            return snippet.text
        return "".join(f"\033[1m{t}\033[0m" if m else t for t, m in snippet.segments)

    if results.expression is None:
        return "Nothing to search for: type some words."
    lines = [f"Also searched for: {term} ({typed})" for typed, term in results.expansions]
    if not results.hits:
        lines.append("Nothing found.")
    for n, hit in enumerate(results.hits, start=1):
        lines.append(f"{n}. {show(hit.title_snippet)}  ({kind_label(hit.kind)}; {hit.status})")
        lines.append(f"   {hit.resource_id}; matched in {', '.join(hit.matched_in)}")
        if hit.summary_snippet is not None:
            lines.append(f"   {show(hit.summary_snippet)}")
        for page in hit.pages:
            if page.snippet is not None:
                lines.append(f"   {page.file_name}, page {page.page + 1}: {show(page.snippet)}")
        rest = [p for p in hit.pages if p.snippet is None]
        if rest:
            pages = ", ".join(str(p.page + 1) for p in rest[:10])
            extra = hit.page_count - len(hit.pages) + max(0, len(rest) - 10)
            lines.append(f"   also on pages {pages}" + (f" and {extra} more" if extra else ""))
    if results.more:
        lines.append("More resources match: add words, or use --limit.")
    if results.partial:
        lines.append("Very many pages match: the results come from part of them.")
    return "\n".join(lines)
