"""What every parsed figure must be before anything downstream sees it, whoever parsed it.

Why here and not in the suite: these are the values the warehouse cannot hold or the mayor's
office must never read — a score of NaN (Python's float() accepts "nan" and "inf"), a rank
beyond PostgreSQL's integer (COPY fails half-way through the load), a NUL byte or another
control character in a name or a note (psycopg refuses NUL; the others print as garbage), a
city name of megabytes. Refusing them at the parse stage names the file and its row or page,
keeps `cityrank extract` honest too, and costs nothing, while the Great Expectations suite
judges the figures that are well-formed. No publisher file met so far holds a control
character (the GPCI and GFCI PDFs, the GPCI data file and every fixture were checked), so
they are refused rather than stripped.

Limits on the file itself (bytes per format) are here as well: a file is measured before a
parser reads it, so an oversized drop-in is refused in a line instead of filling memory.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import fields

from .base import LayoutError, ScoreRow

# warehouse.fact_city_score.rank and .page are PostgreSQL integers.
INT32_MAX = 2**31 - 1
# A score beyond this is a misread, not a rating; numeric would store it, no scale allows it.
SCORE_ABS_MAX = 10**12
# Longest printed city name on record is under 60 characters ("Taipei" variants, "Washington,
# D.C."); notes and URLs are a sentence or an address.
TEXT_LIMITS = {"city": 200, "country": 200, "edition": 100, "measure": 100, "measure_printed": 300,
               "note": 4000, "source_url": 2000, "published": 10}
# Bytes per file format. The largest real files: a 64-page GFCI report (2.6 MB), the GPCI data
# file (0.2 MB), the curated CSV (0.06 MB); these allow an order of magnitude and more.
MAX_FILE_BYTES = {"pdf": 60 * 2**20, "html": 10 * 2**20, "json": 20 * 2**20, "csv": 5 * 2**20}
# Tab, newline and carriage return are layout, not content; any other C0/C1 control is refused.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
TEXT_FIELDS = tuple(f.name for f in fields(ScoreRow) if f.name in TEXT_LIMITS)


def file_format_of(parser_name: str) -> str:
    """The format a parser reads, from its name (`gfci_report_pdf` → pdf; the curated reader: csv)."""
    suffix = parser_name.rsplit("_", 1)[-1]
    return suffix if suffix in MAX_FILE_BYTES else "csv"


def check_file_size(data: bytes, source: str, fmt: str) -> None:
    limit = MAX_FILE_BYTES[fmt]
    if len(data) > limit:
        raise LayoutError(source, f"the file is {len(data) / 2**20:.1f} MB; cityrank reads .{fmt} files of at most "
                                  f"{limit // 2**20} MB (refused before parsing)")


def published_date(value: str) -> dt.date | None:
    """The first day a `published` value (YYYY-MM or YYYY-MM-DD) can mean, or None."""
    try:
        return dt.date.fromisoformat(value if len(value) == 10 else f"{value}-01")
    except ValueError:
        return None


def row_problem(row: ScoreRow) -> str | None:
    """Why `row` cannot be loaded as it stands, or None. Names the field and the value."""
    for name in TEXT_FIELDS:
        value = getattr(row, name)
        if value is None:
            continue
        if len(value) > TEXT_LIMITS[name]:
            return f"{name} is {len(value)} characters long (at most {TEXT_LIMITS[name]}): {value[:40]!r}…"
        found = CONTROL.search(value)
        if found:
            return f"{name} {value[:60]!r} holds control character U+{ord(found.group()):04X}"
    if row.published is not None and published_date(row.published) is None:
        return f"published {row.published!r} is not a real date (YYYY-MM or YYYY-MM-DD)"
    for name in ("score", "previous_score"):
        value = getattr(row, name)
        if value is None:
            continue
        if not math.isfinite(value):
            return f"{name} {value!r} is not a finite number"
        if abs(value) > SCORE_ABS_MAX:
            return f"{name} {value!r} is beyond ±{SCORE_ABS_MAX:.0e}"
    for name in ("rank", "previous_rank", "page"):
        value = getattr(row, name)
        if value is not None and not 1 <= value <= INT32_MAX:
            return f"{name} {value} is outside 1..{INT32_MAX}"
    return None


def check_rows(rows: list[ScoreRow], source: str) -> list[ScoreRow]:
    """Refuse the file at its first unloadable row, naming the city, measure and page."""
    for row in rows:
        problem = row_problem(row)
        if problem is not None:
            city = row.city if len(row.city) <= 60 and not CONTROL.search(row.city) else f"{row.city[:40]!r}…"
            raise LayoutError(source, f"{city} / {row.measure}: {problem}", page=row.page)
    return rows
