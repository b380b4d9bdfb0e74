"""Kearney Global Cities Report parser (GCI and GCO top 30) against the built 2025 extract."""

from __future__ import annotations

from pathlib import Path

import pytest

from cityrank_pipeline.sources.base import LayoutError, ScoreRow
from cityrank_pipeline.sources.kearney import GCI_DIMENSIONS, parse_kearney_report

FIXTURES = Path(__file__).parent / "fixtures" / "publishers"
REPORT = "kearney_gcr2025_extract.pdf"


def read_fixture(name: str, code: str = "kearney") -> bytes:
    return (FIXTURES / code / name).read_bytes()


@pytest.fixture(scope="module")
def gci() -> list[ScoreRow]:
    return parse_kearney_report(read_fixture(REPORT), REPORT, options={"table": "gci"})


@pytest.fixture(scope="module")
def gco() -> list[ScoreRow]:
    return parse_kearney_report(read_fixture(REPORT), REPORT, options={"table": "gco"})


def find_row(rows: list[ScoreRow], city: str, measure: str = "total") -> ScoreRow:
    return next(row for row in rows if row.city == city and row.measure == measure)


def test_gci_is_the_default_table(gci):
    assert parse_kearney_report(read_fixture(REPORT), REPORT) == gci


def test_seoul_gci_row_and_dimensions_are_read_exactly(gci):
    assert find_row(gci, "Seoul") == ScoreRow("2025", "Seoul", "total", 57.1, 12, page=2)
    dimensions = {row.measure: row.score for row in gci if row.city == "Seoul" and row.measure != "total"}
    assert dimensions == dict(zip(GCI_DIMENSIONS, [63.3, 60.2, 52.7, 54.3, 58.8]))


def test_seoul_gco_row_is_read_exactly(gco):
    assert find_row(gco, "Seoul") == ScoreRow("2025", "Seoul", "total", 63.9, 2, page=3)


@pytest.mark.parametrize("city, rank", [("New York", 1), ("London", 2), ("Paris", 3), ("Tokyo", 4), ("Singapore", 5)])
def test_gci_published_top_five(gci, city, rank):
    assert find_row(gci, city).rank == rank


@pytest.mark.parametrize("city, rank", [("Munich", 1), ("Singapore", 3), ("San Francisco", 4), ("Copenhagen", 5)])
def test_gco_published_top_five(gco, city, rank):
    assert find_row(gco, city).rank == rank


def test_counts_are_thirty_per_index(gci, gco):
    assert len([row for row in gci if row.measure == "total"]) == 30
    assert len(gci) == 30 * 6  # total plus five dimension scores
    assert len(gco) == 30 and {row.measure for row in gco} == {"total"}  # GCO table prints no dimensions
    assert {row.edition for row in gci + gco} == {"2025"}


def test_ties_and_names_are_kept_as_printed(gci):
    assert [(row.city, row.rank) for row in gci if row.rank_tied and row.measure == "total"] == [
        ("Stockholm", 29), ("Zurich", 29)
    ]
    assert find_row(gci, "Washington, D.C.").rank == 19


def test_unknown_table_choice_is_a_configuration_error():
    with pytest.raises(ValueError, match="gci' or 'gco"):
        parse_kearney_report(read_fixture(REPORT), REPORT, options={"table": "gpci"})


def test_a_short_table_is_refused_as_partial():
    with pytest.raises(LayoutError, match=f"{REPORT}: .*has 30 rows, expected 40"):
        parse_kearney_report(read_fixture(REPORT), REPORT, options={"expected_rows": 40})


@pytest.mark.parametrize(
    "code, name, options, reason",
    [
        ("kearney", "variant_renamed_header.pdf", {"table": "gci"},
         r"no page has a table header with \['rank', 'city', 'score'\] under a title with \['Global Cities Index'\]"),
        ("gfci", "gfci38_report_extract.pdf", {}, "does not mention any of"),
        ("gdci", "gdci2019_report_extract.pdf", {}, "does not mention any of"),
        ("gser", "gser2025_ranking_top40.html", {}, "not a PDF"),
    ],
)
def test_changed_or_other_layouts_are_refused(code, name, options, reason):
    with pytest.raises(LayoutError, match=f"{name}: .*{reason}"):
        parse_kearney_report(read_fixture(name, code), name, options=options)


def test_renamed_gci_header_leaves_the_gco_table_readable():
    name = "variant_renamed_header.pdf"
    assert len(parse_kearney_report(read_fixture(name), name, options={"table": "gco"})) == 30


@pytest.mark.parametrize("data", [b"", b"%PDF-1.5 \x00\x00 truncated", b"just text"])
def test_empty_or_garbage_bytes_are_refused(data):
    with pytest.raises(LayoutError, match="^gcr.pdf: "):
        parse_kearney_report(data, "gcr.pdf")
