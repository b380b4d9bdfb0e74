"""The main job's batch run: many editions in one Dagster run, recorded per edition partition,
a bad edition quarantined while the others load, and a warm run that leaves the mart alone."""

import dagster as dg
import psycopg

from cityrank_pipeline.editions import register_curated_editions
from cityrank_pipeline.orchestration.assets import asset_key, last_loaded_fingerprint, last_loaded_fingerprints
from cityrank_pipeline.orchestration.batch import BATCH_JOB, batch_outcomes, batch_run_config, editions_batch_job
from cityrank_pipeline.orchestration.edition_steps import METHODOLOGY_CHECK, PREVIOUS_CHECK, SOURCES_CHECK, SUITE_CHECK
from cityrank_pipeline.orchestration.resources import CityrankResource
from cityrank_pipeline.runner import MART_FINGERPRINT_TAG, run_pipeline
from cityrank_pipeline.snapshots import EditionSource, Quarantine, RawStore

STAGES = ("raw_snapshot", "parsed_scores", "validated_scores", "warehouse_scores")
CHECKS = {SUITE_CHECK, PREVIOUS_CHECK, SOURCES_CHECK, METHODOLOGY_CHECK}
BAD_CSV = ("index_code,edition,published,city,country,measure,rank,score,confidence,source_url,notes\n"
           "GFCI,GFCI 37,2025-03,Seoul,South Korea,total,10,1300,reported,,rating out of scale\n"
           "GFCI,GFCI 37,2025-03,Gotham,Nowhere,total,11,,reported,,not a real city\n").encode()


def _run_batch(instance, labels):
    instance.add_dynamic_partitions("gfci_editions", labels)
    return editions_batch_job.execute_in_process(
        instance=instance, resources={"cityrank": CityrankResource()}, raise_on_error=False,
        run_config=batch_run_config([("GFCI", label) for label in labels]))


def _checks_by_partition(instance, run_id) -> dict[str, dict[str, bool]]:
    found: dict[str, dict[str, bool]] = {}
    for record in instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        assert evaluation.asset_key == asset_key("GFCI", "validated_scores")
        found.setdefault(evaluation.partition, {})[evaluation.check_name] = evaluation.passed
    return found


def test_one_run_records_every_edition_partition_and_a_bad_edition_is_quarantined(cityrank_env, catalog):
    store = RawStore(cityrank_env.raw_dir)
    register_curated_editions(catalog, store)
    good = store.edition_source("GFCI", "GFCI 37")
    snapshot, _ = store.put(BAD_CSV, original_name="bad_gfci37.csv", media_type="text/csv", licence_note="test")
    store.register_edition(EditionSource("GFCI", "GFCI 37", snapshot.snapshot_id, "curated_figures", "drop_in"))
    labels = ["GFCI 35", "GFCI 36", "GFCI 37", "GFCI 38"]
    with dg.instance_for_test() as instance:
        result = _run_batch(instance, labels)
        assert not result.success  # one edition failed, so the run says so...
        runs = instance.get_runs(filters=dg.RunsFilter(job_name=BATCH_JOB))
        assert len(runs) == 1  # ...but it is one run for all four
        outcomes = batch_outcomes(result)
        assert [name for name, o in outcomes.items() if o["ok"]] == ["GFCI GFCI 35", "GFCI GFCI 36", "GFCI GFCI 38"]
        assert "Gotham" in outcomes["GFCI GFCI 37"]["message"]

        for stage in STAGES:
            materialized = instance.get_materialized_partitions(asset_key("GFCI", stage))
            expected = {"GFCI 35", "GFCI 36", "GFCI 38"} | ({"GFCI 37"} if stage != "warehouse_scores" else set())
            assert materialized == expected, stage
        checks = _checks_by_partition(instance, result.run_id)
        assert set(checks) == set(labels)
        assert all(set(by_name) == CHECKS for by_name in checks.values())
        assert checks["GFCI 37"][SUITE_CHECK] is False
        assert all(checks[label][SUITE_CHECK] for label in ("GFCI 35", "GFCI 36", "GFCI 38"))

        # The metadata the asset attaches, incl. the fingerprint the main job compares.
        [loaded] = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=asset_key("GFCI", "warehouse_scores"), asset_partitions=["GFCI 38"]),
            limit=1).records
        metadata = loaded.asset_materialization.metadata
        assert metadata["rows"].value == 10 and metadata["changed"].value is True
        assert {"input_fingerprint", "snapshot_id", "published_on", "city_count"} <= set(metadata)
        fingerprints = last_loaded_fingerprints(instance, "GFCI")
        assert set(fingerprints) == {"GFCI 35", "GFCI 36", "GFCI 38"}
        assert fingerprints["GFCI 38"] == last_loaded_fingerprint(instance, "GFCI", "GFCI 38")
        [parsed] = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=asset_key("GFCI", "parsed_scores"), asset_partitions=["GFCI 35"]),
            limit=1).records
        assert parsed.asset_materialization.metadata["rows"].value > 0

    with psycopg.connect(cityrank_env.database_url) as conn:
        editions = {r[0] for r in conn.execute("SELECT DISTINCT edition FROM mart.city_scores").fetchall()}
    assert {"GFCI 35", "GFCI 36", "GFCI 38"} <= editions and "GFCI 37" not in editions
    [note] = Quarantine(cityrank_env.quarantine_dir).entries()
    assert note["original_name"] == "bad_gfci37.csv" and "Gotham" in note["reason"]
    assert store.edition_source("GFCI", "GFCI 37") == good  # the good file is current again


