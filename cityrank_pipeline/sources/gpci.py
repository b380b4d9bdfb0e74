"""Global Power City Index (Mori Memorial Foundation) summary reports, as PDF.

One parser serves every edition of the summary layout. It does not know page numbers or the
year: it finds, by their text, the two places the figures are printed,

* the comprehensive ranking, one line per city: ``1 London（1457.9）［1（1452.5）］`` — rank,
  city, total score, then last edition's rank and score in full-width brackets;
* the function-specific ranking table: a header naming the six functions (some editions add a
  "Total Score" column) and one row per rank holding a city and a score for each function.

The 2013 report prints that table rotated by 90° (a plain text dump reads it backwards,
"nodnoL 9.7541") and 2015 prints it upright. Rather than telling the two apart, the reader
puts every character into its own line's reading frame (from the character's text matrix),
so rotated and upright tables come out as the same lines of text.

Text comes from PDFium (``pypdfium2``, which pdfplumber itself depends on), not from
pdfplumber/pdfminer: pdfminer interprets content streams in pure Python and needs 7-8 s for
a 24-page summary (1.2 s for just the two pages that matter in 2013), while PDFium reads
the whole text of a file in about 0.2 s. All pages are scanned cheaply as plain text to pick
the candidate pages; only those are read character by character.

Whatever does not read as exactly this layout raises `LayoutError`: the parser returns all
7 × N figures or nothing.
"""

from __future__ import annotations

import ctypes
import math
import re
import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from .base import LayoutError, ScoreRow, WrongPublication
from .pdf_text import check_page_count

# The six functions, in the order the publisher (and the expected tidy files) list them.
FUNCTIONS = ("economy", "r_and_d", "cultural_interaction", "livability", "environment", "accessibility")
MEASURES = ("total", *FUNCTIONS)

# A header word (NFKC-normalised, case-folded) → the column it names. "Cultural Interaction"
# is printed on one line in 2013 and over two lines in 2015, so either word marks the column.
_HEADER_WORDS = {
    "total": "total",
    "economy": "economy",
    "r&d": "r_and_d",
    "research": "r_and_d",
    "cultural": "cultural_interaction",
    "interaction": "cultural_interaction",
    "livability": "livability",
    "liveability": "livability",
    "environment": "environment",
    "accessibility": "accessibility",
}

# How many lines above the first table row may hold header words (2015 uses three).
_HEADER_LINES = 4

# PDFium is not thread-safe; Dagster may run several parsers in one process.
_PDFIUM_LOCK = threading.Lock()

# A printed figure: "1457.9", "1,457.9" or "12".
_NUMBER = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"

# One comprehensive-ranking line. Glyphs are not always drawn in reading order ("Seou（l
# 1104.4）", "Washington, D.C（. 865.5）"): sorting by glyph box repairs that, and `spill`
# takes back, as part of the name, any letters that still land between the bracket and the
# score. The ［…］ part is absent or holds no figures for a city new to the index.
_COMPREHENSIVE_LINE = re.compile(
    rf"""^(?P<rank>\d+)\s*
    (?P<city>[^\d\s（(）)［\[］\]][^\d（(）)［\[］\]]*?)\s*
    [（(](?P<spill>[^\d（(）)［\[］\]]*?)\s*(?P<score>{_NUMBER})\s*[）)]\s*
    (?:[［\[](?:\s*(?P<prev_rank>\d+)\s*[（(]\s*(?P<prev_score>{_NUMBER})\s*[）)]
                |(?P<no_prev>[^\d］\]]*))[］\]])?\s*$""",
    re.VERBOSE,
)

# A function-table row: rank, then one cell per column, each a city name (no digits) and
# its score: "15 Washington, D.C. 211.3 Washington, D.C. 67.6 …".
_TABLE_ROW = re.compile(rf"^(?P<rank>\d+)(?P<cells>(?:\s+[^\d\s][^\d]*?\s+{_NUMBER})+)\s*$")
_TABLE_CELL = re.compile(rf"(?P<city>[^\d\s][^\d]*?)\s+(?P<score>{_NUMBER})(?=\s|$)")

# Cheap signs, in a page's plain text, of the comprehensive ranking ("…1457.9）［1…") and of
# a table of scores (decimal figures).
_COMPREHENSIVE_HINT = re.compile(r"\d\s*[）)]\s*[［\[]")
_DECIMAL = re.compile(r"\d\.\d")
_EDITION = re.compile(r"Global\s+Power\s+City\s+Index\s+((?:19|20)\d\d)\b", re.IGNORECASE)


