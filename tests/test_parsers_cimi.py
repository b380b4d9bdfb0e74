"""CIMI report parser against the built CIMI 2019 report extract."""

from __future__ import annotations

from pathlib import Path

import pytest

from cityrank_pipeline.sources.base import LayoutError, ScoreRow
from cityrank_pipeline.sources.cimi import DIMENSIONS, parse_cimi_report

FIXTURES = Path(__file__).parent / "fixtures" / "publishers"
CIMI2019 = "cimi2019_report_extract.pdf"


def read_fixture(name: str, code: str = "cimi") -> bytes:
    return (FIXTURES / code / name).read_bytes()


@pytest.fixture(scope="module")
def rows() -> list[ScoreRow]:
    return parse_cimi_report(read_fixture(CIMI2019), CIMI2019)


def find_row(rows: list[ScoreRow], city: str, measure: str = "total") -> ScoreRow:
    return next(row for row in rows if row.city == city and row.measure == measure)


def test_seoul_total_is_read_exactly(rows):
    assert find_row(rows, "Seoul") == ScoreRow(
        "2019", "Seoul", "total", 78.13, 12, page=2, country="South Korea", note="performance High"
    )


def test_seoul_dimension_ranks_are_read(rows):
    seoul = {row.measure: row.rank for row in rows if row.city == "Seoul" and row.measure != "total"}
    assert seoul == dict(zip(DIMENSIONS, [15, 14, 95, 32, 39, 27, 34, 6, 17]))
    assert find_row(rows, "Seoul", "technology") == ScoreRow("2019", "Seoul", "technology", None, 6, page=3)


@pytest.mark.parametrize(
    "city, country, rank, score",
    [("London", "United Kingdom", 1, 100.0), ("New York", "United States", 2, 94.63),
     ("Reykjavik", "Iceland", 5, 85.35), ("Vienna", "Austria", 10, 78.85)],
)
def test_published_figures_are_read_with_their_country(rows, city, country, rank, score):
    row = find_row(rows, city)
    assert (row.country, row.rank, row.score) == (country, rank, score)


def test_counts(rows):
    totals = [row for row in rows if row.measure == "total"]
    assert len(totals) == 20 and [row.rank for row in totals] == list(range(1, 21))
    assert len(rows) == 20 * 10
    assert {row.edition for row in rows} == {"2019"}
    # The IESE table prints two-decimal scores and no tie markers: nothing is marked tied.
    assert not any(row.rank_tied for row in rows)


def test_dimension_table_is_optional():
    rows = parse_cimi_report(read_fixture(CIMI2019), CIMI2019, options={"dimensions": None})
    assert {row.measure for row in rows} == {"total"}


@pytest.mark.parametrize(
    "code, name, reason",
    [
        ("cimi", "variant_renamed_header.pdf", "no page has a table header with .*'ranking'"),
        ("cimi", "variant_wrapped_row.pdf", "page 2: row 18: unexpected line 'DC'"),
        ("gdci", "gdci2019_report_extract.pdf", "does not mention any of .*Cities in Motion"),
        ("qol", "mercer_qol2019_ranking.html", "not a PDF"),
    ],
)
def test_changed_or_other_layouts_are_refused(code, name, reason):
    with pytest.raises(LayoutError, match=f"{name}: .*{reason}"):
        parse_cimi_report(read_fixture(name, code), name)


@pytest.mark.parametrize("data", [b"", b"%PDF-1.4 not really", b"\xff\xfe\x00garbage"])
def test_empty_or_garbage_bytes_are_refused(data):
    with pytest.raises(LayoutError, match="^cimi.pdf: "):
        parse_cimi_report(data, "cimi.pdf")
