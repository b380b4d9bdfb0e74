"""The GPCI suite at indicator level: scores inside 0-100, printed functions that add up from
their indicators, totals that add up from their functions, every indicator for every city —
and each failure names the row."""

from dataclasses import replace

import pytest

from cityrank_pipeline.editions import parse_publication, rows_to_frame
from cityrank_pipeline.harmonise import harmonise_cities
from cityrank_pipeline.settings import PROJECT_ROOT
from cityrank_pipeline.validation import validate_rows

from conftest import REPO, SHARED

SUITE = PROJECT_ROOT / "expectations" / "gpci.json"
FIXTURES = REPO / "tests" / "fixtures" / "publishers" / "gpci"
FULL_2023 = SHARED / "publications" / "gpci" / "gpci2023_en.json"


def parsed(catalog, path):
    return parse_publication(catalog["GPCI"], "gpci_data_json", path.read_bytes(), path.name)


def validate(catalog, rows, **kw):
    frame, _ = harmonise_cities(rows_to_frame(rows), catalog, catalog["GPCI"])
    return validate_rows(frame, catalog["GPCI"], SUITE, **kw)


def failure(report, why_part):
    found = [f for f in report.failures if why_part in f.why]
    assert found, report.summary()
    return found[0]


@pytest.fixture(scope="module")
def six(catalog):
    return parsed(catalog, FIXTURES / "gpci2023_en_6cities.json")


def changed(rows, city, measure, **changes):
    hits = [i for i, r in enumerate(rows) if (r.city, r.measure) == (city, measure)]
    assert len(hits) == 1
    out = list(rows)
    out[hits[0]] = replace(out[hits[0]], **changes)
    return out


@pytest.mark.skipif(not FULL_2023.exists(), reason=f"the shared GPCI data file is not at {FULL_2023}")
def test_the_real_2023_file_passes_as_a_complete_edition(catalog):
    report = validate(catalog, parsed(catalog, FULL_2023), complete=True, city_count=48)
    assert report.success, report.summary()


def test_the_six_city_excerpt_and_the_functions_only_file_pass(catalog, six):
    assert validate(catalog, six).success
    f_rows = parsed(catalog, FIXTURES / "gpci2023_f_6cities.json")
    assert validate(catalog, f_rows).success


def test_an_excerpt_claimed_complete_fails_the_city_count(catalog, six):
    report = validate(catalog, six, complete=True, city_count=48)
    assert failure(report, "as many cities as the edition ranks").unexpected_count == len(six)


def test_an_indicator_above_100_fails_naming_the_row(catalog, six):
    report = validate(catalog, changed(six, "Seoul", "air_quality", score=120.0))
    upper = failure(report, "upper bound")
    assert upper.unexpected_count == 1 and "city='Seoul', measure='air_quality'" in upper.examples[0]


def test_a_function_that_does_not_add_up_from_its_indicators_fails_naming_the_row(catalog, six):
    economy = next(r for r in six if (r.city, r.measure) == ("Tokyo", "economy"))
    report = validate(catalog, changed(six, "Tokyo", "economy", score=economy.score + 0.5))
    model = failure(report, "additive model")
    assert any("city='Tokyo', measure='economy'" in e for e in model.examples)
    assert any("city='Tokyo', measure='total'" in e for e in model.examples)  # the total no longer adds up either
    assert model.unexpected_count == 2


def test_a_rounding_sized_difference_passes(catalog, six):
    economy = next(r for r in six if (r.city, r.measure) == ("Tokyo", "economy"))
    rows = changed(six, "Tokyo", "economy", score=round(economy.score, 2))
    total = next(r for r in rows if (r.city, r.measure) == ("Tokyo", "total"))
    rows = changed(rows, "Tokyo", "total", score=round(total.score, 2))
    assert validate(catalog, rows).success


def test_a_computed_function_score_is_not_checked_against_itself(catalog, six):
    rows = changed(six, "Tokyo", "economy", score=1.0, score_computed=True)
    report = validate(catalog, rows)
    assert not any("additive model" in f.why and "measure='economy'" in " ".join(f.examples) for f in report.failures)


def test_a_missing_indicator_fails_naming_the_city_and_the_indicator(catalog, six):
    rows = [r for r in six if (r.city, r.measure) != ("Seoul", "air_quality")]
    report = validate(catalog, rows)
    missing = failure(report, "every city has every indicator")
    assert missing.unexpected_count == 1
    assert "city='Seoul'" in missing.examples[0] and "indicators_missing='air_quality'" in missing.examples[0]