def _job_runs(instance, name: str) -> list:
    return list(instance.get_runs(filters=dg.RunsFilter(job_name=name)))


def test_a_warm_run_leaves_the_mart_alone_until_something_it_reads_changes(cityrank_env):
    first = run_pipeline(cityrank_env, quiet=True)
    assert not first.failed and len(first.changed) == 54 and not first.mart_up_to_date
    instance = dg.DagsterInstance.get()  # run_pipeline pointed DAGSTER_HOME at the test home
    batches, refreshes = _job_runs(instance, BATCH_JOB), _job_runs(instance, "refresh_views_job")
    assert 1 <= len(batches) <= 4  # one run per worker share, not one per edition
    assert len(refreshes) == 1 and MART_FINGERPRINT_TAG in refreshes[0].tags
    # In-process runs capture no step streams: Dagster's capture starts `tail -F` children that
    # outlive a SIGKILLed cityrank (runner.open_instance); the event log has everything.
    assert not list(cityrank_env.dagster_home.rglob("compute_logs"))

    warm = run_pipeline(cityrank_env, quiet=True)
    assert len(warm.up_to_date) == 54 and not warm.changed and warm.mart_up_to_date
    assert len(_job_runs(instance, "refresh_views_job")) == 1
    assert len(_job_runs(instance, "release_calendar_job")) == 1
    assert len(_job_runs(instance, BATCH_JOB)) == len(batches)

    with psycopg.connect(cityrank_env.database_url) as conn:  # a write the views read
        conn.execute("UPDATE meta.focus_city SET city_key = city_key")
    again = run_pipeline(cityrank_env, quiet=True)
    assert not again.mart_up_to_date and len(_job_runs(instance, "refresh_views_job")) == 2


def test_an_unreadable_edition_is_quarantined_and_the_rest_of_its_index_is_validated_and_loaded(cityrank_env, catalog):
    store = RawStore(cityrank_env.raw_dir)
    register_curated_editions(catalog, store)
    snapshot, _ = store.put(b"this is not the figures table\n", original_name="truncated_gfci36.csv",
                            media_type="text/csv", licence_note="test")
    store.register_edition(EditionSource("GFCI", "GFCI 36", snapshot.snapshot_id, "curated_figures", "drop_in"))
    labels = ["GFCI 35", "GFCI 36", "GFCI 37"]
    with dg.instance_for_test() as instance:
        result = _run_batch(instance, labels)
        outcomes = batch_outcomes(result)
        assert list(outcomes) == [f"GFCI {label}" for label in labels]  # in the order listed
        assert [name for name, o in outcomes.items() if not o["ok"]] == ["GFCI GFCI 36"]
        assert "truncated_gfci36.csv" in outcomes["GFCI GFCI 36"]["message"]
        assert instance.get_materialized_partitions(asset_key("GFCI", "parsed_scores")) == {"GFCI 35", "GFCI 37"}
        checks = _checks_by_partition(instance, result.run_id)
        assert set(checks) == {"GFCI 35", "GFCI 37"} and all(c[SUITE_CHECK] for c in checks.values())
    with psycopg.connect(cityrank_env.database_url) as conn:
        editions = {r[0] for r in conn.execute("SELECT DISTINCT edition FROM mart.city_scores").fetchall()}
    assert {"GFCI 35", "GFCI 37"} <= editions and "GFCI 36" not in editions
    [note] = Quarantine(cityrank_env.quarantine_dir).entries()
    assert note["original_name"] == "truncated_gfci36.csv"
