"""GFCI report parser against the built GFCI 38 and GFCI 35 report extracts."""

from __future__ import annotations

from pathlib import Path

import pytest

from cityrank_pipeline.sources.base import LayoutError, PublicationError, ScoreRow
from cityrank_pipeline.sources.gfci import parse_gfci_report

FIXTURES = Path(__file__).parent / "fixtures" / "publishers"
GFCI38 = "gfci38_report_extract.pdf"
GFCI35 = "gfci35_report_extract.pdf"


def read_fixture(name: str, code: str = "gfci") -> bytes:
    return (FIXTURES / code / name).read_bytes()


@pytest.fixture(scope="module")
def rows38() -> list[ScoreRow]:
    return parse_gfci_report(read_fixture(GFCI38), GFCI38)


@pytest.fixture(scope="module")
def rows35() -> list[ScoreRow]:
    return parse_gfci_report(read_fixture(GFCI35), GFCI35)


def find_row(rows: list[ScoreRow], city: str, measure: str = "total") -> ScoreRow:
    return next(row for row in rows if row.city == city and row.measure == measure)


def test_seoul_row_is_read_exactly(rows38):
    assert find_row(rows38, "Seoul") == ScoreRow(
        "GFCI 38", "Seoul", "total", 740.0, 10, page=2, note="rank change 0; rating change +2"
    )


@pytest.mark.parametrize(
    "city, rank, rating, page",
    [("New York", 1, 766.0, 2), ("Hong Kong", 3, 764.0, 2), ("Singapore", 4, 763.0, 2), ("Tokyo", 15, 735.0, 2),
     ("São Paulo", 28, 723.0, 3), ("Warsaw", 30, 721.0, 3)],
)
def test_published_figures_are_read(rows38, city, rank, rating, page):
    row = find_row(rows38, city)
    assert (row.rank, row.score, row.page) == (rank, rating, page)


def test_every_centre_over_both_pages_is_read_once(rows38):
    assert len(rows38) == 30
    assert {row.edition for row in rows38} == {"GFCI 38"}
    assert {row.measure for row in rows38} == {"total"}
    assert len({row.city for row in rows38}) == 30


def test_printed_ties_are_marked(rows38):
    tied = [(row.city, row.rank) for row in rows38 if row.rank_tied]
    assert tied == [("Boston", 21), ("Sydney", 21)]
    assert find_row(rows38, "Abu Dhabi").rank == 23


def test_new_entrant_change_is_kept_in_the_note(rows38):
    assert find_row(rows38, "Warsaw").note == "rank change New; rating change New"


def test_subarea_ranks_are_read_when_printed(rows35):
    seoul = {row.measure: row.rank for row in rows35 if row.city == "Seoul"}
    assert seoul == {
        "total": 10, "business_environment": 13, "human_capital": 7, "infrastructure": 10,
        "financial_sector_development": 13, "reputational_general": 12,
    }
    assert find_row(rows35, "Seoul", "human_capital") == ScoreRow("GFCI 35", "Seoul", "human_capital", None, 7, page=3)
    assert len(rows35) == 15 * 6


def test_subareas_can_be_switched_off(rows35):
    rows = parse_gfci_report(read_fixture(GFCI35), GFCI35, options={"subareas": None})
    assert rows == [row for row in rows35 if row.measure == "total"]


def test_callers_edition_must_agree_with_the_printed_one():
    assert parse_gfci_report(read_fixture(GFCI38), GFCI38, edition="GFCI 38")
    with pytest.raises(PublicationError, match=f"{GFCI38}: prints edition 'GFCI 38'.*'GFCI 37'"):
        parse_gfci_report(read_fixture(GFCI38), GFCI38, edition="GFCI 37")


def test_header_words_can_be_changed_in_the_catalog():
    name = "variant_renamed_header.pdf"
    options = {"ranking": {"header_words": ["position", "financial centre", "score"]}}
    assert len(parse_gfci_report(read_fixture(name), name, options=options)) == 30


def test_expected_row_count_is_enforced():
    with pytest.raises(LayoutError, match=f"{GFCI38}: .* has 30 rows, expected 120"):
        parse_gfci_report(read_fixture(GFCI38), GFCI38, options={"expected_rows": 120})


def test_unknown_option_is_a_configuration_error():
    with pytest.raises(ValueError, match="header_word"):
        parse_gfci_report(read_fixture(GFCI38), GFCI38, options={"ranking": {"header_word": ["x"]}})


@pytest.mark.parametrize(
    "code, name, reason",
    [
        ("gfci", "variant_renamed_header.pdf", "no page has a table header"),
        ("gfci", "variant_missing_row.pdf", r"page 2: rank 18 \(Beijing\) follows rank 16"),
        ("cimi", "cimi2019_report_extract.pdf", "does not mention any of"),
        ("gser", "gser2025_ranking_top40.html", "not a PDF"),
    ],
)
def test_changed_or_other_layouts_are_refused(code, name, reason):
    with pytest.raises(LayoutError, match=f"{name}: .*{reason}"):
        parse_gfci_report(read_fixture(name, code), name)


@pytest.mark.parametrize("data", [b"", b"%PDF-1.7\n\x00\x01 garbage", b"\x89PNG\r\n\x1a\n"])
def test_empty_or_garbage_bytes_are_refused(data):
    with pytest.raises(LayoutError, match="^broken.pdf: "):
        parse_gfci_report(data, "broken.pdf")
