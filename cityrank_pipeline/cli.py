"""`cityrank` — the command line. Every command has help text and is listed in the README."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .settings import load_settings


def _print_err(message: str) -> None:
    from .database import without_secrets

    print(f"cityrank: {without_secrets(message)}", file=sys.stderr)


def off_the_main_thread(function, *args, **kwargs):
    """Call `function` in a thread of its own and wait for it, for commands that execute
    Dagster runs in this process (`run`, `ingest`).

    Why: Dagster, executing a run on the main thread, takes SIGTERM over (it maps it to its own
    interrupt handling, an exception inside the run at its next checkpoint), and `cityrank run`
    then went on with the next editions, the other worker and the refresh, and exited 1 twelve
    seconds later. Off the main thread Dagster leaves the signals alone, and SIGTERM ends the
    process at once: the main thread's handler releases the worker processes and their queues
    (process_guard.release_worker_processes), then ends the process by SIGTERM's default action,
    so a shell reports 143 and a service manager a clean stop. The server rolls back the open
    transaction, and the next start marks the interrupted run failed, as after a SIGKILL.
    Ctrl-C (SIGINT) ends it the same way, with status 130.
    """
    import signal
    import threading

    from .process_guard import release_worker_processes

    def stop(signum, frame) -> None:
        release_worker_processes()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    outcome: dict = {}

    def call() -> None:
        try:
            outcome["value"] = function(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the main thread below
            outcome["error"] = exc

    worker = threading.Thread(target=call, name=f"cityrank-{function.__name__}", daemon=True)
    # Only from the main thread can a handler be set; one who started us ignoring SIGTERM meant it.
    handle = threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) != signal.SIG_IGN
    previous = signal.signal(signal.SIGTERM, stop) if handle else None
    try:
        worker.start()
        while worker.is_alive():
            worker.join(0.5)
    except KeyboardInterrupt:
        # Ctrl-C ends the command at once too, with what a shell reports for SIGINT; waiting
        # for the run thread and the worker processes to finish their shares took seconds.
        print("cityrank: interrupted; the open transaction is rolled back, and the next start marks the run "
              "failed", file=sys.stderr, flush=True)
        release_worker_processes()
        os._exit(130)
    finally:
        if handle:
            signal.signal(signal.SIGTERM, previous)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def cmd_run(args: argparse.Namespace) -> int:
    from .database import connect
    from .focus import city_name
    from .runner import prepare, print_progress, run_pipeline
    from .scorecard import fetch_scorecard, format_scorecard

    settings = load_settings()
    started = time.monotonic()

    print(f"cityrank: home {settings.home}", file=sys.stderr)
    summary = off_the_main_thread(run_pipeline, settings, force=args.force,
                                  progress=None if args.quiet else print_progress, quiet=args.quiet)
    elapsed = time.monotonic() - started
    print(f"cityrank: {len(summary.changed)} edition(s) loaded, {len(summary.unchanged)} re-checked unchanged, "
          f"{len(summary.up_to_date)} up to date, {len(summary.failed)} failed ({elapsed:.1f} s)", file=sys.stderr)
    target, catalog = prepare(settings)
    city = city_name(catalog, settings.focus_city, setting="CITYRANK_FOCUS_CITY")
    with connect(target.warehouse_url) as conn:
        lines = fetch_scorecard(conn, catalog, city)
    print(format_scorecard(lines, catalog, city))
    for name, message in summary.failed.items():
        _print_err(f"{name}: {message}")
    return 1 if summary.failed else 0


def cmd_scorecard(args: argparse.Namespace) -> int:
    from .database import connect
    from .focus import city_name
    from .preparation import prepare
    from .scorecard import fetch_scorecard, format_scorecard

    settings = load_settings()
    target, catalog = prepare(settings)
    city = city_name(catalog, args.city, setting="--city") if args.city else \
        city_name(catalog, settings.focus_city, setting="CITYRANK_FOCUS_CITY")
    with connect(target.warehouse_url) as conn:
        if _warehouse_is_empty(conn):
            return 1
        print(format_scorecard(fetch_scorecard(conn, catalog, city), catalog, city))
    return 0


EMPTY_WAREHOUSE_HINT = "the warehouse is empty: run `cityrank run` first (it fetches and loads every index)"


def _warehouse_is_empty(conn) -> bool:
    """True (and the hint printed) when no edition is loaded yet."""
    if conn.execute("SELECT EXISTS (SELECT 1 FROM warehouse.dim_edition)").fetchone()[0]:
        return False
    _print_err(EMPTY_WAREHOUSE_HINT)
    return True


def cmd_path(args: argparse.Namespace) -> int:
    from .database import connect
    from .focus import resolve_city
    from .path_plan import fetch_plans, format_plan
    from .preparation import prepare

    settings = load_settings()
    target, catalog = prepare(settings)
    city = resolve_city(catalog, args.city, setting="--city") if args.city else resolve_city(catalog, settings.focus_city)
    index_code = catalog[args.index].code if args.index else None
    with connect(target.warehouse_url) as conn:
        if _warehouse_is_empty(conn):
            return 1
        plans = fetch_plans(conn, target_rank=args.target, city_key=city, index_code=index_code,
                            department=args.department)
    if not plans:
        scope = f"{index_code} " if index_code else ""
        _print_err(f"no {scope}indicator scores for {catalog.city_by_key[city].name} in the warehouse: a path needs an "
                   "index scored indicator by indicator (GPCI's data file: cityrank ingest gpci2023_en.json --index gpci)")
        return 1
    print("\n\n".join(format_plan(plan, department=args.department) for plan in plans))
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    from .serve import dev_ui

    return dev_ui(load_settings(), port=args.port)


def cmd_serve(args: argparse.Namespace) -> int:
    from .serve import serve

    return serve(load_settings(), host=args.host, port=args.port, grpc_port=args.grpc_port)


def cmd_automation(args: argparse.Namespace) -> int:
    from .automation import AutomationError, format_states, list_automations, set_running

    settings = load_settings()
    kind = args.kind
    if args.action == "list":
        print(format_states(list_automations(settings, kind)))
        return 0
    try:
        changed = set_running(settings, kind, args.names, everything=args.all, running=args.action == "start")
    except AutomationError as exc:
        _print_err(str(exc))
        return 2
    verb = "started" if args.action == "start" else "stopped"
    for name in changed:
        print(f"{verb} {kind} {name}")
    if not changed:
        print(f"cityrank: nothing to do: already {verb}", file=sys.stderr)
    return 0


def cmd_db_url(args: argparse.Namespace) -> int:
    from .database import resolve_database
    from .embedded_db import SUPERUSER

    settings = load_settings()
    target = resolve_database(settings)
    if args.tcp:
        if target.embedded is None:
            _print_err("--tcp applies to the embedded server; CITYRANK_DATABASE_URL is already a URL")
            return 2
        print(target.embedded.tcp_url("cityrank", args.user or SUPERUSER))
    else:
        print(target.warehouse_url)
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from .database import resolve_database
    from .migrations import upgrade

    settings = load_settings()
    target = resolve_database(settings)
    applied = upgrade(target.warehouse_url, settings.sql_dir)
    for m in applied:
        print(f"applied {m.version:04d}_{m.name}")
    print(f"cityrank: schema up to date ({len(applied)} migration(s) applied now; views re-applied)", file=sys.stderr)
    return 0


def cmd_db_stop(args: argparse.Namespace) -> int:
    from .embedded_db import stop_embedded_server

    settings = load_settings()
    if settings.database_url:
        _print_err("CITYRANK_DATABASE_URL is set: cityrank does not manage that server")
        return 2
    stopped = stop_embedded_server(settings.postgres_dir)
    print("stopped" if stopped else "not running")
    return 0


def cmd_catalog(args: argparse.Namespace) -> int:
    from .catalog import describe_verification, load_catalog

    settings = load_settings()
    catalog = load_catalog(settings.catalog_dir)
    print(f"{'code':<5} {'status':<12} {'release months':<15} {'owner department':<34} name")
    for entry in catalog:
        months = ",".join(str(m) for m in entry.calendar.release_months) or "—"
        print(f"{entry.code:<5} {entry.status:<12} {months:<15} {entry.owner_department:<34} {entry.name} ({entry.name_ko})")
    print("\nparsers and the real documents they have met:")
    for entry in catalog:
        for parser, files in entry.parser_coverage().items():
            print(f"{entry.code:<5} {parser:<22} {describe_verification(files, parser)}")
    print(f"\n{len(catalog.cities.cities)} reviewed cities in {settings.catalog_dir / 'cities.yaml'}")
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    from .catalog import load_catalog, source_for_file
    from .sources.base import PublicationError
    from .sources.registry import parse_publication
    from .sources.tidy_csv import rows_to_csv

    settings = load_settings()
    catalog = load_catalog(settings.catalog_dir)
    entry = catalog[args.index]
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        _print_err(f"{path}: {exc.strerror}")
        return 2
    try:
        source = source_for_file(catalog, entry.code, path.name, "drop_in")
        rows = parse_publication(entry, source.parser, data, path.name, edition=args.edition, options=source.parser_options)
    except PublicationError as exc:
        _print_err(str(exc))
        return 1
    sys.stdout.reconfigure(newline="")
    rows_to_csv(rows, sys.stdout)
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from .runner import ingest_and_run

    settings = load_settings()
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        _print_err(f"{path}: {exc.strerror}")
        return 2
    result, summary = off_the_main_thread(ingest_and_run, settings, args.index.upper(), data,
                                          original_name=path.name, source_url=args.source_url,
                                          published_on=args.published_on, edition=args.edition)
    if result.status == "quarantined":
        _print_err(f"{result.reason}\n  nothing loaded; the file is kept in {result.quarantined_to}")
        return 1
    from .notify import release_label

    key = f"{result.index_code} {result.edition}"
    name = release_label(result.index_code, result.edition)
    if summary.failed:
        for failed, message in summary.failed.items():
            _print_err(f"{failed}: {message}")
        _print_err(f"  {'nothing loaded' if key in summary.failed else 'the other editions were loaded'}; "
                   f"see {settings.quarantine_dir}")
        return 1
    if key in summary.changed:
        state = "loaded"
    elif result.status == "unchanged":
        state = "already ingested (same bytes): nothing to do"
    else:
        state = "ingested; the warehouse already held these figures"
    print(f"{name}: {state} (snapshot {result.snapshot_id[:12]})")
    for other in summary.changed:
        if other != key:
            code, label = other.split(" ", 1)
            print(f"{release_label(code, label)}: updated with the figures this file reprints")
    return 0


def _iso_date(value: str):
    """argparse type: a YYYY-MM-DD day, refused with a usage error otherwise."""
    import datetime as dt

    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _published_date(value: str) -> str:
    """argparse type for --published-on: a YYYY-MM-DD day not after today, refused with a
    usage error before anything is stored ("yesterday" and "October 2015" are not dates)."""
    day = _iso_date(value)
    if day > _today():
        raise argparse.ArgumentTypeError(f"{value!r} is in the future (today is {_today()})")
    return day.isoformat()


def _calendar_rows(query: str, params: tuple) -> list[tuple]:
    """Bring the database up, write the catalog's calendars, then read one calendar view."""
    from .database import connect
    from .orchestration.freshness import sync_release_calendar
    from .preparation import prepare

    target, catalog = prepare(load_settings())
    with connect(target.warehouse_url) as conn:
        sync_release_calendar(conn, catalog)
        return conn.execute(query, params).fetchall()


