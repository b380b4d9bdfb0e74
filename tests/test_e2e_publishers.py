"""End to end: every public publisher, served locally, reaches the warehouse by schedule and sensor alone.

A fixture "publisher" for each index with a public web source serves its landing page and
document (files from tests/fixtures/publishers/, GPCI's real summary from the shared folder)
at the catalog's own URLs, through the mirror fetcher on 127.0.0.1. Nothing is ingested by
hand: each poll schedule's tick requests its poll job, the poll registers what it found, each
index's new-edition sensor requests the edition runs, and those runs parse, validate and load
into a real PostgreSQL. A second round of ticks must load nothing and write nothing.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from urllib.parse import urlsplit

import dagster as dg
import psycopg
from http_fixture_server import serve
from test_acquisition import PUBLISHERS, conditional, landing_page

from cityrank_pipeline.acquisition import fetchable_sources
from cityrank_pipeline.definitions import build_definitions
from cityrank_pipeline.orchestration.assets import partitions_for
from cityrank_pipeline.orchestration.fetcher import MirrorFetcherResource
from cityrank_pipeline.orchestration.freshness import as_of_run_config
from cityrank_pipeline.orchestration.jobs import edition_job_name
from cityrank_pipeline.orchestration.resources import CityrankResource
from conftest import SHARED, table_snapshot

PDF, HTML = "application/pdf", "text/html; charset=utf-8"
GPCI_SUMMARY = SHARED / "publications" / "gpci" / "GPCI2015_en.pdf"

# Per index: where the current document lives on the publisher's site (matching the catalog's
# href_pattern when found through a landing page), its fixture file, and the edition in it.
DOCUMENTS = {
    "GCI": ("https://www.kearney.com/documents/gcr/global-cities-report-2025.pdf", PUBLISHERS / "kearney" / "kearney_gcr2025_extract.pdf", PDF, "2025"),
    "GCO": ("https://www.kearney.com/documents/gcr/global-cities-report-2025.pdf", PUBLISHERS / "kearney" / "kearney_gcr2025_extract.pdf", PDF, "2025"),
    "GPCI": ("https://mori-m-foundation.or.jp/pdf/GPCI2015_en.pdf", GPCI_SUMMARY, PDF, "2015"),
    "QOL": ("https://www.mercer.com/about/newsroom/vienna-offers-highest-quality-of-living-for-expatriates-according-to-2023-quality-of-living-survey/",
            PUBLISHERS / "qol" / "mercer_qol2023_press.html", HTML, "2023"),
    "EIU": ("https://www.eiu.com/n/campaigns/global-liveability-index/liveability-summary-2024.html",
            PUBLISHERS / "eiu" / "eiu_liveability2024_summary.html", HTML, "2024"),
    "GSER": ("https://startupgenome.com/report/gser2025/global-startup-ecosystem-ranking-2025-top-40",
             PUBLISHERS / "gser" / "gser2025_ranking_top40.html", HTML, "2025"),
    "CIMI": ("https://www.iese.edu/media/research/pdfs/ST-0509-E.pdf", PUBLISHERS / "cimi" / "cimi2019_report_extract.pdf", PDF, "2019"),
    "GFCI": ("https://www.longfinance.net/media/documents/GFCI_38_Report_2025.09.25.pdf",
             PUBLISHERS / "gfci" / "gfci38_report_extract.pdf", PDF, "GFCI 38"),
}
UTC = dt.timezone.utc


def mirror_path(url: str) -> str:
    parts = urlsplit(url)
    return f"/{parts.hostname}{parts.path or '/'}"


def publisher_site(catalog) -> dict:
    """Routes for every public web source in the catalog: landing pages linking the document,
    or the document itself where the catalog names a fixed `document_url`."""
    routes = {}
    for code, (url, path, content_type, _) in DOCUMENTS.items():
        if not path.is_file():
            continue  # the shared GPCI summary is absent: GPCI's poll then reports a 404
        for _, source in fetchable_sources(catalog[code]):
            if source.format != path.suffix.lstrip("."):
                continue  # GPCI's JSON data file has no fixture publisher here: its poll reports a 404
            document_url = source.document_url or url
            routes[mirror_path(document_url)] = conditional(path.read_bytes(), content_type)
            for page in source.landing_pages:
                routes[mirror_path(page)] = conditional(landing_page(urlsplit(url).path), HTML)
    return routes


class Operator:
    """What the Dagster daemon does with the definitions, done in-process: evaluate schedule
    ticks and sensor ticks (keeping cursors), and execute the runs they request."""

    def __init__(self, defs: dg.Definitions, instance: dg.DagsterInstance, fetcher: MirrorFetcherResource):
        self.defs, self.instance = defs, instance
        self.repository = defs.get_repository_def()
        self.resources = {"cityrank": CityrankResource(), "fetcher": fetcher}
        self.cursors: dict[str, str | None] = {}
        # Run keys are unique per sensor (GCI and GCO share a PDF, hence a run key).
        self.run_keys: set[tuple[str, str]] = set()

    def tick_poll_schedules(self, when: dt.datetime) -> dict[str, dg.ExecuteInProcessResult]:
        """One tick of each index's main poll schedule (in-window, or the irregular weekly one)."""
        results = {}
        for schedule in self.repository.schedule_defs:
            if not schedule.name.endswith(("_poll_in_window", "_poll_irregular")):
                continue
            context = dg.build_schedule_context(instance=self.instance, scheduled_execution_time=when)
            for request in schedule.evaluate_tick(context).run_requests:
                job = self.defs.resolve_job_def(schedule.job_name)
                results[schedule.job_name] = job.execute_in_process(
                    instance=self.instance, resources=self.resources, tags={**request.tags, "dagster/schedule_name": schedule.name})
        return results

    def tick_sensor(self, name: str) -> list[dg.RunRequest]:
        """Invoke the sensor directly (the in-memory instance has no ref for Dagster's own
        run-request resolution; tests/test_sensor_new_editions.py covers that path)."""
        sensor = self.repository.get_sensor_def(name)
        context = dg.build_sensor_context(instance=self.instance, cursor=self.cursors.get(name), resources=self.resources)
        data = sensor(context)
        for request in data.dynamic_partitions_requests or []:
            self.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        self.cursors[name] = data.cursor
        fresh = [r for r in data.run_requests if (name, r.run_key) not in self.run_keys]  # the daemon skips used keys
        self.run_keys.update((name, r.run_key) for r in fresh)
        return fresh

    def run(self, code: str, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
        return self.defs.resolve_job_def(edition_job_name(code)).execute_in_process(
            partition_key=request.partition_key, instance=self.instance, raise_on_error=False,
            tags={**request.tags, "dagster/run_key": request.run_key})


def warehouse_counts(url: str) -> dict[tuple[str, str], int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT index_code, edition, count(*) FROM warehouse.fact_city_score GROUP BY 1, 2").fetchall()
    return {(code, edition): n for code, edition, n in rows}


def metadata(result: dg.ExecuteInProcessResult, name: str):
    [event] = result.get_asset_materialization_events()
    return event.event_specific_data.materialization.metadata[name].value


def test_every_public_publisher_reaches_the_warehouse_by_schedule_and_sensor(cityrank_env, catalog, database_url):
    instance = dg.DagsterInstance.ephemeral()
    defs = build_definitions()
    polled = {s.job_name[: -len("_poll_job")].upper() for s in defs.get_repository_def().schedule_defs
              if s.name.endswith(("_poll_in_window", "_poll_irregular"))}
    assert polled == set(DOCUMENTS)  # every index with a public web source has a fixture publisher
    gpci_available = GPCI_SUMMARY.is_file()
    expected = {(code, edition) for code, (_, path, _, edition) in DOCUMENTS.items() if path.is_file()}

    with serve(publisher_site(catalog)) as site:
        operator = Operator(defs, instance, MirrorFetcherResource(base_url=site, max_attempts=1, read_timeout=5.0))

        # Round one: the first poll finds every current document and registers its edition.
        polls = operator.tick_poll_schedules(dt.datetime(2026, 11, 25, 6, tzinfo=UTC))
        assert all(result.success for result in polls.values())
        new = {job[: -len("_poll_job")].upper(): metadata(result, "new_editions") for job, result in polls.items()}
        assert sum(new.values()) == len(expected)
        fetched_paths = {urlsplit(r.path).path for r in site.requests}
        assert all(mirror_path(u) in fetched_paths for s in catalog["GFCI"].sources for u in s.landing_pages)

        loaded = {}
        for entry in catalog:
            for request in operator.tick_sensor(f"{entry.code.lower()}_new_editions"):
                result = operator.run(entry.code, request)
                assert result.success, (entry.code, request.partition_key)
                loaded[(entry.code, request.partition_key)] = request.run_key
        assert set(loaded) == expected
        counts = warehouse_counts(database_url)
        assert set(counts) == expected and all(n > 0 for n in counts.values())
        # EIU 2024: the summary's 120 figures, plus Seoul's from the curated figures (the summary
        # does not list it; the assembled edition keeps what the publisher file lacks).
        assert counts[("GCI", "2025")] == 180 and counts[("GSER", "2025")] == 40 and counts[("EIU", "2024")] == 121
        with psycopg.connect(database_url) as conn:
            filled = conn.execute("""SELECT f.city_key, s.original_name FROM warehouse.fact_city_score f
                                     JOIN meta.snapshot s USING (snapshot_id)
                                     WHERE f.index_code = 'EIU' AND f.edition = '2024'
                                       AND s.original_name = 'published_figures.csv'""").fetchall()
        assert filled == [("seoul", "published_figures.csv")]
        for code, edition in expected:
            assert edition in instance.get_dynamic_partitions(partitions_for(code).name)
        with psycopg.connect(database_url) as conn:
            [(source_url,)] = conn.execute("""SELECT DISTINCT s.source_url FROM warehouse.fact_city_score f
                                              JOIN meta.snapshot s USING (snapshot_id) WHERE f.index_code = 'GSER'""").fetchall()
        assert source_url == DOCUMENTS["GSER"][0]

        # Round two: everything answers 304; nothing is registered, requested or written.
        before_tables, before_requests = table_snapshot(database_url), len(site.requests)
        again = operator.tick_poll_schedules(dt.datetime(2026, 11, 25, 12, tzinfo=UTC))
        assert {job: metadata(r, "new_editions") for job, r in again.items()} == {job: 0 for job in again}
        repeated = [r for r in site.requests[before_requests:]
                    if (gpci_available or "mori-m-foundation" not in r.path) and not r.path.endswith(".json")]
        assert repeated and all("If-None-Match" in r.headers for r in repeated)
        for entry in catalog:
            assert operator.tick_sensor(f"{entry.code.lower()}_new_editions") == []
        assert table_snapshot(database_url) == before_tables

    # The release calendar reads what was loaded: GCI 2025 came out in its window; GFCI's newest
    # loaded edition is GFCI 38 (Sep 2025), so the March and September 2026 editions are overdue.
    checks = defs.resolve_job_def("release_calendar_job").execute_in_process(
        instance=instance, run_config=as_of_run_config("2026-11-25"))
    passed = {e.asset_key.path[0].upper(): e.passed for e in checks.get_asset_check_evaluations()}
    assert passed["GCI"] and passed["QOL"] and passed["GDCI"] and not passed["GFCI"]
    assert Path(os.environ["CITYRANK_HOME"], "raw", "http_cache", "gci").is_dir()
