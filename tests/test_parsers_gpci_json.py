"""Mori's GPCI data file (JSON): both key styles, functions-only files, computed ranks and
scores, and a named refusal for everything that is not that layout."""

import json
import math

import pytest

from cityrank_pipeline.editions import parse_publication
from cityrank_pipeline.sources.base import LayoutError
from cityrank_pipeline.sources.gpci_json import INDICATOR_KEY, competition_ranks, parse_gpci_data_json

from conftest import REPO

FIXTURES = REPO / "tests" / "fixtures" / "publishers" / "gpci"
EN = "gpci2023_en_6cities.json"
F = "gpci2023_f_6cities.json"


def cities(name=EN) -> list[dict]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def as_bytes(data) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def parse(entry, data, name=EN, **kw):
    return parse_publication(entry, "gpci_data_json", data if isinstance(data, bytes) else as_bytes(data), name, **kw)


def old_style(data: list[dict]) -> list[dict]:
    """The pre-group-code key style, built from the real file: `city`, `NN_<indicator name>`."""
    out = []
    for city in data:
        renamed = {}
        for key, value in city.items():
            found = INDICATOR_KEY.match(key)
            if key == "City Name":
                renamed["city"] = value
            elif found and found.group("group"):
                renamed[f"{found.group('number')}_{found.group('name')}"] = value
            else:
                renamed[key] = value
        out.append(renamed)
    return out


def by_key(rows):
    return {(r.city, r.measure): r for r in rows}


@pytest.fixture(scope="module")
def gpci(catalog):
    return catalog["GPCI"]


def test_indicator_file_gives_every_indicator_function_and_total_for_every_city(gpci):
    rows = parse(gpci, (FIXTURES / EN).read_bytes())
    assert len(rows) == 6 * (70 + 7)
    assert {r.edition for r in rows} == {"2023"}
    assert [r.city for r in rows[:6]] == ["London", "Seoul", "Tokyo", "Washington, DC", "New York", "Sao Paulo"]
    got = by_key(rows)
    seoul_total = got[("Seoul", "total")]
    assert (seoul_total.score, seoul_total.rank, seoul_total.measure_printed) == (1202.0689072947, 4, "Comprehensive")
    gdp = got[("Seoul", "nominal_gdp")]
    assert (gdp.score, gdp.measure_printed, gdp.measure_number) == (44.0202504667, "Nominal GDP", 1)
    assert got[("Seoul", "r_and_d")].measure_printed == "R&D"
    assert all(r.rank_computed and not r.score_computed and r.confidence == "reported" for r in rows)
    assert all(r.page is None for r in rows)


def test_ties_share_the_lower_rank_and_say_so(gpci):
    got = by_key(parse(gpci, (FIXTURES / EN).read_bytes()))
    prizes = {city: (got[(city, "winners_of_prizes_in_science_and_technology")].rank,
                     got[(city, "winners_of_prizes_in_science_and_technology")].rank_tied)
              for city in ("New York", "Washington, DC", "London", "Tokyo", "Seoul", "Sao Paulo")}
    # Real 2023 scores: 62.54, 36.48, 25.41, 13.03, then Seoul and Sao Paulo both 0.0.
    assert prizes == {"New York": (1, False), "Washington, DC": (2, False), "London": (3, False),
                      "Tokyo": (4, False), "Seoul": (5, True), "Sao Paulo": (5, True)}


def test_competition_ranking_skips_after_a_tie():
    assert competition_ranks({"a": 3.0, "b": 5.0, "c": 5.0, "d": 1.0}) == {
        "b": (1, True), "c": (1, True), "a": (3, False), "d": (4, False)}


def test_old_key_style_reads_the_same_figures(gpci):
    new = by_key(parse(gpci, (FIXTURES / EN).read_bytes()))
    old = by_key(parse(gpci, old_style(cities())))
    assert set(old) == set(new)
    assert all((old[k].score, old[k].rank, old[k].measure_number) == (new[k].score, new[k].rank, new[k].measure_number)
               for k in new)


