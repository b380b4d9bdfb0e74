"""IESE Cities in Motion Index (CIMI): the report PDF's ranking and dimension tables.

Why the PDF: IESE publishes no data file; the report (DOI-registered, one a year) prints the
overall ranking (rank, city, country, CIMI score with the leader at 100, performance band) and
every city's rank in each of the nine dimensions. Ranking rows become `total`; dimension
columns become one measure each. The performance band is kept in the note.
"""

from __future__ import annotations

from .base import ScoreRow
from .tables import (
    NAME_TOKEN,
    NUMBER_TOKEN,
    RANK_GROUP,
    ROW_STARTS_WITH_CITY,
    build_city_pattern,
    merge_options,
    make_pdf_table_options,
    parse_pdf_report,
)

DIMENSIONS = (
    "economy",
    "human_capital",
    "social_cohesion",
    "environment",
    "governance",
    "urban_planning",
    "international_outreach",
    "technology",
    "mobility_transportation",
)

# City and country are both free text, so they are told apart by the column gap (two or
# more spaces in the extracted line), which `tables.read_pdf_pages` keeps.
RANKING_PATTERN = (
    RANK_GROUP
    + rf"\s+(?P<city>{NAME_TOKEN})\s{{2,}}(?P<country>{NAME_TOKEN})\s{{2,}}"
    + rf"(?P<score>{NUMBER_TOKEN})(?:\s{{2,}}(?P<note_performance>\D.*))?"
)

DEFAULT_OPTIONS = {
    "publication_words": ["Cities in Motion"],
    "edition_pattern": r"Cities in Motion(?: Index)?\s+(20\d\d)\b",
    "edition_format": "{}",
    "column_gap": 1.0,
    "ranking": make_pdf_table_options(["ranking", "city", "country", "cimi"], RANKING_PATTERN),
    # Optional: absent → no dimension rows. None switches it off.
    "dimensions": make_pdf_table_options(
        ["city", "economy", "human capital", "social cohesion"],
        build_city_pattern([f"{dimension}_rank" for dimension in DIMENSIONS]),
        row_start=ROW_STARTS_WITH_CITY,
    ),
    "check_rank_order": True,
    "expected_rows": None,
}


def parse_cimi_report(
    data: bytes, source: str, *, edition: str | None = None, options: dict | None = None
) -> list[ScoreRow]:
    """Rows for every city in a CIMI report: `total` (score and rank) and dimension ranks.

    Raises LayoutError when the file is not a CIMI report, the ranking table is not found, a
    row does not read (e.g. a city wrapped onto two lines), or the ranks have a gap.
    """
    opts = merge_options(DEFAULT_OPTIONS, options, parser="parse_cimi_report")
    return parse_pdf_report(
        data, source, opts, edition, parser="parse_cimi_report", main="ranking", extra={"dimensions": None}
    )
