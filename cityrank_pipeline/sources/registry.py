"""Parser names used in the catalog (`parser:` in assets/<code>.yaml) → parser functions.

Imports are lazy so that reading one CSV does not pay for pdfplumber, and so that a missing
optional parser module fails only the index that names it, with the name in the message.
"""

from __future__ import annotations

import importlib
from typing import Callable

from .base import ScoreRow, WrongPublication
from .row_checks import check_file_size, check_rows, file_format_of

Parser = Callable[..., list[ScoreRow]]

PARSERS: dict[str, str] = {
    "curated_figures": "cityrank_pipeline.sources.curated:parse_curated_figures",
    "gpci_summary_pdf": "cityrank_pipeline.sources.gpci:parse_gpci_summary",
    "gfci_report_pdf": "cityrank_pipeline.sources.gfci_report:parse_gfci_report",
    "cimi_report_pdf": "cityrank_pipeline.sources.cimi:parse_cimi_report",
    "kearney_report_pdf": "cityrank_pipeline.sources.kearney:parse_kearney_report",
    "gser_ranking_html": "cityrank_pipeline.sources.gser:parse_gser_ranking",
    "press_top_list_html": "cityrank_pipeline.sources.press_list:parse_press_top_list",
    "gdci_report_pdf": "cityrank_pipeline.sources.gdci:parse_gdci_report",
    "gpci_data_json": "cityrank_pipeline.sources.gpci_json:parse_gpci_data_json",
}

# Parsers whose files hold several indices; they are told which index to read.
MULTI_INDEX_PARSERS = frozenset({"curated_figures"})

# Parsers that read measures the catalog defines (GPCI's 70 indicators by printed name and
# number); they are called with the index's catalog entry as `entry=`.
CATALOG_AWARE_PARSERS = frozenset({"gpci_data_json"})

# Parsers whose every printed city must map through assets/cities.yaml before the file is
# registered: a publisher data file lists whole editions, so an unknown name there is a new
# city or a changed spelling to review now, not a row to drop later.
CITY_CHECKED_PARSERS = frozenset({"gpci_data_json"})


def parser_options(name: str, index_code: str, options: dict | None) -> dict:
    """The options a parser is called with: the catalog's, plus the index for multi-index files."""
    merged = dict(options or {})
    if name in MULTI_INDEX_PARSERS:
        merged["index_code"] = index_code
    return merged


def get_parser(name: str) -> Parser:
    try:
        target = PARSERS[name]
    except KeyError:
        raise KeyError(f"no parser named {name!r}; known: {', '.join(sorted(PARSERS))}") from None
    module_name, func_name = target.split(":")
    return getattr(importlib.import_module(module_name), func_name)


def parse_publication(entry, parser_name: str, data: bytes, source_name: str, *,
                      edition: str | None = None, options: dict | None = None) -> list[ScoreRow]:
    """Run the catalog's parser on raw bytes; a layout problem raises PublicationError.

    The file is measured before it is read and every row is checked after (`row_checks`), so
    no caller — extract, ingest, the assets — ever holds a figure the warehouse cannot load.

    Lives here, beside the parser table, so that `cityrank extract` reads a file without
    importing pandas, Great Expectations or Dagster.
    """
    check_file_size(data, source_name, file_format_of(parser_name))
    parser = get_parser(parser_name)
    catalog_aware = {"entry": entry} if parser_name in CATALOG_AWARE_PARSERS else {}
    try:
        rows = parser(data, source_name, edition=edition, options=parser_options(parser_name, entry.code, options),
                      **catalog_aware)
    except WrongPublication as exc:
        if entry.code in exc.what.split():
            raise
        raise WrongPublication(exc.source, f"{entry.code} publication", exc.evidence, page=exc.page) from None
    return check_rows(rows, source_name)
