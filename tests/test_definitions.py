"""The Dagster code location: loads, and its shape is pinned so renames show up in review."""

import dagster as dg
import pytest

from cityrank_pipeline.definitions import build_definitions, defs


def test_definitions_load_and_resolve():
    repo = defs.get_repository_def()
    assert repo.get_all_jobs()
    dg.Definitions.validate_loadable(defs)


def test_asset_graph_per_index_and_views():
    keys = {"/".join(k.path) for k in defs.resolve_asset_graph().get_all_asset_keys()}
    for code in ("gci", "gco", "gpci", "qol", "eiu", "gser", "gfci", "cimi", "gdci"):
        for stage in ("raw_snapshot", "parsed_scores", "validated_scores", "warehouse_scores"):
            assert f"{code}/{stage}" in keys
    assert "mart/views" in keys
    graph = defs.resolve_asset_graph()
    parents = graph.get(dg.AssetKey(["gpci", "warehouse_scores"])).parent_keys
    assert parents == {dg.AssetKey(["gpci", "validated_scores"])}
    assert dg.AssetKey(["gpci", "warehouse_scores"]) in graph.get(dg.AssetKey(["mart", "views"])).parent_keys


def test_validation_gate_is_a_blocking_check():
    graph = defs.resolve_asset_graph()
    spec = graph.get_check_spec(dg.AssetCheckKey(dg.AssetKey(["gfci", "validated_scores"]), "expectation_suite"))
    assert spec.blocking


def test_each_index_has_an_edition_job_and_a_new_edition_sensor():
    built = build_definitions()
    job_names = {j.name for j in built.get_repository_def().get_all_jobs()}
    sensor_names = {s.name for s in built.get_repository_def().sensor_defs}
    for code in ("gci", "gco", "gpci", "qol", "eiu", "gser", "gfci", "cimi", "gdci"):
        assert f"{code}_edition_job" in job_names
        assert f"{code}_new_editions" in sensor_names
    assert {"refresh_views_job"} <= job_names and "refresh_views_after_load" in sensor_names


def test_sensor_interval_comes_from_the_environment(monkeypatch):
    def intervals() -> dict[str, int]:
        return {s.name: s.minimum_interval_seconds for s in build_definitions().get_repository_def().sensor_defs
                if s.name.endswith("_new_editions") or s.name == "refresh_views_after_load"}

    monkeypatch.delenv("CITYRANK_SENSOR_INTERVAL_SECONDS", raising=False)
    default = intervals()
    assert default.pop("refresh_views_after_load") == 30 and set(default.values()) == {60}
    # A server that should notice a dropped file sooner (and tests/serving.py) ticks faster.
    monkeypatch.setenv("CITYRANK_SENSOR_INTERVAL_SECONDS", "5")
    assert set(intervals().values()) == {5}
    monkeypatch.setenv("CITYRANK_SENSOR_INTERVAL_SECONDS", "0")
    with pytest.raises(ValueError, match="^CITYRANK_SENSOR_INTERVAL_SECONDS must be 1 or more$"):
        build_definitions()
