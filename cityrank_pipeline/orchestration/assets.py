"""Per-index assets, built from the catalog: raw snapshot → parsed → validated → loaded.

Each index has its own dynamic partitions, one per edition ("2025", "GFCI 38"), added by the
sensor or command that brings a publication in. The validation gate is a blocking asset
check inside the validated asset (a plain @asset_check on a partitioned asset would load
every partition): when it fails, the loaded asset does not run and the warehouse is untouched.
What each stage does is in edition_steps.py, which the main job's batch run (batch.py) calls too.
"""


import warnings

import dagster as dg

from ..catalog import IndexEntry
from ..snapshots import EditionSource
from .edition_steps import (METHODOLOGY_CHECK, PREVIOUS_CHECK, SOURCES_CHECK, SUITE_CHECK, EditionRows,
                            load_step, parse_step, snapshot_step, validate_step)
from .resources import CityrankResource

__all__ = ["EditionRows", "SUITE_CHECK", "PREVIOUS_CHECK", "SOURCES_CHECK", "METHODOLOGY_CHECK", "asset_key",
           "build_index_assets", "last_loaded_fingerprint", "last_loaded_fingerprints", "ordered_partition_changes",
           "partitions_for"]


def partitions_for(code: str) -> dg.DynamicPartitionsDefinition:
    return dg.DynamicPartitionsDefinition(name=f"{code.lower()}_editions")


def ordered_partition_changes(existing: list[str], new: list[str], seq) -> tuple[list[str], list[str]]:
    """(keys to delete, keys to add, in order) so the partitions read in edition order afterwards.

    Dagster lists dynamic partitions in the order they were added, and its UI and plots follow
    that order; an older edition registered late (GPCI 2016 after 2025) would sit at the end.
    Every key from the first one out of place on is deleted and added again in order: a
    partition's runs and materialisations are recorded by key, so they survive the re-adding.
    """
    target = sorted(dict.fromkeys([*existing, *new]), key=seq)
    keep = 0
    while keep < len(existing) and existing[keep] == target[keep]:
        keep += 1
    return existing[keep:], target[keep:]


def asset_key(code: str, stage: str) -> dg.AssetKey:
    return dg.AssetKey([code.lower(), stage])


def last_loaded_fingerprint(instance: dg.DagsterInstance, code: str, label: str) -> str | None:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key(code, "warehouse_scores"), asset_partitions=[label]), limit=1
    ).records
    if not records:
        return None
    value = records[0].asset_materialization.metadata.get("input_fingerprint")
    return value.value if value is not None else None


def last_loaded_fingerprints(instance: dg.DagsterInstance, code: str) -> dict[str, str]:
    """`last_loaded_fingerprint` of every loaded edition of an index, in two storage calls
    whatever the number of editions: the newest materialisation id per partition, then those
    records."""
    key = asset_key(code, "warehouse_scores")
    latest = instance.get_latest_storage_id_by_partition(key, dg.DagsterEventType.ASSET_MATERIALIZATION)
    if not latest:
        return {}
    records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key, storage_ids=list(latest.values())),
                                              limit=len(latest)).records
    out = {}
    for record in records:
        materialization = record.asset_materialization
        value = materialization.metadata.get("input_fingerprint")
        if materialization.partition is not None and value is not None:
            out[materialization.partition] = value.value
    return out


def edition_checks(validated_key: dg.AssetKey, partitions: dg.DynamicPartitionsDefinition,
                   group: str) -> list[dg.AssetCheckSpec]:
    """The validated asset's checks, partitioned like it: each result is recorded against its edition.

    Partitioned checks are a preview feature of Dagster 1.13; the pinned patch release keeps
    them stable, so the preview warning is silenced here rather than on every code-location load.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return [
            dg.AssetCheckSpec(SUITE_CHECK, asset=validated_key, blocking=True, partitions_def=partitions,
                              description=f"expectations/{group}.json must pass before the edition is loaded"),
            dg.AssetCheckSpec(PREVIOUS_CHECK, asset=validated_key, blocking=False, partitions_def=partitions,
                              description="previous-edition figures the file reprints agree with the warehouse (WARN)"),
            dg.AssetCheckSpec(SOURCES_CHECK, asset=validated_key, blocking=False, partitions_def=partitions,
                              description="figures two files give for the same cell agree; the better file's figure "
                                          "is kept (WARN)"),
            dg.AssetCheckSpec(METHODOLOGY_CHECK, asset=validated_key, blocking=False, partitions_def=partitions,
                              description="the edition reports the same indicators, worded the same, as the previous "
                                          "edition with indicators (WARN)"),
        ]


def build_index_assets(entry: IndexEntry) -> list[dg.AssetsDefinition]:
    code = entry.code
    group = code.lower()
    partitions = partitions_for(code)
    common = dict(key_prefix=[group], group_name=group, partitions_def=partitions,
                  tags={"index": code, "department": entry.owner_department.replace(" & ", "_and_").replace(" ", "_").lower()})

    @dg.asset(name="raw_snapshot", kinds={"file"}, **common,
              description=f"{entry.name}: the raw publication file of one edition, verified against its sha256, with provenance.")
    def raw_snapshot(context: dg.AssetExecutionContext, cityrank: CityrankResource) -> EditionSource:
        source, metadata = snapshot_step(cityrank, code, context.partition_key)
        context.add_output_metadata(metadata)
        return source

    @dg.asset(name="parsed_scores", kinds={"pandas"}, ins={"raw_snapshot": dg.AssetIn(key=asset_key(code, "raw_snapshot"))}, **common,
              description=f"{entry.name}: every city's figures as printed, one row per city and measure, city names harmonised.")
    def parsed_scores(context: dg.AssetExecutionContext, cityrank: CityrankResource, raw_snapshot: EditionSource) -> EditionRows:
        rows, metadata = parse_step(cityrank, code, raw_snapshot)
        context.add_output_metadata(metadata)
        return rows

    validated_key = asset_key(code, "validated_scores")

    @dg.asset(name="validated_scores", kinds={"great_expectations"}, ins={"parsed_scores": dg.AssetIn(key=asset_key(code, "parsed_scores"))},
              check_specs=edition_checks(validated_key, partitions, group),
              **common, description=f"{entry.name}: rows that passed the index's Great Expectations suite.")
    def validated_scores(context: dg.AssetExecutionContext, cityrank: CityrankResource, parsed_scores: EditionRows):
        validation = validate_step(cityrank, code, context.partition_key, parsed_scores, context.log)
        yield dg.Output(parsed_scores, metadata=validation.metadata)
        for check in validation.checks:
            yield dg.AssetCheckResult(check_name=check.name, asset_key=validated_key, description=check.description,
                                      passed=check.passed, severity=check.severity, metadata=check.metadata)

    @dg.asset(name="warehouse_scores", kinds={"postgres"}, ins={"validated_scores": dg.AssetIn(key=validated_key)}, **common,
              description=f"{entry.name}: the edition's rows in warehouse.fact_city_score (one transaction, COPY, replace-if-changed).")
    def warehouse_scores(context: dg.AssetExecutionContext, cityrank: CityrankResource, validated_scores: EditionRows) -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata=load_step(cityrank, code, validated_scores, context.log))

    return [raw_snapshot, parsed_scores, validated_scores, warehouse_scores]
