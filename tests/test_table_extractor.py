"""The generic table extractor: values, options, HTML tables and items, PDF text rows, checks.

The PDF cases read the built publisher fixtures (tests/fixtures/publishers); the HTML cases
use small inline pages so each rule is visible next to its test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cityrank_pipeline.sources.base import LayoutError, PublicationError, ScoreRow
from cityrank_pipeline.sources.tables import (
    PdfTableSpec,
    TableRecord,
    check_rank_order,
    contains_words,
    merge_options,
    parse_number,
    parse_rank,
    build_rank_city_pattern,
    read_html,
    read_html_items,
    read_html_table,
    read_pdf_pages,
    read_pdf_table,
    resolve_edition,
    build_score_rows,
)

PUBLISHERS = Path(__file__).parent / "fixtures" / "publishers"


@pytest.fixture(scope="module")
def gfci38_pages():
    return read_pdf_pages((PUBLISHERS / "tables" / "continued_ranking_sample.pdf").read_bytes(), "gfci38.pdf")


GFCI_SPEC = PdfTableSpec(
    header_words=("rank", "centre", "rating"),
    row_pattern=build_rank_city_pattern(["score"]) + r"\s+(?P<note_rank_change>\S+)\s+(?P<note_rating_change>\S+)",
)


# --- values ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [("1", (1, False)), ("=2", (2, True)), ("2=", (2, True)), ("T2", (2, True)), ("T-12", (12, True)),
     ("#5", (5, False)), (" 7. ", (7, False))],
)
def test_parse_rank_reads_ties_as_printed(text, expected):
    assert parse_rank(text) == expected


@pytest.mark.parametrize("text", ["0", "", "two", "1.5", "=", "-3"])
def test_parse_rank_refuses_what_is_not_a_rank(text):
    with pytest.raises(ValueError):
        parse_rank(text)


@pytest.mark.parametrize(
    "text, expected", [("98.4", 98.4), ("1,234.5", 1234.5), ("\u22123", -3.0), ("+1", 1.0), ("766", 766.0)]
)
def test_parse_number_reads_printed_forms(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", ["n/a", "12a", "1,23", ""])
def test_parse_number_refuses_non_numbers(text):
    with pytest.raises(ValueError):
        parse_number(text)


def test_header_words_match_case_space_and_ampersand_insensitively():
    assert contains_words("TALENT  &  Experience", "talent and experience")
    assert contains_words("Change in rank", "rank")
    assert not contains_words("Ranking", "rank")


# --- options -----------------------------------------------------------------------------


def test_merge_options_overrides_one_key_of_a_table_and_keeps_the_rest():
    defaults = {"ranking": {"header_words": ["rank"], "row_pattern": "x"}, "expected_rows": None}
    merged = merge_options(defaults, {"ranking": {"header_words": ["position"]}}, parser="p")
    assert merged["ranking"] == {"header_words": ["position"], "row_pattern": "x"}
    assert defaults["ranking"]["header_words"] == ["rank"]


def test_merge_options_refuses_unknown_keys_so_yaml_typos_fail_loudly():
    with pytest.raises(ValueError, match="header_word"):
        merge_options({"ranking": {"header_words": []}}, {"ranking": {"header_word": []}}, parser="p")
    with pytest.raises(ValueError, match="expected_row"):
        merge_options({"expected_rows": None}, {"expected_row": 3}, parser="p")


def test_merge_options_replaces_column_maps_whole():
    merged = merge_options({"table": {"columns": {"rank": ["rank"], "city": ["city"]}}},
                           {"table": {"columns": {"rank": ["pos"], "city": ["town"]}}}, parser="p")
    assert merged["table"]["columns"] == {"rank": ["pos"], "city": ["town"]}


# --- edition -----------------------------------------------------------------------------


def test_edition_is_read_from_the_document_first():
    assert resolve_edition("The Global Financial Centres Index 38", "f.pdf", pattern=r"Index\s+(\d+)",
                           label_format="GFCI {}", given=None) == "GFCI 38"


def test_edition_prefers_a_named_edition_group():
    assert resolve_edition("GSER 2025", "f", pattern=r"(GSER) (?P<edition>\d+)", label_format="{}", given=None) == "2025"


def test_edition_falls_back_to_the_callers_label_when_not_printed():
    assert resolve_edition("no year here", "f.html", pattern=r"(20\d\d)", label_format="{}", given="2024") == "2024"


def test_edition_unknown_is_a_layout_error_naming_the_file():
    with pytest.raises(LayoutError, match="f.html"):
        resolve_edition("no year here", "f.html", pattern=r"(20\d\d)", label_format="{}", given=None)


def test_edition_printed_differently_from_the_callers_is_refused():
    with pytest.raises(PublicationError, match="f.pdf.*2024.*2025"):
        resolve_edition("Index 2024", "f.pdf", pattern=r"(20\d\d)", label_format="{}", given="2025")


# --- HTML tables --------------------------------------------------------------------------

TABLE_PAGE = b"""<html><body>
<table><tr><th>Region</th><th>Note</th></tr><tr><td>Europe</td><td>x</td></tr></table>
<table class="ranking">
 <thead><tr><th>RANK</th><th>City</th><th>Change in rank</th><th>Overall  Score</th></tr></thead>
 <tbody>
  <tr><td>1</td><td>Vienna</td><td>+1</td><td>98.4</td></tr>
  <tr><td colspan="4">Bottom of the list</td></tr>
  <tr><td>=2</td><td>Zurich</td><td>0</td><td>97.1</td></tr>
  <tr><td></td><td></td><td></td><td></td></tr>
 </tbody>
