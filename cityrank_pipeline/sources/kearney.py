"""Kearney Global Cities Report: the top-30 tables of the Global Cities Index and Outlook.

Why one parser for two indices: the report PDF prints both as the same kind of table (rank,
city, score, sometimes a score per dimension) on different pages, told apart only by their
titles. `options["table"]` picks which one a catalog entry reads (`gci` or `gco`); each has
its own defaults under the same key. Only the top 30 is printed, so exactly 30 rows are
expected: fewer means a row or page was lost.
"""

from __future__ import annotations

from .base import ScoreRow
from .tables import merge_options, parse_pdf_report, make_pdf_table_options, build_rank_city_pattern

GCI_DIMENSIONS = (
    "business_activity",
    "human_capital",
    "information_exchange",
    "cultural_experience",
    "political_engagement",
)
GCO_DIMENSIONS = ("personal_wellbeing", "economics", "innovation", "governance")


def make_kearney_table_options(title: str, dimensions: tuple[str, ...]) -> dict:
    """One index's table: titled `title`, rank/city/score, dimension scores when printed."""
    pattern = build_rank_city_pattern(["score"], optional=[f"{name}_score" for name in dimensions])
    return make_pdf_table_options(["rank", "city", "score"], pattern, title_words=(title,))


DEFAULT_OPTIONS = {
    "table": "gci",
    # "Global Cities Index" alone is cited by other reports (GPCI 2015, GFCI 32); Kearney's own
    # report names itself.
    "publication_words": ["Global Cities Report"],
    "edition_pattern": r"\b(20\d\d)\s+Global Cities (?:Report|Index)\b|Global Cities (?:Report|Index)\s+(20\d\d)\b",
    "edition_format": "{}",
    "column_gap": 1.0,
    "gci": make_kearney_table_options("Global Cities Index", GCI_DIMENSIONS),
    "gco": make_kearney_table_options("Global Cities Outlook", GCO_DIMENSIONS),
    "check_rank_order": True,
    "expected_rows": 30,
}


def parse_kearney_report(
    data: bytes, source: str, *, edition: str | None = None, options: dict | None = None
) -> list[ScoreRow]:
    """Rows of the GCI or GCO top 30 (`options["table"]`): `total` plus dimension scores.

    Raises LayoutError when the file is not a Kearney Global Cities report, the chosen table
    is not found under its title, a row does not read, ranks have a gap or the count is not 30.
    """
    opts = merge_options(DEFAULT_OPTIONS, options, parser="parse_kearney_report")
    if opts["table"] not in ("gci", "gco"):
        raise ValueError(f"parse_kearney_report: option table must be 'gci' or 'gco', not {opts['table']!r}")
    return parse_pdf_report(data, source, opts, edition, parser="parse_kearney_report", main=opts["table"])
