"""Startup Genome Global Startup Ecosystem Report (GSER): the free HTML ranking page.

Why the HTML page: the full report PDF sits behind a form, but the yearly ranking page
(`…/gserYYYY/global-startup-ecosystem-ranking-YYYY-top-40`) is public. The ranking has no
overall score, only ranks with frequent ties ("=2"), so `total` rows carry a rank and no
score; success-factor scores (1–10) become measures when the page prints them.

Two layouts are known: a table (`layout: table`, the default) and one block per ecosystem
(`layout: cards`). The cards' CSS selectors are an assumption to confirm on the live page and
set in the catalog; the page's own "Top N" is checked against the number of rows read.
"""

from __future__ import annotations

from .base import ScoreRow
from .tables import make_html_items_options, make_html_table_options, merge_options, parse_html_ranking

FACTORS = {
    "performance": ["performance"],
    "funding": ["funding"],
    "market_reach": ["market reach"],
    "talent_experience": ["talent and experience", "talent"],
    "knowledge": ["knowledge"],
    "ai_native_transition": ["ai native transition", "ai native"],
}

DEFAULT_OPTIONS = {
    "publication_words": ["Startup Ecosystem"],
    "edition_pattern": r"Startup Ecosystem (?:Ranking|Report)\s+(?P<edition>20\d\d)\b|\bGSER\s?(20\d\d)\b",
    "edition_format": "{}",
    "layout": "table",
    "table": make_html_table_options(
        {
            "rank": ["rank"],
            "city": ["ecosystem", "city"],
            "note_change": ["change"],
            **{f"{factor}_score": words for factor, words in FACTORS.items()},
        }
    ),
    "cards": make_html_items_options(
        "div.ecosystem-card",
        fields={
            "rank": ".rank",
            "city": ".ecosystem",
            **{f"{factor}_score": f".factor-{factor.replace('_', '-')} .value" for factor in FACTORS},
        },
    ),
    "count_pattern": r"\bTop\s+(\d{2,3})\b",
    "check_rank_order": True,
    "expected_rows": None,
}


def parse_gser_ranking(
    data: bytes, source: str, *, edition: str | None = None, options: dict | None = None
) -> list[ScoreRow]:
    """Rows of a GSER ranking page: `total` (rank, ties marked) plus success-factor scores.

    Raises LayoutError when the page is not a Startup Genome ranking, the table or cards are
    not found, a rank does not read, ranks have a gap or the count differs from "Top N".
    """
    opts = merge_options(DEFAULT_OPTIONS, options, parser="parse_gser_ranking")
    if opts["layout"] not in ("table", "cards"):
        raise ValueError(f"parse_gser_ranking: option layout must be 'table' or 'cards', not {opts['layout']!r}")
    return parse_html_ranking(data, source, opts, edition, layout=opts["layout"])