def _today():
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc).date()


def cmd_calendar(args: argparse.Namespace) -> int:
    as_of = args.date or _today()
    rows = _calendar_rows("""SELECT index_code, last_edition, last_seen_on, window_start, window_end, grace_end, status
                             FROM mart.release_calendar_at(%s)""", (as_of,))
    print(f"Release calendar as of {as_of} (mart.release_calendar)")
    print(f"{'code':<5} {'latest edition':<15} {'seen on':<11} {'expected window':<24} {'grace ends':<11} status")
    for code, edition, seen_on, start, end, grace_end, status in rows:
        window = f"{start} – {end}" if start else "—"
        print(f"{code:<5} {edition or '—':<15} {str(seen_on or '—'):<11} {window:<24} {str(grace_end or '—'):<11} {status}")
    return 0


def cmd_pre_evaluation(args: argparse.Namespace) -> int:
    as_of = args.date or _today()
    rows = _calendar_rows("""SELECT window_start, window_end, index_code, index_name, index_status, department, measure_name
                             FROM mart.pre_evaluation_at(%s, %s)""", (as_of, args.months))
    print(f"Release windows in the next {args.months} month(s) as of {as_of} with no edition yet (mart.pre_evaluation):")
    if not rows:
        print("  none")
    grouped: dict = {}
    for start, end, code, name, status, department, measure in rows:
        index = grouped.setdefault((start, end), {}).setdefault((code, name, status), {})
        index.setdefault(department, []).append(measure)
    for (start, end), indices in grouped.items():
        print(f"\n{start} – {end}")
        for (code, name, status), departments in indices.items():
            note = " (irregular: the window is historical, not announced)" if status == "irregular" else ""
            print(f"  {code} {name}{note}")
            for department, measures in departments.items():
                print(f"    {department}: {'; '.join(measures)}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from .status import format_status, read_status

    print(format_status(read_status(load_settings())))
    return 0


def cmd_brief(args: argparse.Namespace) -> int:
    from .brief import BriefError, prepare_mart, write_brief
    from .database import connect
    from .focus import FocusConfigError
    from .preparation import prepare

    settings = load_settings()
    target, catalog = prepare(settings)
    try:
        with connect(target.warehouse_url) as conn:
            prepare_mart(conn, settings, catalog)
            result = write_brief(conn, settings, catalog, args.index, lang=args.lang)
    except (BriefError, FocusConfigError) as exc:
        _print_err(str(exc))
        return 1
    print(result.path)
    print(f"cityrank: {result.headline_text} ({'written' if result.written else 'unchanged'})", file=sys.stderr)
    return 0


def cmd_db_bi_role(args: argparse.Namespace) -> int:
    from .bi_role import BI_ROLE, BiRoleError, ensure_bi_role
    from .database import connect
    from .preparation import prepare

    password = os.environ.get(args.password_from_env) or ""
    if not password:
        _print_err(f"environment variable {args.password_from_env} is not set or empty; it must hold the password")
        return 2
    settings = load_settings()
    target, _ = prepare(settings)  # migrations and views first, so the grants cover every mart view
    try:
        with connect(target.warehouse_url) as conn:
            created = ensure_bi_role(conn, password, BI_ROLE)
    except BiRoleError as exc:
        _print_err(str(exc))
        return 1
    print(f"cityrank: role {BI_ROLE} {'created' if created else 'updated'}: SELECT on schema mart only", file=sys.stderr)
    if target.embedded is not None:
        print(f"cityrank: BI tools connect to: cityrank db url --tcp --user {BI_ROLE}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cityrank", description=(
        "Watch the global city rankings: fetch, parse, validate and load index publications into a "
        "PostgreSQL warehouse through Dagster. State lives in CITYRANK_HOME (default: the .cityrank folder of the "
        "project you are in; `cityrank status` says which)."))
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="materialise every edition through Dagster and print the focus city's scorecard")
    p.add_argument("--force", action="store_true", help="re-run editions whose inputs have not changed")
    p.add_argument("--quiet", action="store_true", help="do not list editions as they run")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("scorecard", help="print a city's scorecard from the warehouse (default: the focus city)")
    p.add_argument("--city", help="city name or alias, any case (e.g. Tokyo, nyc); default: the focus city")
    p.set_defaults(func=cmd_scorecard)

    p = sub.add_parser("path", help="the cheapest indicator gains that lift a city above the city at a target rank (additive indices: GPCI)")
    p.add_argument("--index", help="index code (default: every additive index with indicator scores)")
    p.add_argument("--target", type=int, default=5, help="rank to reach (default 5)")
    p.add_argument("--department", help="show only this department's steps (the plan is computed over all)")
    p.add_argument("--city", help="city name or alias, any case (default: the focus city)")
    p.set_defaults(func=cmd_path)

    p = sub.add_parser("ui", help="start the Dagster UI for development (dagster dev) on 127.0.0.1 against CITYRANK_HOME")
    p.add_argument("--port", type=int, default=3000, help="port (default 3000)")
    p.set_defaults(func=cmd_ui)

    p = sub.add_parser("serve", help="run the Dagster webserver, daemon and code server in the foreground (production; "
                                     "stops on SIGTERM/SIGINT)")
    p.add_argument("--host", default="127.0.0.1", help="address the UI binds (default 127.0.0.1; 0.0.0.0 for all)")
    p.add_argument("--port", type=int, default=3000, help="UI port (default 3000)")
    p.add_argument("--grpc-port", type=int, help="code server port on 127.0.0.1 (default: a free one)")
    p.set_defaults(func=cmd_serve)

    for kind in ("schedule", "sensor"):
        group = sub.add_parser(f"{kind}s", help=f"list, start or stop Dagster {kind}s (needs only CITYRANK_HOME)")
        actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")
        p = actions.add_parser("list", help=f"every {kind} with its status")
        p.set_defaults(func=cmd_automation, kind=kind)
        for action in ("start", "stop"):
            p = actions.add_parser(action, help=f"{action} {kind}s by name, or all with --all")
            p.add_argument("names", nargs="*", metavar="NAME", help=f"{kind} name(s)")
            p.add_argument("--all", action="store_true", help=f"{action} every {kind}")
            p.set_defaults(func=cmd_automation, kind=kind)

    p = sub.add_parser("extract", help="print a publication file's figures as tidy CSV (edition,city,measure,score,rank)")
    p.add_argument("index", help="index code, e.g. gpci")
    p.add_argument("file", help="the publication file (PDF, HTML or CSV)")
    p.add_argument("--edition", help="edition label, for files that do not print it")
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("ingest", help="store a publication file with provenance, then parse, validate and load its edition")
    p.add_argument("file", help="the publication file (PDF, HTML or CSV)")
    p.add_argument("--index", required=True, help="index code, e.g. gpci")
    p.add_argument("--edition", help="edition label, for files that do not print it")
    p.add_argument("--published-on", type=_published_date,
                   help="release date YYYY-MM-DD (not in the future), when the catalog does not know it")
    p.add_argument("--source-url", help="where the file was downloaded from (provenance)")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("catalog", help="validate the catalog in assets/ and list the indices")
    p.set_defaults(func=cmd_catalog)

    p = sub.add_parser("calendar", help="each index's latest edition, expected release window and status (on time / due / overdue)")
    p.add_argument("--date", type=_iso_date, help="evaluate as of this day, YYYY-MM-DD (default: today, UTC)")
    p.set_defaults(func=cmd_calendar)

    p = sub.add_parser("pre-evaluation", help="upcoming release windows with each index's measures and owner departments")
    p.add_argument("--months", type=int, default=12, help="how far ahead to look, in months (default 12)")
    p.add_argument("--date", type=_iso_date, help="look ahead from this day, YYYY-MM-DD (default: today, UTC)")
    p.set_defaults(func=cmd_pre_evaluation)

    db = sub.add_parser("db", help="database commands").add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    p = db.add_parser("url", help="start the embedded server if needed and print the warehouse connection URL")
    p.add_argument("--tcp", action="store_true", help="print a 127.0.0.1 URL (for BI tools; needs a password role)")
    p.add_argument("--user", help="user name for --tcp (default postgres)")
    p.set_defaults(func=cmd_db_url)
    p = db.add_parser("upgrade", help="apply pending migrations (sql/migrations) and re-apply views (sql/views)")
    p.set_defaults(func=cmd_db_upgrade)
    p = db.add_parser("stop", help="stop the embedded PostgreSQL server")
    p.set_defaults(func=cmd_db_stop)
    p = db.add_parser("bi-role", help="create or update the read-only login role cityrank_bi (SELECT on schema mart only)")
    p.add_argument("--password-from-env", required=True, metavar="VAR",
                   help="name of the environment variable holding the password (never passed on the command line)")
    p.set_defaults(func=cmd_db_bi_role)

    p = sub.add_parser("status", help="which home is in use, whether its server runs, what is loaded and what is overdue")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("brief", help="write the HTML release brief of the newest edition to CITYRANK_HOME/briefs/")
    p.add_argument("--index", help="index code (default: the most recently published edition of any index)")
    p.add_argument("--lang", choices=("en", "ko"), default="en", help="language of the brief: en (default) or ko (Korean)")
    p.set_defaults(func=cmd_brief)
    _describe(parser)
    return parser


