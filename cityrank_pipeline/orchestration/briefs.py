"""The release briefs as a Dagster asset, downstream of the mart views.

It runs after the views are refreshed (eager automation: once the automation sensor is on in
the UI, every refresh of `mart/views` is followed by new briefs) and can be materialised by
hand. It writes one brief per index's latest edition; files whose content is unchanged are
not touched, so re-runs leave CITYRANK_HOME/briefs/ as it was.
"""

import dagster as dg

from ..brief import write_latest_briefs
from .resources import CityrankResource
from .views import VIEWS_KEY

BRIEF_KEY = dg.AssetKey(["mart", "release_brief"])


@dg.asset(key=BRIEF_KEY, group_name="mart", kinds={"html"}, deps=[VIEWS_KEY],
          automation_condition=dg.AutomationCondition.eager(),
          description="Self-contained HTML release briefs (CITYRANK_HOME/briefs/), one per index's latest edition "
                      "in English and in Korean (-ko.html), for the focus city: result and change, top-5 gap, weak indicators and departments, charts.")
def release_brief(context: dg.AssetExecutionContext, cityrank: CityrankResource) -> dg.MaterializeResult:
    settings = cityrank.settings()
    with cityrank.connect() as conn:
        results = write_latest_briefs(conn, settings, cityrank.catalog())
    newest = max(results, key=lambda r: (r.headline.published_on is not None, r.headline.published_on), default=None)
    for r in results:
        if r.written:
            context.log.info(f"wrote {r.path}")
    table = ["| index | edition | language | headline | file |", "|---|---|---|---|---|"]
    table += [f"| {r.index_code} | {r.edition} | {r.lang} | {r.headline_text} | {r.path.name} |" for r in results]
    return dg.MaterializeResult(metadata={
        "briefs_dir": str(settings.briefs_dir),
        "written": sum(r.written for r in results),
        "unchanged": sum(not r.written for r in results),
        "newest_release": newest.headline.text if newest else "none",
        "briefs": dg.MetadataValue.md("\n".join(table)),
    })
