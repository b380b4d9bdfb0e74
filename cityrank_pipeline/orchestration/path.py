"""The path to the top 5 as a Dagster asset, downstream of the mart views.

The plan itself is `mart.path_to_target` in SQL; this asset reads it after every refresh so
the UI shows, next to the loads, what the latest indicator edition asks of each department —
with the points needed and the plan's cost as numbers Dagster plots across materialisations.
"""

import dagster as dg

from ..path_plan import fetch_plans, plans_markdown
from .resources import CityrankResource
from .views import VIEWS_KEY

PATH_KEY = dg.AssetKey(["mart", "path_to_top5"])


@dg.asset(key=PATH_KEY, group_name="mart", kinds={"postgres"}, deps=[VIEWS_KEY],
          automation_condition=dg.AutomationCondition.eager(),
          description="The focus city's cheapest indicator gains into the top 5 of each additive index (GPCI), "
                      "by department, from mart.path_to_top5 — exact for the publisher's model.")
def path_to_top5(context: dg.AssetExecutionContext, cityrank: CityrankResource) -> dg.MaterializeResult:
    with cityrank.connect() as conn:
        plans = fetch_plans(conn)
    metadata: dict = {"plans": dg.MetadataValue.md(plans_markdown(plans))}
    for plan in plans:
        prefix = plan.index_code.lower()
        metadata[f"{prefix}_edition"] = plan.edition
        metadata[f"{prefix}_rank"] = plan.current_rank
        metadata[f"{prefix}_points_needed"] = float(plan.needed or 0)
        metadata[f"{prefix}_plan_indicator_points"] = float(plan.total_gain)
        metadata[f"{prefix}_plan_feasible"] = plan.feasible
    return dg.MaterializeResult(metadata=metadata)
