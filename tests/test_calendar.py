"""Release calendars: the Python rules, the SQL views, and that both say the same thing.

"Today" is 2026-11-25 (the date this was written); every test passes its dates explicitly, so
the results do not move with the clock. The warehouse is seeded with each index's latest
edition from the catalog, as a `cityrank run` of the curated figures leaves it.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
import psycopg
import pytest

from cityrank_pipeline.calendar import MonthRun, month_runs, release_status, upcoming_windows
from cityrank_pipeline.catalog import Calendar
from cityrank_pipeline.cli import main
from cityrank_pipeline.orchestration.freshness import (
    CHECK_NAME,
    as_of_run_config,
    build_release_calendar_checks,
    build_release_calendar_job,
    calendar_statuses,
    sync_release_calendar,
)
from cityrank_pipeline.orchestration.resources import CityrankResource
from conftest import table_snapshot

TODAY = dt.date(2026, 11, 25)
D = dt.date.fromisoformat

# Where each index stands on TODAY with its latest catalog edition.
EXPECTED_TODAY = {
    "GCI": ("due", "2026-10-01", "2026-11-30", "2026-12-31"),
    "GCO": ("due", "2026-10-01", "2026-11-30", "2026-12-31"),
    "GPCI": ("due", "2026-10-01", "2026-12-31", "2027-01-31"),
    "QOL": ("irregular", "2024-03-01", "2024-03-31", "2025-03-31"),
    "EIU": ("overdue", "2026-06-01", "2026-06-30", "2026-08-31"),
    "GSER": ("overdue", "2026-06-01", "2026-06-30", "2026-07-31"),
    "GFCI": ("overdue", "2026-03-01", "2026-03-31", "2026-04-30"),
    "CIMI": ("overdue", "2026-05-01", "2026-07-31", "2026-10-31"),
    "GDCI": ("discontinued", None, None, None),
}

# A day inside each index's awaited window (before any new edition): "due".
INSIDE_WINDOW = {
    "GCI": "2026-10-15", "GCO": "2026-11-02", "GPCI": "2026-12-20", "EIU": "2026-06-10",
    "GSER": "2026-06-30", "GFCI": "2026-03-01", "CIMI": "2026-07-04",
}


def latest_catalog_edition(entry):
    label = max(entry.editions, key=entry.edition_seq)
    return label, entry.editions[label].published_on


# --------------------------------------------------------------------------- pure rules


@pytest.mark.parametrize("months, runs", [
    ([3, 9], [(3, 3), (9, 9)]),
    ([10, 11, 12], [(10, 12)]),
    ([5, 6, 7], [(5, 7)]),
    ([1, 12], [(12, 1)]),
    ([1, 2, 11, 12], [(11, 2)]),
    (list(range(1, 13)), [(1, 12)]),
    ([], []),
])
def test_month_runs_group_consecutive_months_across_the_new_year(months, runs):
    assert month_runs(months) == [MonthRun(*r) for r in runs]


def test_statuses_today_from_the_catalog(catalog):
    for entry in catalog:
        status = release_status(entry, TODAY, *latest_catalog_edition(entry))
        expected, start, end, grace = EXPECTED_TODAY[entry.code]
        window = status.window
        assert (status.status, str(window.start) if window else None, str(window.end) if window else None,
                str(window.grace_end) if window else None) == (expected, start, end, grace), entry.code


def test_overdue_says_since_when(catalog):
    status = release_status(catalog["GFCI"], TODAY, "GFCI 38", D("2025-09-25"))
    assert status.overdue_since == D("2026-05-01")
    assert release_status(catalog["GCI"], TODAY, "2025", D("2025-10-22")).overdue_since is None


@pytest.mark.parametrize("code", sorted(INSIDE_WINDOW))
def test_inside_each_window_due_then_on_time_once_published(catalog, code):
    entry = catalog[code]
    label, published = latest_catalog_edition(entry)
    day = D(INSIDE_WINDOW[code])
    assert release_status(entry, day, label, published).status == "due"
    # The edition arrives that day: on time, and the next window is the following one.
    after = release_status(entry, day, "next", day)
    assert after.status == "on_time" and after.window.start > day


def test_gfci_lifecycle_around_the_march_window(catalog):
    gfci = catalog["GFCI"]
    seen = D("2025-09-25")  # GFCI 38
    assert release_status(gfci, D("2026-02-28"), "GFCI 38", seen).status == "on_time"
    assert release_status(gfci, D("2026-03-01"), "GFCI 38", seen).status == "due"
    assert release_status(gfci, D("2026-04-30"), "GFCI 38", seen).status == "due"  # grace month
    assert release_status(gfci, D("2026-05-01"), "GFCI 38", seen).status == "overdue"
    # Published a little early (late February) still counts for March.
    early = release_status(gfci, D("2026-03-10"), "GFCI 39", D("2026-02-20"))
    assert early.status == "on_time" and early.window.start == D("2026-09-01")


def test_late_edition_does_not_cover_the_next_window(catalog):
    eiu = catalog["EIU"]  # June window, two months' grace; August 2018 was a late release
    status = release_status(eiu, D("2019-06-15"), "2018", D("2018-08-20"))
    assert status.status == "due" and status.window.start == D("2019-06-01")


def test_without_any_edition_the_latest_opened_window_is_awaited(catalog):
    status = release_status(catalog["GFCI"], TODAY, None, None)
    assert (status.status, status.window.start) == ("overdue", D("2026-09-01"))
    assert release_status(catalog["GFCI"], D("2026-09-10")).status == "due"


def test_every_n_years_skips_off_years(catalog):
    biennial = catalog["GCI"].model_copy(update={"calendar": Calendar(release_months=[10], every_n_years=2, grace_months=1)})
    status = release_status(biennial, D("2025-11-15"), "2024", D("2024-10-10"))
    assert (status.status, status.window.start) == ("on_time", D("2026-10-01"))


def test_upcoming_windows_skip_covered_and_closed_windows(catalog):
    gfci = catalog["GFCI"]
    # GFCI 38 seen: March 2026 is closed by TODAY; September 2026 is closed; next March opens within six months.
    assert [w.start for w in upcoming_windows(gfci, TODAY, 6, D("2025-09-25"))] == [D("2027-03-01")]
    gci = catalog["GCI"]
    assert [w.start for w in upcoming_windows(gci, TODAY, 12, D("2025-10-22"))] == [D("2026-10-01"), D("2027-10-01")]
    assert [w.start for w in upcoming_windows(gci, TODAY, 12, D("2026-10-20"))] == [D("2027-10-01")]
    assert upcoming_windows(catalog["GDCI"], TODAY, 24) == []


# --------------------------------------------------------------------------- SQL agrees


def seed_latest_editions(conn, catalog, *, without=()):
    """The catalog's latest edition of each index in dim_edition (as a load leaves it)."""
    sync_release_calendar(conn, catalog)
    with conn.transaction():
        for entry in catalog:
            if entry.code in without:
                continue
            label, published = latest_catalog_edition(entry)
            conn.execute(
                """INSERT INTO warehouse.dim_edition (index_code, edition, edition_seq, published_on, published_precision)
                   VALUES (%s, %s, %s, %s, 'day')""", (entry.code, label, entry.edition_seq(label), published))


