"""GPCI is additive: on the publisher's full 2023 data file, each function score is the sum
over its indicator groups of the mean of the group's indicators, and the total the sum of
the functions — for every one of the 48 cities. Seoul is 7th with 1202.07."""

import pytest

from cityrank_pipeline.editions import parse_publication
from cityrank_pipeline.sources.gpci_json import additive_function_scores

from conftest import SHARED

GPCI_DIR = SHARED / "publications" / "gpci"
EN = GPCI_DIR / "gpci2023_en.json"
pytestmark = pytest.mark.skipif(not EN.exists(), reason=f"the shared GPCI data file is not at {EN} (set CITYRANK_SHARED_DIR)")


@pytest.fixture(scope="module")
def rows(catalog):
    return parse_publication(catalog["GPCI"], "gpci_data_json", EN.read_bytes(), EN.name)


def test_the_model_reproduces_every_printed_function_score_and_total(catalog, rows):
    entry = catalog["GPCI"]
    indicator_codes = {m.code for m in entry.measures_at("indicator")}
    functions = [m.code for m in entry.measures_at("sub_index")]
    cities = sorted({r.city for r in rows})
    assert len(cities) == 48
    for city in cities:
        own = {r.measure: r.score for r in rows if r.city == city}
        model = additive_function_scores(entry, {code: own[code] for code in indicator_codes})
        assert set(model) == set(functions)
        for function in functions:
            assert model[function] == pytest.approx(own[function], abs=0.01), (city, function)
        assert sum(model.values()) == pytest.approx(own["total"], abs=0.01), city
    assert not any(r.score_computed for r in rows)


def test_seoul_is_seventh_with_1202_07(rows):
    seoul = next(r for r in rows if r.city == "Seoul" and r.measure == "total")
    assert (seoul.rank, round(seoul.score, 2)) == (7, 1202.07)
    top = sorted((r for r in rows if r.measure == "total"), key=lambda r: r.rank)[:5]
    assert [r.city for r in top] == ["London", "New York", "Tokyo", "Paris", "Singapore"]


def test_the_functions_only_file_agrees_with_the_indicator_file(catalog, rows):
    f_rows = parse_publication(catalog["GPCI"], "gpci_data_json", (GPCI_DIR / "gpci2023_f.json").read_bytes(),
                               "gpci2023_f.json")
    full = {(r.city, r.measure): (r.score, r.rank) for r in rows}
    assert len(f_rows) == 48 * 7
    for r in f_rows:
        score, rank = full[(r.city, r.measure)]
        assert r.score == pytest.approx(score, abs=1e-6) and r.rank == rank, (r.city, r.measure)
