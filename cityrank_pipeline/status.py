"""`cityrank status`: where the state is, whether its server runs, what is loaded, what is overdue.

Answers the first questions of someone coming back to a machine: which home is this (and why
that one), is a PostgreSQL server of ours still running, what has been loaded, and which index
has missed its release window. It never starts a server: a stopped one is reported as stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .settings import Settings


@dataclass(frozen=True)
class Status:
    home: str
    found_by: str
    home_exists: bool
    server: str
    running: bool
    loaded: dict[str, list[str]] = field(default_factory=dict)
    overdue: list[tuple[str, str | None, str]] = field(default_factory=list)


def read_status(settings: Settings) -> Status:
    from .database import connect, redact_url
    from .embedded_db import embedded_server_running

    home_exists = settings.home.is_dir()
    if settings.database_url:
        server, running = f"external (CITYRANK_DATABASE_URL = {redact_url(settings.database_url)})", True
    else:
        running = embedded_server_running(settings.postgres_dir)
        server = (f"embedded PostgreSQL in {settings.postgres_dir}: "
                  + ("running (stop it with `cityrank db stop`)" if running else
                     "not running (`cityrank run` or `cityrank db url` starts it)"))
    if not running:
        return Status(str(settings.home), settings.home_found_by, home_exists, server, running)

    from .orchestration.freshness import sync_release_calendar
    from .preparation import prepare

    target, catalog = prepare(settings)
    with connect(target.warehouse_url) as conn:
        loaded: dict[str, list[str]] = {}
        for code, edition in conn.execute(
                "SELECT index_code, edition FROM warehouse.dim_edition ORDER BY index_code, edition_seq").fetchall():
            loaded.setdefault(code, []).append(edition)
        sync_release_calendar(conn, catalog)
        overdue = [(code, edition, f"{start} – {end}, grace ended {grace_end}")
                   for code, edition, start, end, grace_end in conn.execute(
                       """SELECT index_code, last_edition, window_start, window_end, grace_end
                          FROM mart.release_calendar WHERE status = 'overdue' ORDER BY index_code""").fetchall()]
    return Status(str(settings.home), settings.home_found_by, home_exists, server, running, loaded, overdue)


def format_status(status: Status) -> str:
    lines = [f"home:    {status.home}" + ("" if status.home_exists else " (not created yet: `cityrank run` creates it)"),
             f"         found by {status.found_by}",
             f"server:  {status.server}"]
    if not status.running:
        lines.append("loaded:  unknown while the server is stopped")
        return "\n".join(lines)
    if not status.loaded:
        lines.append("loaded:  nothing yet: run `cityrank run` first")
    else:
        lines.append(f"loaded:  {sum(len(v) for v in status.loaded.values())} edition(s) of {len(status.loaded)} index(es)")
        lines += [f"         {code:<5} {len(editions):>2}: {editions[0]} … {editions[-1]}" if len(editions) > 1
                  else f"         {code:<5} {len(editions):>2}: {editions[0]}" for code, editions in status.loaded.items()]
    if status.overdue:
        lines.append(f"overdue: {len(status.overdue)} index(es) missed their release window (mart.release_calendar)")
        lines += [f"         {code:<5} latest {edition or 'none'}; expected {window}" for code, edition, window in status.overdue]
    else:
        lines.append("overdue: none")
    return "\n".join(lines)
