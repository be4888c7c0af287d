"""PDFs the tests make themselves (with PyMuPDF, or byte by byte for broken ones), clearly
marked as test documents. Each function writes ``path`` and returns it."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

MARK = "Test document made by the test suite."

# Encrypted documents: the stored password is NFC "café"; a user may type it decomposed.
PASSWORD = "caf\u00e9"
PASSWORD_TYPED_NFD = "cafe\u0301"
# NFKC maps the ligature "ﬃ" to "ffi" and fullwidth letters to ASCII ones.
PASSWORD_LIGATURE = "office"
PASSWORD_TYPED_LIGATURE = "o\ufb03ce"
PASSWORD_FULLWIDTH = "ABC123"
PASSWORD_TYPED_FULLWIDTH = "\uff21\uff22\uff23\uff11\uff12\uff13"

# The small nested outline of make_outline_pdf: (level, title, 1-based page).
NESTED_OUTLINE = [
    (1, "Chapter 1 Introduction", 1),
    (2, "Section 1.1 Purpose", 2),
    (3, "Detail 1.1.1 Scope", 3),
    (2, "Section 1.2 Terms", 4),
    (1, "Chapter 2 Practice", 5),
    (2, "Section 2.1 Referrals", 7),
    (1, "Appendix", 10),
]

# Where make_links_pdf puts its links on page 1, in points: (x0, y0, x1, y1) and target.
LINK_INTERNAL = ((72, 150, 320, 172), 2)  # to page 3 (0-based 2)
LINK_HTTPS = ((72, 190, 320, 212), "https://example.org/aspire-test-document")
LINK_MAILTO = ((72, 230, 320, 252), "mailto:test-suite@example.org")
LINK_JAVASCRIPT = ((72, 270, 320, 292), "javascript:alert('test document')")
LINK_FILE_URI = ((72, 310, 320, 332), "file:///etc/passwd")  # MuPDF reports it as a launch
LINK_LAUNCH = ((72, 350, 320, 372), "/etc/passwd")

# The text of make_rotated_pdf's only page, and the word to search for on it.
ROTATED_TEXT = "Rotated test page with a needle in it"
ROTATED_WORD = "needle"


def _pages(doc: object, pages: int, text: str, width: float = 595, height: float = 842) -> None:
    for n in range(pages):
        page = doc.new_page(width=width, height=height)  # type: ignore[attr-defined]
        page.insert_text((72, 100), f"{text}, page {n + 1} of {pages}", fontsize=18)
        page.insert_text((72, 130), MARK, fontsize=11)


def make_pdf(path: Path, pages: int = 3, text: str = "Test document", *, title: str = "") -> Path:
    """``pages`` A4 pages, each saying which page it is (e.g. ``pages=300``)."""
    import pymupdf

    doc = pymupdf.open()
    _pages(doc, pages, text)
    if title:
        doc.set_metadata({"title": title})
    doc.save(path)
    doc.close()
    return path


def make_outline_pdf(path: Path, entries: int | None = None, pages: int = 10) -> Path:
    """An outline: :data:`NESTED_OUTLINE` by default, else ``entries`` entries (levels
    1, 2, 3 in turn, titled "Entry N") spread over the pages."""
    import pymupdf

    doc = pymupdf.open()
    _pages(doc, pages, "Outline test document")
    if entries is None:
        toc = [list(e) for e in NESTED_OUTLINE]
    else:
        toc = [[1 + i % 3, f"Entry {i + 1}", 1 + i * pages // entries] for i in range(entries)]
    doc.set_toc(toc)
    doc.save(path)
    doc.close()
    return path


def make_links_pdf(path: Path, pages: int = 3) -> Path:
    """Page 1 holds one link of each kind (see the ``LINK_*`` constants)."""
    import pymupdf

    doc = pymupdf.open()
    _pages(doc, pages, "Links test document")
    page = doc[0]
    labels = (
        (LINK_INTERNAL, "Go to page 3"),
        (LINK_HTTPS, "A web link"),
        (LINK_MAILTO, "An email link"),
        (LINK_JAVASCRIPT, "A script link"),
        (LINK_FILE_URI, "A file link"),
        (LINK_LAUNCH, "A launch link"),
    )
    for (rect, _target), label in labels:
        page.insert_text((rect[0] + 2, rect[3] - 6), label, fontsize=12)
    r = pymupdf.Rect
    page.insert_link(
        {"kind": pymupdf.LINK_GOTO, "from": r(LINK_INTERNAL[0]), "page": LINK_INTERNAL[1]}
    )
    for rect, uri in (LINK_HTTPS, LINK_MAILTO, LINK_JAVASCRIPT, LINK_FILE_URI):
        page.insert_link({"kind": pymupdf.LINK_URI, "from": r(rect), "uri": uri})
    page.insert_link(
        {"kind": pymupdf.LINK_LAUNCH, "from": r(LINK_LAUNCH[0]), "file": LINK_LAUNCH[1]}
    )
    doc.save(path)
    doc.close()
    return path


def make_encrypted_pdf(path: Path, password: str = PASSWORD, pages: int = 2) -> Path:
    """AES-256, opened with ``password`` (the owner password is a different one)."""
    import pymupdf

    doc = pymupdf.open()
    _pages(doc, pages, "Encrypted test document")
    doc.save(
        path,
        encryption=pymupdf.PDF_ENCRYPT_AES_256,
        user_pw=password,
        owner_pw="test-suite-owner-password",
    )
    doc.close()
    return path


def make_rotated_pdf(path: Path) -> Path:
    """One A4 page with /Rotate 90 (so it shows landscape, 842 × 595)."""
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_text((72, 100), ROTATED_TEXT, fontsize=18)
    page.insert_text((72, 130), MARK, fontsize=11)
    page.set_rotation(90)
    doc.save(path)
    doc.close()
    return path


# Hostile and broken files -----------------------------------------------------------------
def make_truncated_pdf(path: Path, keep: float = 0.5, pages: int = 6) -> Path:
    """The first ``keep`` of a valid PDF's bytes."""
    make_pdf(path, pages=pages, text="Truncated test document")
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def make_empty_file(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def png_bytes() -> bytes:
    """A valid 1×1 PNG."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def make_png_named_pdf(path: Path) -> Path:
    path.write_bytes(png_bytes())
    return path


def make_text_named_pdf(path: Path) -> Path:
    path.write_bytes(f"{MARK} This is plain text, not a PDF.\n".encode() * 20)
    return path


def raw_pdf(objects: list[bytes], trailer: bytes = b"/Root 1 0 R") -> bytes:
    """A PDF from object bodies (object 1 is the first) with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        trailer,
        xref,
    )
    return bytes(out)


_CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def _one_page_pdf(mediabox: bytes, text: bytes = b"Test document made by the test suite") -> bytes:
    stream = b"BT /F1 24 Tf 72 72 Td (%s) Tj ET" % text
    return raw_pdf(
        [
            _CATALOG,
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox %s /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>" % mediabox,
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
            _FONT,
        ]
    )


def make_page_tree_cycle_pdf(path: Path, pages: int = 3) -> Path:
    """A valid PDF whose /Pages node lists itself as its only kid (its /Count stays)."""
    import pymupdf

    make_pdf(path, pages=pages, text="Page tree cycle test document")
    doc = pymupdf.open(path)
    pages_xref = int(doc.xref_get_key(doc.pdf_catalog(), "Pages")[1].split()[0])
    doc.xref_set_key(pages_xref, "Kids", f"[{pages_xref} 0 R]")
    data = doc.tobytes()
    doc.close()
    path.write_bytes(data)
    return path


def make_count_cycle_pdf(path: Path) -> Path:
    """A page tree that is its own kid, twice, and claims a billion pages."""
    path.write_bytes(
        raw_pdf([_CATALOG, b"<< /Type /Pages /Kids [2 0 R 2 0 R] /Count 1000000000 >>"])
    )
    return path


def make_zero_page_pdf(path: Path) -> Path:
    path.write_bytes(raw_pdf([_CATALOG, b"<< /Type /Pages /Kids [] /Count 0 >>"]))
    return path


def make_huge_page_pdf(path: Path, size: float = 14_400) -> Path:
    """One square page ``size`` points wide (14,400 is PDF's own limit; more is absurd)."""
    path.write_bytes(_one_page_pdf(b"[0 0 %d %d]" % (size, size)))
    return path


def make_outline_loop_pdf(path: Path) -> Path:
    """An outline whose second entry's /Next points back at the first."""
    stream = b"BT /F1 24 Tf 72 720 Td (Outline loop test document) Tj ET"
    path.write_bytes(
        raw_pdf(
            [
                b"<< /Type /Catalog /Pages 2 0 R /Outlines 6 0 R >>",
                b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
                b"/Resources << /Font << /F1 5 0 R >> >> >>",
                b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
                _FONT,
                b"<< /Type /Outlines /First 7 0 R /Last 8 0 R /Count 2 >>",
                b"<< /Title (Loop entry one) /Parent 6 0 R /Next 8 0 R /Dest [3 0 R /Fit] >>",
                b"<< /Title (Loop entry two) /Parent 6 0 R /Prev 7 0 R /Next 7 0 R "
                b"/Dest [3 0 R /Fit] >>",
            ]
        )
    )
    return path
