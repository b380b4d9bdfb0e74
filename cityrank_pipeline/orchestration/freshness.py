"""Release-calendar freshness: an overdue edition fails a check on the index's warehouse asset.

Each index's `warehouse_scores` asset carries a `release_calendar` check. It reads the latest
edition in the warehouse, applies the catalog calendar (`cityrank_pipeline.calendar`) and
fails with severity ERROR when the edition expected in the last window is past its grace
period — so the UI's asset page says "GFCI: overdue since 2026-05-01" next to the data that
has gone stale. The checks do not take the partitioned asset as input (that would load
every edition); they run together in `release_calendar_job`, which the
`release_calendar_daily` schedule starts.

The check also writes the catalog's calendars into meta.release_calendar / meta.release_window
(idempotently), which `mart.release_calendar` and `mart.pre_evaluation` read.
"""


import datetime as dt

import dagster as dg
import psycopg

from ..calendar import LEAD_MONTHS, CalendarStatus, month_runs, release_status
from ..catalog import Catalog, IndexEntry
from ..loading import sync_dimensions
from .assets import asset_key
from .resources import CityrankResource

CHECK_NAME = "release_calendar"
RELEASE_CALENDAR_JOB = "release_calendar_job"


def sync_release_calendar(conn: psycopg.Connection, catalog: Catalog) -> None:
    """Write every index's calendar (and its index/measure dimensions, which the views join)
    from the catalog. Rows that already match are not touched, so a daily run writes nothing
    until the catalog changes."""
    with conn.transaction():
        for entry in catalog:
            sync_dimensions(conn, catalog, entry)
            calendar = entry.calendar
            conn.execute(
                """INSERT INTO meta.release_calendar AS c (index_code, grace_months, every_n_years, lead_months)
                   VALUES (%s, %s, %s, %s)
                   ON CONFLICT (index_code) DO UPDATE SET grace_months = EXCLUDED.grace_months,
                          every_n_years = EXCLUDED.every_n_years, lead_months = EXCLUDED.lead_months
                   WHERE (c.grace_months, c.every_n_years, c.lead_months)
                         IS DISTINCT FROM (EXCLUDED.grace_months, EXCLUDED.every_n_years, EXCLUDED.lead_months)""",
                (entry.code, calendar.grace_months, calendar.every_n_years, LEAD_MONTHS),
            )
            runs = month_runs(calendar.release_months)
            conn.execute("DELETE FROM meta.release_window WHERE index_code = %s AND NOT (start_month = ANY(%s))",
                         (entry.code, [r.start_month for r in runs]))
            for run in runs:
                conn.execute(
                    """INSERT INTO meta.release_window AS w (index_code, start_month, end_month) VALUES (%s, %s, %s)
                       ON CONFLICT (index_code, start_month) DO UPDATE SET end_month = EXCLUDED.end_month
                       WHERE w.end_month IS DISTINCT FROM EXCLUDED.end_month""",
                    (entry.code, run.start_month, run.end_month),
                )


def last_editions(conn: psycopg.Connection) -> dict[str, tuple[str, dt.date | None]]:
    """Latest warehouse edition per index and the day it was seen (mart.release_last_edition)."""
    rows = conn.execute("SELECT index_code, last_edition, last_seen_on FROM mart.release_last_edition").fetchall()
    return {code: (edition, seen_on) for code, edition, seen_on in rows}


def calendar_statuses(conn: psycopg.Connection, catalog: Catalog, today: dt.date) -> list[CalendarStatus]:
    latest = last_editions(conn)
    return [release_status(entry, today, *latest.get(entry.code, (None, None))) for entry in catalog]


def status_metadata(status: CalendarStatus) -> dict:
    window = status.window
    return {
        "status": status.status,
        "last_edition": status.last_edition or "none",
        "last_seen_on": str(status.last_seen_on or ""),
        "window_start": str(window.start) if window else "",
        "window_end": str(window.end) if window else "",
        "grace_end": str(window.grace_end) if window else "",
        "overdue_since": str(status.overdue_since or ""),
    }


def describe(status: CalendarStatus) -> str:
    window = status.window
    if status.status == "overdue":
        return (f"{status.index_code}: the edition expected {window.start:%Y-%m}–{window.end:%Y-%m} is overdue "
                f"since {status.overdue_since} (latest seen: {status.last_edition or 'none'})")
    if status.status == "due":
        return f"{status.index_code}: an edition is due now (window {window.start} to {window.end}, grace to {window.grace_end})"
    if status.status == "on_time":
        return f"{status.index_code}: on time; next window opens {window.start}" if window else f"{status.index_code}: on time"
    return f"{status.index_code}: {status.status}"


class ReleaseCalendarConfig(dg.Config):
    as_of: str | None = None  # YYYY-MM-DD; defaults to today (UTC). For back-filled or test evaluations.


def build_release_calendar_checks(catalog: Catalog) -> dg.AssetChecksDefinition:
    """One `release_calendar` check per index, evaluated together in one step: the calendar
    sync and the warehouse read are shared, and every index is judged as of the same day."""
    specs = [dg.AssetCheckSpec(CHECK_NAME, asset=asset_key(entry.code, "warehouse_scores"), blocking=False,
                               description=check_description(entry))
             for entry in catalog]

    @dg.multi_asset_check(specs=specs, name="release_calendar_checks",
                          description="Judge every index's latest edition against its release calendar.")
    def release_calendar_checks(context: dg.AssetCheckExecutionContext, config: ReleaseCalendarConfig,
                                cityrank: CityrankResource):
        today = dt.date.fromisoformat(config.as_of) if config.as_of else dt.datetime.now(dt.timezone.utc).date()
        current = cityrank.catalog()
        with cityrank.connect() as conn:
            sync_release_calendar(conn, current)
            statuses = calendar_statuses(conn, current, today)
        for status in statuses:
            yield dg.AssetCheckResult(
                check_name=CHECK_NAME, asset_key=asset_key(status.index_code, "warehouse_scores"),
                passed=status.status != "overdue", severity=dg.AssetCheckSeverity.ERROR,
                description=describe(status), metadata={**status_metadata(status), "as_of": str(today)})

    return release_calendar_checks


def check_description(entry: IndexEntry) -> str:
    months = ", ".join(str(m) for m in entry.calendar.release_months) or "none"
    return (f"{entry.code}'s latest edition is not overdue: release months {months}, "
            f"{entry.calendar.grace_months} month(s) of grace ({entry.status}).")


def as_of_run_config(as_of: str) -> dict:
    """Run config evaluating the checks as of another day (YYYY-MM-DD), e.g. to see what the
    calendar said on a past date."""
    return {"ops": {"release_calendar_checks": {"config": {"as_of": as_of}}}}


def build_release_calendar_job(checks: dg.AssetChecksDefinition):
    return dg.define_asset_job(RELEASE_CALENDAR_JOB, selection=dg.AssetSelection.checks(checks),
                               description="Evaluate every index's release calendar against the warehouse.")
