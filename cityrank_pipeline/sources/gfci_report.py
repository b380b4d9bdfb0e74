"""Z/Yen Global Financial Centres Index (GFCI): the full report PDF, as Z/Yen publishes it.

Built on the real GFCI 32 report (September 2022, 64 pages). The report prints its tables
under captions "Table N | GFCI 32 <title>", and a table that runs over a page repeats its
header under "Table N (continued) | …". The parser finds four tables by their caption
titles, never by page or table number (other editions paginate and number differently):

* the ranking, "… Ranks And Ratings" (Table 1, over two pages): per centre, rank and rating
  in this edition and in the previous one (kept as `previous_rank`/`previous_score` on the
  `total` rows; empty for a centre new to the index), then the change in each;
* "… Top 15 Centres By Area Of Competitiveness": a grid, one column per area, a centre's
  name per rank (ranks only: the report prints no area ratings);
* "… Industry Sector Sub-Indices — Top Fifteen": the same grid, one column per sector;
* "… FinTech Ranks And Ratings": like the ranking, for the centres rated on FinTech.

How: PDFium's plain text of every page (about 0.2 s for the 64 pages) is scanned for the
captions; only the pages holding the four tables are then read as positioned lines
(`pdf_text`), because the plain text follows the content stream, which here puts a caption
after the table it heads. Columns are told apart by where the header prints them.

What is checked, so that a report of another layout is refused rather than misread: every
caption is found once and stands right above its table's header; the headers print exactly
the columns below; the edition in the captions agrees with the running head; a continued
table goes on from the rank it stopped at; ranks run 1..N (a printed tie, "=5" or a repeated
rank, shares its number and is marked `rank_tied`) and ratings never rise down a ranking;
the printed changes agree with the two editions' figures; every FinTech centre is in the
ranking; the ranking is as long as the number of centres the report says the main index
has (and as the catalog's `city_count` option, when given); a top-15 grid has 15 rows.
Any failure is a `LayoutError` naming the table and the page.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace

from .base import LayoutError, PublicationError, ScoreRow, WrongPublication
from .pdf_text import PdfText, TextCell, TextLine
from .tables import normalise_words, parse_rank

AREA_COLUMNS = {
    "business environment": "business_environment",
    "human capital": "human_capital",
    "infrastructure": "infrastructure",
    "financial sector development": "financial_sector_development",
    "reputational and general": "reputational_general",
}
SECTOR_COLUMNS = {
    "banking": "banking",
    "investment management": "investment_management",
    "insurance": "insurance",
    "professional services": "professional_services",
    "government and regulatory": "government_regulatory",
    "finance": "finance",
    "fintech": "fintech_sector",
    "trading": "trading",
}
SUBAREA_MEASURES = tuple(AREA_COLUMNS.values())
SECTOR_MEASURES = tuple(SECTOR_COLUMNS.values())
FINTECH_MEASURE = "fintech"

OPTIONS = frozenset({"city_count"})

_CAPTION = re.compile(r"^\s*Table\s+(?P<number>\d+)\s*(?P<continued>\(continued\))?\s*\|\s*(?P<title>.*?)\s*$", re.I | re.M)
_RUNNING_HEAD = re.compile(r"Global Financial Centres Index\s+(\d{1,3})\b")
_EDITION_IN_TITLE = re.compile(r"\bGFCI\s+(\d{1,3})\b")
_RANK_CELL = re.compile(r"^(?:=|T-?)?\d{1,4}=?$", re.I)
_INTEGER = re.compile(r"^\d{1,4}$")
# "▲3", "▼12", "0"; "New" or a dash for a centre without a previous figure.
_CHANGE = re.compile(r"^(?P<sign>[▲▼+\-\u2212]?)\s*(?P<value>\d+)$")
# "The number of financial centres in the main index has remained at 119."
_MAIN_INDEX_SIZE = re.compile(r"centres in the main index\b[^.\d]{0,40}?(\d{2,3})\b", re.I)
_WORD_NUMBERS = {"ten": 10, "fifteen": 15, "twenty": 20}
_TOP_N = re.compile(r"\btop\s+(\d+|ten|fifteen|twenty)\b", re.I)
_MAX_HEADER_LINES = 5


@dataclass(frozen=True)
class TableKind:
    """One of the tables the parser reads: how its caption title reads and its shape."""

    key: str
    description: str
    title: re.Pattern
    grid: dict[str, str] | None = None  # header label → measure, for top-N grids


TABLES = (
    TableKind("ranking", "the GFCI ranks and ratings", re.compile(r"^gfci \d+ (?:top )?ranks and ratings$")),
    TableKind("areas", "the top centres by area of competitiveness",
              re.compile(r"^gfci \d+ top \w+ centres by areas? of competitiveness$"), grid=AREA_COLUMNS),
    TableKind("sectors", "the industry sector sub-indices",
              re.compile(r"^gfci \d+ industry sector sub indices\b.*$"), grid=SECTOR_COLUMNS),
    TableKind("fintech", "the FinTech ranks and ratings", re.compile(r"^gfci \d+ fintech ranks and ratings$")),
)


@dataclass(frozen=True)
class Caption:
    page: int
    number: int
    continued: bool
    title: str

    def label(self) -> str:
        return f"Table {self.number}{' (continued)' if self.continued else ''}"


@dataclass(frozen=True)
class ListedRow:
    """One row of a ranking-style table: a centre's figures in this edition and the last."""

    city: str
    rank: int
    tied: bool
    rating: float
    previous_rank: int | None
    previous_rating: float | None
    page: int


