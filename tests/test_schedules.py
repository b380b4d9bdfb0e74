"""Poll schedules from the release calendars, asserted by their next ticks.

A cron is easy to misread (day-of-month and day-of-week together match on *either*), so each
calendar is checked by when it actually fires. The snapshot at the end lists every schedule
and its cron: a calendar change in assets/*.yaml shows up here in review.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest
from dagster._utils.schedules import cron_string_iterator

from cityrank_pipeline.catalog import Calendar
from cityrank_pipeline.orchestration.acquisition import poll_job_name
from cityrank_pipeline.orchestration.schedules import build_schedules, poll_plans

UTC = dt.timezone.utc


def ticks(cron: str, start: str, count: int) -> list[str]:
    begin = dt.datetime.fromisoformat(start).replace(tzinfo=UTC)
    found = cron_string_iterator(begin.timestamp(), cron, "UTC")
    return [next(found).strftime("%Y-%m-%d %H:%M") for _ in range(count)]


@pytest.fixture(scope="module")
def schedules(catalog):
    return {s.name: s for s in build_schedules(catalog)}


SNAPSHOT = {
    "cimi_poll_in_window": "0 */6 * 5,6,7 *",
    "cimi_poll_off_window": "0 6 * 1,2,3,4,8,9,10,11,12 1",
    "eiu_poll_in_window": "0 */6 * 6 *",
    "eiu_poll_off_window": "0 6 * 1,2,3,4,5,7,8,9,10,11,12 1",
    "gci_poll_in_window": "0 */6 * 10,11 *",
    "gfci_poll_in_window": "0 */6 * 3,9 *",
    "gfci_poll_off_window": "0 6 * 1,2,4,5,6,7,8,10,11,12 1",
    "gci_poll_off_window": "0 6 * 1,2,3,4,5,6,7,8,9,12 1",
    "gco_poll_in_window": "0 */6 * 10,11 *",
    "gco_poll_off_window": "0 6 * 1,2,3,4,5,6,7,8,9,12 1",
    "gpci_poll_in_window": "0 */6 * 10,11,12 *",
    "gpci_poll_off_window": "0 6 * 1,2,3,4,5,6,7,8,9 1",
    "gser_poll_in_window": "0 */6 * 6 *",
    "gser_poll_off_window": "0 6 * 1,2,3,4,5,7,8,9,10,11,12 1",
    "qol_poll_irregular": "0 6 * * 1",
    "release_calendar_daily": "0 7 * * *",
}


def test_snapshot_of_every_schedule_and_its_cron(schedules):
    assert {name: s.cron_schedule for name, s in schedules.items()} == SNAPSHOT


def test_no_schedule_for_discontinued_indices(schedules):
    """GDCI is retired: archived, never polled."""
    assert not any(name.startswith("gdci_") for name in schedules)


def test_poll_schedules_start_stopped_and_the_calendar_check_runs(schedules):
    for name, schedule in schedules.items():
        expected = dg.DefaultScheduleStatus.RUNNING if name == "release_calendar_daily" else dg.DefaultScheduleStatus.STOPPED
        assert schedule.default_status == expected, name
        assert schedule.execution_timezone == "UTC"
    assert schedules["gpci_poll_in_window"].job_name == poll_job_name("GPCI") == "gpci_poll_job"


def test_gfci_calendar_would_poll_march_and_september(catalog):
    """GFCI publishes in March and September: six-hourly then, Mondays otherwise."""
    [in_window, off_window] = poll_plans(catalog["GFCI"])
    assert ticks(in_window.cron, "2026-02-27 10:00", 5) == [
        "2026-03-01 00:00", "2026-03-01 06:00", "2026-03-01 12:00", "2026-03-01 18:00", "2026-03-02 00:00"]
    assert ticks(in_window.cron, "2026-03-31 19:00", 1) == ["2026-09-01 00:00"]
    assert ticks(off_window.cron, "2026-02-20 00:00", 3) == ["2026-02-23 06:00", "2026-04-06 06:00", "2026-04-13 06:00"]


@pytest.mark.parametrize("name, start, expected", [
    # GPCI: Oct–Dec every six hours; Mondays otherwise, never inside the window.
    ("gpci_poll_in_window", "2026-09-30 23:00", ["2026-10-01 00:00", "2026-10-01 06:00"]),
    ("gpci_poll_in_window", "2026-12-31 19:00", ["2027-10-01 00:00"]),
    ("gpci_poll_off_window", "2026-09-25 00:00", ["2026-09-28 06:00", "2027-01-04 06:00", "2027-01-11 06:00"]),
    # GCI / GCO: Oct–Nov.
    ("gci_poll_in_window", "2026-11-30 19:00", ["2027-10-01 00:00"]),
    ("gco_poll_off_window", "2026-11-25 00:00", ["2026-12-07 06:00", "2026-12-14 06:00"]),
    # EIU and GSER: June.
    ("eiu_poll_in_window", "2026-05-31 12:00", ["2026-06-01 00:00", "2026-06-01 06:00"]),
    ("gser_poll_off_window", "2026-05-31 12:00", ["2026-07-06 06:00"]),
    # CIMI: May–Jul.
    ("cimi_poll_in_window", "2026-07-31 20:00", ["2027-05-01 00:00"]),
    ("cimi_poll_off_window", "2026-04-25 00:00", ["2026-04-27 06:00", "2026-08-03 06:00"]),
    # QOL: irregular, weekly all year.
    ("qol_poll_irregular", "2026-11-25 00:00", ["2026-11-30 06:00", "2026-12-07 06:00", "2026-12-14 06:00"]),
    ("release_calendar_daily", "2026-11-25 08:00", ["2026-11-26 07:00", "2026-11-27 07:00"]),
])
def test_next_ticks(schedules, name, start, expected):
    assert ticks(schedules[name].cron_schedule, start, len(expected)) == expected


def test_catalog_overrides_replace_the_generated_crons(catalog):
    calendar = Calendar(release_months=[6], poll_in_window="0 */2 * 6 *", poll_off_window="0 6 1 * *")
    entry = catalog["EIU"].model_copy(update={"calendar": calendar})
    assert [(p.name, p.cron) for p in poll_plans(entry)] == [
        ("eiu_poll_in_window", "0 */2 * 6 *"), ("eiu_poll_off_window", "0 6 1 * *")]
    irregular = catalog["QOL"].model_copy(update={"calendar": Calendar(release_months=[3], poll_off_window="0 5 * * 3")})
    assert [(p.name, p.cron) for p in poll_plans(irregular)] == [("qol_poll_irregular", "0 5 * * 3")]


def test_every_month_in_window_needs_no_off_window_schedule(catalog):
    entry = catalog["EIU"].model_copy(update={"calendar": Calendar(release_months=list(range(1, 13)))})
    assert [p.name for p in poll_plans(entry)] == ["eiu_poll_in_window"]


def test_a_schedule_tick_requests_the_poll_job(schedules):
    context = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 10, 1, tzinfo=UTC))
    [request] = schedules["gci_poll_in_window"].evaluate_tick(context).run_requests
    assert request.partition_key is None
