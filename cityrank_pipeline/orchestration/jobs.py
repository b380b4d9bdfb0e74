"""Jobs: one per index (an edition partition end to end) and one for the mart views."""

from __future__ import annotations

import dagster as dg

from ..catalog import IndexEntry
from .assets import asset_key
from .views import VIEWS_KEY


def edition_job_name(code: str) -> str:
    return f"{code.lower()}_edition_job"


def build_edition_job(entry: IndexEntry) -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        edition_job_name(entry.code),
        # The index's assets and the checks that gate them; checks owned by other jobs (the
        # release-calendar check targets every index at once) stay out of the edition run.
        selection=dg.AssetSelection.groups(entry.code.lower()).without_checks()
        | dg.AssetSelection.checks_for_assets(asset_key(entry.code, "validated_scores")),
        description=f"Snapshot, parse, validate and load one {entry.code} edition.",
        tags={"index": entry.code},
    )


views_job = dg.define_asset_job("refresh_views_job", selection=dg.AssetSelection.assets(VIEWS_KEY).downstream(),
                                description="Re-apply and refresh the mart views, then write the release briefs.")
