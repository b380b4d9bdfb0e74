"""The Dagster code location: everything is built from the catalog in assets/.

Kept thin on purpose — collecting definitions and applying policy only. `dagster dev -w
workspace.yaml` loads this module.
"""

from __future__ import annotations

import dagster as dg

from .catalog import load_catalog
from .orchestration.acquisition import build_poll_job, build_publication_check, polled_entries
from .orchestration.assets import build_index_assets
from .orchestration.batch import editions_batch_job
from .orchestration.briefs import release_brief
from .orchestration.fetcher import fetcher_from_environment
from .orchestration.freshness import build_release_calendar_checks, build_release_calendar_job
from .orchestration.jobs import build_edition_job, views_job
from .orchestration.path import path_to_top5
from .orchestration.resources import CityrankResource
from .orchestration.schedules import build_schedules
from .orchestration.sensors import build_new_edition_sensor, build_views_refresh_sensor
from .orchestration.views import build_views_asset
from .settings import load_settings


def build_definitions(catalog_dir=None) -> dg.Definitions:
    settings = load_settings()
    catalog = load_catalog(catalog_dir or settings.catalog_dir)
    index_assets = [a for entry in catalog for a in build_index_assets(entry)]
    loaded_keys = [a.key for a in index_assets if a.key.path[-1] == "warehouse_scores"]
    edition_jobs = [build_edition_job(entry) for entry in catalog]
    polled = polled_entries(catalog)
    calendar_checks = build_release_calendar_checks(catalog)
    return dg.Definitions(
        assets=[*index_assets, build_views_asset(loaded_keys), release_brief, path_to_top5, *(build_publication_check(e) for e in polled)],
        asset_checks=[calendar_checks],
        jobs=[*edition_jobs, editions_batch_job, views_job, *(build_poll_job(e) for e in polled), build_release_calendar_job(calendar_checks)],
        schedules=build_schedules(catalog),
        sensors=[build_views_refresh_sensor(edition_jobs, views_job, settings.sensor_interval),
                 *(build_new_edition_sensor(e, settings.sensor_interval) for e in catalog)],
        resources={"cityrank": CityrankResource(), "fetcher": fetcher_from_environment()},
        # A launched run is already its own process and its steps form a chain; a subprocess
        # per step only added 5-10 s of imports to each step of every scheduled or sensed run.
        executor=dg.in_process_executor,
    )


defs = build_definitions()