def test_an_earlier_wording_maps_through_the_catalog_aliases(gpci):
    data = old_style(cities())
    for city in data:
        city["04_Level of Economic Freedom"] = city.pop("04_Economic Freedom")
    row = by_key(parse(gpci, data))[("Seoul", "economic_freedom")]
    assert (row.measure_printed, row.measure_number) == ("Level of Economic Freedom", 4)


def test_functions_only_file_gives_functions_and_total(gpci):
    rows = parse(gpci, (FIXTURES / F).read_bytes(), name=F)
    assert len(rows) == 6 * 7
    assert {r.measure for r in rows} == {"total", "economy", "r_and_d", "cultural_interaction", "livability",
                                          "environment", "accessibility"}
    total = by_key(rows)[("Seoul", "total")]
    assert (total.score, total.rank, total.measure_printed, total.score_computed) == (1202.068907, 4, "total", False)


def test_scores_the_file_does_not_print_are_computed_from_the_additive_model(gpci):
    printed = by_key(parse(gpci, (FIXTURES / EN).read_bytes()))
    data = cities()
    for city in data:
        del city["Economy"], city["Comprehensive"]
    got = by_key(parse(gpci, data))
    for city in ("Seoul", "London", "Sao Paulo"):
        economy, total = got[(city, "economy")], got[(city, "total")]
        assert economy.score_computed and economy.confidence == "derived" and economy.measure_printed is None
        assert economy.score == pytest.approx(printed[(city, "economy")].score, abs=1e-6)
        assert total.score_computed and total.score == pytest.approx(printed[(city, "total")].score, abs=1e-6)
        assert not got[(city, "r_and_d")].score_computed
    assert got[("Seoul", "total")].rank == 4


def test_edition_comes_from_the_argument_else_the_file_name(gpci):
    data = (FIXTURES / F).read_bytes()
    assert {r.edition for r in parse(gpci, data, name="GPCI2024_f.json")} == {"2024"}
    assert {r.edition for r in parse(gpci, data, name="download.json", edition="2023")} == {"2023"}
    with pytest.raises(LayoutError, match=r"download\.json: no edition given and none in the file name"):
        parse(gpci, data, name="download.json")


def test_the_parser_needs_the_catalog_entry():
    with pytest.raises(ValueError, match="catalog entry"):
        parse_gpci_data_json((FIXTURES / F).read_bytes(), F)


def _with(change):
    def build():
        data = cities()
        change(data)
        return as_bytes(data)
    return build


def _seoul(data):
    return next(c for c in data if c["City Name"] == "Seoul")


def _rename(data, old, new):
    for city in data:
        city[new] = city.pop(old)


