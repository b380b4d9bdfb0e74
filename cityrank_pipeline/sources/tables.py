"""Reading ranking tables out of HTML pages and PDF reports, for every publisher but GPCI.

Why one module: every index publishes the same thing — a ranked list of cities with a few
numbers — in one of a handful of shapes (an HTML `<table>`, an HTML list or repeated blocks, a
table printed as text rows in a PDF). The publisher parsers differ only in which header words,
row shapes and measures they expect, so those are options; the reading, the checks that the
table was read right and the conversion to `ScoreRow` live here once.

Field names are a small convention shared by HTML column maps and PDF row patterns (named
groups), so the same conversion serves both:

- `rank`, `score`, `city`, `country`: the row's main measure (usually `total`) and who it is;
- `previous_rank`, `previous_score`: what the publication prints for the previous edition;
- `<measure>_rank`, `<measure>_score`: another measure of the same city (a dimension);
- `note_<what>`: printed context kept as text in the row's note (e.g. a change in rank).

Everything that cannot be read as expected raises `LayoutError` naming the file and, where
known, the page and row: a partial or guessed table is worse than none.
"""

from __future__ import annotations

import io
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields as dataclass_fields, replace

from .base import LayoutError, PublicationError, ScoreRow, WrongPublication

# --------------------------------------------------------------------------------------------
# Reusable pattern pieces. Parsers build their default row patterns from these so that a rank
# or a number means the same thing in every layout.

# A printed rank, with the tie markers publishers use: "=2", "2=", "T2", "T-2", "#2".
RANK_TOKEN = r"(?:=|T-?|#)?\d{1,4}=?"
RANK_GROUP = rf"(?P<rank>{RANK_TOKEN})"
# A printed name (city or country): starts with a letter and holds no digit, so that a row
# pattern with too few number columns fails instead of folding numbers into the name.
NAME_TOKEN = r"[^\W\d_][^\d]*?"
# A printed number: optional sign (ASCII or typographic), thousands separators, decimals.
NUMBER_TOKEN = r"[+\-\u2212\u2013]?\d[\d,]*(?:\.\d+)?"
# A row of a ranked table starts with a rank followed by a name (a letter), so that a units
# line under a header, such as "2018 (US$ billions)", is not taken for a row.
ROW_STARTS_WITH_RANK = r"(?:=|T-?|#)?\d{1,4}=?\.?\s+[^\W\d_]"
# A row of a table keyed by city (one column per measure): a word, then at least three
# numbers (or dashes) to the end of the line — so a running footer ending in a page or
# edition number is not taken for a row.
ROW_STARTS_WITH_CITY = r"[^\d\s=#].*?(?:\s+(?:[=#]?\d[\d.,]*=?|[-\u2013\u2014])){3,}\s*$"
# Lines inside a table region that are never rows: a bare page number.
DEFAULT_SKIP = r"\d{1,4}"
# Where a printed table ends: its source or notes line.
DEFAULT_END = r"(?:sources?|notes?)\s*:.*"

# Cell contents meaning "no figure printed".
MISSING_VALUES = frozenset({"", "-", "\u2013", "\u2014", "n/a", "na", "n.a.", "..", "\u2026", "nr"})

RESERVED_FIELDS = frozenset({"rank", "score", "city", "country", "previous_rank", "previous_score"})


def build_rank_city_pattern(numbers: Sequence[str], optional: Sequence[str] = ()) -> str:
    """A row pattern "rank city n1 n2 … [o1 o2 …]" with the given named number fields.

    Why: most ranking tables print rank, name, then numbers; building the regex in one place
    keeps the parsers' defaults consistent (the city is the shortest text before the numbers).
    """
    return RANK_GROUP + rf"\s+(?P<city>{NAME_TOKEN})" + build_numbers_pattern(numbers, optional)


def build_city_pattern(numbers: Sequence[str], optional: Sequence[str] = ()) -> str:
    """A row pattern "city n1 n2 …" for tables keyed by city with one column per measure."""
    return rf"(?P<city>{NAME_TOKEN})" + build_numbers_pattern(numbers, optional)


def build_numbers_pattern(numbers: Sequence[str], optional: Sequence[str] = ()) -> str:
    """Whitespace-separated named values; the optional ones may be missing all together.

    A field named `…rank` reads a rank (tie markers allowed), any other a number; either may
    be a dash where the publication prints no figure.
    """
    required = "".join(build_value_group(name) for name in numbers)
    if not optional:
        return required
    return required + "(?:" + "".join(build_value_group(name) for name in optional) + ")?"


def build_value_group(name: str) -> str:
    """One whitespace-led named group for a rank or number column."""
    token = RANK_TOKEN if name.endswith("rank") else NUMBER_TOKEN
    return rf"\s+(?P<{name}>{token}|[-\u2013\u2014])"


# --------------------------------------------------------------------------------------------
# Text and value helpers