@dataclass(frozen=True)
class GridRow:
    rank: int
    tied: bool
    cities: dict[str, str]  # measure → centre, for the columns printing one
    page: int


def parse_gfci_report(
    data: bytes, source: str, *, edition: str | None = None, options: dict | None = None
) -> list[ScoreRow]:
    """Every figure of the four tables of a GFCI report: `total` and `fintech` ranks and
    ratings (with the previous edition's), and the ranks of the area and sector top 15s.

    `edition`, when given, must be the edition the report prints ("GFCI 32"). `options` may
    hold `city_count`, the number of centres the edition ranks.
    """
    options = dict(options or {})
    unknown = set(options) - OPTIONS
    if unknown:
        raise ValueError(f"parse_gfci_report: unknown option(s) {sorted(unknown)}; known: {sorted(OPTIONS)}")
    with PdfText(data, source) as pdf:
        report = _Report(pdf, source)
        number = report.edition_number(edition)
        ranking = report.read_listed(TABLES[0], number)
        areas = report.read_grid(TABLES[1], number)
        sectors = report.read_grid(TABLES[2], number)
        fintech = report.read_listed(TABLES[3], number)
        main_index_size = report.main_index_size()
    label = f"GFCI {number}"
    _check_ranking_size(ranking, fintech, main_index_size, options.get("city_count"), source)
    rows = [_listed_score_row(label, row, "total") for row in ranking]
    rows += _grid_score_rows(label, areas, AREA_COLUMNS)
    rows += _grid_score_rows(label, sectors, SECTOR_COLUMNS)
    rows += [_listed_score_row(label, row, FINTECH_MEASURE) for row in fintech]
    return rows


