"""PyMuPDF access. Every function here must run on the document worker thread."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aspire_desktop.core.errors import DocumentDamagedError

#: Never render more pixels than this for one page (guards absurd page sizes and zooms).
MAX_PIXELS = 40_000_000


@dataclass(frozen=True)
class DocumentInfo:
    doc_id: int
    page_count: int
    title: str
    page_sizes: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class RenderedPage:
    doc_id: int
    page: int
    zoom: float
    width: int
    height: int
    stride: int
    samples: bytes


class PdfService:
    """Open documents, keyed by an id the caller chooses. Not thread-safe by design:
    the :class:`DocumentWorker` calls it from its one thread only."""

    def __init__(self) -> None:
        self._docs: dict[int, Any] = {}

    def open(self, doc_id: int, path: Path) -> DocumentInfo:
        import pymupdf

        try:
            doc = pymupdf.open(path, filetype="pdf")
        except (pymupdf.FileDataError, pymupdf.EmptyFileError, RuntimeError, ValueError) as exc:
            raise DocumentDamagedError(
                f"{path.name} cannot be opened as a PDF ({exc}).",
                "The file may be damaged or not a PDF; the next sync replaces damaged files.",
            ) from exc
        except OSError as exc:
            raise DocumentDamagedError(
                f"{path.name} cannot be read ({exc.strerror}).", "Check that the file exists."
            ) from exc
        if doc.page_count < 1:
            doc.close()
            raise DocumentDamagedError(f"{path.name} has no pages.", "")
        sizes = tuple((p.rect.width, p.rect.height) for p in doc)
        self._docs[doc_id] = doc
        title = (doc.metadata or {}).get("title") or path.stem
        return DocumentInfo(doc_id, doc.page_count, title, sizes)

    def render(self, doc_id: int, page: int, zoom: float) -> RenderedPage:
        """Render a page at ``zoom`` (1.0 = 72 dpi) as RGB samples."""
        import pymupdf

        doc = self._docs[doc_id]
        try:
            p = doc[page]
            w, h = p.rect.width * zoom, p.rect.height * zoom
            if w * h > MAX_PIXELS:
                zoom *= (MAX_PIXELS / (w * h)) ** 0.5
            pix = p.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
        except (RuntimeError, ValueError, IndexError) as exc:
            raise DocumentDamagedError(
                f"Page {page + 1} cannot be shown ({exc}).", "Try another page."
            ) from exc
        return RenderedPage(doc_id, page, zoom, pix.width, pix.height, pix.stride, pix.samples)

    def close(self, doc_id: int) -> None:
        doc = self._docs.pop(doc_id, None)
        if doc is not None:
            doc.close()

    def close_all(self) -> None:
        for doc_id in list(self._docs):
            self.close(doc_id)
