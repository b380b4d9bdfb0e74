"""Time the GFCI report parser on the shared report(s): best of 5 runs per file.

    python benchmarks/bench_gfci_extract.py [PDF ...]

Without arguments it reads every ``GFCI*.pdf`` in ``$CITYRANK_SHARED_DIR/publications/gfci``
(default ``<repo>/../shared``). Printed per file: the parse in seconds and per page, and the
floor — PDFium's plain text of every page of the same file, which the parser's scan for
captions costs at least. The budget is 1 s per 64-page report.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from cityrank_pipeline.sources.gfci_report import parse_gfci_report
from cityrank_pipeline.sources.pdf_text import PdfText

RUNS = 5
BUDGET_SECONDS = 1.0


def best_of(work, runs: int = RUNS) -> tuple[float, object]:
    """The fastest of `runs` calls (the least disturbed by the machine), and its result."""
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return best, result


def read_all_plain_text(data: bytes, name: str) -> int:
    with PdfText(data, name) as pdf:
        for page in range(1, pdf.page_count + 1):
            pdf.plain_text(page)
        return pdf.page_count


def main(argv: list[str]) -> int:
    if argv:
        paths = [Path(arg) for arg in argv]
    else:
        shared = Path(os.environ.get("CITYRANK_SHARED_DIR", Path(__file__).resolve().parents[1].parent / "shared"))
        paths = sorted((shared / "publications" / "gfci").glob("GFCI*.pdf"))
    if not paths:
        print("no GFCI PDFs found; pass paths or set CITYRANK_SHARED_DIR", file=sys.stderr)
        return 2
    over_budget = False
    for path in paths:
        data = path.read_bytes()
        floor, pages = best_of(lambda: read_all_plain_text(data, path.name))
        seconds, rows = best_of(lambda: parse_gfci_report(data, path.name))
        over_budget |= seconds > BUDGET_SECONDS
        flag = "" if seconds <= BUDGET_SECONDS else f"  OVER the {BUDGET_SECONDS:.0f} s budget"
        print(f"{path.name}: {seconds:.3f} s best of {RUNS}, {seconds / pages * 1000:.1f} ms/page over {pages} pages "
              f"({len(rows)} rows){flag}; PDFium plain text of all pages: {floor:.3f} s "
              f"({floor / pages * 1000:.1f} ms/page)")
    return 1 if over_budget else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
