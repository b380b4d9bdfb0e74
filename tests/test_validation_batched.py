"""Validating many editions of an index in one suite run gives each edition the report it would
get alone: a pass when all pass, and a failure that names the failing edition's own rows."""

import json

import pytest

from cityrank_pipeline.editions import rows_to_frame
from cityrank_pipeline.harmonise import harmonise_cities
from cityrank_pipeline.settings import PROJECT_ROOT
from cityrank_pipeline.sources.base import ScoreRow
from cityrank_pipeline.validation import EditionToValidate, edition_local, validate_editions, validate_rows

SUITES = PROJECT_ROOT / "expectations"


def _edition(catalog, label, cities, *, rank_of=None):
    rows = [ScoreRow(label, city, "total", 700.0 - i, (rank_of or {}).get(city, i + 1)) for i, city in enumerate(cities)]
    frame, _ = harmonise_cities(rows_to_frame(rows), catalog, catalog["GFCI"])
    return EditionToValidate(frame, complete=False, city_count=None)


def _alone(catalog, edition):
    return validate_rows(edition.frame, catalog["GFCI"], SUITES / "gfci.json", complete=edition.complete,
                         city_count=edition.city_count)


def test_every_shipped_suite_is_edition_local():
    suites = sorted(SUITES.glob("*.json"))
    assert len(suites) == 9
    for path in suites:
        assert edition_local(json.loads(path.read_text())), path.name


@pytest.mark.parametrize("expectation", [
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "city", "mostly": 0.9}},
    {"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": ["city_key", "measure"]}},
    {"type": "expect_table_row_count_to_be_between", "kwargs": {"max_value": 10}},
    {"type": "expect_column_mean_to_be_between", "kwargs": {"column": "score", "min_value": 0}},
    {"type": "expect_column_values_to_be_of_type", "kwargs": {"column": "rank", "type_": "int64"}},
    {"type": "expect_column_values_to_be_in_type_list", "kwargs": {"column": "rank", "type_list": ["int64"]}},
])
def test_a_rule_over_the_whole_table_is_not_edition_local(expectation):
    local = {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "edition"}}
    assert edition_local({"expectations": [local]})
    assert not edition_local({"expectations": [local, expectation]})


def test_editions_that_all_pass_get_the_report_each_would_get_alone(catalog):
    editions = [_edition(catalog, "GFCI 36", ["New York", "London", "Seoul"]),
                _edition(catalog, "GFCI 37", ["London", "New York", "Seoul"]),
                _edition(catalog, "GFCI 38", ["New York", "London", "Hong Kong", "Seoul"])]
    reports = validate_editions(editions, catalog["GFCI"], SUITES / "gfci.json")
    alone = [_alone(catalog, e) for e in editions]
    assert [r.success for r in reports] == [True, True, True]
    assert [(r.suite, r.evaluated, r.summary()) for r in reports] == [(a.suite, a.evaluated, a.summary()) for a in alone]


def test_a_failing_edition_is_named_alone_and_the_others_still_pass(catalog):
    # The same rank twice in GFCI 37 only: its rows, and no other edition's, are named.
    editions = [_edition(catalog, "GFCI 36", ["New York", "London", "Seoul"]),
                _edition(catalog, "GFCI 37", ["London", "New York", "Seoul"], rank_of={"Seoul": 2}),
                _edition(catalog, "GFCI 38", ["New York", "London", "Seoul"])]
    reports = validate_editions(editions, catalog["GFCI"], SUITES / "gfci.json")
    assert [r.success for r in reports] == [True, False, True]
    assert reports[1].summary() == _alone(catalog, editions[1]).summary()
    assert "one city per rank" in reports[1].summary() and "GFCI 37" in reports[1].summary()
    assert "GFCI 36" not in reports[1].summary() and "GFCI 38" not in reports[1].summary()


def test_editions_that_pass_alone_but_would_fail_together_are_judged_alone(catalog, tmp_path):
    # A rule over the whole table (at most 3 rows) holds for each edition but not for the union:
    # such a suite is not edition-local, so each edition is validated on its own.
    suite = json.loads((SUITES / "gfci.json").read_text())
    suite["expectations"].append({"type": "expect_table_row_count_to_be_between",
                                  "kwargs": {"min_value": 1, "max_value": 3}, "meta": {"why": "a small table"}})
    path = tmp_path / "gfci.json"
    path.write_text(json.dumps(suite))
    editions = [_edition(catalog, "GFCI 36", ["New York", "London", "Seoul"]),
                _edition(catalog, "GFCI 37", ["London", "New York", "Seoul"])]
    reports = validate_editions(editions, catalog["GFCI"], path)
    assert [r.success for r in reports] == [True, True]
    assert reports[0].evaluated == len(suite["expectations"])


def test_a_refusal_names_figures_as_an_analyst_reads_them(catalog):
    report = _alone(catalog, _edition(catalog, "GFCI 37", ["London", "New York", "Seoul"], rank_of={"Seoul": 2}))
    text = report.summary()
    assert "rank=2" in text and "np.float64" not in text
