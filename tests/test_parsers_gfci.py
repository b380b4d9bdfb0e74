"""The GFCI report parser on the real GFCI 32 report and on real-layout fixtures.

The real report is not in the repository: it is read from the shared folder (SHARED in
conftest.py) and the tests that need it are skipped when it is absent. Its Table 1 is also
kept as tests/fixtures/publishers/gfci/expected/GFCI_32_table1.csv, read from the PDF with
pdfplumber (pdfminer), independently of this parser's PDFium reader.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from cityrank_pipeline.catalog import load_catalog
from cityrank_pipeline.editions import rows_to_frame
from cityrank_pipeline.harmonise import harmonise_cities
from cityrank_pipeline.sources.base import LayoutError, PublicationError
from cityrank_pipeline.sources.gfci_report import AREA_COLUMNS, SECTOR_COLUMNS, parse_gfci_report
from cityrank_pipeline.validation import validate_rows
from conftest import REPO, SHARED

REAL_NAME = "GFCI_32_Report_2022.09.22_v1.0_.pdf"
FIXTURES = REPO / "tests" / "fixtures" / "publishers" / "gfci"
EXPECTED_TABLE_1 = FIXTURES / "expected" / "GFCI_32_table1.csv"


def real_report_bytes() -> bytes:
    path = SHARED / "publications" / "gfci" / REAL_NAME
    if not path.is_file():
        pytest.skip(f"{path} is absent: the real GFCI report is not in the repo; set CITYRANK_SHARED_DIR")
    return path.read_bytes()


@pytest.fixture(scope="module")
def gfci32():
    return parse_gfci_report(real_report_bytes(), REAL_NAME)


def by_measure(rows, measure):
    return [row for row in rows if row.measure == measure]


def test_table_1_matches_the_independently_read_csv_row_by_row(gfci32):
    with EXPECTED_TABLE_1.open(newline="", encoding="utf-8") as handle:
        expected = [(r["edition"], r["centre"], int(r["rank"]), float(r["rating"]), int(r["previous_rank"]),
                     float(r["previous_rating"])) for r in csv.DictReader(handle)]
    got = [(r.edition, r.city, r.rank, r.score, r.previous_rank, r.previous_score) for r in by_measure(gfci32, "total")]
    assert len(expected) == 119
    for number, (want, have) in enumerate(zip(expected, got), start=1):
        assert have == want, f"row {number}"
    assert len(got) == len(expected)


def test_seoul_is_11th_with_718_after_12th_with_705(gfci32):
    [seoul] = [r for r in by_measure(gfci32, "total") if r.city == "Seoul"]
    assert (seoul.edition, seoul.rank, seoul.score, seoul.previous_rank, seoul.previous_score, seoul.page) == \
        ("GFCI 32", 11, 718.0, 12, 705.0, 6)


def test_table_1_is_joined_over_its_two_pages(gfci32):
    pages = Counter(r.page for r in by_measure(gfci32, "total"))
    assert pages == {6: 60, 7: 59}


def test_sub_rankings_have_their_printed_sizes(gfci32):
    sizes = Counter(r.measure for r in gfci32)
    assert all(sizes[m] == 15 for m in [*AREA_COLUMNS.values(), *SECTOR_COLUMNS.values()])
    assert sizes["fintech"] == 113 and sizes["total"] == 119
    assert len(gfci32) == 119 + 113 + 15 * 13
    assert all(r.score is None and r.rank is not None for r in gfci32 if r.measure in AREA_COLUMNS.values())
    seoul = {r.measure: r.rank for r in gfci32 if r.city == "Seoul"}
    assert (seoul["business_environment"], seoul["human_capital"], seoul["fintech"], seoul["fintech_sector"]) == (9, 5, 14, 4)


def test_every_row_carries_its_page_and_the_edition(gfci32):
    assert all(r.page for r in gfci32) and {r.edition for r in gfci32} == {"GFCI 32"}
    assert {r.page for r in gfci32} == {6, 7, 12, 13, 45, 46}


def test_fintech_rows_carry_the_previous_fintech_figures(gfci32):
    [bahamas] = [r for r in by_measure(gfci32, "fintech") if r.city == "Bahamas"]
    assert (bahamas.rank, bahamas.score, bahamas.previous_rank, bahamas.previous_score, bahamas.page) == (113, 511.0, 107, 516.0, 46)


def test_every_centre_harmonises_and_the_edition_passes_its_suite(gfci32):
    catalog = load_catalog(REPO / "assets")
    entry = catalog["GFCI"]
    frame, report = harmonise_cities(rows_to_frame(gfci32), catalog, entry)
    assert report.unmapped == []
    result = validate_rows(frame, entry, REPO / "expectations" / "gfci.json", complete=True,
                           city_count=entry.editions["GFCI 32"].city_count)
    assert result.success, result.summary()


def test_the_callers_edition_must_agree_with_the_printed_one():
    with pytest.raises(PublicationError, match="prints edition 'GFCI 32' but was expected to be 'GFCI 33'"):
        parse_gfci_report(real_report_bytes(), REAL_NAME, edition="GFCI 33")


def test_the_catalog_city_count_is_enforced():
    with pytest.raises(LayoutError, match="page 7: .*end at rank 119 .*the edition ranks 120"):
        parse_gfci_report(real_report_bytes(), REAL_NAME, options={"city_count": 120})


# --------------------------------------------------------------------------- real-layout fixtures


def test_a_printed_tie_is_a_tie_not_an_error():
    rows = parse_gfci_report((FIXTURES / "gfci38_report_extract.pdf").read_bytes(), "gfci38.pdf")
    tied = [(r.city, r.rank, r.page) for r in rows if r.measure == "total" and r.rank_tied]
    assert tied == [("Boston", 21, 2), ("Sydney", 21, 2)]
    assert [r.rank for r in by_measure(rows, "total")][20:23] == [21, 21, 23]
    assert len(by_measure(rows, "total")) == 120


def test_a_centre_new_to_the_index_has_no_previous_figures():
    rows = parse_gfci_report((FIXTURES / "gfci38_report_extract.pdf").read_bytes(), "gfci38.pdf")
    [warsaw] = [r for r in by_measure(rows, "total") if r.city == "Warsaw"]
    assert (warsaw.rank, warsaw.previous_rank, warsaw.previous_score) == (30, None, None)


@pytest.mark.parametrize("name, reason", [
    ("variant_renamed_header.pdf", r"page 2: Table 1 \(the GFCI ranks and ratings\): header does not print rank and rating"),
    ("variant_missing_row.pdf", r"page 2: the GFCI ranks and ratings: rank 18 \(Beijing\) where 17 was expected"),
])
def test_fixture_variants_are_refused(name, reason):
    with pytest.raises(LayoutError, match=reason):
        parse_gfci_report((FIXTURES / name).read_bytes(), name)


@pytest.mark.parametrize("data, reason", [
    (b"", "the file is empty"), (b"\x89PNG\r\n\x1a\n", "not a PDF"), (b"%PDF-1.7\n1 0 obj", "the PDF is truncated"),
])
def test_empty_or_broken_bytes_are_refused(data, reason):
    with pytest.raises(LayoutError, match=f"^broken.pdf: {reason}"):
        parse_gfci_report(data, "broken.pdf")


def test_another_publishers_pdf_is_refused():
    name = "cimi2019_report_extract.pdf"
    with pytest.raises(LayoutError, match="not a GFCI report"):
        parse_gfci_report((FIXTURES.parent / "cimi" / name).read_bytes(), name)


def test_unknown_options_are_a_configuration_error():
    with pytest.raises(ValueError, match="unknown option"):
        parse_gfci_report(b"", "x.pdf", options={"ranking": {}})