# Examples shown under each command's --help (tests/test_cli_help.py parses every one).
EXAMPLES: dict[str, list[str]] = {
    "run": ["cityrank run", "cityrank run --force --quiet"],
    "scorecard": ["cityrank scorecard", "cityrank scorecard --city Tokyo", "cityrank scorecard --city nyc"],
    "path": ["cityrank path", "cityrank path --index gpci --target 3",
             "cityrank path --department 'Urban Transportation Office'"],
    "ui": ["cityrank ui", "cityrank ui --port 3001"],
    "serve": ["cityrank serve", "cityrank serve --host 0.0.0.0 --port 3000"],
    "schedules list": ["cityrank schedules list"],
    "schedules start": ["cityrank schedules start --all", "cityrank schedules start gpci_poll_schedule"],
    "schedules stop": ["cityrank schedules stop --all"],
    "sensors list": ["cityrank sensors list"],
    "sensors start": ["cityrank sensors start --all"],
    "sensors stop": ["cityrank sensors stop gpci_new_editions"],
    "extract": ["cityrank extract gpci gpci2025_summary.pdf > gpci2025.csv",
                "cityrank extract gfci GFCI_38_Report.pdf --edition 'GFCI 38'"],
    "ingest": ["cityrank ingest gpci2023_en.json --index gpci",
               "cityrank ingest report.pdf --index cimi --published-on 2025-06-01 --source-url https://example.org/r.pdf"],
    "catalog": ["cityrank catalog"],
    "calendar": ["cityrank calendar", "cityrank calendar --date 2026-07-01"],
    "pre-evaluation": ["cityrank pre-evaluation", "cityrank pre-evaluation --months 6 --date 2026-01-01"],
    "db url": ["cityrank db url", "cityrank db url --tcp --user cityrank_bi"],
    "db upgrade": ["cityrank db upgrade"],
    "db stop": ["cityrank db stop"],
    "db bi-role": ["CITYRANK_BI_PASSWORD=... cityrank db bi-role --password-from-env CITYRANK_BI_PASSWORD"],
    "status": ["cityrank status"],
    "brief": ["cityrank brief", "cityrank brief --index gpci --lang ko"],
}


