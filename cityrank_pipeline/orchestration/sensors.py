"""Sensors: refresh the mart after any edition is loaded."""


import dagster as dg


def build_views_refresh_sensor(edition_jobs, views_job) -> dg.SensorDefinition:
    @dg.run_status_sensor(
        name="refresh_views_after_load",
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=edition_jobs,
        request_job=views_job,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="After an edition job succeeds, refresh the mart views once for that run.",
    )
    def refresh_views_after_load(context: dg.RunStatusSensorContext):
        return dg.RunRequest(run_key=f"views-after-{context.dagster_run.run_id}")

    return refresh_views_after_load
