"""Sensors: new editions become partitions and runs; the mart is refreshed after loads."""

import json

import dagster as dg

from ..assembly import contributing_sources
from ..editions import edition_fingerprint
from ..ingest import IngestResult, ingest_publication
from ..snapshots import sha256_of
from .assets import last_loaded_fingerprint, ordered_partition_changes, partitions_for
from .jobs import edition_job_name
from .resources import CityrankResource


# Dagster's default interval for a run-status sensor; a shorter CITYRANK_SENSOR_INTERVAL_SECONDS wins.
VIEWS_REFRESH_INTERVAL = 30


def build_views_refresh_sensor(edition_jobs, views_job, interval: int = 60) -> dg.SensorDefinition:
    @dg.run_status_sensor(
        name="refresh_views_after_load",
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=edition_jobs,
        request_job=views_job,
        minimum_interval_seconds=min(interval, VIEWS_REFRESH_INTERVAL),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="After an edition job succeeds, refresh the mart views once for that run.",
    )
    def refresh_views_after_load(context: dg.RunStatusSensorContext):
        return dg.RunRequest(run_key=f"views-after-{context.dagster_run.run_id}")

    return refresh_views_after_load


def build_new_edition_sensor(entry, interval: int = 60) -> dg.SensorDefinition:
    """Turn newly seen publications of one index into edition partitions and runs.

    Each tick (1) ingests files an analyst dropped into CITYRANK_HOME/landing/<code>/ (a file
    no parser accepts is quarantined with the reason, never registered), then (2) compares the
    raw store's edition registry — fed by drop-ins, `cityrank ingest` and the scheduled
    fetcher — with its cursor, and for each edition whose file changed adds the partition and
    requests a run keyed by edition + content hash. Editions already loaded from the same
    inputs (e.g. by `cityrank run`) are not requested again. It ticks every `interval` seconds
    (CITYRANK_SENSOR_INTERVAL_SECONDS).
    """
    code = entry.code
    partitions = partitions_for(code)

    @dg.sensor(
        name=f"{code.lower()}_new_editions",
        job_name=edition_job_name(code),
        minimum_interval_seconds=interval,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"New {code} editions (landing folder, ingest, fetcher) become partitions and runs.",
    )
    def new_editions(context: dg.SensorEvaluationContext, cityrank: CityrankResource) -> dg.SensorResult:
        settings = cityrank.settings()
        catalog, store, quarantine = cityrank.catalog(), cityrank.store(), cityrank.quarantine()
        cursor = json.loads(context.cursor) if context.cursor else {}
        seen_files: dict = cursor.setdefault("landing", {})
        seen_editions: dict = cursor.setdefault("editions", {})

        landing = settings.landing_dir / code.lower()
        for path in sorted(landing.glob("*")) if landing.is_dir() else []:
            if not path.is_file() or path.name.startswith("."):
                continue
            data = path.read_bytes()
            sha = sha256_of(data)
            if seen_files.get(path.name) == sha:
                continue
            try:
                result = ingest_publication(catalog, store, quarantine, code, data, original_name=path.name,
                                            kind="drop_in")
            except Exception as exc:  # one unreadable drop-in must not stop the tick for every other file
                reason = f"{path.name}: could not be ingested ({type(exc).__name__}: {exc})"
                result = IngestResult("quarantined", code, path.name, reason=reason, quarantined_to=quarantine.put(
                    data, index_code=code, original_name=path.name, reason=reason))
            seen_files[path.name] = sha
            if result.status == "quarantined":
                context.log.warning(f"{path}: quarantined to {result.quarantined_to}: {result.reason}")
            else:
                context.log.info(f"{path}: {result.status} {code} edition {result.edition}")

        existing = list(context.instance.get_dynamic_partitions(partitions.name))
        known = set(existing)
        new_partitions, requests = [], []
        for source in sorted(store.edition_sources(code), key=lambda s: entry.edition_seq(s.edition)):
            # An edition's inputs are its own file plus a later edition's reprint of it: a new
            # GFCI 32 report re-runs GFCI 31 too, whose figures it reprints.
            inputs = source.snapshot_id + "".join(f"+reprint:{s.snapshot_id}" for kind, s in
                                                  contributing_sources(catalog, store, source) if kind == "reprint")
            if seen_editions.get(source.edition) == inputs:
                continue
            seen_editions[source.edition] = inputs
            if last_loaded_fingerprint(context.instance, code, source.edition) == \
                    edition_fingerprint(settings, catalog, store, source):
                continue
            if source.edition not in known:
                new_partitions.append(source.edition)
            requests.append(dg.RunRequest(partition_key=source.edition, run_key=f"{source.edition}:{inputs}",
                                          tags={"cityrank/source_kind": source.source_kind}))
        # New editions join the list in edition order (a late older edition moves the newer ones behind it).
        stale, add = ordered_partition_changes(existing, new_partitions, entry.edition_seq) if new_partitions else ([], [])
        return dg.SensorResult(
            run_requests=requests,
            dynamic_partitions_requests=([partitions.build_delete_request(stale)] if stale else [])
            + ([partitions.build_add_request(add)] if add else []),
            cursor=json.dumps(cursor, sort_keys=True),
        )

    return new_editions
