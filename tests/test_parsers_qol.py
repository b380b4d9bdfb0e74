"""Press top-list parser on Mercer Quality of Living pages: the 2019 table and 2023 press list."""

from __future__ import annotations

from pathlib import Path

import pytest

from cityrank_pipeline.sources.base import LayoutError, ScoreRow
from cityrank_pipeline.sources.press_list import parse_press_top_list

FIXTURES = Path(__file__).parent / "fixtures" / "publishers"
QOL2019 = "mercer_qol2019_ranking.html"
QOL2023 = "mercer_qol2023_press.html"


def read_fixture(name: str, code: str = "qol") -> bytes:
    return (FIXTURES / code / name).read_bytes()


@pytest.fixture(scope="module")
def rows2019() -> list[ScoreRow]:
    return parse_press_top_list(read_fixture(QOL2019), QOL2019)


@pytest.fixture(scope="module")
def rows2023() -> list[ScoreRow]:
    return parse_press_top_list(read_fixture(QOL2023), QOL2023)


def find_row(rows: list[ScoreRow], city: str) -> ScoreRow:
    return next(row for row in rows if row.city == city)


def test_seoul_2019_is_read_exactly(rows2019):
    assert find_row(rows2019, "Seoul") == ScoreRow("2019", "Seoul", "total", 88.0, 77, country="South Korea")


def test_2019_table_ties_and_names_as_printed(rows2019):
    assert [(row.city, row.rank) for row in rows2019 if row.rank_tied] == [
        ("Munich", 3), ("Vancouver", 3), ("Auckland", 3)
    ]
    assert find_row(rows2019, "Vienna") == ScoreRow("2019", "Vienna", "total", 108.6, 1, country="Austria")
    assert find_row(rows2019, "Düsseldorf").rank == 6
    assert find_row(rows2019, "Busan").rank == 94


def test_2019_counts_skip_the_section_caption(rows2019):
    assert len(rows2019) == 12 and {row.edition for row in rows2019} == {"2019"}
    assert {row.measure for row in rows2019} == {"total"}


def test_2023_press_list_without_scores(rows2023):
    assert [(row.rank, row.city) for row in rows2023] == [
        (1, "Vienna"), (2, "Zurich"), (3, "Auckland"), (4, "Copenhagen"), (5, "Geneva"), (6, "Frankfurt"),
        (7, "Munich"), (8, "Vancouver"), (9, "Sydney"), (10, "Basel"),
    ]
    assert all(row.score is None and row.edition == "2023" for row in rows2023)
    # Seoul is not on the public 2023 list, and prose ("Singapore (29=)") is not read as a row.
    assert not {"Seoul", "Singapore"} & {row.city for row in rows2023}


def test_list_entries_with_scores_and_tie_markers():
    data = read_fixture(QOL2023).replace(b"1. Vienna", b"1. Vienna (108.6)").replace(b"2. Zurich", b"2= Zurich")
    rows = parse_press_top_list(data, QOL2023)
    assert rows[0] == ScoreRow("2023", "Vienna", "total", 108.6, 1)
    assert (rows[1].rank, rows[1].rank_tied) == (2, True)


def test_layout_can_be_forced_by_the_catalog(rows2019):
    with pytest.raises(LayoutError, match=f"{QOL2019}: no ranked items"):
        parse_press_top_list(read_fixture(QOL2019), QOL2019, options={"layout": "list"})
    assert parse_press_top_list(read_fixture(QOL2019), QOL2019, options={"layout": "table"}) == rows2019


def test_list_entry_that_does_not_read_is_refused():
    data = read_fixture(QOL2023).replace(b"4. Copenhagen", b"4. Copenhagen (joint 4th)")
    with pytest.raises(LayoutError, match=f"{QOL2023}: row 4: list entry does not match"):
        parse_press_top_list(data, QOL2023)


@pytest.mark.parametrize(
    "code, name, replace, reason",
    [
        ("qol", QOL2019, (b"<th>City</th>", b"<th>Location</th>"), "no ranked items"),  # renamed header
        ("qol", QOL2019, (b"<td>Vienna</td>", b"<td>1990</td>"), "row 1: no city name"),
        ("gser", "gser2025_ranking_top40.html", (b"", b""), "does not mention any of"),
    ],
)
def test_changed_or_other_layouts_are_refused(code, name, replace, reason):
    data = read_fixture(name, code).replace(*replace) if replace[0] else read_fixture(name, code)
    with pytest.raises(LayoutError, match=f"{name}: .*{reason}"):
        parse_press_top_list(data, name)


@pytest.mark.parametrize("data", [b"", b"\x00\x01\x02\x03", b"<html>Quality of Living 2019: nothing ranked</html>"])
def test_empty_or_garbage_bytes_are_refused(data):
    with pytest.raises(LayoutError, match="^qol.html: "):
        parse_press_top_list(data, "qol.html")
