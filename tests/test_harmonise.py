"""City names as printed → reviewed canonical cities; unmapped names and unused aliases reported."""

import pandas as pd

from cityrank_pipeline.harmonise import harmonise_cities


def test_printed_variants_map_to_one_city(catalog):
    frame = pd.DataFrame({"city": ["Washington, D.C.", "Washington D.C.", "Washington DC", "Zürich", "SEOUL"]})
    out, report = harmonise_cities(frame, catalog, catalog["GPCI"])
    assert list(out["city_key"]) == ["washington_dc", "washington_dc", "washington_dc", "zurich", "seoul"]
    assert report.unmapped == []


def test_unmapped_names_are_listed_not_guessed(catalog):
    frame = pd.DataFrame({"city": ["Seoul", "Gotham", "Seol"]})
    out, report = harmonise_cities(frame, catalog, catalog["GFCI"])
    assert report.unmapped == ["Gotham", "Seol"]
    assert out["city_key"].tolist() == ["seoul", None, None]


def test_index_aliases_win_and_unused_ones_are_reported(catalog):
    gser = catalog["GSER"]
    out, report = harmonise_cities(pd.DataFrame({"city": ["Silicon Valley (Bay Area)"]}), catalog, gser)
    assert out["city_key"].tolist() == ["silicon_valley"]
    assert "Silicon Valley (Bay Area)" not in report.unused_index_aliases
    _, report = harmonise_cities(pd.DataFrame({"city": ["Seoul"]}), catalog, gser)
    assert report.unused_index_aliases == sorted(gser.city_aliases)
