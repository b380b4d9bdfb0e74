"""One edition materialised in-process through Dagster, and a failing suite that loads nothing."""

import dagster as dg
import psycopg

from cityrank_pipeline.orchestration.assets import build_index_assets
from cityrank_pipeline.editions import register_curated_editions
from cityrank_pipeline.orchestration.resources import CityrankResource
from cityrank_pipeline.snapshots import EditionSource, Quarantine, RawStore

from conftest import table_snapshot


def _gfci_assets():
    from cityrank_pipeline.catalog import load_catalog
    from cityrank_pipeline.settings import PROJECT_ROOT

    return build_index_assets(load_catalog(PROJECT_ROOT / "assets")["GFCI"])


def _materialize(instance, key):
    instance.add_dynamic_partitions("gfci_editions", [key])
    return dg.materialize(_gfci_assets(), partition_key=key, instance=instance,
                          resources={"cityrank": CityrankResource()}, raise_on_error=False)


def test_one_edition_flows_from_snapshot_to_warehouse(cityrank_env, catalog):
    register_curated_editions(catalog, RawStore(cityrank_env.raw_dir))
    with dg.instance_for_test() as instance:
        result = _materialize(instance, "GFCI 37")
        assert result.success
        checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
        assert checks == {"expectation_suite": True, "matches_previous_edition": True, "sources_agree": True,
                      "methodology_unchanged": True}
        loaded = [m for m in result.get_asset_materialization_events()
                  if m.asset_key == dg.AssetKey(["gfci", "warehouse_scores"])][0]
        assert loaded.materialization.metadata["rows"].value == 10
    with psycopg.connect(cityrank_env.database_url) as conn:
        rows = conn.execute("SELECT city, rank FROM mart.city_scores WHERE edition = 'GFCI 37' ORDER BY rank").fetchall()
    assert rows[0] == ("New York", 1) and ("Seoul", 10) in rows


def test_a_failing_suite_loads_nothing_and_quarantines_the_file(cityrank_env, catalog):
    store = RawStore(cityrank_env.raw_dir)
    register_curated_editions(catalog, store)
    with dg.instance_for_test() as instance:
        assert _materialize(instance, "GFCI 37").success
        before = table_snapshot(cityrank_env.database_url)
        bad_csv = ("index_code,edition,published,city,country,measure,rank,score,confidence,source_url,notes\n"
                   "GFCI,GFCI 37,2025-03,Seoul,South Korea,total,10,1300,reported,,rating out of scale\n"
                   "GFCI,GFCI 37,2025-03,Gotham,Nowhere,total,11,,reported,,not a real city\n").encode()
        snapshot, _ = store.put(bad_csv, original_name="bad_gfci37.csv", media_type="text/csv", licence_note="test")
        good = store.edition_source("GFCI", "GFCI 37")
        bad = EditionSource("GFCI", "GFCI 37", snapshot.snapshot_id, "curated_figures", "drop_in")
        store.register_edition(bad)
        result = _materialize(instance, "GFCI 37")
        assert not result.success
        [check] = [c for c in result.get_asset_check_evaluations() if c.check_name == "expectation_suite"]
        assert not check.passed
        summary = check.metadata["summary"].value
        assert "Gotham" in summary and "upper bound" in summary and "1300" in summary
        mats = {"/".join(m.asset_key.path) for m in result.get_asset_materialization_events()}
        assert "gfci/warehouse_scores" not in mats
    assert table_snapshot(cityrank_env.database_url) == before
    assert store.edition_source("GFCI", "GFCI 37") == good  # the good file is current again
    [note] = Quarantine(cityrank_env.quarantine_dir).entries()
    assert note["original_name"] == "bad_gfci37.csv" and "Gotham" in note["reason"]
