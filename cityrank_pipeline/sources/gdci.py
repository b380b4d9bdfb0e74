"""Mastercard Global Destination Cities Index (GDCI): the report PDF's top-20 tables.

Why: the report (annual to 2019, apparently discontinued since) ranks cities by international
overnight visitors — the index's headline figure, read as `total` in millions — and, in a
second top-20 table, by those visitors' cross-border spend (US$ billions), read as
`visitor_spend` with its own rank. Any growth forecast printed beside the visitors is kept in
the note. Both tables are top 20, so 20 rows each are expected.
"""

from __future__ import annotations

from .base import ScoreRow
from .tables import merge_options, parse_pdf_report, make_pdf_table_options, build_rank_city_pattern

DEFAULT_OPTIONS = {
    "publication_words": ["Global Destination Cities"],
    "edition_pattern": r"Global Destination Cities Index\s+(20\d\d)\b",
    "edition_format": "{}",
    "column_gap": 1.0,
    "visitors": make_pdf_table_options(
        ["rank", "city", "visitors"], build_rank_city_pattern(["score"], optional=["note_growth_forecast"])
    ),
    # Optional: absent → no visitor_spend rows. None switches it off.
    "spend": make_pdf_table_options(["rank", "city", "spend"], build_rank_city_pattern(["score"])),
    "check_rank_order": True,
    "expected_rows": 20,
}


def parse_gdci_report(
    data: bytes, source: str, *, edition: str | None = None, options: dict | None = None
) -> list[ScoreRow]:
    """Rows of a GDCI report: `total` (visitors, millions) and `visitor_spend` (US$ bn).

    Raises LayoutError when the file is not a GDCI report, the visitors table is not found, a
    row does not read, ranks have a gap or a table does not have `expected_rows` rows.
    """
    opts = merge_options(DEFAULT_OPTIONS, options, parser="parse_gdci_report")
    return parse_pdf_report(
        data, source, opts, edition, parser="parse_gdci_report", main="visitors", extra={"spend": "visitor_spend"}
    )