def normalise_words(text: str) -> str:
    """Case-, space- and punctuation-insensitive form of a header or title, for matching.

    Why: publishers vary "Talent & Experience" / "Talent and experience" / "TALENT AND
    EXPERIENCE" between editions; matching on this form keeps catalog options short.
    """
    text = text.casefold().replace("&", " and ")
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def contains_words(haystack: str, needle: str) -> bool:
    """True when `needle`'s words occur in `haystack` as whole words, in order."""
    needle_n = normalise_words(needle)
    return bool(needle_n) and f" {needle_n} " in f" {normalise_words(haystack)} "


def clean_text(text: str | None) -> str:
    """Collapse runs of whitespace (column gaps, line breaks in a cell) to single spaces."""
    return " ".join((text or "").split())


def is_missing(text: str | None) -> bool:
    """True when a cell prints no figure (empty, a dash, "n/a")."""
    return clean_text(text).casefold() in MISSING_VALUES


def parse_rank(text: str) -> tuple[int, bool]:
    """Read a printed rank and whether the publisher marked it as a tie.

    Raises ValueError for anything but an integer ≥ 1 with an optional tie marker: a rank
    that does not read cleanly means the columns were misread.
    """
    match = re.fullmatch(r"(=|T-?|#)?(\d+)(=)?\.?", clean_text(text), flags=re.IGNORECASE)
    if not match:
        raise ValueError(f"rank {text!r} is not an integer")
    rank = int(match.group(2))
    if rank < 1:
        raise ValueError(f"rank {text!r} is below 1")
    prefix = (match.group(1) or "").upper()
    return rank, prefix.startswith(("=", "T")) or bool(match.group(3))


def parse_number(text: str) -> float:
    """Read a printed number: typographic minus, thousands separators, a leading "+"."""
    cleaned = clean_text(text).replace("\u2212", "-").replace("\u2013", "-")
    if re.fullmatch(r"[+\-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?", cleaned):
        cleaned = cleaned.replace(",", "")
    if not re.fullmatch(r"[+\-]?\d+(?:\.\d+)?", cleaned):
        raise ValueError(f"{text!r} is not a number")
    return float(cleaned)


# --------------------------------------------------------------------------------------------
# Options


def merge_options(defaults: Mapping, options: Mapping | None, *, parser: str) -> dict:
    """The parser's defaults overridden by the catalog's `parser_options`, two levels deep.

    Why strict: a misspelt key in the YAML catalog would otherwise be ignored silently and the
    parser would run on defaults; an unknown key is a configuration error (ValueError).
    A per-table sub-mapping set to None switches that (optional) table off; mappings inside a
    table's options (column maps, item fields) are data and are replaced whole.
    """
    merged = {key: (dict(value) if isinstance(value, Mapping) else value) for key, value in defaults.items()}
    for key, value in (options or {}).items():
        if key not in defaults:
            raise ValueError(f"{parser}: unknown parser option {key!r}; known: {sorted(defaults)}")
        default = defaults[key]
        if isinstance(default, Mapping) and isinstance(value, Mapping):
            unknown = set(value) - set(default)
            if unknown:
                raise ValueError(f"{parser}: unknown keys {sorted(unknown)} in option {key!r}")
            merged[key] = {**default, **value}
        else:
            merged[key] = value
    return merged


# --------------------------------------------------------------------------------------------
# Document-level checks


def require_words(text: str, words: Iterable[str], source: str) -> None:
    """Refuse a document that names none of the publication's words (another index's file)."""
    words = list(words)
    if words and not any(contains_words(text, word) for word in words):
        raise WrongPublication(source, f"{words[0]} publication", f"it does not mention any of {words}")


def require_words_early(data: bytes, source: str, words: Iterable[str]) -> None:
    """`require_words` on PDFium's plain text, before the positioned-word pass.

    Why: pdfplumber reads every page's words first (12-18 s for a 24-page report of another
    index); PDFium's text pass takes a fraction of a second, so the wrong file is refused fast.
    A file PDFium cannot open is left to `read_pdf_pages`, which says what is wrong with it;
    one with too many pages is refused here (`pdf_text.MAX_PDF_PAGES`).
    """
    from .pdf_text import PdfText, TooManyPages

    try:
        with PdfText(data, source) as pdf:
            text = "\n".join(pdf.plain_text(page) for page in range(1, pdf.page_count + 1))
    except TooManyPages:
        raise
    except LayoutError:
        return
    require_words(text, words, source)


def resolve_edition(text: str, source: str, *, pattern: str | None, label_format: str, given: str | None) -> str:
    """The edition label: as printed in the document, else as the caller knows it.

    Why: the document is the better witness, but some pages do not print it. When both exist
    and disagree, the file is not the edition it was fetched as: that is refused
    (PublicationError), never resolved by picking one.
    """
    printed = find_edition(text, pattern, label_format)
    if printed is None:
        if given:
            return given
        # Reports cite each other by name (the GFCI report names Cities in Motion); one that
        # never prints this publication's dated title is most likely another publication.
        raise WrongPublication(source, "publication this parser reads", "the edition is not printed and none was given "
                                                                         "(pass --edition if it is one)")
    if given and given != printed:
        raise PublicationError(source, f"prints edition {printed!r} but was expected to be {given!r}")
    return printed


