"""Per-index assets, built from the catalog: raw snapshot → parsed → validated → loaded.

Each index has its own dynamic partitions, one per edition ("2025", "GFCI 38"), added by the
sensor or command that brings a publication in. The validation gate is a blocking asset
check inside the validated asset (a plain @asset_check on a partitioned asset would load
every partition): when it fails, the loaded asset does not run and the warehouse is untouched.
"""


import warnings
from dataclasses import dataclass

import dagster as dg
import pandas as pd
import psycopg

from ..brief import release_markdown
from ..catalog import IndexEntry, describe_verification
from ..editions import (EditionFailed, compare_with_previous_edition, edition_fingerprint, parse_edition,
                        quarantine_edition, validate_edition)
from ..loading import edition_meta, load_edition
from ..methodology import methodology_changes
from ..notify import notify_new_edition, release_label
from ..snapshots import EditionSource, Snapshot
from .metadata import table_metadata
from .resources import CityrankResource

SUITE_CHECK = "expectation_suite"
PREVIOUS_CHECK = "matches_previous_edition"
SOURCES_CHECK = "sources_agree"
METHODOLOGY_CHECK = "methodology_unchanged"


@dataclass(frozen=True)
class EditionRows:
    """What flows between the stages: the rows plus the exact source they came from."""

    source: EditionSource
    snapshot: Snapshot
    frame: pd.DataFrame
    # Every file the rows were assembled from (assembly.Contribution), best first.
    contributions: tuple = ()


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


def _edition_source(context: dg.AssetExecutionContext, cityrank: CityrankResource, code: str) -> EditionSource:
    source = cityrank.store().edition_source(code, context.partition_key)
    if source is None:
        raise dg.Failure(f"{code} edition {context.partition_key!r} has no registered publication in the raw store")
    return source


def _failure_table(report) -> str:
    lines = ["| expectation | why | rows | examples |", "|---|---|---|---|"]
    for f in report.failures:
        examples = "<br>".join(e.replace("|", "\\|") for e in f.examples)
        lines.append(f"| {f.expectation} | {f.why} | {f.unexpected_count} | {examples} |")
    return "\n".join(lines)


def _sources_table(contributions) -> str:
    lines = ["| precedence | file | kind | role | facts used | overridden | disagreements |", "|---|---|---|---|---|---|---|"]
    for c in contributions:
        lines.append(f"| {c.precedence} | {c.snapshot.original_name} (`{c.snapshot.snapshot_id[:12]}`) | {c.kind} | "
                     f"{c.role} | {c.facts_used} | {c.facts_overridden} | {len(c.disagreements)} |")
    return "\n".join(lines)


