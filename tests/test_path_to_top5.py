"""mart.path_to_target / path_to_top5 and `cityrank path` on the real GPCI 2023 data file.

The plan is proved, not trusted: for every city ranked 6th to 15th the gains are applied to
the city's indicator scores, the total is recomputed from the publisher's additive model
(function = sum of its groups' indicator means; total = sum of functions), and it must pass
the city at 5th. Limits are checked row by row, and optimality by its certificate: no
indicator weighing more than the last one used may have headroom left.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import psycopg
import pytest

from cityrank_pipeline.path_plan import fetch_plans, format_plan

from indicator_fixture import gpci2023_db  # noqa: F401


def _scores(conn, city_key: str) -> dict[str, Decimal]:
    return dict(conn.execute(
        """SELECT measure_code, score FROM warehouse.fact_city_score
           WHERE index_code = 'GPCI' AND edition = '2023' AND city_key = %s""", (city_key,)).fetchall())


def model_total(catalog, scores: dict[str, Decimal]) -> Decimal:
    """The GPCI total rebuilt from indicator scores through the catalog's hierarchy."""
    entry = catalog["GPCI"]
    groups: dict[str, list[Decimal]] = defaultdict(list)
    for m in entry.measures_at("indicator"):
        groups[m.parent].append(scores[m.code])
    return sum((sum(v) / len(v) for v in groups.values()), Decimal(0))


def test_the_additive_model_gives_the_printed_total(gpci2023_db, catalog):
    with psycopg.connect(gpci2023_db) as conn:
        seoul = _scores(conn, "seoul")
    assert abs(model_total(catalog, seoul) - seoul["total"]) < Decimal("0.01")


@pytest.mark.parametrize("rank", range(6, 16))
def test_the_plan_lifts_every_city_ranked_6_to_15_above_the_fifth(gpci2023_db, catalog, rank):
    entry = catalog["GPCI"]
    influence = {m.code: m.influence for m in entry.measures_at("indicator")}
    with psycopg.connect(gpci2023_db) as conn:
        city_key, = conn.execute("""SELECT city_key FROM warehouse.fact_city_score WHERE index_code = 'GPCI'
                                    AND edition = '2023' AND measure_code = 'total' AND rank = %s""", (rank,)).fetchone()
        fifth_total, = conn.execute("""SELECT score FROM warehouse.fact_city_score WHERE index_code = 'GPCI'
                                       AND edition = '2023' AND measure_code = 'total' AND rank = 5""").fetchone()
        best = dict(conn.execute("""SELECT measure_code, max(score) FROM warehouse.fact_city_score
                                    WHERE index_code = 'GPCI' AND edition = '2023' GROUP BY 1""").fetchall())
        scores = _scores(conn, city_key)
        [plan] = fetch_plans(conn, target_rank=5, city_key=city_key, index_code="GPCI")
    assert plan.current_rank == rank and plan.feasible and plan.steps
    raised = dict(scores)
    for step in plan.steps:
        assert influence[step.measure_code], f"{step.measure_code} is not one the city can influence"
        assert step.current_score == scores[step.measure_code]
        assert Decimal(0) < step.gain and step.target_score <= best[step.measure_code]
        raised[step.measure_code] = step.target_score
    assert model_total(catalog, raised) > fifth_total
    # Optimality certificate of the fractional knapsack: every indicator heavier (fewer siblings)
    # than the lightest one the plan uses is raised to the best score.
    size = defaultdict(int)
    for m in entry.measures_at("indicator"):
        size[m.parent] += 1
    weight = {m.code: Decimal(1) / size[m.parent] for m in entry.measures_at("indicator")}
    lightest = min(weight[s.measure_code] for s in plan.steps)
    for code, w in weight.items():
        if w > lightest and influence[code]:
            assert raised[code] == best[code], f"{code} (weight {w}) keeps headroom while a lighter indicator is raised"


def test_seoul_and_its_plan_by_department(gpci2023_db, catalog):
    with psycopg.connect(gpci2023_db) as conn:
        [plan] = fetch_plans(conn, index_code="GPCI")
        summary = conn.execute("SELECT city, current_rank, target_city, outcome FROM mart.path_to_top5_summary").fetchall()
        view = conn.execute("SELECT count(*), sum(effect_on_total) FROM mart.path_to_top5").fetchone()
        [planning_only] = fetch_plans(conn, index_code="GPCI", department="Planning & Coordination Office")
    assert (plan.city, plan.current_rank, plan.target_city) == ("Seoul", 7, "Singapore")
    assert summary == [("Seoul", 7, "Singapore", "plan")]
    assert view == (len(plan.steps), plan.total_effect) and plan.total_effect >= plan.needed
    text = format_plan(plan)
    assert "Seoul is 7th with 1,202.07; rank 5 is Singapore with 1,264.70" in text
    for department in plan.by_department():
        assert f"\n  {department}: +" in text
    assert {s.department for s in planning_only.steps} <= {"Planning & Coordination Office"}


def test_a_city_already_in_the_top_5_needs_no_plan_and_an_impossible_target_says_so(gpci2023_db):
    with psycopg.connect(gpci2023_db) as conn:
        [tokyo] = fetch_plans(conn, city_key="tokyo", index_code="GPCI")
        # With only the cultural indicators in the city's hands, Cairo (47th) cannot pass London.
        conn.execute("""UPDATE warehouse.dim_measure SET city_can_influence = false
                        WHERE index_code = 'GPCI' AND level = 'indicator' AND parent_code NOT LIKE 'cu%'""")
        [last_to_first] = fetch_plans(conn, target_rank=1, city_key="cairo", index_code="GPCI")
        conn.rollback()
    assert tokyo.needed is None and "no plan needed" in format_plan(tokyo)
    assert not last_to_first.feasible
    assert "No plan within the limits" in format_plan(last_to_first)


def test_the_path_asset_shows_the_plan_in_the_ui(gpci2023_db, tmp_path):
    import dagster as dg

    from cityrank_pipeline.orchestration.path import path_to_top5
    from cityrank_pipeline.orchestration.resources import CityrankResource

    resource = CityrankResource(home=str(tmp_path / "home"), database_url=gpci2023_db)
    result = path_to_top5(dg.build_asset_context(resources={"cityrank": resource}))
    meta = result.metadata
    assert meta["gpci_rank"] == 7 and meta["gpci_plan_feasible"] is True
    assert meta["gpci_points_needed"] > 62 and "| department | indicator |" in meta["plans"].value
