"""What the Dagster UI shows: standard table metadata, the focus city's rank as plottable numbers, an
inline rank chart, checks recorded against their edition, and partitions in edition order."""

import base64
import re

import dagster as dg
import psycopg
import pytest

from cityrank_pipeline.charts import rank_history_figure
from cityrank_pipeline.editions import register_curated_editions
from cityrank_pipeline.orchestration.assets import build_index_assets, ordered_partition_changes
from cityrank_pipeline.orchestration.metadata import INLINE_MARKDOWN_LIMIT
from cityrank_pipeline.orchestration.resources import CityrankResource
from cityrank_pipeline.orchestration.views import build_views_asset
from cityrank_pipeline.runner import sync_partitions
from cityrank_pipeline.snapshots import RawStore

from test_views_fixture import load_through_asset


def seq(label: str) -> int:
    return int(re.findall(r"\d+", label)[-1])


@pytest.mark.parametrize("existing, new, deleted, added", [
    ([], ["2024", "2016"], [], ["2016", "2024"]),                                # first sync: sorted
    (["2016", "2024"], ["2025"], [], ["2025"]),                                  # newest edition: appended
    (["2016", "2024", "2025"], [], [], []),                                      # nothing new, in order
    (["2024", "2025"], ["2016"], ["2024", "2025"], ["2016", "2024", "2025"]),    # a late older edition
    (["GFCI 37", "GFCI 30", "GFCI 38"], [], ["GFCI 37", "GFCI 30", "GFCI 38"],   # an instance added out of order
     ["GFCI 30", "GFCI 37", "GFCI 38"]),
])
def test_partition_changes_keep_edition_order(existing, new, deleted, added):
    assert ordered_partition_changes(existing, new, seq) == (deleted, added)


def test_sync_reorders_partitions_and_keeps_their_history(cityrank_env, catalog):
    store = RawStore(cityrank_env.raw_dir)
    register_curated_editions(catalog, store)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("gfci_editions", ["GFCI 38", "GFCI 30"])  # as an older instance had them
        key = dg.AssetKey(["gfci", "warehouse_scores"])
        instance.report_runless_asset_event(dg.AssetMaterialization(key, partition="GFCI 38", metadata={"focus_rank": 10}))
        sync_partitions(instance, catalog, store)
        keys = instance.get_dynamic_partitions("gfci_editions")
        assert keys == sorted(keys, key=catalog["GFCI"].edition_seq) and {"GFCI 30", "GFCI 38"} <= set(keys)
        records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key, asset_partitions=["GFCI 38"]),
                                                  limit=1).records
        assert records[0].asset_materialization.metadata["focus_rank"].value == 10


def test_the_chart_is_titled_from_the_edition_it_belongs_to():
    history = [("2016", 6), ("2024", 6), ("2025", 6)]
    ax = rank_history_figure(history, city="Seoul", index_code="GPCI", city_count=42, edition="2016").axes[0]
    assert ax.get_title() == "Seoul in GPCI: 6 of 42 in 2016 (dashed line: top 5)"
    ax = rank_history_figure(history, city="서울", index_code="GPCI", city_count=48, edition="2025", lang="ko").axes[0]
    assert ax.get_title() == "GPCI의 서울: 2025 6위 (48개 도시 중) (점선: 5위)"


def test_warehouse_scores_carry_standard_and_focus_metadata(cityrank_env, catalog):
    load_through_asset(catalog, cityrank_env, "GFCI", "GFCI 38")
    loaded = load_through_asset(catalog, cityrank_env, "GFCI", "GFCI 37")  # an older edition, loaded later
    metadata = loaded.metadata
    assert metadata["dagster/table_name"] == "warehouse.fact_city_score"
    assert metadata["dagster/row_count"] == metadata["rows"]
    schema = metadata["dagster/column_schema"]
    assert isinstance(schema, dg.TableSchema)
    columns = {c.name: c for c in schema.columns}
    assert {"index_code", "edition", "city_key", "measure_code", "score", "rank"} <= set(columns)
    assert columns["city_key"].constraints.nullable is False
    # The focus city's result in this edition, as numbers Dagster plots across partitions.
    assert (metadata["focus_rank"], metadata["focus_rank_of"], metadata["edition"]) == (10, 119, "GFCI 37")  # GFCI 37 ranked 119 centres
    assert "focus_score" not in metadata  # GFCI 37's rating for Seoul is not in the curated figures
    # The inline chart: short enough for the UI to render in place, circling the loaded edition.
    chart = metadata["rank_chart"].value
    assert len(chart) < INLINE_MARKDOWN_LIMIT
    svg = base64.b64decode(chart.split("data:image/svg+xml;base64,", 1)[1].rstrip(")")).decode()
    assert svg.startswith("<svg") and "<circle" in svg and "<polyline" in svg
    assert "circled: GFCI 37 (10)" in chart
    history = metadata["rank_history"].value
    assert history.startswith("![Seoul rank history in GFCI](data:image/svg+xml;base64,")


def test_mart_views_carry_standard_metadata(cityrank_env, catalog):
    load_through_asset(catalog, cityrank_env, "GFCI", "GFCI 38")
    asset = build_views_asset([dg.AssetKey(["gfci", "warehouse_scores"])])
    result = asset(dg.build_asset_context(resources={"cityrank": CityrankResource()}))
    metadata = result.metadata
    assert metadata["dagster/table_name"] == "mart.city_scores"
    with psycopg.connect(cityrank_env.database_url) as conn:
        count = conn.execute("SELECT count(*) FROM mart.city_scores").fetchone()[0]
        scorecard = conn.execute("SELECT count(*) FROM mart.city_scorecard").fetchone()[0]
    assert metadata["dagster/row_count"] == count == metadata["city_scores_rows"]
    assert metadata["rows/mart.city_scorecard"] == scorecard
    described = {c.name: c.description for c in metadata["dagster/column_schema"].columns}
    assert described and all(described.values())  # every mart.city_scores column has its COMMENT


def test_checks_are_recorded_against_their_edition(cityrank_env, catalog):
    register_curated_editions(catalog, RawStore(cityrank_env.raw_dir))
    assets = build_index_assets(catalog["GFCI"])
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("gfci_editions", ["GFCI 37"])
        result = dg.materialize(assets, partition_key="GFCI 37", instance=instance,
                                resources={"cityrank": CityrankResource()})
        evaluations = result.get_asset_check_evaluations()
        assert {e.check_name for e in evaluations} == {"expectation_suite", "matches_previous_edition",
                                                       "sources_agree", "methodology_unchanged"}
        for evaluation in evaluations:
            assert evaluation.partition == "GFCI 37"
            assert evaluation.description == "GFCI 37" and evaluation.metadata["edition"].value == "GFCI 37"
        spec = next(iter(assets[2].check_specs))
        assert spec.partitions_def == assets[2].partitions_def
