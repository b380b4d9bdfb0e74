"""Priorities respect time: an old edition's gap counts less, and its age is shown.

Seoul's CIMI 2019 social-cohesion rank (95th, 83 places below its 12th overall: the published
figure, in the curated figures) is far wider than any GPCI 2025 gap, but six-plus years old; it must not head the list.
"""

import datetime as dt

from test_views_fixture import load_real_figures, refresh_mart, rows, seoul_db, seoul_template  # noqa: F401


def _years_since(day: dt.date) -> int:
    today = dt.date.today()
    return today.year - day.year - ((today.month, today.day) < (day.month, day.day))


def test_old_figures_weigh_less_and_carry_their_age(seoul_db, catalog, tmp_path):
    load_real_figures(seoul_db, catalog, tmp_path / "raw", indices=("CIMI",), editions={("CIMI", "2019")})
    refresh_mart(seoul_db, catalog)
    got = rows(seoul_db, """SELECT priority, index_code, measure, rank_gap, age_years, age_weight, weighted_gap
                            FROM mart.weak_indicators ORDER BY priority""")
    age = _years_since(catalog["CIMI"].editions["2019"].published_on)
    [cimi] = [r for r in got if r[1:3] == ("CIMI", "social_cohesion")]
    weight = round(0.5 ** ((age - 1) / 2), 4)
    assert (cimi[2], cimi[3], cimi[4], float(cimi[5])) == ("social_cohesion", 83, age, weight)
    assert float(cimi[6]) == round(83 * float(cimi[5]), 2)
    assert got[0][1:3] == ("GPCI", "livability")  # this year's 19-place gap outranks a years-old 83-place one
    assert all(float(r[5]) < 1 for r in got if r[1] == "CIMI")
    weighted = [float(r[6]) for r in got]  # every measure here is influenceable: priority follows weighted_gap
    assert weighted == sorted(weighted, reverse=True)
    departments = dict(rows(seoul_db, "SELECT department, weak_measures FROM mart.department_actions"))
    assert f"CIMI Social Cohesion 95 (overall 12, 2019, {age} years old)" in departments["Welfare Policy Office"]
    oldest = dict(rows(seoul_db, "SELECT department, oldest_figure_years FROM mart.department_actions"))
    expected = dict(rows(seoul_db, "SELECT department, max(age_years) FROM mart.weak_indicators GROUP BY 1"))
    assert oldest["Welfare Policy Office"] == age and {d: oldest[d] for d in expected} == expected