class _Report:
    def __init__(self, pdf: PdfText, source: str):
        self.pdf = pdf
        self.source = source
        self.texts = [pdf.plain_text(page) for page in range(1, pdf.page_count + 1)]
        if not any(_RUNNING_HEAD.search(text) for text in self.texts):
            raise WrongPublication(source, "GFCI report", "'Global Financial Centres Index <n>' is printed nowhere")
        self.captions = [
            Caption(page, int(m["number"]), bool(m["continued"]), " ".join(normalise_words(m["title"]).split()))
            for page, text in enumerate(self.texts, start=1)
            for m in _CAPTION.finditer(text)
        ]

    # ----------------------------------------------------------------------- the edition

    def edition_number(self, given: str | None) -> int:
        """The edition the running heads print; the captions must agree with it."""
        heads = Counter(m.group(1) for text in self.texts for m in _RUNNING_HEAD.finditer(text))
        (printed, _count), *_ = heads.most_common()
        label = f"GFCI {printed}"
        if given and given != label:
            raise PublicationError(self.source, f"prints edition {label!r} but was expected to be {given!r}")
        return int(printed)

    def main_index_size(self) -> int | None:
        """How many centres the summary says the main index has, where it says so."""
        for text in self.texts[:12]:
            match = _MAIN_INDEX_SIZE.search(" ".join(text.split()))
            if match:
                return int(match.group(1))
        return None

    # ----------------------------------------------------------------------- captions

    def first_caption(self, kind: TableKind, edition: int) -> Caption:
        found = [c for c in self.captions if not c.continued and kind.title.match(c.title)]
        if not found:
            raise LayoutError(self.source, self._missing_caption_reason(kind))
        if len(found) > 1:
            pages = ", ".join(str(c.page) for c in found)
            raise LayoutError(self.source, f"{kind.description}: captions of Table {found[0].number} on pages {pages}; expected one",
                              page=found[1].page)
        caption = found[0]
        printed = _EDITION_IN_TITLE.search(caption.title.upper())
        if printed is None or int(printed.group(1)) != edition:
            raise LayoutError(self.source, f"{caption.label()} ({kind.description}) is captioned for another edition "
                              f"than GFCI {edition}: {caption.title!r}", page=caption.page)
        return caption

    def continuation(self, caption: Caption) -> Caption | None:
        page = caption.page + 1
        return next((c for c in self.captions if c.page == page and c.continued and c.number == caption.number), None)

    def _missing_caption_reason(self, kind: TableKind) -> str:
        header = re.compile(r"^\s*Rank\s+Rating\s+Rank\s+Rating", re.I | re.M) if kind.grid is None else None
        words = list(kind.grid)[:3] if kind.grid else []
        pages = [
            page for page, text in enumerate(self.texts, start=1)
            if (header.search(text) if header else all(w in normalise_words(text) for w in words))
        ]
        where = f"; pages {', '.join(map(str, pages))} print a header like it without that caption" if pages else ""
        return f"no caption 'Table N | GFCI <n> …' for {kind.description} on any page{where}"

    # ----------------------------------------------------------------------- reading

    def read_listed(self, kind: TableKind, edition: int) -> list[ListedRow]:
        """A ranking-style table over its caption's page and each continued page."""
        caption = self.first_caption(kind, edition)
        rows: list[ListedRow] = []
        while caption is not None:
            table = _TablePage(self, kind, caption)
            part = table.read_listed(edition)
            if rows and part and part[0].rank not in (rows[-1].rank, rows[-1].rank + 1):
                table.fail(f"goes on at rank {part[0].rank} after rank {rows[-1].rank} on page {rows[-1].page}: "
                           "the continued table is cut short")
            rows += part
            following = self.continuation(caption)
            if following is None:
                self._refuse_uncaptioned_continuation(kind, caption)
            caption = following
        _check_listed(rows, kind, self.source)
        tied = _tied_ranks([row.rank for row in rows], [row.tied for row in rows])
        return [replace(row, tied=mark) for row, mark in zip(rows, tied)]

    def read_grid(self, kind: TableKind, edition: int) -> list[GridRow]:
        caption = self.first_caption(kind, edition)
        rows = _TablePage(self, kind, caption).read_grid()
        expected = _top_n(caption.title)
        if expected is not None and len(rows) != expected:
            raise LayoutError(self.source, f"{caption.label()} ({kind.description}) has {len(rows)} rows, "
                              f"its caption promises the top {expected}", page=caption.page)
        return rows

    def _refuse_uncaptioned_continuation(self, kind: TableKind, caption: Caption) -> None:
        """The page after a table's last part must not carry on its rows under a bare header."""
        page = caption.page + 1
        if page > self.pdf.page_count or not re.search(r"^\s*Rank\s+Rating\b", self.texts[page - 1], re.I | re.M):
            return
        if any(c.page == page and not c.continued for c in self.captions):
            return  # another table, under its own caption
        raise LayoutError(self.source, f"Table {caption.number} ({kind.description}) goes on on page {page} "
                          f"without a 'Table {caption.number} (continued)' caption", page=page)


