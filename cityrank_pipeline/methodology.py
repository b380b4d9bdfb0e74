"""Methodology changes: what an edition measures differently from the one before it.

Publishers add, drop and reword indicators between editions (GPCI's 70 indicators are not the
same 70 every year). A rank that moved because the yardstick moved must be read differently
from one that moved because the city did, so every load compares the indicators the file
printed with those of the previous edition that reported indicators, and says what changed:
as asset metadata and a WARN check at load time, in `mart.methodology_changes` afterwards (the
same rule in SQL, over `warehouse.edition_measure`), and in the release brief.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import psycopg

from .catalog import IndexEntry


@dataclass(frozen=True)
class MeasureChange:
    change: str  # added | removed | reworded
    measure_code: str
    printed_name: str | None
    previous_printed_name: str | None

    def describe(self) -> str:
        if self.change == "added":
            return f"added {self.printed_name!r} ({self.measure_code})"
        if self.change == "removed":
            return f"removed {self.previous_printed_name!r} ({self.measure_code})"
        return f"reworded {self.previous_printed_name!r} → {self.printed_name!r} ({self.measure_code})"


def printed_measures(frame: pd.DataFrame) -> dict[str, str]:
    """measure code → name as the file printed it, for files that print their measure names."""
    if "measure_printed" not in frame:
        return {}
    printed = frame.loc[frame["measure_printed"].notna(), ["measure", "measure_printed"]].drop_duplicates()
    return dict(zip(printed["measure"], printed["measure_printed"]))


def diff_measures(previous: dict[str, str], current: dict[str, str]) -> list[MeasureChange]:
    changes = [MeasureChange("added", code, current[code], None) for code in sorted(set(current) - set(previous))]
    changes += [MeasureChange("removed", code, None, previous[code]) for code in sorted(set(previous) - set(current))]
    changes += [MeasureChange("reworded", code, current[code], previous[code])
                for code in sorted(set(current) & set(previous)) if current[code] != previous[code]]
    return changes


def previous_printed_measures(conn: psycopg.Connection, entry: IndexEntry, edition: str) -> tuple[str | None, dict[str, str]]:
    """The newest earlier edition that reported its measures, and how it printed them."""
    row = conn.execute(
        """SELECT m.edition FROM warehouse.edition_measure m
           JOIN warehouse.dim_edition e ON e.index_code = m.index_code AND e.edition = m.edition
           WHERE m.index_code = %s AND e.edition_seq < %s
           ORDER BY e.edition_seq DESC LIMIT 1""",
        (entry.code, entry.edition_seq(edition)),
    ).fetchone()
    if row is None:
        return None, {}
    printed = conn.execute(
        "SELECT measure_code, printed_name FROM warehouse.edition_measure WHERE index_code = %s AND edition = %s",
        (entry.code, row[0]),
    ).fetchall()
    return row[0], dict(printed)


def methodology_changes(conn: psycopg.Connection, entry: IndexEntry, edition: str,
                        frame: pd.DataFrame) -> tuple[str | None, list[MeasureChange]]:
    """(previous edition compared with, changes); no changes when either side prints no measures."""
    current = printed_measures(frame)
    if not current:
        return None, []
    previous_label, previous = previous_printed_measures(conn, entry, edition)
    if previous_label is None:
        return None, []
    return previous_label, diff_measures(previous, current)
