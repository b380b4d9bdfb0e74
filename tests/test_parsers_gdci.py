"""Mastercard GDCI report parser against the built 2019 report extract."""

from __future__ import annotations

from pathlib import Path

import pytest

from cityrank_pipeline.sources.base import LayoutError, ScoreRow
from cityrank_pipeline.sources.gdci import parse_gdci_report

FIXTURES = Path(__file__).parent / "fixtures" / "publishers"
GDCI2019 = "gdci2019_report_extract.pdf"


def read_fixture(name: str, code: str = "gdci") -> bytes:
    return (FIXTURES / code / name).read_bytes()


@pytest.fixture(scope="module")
def rows() -> list[ScoreRow]:
    return parse_gdci_report(read_fixture(GDCI2019), GDCI2019)


def find_row(rows: list[ScoreRow], city: str, measure: str = "total") -> ScoreRow:
    return next(row for row in rows if row.city == city and row.measure == measure)


def test_seoul_rows_are_read_exactly(rows):
    assert find_row(rows, "Seoul") == ScoreRow("2019", "Seoul", "total", 11.25, 11, page=2, note="growth forecast 4.9")
    assert find_row(rows, "Seoul", "visitor_spend") == ScoreRow("2019", "Seoul", "visitor_spend", 10.0, 13, page=3)


@pytest.mark.parametrize(
    "city, rank, visitors",
    [("Bangkok", 1, 22.78), ("Paris", 2, 19.10), ("London", 3, 19.09), ("Kuala Lumpur", 6, 13.79),
     ("Antalya", 10, 12.41)],
)
def test_published_visitor_figures(rows, city, rank, visitors):
    row = find_row(rows, city)
    assert (row.rank, row.score) == (rank, visitors)


def test_two_top_twenty_tables(rows):
    assert len([row for row in rows if row.measure == "total"]) == 20
    assert len([row for row in rows if row.measure == "visitor_spend"]) == 20
    assert {row.edition for row in rows} == {"2019"}
    assert find_row(rows, "Palma de Mallorca").rank == 18


def test_ties_are_marked(rows):
    assert [(row.city, row.measure, row.rank) for row in rows if row.rank_tied] == [
        ("Milan", "visitor_spend", 17), ("Bali", "visitor_spend", 17)
    ]


def test_spend_table_is_optional(rows):
    only = parse_gdci_report(read_fixture(GDCI2019), GDCI2019, options={"spend": None})
    assert only == [row for row in rows if row.measure == "total"]


@pytest.mark.parametrize(
    "code, name, reason",
    [
        ("gdci", "variant_renamed_header.pdf", r"no page has a table header with \['rank', 'city', 'visitors'\]"),
        ("kearney", "kearney_gcr2025_extract.pdf", "does not mention any of"),
        ("eiu", "eiu_liveability2024_summary.html", "not a PDF"),
    ],
)
def test_changed_or_other_layouts_are_refused(code, name, reason):
    with pytest.raises(LayoutError, match=f"{name}: .*{reason}"):
        parse_gdci_report(read_fixture(name, code), name)


def test_a_table_with_fewer_rows_than_the_top_twenty_is_refused():
    # Reading the visitors table as a top 25 must fail rather than return 20 of 25 rows.
    with pytest.raises(LayoutError, match=f"{GDCI2019}: .*has 20 rows, expected 25"):
        parse_gdci_report(read_fixture(GDCI2019), GDCI2019, options={"expected_rows": 25})


@pytest.mark.parametrize("data", [b"", b"%PDF-", b"PK\x03\x04zip"])
def test_empty_or_garbage_bytes_are_refused(data):
    with pytest.raises(LayoutError, match="^gdci.pdf: "):
        parse_gdci_report(data, "gdci.pdf")