def find_edition(text: str, pattern: str | None, label_format: str) -> str | None:
    """First match of the edition pattern, formatted with its `edition` group (as in the
    catalog's discovery patterns) or else its first group that matched."""
    if not pattern:
        return None
    match = re.search(pattern, text, flags=re.IGNORECASE)
    if not match:
        return None
    named = match.groupdict().get("edition")
    value = named or next((group for group in match.groups() if group), match.group(0))
    return label_format.format(value)


def find_count(text: str, pattern: str | None) -> int | None:
    """A count the page promises ("Top 40"), to check the table against; None if not printed."""
    if not pattern:
        return None
    match = re.search(pattern, text, flags=re.IGNORECASE)
    if not match:
        return None
    digits = re.sub(r"\D", "", next((group for group in match.groups() if group), match.group(0)))
    return int(digits) if digits else None


# --------------------------------------------------------------------------------------------
# Records: one read table row, before it becomes ScoreRows


@dataclass(frozen=True)
class TableRecord:
    """One row as read: field name → printed text (None where a column or group is absent)."""

    fields: Mapping[str, str | None]
    row: int  # 1-based: <tr> under the HTML header, item among those selected, or row of the table on a PDF page
    page: int | None = None
    table: int = 0  # which matching table (HTML) or table region (PDF) it came from
    text: str | None = None  # the whole printed line or item, for error messages

    def get(self, name: str) -> str | None:
        return self.fields.get(name)


# --------------------------------------------------------------------------------------------
# HTML


def read_html(data: bytes, source: str):
    """Parse HTML bytes; refuse empty or binary input rather than returning an empty soup."""
    from bs4 import BeautifulSoup

    if not data or not data.strip():
        raise LayoutError(source, "empty file")
    if data.lstrip().startswith(b"%PDF"):
        raise LayoutError(source, "is a PDF, not an HTML page")
    if b"\x00" in data[:4096]:
        raise LayoutError(source, "binary data, not an HTML page")
    return BeautifulSoup(data, "lxml")


def extract_html_text(soup) -> str:
    """The page's visible text, one block per line (titles, headings, cells)."""
    return soup.get_text("\n")


def read_html_table(
    soup,
    source: str,
    *,
    columns: Mapping[str, str | Sequence[str]],
    required: Collection[str] = ("rank", "city"),
    table_selector: str | None = None,
    all_tables: bool = False,
) -> list[TableRecord]:
    """Records from the `<table>`(s) whose header row names the required columns.

    `columns` maps a field name to header words (one or several alternatives). A header cell
    matching the words exactly wins over one merely containing them; two cells matching the
    same field equally well is ambiguous and refused. Columns not required are read when the
    header has them. Single-cell rows (section captions, notes) and empty rows are skipped; a
    row too short for the mapped columns is an error.
    """
    records: list[TableRecord] = []
    found = list(find_matching_tables(soup, source, columns=columns, required=required, table_selector=table_selector))
    if not found:
        raise LayoutError(
            source,
            f"no table has columns for {sorted(required)} (header words {dict(columns)}); "
            f"table headers seen: {list_table_headers(soup, table_selector)[:5]}",
        )
    for number, (rows, header_index, mapping) in enumerate(found if all_tables else found[:1]):
        records.extend(read_html_rows(rows[header_index + 1 :], mapping, source, table=number))
    if not records:
        raise LayoutError(source, "the ranking table has a header but no rows")
    return records


def find_matching_tables(soup, source: str, *, columns, required, table_selector: str | None = None):
    """(rows, header row index, column map) of each table whose header has the required columns."""
    for table in soup.select(table_selector) if table_selector else soup.find_all("table"):
        rows = list_table_rows(table)
        found = find_header_row(rows, columns, required, source)
        if found is not None:
            yield rows, *found


def list_table_headers(soup, table_selector: str | None) -> list[list[str]]:
    """The first row of every table, for an error message that shows what the page has."""
    tables = soup.select(table_selector) if table_selector else soup.find_all("table")
    return [expand_cells(rows[0]) for rows in map(list_table_rows, tables) if rows]


def list_table_rows(table) -> list:
    """The table's own rows, not those of tables nested in its cells."""
    return [row for row in table.find_all("tr") if row.find_parent("table") is table]


def expand_cells(row) -> list[str]:
    """A row's cell texts, each repeated by its colspan so indices line up with the header."""
    cells: list[str] = []
    for cell in row.find_all(["td", "th"], recursive=False):
        span = str(cell.get("colspan", "1")).strip()
        cells.extend([clean_text(cell.get_text(" "))] * (int(span) if span.isdigit() and int(span) > 0 else 1))
    return cells


def find_header_row(rows, columns, required, source) -> tuple[int, dict[str, int]] | None:
    """The first row in which every required field names a column, and the column map.

    A field whose words fit several cells equally well is refused — but only in a row that
    is otherwise this table's header, so another table on the page cannot break the read.
    """
    for index, row in enumerate(rows):
        header = [normalise_words(cell) for cell in expand_cells(row)]
        candidates = {name: find_column_candidates(header, words) for name, words in columns.items()}
        if not all(candidates[name] for name in required):
            continue
        ambiguous = {name: [header[i] for i in found] for name, found in candidates.items() if len(found) > 1}
        if ambiguous:
            raise LayoutError(source, f"ambiguous columns (field: header cells): {ambiguous}", row=index + 1)
        return index, {name: found[0] for name, found in candidates.items() if found}
    return None


