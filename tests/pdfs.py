"""PDFs the tests make themselves (with PyMuPDF), clearly marked as test documents."""

from __future__ import annotations

from pathlib import Path


def make_pdf(path: Path, pages: int = 3, text: str = "Test document") -> Path:
    import pymupdf

    doc = pymupdf.open()
    for n in range(pages):
        page = doc.new_page(width=595, height=842)
        page.insert_text((72, 100), f"{text}, page {n + 1} of {pages}", fontsize=18)
        page.insert_text((72, 140), "Test document made by the test suite.", fontsize=11)
    doc.save(path)
    doc.close()
    return path
