"""The bad-input corpus: hostile or broken files, each with what its refusal must say.

Every case starts from a file cityrank accepts — the real publications in ../shared (GPCI
summary PDFs, the GFCI 32 report, the GPCI 2023 data file), the parser fixtures, or a small
curated-figures CSV written here — and breaks one thing. `expect` holds the words the one-line
refusal must contain besides the file name: the row, page or key, and what is wrong with it.
tests/test_bad_input_corpus.py sends each case through its entry point and checks the refusal
and that no state moved.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from conftest import REPO, SHARED

PUBLISHERS = REPO / "tests" / "fixtures" / "publishers"
GPCI_2015 = SHARED / "publications" / "gpci" / "GPCI2015_en.pdf"
GPCI_2013 = SHARED / "publications" / "gpci" / "GPCI2013_en.pdf"
GPCI_JSON = SHARED / "publications" / "gpci" / "gpci2023_en.json"
GFCI_32 = SHARED / "publications" / "gfci" / "GFCI_32_Report_2022.09.22_v1.0_.pdf"
SIX_CITIES = PUBLISHERS / "gpci" / "gpci2023_en_6cities.json"
GSER_HTML = PUBLISHERS / "gser" / "gser2025_ranking_top40.html"
QOL_HTML = PUBLISHERS / "qol" / "mercer_qol2023_press.html"

HEADER = ["index_code", "edition", "published", "city", "country", "measure", "rank", "score", "confidence",
          "source_url", "notes"]
# A QOL edition the packaged figures do not hold, three mapped cities, ranks 1..3, scores on
# Mercer's 0-150 scale: accepted as it stands (the corpus checks that too).
GOOD_ROWS = [
    ["QOL", "2016", "2016-02", "Vienna", "Austria", "total", "1", "108.6", "reported", "https://example.org/qol", "top"],
    ["QOL", "2016", "2016-02", "Zurich", "Switzerland", "total", "2", "107.9", "reported", "https://example.org/qol", ""],
    ["QOL", "2016", "2016-02", "Seoul", "South Korea", "total", "3", "98.0", "reported", "https://example.org/qol", ""],
]
COLUMN = {name: i for i, name in enumerate(HEADER)}


@dataclass(frozen=True)
class Case:
    """One bad input. `via` is its entry point: ingest | extract | sensor | fetcher | catalog."""

    id: str
    via: str
    index: str
    name: str
    data: bytes = field(repr=False)
    expect: tuple[str, ...]
    edition: str | None = None
    published_on: str | None = None
    needs_shared: bool = False


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER, encoding: str = "utf-8") -> bytes:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def with_cell(column: str, value: str, row: int = 1, rows: list[list[str]] | None = None) -> list[list[str]]:
    """GOOD_ROWS with one cell replaced; `row` counts data rows from 0 (file row = row + 2)."""
    changed = [list(r) for r in (rows or GOOD_ROWS)]
    changed[row][COLUMN[column]] = value
    return changed


def good_csv() -> bytes:
    return csv_bytes(GOOD_ROWS)


def csv_cases() -> list[Case]:
    """Curated-figures CSVs: what a CSV can get wrong, cell by cell (file row 3 = data row 1)."""
    cell_cases = [
        ("score_nan", "score", "NaN", ("row 3", "score nan is not a finite number")),
        ("score_lower_nan", "score", "nan", ("row 3", "not a finite number")),
        ("score_inf", "score", "inf", ("row 3", "score inf is not a finite number")),
        ("score_minus_inf", "score", "-inf", ("row 3", "not a finite number")),
        ("score_infinity_word", "score", "Infinity", ("row 3", "not a finite number")),
        ("score_overflows_to_inf", "score", "1e400", ("row 3", "not a finite number")),
        ("score_beyond_any_scale", "score", "1e15", ("row 3", "score 1000000000000000.0 is beyond ±1e+12")),
        ("score_out_of_the_measure_scale", "score", "151", ("QOL 2016", "scale", "151")),
        ("score_negative", "score", "-4", ("QOL 2016", "scale", "-4")),
        ("score_decimal_comma", "score", "107,9", ("row 3", "'107,9' is not a float")),
        ("rank_overflows_int32", "rank", "99999999999", ("row 3", "rank 99999999999 is outside 1..2147483647")),
        ("rank_just_past_int32", "rank", "2147483648", ("row 3", "rank 2147483648 is outside")),
        ("rank_zero", "rank", "0", ("row 3", "rank 0 is outside")),
        ("rank_negative", "rank", "-3", ("row 3", "rank -3 is outside")),
        ("rank_printed_tie", "rank", "=2", ("row 3", "rank '=2' is not a int")),
        ("rank_float", "rank", "2.5", ("row 3", "rank '2.5' is not a int")),
        ("nul_in_note", "notes", "see\x00page 4", ("row 3", "note", "U+0000")),
        ("nul_in_city", "city", "Zu\x00rich", ("row 3", "city", "U+0000")),
        ("bell_in_city", "city", "Zurich\x07", ("row 3", "U+0007")),
        ("escape_in_note", "notes", "\x1b[31mred\x1b[0m", ("row 3", "U+001B")),
        ("delete_in_city", "city", "Zur\x7fich", ("row 3", "U+007F")),
        ("c1_next_line_in_note", "notes", "one\x85two", ("row 3", "U+0085")),
        ("vertical_tab_in_country", "country", "Switzer\x0bland", ("row 3", "U+000B")),
        ("nul_in_source_url", "source_url", "https://example.org/\x00", ("row 3", "U+0000")),
        ("city_5000_chars", "city", "Z" * 5000, ("row 3", "city is 5000 characters long")),
        ("note_200k_chars", "notes", "n" * 200_000, ("row 3", "field larger than field limit")),
        ("unknown_city", "city", "Atlantis", ("QOL 2016", "Atlantis")),
        ("confidence_unknown", "confidence", "sure", ("row 3", "confidence 'sure'")),
        ("published_in_the_future", "published", "2099-06", ("Zurich / total", "published 2099-06 is in the future")),
        ("published_month_13", "published", "2016-13", ("row 3", "'2016-13' is not a real date")),
        ("published_day_32", "published", "2016-01-32", ("row 3", "is not a real date")),
        ("published_in_words", "published", "October 2015", ("row 3", "'October 2015' is not YYYY-MM")),
        ("edition_blank", "edition", "", ("row 3", "must not be empty")),
        ("second_edition_in_the_file", "edition", "2015", ("expected one edition per file", "2015, 2016")),
    ]
    cases = [Case(f"csv_{cid}", "ingest", "QOL", f"{cid}.csv", csv_bytes(with_cell(col, value)), expect)
             for cid, col, value, expect in cell_cases]
    everywhere = lambda column, value: [list(r[:COLUMN[column]]) + [value] + list(r[COLUMN[column] + 1:])  # noqa: E731
                                        for r in GOOD_ROWS]
    whole_file = [
        ("edition_2099", csv_bytes(everywhere("edition", "2099")), ("edition 2099 lies in the future",)),
        ("edition_2099_published_2099_06", csv_bytes([r[:1] + ["2099", "2099-06"] + r[3:] for r in GOOD_ROWS]),
         ("edition 2099 lies in the future",)),
        ("edition_2024_draft", csv_bytes(everywhere("edition", "2024 draft")), ("edition label '2024 draft'", "pattern")),
        ("edition_two_digits", csv_bytes(everywhere("edition", "16")), ("edition label '16'",)),
        ("city_10_mb", csv_bytes(with_cell("city", "C" * (10 * 2**20))), ("10.0 MB", "at most 5 MB")),
        ("file_6_mb_of_rows", csv_bytes(GOOD_ROWS * 40_000), ("MB", "at most 5 MB")),
        ("renamed_score_column", csv_bytes(GOOD_ROWS, [("points" if h == "score" else h) for h in HEADER]),
         ("row 1", "missing column(s) score")),
        ("renamed_city_column", csv_bytes(GOOD_ROWS, [("name" if h == "city" else h) for h in HEADER]),
         ("row 1", "missing column(s) city")),
        ("header_rank_and_city_swapped", csv_bytes(GOOD_ROWS, [{"rank": "city", "city": "rank"}.get(h, h) for h in HEADER]),
         ("row 2", "rank 'Vienna' is not a int")),
        ("header_score_and_rank_swapped", csv_bytes(with_cell("score", "98.5", 2), [{"rank": "score", "score": "rank"}.get(h, h) for h in HEADER]),
         ("row 2", "rank '108.6' is not a int")),
        ("extra_unquoted_comma", good_csv().replace(b"Zurich,Switzerland", b"Zurich,Zurich,Switzerland"),
         ("row 3", "more fields than the header")),
        ("truncated_mid_row", good_csv()[: good_csv().index(b"Seoul") + 5], ("row 4", "fewer fields than the header")),
        ("utf16", csv_bytes(GOOD_ROWS, encoding="utf-16"), ("not UTF-8 text",)),
        ("latin1", csv_bytes(with_cell("city", "Zürich"), encoding="latin-1"), ("not UTF-8 text", "byte")),
        ("empty", b"", ("the file is empty",)),
        ("header_only", csv_bytes([]), ("expected one edition per file, found none",)),
        ("not_a_csv_at_all", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, ("not UTF-8 text",)),
    ]
    cases += [Case(f"csv_{cid}", "ingest", "QOL", f"{cid}.csv", data, expect) for cid, data, expect in whole_file]
    # Labels that order like a known edition: the warehouse keys editions by that number.
    gfci = [["GFCI", "GFCI 031", "", "Seoul", "South Korea", "total", "12", "713", "reported", "https://example.org", ""]]
    cases.append(Case("csv_gfci_label_ordering_like_gfci_31", "ingest", "GFCI", "gfci031.csv", csv_bytes(gfci),
                      ("edition label 'GFCI 031' orders as 31", "'GFCI 31'")))
    eiu = [["EIU", "2024 final", "", "Vienna", "Austria", "total", "1", "98.4", "reported", "https://example.org", ""]]
    cases.append(Case("csv_eiu_label_2024_final", "ingest", "EIU", "eiu2024final.csv", csv_bytes(eiu),
                      ("edition label '2024 final'",)))
    cases.append(Case("csv_wrong_extension", "ingest", "QOL", "figures.txt", good_csv(), ("no parser for .txt files",)))
    cases.append(Case("csv_given_to_gpci_as_json", "ingest", "GPCI", "gpci2016_en.json", good_csv(), ("not valid JSON",)))
    return cases


def json_object_cases() -> list[Case]:
    """The GPCI data file (fixture cut from the real 2023 file, six cities): wrong shapes and values."""
    cities = json.loads(SIX_CITIES.read_text())
    first_indicator = next(k for k in cities[0] if k[:2].isdigit())

    def variant(change) -> bytes:
        copy = json.loads(SIX_CITIES.read_text())
        change(copy)
        return json.dumps(copy).encode()

    def set_value(value):
        return lambda c: c[1].__setitem__(first_indicator, value)

    name = "gpci2023_en.json"
    raw = SIX_CITIES.read_bytes()
    cases = [
        ("nan_literal", variant(set_value(float("nan"))), (first_indicator, "not a finite number")),
        ("infinity_literal", variant(set_value(float("inf"))), (first_indicator, "not a finite number")),
        ("huge_number", json.dumps(cities).replace(json.dumps(cities[1][first_indicator]), "1e400", 1).encode(),
         ("not a finite number",)),
        ("score_as_text", variant(set_value("79.6")), (first_indicator, "is not a number")),
        ("score_null", variant(set_value(None)), (first_indicator,)),
        ("score_true", variant(set_value(True)), (first_indicator,)),
        ("indicator_above_100", variant(set_value(180.0)), ("GPCI 2023", "180")),
        ("top_level_object", json.dumps({"cities": cities}).encode(), ("expected a list of city objects",)),
        ("list_of_strings", json.dumps(["London", "Paris"]).encode(), ("item 1", "not a city object")),
        ("empty_list", b"[]", ("the list of cities is empty",)),
        ("truncated", raw[: len(raw) // 2], ("not valid JSON",)),
        ("utf16", raw.decode().encode("utf-16"), ("not UTF-8 text",)),
        ("city_with_nul", variant(lambda c: c[2].__setitem__("City Name", "Par\x00is")), ("U+0000",)),
        ("city_with_escape", variant(lambda c: c[2].__setitem__("City Name", "\x1b[2JParis")), ("U+001B",)),
        ("city_5000_chars", variant(lambda c: c[2].__setitem__("City Name", "P" * 5000)), ("5000 characters",)),
        ("city_unknown", variant(lambda c: c[2].__setitem__("City Name", "Atlantis")), ("'Atlantis'", "cities.yaml")),
        ("city_twice", variant(lambda c: c.append(dict(c[0]))), ("appears twice",)),
        ("unknown_key", variant(lambda c: c[0].__setitem__("99_Zz9_Ec_Moon Landings", 1.0)), ("99_Zz9_Ec_Moon Landings",)),
        ("indicator_missing", variant(lambda c: c[3].pop(first_indicator)), ("lacks indicator",)),
        ("key_renamed", variant(lambda c: [d.__setitem__("01_Ec1_Ec_Nominal GDPP", d.pop(first_indicator)) for d in c]),
         ("Nominal GDPP",)),
        ("oversized_25_mb", b"[" + b" " * (25 * 2**20) + b"]", ("25.0 MB", "at most 20 MB")),
    ]
    out = [Case(f"json_{cid}", "ingest", "GPCI", name, data, expect) for cid, data, expect in cases]
    out.append(Case("json_edition_2099_by_name", "ingest", "GPCI", "gpci2099_en.json", raw, ("edition 2099 lies in the future",)))
    out.append(Case("json_edition_given_as_draft", "ingest", "GPCI", name, raw, ("edition label '2023 draft'",),
                    edition="2023 draft"))
    out.append(Case("json_published_on_in_the_future", "ingest", "GPCI", "gpci2021_en.json", raw,
                    ("published_on 2099-06-01 is in the future",), edition="2021", published_on="2099-06-01"))
    out.append(Case("json_published_on_in_words", "ingest", "GPCI", "gpci2021_en.json", raw,
                    ("published_on 'October 2015' is not a date",), edition="2021", published_on="October 2015"))
    out.append(Case("json_given_to_gfci", "ingest", "GFCI", name, raw, ("GFCI has no parser for .json files",)))
    return out


def shared_cases() -> list[Case]:
    """The real publications in ../shared, broken or given to the wrong index."""
    if not (GPCI_2015.exists() and GFCI_32.exists() and GPCI_JSON.exists()):
        return []
    gpci15, gpci13, gfci32, gjson = (p.read_bytes() for p in (GPCI_2015, GPCI_2013, GFCI_32, GPCI_JSON))
    real = json.loads(gjson)
    key = next(k for k in real[0] if k[:2].isdigit())
    nan_json = json.dumps([{**real[0], key: float("nan")}, *real[1:]]).encode()
    cases = [
        ("gpci2015_as_gfci", "GFCI", GPCI_2015.name, gpci15, ("this is not a GFCI report",)),
        ("gpci2013_as_gfci", "GFCI", GPCI_2013.name, gpci13, ("this is not a GFCI report",)),
        ("gpci2015_as_gci", "GCI", GPCI_2015.name, gpci15, ("this is not a GCI publication",)),
        ("gpci2015_as_gco", "GCO", GPCI_2015.name, gpci15, ("this is not a GCO publication",)),
        ("gpci2015_as_cimi", "CIMI", GPCI_2015.name, gpci15, ("this is not a CIMI publication",)),
        ("gpci2015_as_gdci", "GDCI", GPCI_2015.name, gpci15, ("this is not a GDCI publication",)),
        ("gfci32_as_gpci", "GPCI", GFCI_32.name, gfci32, ("this is not a GPCI publication",)),
        ("gfci32_as_cimi", "CIMI", GFCI_32.name, gfci32, ("this is not a CIMI publication",)),
        ("gpci2015_first_half", "GPCI", "GPCI2015_en.pdf", gpci15[: len(gpci15) // 2], ("truncated",)),
        ("gpci2015_first_kilobyte", "GPCI", "GPCI2015_en.pdf", gpci15[:1024], ("truncated",)),
        ("gfci32_first_half", "GFCI", GFCI_32.name, gfci32[: len(gfci32) // 2], ("PDF",)),
        ("gfci32_header_only", "GFCI", GFCI_32.name, gfci32[:8], ("PDF",)),
        ("pdf_oversized_61_mb", "GFCI", "huge.pdf", gfci32 + b"%" + b" " * (61 * 2**20), ("MB", "at most 60 MB")),
        ("gpci_real_json_with_nan", "GPCI", GPCI_JSON.name, nan_json, (key, "not a finite number")),
        ("gpci_real_json_truncated", "GPCI", GPCI_JSON.name, gjson[:-200], ("not valid JSON",)),
        ("gpci_real_json_as_gfci", "GFCI", GPCI_JSON.name, gjson, ("GFCI has no parser for .json files",)),
    ]
    out = [Case(f"shared_{cid}", "ingest", code, name, data, expect, needs_shared=True)
           for cid, code, name, data, expect in cases]
    out.append(Case("shared_gpci2015_said_to_be_2099", "ingest", "GPCI", "GPCI2015_en.pdf", gpci15,
                    ("the 2015 edition, not 2099",), edition="2099", needs_shared=True))
    out.append(Case("shared_gfci32_said_to_be_gfci_99", "ingest", "GFCI", GFCI_32.name, gfci32,
                    ("'GFCI 32' but was expected to be 'GFCI 99'",), edition="GFCI 99", needs_shared=True))
    return out


def html_cases() -> list[Case]:
    gser = GSER_HTML.read_bytes()
    return [
        Case("html_gser_page_given_to_qol", "ingest", "QOL", "gser2025.html", gser, ("this is not a QOL publication",)),
        Case("html_qol_page_given_to_gser", "ingest", "GSER", "qol2023.html", QOL_HTML.read_bytes(),
             ("this is not a GSER publication",)),
        Case("html_gser_dated_2099", "ingest", "GSER", "gser2099.html", gser.replace(b"2025", b"2099"),
             ("edition 2099 lies in the future",)),
        Case("html_gser_city_with_nul", "ingest", "GSER", "gser2025.html", gser.replace(b"Silicon Valley", b"Silicon\x00Valley", 1),
             ("binary data, not an HTML page",)),
        Case("html_gser_city_with_escape", "ingest", "GSER", "gser2025.html",
             gser.replace(b"Silicon Valley", b"Silicon\x1bValley", 1), ("Silicon", "U+001B")),
        Case("html_gser_oversized", "ingest", "GSER", "gser2025.html", gser + b"<!--" + b" " * (11 * 2**20) + b"-->",
             ("at most 10 MB",)),
        Case("html_empty", "ingest", "GSER", "empty.html", b"", ("empty",)),
        Case("html_binary_bytes", "ingest", "GSER", "binary.html", bytes(range(256)) * 8, ("binary data, not an HTML page",)),
    ]


def catalog_cases() -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(id, file in assets/, text replaced → by, expected words): a catalog YAML edited wrongly."""
    return [
        ("edition_label_off_pattern", "gfci.yaml", '"GFCI 38": {', '"GFCI thirty-eight": {', ("gfci.yaml", "edition_label_pattern")),
        ("scale_upside_down", "gfci.yaml", "scale: {min: 0, max: 1000,", "scale: {min: 1000, max: 0,", ("gfci.yaml", "scale.min")),
        ("unknown_field", "gfci.yaml", "cadence:", "cadense:", ("gfci.yaml", "cadense")),
        ("yaml_syntax_error", "gfci.yaml", "measures:", "measures: [", ("gfci.yaml",)),
        ("published_on_not_a_date", "gfci.yaml", "published_on: 2025-09-25", "published_on: 2025-13-25", ("gfci.yaml", "month must be in 1..12")),
        ("nul_byte_in_yaml", "gfci.yaml", "Z/Yen Group", "Z/Yen\x00Group", ("gfci.yaml",)),
        ("measure_code_upper_case", "gfci.yaml", "{code: total,", "{code: TOTAL,", ("gfci.yaml", "code")),
        ("duplicate_city_name", "cities.yaml", "name: Seoul", "name: Tokyo", ("cities.yaml", "Tokyo")),
        ("index_code_unknown", "gfci.yaml", "code: GFCI", "code: GFCX", ("gfci.yaml", "GFCX")),
    ]


def ingest_cases() -> list[Case]:
    return csv_cases() + json_object_cases() + shared_cases() + html_cases()