def find_column_candidates(header: Sequence[str], words: str | Sequence[str]) -> list[int]:
    """Cells for a field's header words, tried in order: exact cell text, then containment.

    Why in order: the catalog lists alternatives by preference ("overall score", "score"),
    so a page with both an "Overall score" and a "Score" column is not ambiguous.
    """
    wanted = [w for w in (normalise_words(word) for word in ([words] if isinstance(words, str) else words)) if w]
    for word in wanted:
        found = drop_repeated_cells(header, (i for i, cell in enumerate(header) if cell == word))
        if found:
            return found
    for word in wanted:
        found = drop_repeated_cells(header, (i for i, cell in enumerate(header) if f" {word} " in f" {cell} "))
        if found:
            return found
    return []


def drop_repeated_cells(header: Sequence[str], indices: Iterable[int]) -> list[int]:
    """Distinct matching cells in order: a colspan repeats one cell, which is still one column."""
    result: list[int] = []
    last: int | None = None
    for index in indices:
        repeated = last is not None and index == last + 1 and header[index] == header[last]
        if index not in result and not repeated:
            result.append(index)
        last = index
    return result


def read_html_rows(rows, mapping: Mapping[str, int], source: str, *, table: int) -> list[TableRecord]:
    """Records from the data rows under a header, by the column map."""
    records = []
    width = max(mapping.values()) + 1
    for number, row in enumerate(rows, start=1):
        cells = expand_cells(row)
        if not any(cells) or is_caption_row(row):
            continue
        if len(cells) < width:
            raise LayoutError(source, f"row has {len(cells)} cells, the header {width}: {cells}", row=number)
        values = {name: cells[index] for name, index in mapping.items()}
        records.append(TableRecord(values, row=number, table=table, text=" | ".join(cells)))
    return records


def is_caption_row(row) -> bool:
    """A row of a single cell: a section caption ("Bottom 10") or a source note, never data."""
    return len(row.find_all(["td", "th"], recursive=False)) == 1


def read_html_items(
    soup,
    source: str,
    *,
    item_selector: str,
    fields: Mapping[str, str] | None = None,
    pattern: str | None = None,
    start: str | None = None,
    position_ranks: bool = False,
    required: Collection[str] = ("city",),
) -> list[TableRecord]:
    """Records from repeated elements: list items ("1. Vienna (98.4)") or card blocks.

    Either `fields` (field → CSS selector inside each item) or `pattern` (a regex with named
    groups matched against the item's whole text) says how to read an item. With `start`, only
    items whose text starts that way are entries (others are prose); an entry that then does
    not match `pattern` is an error. `position_ranks` takes the rank from an `<ol>`'s numbering
    when the text does not print it.
    """
    if not fields and not pattern:
        raise ValueError("read_html_items needs fields or a pattern")
    records = []
    for number, item in enumerate(soup.select(item_selector), start=1):
        text = clean_text(item.get_text(" "))
        if start and not re.match(start, text, flags=re.IGNORECASE):
            continue
        values = read_item_fields(item, fields) if fields else match_item(text, pattern, source, number)
        if position_ranks and not values.get("rank"):
            values["rank"] = str(find_list_position(item, source, number))
        missing = [name for name in required if not values.get(name)]
        if missing:
            raise LayoutError(source, f"item lacks {missing}: {text[:80]!r}", row=number)
        records.append(TableRecord(values, row=number, text=text))
    if not records:
        raise LayoutError(source, f"no ranked items found with selector {item_selector!r}")
    return records


def read_item_fields(item, selectors: Mapping[str, str]) -> dict[str, str | None]:
    """Each field's text from the first element its selector finds inside the item."""
    values: dict[str, str | None] = {}
    for name, selector in selectors.items():
        found = item.select_one(selector)
        values[name] = clean_text(found.get_text(" ")) if found is not None else None
    return values


def match_item(text: str, pattern: str, source: str, number: int) -> dict[str, str | None]:
    """The named groups of an item's text; an entry that does not fit is an error."""
    match = re.fullmatch(pattern, text, flags=re.IGNORECASE)
    if not match:
        raise LayoutError(source, f"list entry does not match the expected layout: {text[:80]!r}", row=number)
    return dict(match.groupdict())


def find_list_position(item, source: str, number: int) -> int:
    """The number an `<ol>` shows for this `<li>` (honouring `start` and `value`).

    Only an ordered list carries ranks in its numbering: any other element is refused.
    """
    parent = item.find_parent(["ol", "ul"])
    if item.name != "li" or parent is None or parent.name != "ol":
        raise LayoutError(source, f"ranks by position need <li> items of an <ol>, not <{item.name}>", row=number)
    start = str(parent.get("start", "1")).strip()
    position = (int(start) if start.isdigit() else 1) - 1
    for sibling in parent.find_all("li", recursive=False):
        value = str(sibling.get("value", "")).strip()
        position = int(value) if value.isdigit() else position + 1
        if sibling is item:
            break
    return position