def parse_gpci_summary(
    data: bytes, source: str, *, edition: str | None = None, options: dict | None = None
) -> list[ScoreRow]:
    """Read a GPCI summary PDF into 7 × N rows (total and six functions for each city).

    `edition`, if given (the catalog's edition), must agree with the year the document
    prints; it is only used when the document prints none. `options` may hold `city_count`,
    the number of cities the edition ranks (the catalog's `city_count`): a ranking of another
    size is refused. Other keys are ignored.

    Rows come in the order of the expected tidy files: the comprehensive ranking by rank, then
    rank by rank the six functions in `FUNCTIONS` order. Totals carry last edition's rank and
    score as the document prints them.
    """
    city_count = (options or {}).get("city_count")
    data = bytes(data)
    _check_container(data, source)
    with _PDFIUM_LOCK, _Document(data, source) as doc:
        year = _edition_of(doc, source, edition)
        ranking = _find_comprehensive_ranking(doc, source)
        table = _find_function_table(doc, source)
    _cross_check(ranking, table, source, city_count)
    return _score_rows(year, ranking, table)


# --------------------------------------------------------------------------- the document


def _check_container(data: bytes, source: str) -> None:
    """Refuse, with a plain reason, files that cannot be a complete PDF.

    PDFium repairs damaged files where it can, so a truncated download is refused here rather
    than risk a partial read: every complete PDF ends with ``%%EOF``.
    """
    if not data.strip():
        raise LayoutError(source, "the file is empty")
    if b"%PDF-" not in data[:1024]:
        raise LayoutError(source, "not a PDF (no %PDF- header)")
    if b"%%EOF" not in data[-1024:]:
        raise LayoutError(source, "the PDF is truncated (no %%EOF marker at its end)")


@dataclass(frozen=True)
class _Word:
    text: str
    u0: float  # start and end along the reading direction
    u1: float

    @property
    def centre(self) -> float:
        return (self.u0 + self.u1) / 2


