"""Run cityrank through Dagster against CITYRANK_HOME, so the UI later shows every run.

`run_pipeline` is what `cityrank run` does: bring the database up to date, snapshot the
curated figures (and any file waiting in the landing folders), add one partition per edition,
execute the pending editions in-process against the persistent Dagster instance (one
`editions_batch_job` run per worker share, each edition still recorded against its partition),
refresh the mart unless nothing it reads changed since its last refresh, and return what
happened. `cityrank ingest` runs its edition through the index's per-edition job.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from pathlib import Path

import dagster as dg

from .catalog import Catalog, load_catalog
from .database import DatabaseTarget, sqlalchemy_url
from .editions import edition_fingerprint, register_curated_editions
from .orchestration.assets import last_loaded_fingerprints, ordered_partition_changes, partitions_for
from .orchestration.batch import BATCH_JOB, batch_outcomes, batch_run_config
from .orchestration.freshness import RELEASE_CALENDAR_JOB
from .orchestration.jobs import edition_job_name
from .preparation import prepare
from .process_guard import exit_with_parent, fail_abandoned_runs, file_lock, holding_home_lock, owner_tags
from .settings import Settings, load_settings
from .snapshots import RawStore

if TYPE_CHECKING:
    from .ingest import IngestResult

DAGSTER_STORAGE_ENV = "CITYRANK_DAGSTER_STORAGE_URL"

# The production instance: filled from the environment by `prepare_dagster_home`. Run, event
# and schedule storage in PostgreSQL; queued runs, one at a time per index (every edition and
# poll run carries an `index` tag) under a cap on the total; a run whose process died is
# retried (a failed step is not: bad data fails again); old ticks are purged.
DAGSTER_YAML = f"""\
# Written by cityrank. Dagster's run and event storage lives in PostgreSQL; the URL is read
# from the environment at start-up ({DAGSTER_STORAGE_ENV}), never written to disk.
storage:
  postgres:
    postgres_url:
      env: {DAGSTER_STORAGE_ENV}
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: {{max_concurrent_runs}}
    tag_concurrency_limits:
      - key: index
        value:
          applyLimitPerUniqueValue: true
        limit: 1
run_retries:
  enabled: true
  max_retries: 2
  retry_on_asset_or_op_failure: false
retention:
  schedule:
    purge_after_days: 90
  sensor:
    purge_after_days:
      skipped: 7
      failure: 30
      success: -1
telemetry:
  enabled: false
"""


# The code location the webserver, daemon and code server load (workspace.yaml, deploy/).
CODE_LOCATION = "cityrank_pipeline.definitions"
# Runs executed in-process get no code-location tags from Dagster; with these the UI files
# them under the location (its job pages and the code-location filter), like launched runs.
LOCATION_TAGS = {"dagster/code_location": CODE_LOCATION, ".dagster/repository": f"__repository__@{CODE_LOCATION}"}


# The run's full log (with tracebacks) is in the UI; on the command line cityrank prints one
# line per failed edition with the innermost error instead.
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


class PipelineError(RuntimeError):
    """A whole-pipeline step failed (not one edition); the message says which and why."""


@dataclass
class RunSummary:
    failed: dict[str, str] = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    up_to_date: list[str] = field(default_factory=list)
    mart_up_to_date: bool = False  # the refresh was skipped: nothing it depends on changed


def prepare_dagster_home(settings: Settings, target: DatabaseTarget) -> Path:
    """Write dagster.yaml and export the variables Dagster reads; returns DAGSTER_HOME."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    text = DAGSTER_YAML.format(max_concurrent_runs=settings.max_concurrent_runs)
    if not config.exists() or config.read_text() != text:
        config.write_text(text)
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ[DAGSTER_STORAGE_ENV] = sqlalchemy_url(target.dagster_url, driver="psycopg2")
    os.environ["CITYRANK_HOME"] = str(settings.home)
    return home


