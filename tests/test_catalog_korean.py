"""Korean names in the catalog: every measure, city and department used has one."""

import re
import shutil

import pytest

from cityrank_pipeline.catalog import CatalogError, load_catalog

HANGUL = re.compile(r"[\uac00-\ud7a3]")


def test_every_measure_city_and_department_has_a_korean_name(catalog):
    measures = [(e.code, m.code, m.name_ko) for e in catalog for m in e.measures]
    assert len([m for m in measures if m[0] == "GPCI"]) == 1 + 6 + 26 + 70
    assert [m for m in measures if not m[2] or not HANGUL.search(m[2])] == []
    assert [c.key for c in catalog.cities.cities if not c.name_ko or not HANGUL.search(c.name_ko)] == []
    used = {e.owner_department for e in catalog} | {m.department for e in catalog for m in e.measures if m.department}
    assert used <= set(catalog.departments_ko)
    assert catalog.department_ko("Planning & Coordination Office") == "기획조정실"
    assert catalog.city_name_ko("New York") == "뉴욕" and catalog.city_name_ko("Gotham") == "Gotham"
    assert catalog["GPCI"].measure("livability").name_ko == "거주"


def test_a_department_without_a_korean_name_is_refused(tmp_path):
    from cityrank_pipeline.settings import PROJECT_ROOT

    directory = tmp_path / "assets"
    shutil.copytree(PROJECT_ROOT / "assets", directory)
    path = directory / "departments.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("  Safety Office: 안전총괄실\n", ""), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"departments\.yaml: no Korean name for department\(s\) Safety Office"):
        load_catalog(directory)
    path.unlink()
    with pytest.raises(CatalogError, match=r"departments\.yaml: missing"):
        load_catalog(directory)
