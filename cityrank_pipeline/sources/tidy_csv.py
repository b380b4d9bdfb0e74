"""The tidy CSV a parser's rows are checked against: `edition,city,measure,score,rank`.

Hand-checked expected parses (``publications/<index>/expected/*.csv``) use this shape, and
``cityrank extract`` prints it, so that a parse can be compared with them byte for byte.
"""

from __future__ import annotations

import csv
from typing import Iterable, TextIO

from .base import ScoreRow

TIDY_COLUMNS = ("edition", "city", "measure", "score", "rank")


def rows_to_csv(rows: Iterable[ScoreRow], stream: TextIO) -> None:
    """Write `rows`, in the order given, as the tidy CSV.

    Lines end in CRLF and fields are quoted only where needed ("Washington, D.C."), as in the
    expected files; open a file for it with ``newline=""``. A score is written in Python's
    shortest round-trip form, so a figure read from "1457.9" is written "1457.9" (a whole
    number gets ".0": "1015.0"); a missing score or rank is an empty field.
    """
    writer = csv.writer(stream)
    writer.writerow(TIDY_COLUMNS)
    for row in rows:
        writer.writerow(
            (
                row.edition,
                row.city,
                row.measure,
                "" if row.score is None else repr(float(row.score)),
                "" if row.rank is None else row.rank,
            )
        )