@dataclass(frozen=True)
class _Line:
    """A line of text in its own reading frame: `v` grows down the (possibly rotated) page."""

    direction: tuple[float, float]
    v: float
    words: tuple[_Word, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


class _Document:
    """A PDF opened with PDFium: plain text of every page, and lines of chosen pages."""

    def __init__(self, data: bytes, source: str):
        self.source = source
        self._data = data
        self._pdf = None
        self._texts: list[str] | None = None
        self._lines: dict[int, list[_Line]] = {}

    def __enter__(self) -> _Document:
        try:
            self._pdf = pdfium.PdfDocument(self._data)
        except pdfium.PdfiumError as exc:  # PDFium reports every kind of damage with this class
            raise LayoutError(self.source, f"not a readable PDF ({_describe(exc)})") from None
        try:
            check_page_count(len(self._pdf), self.source)
        except LayoutError:
            self._pdf.close()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self._pdf.close()

    @property
    def page_texts(self) -> list[str]:
        """Plain text per page (index 0 = page 1), for choosing pages: ~10 ms a page."""
        if self._texts is None:
            self._texts = [self._with_textpage(n, lambda tp: tp.get_text_range()) for n in range(1, len(self._pdf) + 1)]
        return self._texts

    def lines(self, page: int) -> list[_Line]:
        """The lines of a 1-based page, read glyph by glyph (for the pages that matter)."""
        if page not in self._lines:
            self._lines[page] = self._with_textpage(page, _read_lines)
        return self._lines[page]

    def _with_textpage(self, page: int, read):
        pdf_page = textpage = None
        try:
            pdf_page = self._pdf[page - 1]
            textpage = pdf_page.get_textpage()
            return read(textpage)
        except pdfium.PdfiumError as exc:
            raise LayoutError(self.source, f"cannot read the page's text ({_describe(exc)})", page=page) from None
        finally:
            for handle in (textpage, pdf_page):
                if handle is not None:
                    handle.close()


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {str(exc).rstrip('.')}"


@dataclass
class _Glyph:
    text: str
    direction: tuple[float, float]
    v: float  # baseline, across the reading direction
    size: float
    u0: float  # ink box along the reading direction: gives the reading order
    gap0: float  # advance box along the reading direction: gives the spaces
    gap1: float


def _read_lines(textpage) -> list[_Line]:
    """Group a page's glyphs into lines and words in each glyph's own reading frame.

    Each glyph's text matrix gives its writing direction d; its position along d orders the
    glyphs of a line and its position across d (the baseline) groups them into lines. That
    is what turns the 2013 table, drawn at 90°, into ordinary rows. Glyphs are ordered by
    their ink box, not their origin: full-width brackets put their ink to the right of their
    origin, which is why naive text reads "Seou（l". Spaces come from gaps between advance
    boxes, not from space glyphs, which are often absent.
    """
    tp = textpage.raw
    matrix = pdfium_c.FS_MATRIX()
    loose = pdfium_c.FS_RECTF()
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    glyphs: list[_Glyph] = []
    for i in range(pdfium_c.FPDFText_CountChars(tp)):
        if pdfium_c.FPDFText_IsGenerated(tp, i):  # spaces and line breaks PDFium made up
            continue
        text = chr(pdfium_c.FPDFText_GetUnicode(tp, i))
        if not text.strip() or not pdfium_c.FPDFText_GetMatrix(tp, i, matrix):
            continue
        length = math.hypot(matrix.a, matrix.b)
        if length == 0:
            continue
        dx, dy = round(matrix.a / length, 3), round(matrix.b / length, 3)
        pdfium_c.FPDFText_GetCharBox(tp, i, left, right, bottom, top)
        pdfium_c.FPDFText_GetLooseCharBox(tp, i, loose)
        ink = [x * dx + y * dy for x in (left.value, right.value) for y in (bottom.value, top.value)]
        advance = [x * dx + y * dy for x in (loose.left, loose.right) for y in (loose.bottom, loose.top)]
        glyphs.append(
            _Glyph(
                text=text,
                direction=(dx, dy),
                v=matrix.e * dy - matrix.f * dx,
                size=math.hypot(matrix.c, matrix.d) or length,
                u0=min(ink),
                gap0=min(advance),
                gap1=max(advance),
            )
        )
    glyphs.sort(key=lambda g: (g.direction, g.v))
    groups: list[list[_Glyph]] = []
    for glyph in glyphs:
        current = groups[-1] if groups else None
        if current and glyph.direction == current[0].direction and abs(glyph.v - current[0].v) < 0.3 * glyph.size:
            current.append(glyph)
        else:
            groups.append([glyph])
    return [_line_of(group) for group in groups]


def _line_of(glyphs: list[_Glyph]) -> _Line:
    glyphs.sort(key=lambda g: g.u0)
    words: list[_Word] = []
    chars: list[_Glyph] = []
    reach = -math.inf  # furthest advance box end in the current word
    for glyph in glyphs:
        # Compared with the furthest reach, not the last glyph: a full-width bracket's advance
        # box starts before the letter whose ink precedes it.
        if chars and glyph.gap0 - reach > 0.15 * glyph.size:
            words.append(_word_of(chars))
            chars, reach = [], -math.inf
        chars.append(glyph)
        reach = max(reach, glyph.gap1)
    words.append(_word_of(chars))
    return _Line(glyphs[0].direction, glyphs[0].v, tuple(words))


def _word_of(glyphs: list[_Glyph]) -> _Word:
    return _Word("".join(g.text for g in glyphs), min(g.gap0 for g in glyphs), max(g.gap1 for g in glyphs))


# --------------------------------------------------------------------------- the figures


WHAT = "Global Power City Index publication"


def _edition_of(doc: _Document, source: str, expected: str | None) -> str:
    """The year of the edition, from the running title "Global Power City Index 2013"."""
    texts = doc.page_texts
    if not any("global power city index" in _normalise(text) for text in texts):
        raise WrongPublication(source, WHAT, "the title 'Global Power City Index' is nowhere in the text")
    years = Counter(m.group(1) for text in texts for m in _EDITION.finditer(text))
    if not years:
        if expected:
            return expected
        # Other reports cite the GPCI by name (the GFCI report does); only Mori's own print it
        # as a running title with the year.
        raise WrongPublication(source, WHAT, "no running title 'Global Power City Index <year>' on any page")
    (year, count), *others = years.most_common()
    if others and others[0][1] == count:
        raise LayoutError(source, f"the document names several editions equally often: {', '.join(sorted(years))}")
    if expected and str(expected) != year:
        raise LayoutError(source, f"the document is the {year} edition, not {expected}")
    return year


@dataclass(frozen=True)
class _Ranked:
    rank: int
    city: str
    score: float
    previous_rank: int | None = None
    previous_score: float | None = None


@dataclass
class _Comprehensive:
    page: int
    entries: list[_Ranked]


@dataclass
class _FunctionTable:
    page: int
    columns: list[str]  # measure per column, in printed order
    rows: list[tuple[int, list[tuple[str, float]]]]  # rank, (city, score) per column


def _find_comprehensive_ranking(doc: _Document, source: str) -> _Comprehensive:
    """The page printing the most "rank city（score）［rank（score）］" lines, read in full."""
    hints = [len(_COMPREHENSIVE_HINT.findall(text)) for text in doc.page_texts]
    best = max(hints, default=0)
    if best < 2:
        raise LayoutError(source, "no comprehensive ranking (lines like '1 London（1457.9）［1（1452.5）］') found")
    page = hints.index(best) + 1
    entries = []
    for line in doc.lines(page):
        entry = _parse_comprehensive_line(line.text)
        if entry is not None:
            entries.append(entry)
    _check_ranks([e.rank for e in entries], source, page, "comprehensive ranking")
    _check_descending([e.score for e in entries], source, page, "comprehensive ranking")
    _check_unique([e.city for e in entries], source, page, "comprehensive ranking")
    return _Comprehensive(page, entries)


def _parse_comprehensive_line(text: str) -> _Ranked | None:
    match = _COMPREHENSIVE_LINE.match(text)
    if match is None:
        return None
    city = (match["city"] + match["spill"]).strip()
    previous = match["prev_rank"] is not None
    return _Ranked(
        rank=int(match["rank"]),
        city=" ".join(city.split()),
        score=_number(match["score"]),
        previous_rank=int(match["prev_rank"]) if previous else None,
        previous_score=_number(match["prev_score"]) if previous else None,
    )


def _find_function_table(doc: _Document, source: str) -> _FunctionTable:
    """The page, most figures first, whose lines hold the function header over row 1.

    Pages are tried in order of how many decimal figures their plain text prints (the table
    has 240 or so); plain text is not trusted further than that, as it splits rotated
    headers apart ("R ＆D").
    """
    figures = {page: len(_DECIMAL.findall(text)) for page, text in enumerate(doc.page_texts, start=1)}
    candidates = sorted((page for page, count in figures.items() if count >= 2 * len(FUNCTIONS)), key=lambda p: -figures[p])
    for page in candidates:
        lines = doc.lines(page)
        for index, line in enumerate(lines):
            row = _parse_table_row(line.text)
            if row is None or row[0] != 1:
                continue
            above = [ln for ln in lines[max(0, index - _HEADER_LINES) : index] if ln.direction == line.direction]
            columns = _header_columns(above)
            if columns is not None:
                return _read_table(lines[index:], line.direction, columns, source, page)
    raise LayoutError(source, "no function-specific ranking table (a header naming the six functions over rows of rank, city, score) found")


def _header_columns(lines: list[_Line]) -> list[str] | None:
    """The measures named by the header words above the first row, left to right."""
    positions: dict[str, list[float]] = {}
    for line in lines:
        for word in line.words:
            measure = _HEADER_WORDS.get(_normalise(word.text))
            if measure:
                positions.setdefault(measure, []).append(word.centre)
    if not set(FUNCTIONS) <= set(positions):
        return None
    return sorted(positions, key=lambda m: sum(positions[m]) / len(positions[m]))


def _read_table(lines: list[_Line], direction, columns: list[str], source: str, page: int) -> _FunctionTable:
    """Rows from row 1 down, for as long as the lines keep the table's row spacing.

    The spacing, not the text, ends the table: a folio such as "12 Global Power City Index
    2016" reads like a row but sits well below the last one.
    """
    rows: list[tuple[int, list[tuple[str, float]]]] = []
    previous_v = pitch = None
    for line in (ln for ln in lines if ln.direction == direction):
        if previous_v is not None:
            step = line.v - previous_v
            if pitch is not None and step > 1.6 * pitch:
                break
            pitch = pitch or step
        previous_v = line.v
        parsed = _parse_table_row(line.text)
        if parsed is None:
            if line.text.split(" ", 1)[0] == str(len(rows) + 1):
                raise LayoutError(source, f"function table row {len(rows) + 1} does not read as 'rank city score …': {line.text!r}", page=page)
            break
        rank, cells = parsed
        if len(cells) != len(columns):
            raise LayoutError(
                source, f"function table row {rank} has {len(cells)} city/score cells for {len(columns)} columns", page=page
            )
        rows.append((rank, cells))
    _check_ranks([rank for rank, _ in rows], source, page, "function table")
    for index, measure in enumerate(columns):
        _check_descending([cells[index][1] for _, cells in rows], source, page, f"{measure} column")
        _check_unique([cells[index][0] for _, cells in rows], source, page, f"{measure} column")
    return _FunctionTable(page, columns, rows)


def _parse_table_row(text: str) -> tuple[int, list[tuple[str, float]]] | None:
    match = _TABLE_ROW.match(text)
    if match is None:
        return None
    cells = [(" ".join(m["city"].split()), _number(m["score"])) for m in _TABLE_CELL.finditer(match["cells"])]
    return int(match["rank"]), cells


# --------------------------------------------------------------------------- checks and rows


def _check_ranks(ranks: list[int], source: str, page: int, what: str) -> None:
    """Ranks must run 1..N: a gap or repeat means a line was lost or misread."""
    for expected, rank in enumerate(ranks, start=1):
        if rank != expected:
            raise LayoutError(source, f"{what}: rank {rank} where {expected} was expected (ranks must run 1..N)", page=page)


def _check_descending(scores: list[float], source: str, page: int, what: str) -> None:
    """Ranks follow scores, so a score above the one ranked before it was read wrongly."""
    for rank, (before, after) in enumerate(zip(scores, scores[1:]), start=2):
        if after > before:
            raise LayoutError(source, f"{what}: score {after} at rank {rank} is above {before} at rank {rank - 1}", page=page)


def _check_unique(cities: list[str], source: str, page: int, what: str) -> None:
    repeated = sorted(city for city, count in Counter(cities).items() if count > 1)
    if repeated:
        raise LayoutError(source, f"{what} lists {', '.join(repeated)} more than once", page=page)


def _cross_check(ranking: _Comprehensive, table: _FunctionTable, source: str, city_count: int | None) -> None:
    """Both figures must rank the same cities; a printed total column must match the ranking."""
    cities = [e.city for e in ranking.entries]
    if city_count is not None and len(cities) != int(city_count):
        raise LayoutError(source, f"comprehensive ranking has {len(cities)} cities, the edition ranks {city_count}", page=ranking.page)
    if len(table.rows) != len(cities):
        raise LayoutError(
            source, f"function table has {len(table.rows)} rows, the comprehensive ranking {len(cities)} cities", page=table.page
        )
    for index, measure in enumerate(table.columns):
        listed = {cells[index][0] for _, cells in table.rows}
        if listed != set(cities):
            odd = sorted(listed.symmetric_difference(cities))
            raise LayoutError(source, f"{measure} column and comprehensive ranking differ in cities: {', '.join(odd)}", page=table.page)
    if "total" in table.columns:
        index = table.columns.index("total")
        for entry, (_, cells) in zip(ranking.entries, table.rows):
            if cells[index] != (entry.city, entry.score):
                raise LayoutError(
                    source,
                    f"total column rank {entry.rank} reads {cells[index]}, the comprehensive ranking {(entry.city, entry.score)}",
                    page=table.page,
                )


def _score_rows(year: str, ranking: _Comprehensive, table: _FunctionTable) -> list[ScoreRow]:
    rows = [
        ScoreRow(
            edition=year,
            city=e.city,
            measure="total",
            score=e.score,
            rank=e.rank,
            page=ranking.page,
            previous_rank=e.previous_rank,
            previous_score=e.previous_score,
        )
        for e in ranking.entries
    ]
    for rank, cells in table.rows:
        by_measure = dict(zip(table.columns, cells))
        for measure in FUNCTIONS:
            city, score = by_measure[measure]
            rows.append(ScoreRow(edition=year, city=city, measure=measure, score=score, rank=rank, page=table.page))
    return rows


def _normalise(text: str) -> str:
    """Compare header text width- and case-blind: 2013 prints "R＆D" with a full-width ＆."""
    return unicodedata.normalize("NFKC", text).casefold()


def _number(text: str) -> float:
    return float(text.replace(",", ""))
