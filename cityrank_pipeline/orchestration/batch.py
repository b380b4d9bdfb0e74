"""Many editions in one Dagster run: what `cityrank run` executes.

A Dagster run costs ~1.5-2 s of its own (run and step events, storage round trips) before any
work; one run per edition made that overhead almost all of a main job that loads a few hundred
rows per edition. `editions_batch_job` runs a list of editions in one op, calling the same stage
functions as the per-edition assets (edition_steps.py), and records for every edition what an
asset run records: a materialisation of each of the four assets against the edition's
partition, with the same metadata (`input_fingerprint` included), and the validated asset's
four check evaluations against that partition. The UI's partition, check and metadata views
read the same whichever job loaded an edition; the per-edition jobs remain for sensors, the
UI and `cityrank ingest`.

An edition that fails (unreadable, refused by its suite or by the warehouse) is quarantined
as the assets do and the op goes on with the next; the run fails at the end, naming each
failed edition, and carries every edition's outcome in the failure's metadata. A database
that stops answering ends the run at once: nothing after it could be recorded.
"""


from functools import partial
from itertools import groupby
from operator import itemgetter

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import AssetCheckEvaluationTargetMaterializationData

from ..database import database_failure
from .assets import asset_key
from .edition_steps import (SUITE_CHECK, EditionRows, load_step, parse_step, snapshot_step, suite_reports,
                            validate_step)
from .resources import CityrankResource

BATCH_JOB = "editions_batch_job"
BATCH_OP = "load_editions"
OUTCOMES = "outcomes"


class EditionBatchConfig(dg.Config):
    # (index code, edition label) pairs, run in this order: an index's editions oldest first,
    # because the previous-edition cross-check reads what the one before loaded.
    editions: list[list[str]]


def batch_run_config(editions: list[tuple[str, str]]) -> dict:
    return {"ops": {BATCH_OP: {"config": {"editions": [[code, label] for code, label in editions]}}}}


def _materialize(context: dg.OpExecutionContext, key: dg.AssetKey, label: str, metadata: dict):
    context.log_event(dg.AssetMaterialization(asset_key=key, partition=label, metadata=metadata))


def _latest_materialization(context: dg.OpExecutionContext, key: dg.AssetKey, label: str):
    """The materialisation just recorded, so each check evaluation points at the one it judged."""
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[label]), limit=1).records
    if not records:
        return None
    record = records[0]
    return AssetCheckEvaluationTargetMaterializationData(storage_id=record.storage_id, run_id=record.run_id,
                                                         timestamp=record.timestamp)


def read_edition(context: dg.OpExecutionContext, cityrank: CityrankResource, code: str, label: str) -> EditionRows:
    """Snapshot and parse one edition, recording both stages. Raises dg.Failure when the file
    cannot be read (already quarantined)."""
    source, metadata = snapshot_step(cityrank, code, label)
    _materialize(context, asset_key(code, "raw_snapshot"), label, metadata)
    rows, metadata = parse_step(cityrank, code, source)
    _materialize(context, asset_key(code, "parsed_scores"), label, metadata)
    return rows


def finish_edition(context: dg.OpExecutionContext, cityrank: CityrankResource, code: str, label: str,
                   rows: EditionRows, report=None) -> bool:
    """Validate and load one parsed edition, recording the stage and its checks; returns whether
    the warehouse changed. Raises dg.Failure when the edition is refused (already quarantined)."""
    validated_key = asset_key(code, "validated_scores")
    validation = validate_step(cityrank, code, label, rows, context.log, report)
    _materialize(context, validated_key, label, validation.metadata)
    target = _latest_materialization(context, validated_key, label)
    for check in validation.checks:
        context.log_event(dg.AssetCheckEvaluation(
            asset_key=validated_key, check_name=check.name, passed=check.passed, severity=check.severity,
            description=check.description, metadata=check.metadata, blocking=check.name == SUITE_CHECK,
            partition=label, target_materialization_data=target))
    if not validation.passed:  # the blocking check: the warehouse is not touched
        raise dg.Failure(description=validation.summary)
    metadata = load_step(cityrank, code, rows, context.log)
    _materialize(context, asset_key(code, "warehouse_scores"), label, metadata)
    return bool(metadata["changed"])


def _attempt(context: dg.OpExecutionContext, outcomes: dict, name: str, stage):
    """Run one edition's stage; on a refusal or a bug, record the edition as failed and return
    None, so the op goes on with the next edition. A database that stops answering is raised."""
    try:
        return stage()
    except dg.Failure as exc:
        message = exc.description or f"{name} failed"
        where = exc.metadata.get("quarantined_to") if exc.metadata else None
        context.log.error(f"{name}: {message}" + (f" (quarantined to {where.value})" if where and where.value else ""))
        outcomes[name] = {"ok": False, "changed": None, "message": message}
    except Exception as exc:  # noqa: BLE001 - one edition's bug must not stop the others
        if database_failure(exc):
            raise
        context.log.exception(f"{name} failed")
        lines = str(exc).strip().splitlines()
        outcomes[name] = {"ok": False, "changed": None, "message": lines[-1] if lines else type(exc).__name__}
    return None


@dg.op(name=BATCH_OP, description="Snapshot, parse, validate and load each listed edition, recording every "
                                  "stage and check against the edition's partition.")
def load_editions(context: dg.OpExecutionContext, config: EditionBatchConfig, cityrank: CityrankResource) -> dict:
    """Each index in turn: read (snapshot and parse) all its listed editions, run its suite over
    them at once (suite_reports: one Great Expectations run when all pass, instead of one per
    edition, which was most of a first run's time), then validate and load them oldest first."""
    outcomes: dict[str, dict] = {}
    for code, pairs in groupby(config.editions, key=itemgetter(0)):
        labels = [label for _, label in pairs]
        parsed = {label: rows for label in labels
                  if (rows := _attempt(context, outcomes, f"{code} {label}",
                                       partial(read_edition, context, cityrank, code, label))) is not None}
        reports = _attempt(context, {}, f"{code} suite", partial(suite_reports, cityrank, list(parsed.values())))
        reports = dict(zip(parsed, reports)) if reports is not None else {}  # on a bug: each validates alone
        for label, rows in parsed.items():
            name = f"{code} {label}"
            changed = _attempt(context, outcomes, name,
                               partial(finish_edition, context, cityrank, code, label, rows, reports.get(label)))
            if changed is not None:
                outcomes[name] = {"ok": True, "changed": changed, "message": ""}
    # Every edition in the order it was listed, whichever stage ended it.
    outcomes = {f"{code} {label}": outcomes[f"{code} {label}"] for code, label in config.editions}
    failed = {name: o["message"] for name, o in outcomes.items() if not o["ok"]}
    if failed:
        raise dg.Failure(description=f"{len(failed)} of {len(outcomes)} edition(s) failed: "
                                     + "; ".join(f"{name}: {message}" for name, message in failed.items()),
                         metadata={OUTCOMES: dg.MetadataValue.json(outcomes)})
    return outcomes


@dg.job(name=BATCH_JOB, description="Snapshot, parse, validate and load many editions in one run (the main job).")
def editions_batch_job():
    load_editions()


def batch_outcomes(result: dg.ExecuteInProcessResult) -> dict[str, dict] | None:
    """Every edition's outcome ({name: {ok, changed, message}}), or None when the run ended
    before the op could report (a crash, a database gone)."""
    if result.success:
        return result.output_for_node(BATCH_OP)
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.user_failure_data is not None:
            value = event.step_failure_data.user_failure_data.metadata.get(OUTCOMES)
            if value is not None:
                return value.value
    return None
