"""The GFCI report parser refuses a changed layout, naming the table and the page.

Each variant is the real GFCI 32 report with one thing changed, made here with PDFium's page
editing: text objects removed, moved or replaced, and the page content written again.
"""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest

from cityrank_pipeline.sources.base import LayoutError
from cityrank_pipeline.sources.gfci_report import parse_gfci_report
from test_parsers_gfci import REAL_NAME, real_report_bytes


def edit_page(data: bytes, page_number: int, *, top: float, bottom: float, x0: float = 0, x1: float = 1e9,
              move_down: float | None = None, replace_with: str | None = None) -> bytes:
    """The PDF with the text objects inside a band of one page (distances from the page top)
    removed, moved down, or replaced by one Helvetica text."""
    pdf = pdfium.PdfDocument(data)
    page = pdf[page_number - 1]
    height = page.get_height()
    chosen = []
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_TEXT]):
        left, low, right, high = obj.get_bounds()
        if top <= height - high and height - low <= bottom and x0 <= left and right <= x1:
            chosen.append(obj)
    assert chosen, "the band holds no text"
    left = min(obj.get_bounds()[0] for obj in chosen)
    for obj in chosen:
        if move_down is not None:
            obj.transform(pdfium.PdfMatrix().translate(0, -move_down))
        else:
            page.remove_obj(obj)
    if replace_with is not None:
        font = pdfium_c.FPDFText_LoadStandardFont(pdf, b"Helvetica")
        text = pdfium_c.FPDFPageObj_CreateTextObj(pdf, font, 7.0)
        encoded = (replace_with + "\0").encode("utf-16-le")
        pdfium_c.FPDFText_SetText(text, (pdfium_c.FPDF_WCHAR * (len(encoded) // 2)).from_buffer_copy(encoded))
        pdfium_c.FPDFPageObj_Transform(text, 1, 0, 0, 1, left, height - bottom + 1)
        pdfium_c.FPDFPage_InsertObject(page, text)
    page.gen_content()
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def refused(data: bytes) -> str:
    with pytest.raises(LayoutError) as caught:
        parse_gfci_report(data, REAL_NAME)
    return str(caught.value)


def test_table_1_caption_missing_is_refused_naming_the_pages_with_its_header():
    data = edit_page(real_report_bytes(), 6, top=55, bottom=70)
    message = refused(data)
    assert "no caption 'Table N | GFCI <n> …' for the GFCI ranks and ratings" in message
    assert "pages 6, 7" in message


def test_continued_caption_out_of_place_is_refused():
    """Table 1 (continued) captioned below its rows instead of above its header."""
    data = edit_page(real_report_bytes(), 7, top=55, bottom=70, move_down=745)
    assert "page 7: Table 1 (continued) (the GFCI ranks and ratings): no header right under the caption" in refused(data)


def test_continued_caption_missing_is_refused():
    data = edit_page(real_report_bytes(), 7, top=55, bottom=70)
    assert "page 7: Table 1 (the GFCI ranks and ratings) goes on on page 7 without a 'Table 1 (continued)' caption" \
        in refused(data)


def test_renamed_header_is_refused():
    """GFCI 32's "Rating" column renamed "Score"."""
    data = edit_page(real_report_bytes(), 6, top=96, bottom=104, x0=250, x1=276, replace_with="Score")
    message = refused(data)
    assert message.startswith(f"{REAL_NAME}: page 6: Table 1 (the GFCI ranks and ratings): header does not print")
    assert "Score" in message


def test_renamed_grid_header_is_refused():
    """Table 5's "Trading" column renamed "Wealth"."""
    data = edit_page(real_report_bytes(), 13, top=300, bottom=311, x0=500, replace_with="Wealth")
    assert "page 13: Table 5 (the industry sector sub-indices): header columns are not" in refused(data)


def test_continued_table_cut_short_is_refused():
    """Table 1's last nine rows (111-119) gone from page 7."""
    data = edit_page(real_report_bytes(), 7, top=686, bottom=800)
    message = refused(data)
    assert "page 7: the GFCI ranks and ratings end at rank 110 (Bahamas)" in message
    assert "main index has 119 centres: the table is cut short" in message


def test_a_top_15_grid_cut_short_is_refused():
    data = edit_page(real_report_bytes(), 12, top=540, bottom=552)  # rank 15
    assert "page 12: Table 4 (the top centres by area of competitiveness) has 14 rows, its caption promises the top 15" \
        in refused(data)
