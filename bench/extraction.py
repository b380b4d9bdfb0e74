"""Extraction: each real publication in ../shared/publications, parsed as `cityrank extract`
parses it (the catalog's parser for the file's format), against the floor for that file.

For a PDF the floor is PDFium's bare text pass: `get_textpage().get_text_range()` on every
page, which any parser that reads the text of the document costs at least. For a JSON data
file the floor is `json.loads` of its bytes. Seconds per file are medians of five runs;
per page divides by the PDF's page count. Goals: ≤ 1 s per publication and, for PDFs,
within 5× of the floor.
"""

from __future__ import annotations

import json

import pypdfium2 as pdfium

from cityrank_pipeline.catalog import load_catalog, source_for_file
from cityrank_pipeline.sources.registry import parse_publication
from cityrank_pipeline.settings import PROJECT_ROOT

from .core import Goal, PartContext, median, shared_dir, spread, timed_runs

RUNS = 5
PER_FILE = Goal(1.0, at_most=True, text="≤ 1 s per publication")
VS_FLOOR = Goal(5.0, at_most=True, text="within 5× of raw PDFium text")
# Folder under publications/ → index code.
FOLDERS = {"gpci": "GPCI", "gfci": "GFCI"}


def run(ctx: PartContext) -> None:
    publications = shared_dir() / "publications"
    if not publications.is_dir():
        ctx.note("skipped", f"skipped: {publications} is absent (set CITYRANK_SHARED_DIR)", show=True)
        return
    catalog = load_catalog(PROJECT_ROOT / "assets")
    for folder, code in FOLDERS.items():
        for path in sorted((publications / folder).glob("*")):
            if path.suffix.lower() in (".pdf", ".json"):
                _measure_file(ctx, catalog, code, path)


def _measure_file(ctx: PartContext, catalog, code: str, path) -> None:
    data = path.read_bytes()
    entry = catalog[code]
    source = source_for_file(catalog, code, path.name, "drop_in")

    def parse():
        return parse_publication(entry, source.parser, data, path.name, options=source.parser_options)

    seconds, peak, rows = timed_runs(parse, RUNS)
    parsed = median(seconds)
    if path.suffix.lower() == ".json":
        floor_seconds, _, _ = timed_runs(lambda: json.loads(data), RUNS)
        pages, floor_name = None, "json.loads"
    else:
        floor_seconds, _, pages = timed_runs(lambda: _pdfium_text(data), RUNS)
        floor_name = "PDFium text"
    floor = median(floor_seconds)
    per_page = f", {parsed / pages * 1000:.1f} ms/page over {pages} pages" if pages else ""
    ctx.emit(f"{path.name} ({source.parser})", parsed, "s", peak_mb=peak, goal=PER_FILE,
             detail=f"{len(rows)} figures{per_page}; {spread(seconds)}")
    floor_page = f", {floor / pages * 1000:.1f} ms/page" if pages else ""
    ctx.emit(f"{path.name}: floor ({floor_name})", floor, "s", detail=f"{spread(floor_seconds)}{floor_page}")
    if pages:
        reason = "" if parsed <= VS_FLOOR.limit * floor else \
            "the parser reads positioned glyphs (PDFium char boxes) on its table pages, not only the text pass"
        ctx.emit(f"{path.name}: parse / floor", parsed / floor, "×", goal=VS_FLOOR, reason=reason)


def _pdfium_text(data: bytes) -> int:
    document = pdfium.PdfDocument(data)
    try:
        for index in range(len(document)):
            page = document[index]
            text_page = page.get_textpage()
            text_page.get_text_range()
            text_page.close()
            page.close()
        return len(document)
    finally:
        document.close()