def open_instance(settings: Settings, target: DatabaseTarget) -> dg.DagsterInstance:
    """The Dagster instance, with runs left in flight by a dead cityrank process marked failed."""
    from dagster._core.instance.ref import InstanceRef

    home = prepare_dagster_home(settings, target)
    # Runs executed in this process record no stdout/stderr capture (their events, checks and
    # metadata are all in the event log). Dagster's local capture mirrors each step's streams
    # through a `tail -F` child plus a watcher meant to end it if this process dies; a SIGKILL
    # between the two starts left the tail running for ever, holding the caller's pipes
    # (tests/test_faults_ingest_and_sensor.py hung on it). `cityrank serve` (daemon, webserver)
    # reads dagster.yaml as written and keeps its compute logs.
    ref = InstanceRef.from_dir(str(home), overrides={"compute_logs": {
        "module": "dagster._core.storage.noop_compute_log_manager", "class": "NoOpComputeLogManager"}})
    # Two processes creating Dagster's tables in a fresh database at once collide: one waits.
    with file_lock(settings.dagster_home / ".storage.lock"):
        instance = dg.DagsterInstance.from_ref(ref)
        fail_abandoned_runs(instance)
    # dagster-postgres opens a new connection for every storage call unless told to keep one
    # (as its webserver does); an edition run makes ~170 such calls. Keeping a small pool per
    # process made a forced 54-edition run ~2.4x faster here.
    instance.optimize_for_webserver(statement_timeout=0, pool_recycle=3600, max_overflow=4)
    return instance


def sync_partitions(instance: dg.DagsterInstance, catalog: Catalog, store: RawStore) -> dict[str, list[str]]:
    """Add a partition for every registered edition, keeping them in edition order (an instance
    whose partitions were added out of order is put in order here); returns editions per index,
    oldest first."""
    by_index: dict[str, list[str]] = {}
    for entry in catalog:
        labels = sorted((s.edition for s in store.edition_sources(entry.code)), key=entry.edition_seq)
        name = partitions_for(entry.code).name
        known = list(instance.get_dynamic_partitions(name))
        stale, add = ordered_partition_changes(known, [label for label in labels if label not in known],
                                               entry.edition_seq)
        for key in stale:
            instance.delete_dynamic_partition(name, key)
        if add:
            instance.add_dynamic_partitions(name, add)
        by_index[entry.code] = labels
    return by_index


def _innermost(err) -> str:
    """Dagster wraps user errors; the innermost message is the one that says what went wrong."""
    while err.cause is not None:
        err = err.cause
    return err.message.strip().splitlines()[-1]


