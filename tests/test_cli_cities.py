"""Every city a person types goes through the focus city's alias list: any case, aliases, and a
typo refused everywhere with the closest names. An empty warehouse gets a hint, not empty rows."""

import pytest

from cityrank_pipeline.cli import main
from cityrank_pipeline.focus import FocusConfigError, closest_cities, resolve_city

from test_views_fixture import load_real_figures


@pytest.mark.parametrize("typed, key", [("Seoul", "seoul"), ("seoul", "seoul"), ("SEOUL", "seoul"), ("NYC", "new_york"),
                                        ("nyc", "new_york"), ("new york city", "new_york"), ("tokyo", "tokyo")])
def test_names_and_aliases_in_any_case(catalog, typed, key):
    assert resolve_city(catalog, typed, setting="--city") == key


def test_a_typo_is_refused_with_the_closest_names(catalog):
    with pytest.raises(FocusConfigError, match=r"--city: 'Seuol' is not a city in .*cities\.yaml; did you mean Seoul"):
        resolve_city(catalog, "Seuol", setting="--city")
    assert closest_cities(catalog, "Londn")[0] == "London"
    assert closest_cities(catalog, "Qwxz") == []


@pytest.fixture
def gfci_loaded(cityrank_env, migrated_url, catalog, tmp_path):
    load_real_figures(cityrank_env.database_url, catalog, tmp_path / "raw", indices=("GFCI",),
                      editions={("GFCI", "GFCI 37"), ("GFCI", "GFCI 38")})
    return cityrank_env


@pytest.mark.parametrize("argv", [["scorecard", "--city", "Seuol"], ["path", "--city", "Seuol"]])
def test_every_city_option_refuses_a_typo(gfci_loaded, capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--city: 'Seuol' is not a city" in err and "did you mean Seoul" in err


def test_a_misspelt_focus_city_is_refused_by_scorecard(gfci_loaded, capsys, monkeypatch):
    monkeypatch.setenv("CITYRANK_FOCUS_CITY", "Seuol")
    assert main(["scorecard"]) == 2
    assert "CITYRANK_FOCUS_CITY: 'Seuol' is not a city" in capsys.readouterr().err


@pytest.mark.parametrize("typed, shown", [("seoul", "Seoul"), ("NYC", "New York"), ("new york", "New York")])
def test_scorecard_resolves_the_city_it_is_given(gfci_loaded, capsys, typed, shown):
    assert main(["scorecard", "--city", typed]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{shown} scorecard")
    gfci = next(line for line in out.splitlines() if line.startswith("GFCI "))
    assert "GFCI 38" in gfci and "no figures loaded" not in gfci


def test_a_lower_case_focus_city_gets_its_scorecard(gfci_loaded, capsys, monkeypatch):
    monkeypatch.setenv("CITYRANK_FOCUS_CITY", "seoul")
    assert main(["scorecard"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Seoul scorecard") and "10/120" in out


@pytest.mark.parametrize("argv", [["scorecard"], ["path"], ["brief"]])
def test_an_empty_warehouse_says_to_run_first(cityrank_env, migrated_url, capsys, argv):
    assert main(argv) == 1
    assert "run `cityrank run` first" in capsys.readouterr().err


def test_scorecard_shows_scores_where_they_exist_and_says_rank_only(cityrank_env, migrated_url, catalog, tmp_path,
                                                                   capsys):
    # Curated figures: CIMI 2019 gives Seoul's score (78.13), GPCI 2025 only its rank, GSER has no score at all.
    load_real_figures(cityrank_env.database_url, catalog, tmp_path / "raw", indices=("GSER", "GPCI", "CIMI"),
                      editions={("GSER", "2025"), ("GPCI", "2025"), ("CIMI", "2019")})
    assert main(["scorecard"]) == 0
    out = capsys.readouterr().out
    line = {row.split()[0]: row for row in out.splitlines() if row[:4].strip() in ("GSER", "GPCI", "CIMI")}
    assert line["CIMI"].split()[3] == "78.13"
    assert "rank only" in line["GSER"]
    assert line["GPCI"].split()[3] == "—"
    assert "rank only = GSER publish ranks, no overall score." in out
    assert "— in score = the figures loaded for that edition carry a rank but no score." in out