</table></body></html>"""

COLUMNS = {"rank": ["rank"], "city": ["city"], "score": ["score"], "note_change": ["change"]}


def test_html_table_is_found_by_header_words_and_maps_columns():
    records = read_html_table(read_html(TABLE_PAGE, "t.html"), "t.html", columns=COLUMNS)
    assert [dict(r.fields) for r in records] == [
        {"rank": "1", "city": "Vienna", "score": "98.4", "note_change": "+1"},
        {"rank": "=2", "city": "Zurich", "score": "97.1", "note_change": "0"},
    ]


def test_html_exact_header_wins_over_a_header_containing_the_word():
    # "RANK" matches exactly; "Change in rank" only contains the word.
    records = read_html_table(read_html(TABLE_PAGE, "t.html"), "t.html", columns={"rank": ["rank"], "city": ["city"]})
    assert records[0].get("rank") == "1"


AMBIGUOUS = b"<table><tr><th>Rank 2024</th><th>Rank 2023</th><th>City</th></tr><tr><td>1</td><td>2</td><td>A</td></tr></table>"


def test_html_ambiguous_column_is_a_layout_error():
    with pytest.raises(LayoutError, match=r"a\.html: row 1: ambiguous columns.*'rank 2024', 'rank 2023'"):
        read_html_table(read_html(AMBIGUOUS, "a.html"), "a.html", columns={"rank": ["rank"], "city": ["city"]})


def test_html_header_alternatives_are_tried_in_order_of_preference():
    records = read_html_table(read_html(AMBIGUOUS, "a.html"), "a.html",
                              columns={"rank": ["rank 2024", "rank"], "city": ["city"]})
    assert records[0].get("rank") == "1"


def test_html_ambiguity_in_another_table_does_not_break_the_read():
    page = AMBIGUOUS.replace(b"City", b"Region") + TABLE_PAGE
    records = read_html_table(read_html(page, "t.html"), "t.html", columns=COLUMNS)
    assert records[0].get("city") == "Vienna"


def test_html_renamed_header_is_a_layout_error_listing_what_the_page_has():
    page = TABLE_PAGE.replace(b"City", b"Location")
    with pytest.raises(LayoutError, match=r"t\.html: no table has columns.*Location"):
        read_html_table(read_html(page, "t.html"), "t.html", columns=COLUMNS)


def test_html_short_row_is_a_layout_error_naming_the_row():
    page = TABLE_PAGE.replace(b"<td>=2</td><td>Zurich</td><td>0</td><td>97.1</td>", b"<td>=2</td><td>Zurich</td>")
    with pytest.raises(LayoutError, match=r"t\.html: row 3: row has 2 cells"):
        read_html_table(read_html(page, "t.html"), "t.html", columns=COLUMNS)


def test_html_all_tables_reads_every_matching_table():
    page = TABLE_PAGE + TABLE_PAGE.replace(b"Vienna", b"Damascus")
    records = read_html_table(read_html(page, "t.html"), "t.html", columns=COLUMNS, all_tables=True)
    assert [r.get("city") for r in records] == ["Vienna", "Zurich", "Damascus", "Zurich"]
    assert [r.table for r in records] == [0, 0, 1, 1]


@pytest.mark.parametrize("data", [b"", b"   \n", b"\x00\x01\x02binary"])
def test_html_empty_or_binary_input_is_a_layout_error(data):
    with pytest.raises(LayoutError, match="x.html"):
        read_html(data, "x.html")


# --- HTML items ----------------------------------------------------------------------------

LIST_PAGE = b"""<html><body>
<p>2023 was a good year.</p>
<ul><li>Our survey covers 241 cities.</li><li>1. Vienna (98.4)</li><li>3= Munich</li></ul>
<ol start="5"><li>Geneva</li><li value="9">Basel</li><li>Bern</li></ol>
<div class="card"><span class="r">=4</span><h3>Tel Aviv</h3></div>
</body></html>"""

ITEM_PATTERN = r"(?P<rank>=?\d+=?)\.?\s+(?P<city>[^()]+?)(?:\s*\((?P<score>[\d.]+)\))?"


def test_html_items_read_ranked_entries_and_skip_prose():
    records = read_html_items(read_html(LIST_PAGE, "l.html"), "l.html", item_selector="ul li",
                              pattern=ITEM_PATTERN, start=r"=?\d+=?\.?\s+[A-Za-z]")
    assert [dict(r.fields) for r in records] == [
        {"rank": "1", "city": "Vienna", "score": "98.4"},
        {"rank": "3=", "city": "Munich", "score": None},
    ]


def test_html_item_that_looks_ranked_but_does_not_fit_is_a_layout_error():
    page = LIST_PAGE.replace(b"3= Munich", b"3= Munich (joint)")
    with pytest.raises(LayoutError, match=r"l\.html: row 3: list entry does not match"):
        read_html_items(read_html(page, "l.html"), "l.html", item_selector="ul li", pattern=ITEM_PATTERN,
                        start=r"=?\d+=?\.?\s+[A-Za-z]")


def test_html_ordered_list_numbering_gives_ranks():
    records = read_html_items(read_html(LIST_PAGE, "l.html"), "l.html", item_selector="ol li",
                              pattern=r"(?P<city>.+)", position_ranks=True)
    assert [(r.get("rank"), r.get("city")) for r in records] == [("5", "Geneva"), ("9", "Basel"), ("10", "Bern")]


def test_html_position_ranks_outside_an_ordered_list_are_refused():
    with pytest.raises(LayoutError, match=r"l\.html: row 1: ranks by position need <li> items of an <ol>"):
        read_html_items(read_html(LIST_PAGE, "l.html"), "l.html", item_selector="div.card h3",
                        pattern=r"(?P<city>.+)", position_ranks=True)


def test_html_blocks_are_read_by_css_selectors():
    records = read_html_items(read_html(LIST_PAGE, "l.html"), "l.html", item_selector="div.card",
                              fields={"rank": ".r", "city": "h3", "funding_score": ".funding"})
    assert dict(records[0].fields) == {"rank": "=4", "city": "Tel Aviv", "funding_score": None}


def test_html_no_items_is_a_layout_error():
    with pytest.raises(LayoutError, match="l.html: no ranked items"):
        read_html_items(read_html(LIST_PAGE, "l.html"), "l.html", item_selector="table tr", pattern=ITEM_PATTERN)


# --- PDF -----------------------------------------------------------------------------------


def test_pdf_lines_keep_column_gaps_as_two_spaces():
    pages = read_pdf_pages((PUBLISHERS / "cimi" / "cimi2019_report_extract.pdf").read_bytes(), "cimi.pdf")
    assert "12  Seoul  South Korea  78.13  High" in pages[1].lines


def test_pdf_table_continued_over_pages_is_read_with_page_numbers(gfci38_pages):
    records = read_pdf_table(gfci38_pages, "gfci38.pdf", GFCI_SPEC)
    assert len(records) == 30
    assert {r.page for r in records} == {2, 3}
    seoul = next(r for r in records if r.get("city") == "Seoul")
    assert (seoul.page, seoul.row, seoul.get("score"), seoul.get("note_rating_change")) == (2, 10, "740", "+2")
    # The "(continued)" page starts its own row count and region.
    assert next(r for r in records if r.get("city") == "Boston").row == 1


def test_pdf_header_not_found_is_a_layout_error_naming_the_file(gfci38_pages):
    spec = PdfTableSpec(header_words=("position", "centre"), row_pattern=GFCI_SPEC.row_pattern)
    with pytest.raises(LayoutError, match=r"gfci38\.pdf: no page has a table header"):
        read_pdf_table(gfci38_pages, "gfci38.pdf", spec)


def test_pdf_optional_table_not_found_is_empty(gfci38_pages):
    spec = PdfTableSpec(header_words=("business", "environment"), row_pattern="x")
    assert read_pdf_table(gfci38_pages, "gfci38.pdf", spec, required=False) == []


def test_pdf_row_that_does_not_match_is_a_layout_error_with_page_and_row(gfci38_pages):
    spec = PdfTableSpec(header_words=GFCI_SPEC.header_words, row_pattern=build_rank_city_pattern(["score"]))
    with pytest.raises(LayoutError, match=r"gfci38\.pdf: page 2: row 1: row does not match.*New York"):
        read_pdf_table(gfci38_pages, "gfci38.pdf", spec)


def test_pdf_stray_line_between_rows_is_a_layout_error():
    name = "variant_wrapped_row.pdf"
    pages = read_pdf_pages((PUBLISHERS / "cimi" / name).read_bytes(), name)
    spec = PdfTableSpec(header_words=("ranking", "city"), row_pattern=r"(?P<rank>\d+)\s+(?P<city>.+?)\s{2,}.*")
    with pytest.raises(LayoutError, match=r"variant_wrapped_row\.pdf: page 2: row 18: unexpected line 'DC'"):
        read_pdf_table(pages, name, spec)


def test_pdf_title_words_tell_apart_tables_with_the_same_header():
    name = "kearney.pdf"
    pages = read_pdf_pages((PUBLISHERS / "kearney" / "kearney_gcr2025_extract.pdf").read_bytes(), name)
    spec = PdfTableSpec(header_words=("rank", "city", "score"), row_pattern=build_rank_city_pattern(["score"]),
                        title_words=("Global Cities Outlook",))
    records = read_pdf_table(pages, name, spec)
    assert records[0].get("city") == "Munich" and {r.page for r in records} == {3}


@pytest.mark.parametrize(
    "data, reason",
    [(b"", "empty file"), (b"<html>not a pdf</html>", "not a PDF"), (b"%PDF-1.4\n%garbage\x00\x01", "unreadable PDF")],
)
def test_pdf_empty_wrong_or_damaged_input_is_a_layout_error(data, reason):
    with pytest.raises(LayoutError, match=f"bad.pdf: {reason}"):
        read_pdf_pages(data, "bad.pdf")


# --- records to rows, whole-table checks ----------------------------------------------------


def test_records_become_rows_by_the_field_name_convention():
    record = TableRecord(
        {"rank": "=3", "city": " Kuala  Lumpur ", "score": "701", "economy_rank": "15", "funding_score": "9",
         "previous_rank": "4", "note_change": "+1", "country": "Malaysia"},
        row=1, page=4,
    )
    rows = build_score_rows([record], "f.pdf", edition="2025")
    assert rows[0] == ScoreRow("2025", "Kuala Lumpur", "total", 701.0, 3, rank_tied=True, page=4,
                               country="Malaysia", note="change +1", previous_rank=4)
    assert [(r.measure, r.rank, r.score) for r in rows[1:]] == [("economy", 15, None), ("funding", None, 9.0)]


def test_records_with_a_dash_give_no_row_for_that_measure():
    record = TableRecord({"rank": "1", "city": "A", "economy_rank": "-"}, row=1)
    assert [r.measure for r in build_score_rows([record], "f", edition="e")] == ["total"]


@pytest.mark.parametrize(
    "fields, reason",
    [({"rank": "1", "city": "  "}, "no city name"), ({"rank": "1", "city": "123"}, "no city name"),
     ({"rank": "", "score": "-", "city": "A"}, "no rank or score"), ({"rank": "x1", "city": "A"}, "not an integer")],
)
def test_records_that_do_not_read_are_layout_errors_at_their_row(fields, reason):
    with pytest.raises(LayoutError, match=f"f.pdf: page 2: row 7: .*{reason}"):
        build_score_rows([TableRecord(fields, row=7, page=2)], "f.pdf", edition="e")


def ranked(*ranks: int) -> list[ScoreRow]:
    return [ScoreRow("e", f"city {i}", "total", None, rank, page=1) for i, rank in enumerate(ranks)]


@pytest.mark.parametrize("ranks", [(1, 2, 3), (1, 2, 2, 4), (164, 165, 165, 167), (1, 1, 1, 4)])
def test_rank_order_accepts_complete_rankings_with_ties(ranks):
    check_rank_order(ranked(*ranks), "f.pdf")


@pytest.mark.parametrize("ranks", [(1, 2, 4), (1, 2, 2, 3), (2, 1)])
def test_rank_order_refuses_a_gap_as_a_lost_row(ranks):
    with pytest.raises(LayoutError, match="f.pdf: page 1: rank .* missing or misread"):
        check_rank_order(ranked(*ranks), "f.pdf")
