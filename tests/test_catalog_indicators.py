"""GPCI's indicator tree in the catalog: 70 indicators under 26 groups under the six functions."""

import pytest

from cityrank_pipeline.catalog import CatalogError, IndexEntry, load_index_file, normalise_name

from conftest import REPO

KNOWN_DEPARTMENTS = {
    "Planning & Coordination Office", "Economic Policy Office", "Smart City Policy Bureau", "Tourism & Sports Bureau",
    "Climate & Environment Headquarters", "Urban Transportation Office", "Urban Planning Bureau",
    "Culture Headquarters", "Housing Policy Office", "Safety Management Office", "Citizens' Health Bureau",
}
GROUPS_PER_FUNCTION = {"economy": 6, "r_and_d": 3, "cultural_interaction": 5, "livability": 5, "environment": 3,
                       "accessibility": 4}


@pytest.fixture(scope="module")
def gpci(catalog) -> IndexEntry:
    return catalog["GPCI"]


def test_seventy_indicators_in_twenty_six_groups_under_the_six_functions(gpci):
    indicators, groups = gpci.measures_at("indicator"), gpci.measures_at("indicator_group")
    assert len(indicators) == 70 and len(groups) == 26
    assert gpci.additive_indicators
    per_function = {f: sum(1 for g in groups if g.parent == f) for f in GROUPS_PER_FUNCTION}
    assert per_function == GROUPS_PER_FUNCTION
    group_codes = {g.code for g in groups}
    assert all(i.parent in group_codes for i in indicators)
    assert all(any(i.parent == g.code for i in indicators) for g in groups), "a group without indicators"


def test_group_codes_follow_the_publisher_and_their_function(gpci):
    prefix = {f.code: f.publisher_code for f in gpci.measures_at("sub_index")}
    for group in gpci.measures_at("indicator_group"):
        assert group.publisher_code.startswith(prefix[group.parent]), group.code
        assert group.code == group.publisher_code.lower()


def test_indicator_numbers_run_1_to_70_in_group_order(gpci):
    indicators = gpci.measures_at("indicator")
    assert sorted(i.number for i in indicators) == list(range(1, 71))
    by_number = sorted(indicators, key=lambda i: i.number)
    group_order = [g.code for g in gpci.measures_at("indicator_group")]
    assert [group_order.index(i.parent) for i in by_number] == sorted(group_order.index(i.parent) for i in by_number)


def test_names_and_aliases_are_unique_and_found_by_indicator_by_name(gpci):
    labels = [normalise_name(label) for i in gpci.measures_at("indicator") for label in (i.name, *i.aliases)]
    assert len(labels) == len(set(labels))
    assert gpci.indicator_by_name("Level of Economic Freedom").code == "economic_freedom"
    assert gpci.indicator_by_name("world's top 500 companies").number == 6
    assert gpci.indicator_by_name("Number of Runways") is None


def test_every_indicator_says_what_it_measures_who_owns_it_and_whether_policy_moves_it(gpci):
    for i in gpci.measures_at("indicator"):
        assert i.definition and i.department in KNOWN_DEPARTMENTS, i.code
        assert (i.scale.min, i.scale.max) == (0, 100), i.code
        assert "influence" in i.model_fields_set, f"{i.code}: influence left to the default"
    by_code = {i.code: i for i in gpci.measures_at("indicator")}
    assert not by_code["nominal_gdp"].influence and not by_code["comfort_level_of_temperature"].influence
    assert not by_code["corporate_tax_rate"].influence and not by_code["proximity_to_world_heritage_sites"].influence
    assert by_code["public_transportation_use"].influence and by_code["number_of_startups"].influence


def test_function_and_total_keys_of_the_data_file_are_catalog_names_or_aliases(gpci):
    printed = {normalise_name(label): m.code for m in (*gpci.measures_at("overall"), *gpci.measures_at("sub_index"))
               for label in (m.name, *m.aliases)}
    for key, code in {"Economy": "economy", "R&D": "r_and_d", "Cultural Interaction": "cultural_interaction",
                      "Comprehensive": "total", "total": "total"}.items():
        assert printed[normalise_name(key)] == code


def _entry_with(tmp_path, extra_measure_fields: str):
    text = (REPO / "assets" / "gpci.yaml").read_text(encoding="utf-8")
    marker = "  - {code: nominal_gdp, "
    text = text.replace(marker, marker + extra_measure_fields, 1)
    path = tmp_path / "gpci.yaml"
    path.write_text(text, encoding="utf-8")
    return load_index_file(path)


def test_since_and_until_limit_the_editions_an_indicator_belongs_to(tmp_path):
    entry = _entry_with(tmp_path, 'since: "2020", until: "2024", ')
    assert "nominal_gdp" in {m.code for m in entry.indicators_in("2023")}
    assert "nominal_gdp" not in {m.code for m in entry.indicators_in("2019")}
    assert "nominal_gdp" not in {m.code for m in entry.indicators_in("2025")}
    assert len(entry.indicators_in("2025")) == 69


@pytest.mark.parametrize("fields, message", [
    ('since: "2024", until: "2020", ', "since '2024' is after until '2020'"),
    ('since: "twenty", ', "does not match edition_label_pattern"),
])
def test_since_and_until_are_checked(tmp_path, fields, message):
    with pytest.raises(CatalogError, match=message):
        _entry_with(tmp_path, fields)
