"""Release calendars: when each index is expected to publish, and whether it is late.

Pure functions over the catalog's `calendar:` block, free of Dagster and the database, so the
rules can be tested by date alone. The same rules are written in SQL for BI users
(`sql/views/040_release_calendar.sql`, `mart.release_calendar`); tests evaluate both at the
same dates and require the same answer, so the view and the Dagster freshness check never
disagree about which index is overdue.

The rules, in words:

* A *window* is a run of consecutive release months (GFCI: March, and September; GPCI:
  October to December). A run that crosses the new year (December, January) is one window.
* An edition *covers* a window when it is seen from `LEAD_MONTHS` before the window opens
  (publishers sometimes release early) onward — but never before the previous window has
  closed, so an early edition is not mistaken for the one after it. "Seen" is the edition's
  published date, or, when the publisher gave none, the day its file was first fetched.
* The *awaited* window is the first window the latest seen edition does not cover. Status:
  `on_time` before it opens, `due` from its opening until its grace period ends (the window
  itself plus `grace_months` whole months), `overdue` after that.
* `irregular` indices (QOL) get an awaited window for information but never go overdue:
  their historical months are no promise. `discontinued` indices (GDCI) await nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .catalog import Calendar, IndexEntry

# Months before a window opens from which an edition already counts for it.
LEAD_MONTHS = 1

STATUSES = ("on_time", "due", "overdue", "irregular", "discontinued")


@dataclass(frozen=True)
class MonthRun:
    """Release months that form one window, e.g. (10, 12) for October–December. `end_month`
    is below `start_month` when the run crosses the new year (12, 1)."""

    start_month: int
    end_month: int

    @property
    def crosses_year(self) -> bool:
        return self.end_month < self.start_month


@dataclass(frozen=True)
class ReleaseWindow:
    start: dt.date
    end: dt.date
    grace_end: dt.date
    # An edition seen on or after this day belongs to this window (or a later one).
    counts_from: dt.date


@dataclass(frozen=True)
class CalendarStatus:
    index_code: str
    status: str
    window: ReleaseWindow | None
    last_edition: str | None
    last_seen_on: dt.date | None

    @property
    def overdue_since(self) -> dt.date | None:
        """The first day the index counted as overdue (the day after the grace period)."""
        if self.status != "overdue" or self.window is None:
            return None
        return self.window.grace_end + dt.timedelta(days=1)


def month_runs(release_months: list[int]) -> list[MonthRun]:
    """Group release months into windows: [3, 9] -> Mar, Sep; [10, 11, 12] -> Oct–Dec;
    [1, 12] -> Dec–Jan; all twelve months -> one Jan–Dec window."""
    months = sorted(set(release_months))
    if not months:
        return []
    if len(months) == 12:
        return [MonthRun(1, 12)]
    runs: list[list[int]] = []
    for month in months:
        if runs and month == runs[-1][-1] + 1:
            runs[-1].append(month)
        else:
            runs.append([month])
    if len(runs) > 1 and runs[0][0] == 1 and runs[-1][-1] == 12:
        runs[0] = runs.pop() + runs[0]
    found = [MonthRun(run[0], run[-1]) for run in runs]
    return sorted(found, key=lambda r: r.start_month)


def add_months(day: dt.date, months: int) -> dt.date:
    """The first of the month `months` after `day`'s month (negative goes back)."""
    index = day.year * 12 + (day.month - 1) + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_end(year: int, month: int) -> dt.date:
    return add_months(dt.date(year, month, 1), 1) - dt.timedelta(days=1)


def window_in_year(run: MonthRun, year: int, grace_months: int) -> ReleaseWindow:
    start = dt.date(year, run.start_month, 1)
    end_year = year + 1 if run.crosses_year else year
    end = month_end(end_year, run.end_month)
    grace_end = add_months(dt.date(end_year, run.end_month, 1), grace_months + 1) - dt.timedelta(days=1)
    return ReleaseWindow(start, end, grace_end, add_months(start, -LEAD_MONTHS))


def windows_between(calendar: Calendar, first_year: int, last_year: int, anchor_year: int) -> list[ReleaseWindow]:
    """Windows opening in first_year..last_year, oldest first, with `counts_from` clipped to
    the day after the previous window ends. With `every_n_years` > 1 only years a multiple
    of n away from `anchor_year` (the latest edition's year) have windows."""
    windows = []
    for year in range(first_year, last_year + 1):
        if (year - anchor_year) % calendar.every_n_years:
            continue
        for run in month_runs(calendar.release_months):
            windows.append(window_in_year(run, year, calendar.grace_months))
    windows.sort(key=lambda w: w.start)
    clipped = []
    for i, window in enumerate(windows):
        if i and window.counts_from <= windows[i - 1].end:
            window = ReleaseWindow(window.start, window.end, window.grace_end, windows[i - 1].end + dt.timedelta(days=1))
        clipped.append(window)
    return clipped


def year_span(calendar: Calendar, today: dt.date, last_seen_on: dt.date | None) -> tuple[int, int]:
    """Years to lay windows over: from a year before the older of today and the last
    edition (a window opening in January counts from December), to far enough ahead that
    the next window is always among them."""
    seen_year = last_seen_on.year if last_seen_on else today.year
    return min(today.year, seen_year) - 1, max(today.year, seen_year) + calendar.every_n_years + 1


def awaited_window(calendar: Calendar, today: dt.date, last_seen_on: dt.date | None) -> ReleaseWindow | None:
    """The first window the latest seen edition does not cover; without any edition, the
    latest window already opened (or the next one, if none has)."""
    anchor = last_seen_on.year if last_seen_on else today.year
    windows = windows_between(calendar, *year_span(calendar, today, last_seen_on), anchor)
    if not windows:
        return None
    if last_seen_on is None:
        opened = [w for w in windows if w.start <= today]
        return opened[-1] if opened else windows[0]
    return next(w for w in windows if w.counts_from > last_seen_on)


def status_on(today: dt.date, window: ReleaseWindow | None) -> str:
    if window is None or today < window.start:
        return "on_time"
    return "due" if today <= window.grace_end else "overdue"


def release_status(entry: IndexEntry, today: dt.date, last_edition: str | None = None,
                   last_seen_on: dt.date | None = None) -> CalendarStatus:
    """Where `entry` stands on `today`, given its latest edition and the day it was seen."""
    if entry.status == "discontinued":
        return CalendarStatus(entry.code, "discontinued", None, last_edition, last_seen_on)
    window = awaited_window(entry.calendar, today, last_seen_on)
    status = "irregular" if entry.status == "irregular" else status_on(today, window)
    return CalendarStatus(entry.code, status, window, last_edition, last_seen_on)


def upcoming_windows(entry: IndexEntry, today: dt.date, months: int,
                     last_seen_on: dt.date | None = None) -> list[ReleaseWindow]:
    """Windows still ahead for the pre-evaluation list: not yet covered by an edition, not
    yet closed, and opening within `months` of `today`. Discontinued indices have none."""
    if entry.status == "discontinued":
        return []
    horizon = add_months(dt.date(today.year, today.month, 1), months + 1) - dt.timedelta(days=1)
    anchor = last_seen_on.year if last_seen_on else today.year
    first, last = year_span(entry.calendar, today, last_seen_on)
    windows = windows_between(entry.calendar, first, max(last, horizon.year), anchor)
    return [w for w in windows
            if w.end >= today and w.start <= horizon and (last_seen_on is None or w.counts_from > last_seen_on)]