def focus_metadata(headline) -> dict:
    """The focus city's result as numbers Dagster plots across the index's editions (partitions).

    Left out when undisclosed rather than sent as 0 or NaN, which would plot as a result.
    """
    if headline is None:
        return {}
    out: dict = {"focus_city": headline.city, "edition": headline.edition}
    if headline.rank is not None:
        out["focus_rank"] = int(headline.rank)
    if headline.score is not None:
        out["focus_score"] = float(headline.score)
    if headline.city_count is not None:
        out["focus_rank_of"] = int(headline.city_count)
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
        source = _edition_source(context, cityrank, code)
        store = cityrank.store()
        snapshot = store.get(source.snapshot_id)
        store.read_bytes(source.snapshot_id)  # verifies the bytes still match their address
        context.add_output_metadata({
            "snapshot_id": snapshot.snapshot_id, "original_name": snapshot.original_name,
            "source_url": dg.MetadataValue.url(snapshot.source_url) if snapshot.source_url else "",
            "bytes": snapshot.bytes, "fetched_at": snapshot.fetched_at, "parser": source.parser,
            "source_kind": source.source_kind,
        })
        return source

    @dg.asset(name="parsed_scores", kinds={"pandas"}, ins={"raw_snapshot": dg.AssetIn(key=asset_key(code, "raw_snapshot"))}, **common,
              description=f"{entry.name}: every city's figures as printed, one row per city and measure, city names harmonised.")
    def parsed_scores(context: dg.AssetExecutionContext, cityrank: CityrankResource, raw_snapshot: EditionSource) -> EditionRows:
        store = cityrank.store()
        try:
            assembled = parse_edition(cityrank.catalog(), store, raw_snapshot)
        except EditionFailed as exc:
            where = quarantine_edition(cityrank.quarantine(), store, raw_snapshot, str(exc))
            raise dg.Failure(description=str(exc), metadata={"quarantined_to": str(where) if where else ""}) from exc
        frame, report = assembled.frame, assembled.harmonise
        context.add_output_metadata({
            "sources": dg.MetadataValue.md(_sources_table(assembled.contributions)),
            "rows": len(frame), "cities": int(frame["city"].nunique()),
            "measures": ", ".join(sorted(frame["measure"].unique())),
            "unmapped_city_names": ", ".join(report.unmapped) or "none",
            "unused_index_aliases": ", ".join(report.unused_index_aliases) or "none",
            "parser_real_documents": describe_verification(entry.parser_coverage().get(raw_snapshot.parser, [])),
            "preview": dg.MetadataValue.md(frame.head(10)[["edition", "city", "measure", "score", "rank"]].to_markdown(index=False)),
        })
        return EditionRows(raw_snapshot, assembled.snapshot, frame, assembled.contributions)

    validated_key = asset_key(code, "validated_scores")

    @dg.asset(name="validated_scores", kinds={"great_expectations"}, ins={"parsed_scores": dg.AssetIn(key=asset_key(code, "parsed_scores"))},
              check_specs=edition_checks(validated_key, partitions, group),
              **common, description=f"{entry.name}: rows that passed the index's Great Expectations suite.")
    def validated_scores(context: dg.AssetExecutionContext, cityrank: CityrankResource, parsed_scores: EditionRows):
        settings = cityrank.settings()
        # Checks are partitioned like the asset (Dagster records each result against the edition);
        # the edition is also named in the result, so it reads the same in logs and alerts.
        checked = f"{release_label(code, context.partition_key)}"
        report = validate_edition(cityrank.catalog(), settings.expectations_dir, parsed_scores.source, parsed_scores.frame)
        # The file first: an analyst acts on a file, not on an edition label.
        summary = f"{parsed_scores.snapshot.original_name}: {report.summary()}"
        metadata = {"edition": context.partition_key, "suite": report.suite, "expectations": report.evaluated, "failed": len(report.failures),
                    "summary": summary}
        if not report.success:
            where = quarantine_edition(cityrank.quarantine(), cityrank.store(), parsed_scores.source, summary)
            metadata["failures"] = dg.MetadataValue.md(_failure_table(report))
            metadata["quarantined_to"] = str(where) if where else ""
            context.log.error(summary)
        yield dg.Output(parsed_scores, metadata={"rows": len(parsed_scores.frame), "passed": report.success})
        yield dg.AssetCheckResult(check_name=SUITE_CHECK, asset_key=validated_key, description=checked, passed=report.success,
                                  severity=dg.AssetCheckSeverity.ERROR, metadata=metadata)
        with cityrank.connect() as conn:
            compared, mismatches = compare_with_previous_edition(
                conn, cityrank.catalog()[code], parsed_scores.source.edition, parsed_scores.frame)
            previous_label, changes = methodology_changes(conn, cityrank.catalog()[code], parsed_scores.source.edition,
                                                          parsed_scores.frame)
        yield dg.AssetCheckResult(check_name=PREVIOUS_CHECK, asset_key=validated_key, description=checked, passed=not mismatches,
                                  severity=dg.AssetCheckSeverity.WARN,
                                  metadata={"edition": context.partition_key, "compared": compared, "mismatches": len(mismatches),
                                            "details": "; ".join(mismatches[:20]) or "none"})
        disagreements = [d for c in parsed_scores.contributions for d in c.disagreements]
        yield dg.AssetCheckResult(check_name=SOURCES_CHECK, asset_key=validated_key, description=checked, passed=not disagreements,
                                  severity=dg.AssetCheckSeverity.WARN,
                                  metadata={"edition": context.partition_key, "sources": len(parsed_scores.contributions),
                                            "overlapping_figures": sum(c.facts_overridden for c in parsed_scores.contributions),
                                            "disagreements": len(disagreements),
                                            "details": "; ".join(disagreements[:20]) or "none"})
        yield dg.AssetCheckResult(check_name=METHODOLOGY_CHECK, asset_key=validated_key, description=checked, passed=not changes,
                                  severity=dg.AssetCheckSeverity.WARN,
                                  metadata={"edition": context.partition_key, "compared_with": previous_label or "no earlier edition with indicators",
                                            "changes": len(changes),
                                            "details": "; ".join(c.describe() for c in changes[:40]) or "none"})

    @dg.asset(name="warehouse_scores", kinds={"postgres"}, ins={"validated_scores": dg.AssetIn(key=validated_key)}, **common,
              description=f"{entry.name}: the edition's rows in warehouse.fact_city_score (one transaction, COPY, replace-if-changed).")
    def warehouse_scores(context: dg.AssetExecutionContext, cityrank: CityrankResource, validated_scores: EditionRows) -> dg.MaterializeResult:
        catalog = cityrank.catalog()
        rows = validated_scores
        meta = edition_meta(catalog[code], rows.source.edition, rows.frame, rows.snapshot, complete=rows.source.complete)
        with cityrank.connect() as conn:
            try:
                result = load_edition(conn, catalog, catalog[code], rows.frame, rows.snapshot, meta, rows.contributions)
            except (psycopg.DataError, psycopg.IntegrityError) as exc:
                # The file's figures, not the database, are at fault (the load rolled back):
                # withdraw it like a file the suite refuses, so the next run does not meet it again.
                reason = f"{rows.snapshot.original_name}: the warehouse refused {code} {meta.edition}: " \
                         f"{str(exc).strip().splitlines()[0]}"
                where = quarantine_edition(cityrank.quarantine(), cityrank.store(), rows.source, reason)
                raise dg.Failure(description=reason, metadata={"quarantined_to": str(where) if where else ""}) from exc
            # Chart + scorecard for the UI and the headline; never fails the load (warns instead).
            pictures, headline = release_markdown(conn, cityrank.settings(), catalog, code, meta.edition, context.log)
            standard = table_metadata(conn, "warehouse", "fact_city_score", result.rows)
        notified = notify_new_edition(headline, logger=context.log) if result.changed and headline else {}
        return dg.MaterializeResult(metadata={
            **standard,
            **focus_metadata(headline),
            **{name: dg.MetadataValue.md(text) for name, text in pictures.items()},
            "notifications": "; ".join(f"{k}: {v}" for k, v in notified.items()) or "none",
            "rows": result.rows, "changed": result.changed, "deleted": result.deleted,
            "snapshot_id": rows.snapshot.snapshot_id, "published_on": str(meta.published_on or ""),
            "city_count": meta.city_count or 0,
            "sources": ", ".join(f"{c.snapshot.original_name} ({c.role})" for c in rows.contributions) or "",
            "input_fingerprint": edition_fingerprint(cityrank.settings(), catalog, cityrank.store(), rows.source),
        })

    return [raw_snapshot, parsed_scores, validated_scores, warehouse_scores]
