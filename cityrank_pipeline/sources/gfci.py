"""Z/Yen Global Financial Centres Index (GFCI): the report PDF's ranking tables.

Why a PDF parser: the report (about 60 pages, published each March and September) is the only
place with the full table of every centre's rank and rating; press releases give a top 10.
The ranking table prints rank, centre, rating (1,000-point scale) and the change in rank and
rating since the previous edition; the changes are kept as a note, not as measures. When the
report also prints each centre's ranks in the five areas of competitiveness, those become the
sub-area measures.
"""

from __future__ import annotations

from .base import ScoreRow
from .tables import (
    ROW_STARTS_WITH_CITY,
    build_city_pattern,
    merge_options,
    make_pdf_table_options,
    build_rank_city_pattern,
    parse_pdf_report,
)

SUBAREA_MEASURES = (
    "business_environment",
    "human_capital",
    "infrastructure",
    "financial_sector_development",
    "reputational_general",
)

# Change columns print "+3", "-2", "0" or "New" for a centre new to the index.
CHANGE = r"[+\-\u2212]?\d+|new|-"

DEFAULT_OPTIONS = {
    "publication_words": ["Global Financial Centres Index"],
    # The cover and running heads print "Global Financial Centres Index 38" / "GFCI 38"; the
    # first in the document is this edition (later pages also name the previous one).
    "edition_pattern": r"Global Financial Centres Index\s+(\d{1,3})\b|\bGFCI\s?(\d{1,3})\b",
    "edition_format": "GFCI {}",
    "column_gap": 1.0,
    "ranking": make_pdf_table_options(
        ["rank", "centre", "rating"],
        build_rank_city_pattern(["score"])
        + rf"(?:\s+(?P<note_rank_change>{CHANGE})\s+(?P<note_rating_change>{CHANGE}))?",
    ),
    # Optional: absent from the report → no sub-area rows. None switches it off.
    "subareas": make_pdf_table_options(
        ["business environment", "human capital", "reputational"],
        build_city_pattern([f"{measure}_rank" for measure in SUBAREA_MEASURES]),
        row_start=ROW_STARTS_WITH_CITY,
    ),
    "check_rank_order": True,
    "expected_rows": None,
}


def parse_gfci_report(
    data: bytes, source: str, *, edition: str | None = None, options: dict | None = None
) -> list[ScoreRow]:
    """Rows for every centre in a GFCI report: `total` (rating and rank) and sub-area ranks.

    Raises LayoutError when the file is not a GFCI report, the ranking table is not found, a
    row does not read, or the ranks have a gap (a lost row).
    """
    opts = merge_options(DEFAULT_OPTIONS, options, parser="parse_gfci_report")
    return parse_pdf_report(
        data, source, opts, edition, parser="parse_gfci_report", main="ranking", extra={"subareas": None}
    )
