"""Text of a PDF through PDFium: plain text to choose pages, positioned lines to read them.

Why PDFium (``pypdfium2``) and not pdfplumber: pdfminer interprets content streams in pure
Python, seconds for a 60-page report; PDFium gives the plain text of all 64 pages of a GFCI
report in under 0.2 s. A parser scans that plain text to find the few pages that matter
(by a table's caption), then asks for those pages as positioned lines.

Why positioned lines: the plain text follows the content stream, not the page. A report
made with a word processor draws a caption after the table it heads, or a side note in the
middle of a row, and then the plain text reads them out of place. Lines rebuilt from glyph
positions read as the page does, top to bottom and left to right, and keep each run of
text's horizontal extent, so a parser can tell columns apart by where they are printed.

A line is split into cells wherever two glyphs stand further apart than a column gap
(`CELL_GAP` and `UNSPACED_CELL_GAP` below); inside a cell, words are joined by single spaces. Upright
text only: a rotated table reads as one glyph per line and fails the parser's checks.

PDFium is not thread-safe: every use of a document holds `PDFIUM_LOCK`.

A document with more than `MAX_PDF_PAGES` pages is refused as soon as it is open, before
any page is read: the reports cityrank reads have at most about 100, and a file of thousands
(blank or heavy) would only cost time to read page by page.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from .base import LayoutError

PDFIUM_LOCK = threading.Lock()

# More pages than any report cityrank reads: the real ones at hand have 24 (GPCI) to 64 (GFCI);
# publishers' reports run to about 100.
MAX_PDF_PAGES = 400

# Gaps, as fractions of the font size. Wider than CELL_GAP starts a new cell (a table column).
# Where the PDF draws no space glyph, a gap wider than UNSPACED_CELL_GAP starts a new cell
# (word processors draw each cell as its own run, spaces only inside it: two names in
# adjacent narrow columns may stand closer than a wide space) and one wider than WORD_GAP
# a new word.
CELL_GAP = 0.7
UNSPACED_CELL_GAP = 0.45
WORD_GAP = 0.25
# Glyphs whose baselines differ by less than this fraction of the font size share a line.
SAME_LINE = 0.35


@dataclass(frozen=True)
class TextCell:
    """A run of words printed without a column gap: one table cell, or a line of prose."""

    text: str
    x0: float
    x1: float

    @property
    def centre(self) -> float:
        return (self.x0 + self.x1) / 2


@dataclass(frozen=True)
class TextLine:
    """One printed line; `top` is the baseline's distance from the top of the page."""

    top: float
    size: float
    cells: tuple[TextCell, ...]

    @property
    def text(self) -> str:
        return " ".join(cell.text for cell in self.cells)


def check_pdf_container(data: bytes, source: str) -> None:
    """Refuse bytes that cannot be a complete PDF, before PDFium repairs them into one.

    PDFium silently rebuilds damaged files; a truncated download would then read as a
    shorter report. Every complete PDF starts with ``%PDF-`` and ends with ``%%EOF``.
    """
    if not data or not data.strip():
        raise LayoutError(source, "the file is empty")
    if b"%PDF-" not in data[:1024]:
        raise LayoutError(source, "not a PDF (no %PDF- header)")
    if b"%%EOF" not in data[-1024:]:
        raise LayoutError(source, "the PDF is truncated (no %%EOF marker at its end)")


class TooManyPages(LayoutError):
    """The PDF has more pages than `MAX_PDF_PAGES`; refused before any page is read."""


def check_page_count(count: int, source: str) -> None:
    """Refuse a document with more than `MAX_PDF_PAGES` pages (call right after opening it)."""
    if count > MAX_PDF_PAGES:
        raise TooManyPages(source, f"the PDF has {count} pages, more than the limit of {MAX_PDF_PAGES} "
                                   "(publishers' reports have at most about 100); refused before reading any page")


def open_pdf(data: bytes, source: str) -> pdfium.PdfDocument:
    """Open `data` with PDFium and check its page count; a LayoutError names `source`."""
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise LayoutError(source, f"not a readable PDF ({exc})") from None
    try:
        check_page_count(len(pdf), source)
    except TooManyPages:
        pdf.close()
        raise
    return pdf


