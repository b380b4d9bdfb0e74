"""Time the GPCI summary parser on the shared reports: best of 5 runs per file.

    python benchmarks/bench_gpci_extract.py [PDF ...]

Without arguments it reads every ``GPCI*.pdf`` in ``$CITYRANK_SHARED_DIR/publications/gpci``
(default ``<repo>/../shared``). The budget is 1 s per 24-page report.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from cityrank_pipeline.sources.gpci import parse_gpci_summary

RUNS = 5
BUDGET_SECONDS = 1.0


def best_time(data: bytes, name: str, runs: int = RUNS) -> tuple[float, int]:
    """The fastest of `runs` parses (the least disturbed by the machine), and the row count."""
    best = float("inf")
    rows = 0
    for _ in range(runs):
        start = time.perf_counter()
        rows = len(parse_gpci_summary(data, name))
        best = min(best, time.perf_counter() - start)
    return best, rows


def main(argv: list[str]) -> int:
    if argv:
        paths = [Path(arg) for arg in argv]
    else:
        shared = Path(os.environ.get("CITYRANK_SHARED_DIR", Path(__file__).resolve().parents[1].parent / "shared"))
        paths = sorted((shared / "publications" / "gpci").glob("GPCI*.pdf"))
    if not paths:
        print("no GPCI PDFs found; pass paths or set CITYRANK_SHARED_DIR", file=sys.stderr)
        return 2
    over_budget = False
    for path in paths:
        seconds, rows = best_time(path.read_bytes(), path.name)
        over_budget |= seconds > BUDGET_SECONDS
        flag = "" if seconds <= BUDGET_SECONDS else f"  OVER the {BUDGET_SECONDS:.0f} s budget"
        print(f"{path.name}: {seconds * 1000:.0f} ms best of {RUNS} ({rows} rows){flag}")
    return 1 if over_budget else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
