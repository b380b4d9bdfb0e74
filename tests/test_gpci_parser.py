"""The GPCI summary-PDF parser against the real 2013 and 2015 reports and against broken input.

The real reports are not shipped in the repository; they are read from the shared folder
(``$CITYRANK_SHARED_DIR``, by default ``<repo>/../shared``) and the tests that need them are
skipped when it is absent. Synthetic GPCI-like PDFs, drawn with matplotlib, stand in for
other editions of the two layouts and for tables with a city or a rank missing.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest

from cityrank_pipeline.sources.base import LayoutError, ScoreRow
from cityrank_pipeline.sources.gpci import FUNCTIONS, MEASURES, _parse_comprehensive_line, parse_gpci_summary
from cityrank_pipeline.sources.tidy_csv import TIDY_COLUMNS, rows_to_csv

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CITYRANK_SHARED_DIR", REPO.parent / "shared"))
GPCI_DIR = SHARED / "publications" / "gpci"
EDITIONS = ("2013", "2015")


def _shared_pdf(edition: str) -> Path:
    path = GPCI_DIR / f"GPCI{edition}_en.pdf"
    if not path.is_file():
        pytest.skip(f"{path} is absent: the GPCI reports are not in the repo; set CITYRANK_SHARED_DIR to the shared folder")
    return path


def _expected_path(edition: str) -> Path:
    path = GPCI_DIR / "expected" / f"GPCI{edition}_en.csv"
    if not path.is_file():
        pytest.skip(f"{path} is absent: set CITYRANK_SHARED_DIR to the shared folder")
    return path


_parsed: dict[str, list[ScoreRow]] = {}


def _parse_shared(edition: str) -> list[ScoreRow]:
    """Each real report is parsed once for the whole module."""
    if edition not in _parsed:
        path = _shared_pdf(edition)
        _parsed[edition] = parse_gpci_summary(path.read_bytes(), path.name)
    return _parsed[edition]


def _tidy(row: ScoreRow) -> tuple:
    return (row.edition, row.city, row.measure, row.score, row.rank)


# --------------------------------------------------------------------------- the real reports


@pytest.mark.parametrize("edition", EDITIONS)
def test_every_row_matches_the_expected_parse(edition):
    with _expected_path(edition).open(newline="", encoding="utf-8") as handle:
        expected = [
            (r["edition"], r["city"], r["measure"], float(r["score"]), int(r["rank"])) for r in csv.DictReader(handle)
        ]
    rows = _parse_shared(edition)
    assert len(rows) == 280
    assert sorted(map(_tidy, rows)) == sorted(expected)
    # …and in the expected file's order: totals by rank, then rank by rank each function.
    assert [_tidy(r) for r in rows] == expected


@pytest.mark.parametrize("edition", EDITIONS)
def test_rows_to_csv_reproduces_the_expected_file_exactly(edition):
    buffer = io.StringIO()
    rows_to_csv(_parse_shared(edition), buffer)
    assert buffer.getvalue() == _expected_path(edition).read_bytes().decode("utf-8")


@pytest.mark.parametrize("edition", EDITIONS)
def test_totals_carry_last_editions_rank_and_score(edition):
    rows = _parse_shared(edition)
    totals = [r for r in rows if r.measure == "total"]
    assert len(totals) == 40
    for row in totals:
        assert isinstance(row.previous_rank, int) and 1 <= row.previous_rank <= 40
        assert isinstance(row.previous_score, float) and row.previous_score > 0
    assert sorted(r.previous_rank for r in totals) == list(range(1, 41))
    assert all(r.previous_rank is None and r.previous_score is None for r in rows if r.measure != "total")


def test_previous_figures_and_pages_as_printed():
    by_city_2013 = {r.city: r for r in _parse_shared("2013") if r.measure == "total"}
    assert (by_city_2013["London"].previous_rank, by_city_2013["London"].previous_score) == (1, 1452.5)
    # "Seou（l 1104.4）［6（1081.1）］": the glyphs are out of order in the file.
    assert (by_city_2013["Seoul"].score, by_city_2013["Seoul"].previous_score) == (1104.4, 1081.1)
    by_city_2015 = {r.city: r for r in _parse_shared("2015") if r.measure == "total"}
    assert (by_city_2015["Los Angeles"].previous_rank, by_city_2015["Los Angeles"].previous_score) == (20, 912.0)
    assert by_city_2015["Washington, D.C."].score == 865.5
    # Pages as found, not as configured: the ranking and table sit on different pages.
    assert {(r.measure == "total", r.page) for r in _parse_shared("2013")} == {(True, 10), (False, 11)}
    assert {(r.measure == "total", r.page) for r in _parse_shared("2015")} == {(True, 12), (False, 13)}


def test_edition_and_city_count_from_the_catalog_are_checked():
    path = _shared_pdf("2015")
    data = path.read_bytes()
    assert parse_gpci_summary(data, path.name, edition="2015", options={"city_count": 40})
    with pytest.raises(LayoutError, match="2015 edition, not 2016"):
        parse_gpci_summary(data, path.name, edition="2016")
    with pytest.raises(LayoutError, match="the edition ranks 48"):
        parse_gpci_summary(data, path.name, options={"city_count": 48})


# --------------------------------------------------------------------------- broken input


def _assert_layout_error(data: bytes, source: str) -> LayoutError:
    with pytest.raises(LayoutError) as caught:
        parse_gpci_summary(data, source)
    assert caught.value.source == source
    assert str(caught.value).startswith(source)
    assert "\n" not in caught.value.reason
    return caught.value


def test_truncated_report_is_refused():
    path = _shared_pdf("2013")
    data = path.read_bytes()
    error = _assert_layout_error(data[: len(data) // 2], "GPCI2013_en.pdf")
    assert "truncated" in error.reason


def test_damaged_pdf_is_refused_with_the_pdf_library_error():
    error = _assert_layout_error(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\nnonsense\n%%EOF\n", "damaged.pdf")
    assert "not a readable PDF" in error.reason


def test_text_file_named_pdf_is_refused(tmp_path):
    renamed = tmp_path / "ranking.pdf"
    renamed.write_text("rank,city,score\n1,London,1457.9\n", encoding="utf-8")
    error = _assert_layout_error(renamed.read_bytes(), renamed.name)
    assert "not a PDF" in error.reason


def test_empty_file_is_refused():
    error = _assert_layout_error(b"", "GPCI2099_en.pdf")
    assert "empty" in error.reason


def test_pdf_of_another_index_is_refused():
    data = _draw_pdf(
        [
            [
                (60, 780, "The Global Financial Centres Index 34", 0),
                (60, 760, "Rank Centre Rating", 0),
                (60, 745, "1 New York(763)[1(760)]", 0),
                (60, 730, "2 London(744)[2(731)]", 0),
                (60, 715, "3 Singapore(742)[3(726)]", 0),
            ]
        ]
    )
    error = _assert_layout_error(data, "GFCI34_Report.pdf")
    assert "not a Global Power City Index publication" in error.reason


# --------------------------------------------------------------------------- synthetic editions

# A three-city edition: each function's ranking, best first; the totals are the sums.
_FUNCTION_RANKINGS = {
    "economy": [("Alpha", 100.0), ("Beta City", 90.0), ("Gamma", 80.0)],
    "r_and_d": [("Beta City", 70.0), ("Alpha", 60.0), ("Gamma", 50.0)],
    "cultural_interaction": [("Gamma", 95.0), ("Alpha", 85.0), ("Beta City", 75.0)],
    "livability": [("Alpha", 120.0), ("Gamma", 110.0), ("Beta City", 100.0)],
    "environment": [("Beta City", 99.0), ("Gamma", 98.0), ("Alpha", 97.0)],
    "accessibility": [("Alpha", 50.0), ("Beta City", 40.0), ("Gamma", 30.0)],
}
_TOTALS = [("Alpha", 512.0, "[2(500.0)]"), ("Beta City", 474.0, "[1(510.0)]"), ("Gamma", 463.0, "[-]")]
_HEADERS = {
    "total": "Total Score",
    "economy": "Economy",
    "r_and_d": "R&D",
    "cultural_interaction": "Cultural",
    "livability": "Livability",
    "environment": "Environment",
    "accessibility": "Accessibility",
}


def _draw_pdf(pages: list[list[tuple[float, float, str, int]]]) -> bytes:
    """A PDF with the given (x, y, text, rotation) items per A4 page, drawn by matplotlib."""
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    buffer = io.BytesIO()
    with PdfPages(buffer) as pdf:
        for items in pages:
            figure = Figure(figsize=(595 / 72, 842 / 72))
            for x, y, text, rotation in items:
                figure.text(x / 595, y / 842, text, fontsize=7, rotation=rotation, rotation_mode="anchor", va="baseline")
            pdf.savefig(figure)
    return buffer.getvalue()


_FOOTER = (60, 30, "Global Power City Index 2099", 0)


def _ranking_page() -> list[tuple[float, float, str, int]]:
    """The comprehensive ranking as the reports print it, with ASCII brackets."""
    lines = [(60, 760 - 14 * row, f"{row + 1} {city}({score:.1f}){previous}", 0) for row, (city, score, previous) in enumerate(_TOTALS)]
    return [(60, 780, "Fig. 3-2 Comprehensive Ranking", 0), *lines, _FOOTER]


def _gpci_like_pdf(*, rotated: bool = False, ranks=(1, 2, 3), drop=None) -> bytes:
    """A 2099 "edition" in either layout: upright, or (like 2013) a rotated table with totals.

    `ranks` are the rank labels printed in the table; `drop` = (row, measure) leaves a cell out.
    """
    columns = (["total"] if rotated else []) + list(FUNCTIONS)
    cells = {"total": [(city, score) for city, score, _ in _TOTALS], **_FUNCTION_RANKINGS}
    table: list[tuple[float, float, str]] = []  # (along the row, down the table, text)
    for index, measure in enumerate(columns):
        table.append((60 + 80 * index, 0, _HEADERS[measure]))
        if measure == "cultural_interaction":
            table.append((60 + 80 * index, 8, "Interaction"))
    table.append((20, 4, "Rank"))
    for row, rank in enumerate(ranks):
        down = 24 + 14 * row
        table.append((20, down, str(rank)))
        for index, measure in enumerate(columns):
            if drop == (row, measure):
                continue
            city, score = cells[measure][row]
            table.append((60 + 80 * index, down, city))
            table.append((100 + 80 * index, down, f"{score:.1f}"))
    if rotated:  # reading runs up the page, rows go left to right (as in the 2013 report)
        table_page = [(80 + down, 80 + along, text, 90) for along, down, text in table]
    else:
        table_page = [(20 + along, 700 - down, text, 0) for along, down, text in table]
    return _draw_pdf([[(60, 780, "Global Power City Index 2099", 0)], _ranking_page(), [*table_page, _FOOTER]])


@pytest.mark.parametrize("rotated", [False, True], ids=["upright", "rotated"])
def test_another_edition_of_either_layout_parses_unchanged(rotated):
    rows = parse_gpci_summary(_gpci_like_pdf(rotated=rotated), "GPCI2099_en.pdf")
    assert len(rows) == 3 * len(MEASURES)
    assert {r.edition for r in rows} == {"2099"}
    assert [(r.city, r.score, r.rank, r.previous_rank, r.previous_score, r.page) for r in rows[:3]] == [
        ("Alpha", 512.0, 1, 2, 500.0, 2),
        ("Beta City", 474.0, 2, 1, 510.0, 2),
        ("Gamma", 463.0, 3, None, None, 2),  # new to the index: "[-]"
    ]
    for measure, ranking in _FUNCTION_RANKINGS.items():
        got = [(r.city, r.score) for r in rows if r.measure == measure]
        assert got == ranking
        assert [r.rank for r in rows if r.measure == measure] == [1, 2, 3]
        assert {r.page for r in rows if r.measure == measure} == {3}


@pytest.mark.parametrize("rotated", [False, True], ids=["upright", "rotated"])
def test_table_with_a_missing_city_is_refused(rotated):
    error = _assert_layout_error(_gpci_like_pdf(rotated=rotated, drop=(1, "livability")), "GPCI2099_en.pdf")
    assert error.page == 3 and "row 2" in error.reason


def test_table_with_a_rank_gap_is_refused():
    error = _assert_layout_error(_gpci_like_pdf(ranks=(1, 2, 4)), "GPCI2099_en.pdf")
    assert error.page == 3 and "rank 4 where 3 was expected" in error.reason


def test_report_without_the_function_table_is_refused():
    error = _assert_layout_error(_draw_pdf([_ranking_page()]), "GPCI2099_en.pdf")
    assert "no function-specific ranking table" in error.reason


def test_report_without_the_comprehensive_ranking_is_refused():
    error = _assert_layout_error(_draw_pdf([[(60, 780, "Global Power City Index 2099", 0)]]), "GPCI2099_en.pdf")
    assert "no comprehensive ranking" in error.reason


@pytest.mark.parametrize(
    ("printed", "read"),
    [
        ("1 London（1457.9）［1（1452.5）］", (1, "London", 1457.9, 1, 1452.5)),
        ("6 Seou（l 1104.4）［6（1081.1）］", (6, "Seoul", 1104.4, 6, 1081.1)),
        ("30 Washington, D.C（. 865.5）［24（884.4）］", (30, "Washington, D.C.", 865.5, 24, 884.4)),
        ("34 Kuala Lumpu（r 832.3）［34（786.7）］", (34, "Kuala Lumpur", 832.3, 34, 786.7)),
        ("41 Dubai（700.0）［－］", (41, "Dubai", 700.0, None, None)),
    ],
)
def test_comprehensive_lines_with_glyphs_out_of_order(printed, read):
    # Text as pdfminer/pdfplumber give it, glyphs in drawing order (the parser itself orders
    # them by position first, which already mends these).
    entry = _parse_comprehensive_line(printed)
    assert (entry.rank, entry.city, entry.score, entry.previous_rank, entry.previous_score) == read


def test_tidy_csv_columns_quoting_and_missing_figures():
    buffer = io.StringIO()
    rows_to_csv(
        [
            ScoreRow("2015", "Washington, D.C.", "total", 865.5, 30),
            ScoreRow("2015", "Nowhere", "economy", None, None),
        ],
        buffer,
    )
    assert buffer.getvalue() == (
        ",".join(TIDY_COLUMNS) + "\r\n" + '2015,"Washington, D.C.",total,865.5,30\r\n' + "2015,Nowhere,economy,,\r\n"
    )
