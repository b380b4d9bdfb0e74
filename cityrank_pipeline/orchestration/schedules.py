"""Poll schedules from each index's release calendar, and the daily release-calendar check.

An active index gets two schedules: `<code>_poll_in_window`, every six hours on its release
months (a new edition is noticed within hours of release), and `<code>_poll_off_window`,
Mondays at 06:00 UTC on every other month (an early or moved release is still noticed within
a week, at four requests a month). `calendar.poll_in_window` / `poll_off_window` in the
catalog replace the generated crons. An irregular index (QOL) has no window worth trusting,
so it gets one weekly `<code>_poll_irregular` all year (`poll_off_window` overrides it).
Discontinued indices, and indices whose only web source is gated (GFCI), get none: there is
nothing to fetch.

Poll schedules start STOPPED: a fresh deployment, or a developer's `cityrank ui`, must not
start requesting nine publishers' pages before an operator has decided to (and set
CITYRANK_CONTACT so publishers can reach us). The daily release-calendar check touches only
the warehouse and starts RUNNING, so an overdue edition shows in the UI from day one.
Crons are in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from ..catalog import Catalog, IndexEntry
from .acquisition import poll_job_name, polled_entries
from .freshness import RELEASE_CALENDAR_JOB

EVERY_SIX_HOURS = "0 */6 * {months} *"
MONDAY_MORNING = "0 6 * {months} 1"
WEEKLY = "0 6 * * 1"
RELEASE_CALENDAR_CRON = "0 7 * * *"
TIMEZONE = "UTC"


@dataclass(frozen=True)
class PollPlan:
    name: str
    cron: str
    description: str


def month_list(months: list[int]) -> str:
    return ",".join(str(m) for m in sorted(months))


def poll_plans(entry: IndexEntry) -> list[PollPlan]:
    """The poll schedules one index gets (names and crons), from its catalog calendar."""
    code, calendar = entry.code.lower(), entry.calendar
    if entry.status == "discontinued":
        return []
    if entry.status == "irregular":
        return [PollPlan(f"{code}_poll_irregular", calendar.poll_off_window or WEEKLY,
                         f"Poll {entry.code} weekly all year: its releases follow no reliable calendar.")]
    in_window = set(calendar.release_months)
    off_window = [m for m in range(1, 13) if m not in in_window]
    plans = []
    if in_window or calendar.poll_in_window:
        plans.append(PollPlan(f"{code}_poll_in_window",
                              calendar.poll_in_window or EVERY_SIX_HOURS.format(months=month_list(sorted(in_window))),
                              f"Poll {entry.code} often inside its release window (months {month_list(sorted(in_window))})."))
    if off_window or calendar.poll_off_window:
        plans.append(PollPlan(f"{code}_poll_off_window",
                              calendar.poll_off_window or MONDAY_MORNING.format(months=month_list(off_window)),
                              f"Poll {entry.code} weekly outside its release window."))
    return plans


def build_poll_schedules(catalog: Catalog) -> list[dg.ScheduleDefinition]:
    return [
        dg.ScheduleDefinition(name=plan.name, cron_schedule=plan.cron, job_name=poll_job_name(entry.code),
                              execution_timezone=TIMEZONE, description=plan.description,
                              default_status=dg.DefaultScheduleStatus.STOPPED, tags={"index": entry.code})
        for entry in polled_entries(catalog)
        for plan in poll_plans(entry)
    ]


release_calendar_schedule = dg.ScheduleDefinition(
    name="release_calendar_daily", cron_schedule=RELEASE_CALENDAR_CRON, job_name=RELEASE_CALENDAR_JOB,
    execution_timezone=TIMEZONE, default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Evaluate every index's release calendar; an overdue edition fails its check.",
)


def build_schedules(catalog: Catalog) -> list[dg.ScheduleDefinition]:
    return [*build_poll_schedules(catalog), release_calendar_schedule]
