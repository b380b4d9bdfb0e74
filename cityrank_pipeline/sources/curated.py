"""The curated-figures CSV: published ranks and scores compiled by hand, with their sources.

It is the default input (shipped in the package) and also the layout analysts use to hand in
figures from gated or paid publications (EIU full ranking, Mercer full table, GSER PDF). One
file may hold many indices and editions; the caller picks one index (and, optionally, one
edition) through `options["index_code"]` / `edition`.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter

from .base import LayoutError, ScoreRow
from .row_checks import row_problem

REQUIRED_COLUMNS = ("index_code", "edition", "city", "rank", "score", "confidence", "source_url", "notes")
CONFIDENCE = {"reported", "derived", "disputed", "low"}
PUBLISHED = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")


def _decode(data: bytes, source: str) -> str:
    if not data.strip():
        raise LayoutError(source, "the file is empty")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LayoutError(source, f"not UTF-8 text (byte {exc.start}); is this really a CSV?") from None


def _number(value: str, source: str, line: int, column: str, kind: type):
    value = value.strip()
    if not value:
        return None
    try:
        number = kind(value)
    except ValueError:
        raise LayoutError(source, f"{column} {value!r} is not a {kind.__name__}", row=line) from None
    return number


def parse_curated_figures(
    data: bytes, source: str, *, edition: str | None = None, options: dict | None = None
) -> list[ScoreRow]:
    options = options or {}
    index_code = options.get("index_code")
    if not index_code:
        raise ValueError("parse_curated_figures needs options['index_code']")
    reader = csv.DictReader(io.StringIO(_decode(data, source)))
    try:
        return _mark_ties(list(_read_records(reader, source, index_code, edition)))
    except csv.Error as exc:  # a field over csv.field_size_limit(), a NUL in an unquoted field
        # line_num counts the lines read before the one the reader choked on.
        raise LayoutError(source, f"not a readable CSV ({exc})", row=reader.line_num + 1) from None


def _read_records(reader: csv.DictReader, source: str, index_code: str, edition: str | None):
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise LayoutError(source, f"not a curated-figures CSV: missing column(s) {', '.join(missing)}", row=1)
    for line, record in enumerate(reader, start=2):  # line 1 is the header
        if None in record:
            raise LayoutError(source, "more fields than the header has (unquoted comma?)", row=line)
        if None in record.values():
            raise LayoutError(source, "fewer fields than the header has (a truncated file?)", row=line)
        if record["index_code"].strip().upper() != index_code:
            continue
        label = record["edition"].strip()
        if edition is not None and label != edition:
            continue
        city = record["city"].strip()
        if not city or not label:
            raise LayoutError(source, "city and edition must not be empty", row=line)
        confidence = record["confidence"].strip() or "reported"
        if confidence not in CONFIDENCE:
            raise LayoutError(source, f"confidence {confidence!r} is not one of {sorted(CONFIDENCE)}", row=line)
        published = (record.get("published") or "").strip() or None
        if published and not PUBLISHED.match(published):
            raise LayoutError(source, f"published {published!r} is not YYYY-MM or YYYY-MM-DD", row=line)
        row = ScoreRow(
            edition=label,
            city=city,
            measure=(record.get("measure") or "total").strip() or "total",
            score=_number(record["score"], source, line, "score", float),
            rank=_number(record["rank"], source, line, "rank", int),
            page=None,
            country=(record.get("country") or "").strip() or None,
            confidence=confidence,
            note=record["notes"].strip() or None,
            source_url=record["source_url"].strip() or None,
            published=published,
        )
        problem = row_problem(row)
        if problem is not None:
            raise LayoutError(source, problem, row=line)
        yield row


def _mark_ties(rows: list[ScoreRow]) -> list[ScoreRow]:
    """A rank printed twice in one edition and measure is a tie ("Boston and Beijing tied 5th")."""
    counts = Counter((r.edition, r.measure, r.rank) for r in rows if r.rank is not None)
    marked = []
    for r in rows:
        tied = r.rank is not None and counts[(r.edition, r.measure, r.rank)] > 1
        marked.append(ScoreRow(**{**r.as_dict(), "rank_tied": tied}) if tied else r)
    return marked


def curated_editions(data: bytes, source: str, index_code: str) -> list[str]:
    """Edition labels present for one index, in file order (used to register partitions)."""
    labels: dict[str, None] = {}
    for row in parse_curated_figures(data, source, options={"index_code": index_code}):
        labels.setdefault(row.edition, None)
    return list(labels)
