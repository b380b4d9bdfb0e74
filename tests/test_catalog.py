"""The catalog in assets/: all nine indices load, and a typo names its file and field."""

import shutil

import pytest

from cityrank_pipeline.catalog import INDEX_CODES, CatalogError, load_catalog, normalise_name


def test_all_nine_indices_load_with_owner_departments(catalog):
    assert [e.code for e in catalog] == list(INDEX_CODES)
    owners = {e.code: e.owner_department for e in catalog}
    assert {owners[c] for c in ("GCI", "GCO", "GPCI", "QOL", "EIU")} == {"Planning & Coordination Office"}
    assert owners["GSER"] == owners["GFCI"] == "Economic Policy Office"
    assert owners["CIMI"] == "Smart City Policy Bureau"
    assert owners["GDCI"] == "Tourism & Sports Bureau"
    assert catalog["GDCI"].status == "discontinued"
    assert catalog["gpci"].calendar.release_months == [10, 11, 12]
    for entry in catalog:
        assert entry.name_ko and entry.publisher and entry.measures[0].code == "total"


def test_measure_hierarchy_and_departments(catalog):
    gpci = catalog["GPCI"]
    functions = [m.code for m in gpci.measures if m.parent == "total"]
    assert functions == ["economy", "r_and_d", "cultural_interaction", "livability", "environment", "accessibility"]
    assert gpci.measure_department("environment") == "Climate & Environment Headquarters"
    assert gpci.measure_department("total") == "Planning & Coordination Office"


def _copy_catalog(tmp_path):
    target = tmp_path / "assets"
    shutil.copytree(pytest.importorskip("cityrank_pipeline.settings").PROJECT_ROOT / "assets", target)
    return target


def test_typo_in_a_field_names_file_and_field(tmp_path):
    directory = _copy_catalog(tmp_path)
    path = directory / "gfci.yaml"
    path.write_text(path.read_text().replace("owner_department:", "owner_departmnet:"))
    with pytest.raises(CatalogError) as err:
        load_catalog(directory)
    assert "gfci.yaml" in str(err.value) and "owner_departmnet" in str(err.value)


def test_bad_release_month_and_unknown_parent_are_refused(tmp_path):
    directory = _copy_catalog(tmp_path)
    path = directory / "eiu.yaml"
    path.write_text(path.read_text().replace("release_months: [6]", "release_months: [13]"))
    with pytest.raises(CatalogError, match=r"eiu\.yaml: calendar\.release_months"):
        load_catalog(directory)
    path.write_text(path.read_text().replace("release_months: [13]", "release_months: [6]")
                    .replace("parent: total, influence: false", "parent: totl, influence: false"))
    with pytest.raises(CatalogError, match=r"eiu\.yaml: .*totl"):
        load_catalog(directory)


def test_alias_to_unknown_city_is_refused(tmp_path):
    directory = _copy_catalog(tmp_path)
    path = directory / "gser.yaml"
    path.write_text(path.read_text().replace("silicon_valley", "silicon_vally"))
    with pytest.raises(CatalogError, match=r"gser\.yaml: city_aliases"):
        load_catalog(directory)


def test_name_folding_joins_printed_variants(catalog):
    assert normalise_name("Washington, D.C.") == normalise_name("Washington D.C.")
    keys = {c.key for c in catalog.cities.cities}
    assert {"seoul", "new_york", "london", "paris", "tokyo", "singapore", "hong_kong", "beijing", "shanghai"} <= keys
    assert catalog.city_by_key["seoul"].name_ko == "서울"
