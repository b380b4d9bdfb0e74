"""The Great Expectations gate: each generic rule catches what it is for, with the row named."""

import pytest

from cityrank_pipeline.editions import rows_to_frame
from cityrank_pipeline.harmonise import harmonise_cities
from cityrank_pipeline.settings import PROJECT_ROOT
from cityrank_pipeline.sources.base import ScoreRow
from cityrank_pipeline.validation import validate_rows


def _frame(catalog, code, rows):
    frame, _ = harmonise_cities(rows_to_frame(rows), catalog, catalog[code])
    return frame


def _validate(catalog, code, rows, **kw):
    return validate_rows(_frame(catalog, code, rows), catalog[code], PROJECT_ROOT / "expectations" / f"{code.lower()}.json", **kw)


GOOD = [
    ScoreRow("GFCI 38", "New York", "total", 766.0, 1),
    ScoreRow("GFCI 38", "London", "total", 765.0, 2),
    ScoreRow("GFCI 38", "Seoul", "total", None, 10),
]


def test_clean_rows_pass(catalog):
    report = _validate(catalog, "GFCI", GOOD)
    assert report.success, report.summary()


@pytest.mark.parametrize("bad, expected", [
    (ScoreRow("GFCI 38", "Seoul", "total", 1200.0, 10), "upper bound"),
    (ScoreRow("GFCI 38", "Seoul", "total", -1.0, 10), "lower bound"),
    (ScoreRow("GFCI 38", "Seoul", "total", None, 0), "ranks start at 1"),
    (ScoreRow("GFCI 38", "Gotham", "total", None, 10), "reviewed city"),
    (ScoreRow("GFCI 38", "Seoul", "wealth_management", None, 10), "measures are those"),
    (ScoreRow("GFCI 38", "Seoul", "total", None, 2), "one city per rank"),
])
def test_each_rule_fails_with_the_row_named(catalog, bad, expected):
    rows = GOOD[:2] + [bad]
    report = _validate(catalog, "GFCI", rows)
    assert not report.success
    text = report.summary()
    assert expected in text
    assert "Gotham" in text if bad.city == "Gotham" else "Seoul" in text or "London" in text


def test_duplicate_rows_are_caught(catalog):
    report = _validate(catalog, "GFCI", GOOD + [GOOD[2]])
    assert not report.success and "no duplicate rows" in report.summary()


def test_printed_ties_may_share_a_rank(catalog):
    rows = [ScoreRow("2025", "Boston", "total", None, 5, rank_tied=True),
            ScoreRow("2025", "Beijing", "total", None, 5, rank_tied=True)]
    assert _validate(catalog, "GSER", rows).success


def test_gpci_functions_must_add_up_to_the_total(catalog):
    functions = ["economy", "r_and_d", "cultural_interaction", "livability", "environment", "accessibility"]
    rows = [ScoreRow("2015", "Seoul", "total", 1088.9, 1)] + [
        ScoreRow("2015", "Seoul", m, s, 1) for m, s in zip(functions, [243.2, 122.7, 124.9, 250.4, 158.2, 189.5])]
    assert _validate(catalog, "GPCI", rows).success
    rows[0] = ScoreRow("2015", "Seoul", "total", 1090.0, 1)
    report = _validate(catalog, "GPCI", rows)
    assert not report.success and "add up to the total" in report.summary()


def test_complete_tables_must_rank_without_gaps_and_match_the_city_count(catalog):
    rows = [ScoreRow("2015", "London", "total", None, 1), ScoreRow("2015", "Paris", "total", None, 3)]
    report = _validate(catalog, "GPCI", rows, complete=True, city_count=3)
    text = report.summary()
    assert not report.success and "without gaps" in text and "as many cities" in text
    assert _validate(catalog, "GPCI", rows, complete=False).success