# --------------------------------------------------------------------------------------------
# PDF


@dataclass(frozen=True)
class PdfPage:
    """A page's text as lines, columns separated by two spaces and words by one."""

    number: int  # 1-based
    lines: tuple[str, ...]


@dataclass(frozen=True)
class PdfTableSpec:
    """How to find and read one table printed as text rows in a PDF.

    header_words: all must occur in one block of up to `max_header_lines` lines; the rows
      follow it. title_words: all must occur above that header on the page (tells apart
      tables with the same columns, e.g. GCI and GCO). row_start: lines that look like a row
      (and so must match row_pattern). skip_pattern: lines ignored even so (page numbers).
      end_pattern: a line that ends the table (a "Source:" line).
    """

    header_words: tuple[str, ...]
    row_pattern: str
    row_start: str = ROW_STARTS_WITH_RANK
    title_words: tuple[str, ...] = ()
    skip_pattern: str = DEFAULT_SKIP
    end_pattern: str = DEFAULT_END
    max_header_lines: int = 3

    @classmethod
    def from_options(cls, options: Mapping, *, parser: str) -> "PdfTableSpec":
        """Build from a catalog mapping (lists become tuples); unknown keys are an error."""
        known = {f.name for f in dataclass_fields(cls)}
        unknown = set(options) - known
        if unknown:
            raise ValueError(f"{parser}: unknown table option(s) {sorted(unknown)}; known: {sorted(known)}")
        defaults = {f.name: f.default for f in dataclass_fields(cls)}
        values = {
            key: tuple(value) if isinstance(value, list) else (() if value is None and defaults[key] == () else value)
            for key, value in options.items()
        }
        return cls(**values)


def read_pdf_pages(data: bytes, source: str, *, column_gap: float = 1.0) -> list[PdfPage]:
    """The PDF's pages as text lines, rebuilt from word positions.

    Why not pdfplumber's plain text: it joins cells with single spaces, so "Kuala Lumpur
    Malaysia" cannot be split into city and country. Here a gap wider than `column_gap` times
    the text height becomes two spaces, which row patterns can use as a column boundary.
    """
    import pdfplumber

    from .pdf_text import check_page_count

    if not data or not data.strip():
        raise LayoutError(source, "empty file")
    if not data.lstrip()[:5] == b"%PDF-":
        raise LayoutError(source, "not a PDF file")
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            check_page_count(len(pdf.pages), source)
            words_by_page = [page.extract_words() for page in pdf.pages]
    except LayoutError:
        raise
    except Exception as error:  # pdfminer raises many kinds (syntax, zlib, struct, key) on damaged files
        raise LayoutError(source, f"unreadable PDF ({type(error).__name__}: {error})") from error
    return [
        PdfPage(number, tuple(group_words_into_lines(words, column_gap)))
        for number, words in enumerate(words_by_page, start=1)
    ]


def group_words_into_lines(words: Sequence[Mapping], column_gap: float) -> list[str]:
    """Group positioned words into lines (by vertical overlap) and join them left to right."""
    lines: list[list[Mapping]] = []
    for word in sorted(words, key=lambda w: (round(w["top"], 1), w["x0"])):
        if lines and is_same_line(lines[-1][0], word):
            lines[-1].append(word)
        else:
            lines.append([word])
    return [join_words(sorted(line, key=lambda w: w["x0"]), column_gap) for line in lines]


def is_same_line(first: Mapping, word: Mapping) -> bool:
    """Words belong to one line when their tops differ by less than half the text height."""
    height = max(first["bottom"] - first["top"], 1.0)
    return abs(word["top"] - first["top"]) < height / 2


def join_words(words: Sequence[Mapping], column_gap: float) -> str:
    """One line's text: one space between words, two across a column gap."""
    parts = [words[0]["text"]]
    for previous, word in zip(words, words[1:]):
        height = max(word["bottom"] - word["top"], 1.0)
        parts.append("  " if word["x0"] - previous["x1"] > column_gap * height else " ")
        parts.append(word["text"])
    return "".join(parts)


def join_pdf_text(pages: Sequence[PdfPage]) -> str:
    """All pages' text, for edition and publication checks."""
    return "\n".join("\n".join(page.lines) for page in pages)


def read_pdf_table(
    pages: Sequence[PdfPage], source: str, spec: PdfTableSpec, *, required: bool = True
) -> list[TableRecord]:
    """Records of every part of the table: each page region under a matching header.

    A table continued over pages repeats its header on each page (as report tables do); every
    region found contributes, in page order. With `required`, finding no header is an error;
    otherwise the table is simply absent (an optional table such as sub-area ranks).
    """
    records: list[TableRecord] = []
    region_count = 0
    for page in pages:
        for region in find_table_regions(page.lines, spec):
            records.extend(read_region(region, page.number, spec, source, table=region_count))
            region_count += 1
    if region_count == 0 and required:
        where = f" under a title with {list(spec.title_words)}" if spec.title_words else ""
        raise LayoutError(source, f"no page has a table header with {list(spec.header_words)}{where}")
    if region_count and not records:
        raise LayoutError(source, f"the table headed {list(spec.header_words)} has no rows")
    return records