SQL_COLUMNS = "index_code, last_edition, last_seen_on, window_start, window_end, grace_end, status"


def sql_calendar(conn, day):
    rows = conn.execute(f"SELECT {SQL_COLUMNS} FROM mart.release_calendar_at(%s)", (day,)).fetchall()
    return {row[0]: row[1:] for row in rows}


def python_calendar(conn, catalog, day):
    out = {}
    for s in calendar_statuses(conn, catalog, day):
        w = s.window
        out[s.index_code] = (s.last_edition, s.last_seen_on, w and w.start, w and w.end, w and w.grace_end, s.status)
    return out


def agreement_days():
    days = [TODAY]
    for code, inside in INSIDE_WINDOW.items():
        day = D(inside)
        days += [day, day.replace(day=1) - dt.timedelta(days=1)]
    days += [D(grace) + dt.timedelta(days=k) for _, _, _, grace in EXPECTED_TODAY.values() if grace for k in (0, 1)]
    return sorted(set(days))


def test_sql_and_python_agree_today_and_inside_every_window(migrated_url, catalog):
    with psycopg.connect(migrated_url) as conn:
        seed_latest_editions(conn, catalog)
        today = sql_calendar(conn, TODAY)
        assert {code: row[-1] for code, row in today.items()} == {c: e[0] for c, e in EXPECTED_TODAY.items()}
        for day in agreement_days():
            assert sql_calendar(conn, day) == python_calendar(conn, catalog, day), day
        for code, inside in INSIDE_WINDOW.items():
            assert sql_calendar(conn, D(inside))[code][-1] == "due", code
        # The view is the function at current_date.
        view = {r[0]: r[1:] for r in conn.execute(f"SELECT {SQL_COLUMNS} FROM mart.release_calendar").fetchall()}
        assert view == sql_calendar(conn, conn.execute("SELECT current_date").fetchone()[0])