def _root_cause(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.error:
            return _innermost(event.step_failure_data.error)
    return "unknown error"


def _result_of(result: dg.ExecuteInProcessResult, code: str) -> tuple[bool, bool | None, str]:
    """(success, changed, failure message) of one edition run."""
    if result.success:
        changed = None
        for event in result.get_asset_materialization_events():
            mat = event.event_specific_data.materialization
            if mat.asset_key.path[-1] == "warehouse_scores":
                value = mat.metadata.get("changed")
                changed = bool(value.value) if value is not None else None
        return True, changed, ""
    messages = []
    for event in result.all_events:
        if event.is_step_failure:
            err = event.step_failure_data.error
            messages.append(_innermost(err) if err else event.message or "step failed")
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            if not data.passed:
                summary = data.metadata.get("summary")
                messages.append(summary.value if summary is not None else "expectation suite failed")
    return False, None, " | ".join(dict.fromkeys(messages)) or f"{code} run failed"


def pending_editions(instance: dg.DagsterInstance, settings: Settings, catalog: Catalog, store: RawStore,
                     editions: dict[str, list[str]], summary: RunSummary, *, force: bool = False) -> dict[str, list[str]]:
    """The editions to run: all with --force, else those whose inputs changed since their last load."""
    pending: dict[str, list[str]] = {}
    for code, labels in editions.items():
        loaded = {} if force else last_loaded_fingerprints(instance, code)  # one lookup per index
        for label in labels:
            source = store.edition_source(code, label)
            if not force and source is not None and label in loaded and \
                    loaded[label] == edition_fingerprint(settings, catalog, store, source):
                summary.up_to_date.append(f"{code} {label}")
            else:
                pending.setdefault(code, []).append(label)
    return pending


def _record(summary: RunSummary, progress, name: str, ok: bool, changed, message: str) -> None:
    if ok:
        (summary.changed if changed else summary.unchanged).append(name)
    else:
        summary.failed[name] = message
    if progress:
        progress(name, ok, changed, message)


def run_editions(defs: dg.Definitions, instance: dg.DagsterInstance, settings: Settings, store: RawStore,
                 editions: dict[str, list[str]], summary: RunSummary, *, force: bool = False, progress=None) -> None:
    """Execute each edition's job unless its inputs are unchanged since its last successful load."""
    catalog = load_catalog(settings.catalog_dir)
    for code, labels in pending_editions(instance, settings, catalog, store, editions, summary, force=force).items():
        job = defs.resolve_job_def(edition_job_name(code))
        for label in labels:
            result = job.execute_in_process(partition_key=label, instance=instance, raise_on_error=False,
                                            tags={"cityrank/trigger": "cityrank run", **LOCATION_TAGS, **owner_tags()},
                                            run_config=QUIET_LOGS)
            ok, changed, message = _result_of(result, code)
            _record(summary, progress, f"{code} {label}", ok, changed, message)


def run_editions_batch(defs: dg.Definitions, instance: dg.DagsterInstance, editions: dict[str, list[str]],
                       summary: RunSummary, *, progress=None) -> None:
    """Run already-selected editions in ONE Dagster run (editions_batch_job): each index's
    editions oldest first, every edition recorded against its own partition, one failure not
    stopping the others."""
    pairs = [(code, label) for code, labels in editions.items() for label in labels]
    if not pairs:
        return
    result = defs.resolve_job_def(BATCH_JOB).execute_in_process(
        instance=instance, raise_on_error=False, run_config={**batch_run_config(pairs), **QUIET_LOGS},
        tags={"cityrank/trigger": "cityrank run", "cityrank/indices": ",".join(editions), **LOCATION_TAGS, **owner_tags()})
    outcomes = batch_outcomes(result)
    for code, label in pairs:
        name = f"{code} {label}"
        outcome = outcomes.get(name) if outcomes is not None else None
        if outcome is None:  # the run ended before this edition was reported
            ok, changed, message = False, None, f"{_root_cause(result)} (run {result.run_id})"
        else:
            ok, changed, message = outcome["ok"], outcome["changed"], outcome["message"]
        _record(summary, progress, name, ok, changed, message)


# Below this many editions, starting worker processes (each imports Dagster and GX) costs more
# than it saves.
PARALLEL_THRESHOLD = 8


# What starting a worker process costs (importing Dagster and Great Expectations, ~4 s here, then
# opening the instance), and what one edition costs the process that is already running (~0.25 s
# here): how far ahead that process is when a worker starts cold.
WORKER_START_S = 4.5
EDITION_S = 0.25


def split_by_index(editions: dict[str, list[str]], workers: int, *,
                   head_start: int = 0) -> list[dict[str, list[str]]]:
    """Share indices between workers, largest first; an index stays in one worker so its
    editions load oldest first (the previous-edition cross-check reads the one before).

    The first share is for the process already running, which starts loading at once: every
    other share counts `head_start` editions as already done, so all finish about together."""
    bins: list[dict[str, list[str]]] = [{} for _ in range(workers)]
    loads = [0] + [head_start] * (workers - 1)
    for code, labels in sorted(editions.items(), key=lambda item: (-len(item[1]), item[0])):
        slot = loads.index(min(loads))
        bins[slot][code] = labels
        loads[slot] += len(labels)
    return [b for b in bins if b]


def print_progress(name: str, ok: bool, changed, message: str) -> None:
    state = ("loaded" if changed else "unchanged") if ok else f"FAILED: {message}"
    print(f"  {name:<16} {state}", file=sys.stderr, flush=True)


def _warm_up() -> float:
    """A pre-started worker's first task: import what an edition run needs (Dagster, the
    definitions, Great Expectations) while the starting process brings the database up."""
    started = time.monotonic()
    from .definitions import build_definitions  # noqa: F401 - imported for its side effect: the import
    from .validation import _context

    _context()
    return time.monotonic() - started


class WorkerPool:
    """Worker processes for the main job's shares, started before they are needed when a run
    will plainly load many editions (a home's first run, `--force`): their ~4 s of imports then
    overlap the server start, migrations and partition sync instead of following them."""

    def __init__(self, workers: int) -> None:
        context = multiprocessing.get_context("spawn")  # never fork a process holding Dagster/GX threads
        self.workers = workers
        self.started = time.monotonic()
        self.executor = concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                                               initializer=exit_with_parent, initargs=(os.getpid(),))
        self.warm = [self.executor.submit(_warm_up) for _ in range(workers)]

    def head_start(self) -> int:
        """Editions the running process can load before these workers are ready to begin."""
        if all(future.done() for future in self.warm):
            return 0
        remaining = max(0.0, WORKER_START_S - (time.monotonic() - self.started))
        return round(remaining / EDITION_S)

    def close(self) -> None:
        """Let the workers finish what they hold and exit. Waiting matters: the commands end in
        os._exit (cli.entry), and a pool not joined by then leaves its queues' semaphores to
        multiprocessing's resource tracker, which prints a leak warning after cityrank's last
        line. A pre-started worker that got no share is waiting only for its imports to end."""
        self.executor.shutdown(wait=True, cancel_futures=True)


