"""Press-release and free-summary top lists: Mercer Quality of Living and EIU Liveability.

Why one parser for two publishers: neither publishes its full table for free; what is public
is a short list of the top (and for the EIU bottom) cities, printed as an HTML table, as an
HTML list ("1. Vienna (98.4)", "3= Munich") or as tables in a summary PDF. The shapes are the
same for both publishers, so the catalog entry's options only set what differs.

Layouts: `auto` (default) reads the ranking table when the page has one and the list items
otherwise; `table` and `list` force one. PDF bytes are read with the `pdf` table options.
Every matching table is read (top 10 and bottom 10). Ranks are not required to run 1, 2, 3…
here, since such pages list excerpts ("Seoul 77th"); set `check_rank_order` for a full list.
"""

from __future__ import annotations

from .base import ScoreRow
from .tables import (
    NAME_TOKEN,
    NUMBER_TOKEN,
    RANK_GROUP,
    RANK_TOKEN,
    make_html_items_options,
    make_html_table_options,
    find_matching_tables,
    merge_options,
    build_numbers_pattern,
    parse_html_ranking,
    parse_pdf_report,
    make_pdf_table_options,
    read_html,
)

CATEGORIES = {
    "stability": ["stability"],
    "healthcare": ["healthcare"],
    "culture_environment": ["culture and environment", "culture"],
    "education": ["education"],
    "infrastructure": ["infrastructure"],
}

# "1. Vienna (108.6)", "3= Munich", "=2 Zurich (97.1)": rank, name, optional score in brackets.
LIST_PATTERN = RANK_GROUP + rf"[.):]?\s+(?P<city>[^()]+?)(?:\s*\((?P<score>{NUMBER_TOKEN})\))?"
LIST_START = RANK_TOKEN + r"[.):]?\s+[^\W\d_]"

# Summary PDF rows: rank, city, optional country (a column apart), score, optional categories.
PDF_PATTERN = (
    RANK_GROUP
    + rf"\s+(?P<city>{NAME_TOKEN})(?:\s{{2,}}(?P<country>{NAME_TOKEN}))?\s{{2,}}"
    + rf"(?P<score>{NUMBER_TOKEN})"
    + build_numbers_pattern([], optional=[f"{name}_score" for name in CATEGORIES])
)

DEFAULT_OPTIONS = {
    "publication_words": ["Quality of Living", "Liveability"],
    # The year next to the publication's name, either side ("2023 Quality of Living survey",
    # "Global Liveability Index 2024"), on one line.
    "edition_pattern": (
        r"(?:Quality of Living|Liveability)[^\n.]{0,40}?\b(?P<edition>(?:19|20)\d\d)\b"
        r"|\b((?:19|20)\d\d)\b[^\n.]{0,40}?(?:Quality of Living|Liveability)"
    ),
    "edition_format": "{}",
    "layout": "auto",
    "table": make_html_table_options(
        {
            "rank": ["rank"],
            "city": ["city"],
            "country": ["country"],
            "score": ["overall score", "score", "index", "overall", "rating"],
            **{f"{name}_score": words for name, words in CATEGORIES.items()},
        },
        all_tables=True,
    ),
    "list": make_html_items_options("li", pattern=LIST_PATTERN, start=LIST_START),
    "pdf": make_pdf_table_options(["rank", "city", "score"], PDF_PATTERN),
    "column_gap": 1.0,
    "count_pattern": None,
    "check_rank_order": False,
    "expected_rows": None,
}


def parse_press_top_list(
    data: bytes, source: str, *, edition: str | None = None, options: dict | None = None
) -> list[ScoreRow]:
    """Rows of a Mercer or EIU top list: `total` (rank, ties, score when printed) plus the
    EIU category scores when the table prints them.

    Raises LayoutError when the page names neither publication, has neither a ranking table
    nor ranked list items, or an entry does not read.
    """
    opts = merge_options(DEFAULT_OPTIONS, options, parser="parse_press_top_list")
    if data.lstrip()[:5] == b"%PDF-":
        return parse_pdf_report(data, source, opts, edition, parser="parse_press_top_list", main="pdf")
    layout = choose_layout(data, source, opts)
    return parse_html_ranking(data, source, opts, edition, layout=layout)


def choose_layout(data: bytes, source: str, opts: dict) -> str:
    """`table` when the page has a table with the ranking columns, else `list` (for `auto`)."""
    if opts["layout"] not in ("auto", "table", "list"):
        raise ValueError(f"parse_press_top_list: option layout must be auto, table or list, not {opts['layout']!r}")
    if opts["layout"] != "auto":
        return opts["layout"]
    table = opts["table"]
    found = find_matching_tables(
        read_html(data, source),
        source,
        columns=table["columns"],
        required=table["required"],
        table_selector=table["table_selector"],
    )
    return "table" if next(found, None) is not None else "list"