def test_sql_and_python_agree_without_editions_and_with_fetch_dates(migrated_url, catalog):
    with psycopg.connect(migrated_url) as conn:
        seed_latest_editions(conn, catalog, without={"GFCI", "CIMI"})
        # A CIMI edition the publisher gave no date for: seen the day its file was fetched.
        sha = "ab" * 32
        with conn.transaction():
            conn.execute("""INSERT INTO meta.snapshot (snapshot_id, original_name, media_type, bytes, fetched_at, licence_note)
                            VALUES (%s, 'ST-700-E.pdf', 'application/pdf', 1, '2026-06-12T23:30:00+00:00', 'test')""", (sha,))
            conn.execute("""INSERT INTO warehouse.dim_edition (index_code, edition, edition_seq) VALUES ('CIMI', '2026', 2026)""")
            conn.execute("""INSERT INTO warehouse.fact_city_score (index_code, edition, city_key, measure_code, rank,
                                   printed_name, confidence, snapshot_id)
                            VALUES ('CIMI', '2026', 'seoul', 'total', 12, 'Seoul', 'reported', %s)""", (sha,))
        for day in agreement_days():
            assert sql_calendar(conn, day) == python_calendar(conn, catalog, day), day
        cimi = sql_calendar(conn, TODAY)["CIMI"]
        assert cimi[:2] == ("2026", D("2026-06-12")) and cimi[-1] == "on_time"
        assert sql_calendar(conn, TODAY)["GFCI"][-1] == "overdue"


def test_calendar_sync_writes_nothing_the_second_time(migrated_url, catalog):
    with psycopg.connect(migrated_url) as conn:
        sync_release_calendar(conn, catalog)
    before = table_snapshot(migrated_url)
    with psycopg.connect(migrated_url) as conn:
        sync_release_calendar(conn, catalog)
    assert table_snapshot(migrated_url) == before
    assert len(before["meta.release_window"]) == 10  # eight indices, GFCI and QOL with two windows, GDCI none


def test_pre_evaluation_lists_measures_and_departments(migrated_url, catalog):
    with psycopg.connect(migrated_url) as conn:
        seed_latest_editions(conn, catalog)
        rows = conn.execute("""SELECT window_start, index_code, measure_code, department
                               FROM mart.pre_evaluation_at(%s, 6)""", (TODAY,)).fetchall()
        windows = {(start, code) for start, code, _, _ in rows}
        expected = set()
        for entry in catalog:
            for w in upcoming_windows(entry, TODAY, 6, latest_catalog_edition(entry)[1]):
                expected.add((w.start, entry.code))
        assert windows == expected
        assert (D("2027-03-01"), "GFCI") in windows and (D("2026-10-01"), "GCI") in windows
        assert not any(code == "GDCI" for _, code in windows)
        gpci = {(m, d) for start, code, m, d in rows if code == "GPCI"}
        assert ("environment", "Climate & Environment Headquarters") in gpci
        assert ("total", "Planning & Coordination Office") in gpci
        assert len(gpci) == len(catalog["GPCI"].measures)
        assert conn.execute("SELECT count(*) FROM mart.pre_evaluation").fetchone()[0] >= 0


def test_release_calendar_check_fails_overdue_indices_in_dagster(migrated_url, catalog, tmp_path):
    with psycopg.connect(migrated_url) as conn:
        seed_latest_editions(conn, catalog)
    checks = build_release_calendar_checks(catalog)
    job = dg.Definitions(asset_checks=[checks], jobs=[build_release_calendar_job(checks)],
                         resources={"cityrank": CityrankResource(home=str(tmp_path), database_url=migrated_url)}
                         ).resolve_job_def("release_calendar_job")
    run_config = as_of_run_config(str(TODAY))
    result = job.execute_in_process(run_config=run_config, instance=dg.DagsterInstance.ephemeral())
    assert result.success  # a failed check is a finding, not a failed run
    evaluations = {e.asset_key.path[0].upper(): e for e in result.get_asset_check_evaluations()}
    assert {code: e.passed for code, e in evaluations.items()} == {
        code: expected[0] != "overdue" for code, expected in EXPECTED_TODAY.items()}
    gfci = evaluations["GFCI"]
    assert gfci.severity == dg.AssetCheckSeverity.ERROR and gfci.check_name == CHECK_NAME
    assert gfci.metadata["overdue_since"].value == "2026-05-01"


def test_cli_calendar_and_pre_evaluation(cityrank_env, capsys):
    assert main(["calendar", "--date", "2026-11-25"]) == 0
    out = capsys.readouterr().out
    assert "GDCI" in out and "discontinued" in out and "QOL" in out and "irregular" in out
    assert main(["pre-evaluation", "--months", "4", "--date", "2026-11-25"]) == 0
    out = capsys.readouterr().out
    assert "2027-03-01 – 2027-03-31" in out and "GFCI Global Financial Centres Index" in out
    assert "Urban Planning Bureau: Infrastructure" in out
    with pytest.raises(SystemExit):
        main(["calendar", "--date", "25/11/2026"])