def likely_parallel(settings: Settings, force: bool) -> bool:
    """Whether this run will load enough editions to share them, known before the database is up:
    a forced run reloads every edition, and a home without a Dagster folder has loaded none."""
    return force or not settings.dagster_home.exists()


def _run_in_worker(environ: dict, editions: dict[str, list[str]], quiet: bool) -> RunSummary:
    """One worker process: its own Dagster instance handle on the same storage, its own share,
    run as one Dagster run."""
    os.environ.update(environ)
    from .definitions import build_definitions

    settings = load_settings()
    target, _ = prepare(settings)
    instance = open_instance(settings, target)
    summary = RunSummary()
    run_editions_batch(build_definitions(settings.catalog_dir), instance, editions, summary,
                       progress=None if quiet else print_progress)
    return summary


def run_editions_in_parallel(editions: dict[str, list[str]], summary: RunSummary, pool: WorkerPool, *,
                             quiet: bool, defs: dg.Definitions, instance: dg.DagsterInstance, progress=None) -> None:
    """Run already-selected editions in this process and the pool's workers (Dagster runs are
    independent; loads of different indices touch different rows, and shared dimension upserts
    take row locks in the same order, so they queue rather than deadlock).

    This process takes the first share itself, the largest: it has Dagster imported and its
    instance open already, so it loads while the other workers are still starting (each imports
    Dagster and Great Expectations, ~4 s); a pool of fresh processes left it idle for that long.
    The caller owns the pool (and closes it)."""
    shares = split_by_index(editions, pool.workers + 1, head_start=pool.head_start())
    environ = {k: v for k, v in os.environ.items() if k.startswith(("CITYRANK_", "DAGSTER_"))}
    futures = [pool.executor.submit(_run_in_worker, environ, share, quiet) for share in shares[1:]]
    run_editions_batch(defs, instance, shares[0], summary, progress=progress)
    for future in futures:
        part = future.result()
        summary.changed += part.changed
        summary.unchanged += part.unchanged
        summary.failed.update(part.failed)