REFUSALS = {
    "unknown key": (_with(lambda d: _seoul(d).update({"Population": 9.4})), "city 'Seoul': unknown key 'Population'"),
    "unknown indicator": (_with(lambda d: _rename(d, "64_Ac2_Ac_Number of Arrivals and Departures at Airports",
                                                  "64_Ac2_Ac_Number of Runways")),
                          "key '64_Ac2_Ac_Number of Runways' names an indicator the catalog does not know"),
    "group disagrees": (_with(lambda d: _rename(d, "01_Ec1_Ec_Nominal GDP", "01_Ec2_Ec_Nominal GDP")),
                        "key '01_Ec2_Ec_Nominal GDP': printed in group Ec2, the catalog puts nominal_gdp in Ec1"),
    "function disagrees": (_with(lambda d: _rename(d, "14_Re1_Re_Number of Researchers", "14_Re1_Ec_Number of Researchers")),
                           "key '14_Re1_Ec_Number of Researchers': printed under function Ec"),
    "number disagrees": (_with(lambda d: _rename(d, "02_Ec1_Ec_GDP per Capita", "03_Ec1_Ec_GDP per Capita")),
                         "key '03_Ec1_Ec_GDP per Capita': printed as number 3, the catalog numbers gdp_per_capita 2"),
    "missing indicator": (_with(lambda d: _seoul(d).pop("56_En2_En_Air Quality")),
                          "city 'Seoul' lacks indicator(s) 56 Air Quality"),
    "duplicate city": (_with(lambda d: d.append(dict(_seoul(d)))), "city 'Seoul' appears twice"),
    "text score": (_with(lambda d: _seoul(d).update({"56_En2_En_Air Quality": "61.2"})),
                   "city 'Seoul', key '56_En2_En_Air Quality': '61.2' is not a number"),
    "null score": (_with(lambda d: _seoul(d).update({"Economy": None})), "city 'Seoul', key 'Economy': None is not a number"),
    "boolean score": (_with(lambda d: _seoul(d).update({"Economy": True})), "city 'Seoul', key 'Economy': True is not a number"),
    "NaN": (lambda: (FIXTURES / EN).read_bytes().replace(b'"01_Ec1_Ec_Nominal GDP": 44.0202504667', b'"01_Ec1_Ec_Nominal GDP": NaN'),
            "key '01_Ec1_Ec_Nominal GDP': nan is not a finite number"),
    "Infinity": (lambda: (FIXTURES / EN).read_bytes().replace(b'"Economy": 254.7872237727', b'"Economy": -Infinity'),
                 "key 'Economy': -inf is not a finite number"),
    "huge number": (lambda: (FIXTURES / EN).read_bytes().replace(b'"Economy": 254.7872237727', b'"Economy": 1e999'),
                    "city 'Seoul', key 'Economy': inf is not a finite number"),
    "malformed JSON": (lambda: (FIXTURES / EN).read_bytes()[:5000], "not valid JSON"),
    "not UTF-8": (lambda: b"\xff\xfe[]", "not UTF-8 text"),
    "object at top level": (lambda: as_bytes({"cities": cities()}), "expected a list of city objects at the top level, found a JSON dict"),
    "empty list": (lambda: b"[]", "the list of cities is empty"),
    "item not an object": (lambda: as_bytes([*cities(), ["Seoul"]]), "item 7 of the list is a JSON list"),
    "no city name": (_with(lambda d: _seoul(d).pop("City Name")), "item 2: expected exactly one of City Name / city"),
    "blank city name": (_with(lambda d: _seoul(d).update({"City Name": " "})), "item 2: 'City Name' is ' ', not a city name"),
    "key twice in an object": (lambda: b'[{"city": "Seoul", "total": 1.0, "total": 2.0}]', "key 'total' appears twice in one object"),
    "two keys for one function": (_with(lambda d: _seoul(d).update({"Research and Development": 1.0})),
                                  "city 'Seoul': keys 'R&D' and 'Research and Development' both give r_and_d"),
}


@pytest.mark.parametrize("build, message", REFUSALS.values(), ids=REFUSALS.keys())
def test_each_layout_problem_is_refused_naming_the_file_and_the_key_or_city(gpci, build, message):
    with pytest.raises(LayoutError) as caught:
        parse(gpci, build())
    assert str(caught.value).startswith(f"{EN}: ")
    assert message in str(caught.value)


def test_a_functions_only_file_missing_a_function_is_refused(gpci):
    data = cities(F)
    del next(c for c in data if c["city"] == "Tokyo")["Livability"]
    with pytest.raises(LayoutError, match=r"gpci2023_f_6cities\.json: city 'Tokyo' has no 'Livability' score and no indicators"):
        parse(gpci, data, name=F)


def test_every_score_comes_back_as_printed(gpci):
    data = cities()
    rows = by_key(parse(gpci, data))
    for city in data:
        name = city["City Name"]
        for key, value in city.items():
            found = INDICATOR_KEY.match(key)
            if found:
                row = rows[(name, gpci.indicator_by_name(found.group("name")).code)]
                assert row.score == value and math.isfinite(row.score)
