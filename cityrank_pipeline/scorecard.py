"""The focus city's scorecard, as the main job prints it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import psycopg

from .catalog import Catalog


@dataclass(frozen=True)
class ScorecardLine:
    index_code: str
    edition: str | None
    rank: int | None
    rank_tied: bool
    score: Decimal | None
    city_count: int | None
    previous_edition: str | None
    rank_change: int | None
    score_change: Decimal | None
    note: str | None
    index_latest_edition: str | None = None


def fetch_scorecard(conn: psycopg.Connection, catalog: Catalog, city: str) -> list[ScorecardLine]:
    rows = conn.execute(
        """SELECT s.index_code, s.latest_edition, s.rank, s.rank_tied, s.score, s.city_count, s.previous_edition,
                  s.rank_change, s.score_change, s.note, newest.edition
           FROM mart.city_scorecard s
           LEFT JOIN LATERAL (SELECT e.edition FROM warehouse.dim_edition e WHERE e.index_code = s.index_code
                              ORDER BY e.edition_seq DESC LIMIT 1) newest ON true
           WHERE s.city = %s""",
        (city,),
    ).fetchall()
    by_code = {r[0]: ScorecardLine(*r) for r in rows}
    return [by_code.get(e.code) or ScorecardLine(e.code, None, None, False, None, None, None, None, None, None)
            for e in catalog]


def _fmt_number(value: Decimal | None) -> str:
    if value is None:
        return "—"
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text


def _fmt_change(line: "ScorecardLine") -> str:
    rank_change, score_change, previous = line.rank_change, line.score_change, line.previous_edition
    if line.rank is None and line.score is None:
        return "rank not disclosed by the publisher"
    if previous is None:
        return "first edition on record"
    parts = []
    if rank_change is not None:
        parts.append("no change in rank" if rank_change == 0 else f"{'▲' if rank_change > 0 else '▼'}{abs(rank_change)} place(s)")
    if score_change is not None:
        parts.append(f"score {score_change:+,.2f}".rstrip("0").rstrip("."))
    return (", ".join(parts) or "change unknown") + f" since {previous}"


def _score_cell(line: ScorecardLine, catalog: Catalog) -> str:
    """The score where one exists; 'rank only' where the publisher prints no overall score."""
    if line.score is not None:
        return _fmt_number(line.score)
    return "rank only" if catalog[line.index_code].rank_only else "—"


def format_scorecard(lines: list[ScorecardLine], catalog: Catalog, city: str) -> str:
    out = [f"{city} scorecard — latest edition of each index", ""]
    header = f"{'index':<6} {'edition':<9} {'rank':>9} {'score':>9}  change"
    out.append(header)
    out.append("-" * len(header) + "-" * 30)
    for line in lines:
        if line.edition is None:
            out.append(f"{line.index_code:<6} {'—':<9} {'—':>9} {'—':>9}  no figures loaded for {city}")
            continue
        if line.rank is None:
            rank = "n/d"
        else:
            rank = f"{'=' if line.rank_tied else ''}{line.rank}" + (f"/{line.city_count}" if line.city_count else "")
        newer = (f"; no {city} figure loaded from the newer {line.index_latest_edition} edition"
                 if line.index_latest_edition and line.index_latest_edition != line.edition else "")
        out.append(f"{line.index_code:<6} {line.edition:<9} {rank:>9} {_score_cell(line, catalog):>9}  "
                   f"{_fmt_change(line)}{newer}")
    out.append("")
    out.append("n/d = not disclosed by the publisher (see mart.city_scorecard.note); =N = tied rank.")
    rank_only = [line.index_code for line in lines if line.edition and catalog[line.index_code].rank_only]
    if rank_only:
        out.append(f"rank only = {', '.join(rank_only)} publish ranks, no overall score.")
    if any(line.edition and line.score is None and not catalog[line.index_code].rank_only for line in lines):
        out.append("— in score = the figures loaded for that edition carry a rank but no score.")
    return "\n".join(out)
