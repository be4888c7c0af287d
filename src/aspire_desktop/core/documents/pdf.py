"""PyMuPDF access. Everything here runs inside the document host process.

PyMuPDF is not thread-safe, and hostile PDFs can make MuPDF hang or crash; so one child
process does all PyMuPDF work (see :mod:`host`), and the app talks to it through
:class:`~aspire_desktop.core.documents.worker.DocumentWorker`. A hang is ended by a time
limit and a crash costs only that process.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aspire_desktop.core.documents.fit import PageView
from aspire_desktop.core.errors import DocumentDamagedError, UserError

log = logging.getLogger(__name__)

#: Never render more pixels than this for one page (guards absurd page sizes and zooms).
MAX_PIXELS = 40_000_000
#: Pages measured while opening (enough for the first screen; each costs about 0.15 ms);
#: the other sizes come in a second call, once the first page is shown.
SIZES_ON_OPEN = 4
#: A new tab's first page is rendered in part first when what is on screen is less than
#: this share of it (a part costs about as much less as it is smaller).
PARTIAL_AT_MOST = 0.85
#: Outline entries kept at the most (a hostile outline can claim millions).
MAX_OUTLINE = 50_000
#: Link targets allowed to open outside the app.
EXTERNAL_SCHEMES = ("http", "https", "mailto")


class PasswordRequired(UserError):
    """The document is encrypted; ``wrong`` is True when a password was tried and failed."""

    def __init__(self, wrong: bool) -> None:
        super().__init__(
            "That password is not right." if wrong else "This document is protected by a password.",
            "Type the document's password; ask whoever sent it if you do not know it.",
        )
        self.wrong = wrong


@dataclass(frozen=True)
class DocumentInfo:
    doc_id: int
    page_count: int
    title: str
    #: Page sizes in points as displayed (each page's own rotation included). For long
    #: documents only the first pages are measured when opening; the rest repeat the
    #: last measured size until ``page_sizes`` is asked for (``sizes_exact`` False).
    page_sizes: tuple[tuple[float, float], ...]
    repaired: bool = False
    sizes_exact: bool = True


@dataclass(frozen=True)
class OutlineEntry:
    level: int
    title: str
    page: int  # 0-based; -1 when the entry points nowhere in this document


@dataclass(frozen=True)
class PageLink:
    rect: tuple[float, float, float, float]  # in displayed page points (like page.rect)
    page: int = -1  # internal target (0-based) or -1
    uri: str = ""  # external target, "" for internal links


@dataclass(frozen=True)
class RenderResult:
    doc_id: int
    page: int
    zoom: float
    rotation: int
    width: int
    height: int
    stride: int
    #: Where the pixels are: the shared memory block named in the request.
    nbytes: int
    #: Only the top of the page: as much of it as is on screen when a tab opens (see
    #: ``PdfService.first_page``). The whole page is rendered after it.
    partial: bool = False


@dataclass(frozen=True)
class Word:
    rect: tuple[float, float, float, float]
    text: str
    block: int
    line: int


@dataclass
class SearchHits:
    query: str
    first: int
    last: int
    hits: dict[int, list[tuple[float, float, float, float]]] = field(default_factory=dict)


def password_variants(password: str) -> list[str]:
    """The password as typed and its Unicode normal forms (AES-256 files use SASLprep,
    which normalises with NFKC; some writers used NFC or NFD)."""
    forms = [password] + [unicodedata.normalize(f, password) for f in ("NFKC", "NFC", "NFD")]
    return list(dict.fromkeys(forms))


def _damaged(path: Path, exc: BaseException) -> DocumentDamagedError:
    log.info("cannot open %s: %s", path, exc)  # the engine's words, for the log only
    return DocumentDamagedError(
        f"{path.name} cannot be opened: it is damaged, or it is not a PDF.",
        "A damaged hub document is replaced at the next sync; otherwise ask whoever sent "
        "it for a new copy.",
    )


class PdfService:
    """Open documents, keyed by an id the caller chooses."""

    def __init__(self) -> None:
        self._docs: dict[int, Any] = {}
        self._paths: dict[int, Path] = {}
        self._pending: dict[int, Any] = {}  # encrypted, waiting for a password

    # Opening -------------------------------------------------------------------------
    def open(self, doc_id: int, path: Path, password: str | None = None) -> DocumentInfo:
        import pymupdf

        path = Path(path)
        doc = self._pending.pop(doc_id, None)
        if doc is None:
            try:
                if path.stat().st_size == 0:
                    raise DocumentDamagedError(f"{path.name} is empty (0 bytes).", "")
                pymupdf.TOOLS.reset_mupdf_warnings()
                doc = pymupdf.open(path, filetype="pdf")
                if not doc.is_pdf:  # MuPDF goes by the content: a PNG named .pdf opens
                    doc.close()
                    raise DocumentDamagedError(
                        f"{path.name} is not a PDF.", "It may be another kind of file."
                    )
            except DocumentDamagedError:
                raise
            except FileNotFoundError as exc:
                raise DocumentDamagedError(
                    f"{path.name} is not there any more.", "It may have been moved or deleted."
                ) from exc
            except OSError as exc:
                raise DocumentDamagedError(
                    f"{path.name} cannot be read ({exc.strerror}).", "Check that it exists."
                ) from exc
            except Exception as exc:  # MuPDF raises several kinds for hostile files
                raise _damaged(path, exc) from exc
        if doc.needs_pass:
            if password is None:
                self._pending[doc_id] = doc
                raise PasswordRequired(wrong=False)
            if not any(doc.authenticate(p) for p in password_variants(password)):
                self._pending[doc_id] = doc
                raise PasswordRequired(wrong=True)
        try:
            count = doc.page_count
            if count < 1:
                raise DocumentDamagedError(
                    f"{path.name} has no pages.", "There is nothing in it to show."
                )
            measured = [self._page_size(doc, n) for n in range(min(count, SIZES_ON_OPEN))]
            sizes = tuple(measured + [measured[-1]] * (count - len(measured)))
        except UserError:
            doc.close()
            raise
        except Exception as exc:
            doc.close()
            raise _damaged(path, exc) from exc
        self._docs[doc_id] = doc
        self._paths[doc_id] = path
        title = ((doc.metadata or {}).get("title") or "").strip() or path.stem
        repaired = bool(getattr(doc, "is_repaired", False))
        return DocumentInfo(doc_id, count, title, sizes, repaired, count <= SIZES_ON_OPEN)

    def first_page(
        self, info: DocumentInfo, view: PageView, target: memoryview
    ) -> RenderResult | None:
        """Render the page a new tab will show, at the zoom its canvas will ask for,
        into ``target``; None if it does not fit or cannot be rendered (the tab then
        asks for it in the usual way). Only the part of it that will be on screen is
        rendered, when that is clearly less than all of it: the reader sees it sooner,
        and the whole page follows."""
        page = view.page_of(info.page_count)
        zoom = view.zoom(info.page_sizes[0])
        w, h = info.page_sizes[page]
        if (w * zoom + 2) * (h * zoom + 2) * 3 > len(target):
            return None
        try:
            return self.render(info.doc_id, page, zoom, 0, target, top=view.on_screen(zoom))
        except UserError:
            return None

    @staticmethod
    def _page_size(doc: Any, n: int) -> tuple[float, float]:
        try:
            rect = doc.load_page(n).rect  # includes the page's own /Rotate
        except Exception:
            return (595.0, 842.0)  # a page that cannot be loaded still takes room
        w, h = abs(float(rect.width)), abs(float(rect.height))
        if not (w > 0 and h > 0) or w > 1e6 or h > 1e6:
            return (595.0, 842.0)
        return (w, h)

    def close(self, doc_id: int) -> None:
        for table in (self._docs, self._pending):
            doc = table.pop(doc_id, None)
            if doc is not None:
                doc.close()
        self._paths.pop(doc_id, None)

    def close_all(self) -> None:
        for doc_id in list(self._docs) + list(self._pending):
            self.close(doc_id)

    def _doc(self, doc_id: int) -> Any:
        try:
            return self._docs[doc_id]
        except KeyError:
            raise DocumentDamagedError("This document is not open.", "Open it again.") from None

    # Pages ---------------------------------------------------------------------------
    def render(
        self,
        doc_id: int,
        page: int,
        zoom: float,
        rotation: int,
        target: memoryview,
        top: float | None = None,
    ) -> RenderResult:
        """Render a page at ``zoom`` (1.0 = 72 dpi) and extra ``rotation`` into ``target``;
        with ``top``, only that many points from the top of an unrotated page, if that is
        clearly less than all of it (the result is then ``partial``)."""
        import pymupdf

        doc = self._doc(doc_id)
        try:
            p = doc.load_page(page)
            clip = None
            if top is not None and not rotation and not p.rotation:
                r = p.rect
                if top < r.height * PARTIAL_AT_MOST:
                    clip = pymupdf.Rect(r.x0, r.y0, r.x1, r.y0 + top)
            # At most MAX_PIXELS, and no more than ``target`` holds (it was sized from the
            # sizes open() gave, which stand in for absurd ones); edges round outwards.
            limit = max(4, min(MAX_PIXELS, len(target) // 3))
            w, h = p.rect.width * zoom, p.rect.height * zoom
            while (w + 1) * (h + 1) > limit:
                f = 0.99 * (limit / ((w + 1) * (h + 1))) ** 0.5
                zoom, w, h = zoom * f, w * f, h * f
            matrix = pymupdf.Matrix(zoom, zoom).prerotate(rotation)
            pix = p.get_pixmap(matrix=matrix, alpha=False, annots=True, clip=clip)
        except Exception as exc:
            log.info("cannot render page %d of document %d: %s", page + 1, doc_id, exc)
            raise DocumentDamagedError(
                f"Page {page + 1} cannot be shown: this part of the file is damaged.",
                "The other pages may still work.",
            ) from exc
        n = pix.stride * pix.height
        if n > len(target):
            raise ValueError(f"render buffer too small: {n} > {len(target)}")
        target[:n] = pix.samples_mv
        return RenderResult(
            doc_id, page, zoom, rotation, pix.width, pix.height, pix.stride, n, clip is not None
        )

    def outline(self, doc_id: int) -> list[OutlineEntry]:
        """The outline, flattened with levels. MuPDF stops at a loop (the outline then
        comes back empty or cut short); absurdly long outlines are cut off."""
        doc = self._doc(doc_id)
        try:
            toc = doc.get_toc(simple=True)
        except Exception:
            return []
        entries = []
        for level, title, page in toc[:MAX_OUTLINE]:
            text = str(title or "").strip() or "(untitled)"
            entries.append(OutlineEntry(max(1, int(level)), text[:500], int(page) - 1))
        return entries

    def links(self, doc_id: int, page: int) -> list[PageLink]:
        """Links on a page; rectangles in displayed page space (like ``page.rect``)."""
        doc = self._doc(doc_id)
        result: list[PageLink] = []
        try:
            p = doc.load_page(page)
            for link in p.get_links():
                r = link.get("from")  # already in displayed page space
                rect = (float(r.x0), float(r.y0), float(r.x1), float(r.y1))
                if link.get("kind") in (1, 4) and link.get("page", -1) >= 0:  # GOTO / NAMED
                    result.append(PageLink(rect, page=int(link["page"])))
                elif link.get("uri"):
                    result.append(PageLink(rect, uri=str(link["uri"])))
                elif link.get("kind") in (3, 5):  # LAUNCH a program / GOTOR another file
                    target = link.get("file") or link.get("uri") or "another file or program"
                    result.append(PageLink(rect, uri=f"launch:{target}"))
        except Exception:
            return result
        return result

    def words(self, doc_id: int, page: int) -> list[Word]:
        doc = self._doc(doc_id)
        try:
            p = doc.load_page(page)
            raw = p.get_text("words", sort=True)
        except Exception:
            return []
        return [Word(_shown(p, w[:4]), w[4], w[5], w[6]) for w in raw]

    def text(self, doc_id: int, page: int) -> str:
        doc = self._doc(doc_id)
        try:
            return str(doc.load_page(page).get_text("text", sort=True))
        except Exception as exc:
            raise DocumentDamagedError(
                f"The text of page {page + 1} cannot be read ({exc}).", ""
            ) from exc

    def page_sizes(self, doc_id: int) -> tuple[tuple[float, float], ...]:
        """Every page's displayed size (opening measures only the first pages)."""
        doc = self._doc(doc_id)
        return tuple(self._page_size(doc, n) for n in range(doc.page_count))

    def page_size(self, doc_id: int, page: int) -> tuple[float, float]:
        """A page's displayed size in points (its own rotation included)."""
        return self._page_size(self._doc(doc_id), page)

    def texts(self, doc_id: int) -> list[str]:
        """Every page's text (pages that cannot be read give ""), e.g. to find a passage."""
        doc = self._doc(doc_id)
        out = []
        for page in doc:
            try:
                out.append(str(page.get_text("text", sort=True)))
            except Exception:
                out.append("")
        return out

    def search(self, doc_id: int, query: str, first: int, last: int) -> SearchHits:
        """Find ``query`` (case-insensitive) on pages first..last (inclusive)."""
        doc = self._doc(doc_id)
        result = SearchHits(query, first, last)
        for n in range(first, min(last, doc.page_count - 1) + 1):
            try:
                p = doc.load_page(n)
                rects = p.search_for(query, quads=False)
            except Exception:
                continue
            if rects:
                result.hits[n] = [_shown(p, r) for r in rects]
        return result


def _shown(page: Any, rect: Any) -> tuple[float, float, float, float]:
    """A rectangle from text space (unrotated) into displayed page space (``page.rect``'s)."""
    import pymupdf

    r = pymupdf.Rect(rect)
    if page.rotation:
        r = r * page.rotation_matrix
    return (float(r.x0), float(r.y0), float(r.x1), float(r.y1))
