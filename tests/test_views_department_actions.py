"""mart.department_actions and mart.next_release_month, on Seoul's GPCI and GFCI figures.

Release months from the catalog: GPCI October-December (latest edition 17 Dec 2025), GFCI
March and September (latest 25 Sep 2025).
"""

import datetime as dt

import pytest

from test_views_fixture import rows, seoul_db, seoul_template  # noqa: F401


@pytest.mark.parametrize("months, not_before, expected", [
    ([3, 9], dt.date(2026, 11, 25), dt.date(2027, 3, 1)),    # past September: next March
    ([3, 9], dt.date(2026, 3, 31), dt.date(2026, 3, 1)),     # the window's own month still counts
    ([10, 11, 12], dt.date(2026, 1, 1), dt.date(2026, 10, 1)),
    ([6], dt.date(2026, 7, 1), dt.date(2027, 6, 1)),
    ([], dt.date(2026, 7, 1), None),                          # no calendar (discontinued GDCI)
])
def test_next_release_month(seoul_db, months, not_before, expected):
    assert rows(seoul_db, "SELECT mart.next_release_month(%s::smallint[], %s)", (months, not_before)) == [(expected,)]


def _next(months: list[int], not_before: dt.date) -> dt.date:
    """The expected window, counted by hand: first listed month on or after not_before's month."""
    month = not_before.replace(day=1)
    while month.month not in months:
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return month


def _age_mark(published_on: dt.date) -> str:
    """The ", N years old" the view adds to an edition two or more whole years old today."""
    today = dt.date.today()
    years = today.year - published_on.year - ((today.month, today.day) < (published_on.month, published_on.day))
    return f", {years} years old" if years >= 2 else ""


def test_each_department_with_its_indices_weak_measures_and_next_window(seoul_db, catalog):
    this_month = dt.date.today().replace(day=1)
    gfci35 = _age_mark(catalog["GFCI"].editions["GFCI 35"].published_on)
    gpci_next = _next([10, 11, 12], max(this_month, dt.date(2026, 1, 1)))  # after the Dec 2025 edition
    gfci_next = _next([3, 9], max(this_month, dt.date(2025, 10, 1)))       # after the Sep 2025 edition
    got = {r[0]: r[1:] for r in rows(seoul_db, """
        SELECT department, indices, indices_measuring, weak_measure_count, influenceable_count, first_priority,
               weak_measures, next_release
        FROM mart.department_actions""")}
    # Departments that own only GPCI indicators (catalog) have no weak measure in curated figures.
    indicator_only = {d: v for d, v in got.items() if v[1] == "GPCI" and v[2] == 0 and v[0] is None}
    assert all(v[3] == 0 and v[4] is None for v in indicator_only.values())
    got = {d: v for d, v in got.items() if d not in indicator_only}
    assert got == {
        "Planning & Coordination Office": ("GPCI", "GPCI", 1, 1, 1, "GPCI Livability 25 (overall 6, 2025)", gpci_next),
        "Economic Policy Office": (
            "GFCI", "GFCI, GPCI", 4, 4, 2,
            f"GPCI Economy 16 (overall 6, 2025); GFCI Business Environment 13 (overall 10, GFCI 35{gfci35}); "
            f"GFCI Financial Sector Development 13 (overall 10, GFCI 35{gfci35}); "
            f"GFCI Reputational and General 12 (overall 10, GFCI 35{gfci35})",
            min(gpci_next, gfci_next)),
        "Tourism & Sports Bureau": (None, "GPCI", 1, 1, 3, "GPCI Cultural Interaction 12 (overall 6, 2025)", gpci_next),
        "Urban Transportation Office": (None, "GPCI", 1, 1, 4, "GPCI Accessibility 11 (overall 6, 2025)", gpci_next),
        "Climate & Environment Headquarters": (None, "GPCI", 1, 1, 5, "GPCI Environment 11 (overall 6, 2025)", gpci_next),
        "Urban Planning Bureau": (None, "GFCI", 0, 0, None, None, gfci_next),  # GFCI infrastructure: 10th = overall
    }
    calendar = rows(seoul_db, """SELECT next_release_indices, release_calendar FROM mart.department_actions
                                 WHERE department = 'Economic Policy Office'""")[0]
    expected = sorted([("GFCI", gfci_next), ("GPCI", gpci_next)], key=lambda p: (p[1], p[0]))
    assert calendar[1] == "; ".join(f"{code} {month:%Y-%m}" for code, month in expected)
    assert calendar[0] == ", ".join(code for code, month in expected if month == expected[0][1])
