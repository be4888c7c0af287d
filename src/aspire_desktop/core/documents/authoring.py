"""Documents the project writes itself, rendered to PDF (e.g. the user guide)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aspire_desktop import APP_NAME, __version__

_CSS = """
* { font-family: sans-serif; }
body { font-size: 11pt; line-height: 1.45; color: #1f2933; }
h1 { font-size: 22pt; color: #17324d; margin-bottom: 6pt; }
h2 { font-size: 15pt; color: #17324d; margin-top: 16pt; margin-bottom: 4pt; }
h3 { font-size: 12pt; color: #17324d; margin-top: 10pt; }
p { margin-top: 0; margin-bottom: 7pt; }
li { margin-bottom: 3pt; }
code { font-family: monospace; font-size: 10pt; color: #3b4a5a; }
table { border-collapse: collapse; margin-bottom: 8pt; }
th { text-align: left; border-bottom: 2px solid #8fa3b5; }
th, td { border: 1px solid #b8c4ce; padding: 3pt 6pt; font-size: 10pt; }
.footer { font-size: 9pt; color: #5b6b7a; }
"""

A4 = (595.0, 842.0)
MARGIN = 56.0


def markdown_to_html(text: str) -> str:
    from markdown_it import MarkdownIt

    return str(MarkdownIt("commonmark").enable("table").render(text))


def render_markdown_pdf(source: Path, target: Path, *, title: str) -> int:
    """Render a Markdown file to an A4 PDF with page numbers; returns the page count."""
    import pymupdf

    body = markdown_to_html(source.read_text(encoding="utf-8"))
    footer = f"<p class='footer'>{APP_NAME} {__version__}: written by the project.</p>"
    story = pymupdf.Story(html=body + footer, user_css=_CSS)
    page_rect = pymupdf.Rect(0, 0, *A4)
    where = pymupdf.Rect(MARGIN, MARGIN, A4[0] - MARGIN, A4[1] - MARGIN - 20)
    draft = target.with_suffix(".draft.pdf")
    writer = pymupdf.DocumentWriter(str(draft))
    more = True
    while more:
        device = writer.begin_page(page_rect)
        more, _ = story.place(where)
        story.draw(device)
        writer.end_page()
    writer.close()

    doc = pymupdf.open(draft)
    try:
        for number, page in enumerate(doc, start=1):
            page.insert_text(
                (MARGIN, A4[1] - MARGIN + 14),
                f"{title}  ·  page {number} of {doc.page_count}",
                fontsize=8.5,
                color=(0.36, 0.42, 0.48),
            )
        doc.set_metadata({"title": title, "creator": APP_NAME, "producer": APP_NAME})
        doc.set_toc(_outline(doc))
        doc.save(target, garbage=3, deflate=True)
        return int(doc.page_count)
    finally:
        doc.close()
        draft.unlink(missing_ok=True)


def _outline(doc: Any) -> list[list[Any]]:
    """An outline from the headings, found by their type sizes (h1, h2)."""
    toc: list[list[Any]] = []
    for page_no, page in enumerate(doc, start=1):
        for block in page.get_text("dict")["blocks"]:
            for line in block.get("lines", []):
                spans = line["spans"]
                text = "".join(s["text"] for s in spans).strip()
                if not spans or not text:
                    continue
                size = spans[0]["size"]
                if size >= 20:
                    toc.append([1, text, page_no])
                elif size >= 14:
                    toc.append([2 if toc else 1, text, page_no])
    return toc