class PdfText:
    """An open PDF: plain text and positioned lines of its pages, read once each.

    Use as a context manager; it holds `PDFIUM_LOCK` while open. Pages are 1-based.
    """

    def __init__(self, data: bytes, source: str):
        self.source = source
        self._data = bytes(data)
        check_pdf_container(self._data, source)
        self._pdf = None
        self._plain: dict[int, str] = {}
        self._lines: dict[int, list[TextLine]] = {}

    def __enter__(self) -> PdfText:
        PDFIUM_LOCK.acquire()
        try:
            self._pdf = open_pdf(self._data, self.source)
        except BaseException:
            PDFIUM_LOCK.release()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            self._pdf.close()
        finally:
            PDFIUM_LOCK.release()

    @property
    def page_count(self) -> int:
        return len(self._pdf)

    def plain_text(self, page: int) -> str:
        """The page's text in content-stream order, lines separated by newlines."""
        if page not in self._plain:
            text = self._read(page, lambda textpage, height: textpage.get_text_range())
            self._plain[page] = text.replace("\r\n", "\n").replace("\r", "\n")
        return self._plain[page]

    def lines(self, page: int) -> list[TextLine]:
        """The page's lines top to bottom, rebuilt from glyph positions."""
        if page not in self._lines:
            self._lines[page] = self._read(page, read_positioned_lines)
        return self._lines[page]

    def _read(self, page: int, reader):
        if not 1 <= page <= len(self._pdf):
            raise LayoutError(self.source, f"the document has no page {page}")
        handles = []
        try:
            pdf_page = self._pdf[page - 1]
            handles.append(pdf_page)
            textpage = pdf_page.get_textpage()
            handles.append(textpage)
            return reader(textpage, pdf_page.get_height())
        except pdfium.PdfiumError as exc:
            raise LayoutError(self.source, f"the page's text cannot be read ({exc})", page=page) from None
        finally:
            for handle in reversed(handles):
                handle.close()


@dataclass
class _Glyph:
    char: str
    x0: float
    x1: float
    baseline: float  # from the top of the page
    size: float
    spaced: bool  # a space glyph stood right before it


def read_positioned_lines(textpage, page_height: float) -> list[TextLine]:
    """Every glyph with its box, grouped into lines by baseline and into cells by gaps."""
    raw = textpage.raw
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    advance = pdfium_c.FS_RECTF()
    origin_x, origin_y = ctypes.c_double(), ctypes.c_double()
    glyphs: list[_Glyph] = []
    spaced = False
    for index in range(pdfium_c.FPDFText_CountChars(raw)):
        if pdfium_c.FPDFText_IsGenerated(raw, index):
            continue  # PDFium's own spaces and line breaks: the gaps speak for themselves
        char = chr(pdfium_c.FPDFText_GetUnicode(raw, index))
        if not char.strip():
            spaced = True
            continue
        # The ink box is where the glyph shows; the advance box (ink plus side bearings) is what
        # the font spaces by, so gaps between advance boxes are near zero inside a word even
        # for narrow glyphs such as "1" in "11".
        pdfium_c.FPDFText_GetCharBox(raw, index, left, right, bottom, top)
        pdfium_c.FPDFText_GetLooseCharBox(raw, index, advance)
        pdfium_c.FPDFText_GetCharOrigin(raw, index, origin_x, origin_y)
        size = pdfium_c.FPDFText_GetFontSize(raw, index) or (top.value - bottom.value) or 1.0
        x0, x1 = min(left.value, advance.left), max(right.value, advance.right)
        glyphs.append(_Glyph(char, x0, x1, page_height - origin_y.value, size, spaced))
        spaced = False
    glyphs.sort(key=lambda g: g.baseline)
    rows: list[list[_Glyph]] = []
    for glyph in glyphs:
        if rows and glyph.baseline - rows[-1][0].baseline < SAME_LINE * glyph.size:
            rows[-1].append(glyph)
        else:
            rows.append([glyph])
    return [_assemble_line(row) for row in rows]


def _assemble_line(glyphs: list[_Glyph]) -> TextLine:
    glyphs.sort(key=lambda g: g.x0)
    cells: list[TextCell] = []
    text, start, end = "", glyphs[0].x0, glyphs[0].x1
    for glyph in glyphs:
        gap = glyph.x0 - end
        if text and (gap > CELL_GAP * glyph.size or (not glyph.spaced and gap > UNSPACED_CELL_GAP * glyph.size)):
            cells.append(TextCell(text, start, end))
            text, start = "", glyph.x0
        elif text and (glyph.spaced or gap > WORD_GAP * glyph.size):
            text += " "
        text += glyph.char
        end = max(end, glyph.x1)
    cells.append(TextCell(text, start, end))
    size = max(g.size for g in glyphs)
    return TextLine(min(g.baseline for g in glyphs), size, tuple(cells))