def _leaf_commands(parser: argparse.ArgumentParser, prefix: str = ""):
    """(command path, parser, one-line help) for every command that runs something."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, child in action.choices.items():
                path = f"{prefix} {name}".strip()
                nested = any(isinstance(a, argparse._SubParsersAction) for a in child._actions)
                if nested:
                    child.description = child.description or helps.get(name)
                    yield from _leaf_commands(child, path)
                else:
                    yield path, child, helps.get(name)


def _describe(parser: argparse.ArgumentParser) -> None:
    """Give every command a description (its help, as a sentence) and its examples as an epilog."""
    for path, child, help_text in _leaf_commands(parser):
        if not child.description and help_text:
            child.description = help_text[0].upper() + help_text[1:] + "."
        examples = EXAMPLES.get(path, [])
        if examples:
            child.epilog = "examples:\n" + "\n".join(f"  {e}" for e in examples)
            child.formatter_class = argparse.RawDescriptionHelpFormatter


# Errors that mean "the input or setup is wrong", reported in one line with exit 2. Looked up
# only in modules already imported: an exception cannot come from a module that never loaded,
# and importing them here would make `cityrank --help` pay for Dagster and pandas.
FRIENDLY_ERRORS = {
    "cityrank_pipeline.catalog": "CatalogError",
    "cityrank_pipeline.embedded_db": "EmbeddedServerError",
    "cityrank_pipeline.migrations": "MigrationError",
    "cityrank_pipeline.focus": "FocusConfigError",
    "cityrank_pipeline.runner": "PipelineError",
}


def _friendly(exc: BaseException) -> bool:
    for module_name, class_name in FRIENDLY_ERRORS.items():
        module = sys.modules.get(module_name)
        if module is not None and isinstance(exc, getattr(module, class_name)):
            return True
    return False


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except Exception as exc:
        if _friendly(exc):
            _print_err(str(exc))
            return 2
        if "cityrank_pipeline.database" not in sys.modules:
            raise
        from .database import database_failure

        message = database_failure(exc)
        if message is None:
            raise
        _print_err(message)
        return 2


# Exit status when the reader of our output went away: what a shell reports for a program
# killed by SIGPIPE (128 + 13), which is how `ls | head` ends for `ls`.
PIPE_CLOSED = 141


def entry() -> None:
    """The `cityrank` program: main(), then an exit that skips the interpreter's module teardown.

    Why: a command that imported Dagster, pandas and SQLAlchemy spends about 0.35 s at shutdown
    tearing down thousands of modules (here: `python -c "import dagster, pandas"` takes 1.54 s,
    and 1.19 s when it ends in os._exit), which was 15% of a warm `cityrank run`. What exit is
    for still happens: atexit handlers run (temporary folders, multiprocessing, logging) and
    the standard streams are flushed. A command that raises exits the ordinary way, traceback
    and all, except for a closed output pipe (a reader such as `head` that has had enough),
    which ends quietly.
    """
    import atexit

    try:
        code = main()
    except SystemExit as exc:
        code = exc.code
    except BrokenPipeError:  # output piped into `head`, which has what it wanted
        code = PIPE_CLOSED
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # a reader that went away (`| head`), a closed stream
            code = code or PIPE_CLOSED
    os._exit(code)


if __name__ == "__main__":
    entry()