class _TablePage:
    """The part of one table printed on one page: caption, header, rows."""

    def __init__(self, report: _Report, kind: TableKind, caption: Caption):
        self.report = report
        self.kind = kind
        self.caption = caption
        self.lines = report.pdf.lines(caption.page)
        self.caption_index = self._caption_line()
        self.header, self.body = self._split_header()

    def fail(self, reason: str):
        raise LayoutError(self.report.source, f"{self.caption.label()} ({self.kind.description}): {reason}",
                          page=self.caption.page)

    def _caption_line(self) -> int:
        wanted = f"table {self.caption.number}"
        for index, line in enumerate(self.lines):
            text = normalise_words(line.text)
            if text.startswith(wanted + " ") and normalise_words(self.caption.title) in text:
                return index
        self.fail("its caption is not printed as one line")

    def _split_header(self) -> tuple[list[TextLine], list[TextLine]]:
        """Header lines right under the caption (no number cell in them), then the rest."""
        below = self.lines[self.caption_index + 1:]
        for count, line in enumerate(below):
            if any(_RANK_CELL.match(cell.text) for cell in line.cells):
                if count == 0:
                    self.fail("no header right under the caption (caption out of place?)")
                if count > _MAX_HEADER_LINES:
                    self.fail("the caption does not stand right above the table's header (caption out of place?)")
                return below[:count], below[count:]
        self.fail("no table rows under the caption (caption out of place?)")

    # ----------------------------------------------------------------------- ranking tables

    def read_listed(self, edition: int) -> list[ListedRow]:
        columns = self._listed_columns(edition)
        rows: list[ListedRow] = []
        for line in self.body:
            row = self._listed_row(line, columns)
            if row is None:
                break
            rows.append(row)
        if not rows:
            self.fail(f"the first line under the header does not read as a row: {self.body[0].text!r}")
        for line in self.body[len(rows) + 1:]:
            if self._looks_like_listed_row(line, columns):
                self.fail(f"a row stands apart from the table, below its end: {line.text!r}")
        return rows

    def _listed_columns(self, edition: int) -> list[TextCell]:
        """The six figure columns, checked against the header: this edition's rank and rating,
        the previous edition's, and the two changes, with 'Centre' to their left."""
        cells = [cell for line in self.header for cell in line.cells]
        labels = sorted((c for c in cells if normalise_words(c.text).split()[-1:] in (["rank"], ["rating"])),
                        key=lambda c: c.x0)
        kinds = [normalise_words(c.text).split()[-1] for c in labels]
        header = " / ".join(line.text for line in self.header)
        if kinds != ["rank", "rating"] * 3:
            self.fail(f"header does not print rank and rating for two editions and their change: {header!r}")
        groups = {normalise_words(c.text): c for c in cells}
        expected = {f"gfci {edition}": (0, 1), f"gfci {edition - 1}": (2, 3)}
        for name, (first, second) in expected.items():
            group = groups.get(name)
            if group is None or not labels[first].x0 <= group.centre <= labels[second].x1:
                self.fail(f"header does not print {name.upper()!r} over its rank and rating: {header!r}")
        for label in labels[4:]:
            above = [c for c in cells if "change" in normalise_words(c.text).split() and _overlaps(c, label)]
            if not above:
                self.fail(f"header does not print 'Change In' over its {normalise_words(label.text)!r} column: {header!r}")
        centre = [c for c in cells if normalise_words(c.text) == "centre"]
        if len(centre) != 1 or centre[0].x1 >= labels[0].x0:
            self.fail(f"header does not print 'Centre' left of the figures: {header!r}")
        return labels

    def _listed_row(self, line: TextLine, columns: list[TextCell]) -> ListedRow | None:
        """A row's cells by column; None for a line that is not a row (the table's end)."""
        name = [c for c in line.cells if c.x1 < columns[0].x0]
        figures = _assign_cells([c for c in line.cells if c.x1 >= columns[0].x0], columns)
        if not name or figures is None or figures[0] is None or figures[1] is None:
            return None
        texts = [cell.text if cell else "" for cell in figures]
        try:
            rank, tied = parse_rank(texts[0])
        except ValueError:
            return None
        if not _INTEGER.match(texts[1]):
            self.fail(f"rating {texts[1]!r} of {line.text!r} is not a whole number")
        rating = float(texts[1])
        previous_rank = previous_rating = None
        if _INTEGER.match(texts[2]) and _INTEGER.match(texts[3]):
            previous_rank, previous_rating = int(texts[2]), float(texts[3])
        elif texts[2].strip() or texts[3].strip():
            if not re.fullmatch(r"(?:new|-|\u2013)?", normalise_words(texts[2] + texts[3]) or "-"):
                self.fail(f"previous edition's figures {texts[2]!r} {texts[3]!r} do not read: {line.text!r}")
        city = " ".join(cell.text for cell in name)
        row = ListedRow(city, rank, tied, rating, previous_rank, previous_rating, self.caption.page)
        self._check_changes(row, texts[4], texts[5], line)
        return row

    def _check_changes(self, row: ListedRow, rank_change: str, rating_change: str, line: TextLine) -> None:
        """The printed changes must be what the two editions' figures give: a misread column
        shows here first."""
        if row.previous_rank is None:
            return
        for printed, expected in ((rank_change, row.previous_rank - row.rank),
                                  (rating_change, row.rating - row.previous_rating)):
            match = _CHANGE.match(printed.replace(" ", ""))
            if match is None:
                self.fail(f"change {printed!r} does not read: {line.text!r}")
            value = int(match["value"]) * (-1 if match["sign"] in ("▼", "-", "\u2212") else 1)
            if value != expected:
                self.fail(f"printed change {printed!r} disagrees with the figures ({expected:+g}): {line.text!r}")

    def _looks_like_listed_row(self, line: TextLine, columns: list[TextCell]) -> bool:
        figures = _assign_cells([c for c in line.cells if c.x1 >= columns[0].x0], columns)
        return bool(figures) and sum(1 for cell in figures if cell and _RANK_CELL.match(cell.text)) >= 2

    # ----------------------------------------------------------------------- top-N grids

    def read_grid(self) -> list[GridRow]:
        rank_column, columns = self._grid_columns()
        rows: list[GridRow] = []
        for line in self.body:
            first = line.cells[0]
            if not _RANK_CELL.match(first.text) or not _overlaps(first, rank_column):
                break
            cells = _assign_cells(list(line.cells[1:]), [cell for cell, _ in columns])
            if cells is None:
                self.fail(f"row {first.text} does not fit the header's columns: {line.text!r}")
            rank, tied = parse_rank(first.text)
            cities = {measure: cell.text.strip() for cell, (_, measure) in zip(cells, columns) if cell}
            if not cities:
                self.fail(f"row {first.text} names no centre: {line.text!r}")
            rows.append(GridRow(rank, tied, cities, self.caption.page))
        _check_ranks([row.rank for row in rows], self.caption, self.kind, self.report.source)
        for _, measure in columns:
            named = [row.cities[measure] for row in rows if measure in row.cities]
            repeated = sorted(city for city, count in Counter(named).items() if count > 1)
            if repeated:
                self.fail(f"column {measure} names {', '.join(repeated)} more than once")
        return rows

    def _grid_columns(self) -> tuple[TextCell, list[tuple[TextCell, str]]]:
        """The 'Rank' column and each labelled column, its header cells stacked over lines."""
        stacks: list[list[tuple[float, TextCell]]] = []
        placed = sorted(((line.top, c) for line in self.header for c in line.cells), key=lambda p: p[1].x0)
        for top, cell in placed:
            stack = next((s for s in stacks if any(_overlaps(cell, other) for _, other in s)), None)
            if stack is None:
                stacks.append([(top, cell)])
            else:
                stack.append((top, cell))
        merged = []
        for stack in sorted(stacks, key=lambda s: min(c.x0 for _, c in s)):
            cells = [c for _, c in sorted(stack, key=lambda p: p[0])]  # a label's lines, top to bottom
            merged.append(TextCell(" ".join(c.text for c in cells), min(c.x0 for c in cells), max(c.x1 for c in cells)))
        labels = [normalise_words(cell.text) for cell in merged]
        header = " | ".join(cell.text for cell in merged)
        if not labels or labels[0] != "rank":
            self.fail(f"header does not start with 'Rank': {header!r}")
        unknown = [label for label in labels[1:] if label not in self.kind.grid]
        missing = [label for label in self.kind.grid if label not in labels[1:]]
        if unknown or missing or len(labels) != len(set(labels)):
            self.fail(f"header columns are not {list(self.kind.grid)}: {header!r}")
        return merged[0], [(cell, self.kind.grid[label]) for cell, label in zip(merged[1:], labels[1:])]


