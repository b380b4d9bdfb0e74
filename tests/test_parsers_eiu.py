"""Press top-list parser on EIU Global Liveability summaries: 2024 HTML and 2025 PDF."""

from __future__ import annotations

from pathlib import Path

import pytest

from cityrank_pipeline.sources.base import LayoutError, ScoreRow
from cityrank_pipeline.sources.press_list import CATEGORIES, parse_press_top_list

FIXTURES = Path(__file__).parent / "fixtures" / "publishers"
EIU2024 = "eiu_liveability2024_summary.html"
EIU2025 = "eiu_liveability2025_summary.pdf"


def read_fixture(name: str, code: str = "eiu") -> bytes:
    return (FIXTURES / code / name).read_bytes()


@pytest.fixture(scope="module")
def rows2024() -> list[ScoreRow]:
    return parse_press_top_list(read_fixture(EIU2024), EIU2024)


@pytest.fixture(scope="module")
def rows2025() -> list[ScoreRow]:
    return parse_press_top_list(read_fixture(EIU2025), EIU2025)


def find_row(rows: list[ScoreRow], city: str, measure: str = "total") -> ScoreRow:
    return next(row for row in rows if row.city == city and row.measure == measure)


def test_seoul_is_not_in_the_free_summary(rows2024, rows2025):
    # The EIU prints Seoul's rank only in the paid report: the summary must not produce one.
    assert "Seoul" not in {row.city for row in rows2024 + rows2025}


def test_2024_top_row_and_categories_are_read_exactly(rows2024):
    assert find_row(rows2024, "Vienna") == ScoreRow("2024", "Vienna", "total", 98.4, 1, country="Austria")
    vienna = {row.measure: row.score for row in rows2024 if row.city == "Vienna" and row.measure != "total"}
    assert vienna == dict(zip(CATEGORIES, [100.0, 100.0, 93.5, 100.0, 100.0]))


def test_2024_top_and_bottom_tables_and_ties(rows2024):
    totals = [row for row in rows2024 if row.measure == "total"]
    assert len(totals) == 20 and len(rows2024) == 20 * 6
    assert [row.rank for row in totals] == list(range(1, 9)) + [9, 9] + list(range(164, 174))
    assert [(row.city, row.score) for row in totals if row.rank_tied] == [("Osaka", 96.0), ("Auckland", 96.0)]
    assert find_row(rows2024, "Damascus").rank == 173


@pytest.mark.parametrize(
    "city, rank, tied, score",
    [("Copenhagen", 1, False, 98.0), ("Vienna", 2, True, 97.1), ("Zurich", 2, True, 97.1), ("Osaka", 7, True, 96.0),
     ("Auckland", 7, True, 96.0), ("Adelaide", 9, False, 95.9)],
)
def test_2025_pdf_top_ten(rows2025, city, rank, tied, score):
    row = find_row(rows2025, city)
    assert (row.rank, row.rank_tied, row.score, row.page, row.edition) == (rank, tied, score, 2, "2025")


def test_2025_pdf_counts_and_countries(rows2025):
    assert len(rows2025) == 20 and {row.measure for row in rows2025} == {"total"}
    assert find_row(rows2025, "Port Moresby").country == "Papua New Guinea"


def test_rank_order_can_be_required_per_catalog_entry(rows2025):
    # Top 10 then bottom 10 is not one run of ranks: asking for an unbroken ranking refuses it.
    with pytest.raises(LayoutError, match=f"{EIU2025}: page 2: rank 164"):
        parse_press_top_list(read_fixture(EIU2025), EIU2025, options={"check_rank_order": True})


@pytest.mark.parametrize(
    "code, name, reason",
    [
        ("eiu", "variant_renamed_header.pdf", r"no page has a table header with \['rank', 'city', 'score'\]"),
        ("gdci", "gdci2019_report_extract.pdf", "does not mention any of"),
        ("cimi", "cimi2019_report_extract.pdf", "does not mention any of"),
    ],
)
def test_changed_or_other_layouts_are_refused(code, name, reason):
    with pytest.raises(LayoutError, match=f"{name}: .*{reason}"):
        parse_press_top_list(read_fixture(name, code), name)


def test_renamed_html_rank_header_is_refused():
    data = read_fixture(EIU2024).replace(b"<th>Rank</th>", b"<th>Position</th>")
    with pytest.raises(LayoutError, match=f"{EIU2024}: no ranked items"):
        parse_press_top_list(data, EIU2024)


def test_catalog_can_require_the_score_column_so_a_renamed_one_is_refused():
    # By default a score column is optional (Mercer's 2023 list prints none), so a renamed
    # score header would leave scores empty; an EIU entry can require it instead.
    data = read_fixture(EIU2024).replace(b"<th>Overall score</th>", b"<th>Liveability</th>")
    options = {"layout": "table", "table": {"required": ["rank", "city", "score"]}}
    with pytest.raises(LayoutError, match=f"{EIU2024}: no table has columns for \\['city', 'rank', 'score'\\]"):
        parse_press_top_list(data, EIU2024, options=options)


@pytest.mark.parametrize("data", [b"", b"%PDF-1.6\n1 0 obj garbage", b"\xde\xad\xbe\xef" * 10])
def test_empty_or_garbage_bytes_are_refused(data):
    with pytest.raises(LayoutError, match="^eiu.bin: "):
        parse_press_top_list(data, "eiu.bin")
