"""A stand-in for the Dagster daemon's sensor work on one index, as one process to kill.

`python tests/landing_sensor_process.py GSER` (CITYRANK_HOME set) does what the daemon does
for a file dropped into CITYRANK_HOME/landing/<code>/, in this one process:

1. starts like every cityrank command that executes runs (`runner.open_instance`: database up
   and migrated, Dagster's instance on the home's PostgreSQL, runs whose process is gone
   marked failed);
2. evaluates one tick of the real `<code>_new_editions` sensor with Dagster's sensor context
   on that instance (the tick ingests the landing folder, then asks for a run per changed
   edition) and applies its partition requests, as the daemon does after a tick;
3. executes each requested run of the index's edition job in this process, tagged as the
   daemon tags a sensor's run (sensor name, run key) plus cityrank's owner tag.

What it is not: the daemon launches a run through the code server as a process of its own
(`dagster api execute_run`), keeps the sensor's cursor in the instance and skips a run key it
has seen. Here the tick starts with no cursor (as after a reset sensor), so after a kill it
re-reads the landing folder and requests again any edition not loaded from these inputs; the
sensor's check of loaded fingerprints is what keeps a loaded edition from running twice.
Exits 0 when every requested run succeeded; prints one line per run.
"""

from __future__ import annotations

import sys

import dagster as dg


def main(code: str) -> int:
    from cityrank_pipeline.definitions import build_definitions
    from cityrank_pipeline.orchestration.resources import CityrankResource
    from cityrank_pipeline.preparation import prepare
    from cityrank_pipeline.process_guard import owner_tags
    from cityrank_pipeline.runner import LOCATION_TAGS, QUIET_LOGS, open_instance
    from cityrank_pipeline.settings import load_settings

    settings = load_settings()
    target, _ = prepare(settings)
    instance = open_instance(settings, target)
    defs = build_definitions(settings.catalog_dir)
    sensor = defs.resolve_sensor_def(f"{code.lower()}_new_editions")
    context = dg.build_sensor_context(instance=instance, resources={"cityrank": CityrankResource()},
                                      repository_def=defs.get_repository_def())
    tick = sensor(context)
    for request in tick.dynamic_partitions_requests:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(request.partitions_def_name, key)
    job = defs.resolve_job_def(sensor.job_name)
    failed = 0
    for request in tick.run_requests:
        tags = {**request.tags, "dagster/sensor_name": sensor.name, "dagster/run_key": request.run_key,
                **LOCATION_TAGS, **owner_tags()}
        result = job.execute_in_process(partition_key=request.partition_key, instance=instance, tags=tags,
                                        raise_on_error=False, run_config=QUIET_LOGS)
        failed += not result.success
        print(f"{code} {request.partition_key}: run {result.run_id} {'succeeded' if result.success else 'FAILED'}")
    print(f"{len(tick.run_requests)} run(s) requested, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