def _overlaps(a: TextCell, b: TextCell) -> bool:
    return a.x0 <= b.x1 and b.x0 <= a.x1


def _assign_cells(cells: list[TextCell], columns: list[TextCell]) -> list[TextCell | None] | None:
    """Each cell in the column whose centre is nearest its own; None when a cell lies outside
    every column or two cells claim one column (the row does not fit the header)."""
    assigned: list[TextCell | None] = [None] * len(columns)
    for cell in cells:
        distances = [abs(cell.centre - column.centre) for column in columns]
        best = min(range(len(columns)), key=distances.__getitem__)
        reach = max(columns[best].x1 - columns[best].x0, cell.x1 - cell.x0) / 2 + 6
        if distances[best] > reach or assigned[best] is not None:
            return None
        assigned[best] = cell
    return assigned


def _top_n(title: str) -> int | None:
    match = _TOP_N.search(title)
    if match is None:
        return None
    word = match.group(1).lower()
    return int(word) if word.isdigit() else _WORD_NUMBERS[word]


def _check_ranks(ranks: list[int], caption: Caption, kind: TableKind, source: str) -> None:
    """Competition ranking: 1, 2, =3, =3, 5 … A repeated rank is a tie; a gap is a lost row."""
    for position, rank in enumerate(ranks, start=1):
        previous = ranks[position - 2] if position > 1 else None
        if rank != position and rank != previous:
            raise LayoutError(source, f"{caption.label()} ({kind.description}): rank {rank} where {position} "
                              f"was expected: a row is missing or misread", page=caption.page)