def worker_count(settings: Settings) -> int:
    return settings.workers or max(1, min(4, os.cpu_count() or 1))


MART_FINGERPRINT_TAG = "cityrank/mart_fingerprint"


def warehouse_state(conn) -> tuple[int, int]:
    """What the warehouse and meta tables have been through: (rows, newest change id) of
    meta.change_log, which every writing statement on them appends to (migration 0007).

    Any committed write since changes one of the two figures; reading them costs the same at
    269 facts as at 10 million (the count and max(xmin) scan of every table it replaces took
    about a second there)."""
    count, newest = conn.execute("SELECT count(*), coalesce(max(change_id), 0) FROM meta.change_log").fetchone()
    return int(count), int(newest)


def mart_fingerprint(settings: Settings, target: DatabaseTarget) -> str:
    """What the mart refresh, the briefs, the path asset and the calendar checks depend on: the
    focus city and peers, the view definitions, the catalog, cityrank's version, today's date
    (the calendar judges against it) and the state of every warehouse and meta table."""
    import datetime as dt
    import hashlib
    import json

    from . import __version__
    from .database import connect

    digest = hashlib.sha256()
    digest.update(json.dumps([settings.focus_city, list(settings.peers), __version__,
                              dt.datetime.now(dt.timezone.utc).date().isoformat()]).encode())
    for folder in (settings.sql_dir / "views", settings.catalog_dir):
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    with connect(target.warehouse_url) as conn:
        digest.update(json.dumps(warehouse_state(conn)).encode())
    return digest.hexdigest()


def last_mart_fingerprint(instance: dg.DagsterInstance) -> str | None:
    """The fingerprint the last successful refresh_views_job run was tagged with, if any."""
    runs = instance.get_runs(filters=dg.RunsFilter(job_name="refresh_views_job", statuses=[dg.DagsterRunStatus.SUCCESS]),
                             limit=1)
    return runs[0].tags.get(MART_FINGERPRINT_TAG) if runs else None


def mart_up_to_date(instance: dg.DagsterInstance, settings: Settings, target: DatabaseTarget) -> bool:
    """Whether the last successful refresh saw exactly the inputs the mart has now."""
    return last_mart_fingerprint(instance) == mart_fingerprint(settings, target)


def refresh_views(defs: dg.Definitions, instance: dg.DagsterInstance, settings: Settings | None = None,
                  target: DatabaseTarget | None = None) -> None:
    """Refresh the mart, write the briefs and judge the release calendar. Given settings and
    target, the refresh run is tagged with the mart's fingerprint (`mart_up_to_date`)."""
    tags = {**LOCATION_TAGS, **owner_tags()}
    result = defs.resolve_job_def("refresh_views_job").execute_in_process(instance=instance, raise_on_error=False,
                                                                          tags=tags, run_config=QUIET_LOGS)
    if not result.success:
        message = _root_cause(result)
        raise PipelineError(f"refreshing the mart views failed: {message} (run {result.run_id}; see the Dagster UI)")
    # The overdue checks judge what was just loaded, so the UI's asset pages agree with
    # mart.release_calendar now rather than after the next daily schedule. An overdue index
    # fails its check, which is news, not a failure of the refresh.
    defs.resolve_job_def(RELEASE_CALENDAR_JOB).execute_in_process(instance=instance, raise_on_error=False,
                                                                  tags=tags, run_config=QUIET_LOGS)
    if settings is not None and target is not None:
        # The refresh itself writes the focus city, calendar and dimensions when they differ:
        # record the state it left, which is what the next run finds when nothing changed.
        instance.add_run_tags(result.run_id, {MART_FINGERPRINT_TAG: mart_fingerprint(settings, target)})


def ensure_landing_folders(settings: Settings, catalog: Catalog) -> None:
    for entry in catalog:
        (settings.landing_dir / entry.code.lower()).mkdir(parents=True, exist_ok=True)


