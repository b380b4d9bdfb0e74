"""Per-index poll jobs: `<code>_poll_job` materialises `<code>/publication_check`.

The asset runs `cityrank_pipeline.acquisition.poll_index` and records what the poll saw
(documents, new editions, errors) as metadata, so the UI shows each poll's result over time.
It registers new editions in the raw store and stops there: the `<code>_new_editions` sensor
turns them into partitions and runs, exactly as for a file an analyst drops in.

The asset is unpartitioned and sits in the "acquisition" group, not the index's group: the
edition job selects the index group, and an unpartitioned asset there would break the
partitioned job. Source failures do not fail the run — the other sources' news is still
registered — they fail the `sources_reachable` check (WARN) with the reasons, where the UI
shows them.
"""


import dagster as dg

from ..acquisition import HttpCache, PollReport, is_polled, poll_index, poll_state_dir
from ..catalog import Catalog, IndexEntry
from .fetcher import FetcherResource
from .resources import CityrankResource

GROUP = "acquisition"
SOURCES_CHECK = "sources_reachable"


def publication_check_key(code: str) -> dg.AssetKey:
    return dg.AssetKey([code.lower(), "publication_check"])


def poll_job_name(code: str) -> str:
    return f"{code.lower()}_poll_job"


def outcome_table(report: PollReport) -> str:
    lines = ["| source | status | URL | edition | note |", "|---|---|---|---|---|"]
    for o in report.outcomes:
        note = (o.reason or (o.snapshot_id or "")[:12]).replace("|", "\\|")
        lines.append(f"| {o.source} | {o.status} | {o.url or ''} | {o.edition or ''} | {note} |")
    return "\n".join(lines)


def build_publication_check(entry: IndexEntry) -> dg.AssetsDefinition:
    code = entry.code
    key = publication_check_key(code)

    @dg.asset(key=key, group_name=GROUP, kinds={"http"}, tags={"index": code},
              check_specs=[dg.AssetCheckSpec(SOURCES_CHECK, asset=key,
                                             description="every public web source answered and its document was readable")],
              description=f"{entry.name}: poll the publisher's pages for a new edition and register it in the raw store.")
    def publication_check(context: dg.AssetExecutionContext, cityrank: CityrankResource,
                          fetcher: FetcherResource) -> dg.MaterializeResult:
        settings = cityrank.settings()
        with fetcher.open() as live:
            report = poll_index(cityrank.catalog(), code, live, cityrank.store(), cityrank.quarantine(),
                                HttpCache(poll_state_dir(settings.raw_dir)))
        for message in report.errors:
            context.log.warning(message)
        for run_key in report.new_editions:
            context.log.info(f"{code}: new publication registered ({run_key}); the {code.lower()}_new_editions sensor will run it")
        return dg.MaterializeResult(
            metadata={
                "documents_seen": report.documents_seen,
                "new_editions": len(report.new_editions),
                "new_run_keys": ", ".join(report.new_editions) or "none",
                "errors": len(report.errors),
                "sources": dg.MetadataValue.md(outcome_table(report)),
            },
            check_results=[dg.AssetCheckResult(
                check_name=SOURCES_CHECK, asset_key=key, passed=not report.errors,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"errors": dg.MetadataValue.md("\n".join(f"- {e}" for e in report.errors) or "none")},
            )],
        )

    return publication_check


def build_poll_job(entry: IndexEntry):
    return dg.define_asset_job(
        poll_job_name(entry.code), selection=dg.AssetSelection.assets(publication_check_key(entry.code)),
        description=f"Poll {entry.code}'s public web sources and register any new edition.",
        tags={"index": entry.code},
    )


def polled_entries(catalog: Catalog) -> list[IndexEntry]:
    """Indices that get a poll job: not discontinued, with a public web source. Indices
    whose only web source is gated (GFCI) are fed by the analyst drop-in instead."""
    return [entry for entry in catalog if is_polled(entry)]