def find_table_regions(lines: Sequence[str], spec: PdfTableSpec) -> list[Sequence[str]]:
    """The lines under each matching header on a page, up to the next header or the page end."""
    regions = []
    headers = list(find_header_blocks(lines, spec))
    title_from = 0
    for index, (start, end) in enumerate(headers):
        stop = headers[index + 1][0] if index + 1 < len(headers) else len(lines)
        if has_title(lines[title_from:start], spec.title_words):
            regions.append(lines[end + 1 : stop])
        title_from = end + 1
    return regions


def find_header_blocks(lines: Sequence[str], spec: PdfTableSpec):
    """(first, last) line indices of each header block: the fewest lines holding every word."""
    index = 0
    while index < len(lines):
        end = find_header_end(lines, index, spec)
        if end is None:
            index += 1
            continue
        yield index, end
        index = end + 1


def find_header_end(lines: Sequence[str], start: int, spec: PdfTableSpec) -> int | None:
    """Last line of a header block starting at `start`, or None when none starts there."""
    if not any(has_all_words(lines[start], word) for word in spec.header_words):
        return None
    for end in range(start, min(start + spec.max_header_lines, len(lines))):
        block = " ".join(lines[start : end + 1])
        if all(has_all_words(block, word) for word in spec.header_words):
            return end
    return None


def has_all_words(text: str, phrase: str) -> bool:
    """True when each word of `phrase` occurs in `text`, in any order.

    Why not the phrase itself: PDF table headers wrap ("Business / Environment" over two
    lines), so the words of one header cell end up apart in the extracted text.
    """
    words = set(normalise_words(text).split())
    wanted = normalise_words(phrase).split()
    return bool(wanted) and all(word in words for word in wanted)


def has_title(lines: Sequence[str], title_words: Sequence[str]) -> bool:
    """True when all title words occur in the lines above a header (or none are asked for)."""
    text = " ".join(lines)
    return all(contains_words(text, word) for word in title_words)


def read_region(lines: Sequence[str], page: int, spec: PdfTableSpec, source: str, *, table: int) -> list[TableRecord]:
    """Rows of one table region; a row-like line that does not parse is an error.

    Lines that are not rows are allowed before the first row (units, sub-headings) and after
    the last (notes), but not between rows: there they mean a wrapped or split row, and reading
    past it would return a wrong city name or lose a row.
    """
    row_start = re.compile(spec.row_start, flags=re.IGNORECASE)
    row_pattern = re.compile(spec.row_pattern, flags=re.IGNORECASE)
    skip = re.compile(spec.skip_pattern, flags=re.IGNORECASE) if spec.skip_pattern else None
    end = re.compile(spec.end_pattern, flags=re.IGNORECASE) if spec.end_pattern else None
    records: list[TableRecord] = []
    stray: str | None = None
    for line in lines:
        text = line.strip()
        if not text or (skip and skip.fullmatch(text)):
            continue
        if end and end.fullmatch(text):
            break
        if not row_start.match(text):
            stray = text if records else stray
            continue
        number = len(records) + 1
        if stray is not None:
            reason = f"unexpected line {stray!r} after this row, before the next (a wrapped or split row?)"
            raise LayoutError(source, reason, page=page, row=number - 1)
        match = row_pattern.fullmatch(text)
        if not match:
            raise LayoutError(source, f"row does not match the expected layout: {text!r}", page=page, row=number)
        records.append(TableRecord(match.groupdict(), row=number, page=page, table=table, text=text))
    return records


# --------------------------------------------------------------------------------------------
# Records → ScoreRows


@dataclass(frozen=True)
class MeasureFields:
    """Which record fields hold one measure's rank and score."""

    measure: str
    rank: str | None = None
    score: str | None = None


def find_measure_fields(names: Iterable[str], main: str | None) -> list[MeasureFields]:
    """The measures a record's field names describe, by the `<measure>_rank/_score` convention."""
    names = list(names)
    found: dict[str, MeasureFields] = {}
    if main and ("rank" in names or "score" in names):
        found[main] = MeasureFields(main, "rank" if "rank" in names else None, "score" if "score" in names else None)
    for name in names:
        if name in RESERVED_FIELDS or name.startswith("note_"):
            continue
        for suffix in ("_rank", "_score"):
            if name.endswith(suffix):
                measure = name[: -len(suffix)]
                current = found.get(measure, MeasureFields(measure))
                found[measure] = replace(current, **{suffix[1:]: name})
    return list(found.values())


def build_score_rows(
    records: Sequence[TableRecord], source: str, *, edition: str, measure: str | None = "total"
) -> list[ScoreRow]:
    """ScoreRows from read records: one per city and measure that the record prints.

    The main measure (`measure`) comes from the `rank`/`score` fields and must be there;
    other measures are skipped for a city whose cells are empty. Context fields go to the note
    of the main measure's row.
    """
    rows: list[ScoreRow] = []
    for record in records:
        city = read_city(record, source)
        for spec in find_measure_fields(record.fields, measure):
            row = build_measure_row(record, spec, source, edition=edition, city=city, main=spec.measure == measure)
            if row is not None:
                rows.append(row)
    return rows