def _definitions(settings: Settings) -> dg.Definitions:
    from .definitions import build_definitions  # every asset, job and sensor: only when a run needs them

    return build_definitions(settings.catalog_dir)


@holding_home_lock
def run_pipeline(settings: Settings, *, force: bool = False, progress=None, quiet: bool = False) -> RunSummary:
    workers = worker_count(settings)
    pool = WorkerPool(workers - 1) if workers > 1 and likely_parallel(settings, force) else None
    try:
        target, catalog = prepare(settings)
        instance = open_instance(settings, target)
        store = RawStore(settings.raw_dir)
        ensure_landing_folders(settings, catalog)
        register_curated_editions(catalog, store)
        editions = sync_partitions(instance, catalog, store)
        summary = RunSummary()
        pending = pending_editions(instance, settings, catalog, store, editions, summary, force=force)
        defs = _definitions(settings) if pending else None  # a warm run needs none
        if workers > 1 and sum(len(v) for v in pending.values()) >= PARALLEL_THRESHOLD:
            pool = pool or WorkerPool(workers - 1)  # not started early: this run turned out to need it
            run_editions_in_parallel(pending, summary, pool, quiet=quiet, defs=defs, instance=instance,
                                     progress=progress)
        elif pending:
            run_editions_batch(defs, instance, pending, summary, progress=progress)
    finally:
        if pool is not None:
            pool.close()
    if not force and mart_up_to_date(instance, settings, target):
        summary.mart_up_to_date = True
        print("cityrank: mart up to date (nothing it reads changed since the last refresh)", file=sys.stderr, flush=True)
    else:
        refresh_views(defs or _definitions(settings), instance, settings, target)
    return summary


@holding_home_lock
def ingest_and_run(settings: Settings, index_code: str, data: bytes, *, original_name: str,
                   source_url: str | None = None, published_on: str | None = None,
                   edition: str | None = None) -> tuple["IngestResult", RunSummary]:
    """`cityrank ingest`: store and register one file, run its edition through Dagster, then
    refresh the mart if that loaded something or the mart is stale (a killed ingest leaves it so)."""
    from .definitions import build_definitions
    from .ingest import ingest_publication
    from .snapshots import Quarantine

    target, catalog = prepare(settings)
    store = RawStore(settings.raw_dir)
    result = ingest_publication(catalog, store, Quarantine(settings.quarantine_dir), index_code, data,
                                original_name=original_name, source_url=source_url, published_on=published_on,
                                edition=edition)
    summary = RunSummary()
    if result.status == "quarantined":
        return result, summary
    # The curated figures are registered too (only once the file is accepted: a refused file
    # leaves the registry as it was), so an edition known only from the press is there for
    # this file's reprint of it (GFCI 32 prints GFCI 31) and for precedence checks.
    register_curated_editions(catalog, store)
    instance = open_instance(settings, target)
    sync_partitions(instance, catalog, store)
    defs = build_definitions(settings.catalog_dir)
    # The edition before it may take figures this file reprints (GFCI 32 prints GFCI 31's). It
    # runs second, so this edition's check of its reprint compares with what the warehouse held.
    entry = catalog[result.index_code]
    previous = [s.edition for s in store.edition_sources(entry.code)
                if result.reprints_previous and entry.edition_seq(s.edition) == entry.edition_seq(result.edition) - 1]
    run_editions(defs, instance, settings, store, {result.index_code: [result.edition, *previous]}, summary)
    # Not only when this call loaded something: an ingest killed after its edition loaded but
    # before the mart refresh left a mart without the edition, and the next ingest of the file
    # finds nothing to load (tests/test_faults_ingest_and_sensor.py). The fingerprint says so.
    if summary.changed or not mart_up_to_date(instance, settings, target):
        refresh_views(defs, instance, settings, target)
    return result, summary
