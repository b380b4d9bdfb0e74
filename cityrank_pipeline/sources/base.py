"""The contract every publication parser fulfils.

A parser turns the bytes of one publication into `ScoreRow`s: one row per city and measure,
with names exactly as printed (harmonising them is a later, separate stage). When the bytes
are not a layout the parser knows, it raises `LayoutError` naming the file and, where it
helps, the page or row: a parser never returns a partial or guessed result.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class ScoreRow:
    """One published figure: a city's score and/or rank on one measure of one edition."""

    edition: str
    city: str
    measure: str
    score: float | None
    rank: int | None
    # True when the publisher printed a tie ("=2", "T-5"); such ranks repeat by design.
    rank_tied: bool = False
    # 1-based page of the source document the figure was read from (None for HTML/CSV).
    page: int | None = None
    country: str | None = None
    # reported | derived | disputed | low — how sure the source is of the figure.
    confidence: str = "reported"
    note: str | None = None
    # Where a single file compiles figures from many sources (the curated CSV).
    source_url: str | None = None
    # Figures the publication prints for the previous edition (GPCI does), for cross-checks.
    previous_rank: int | None = None
    previous_score: float | None = None
    # Release month (YYYY-MM) or date (YYYY-MM-DD) where the publication states it.
    published: str | None = None
    # True when cityrank computed the figure instead of reading it from the file (a GPCI
    # function score rebuilt from its indicators, a rank among the edition's cities).
    score_computed: bool = False
    rank_computed: bool = False
    # The measure's name exactly as this edition prints it ("GDP per Capita"), and its printed
    # number, where the file names measures itself: what methodology-change reports compare.
    measure_printed: str | None = None
    measure_number: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


SCORE_ROW_COLUMNS = [f.name for f in fields(ScoreRow)]


class PublicationError(Exception):
    """A publication could not be turned into rows. The message names the file."""

    def __init__(self, source: str, reason: str, *, page: int | None = None, row: int | None = None):
        self.source = source
        self.reason = reason
        self.page = page
        self.row = row
        where = [source]
        if page is not None:
            where.append(f"page {page}")
        if row is not None:
            where.append(f"row {row}")
        super().__init__(f"{': '.join(where)}: {reason}")


class LayoutError(PublicationError):
    """The file is not (or no longer) a layout this parser knows. Never guess past it."""


class WrongPublication(LayoutError):
    """The file is another publication altogether (another index's report, a stray page): the
    parser found none of its publisher's titles or captions. `registry.parse_publication`
    words it as "this is not a <CODE> publication", which says what to do (pick the right
    --index) where "the edition is not printed" would send the reader hunting in the file."""

    def __init__(self, source: str, what: str, evidence: str, *, page: int | None = None):
        self.what = what
        self.evidence = evidence
        super().__init__(source, f"this is not a {what}: {evidence}", page=page)