def read_city(record: TableRecord, source: str) -> str:
    """The city as printed (whitespace collapsed); empty or numeric means misread columns."""
    city = clean_text(record.get("city"))
    if not city or not re.search(r"[^\W\d_]", city):
        raise LayoutError(source, f"no city name in {record.text!r}", page=record.page, row=record.row)
    return city


def build_measure_row(
    record: TableRecord, spec: MeasureFields, source: str, *, edition: str, city: str, main: bool
) -> ScoreRow | None:
    """One measure's row for a record, or None when it prints nothing for a side measure."""
    rank_text = record.get(spec.rank) if spec.rank else None
    score_text = record.get(spec.score) if spec.score else None
    if is_missing(rank_text) and is_missing(score_text):
        if main:
            raise LayoutError(source, f"no rank or score for {city!r}", page=record.page, row=record.row)
        return None
    rank, tied = read_value(parse_rank, rank_text, record, source) if not is_missing(rank_text) else (None, False)
    score = read_value(parse_number, score_text, record, source) if not is_missing(score_text) else None
    extra = read_main_extras(record, source) if main else {}
    return ScoreRow(
        edition=edition,
        city=city,
        measure=spec.measure,
        score=score,
        rank=rank,
        rank_tied=tied,
        page=record.page,
        country=clean_text(record.get("country")) or None,
        **extra,
    )


def read_main_extras(record: TableRecord, source: str) -> dict:
    """Previous-edition figures and the note, which belong to the main measure's row."""
    extras: dict = {}
    if not is_missing(record.get("previous_rank")):
        extras["previous_rank"] = read_value(parse_rank, record.get("previous_rank"), record, source)[0]
    if not is_missing(record.get("previous_score")):
        extras["previous_score"] = read_value(parse_number, record.get("previous_score"), record, source)
    notes = [
        f"{name[len('note_'):].replace('_', ' ')} {clean_text(value)}"
        for name, value in record.fields.items()
        if name.startswith("note_") and not is_missing(value)
    ]
    if notes:
        extras["note"] = "; ".join(notes)
    return extras


def read_value(reader, text: str | None, record: TableRecord, source: str):
    """Apply a value reader, turning its ValueError into a LayoutError at the record."""
    try:
        return reader(text or "")
    except ValueError as error:
        raise LayoutError(source, f"{error} in {record.text!r}", page=record.page, row=record.row) from error


# --------------------------------------------------------------------------------------------
# Whole-table checks


def check_rank_order(rows: Sequence[ScoreRow], source: str) -> None:
    """Ranks, in print order, must run on without gaps: 1, 2, =3, =3, 5, …

    Why: a gap means a row was lost (a page without the repeated header, a line that did not
    read as a row) — exactly the partial table a parser must not return. A tie repeats the
    previous rank and the next rank skips past the tied rows (standard competition ranking).
    """
    ranked = [row for row in rows if row.rank is not None]
    if not ranked:
        return
    first = ranked[0].rank
    for position, (previous, row) in enumerate(zip(ranked, ranked[1:]), start=1):
        if row.rank != first + position and row.rank != previous.rank:
            raise LayoutError(
                source,
                f"rank {row.rank} ({row.city}) follows rank {previous.rank} ({previous.city}); "
                f"expected {first + position}: a row is missing or misread",
                page=row.page,
            )


def check_row_count(rows: Sequence[ScoreRow], expected: int | None, source: str, *, what: str) -> None:
    """A top-N table must have N rows; fewer or more means it was not read right."""
    if expected is not None and len(rows) != expected:
        raise LayoutError(source, f"{what} has {len(rows)} rows, expected {expected}")


def select_measure_rows(rows: Sequence[ScoreRow], measure: str = "total") -> list[ScoreRow]:
    """The rows of one measure, in print order."""
    return [row for row in rows if row.measure == measure]


# --------------------------------------------------------------------------------------------
# The steps every parser takes, in one place


def make_pdf_table_options(header_words: Sequence[str], row_pattern: str, **overrides) -> dict:
    """A parser's default options for one PDF table: every `PdfTableSpec` key, as lists.

    Why: catalog YAML overrides single keys of a table (e.g. only `header_words`), so the
    defaults spell out every key that may be overridden.
    """
    spec = PdfTableSpec(header_words=tuple(header_words), row_pattern=row_pattern, **overrides)
    return {f.name: (list(v) if isinstance(v := getattr(spec, f.name), tuple) else v) for f in dataclass_fields(spec)}


def open_pdf_publication(data: bytes, source: str, options: Mapping, edition: str | None) -> tuple[list[PdfPage], str]:
    """Read a PDF's pages, check it is the publication, and settle the edition label.

    Uses the options `column_gap`, `publication_words`, `edition_pattern`, `edition_format`.
    """
    require_words_early(data, source, options["publication_words"])
    pages = read_pdf_pages(data, source, column_gap=options["column_gap"])
    text = join_pdf_text(pages)
    require_words(text, options["publication_words"], source)
    label = resolve_edition(
        text, source, pattern=options["edition_pattern"], label_format=options["edition_format"], given=edition
    )
    return pages, label


