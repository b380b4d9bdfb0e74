"""The poll asset in Dagster: what the UI shows after a poll, and how the code location wires it."""

from __future__ import annotations

import dagster as dg
from http_fixture_server import serve
from test_acquisition import KEARNEY_LANDING, kearney_site

from cityrank_pipeline.definitions import build_definitions
from cityrank_pipeline.orchestration.acquisition import SOURCES_CHECK, build_publication_check, publication_check_key
from cityrank_pipeline.orchestration.fetcher import FetcherResource, LiveFetcherResource, MirrorFetcherResource
from cityrank_pipeline.orchestration.freshness import CHECK_NAME
from cityrank_pipeline.orchestration.resources import CityrankResource


def poll(catalog, code, site, home):
    resources = {"cityrank": CityrankResource(home=str(home)),
                 "fetcher": MirrorFetcherResource(base_url=site, max_attempts=1)}
    return dg.materialize([build_publication_check(catalog[code])], resources=resources,
                          instance=dg.DagsterInstance.ephemeral())


def test_poll_records_documents_new_editions_and_errors(catalog, tmp_path):
    with serve(kearney_site()) as site:
        first, second = poll(catalog, "GCI", site, tmp_path), poll(catalog, "GCI", site, tmp_path)
    for result, new in ((first, 1), (second, 0)):
        [event] = result.get_asset_materialization_events()
        meta = event.event_specific_data.materialization.metadata
        assert (meta["documents_seen"].value, meta["new_editions"].value, meta["errors"].value) == (1, new, 0)
        [check] = result.get_asset_check_evaluations()
        assert check.check_name == SOURCES_CHECK and check.passed
    assert first.get_asset_materialization_events()[0].event_specific_data.materialization.metadata[
        "new_run_keys"].value.startswith("2025:")


def test_unreachable_source_fails_the_check_not_the_run(catalog, tmp_path):
    with serve({KEARNEY_LANDING: (503, {}, b"down for maintenance")}) as site:
        result = poll(catalog, "GCI", site, tmp_path)
    assert result.success  # the poll ran; other sources (and indices) are unaffected
    [check] = result.get_asset_check_evaluations()
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert "HTTP 503" in check.metadata["errors"].value


def test_code_location_wires_poll_jobs_checks_and_the_live_fetcher():
    defs = build_definitions()
    repository = defs.get_repository_def()
    jobs = {job.name for job in repository.get_all_jobs()}
    assert {"gci_poll_job", "gco_poll_job", "gpci_poll_job", "qol_poll_job", "eiu_poll_job", "gser_poll_job",
            "cimi_poll_job", "gfci_poll_job", "release_calendar_job"} <= jobs
    assert "gdci_poll_job" not in jobs
    assert publication_check_key("GCI") in repository.asset_graph.get_all_asset_keys()
    check_keys = {key for key in repository.asset_graph.asset_check_keys}
    assert dg.AssetCheckKey(dg.AssetKey(["gdci", "warehouse_scores"]), CHECK_NAME) in check_keys
    fetcher = defs.resources["fetcher"]
    assert isinstance(fetcher, LiveFetcherResource) and isinstance(fetcher, FetcherResource)
    assert not isinstance(fetcher, MirrorFetcherResource)
