"""Startup Genome ranking-page parser against the built GSER 2025 (table) and 2024 (cards) pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cityrank_pipeline.sources.base import LayoutError, PublicationError, ScoreRow
from cityrank_pipeline.sources.gser import parse_gser_ranking

FIXTURES = Path(__file__).parent / "fixtures" / "publishers"
GSER2025 = "gser2025_ranking_top40.html"
GSER2024 = "gser2024_ranking_cards.html"


def read_fixture(name: str, code: str = "gser") -> bytes:
    return (FIXTURES / code / name).read_bytes()


@pytest.fixture(scope="module")
def rows2025() -> list[ScoreRow]:
    return parse_gser_ranking(read_fixture(GSER2025), GSER2025)


@pytest.fixture(scope="module")
def rows2024() -> list[ScoreRow]:
    return parse_gser_ranking(read_fixture(GSER2024), GSER2024, options={"layout": "cards"})


def find_row(rows: list[ScoreRow], city: str, measure: str = "total") -> ScoreRow:
    return next(row for row in rows if row.city == city and row.measure == measure)


def test_seoul_2025_is_read_exactly(rows2025):
    assert find_row(rows2025, "Seoul") == ScoreRow("2025", "Seoul", "total", None, 8, note="change +1")


def test_top_40_with_ties(rows2025):
    assert len(rows2025) == 40 and {row.edition for row in rows2025} == {"2025"}
    assert [(row.city, row.rank) for row in rows2025 if row.rank_tied] == [("Boston", 5), ("Beijing", 5)]
    assert [find_row(rows2025, city).rank for city in ("Silicon Valley", "Shanghai", "Paris", "Bengaluru")] == [1, 10, 12, 14]
    assert all(row.score is None for row in rows2025)  # the ranking has no overall score


def test_seoul_2024_factor_scores_from_cards(rows2024):
    seoul = {row.measure: (row.rank, row.score) for row in rows2024 if row.city == "Seoul"}
    assert seoul == {
        "total": (9, None), "performance": (None, 9.0), "funding": (None, 10.0),
        "market_reach": (None, 7.0), "talent_experience": (None, 9.0), "knowledge": (None, 9.0),
    }


def test_2024_cards_counts_and_ties(rows2024):
    totals = [row for row in rows2024 if row.measure == "total"]
    assert len(totals) == 30 and len(rows2024) == 30 * 6
    assert [(row.city, row.rank) for row in totals if row.rank_tied] == [
        ("London", 2), ("New York", 2), ("Los Angeles", 4), ("Tel Aviv", 4)
    ]


def test_edition_from_the_caller_when_the_page_does_not_print_it():
    data = read_fixture(GSER2025).replace(b" 2025", b"").replace(b"gser2025", b"gser")
    assert {row.edition for row in parse_gser_ranking(data, GSER2025, edition="2025")} == {"2025"}
    with pytest.raises(LayoutError, match=f"{GSER2025}: .*the edition is not printed"):
        parse_gser_ranking(data, GSER2025)


def test_edition_disagreeing_with_the_page_is_refused():
    with pytest.raises(PublicationError, match="prints edition '2025'"):
        parse_gser_ranking(read_fixture(GSER2025), GSER2025, edition="2024")


def test_page_promising_more_rows_than_it_has_is_refused():
    data = read_fixture(GSER2025).replace(b"Top 40", b"Top 50")
    with pytest.raises(LayoutError, match=f"{GSER2025}: ranking has 40 rows, expected 50"):
        parse_gser_ranking(data, GSER2025)


def test_a_missing_row_is_refused_as_a_gap():
    data = re.sub(rb"<tr[^>]*><td>9</td><td>Tokyo</td>.*?</tr>", b"", read_fixture(GSER2025))
    with pytest.raises(LayoutError, match=rf"{GSER2025}: rank 10 \(Shanghai\) follows rank 8 \(Seoul\)"):
        parse_gser_ranking(data, GSER2025)


@pytest.mark.parametrize(
    "code, name, options, reason",
    [
        ("gser", GSER2025, {"table": {"columns": {"rank": ["position"], "city": ["ecosystem"]}}}, "no table has columns"),
        ("gser", GSER2024, {}, "no table has columns"),  # cards page read as a table
        ("gser", GSER2025, {"layout": "cards"}, "no ranked items"),
        ("qol", "mercer_qol2019_ranking.html", {}, "does not mention any of"),
        ("gfci", "gfci38_report_extract.pdf", {}, "is a PDF"),
    ],
)
def test_changed_or_other_layouts_are_refused(code, name, options, reason):
    with pytest.raises(LayoutError, match=f"{name}: .*{reason}"):
        parse_gser_ranking(read_fixture(name, code), name, options=options)


def test_renamed_column_header_is_refused():
    data = read_fixture(GSER2025).replace(b"<th>Ecosystem</th>", b"<th>Hub</th>")
    with pytest.raises(LayoutError, match=f"{GSER2025}: no table has columns.*Hub"):
        parse_gser_ranking(data, GSER2025)


@pytest.mark.parametrize("data", [b"", b"\x00\x00\x00\x00", b"<html><body>Startup Ecosystem 2025</body></html>"])
def test_empty_or_garbage_bytes_are_refused(data):
    with pytest.raises(LayoutError, match="^gser.html: "):
        parse_gser_ranking(data, "gser.html")