def open_html_publication(data: bytes, source: str, options: Mapping, edition: str | None):
    """Parse an HTML page, check it is the publication, and settle the edition label.

    Returns the soup, its text and the label. Uses `publication_words`, `edition_pattern`,
    `edition_format`.
    """
    soup = read_html(data, source)
    text = extract_html_text(soup)
    require_words(text, options["publication_words"], source)
    label = resolve_edition(
        text, source, pattern=options["edition_pattern"], label_format=options["edition_format"], given=edition
    )
    return soup, text, label


def read_pdf_ranking(
    pages: Sequence[PdfPage],
    source: str,
    table_options: Mapping,
    *,
    edition: str,
    parser: str,
    measure: str | None = "total",
    required: bool = True,
    check_order: bool = False,
    expected_rows: int | None = None,
) -> list[ScoreRow]:
    """One PDF table as ScoreRows, checked: rank order and row count when asked.

    The checks look at the main measure's rows only (dimension columns are not in rank order).
    """
    spec = PdfTableSpec.from_options(table_options, parser=parser)
    records = read_pdf_table(pages, source, spec, required=required)
    rows = build_score_rows(records, source, edition=edition, measure=measure)
    what = f"table headed {list(spec.header_words)}"
    check_ranking(rows, source, measure=measure, check_order=check_order, expected_rows=expected_rows, what=what)
    return rows


def check_ranking(
    rows: Sequence[ScoreRow],
    source: str,
    *,
    measure: str | None,
    check_order: bool,
    expected_rows: int | None,
    what: str,
) -> None:
    """The whole-table checks a parser asked for, on the main measure's rows."""
    if not rows or measure is None:
        return
    ranked = select_measure_rows(rows, measure)
    if check_order:
        check_rank_order(ranked, source)
    check_row_count(ranked, expected_rows, source, what=what)


def parse_pdf_report(
    data: bytes,
    source: str,
    options: Mapping,
    edition: str | None,
    *,
    parser: str,
    main: str,
    extra: Mapping[str, str | None] | None = None,
) -> list[ScoreRow]:
    """A report PDF's rows: its main ranking table (required) and any optional extra tables.

    `main` and the keys of `extra` name the per-table option mappings; `extra` maps each to the
    measure its rank/score fields hold (None for tables of `<measure>_rank` columns). An extra
    table switched off (None) or not found adds nothing; one found but misread is an error.
    Rank order and row count (`check_rank_order`, `expected_rows`) apply to every ranking.
    """
    pages, label = open_pdf_publication(data, source, options, edition)
    checks = {"check_order": options["check_rank_order"], "expected_rows": options["expected_rows"]}
    rows = read_pdf_ranking(pages, source, options[main], edition=label, parser=parser, **checks)
    for key, measure in (extra or {}).items():
        if options[key]:
            rows += read_pdf_ranking(
                pages, source, options[key], edition=label, parser=parser, measure=measure, required=False, **checks
            )
    return rows


def make_html_table_options(
    columns: Mapping[str, Sequence[str]],
    *,
    required: Sequence[str] = ("rank", "city"),
    table_selector: str | None = None,
    all_tables: bool = False,
) -> dict:
    """A parser's default options for reading an HTML `<table>` (see `read_html_table`)."""
    return {
        "columns": {name: list(words) for name, words in columns.items()},
        "required": list(required),
        "table_selector": table_selector,
        "all_tables": all_tables,
    }


def make_html_items_options(
    item_selector: str,
    *,
    fields: Mapping[str, str] | None = None,
    pattern: str | None = None,
    start: str | None = None,
    position_ranks: bool = False,
    required: Sequence[str] = ("rank", "city"),
) -> dict:
    """A parser's default options for reading repeated HTML items (see `read_html_items`)."""
    return {
        "item_selector": item_selector,
        "fields": dict(fields) if fields else None,
        "pattern": pattern,
        "start": start,
        "position_ranks": position_ranks,
        "required": list(required),
    }


def read_html_layout(soup, source: str, layout: Mapping) -> list[TableRecord]:
    """Records by a table layout (it has `columns`) or an items layout (`item_selector`)."""
    if "columns" in layout:
        return read_html_table(soup, source, **layout)
    return read_html_items(soup, source, **layout)


def parse_html_ranking(
    data: bytes, source: str, options: Mapping, edition: str | None, *, layout: str
) -> list[ScoreRow]:
    """An HTML page's ranking as ScoreRows, read by the options' `layout` sub-mapping.

    The page must name the publication; the row count is checked against `expected_rows`, or
    else against the count the page prints (`count_pattern`, e.g. "Top 40") when it prints one.
    """
    soup, text, label = open_html_publication(data, source, options, edition)
    rows = build_score_rows(read_html_layout(soup, source, options[layout]), source, edition=label)
    expected = options["expected_rows"] or find_count(text, options.get("count_pattern"))
    check_ranking(
        rows, source, measure="total", check_order=options["check_rank_order"], expected_rows=expected, what="ranking"
    )
    return rows