def _tied_ranks(ranks: list[int], printed: list[bool]) -> list[bool]:
    counts = Counter(ranks)
    return [mark or counts[rank] > 1 for rank, mark in zip(ranks, printed)]


def _check_listed(rows: list[ListedRow], kind: TableKind, source: str) -> None:
    def fail(reason: str, page: int):
        raise LayoutError(source, f"{kind.description}: {reason}", page=page)

    for position, row in enumerate(rows, start=1):
        previous = rows[position - 2] if position > 1 else None
        if row.rank != position and (previous is None or row.rank != previous.rank):
            fail(f"rank {row.rank} ({row.city}) where {position} was expected: a row is missing or misread", row.page)
        if previous is not None and row.rating > previous.rating:
            fail(f"{row.city}'s rating {row.rating:g} is above {previous.city}'s {previous.rating:g}, ranked before it", row.page)
        if previous is not None and row.rank == previous.rank and row.rating != previous.rating:
            fail(f"{previous.city} and {row.city} share rank {row.rank} with different ratings", row.page)
    repeated = sorted(city for city, count in Counter(row.city for row in rows).items() if count > 1)
    if repeated:
        fail(f"lists {', '.join(repeated)} more than once", rows[0].page)


def _check_ranking_size(ranking: list[ListedRow], fintech: list[ListedRow], main_index_size: int | None,
                        city_count, source: str) -> None:
    """A ranking cut short still reads as ranks 1..N: its length is checked against what the
    report says elsewhere."""
    last = ranking[-1]
    where = f"the GFCI ranks and ratings end at rank {last.rank} ({last.city})"
    if main_index_size is not None and len(ranking) != main_index_size:
        raise LayoutError(source, f"{where}, but the report says the main index has {main_index_size} centres: "
                          "the table is cut short", page=last.page)
    if city_count is not None and len(ranking) != int(city_count):
        raise LayoutError(source, f"{where}, but the edition ranks {city_count} centres", page=last.page)
    listed = {row.city for row in ranking}
    absent = [row.city for row in fintech if row.city not in listed]
    if absent:
        raise LayoutError(source, f"{where}, and lacks {', '.join(absent)}, rated in the FinTech table: "
                          "the table is cut short", page=last.page)


def _listed_score_row(edition: str, row: ListedRow, measure: str) -> ScoreRow:
    return ScoreRow(edition=edition, city=row.city, measure=measure, score=row.rating, rank=row.rank,
                    rank_tied=row.tied, page=row.page, previous_rank=row.previous_rank,
                    previous_score=row.previous_rating)


def _grid_score_rows(edition: str, rows: list[GridRow], columns: dict[str, str]) -> list[ScoreRow]:
    out: list[ScoreRow] = []
    for measure in columns.values():
        ranked = [row for row in rows if measure in row.cities]
        tied = _tied_ranks([row.rank for row in ranked], [row.tied for row in ranked])
        out += [ScoreRow(edition=edition, city=row.cities[measure], measure=measure, score=None, rank=row.rank,
                         rank_tied=mark, page=row.page) for row, mark in zip(ranked, tied)]
    return out
