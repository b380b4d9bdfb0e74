"""mart.weak_indicators: Seoul's measures ranked below its overall rank, in action order.

From published_figures.csv: GPCI 2025 Seoul 6th overall; economy 16, R&D 5, cultural
interaction 12, livability 25, environment 11, accessibility 11. GFCI 35 (the latest GFCI
edition with area ranks) Seoul 10th; business environment 13, human capital 7,
infrastructure 10, financial sector development 13, reputational 12.
"""

import psycopg

from test_views_fixture import refresh_mart, rows, seoul_db, seoul_template  # noqa: F401

QUERY = """SELECT priority, index_code, edition, is_latest_edition, measure, measure_rank, overall_rank, rank_gap,
                  department, city_can_influence
           FROM mart.weak_indicators WHERE city = 'Seoul' ORDER BY priority"""


def test_weak_measures_ordered_for_action_with_their_departments(seoul_db):
    assert rows(seoul_db, QUERY) == [
        (1, "GPCI", "2025", True, "livability", 25, 6, 19, "Planning & Coordination Office", True),
        (2, "GPCI", "2025", True, "economy", 16, 6, 10, "Economic Policy Office", True),
        (3, "GPCI", "2025", True, "cultural_interaction", 12, 6, 6, "Tourism & Sports Bureau", True),
        (4, "GPCI", "2025", True, "accessibility", 11, 6, 5, "Urban Transportation Office", True),
        (5, "GPCI", "2025", True, "environment", 11, 6, 5, "Climate & Environment Headquarters", True),
        # GFCI measures without their own department fall to the index owner.
        (6, "GFCI", "GFCI 35", False, "business_environment", 13, 10, 3, "Economic Policy Office", True),
        (7, "GFCI", "GFCI 35", False, "financial_sector_development", 13, 10, 3, "Economic Policy Office", True),
        (8, "GFCI", "GFCI 35", False, "reputational_general", 12, 10, 2, "Economic Policy Office", True),
    ]
    # Not weak: R&D (5th) and human capital (7th) beat the overall rank; infrastructure (10th) equals it.
    measures = {r[4] for r in rows(seoul_db, QUERY)}
    assert not measures & {"r_and_d", "human_capital", "infrastructure"}


def test_measures_the_city_cannot_influence_go_last(seoul_db, catalog):
    with psycopg.connect(seoul_db) as conn:
        conn.execute("""UPDATE warehouse.dim_measure SET city_can_influence = false
                        WHERE index_code = 'GPCI' AND measure_code = 'livability'""")
    refresh_mart(seoul_db, catalog)
    got = [(r[0], r[4], r[9]) for r in rows(seoul_db, QUERY)]
    assert got[0] == (1, "economy", True)
    assert got[-1] == (8, "livability", False)
