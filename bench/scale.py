"""Scale: a synthetic warehouse of cities × 500 measures × 20 editions, in a scratch database.

1 million facts (100 cities) and, unless --quick, 10 million (1,000 cities), each in its own
database with every migration and view applied, dropped at the end. Measured at each size:

- load: the 20 editions written through cityrank's `load_edition` at 1M; at 10M through raw
  psycopg COPY into the same table, in the load protocol the loader follows (its work_mem),
  with every index, trigger and check the loader meets (the load part gives the loader's
  ratio to COPY). Generating the rows is outside the clock; ANALYZE is timed apart;
- `mart.city_scorecard` for the focus city (`WHERE city = …`) and `mart.top5_gap` (a
  materialised view of the focus city's gap: read it, and compute it by refreshing it
  alone), medians of 7 after one warm-up;
- the full refresh the mart asset does after a load (`refresh_materialized_views`).
"""

from __future__ import annotations

import time

from psycopg import sql

from cityrank_pipeline.database import connect
from cityrank_pipeline.loading import load_edition, sync_dimensions
from cityrank_pipeline.migrations import upgrade
from cityrank_pipeline.settings import PROJECT_ROOT

from . import synthetic
from .core import Goal, PartContext, median, peak_memory_mb, reset_peak_memory, scratch_database, server_version, \
    spread, timed_runs

MEASURES = 500
EDITIONS = 20
LOAD_10M = Goal(60.0, at_most=True, text="10M facts loaded ≤ 60 s")
QUERY = Goal(50.0, at_most=True, text="≤ 50 ms for one city")
REFRESH = Goal(30.0, at_most=True, text="full view refresh ≤ 30 s")
QUERY_RUNS = 7


def run(ctx: PartContext) -> None:
    sizes = [(100, "loader")] + ([] if ctx.quick else [(1000, "COPY")])
    if ctx.quick:
        ctx.note("quick", "--quick: the 10-million-fact warehouse was not built", show=True)
    for cities, method in sizes:
        _measure_size(ctx, cities, method)


def _measure_size(ctx: PartContext, city_count: int, method: str) -> None:
    facts = city_count * MEASURES * EDITIONS
    size = f"{facts / 1e6:g}M"
    goals = facts >= 10_000_000
    cities = synthetic.synthetic_cities(city_count)
    entry = synthetic.synthetic_entry(MEASURES)
    catalog = synthetic.synthetic_catalog(cities)
    codes = [m.code for m in entry.measures]
    snapshot = synthetic.synthetic_snapshot(f"scale-{size}")
    with scratch_database(f"scale{city_count}") as url:
        upgrade(url, PROJECT_ROOT / "sql")
        with connect(url, autocommit=True) as conn:
            ctx.note("postgres", server_version(conn))
            load_seconds, peak = 0.0, 0.0
            if method == "COPY":
                _prepare_dimensions(conn, catalog, entry, snapshot)
            for e in range(EDITIONS):
                year = synthetic.FIRST_EDITION_YEAR + e
                rows = synthetic.edition_frame(cities, codes, seed=year)
                meta = synthetic.edition_meta(entry, str(year), year, city_count)
                reset_peak_memory()
                start = time.perf_counter()
                if method == "loader":
                    load_edition(conn, catalog, entry, rows, snapshot, meta)
                else:
                    synthetic.copy_facts(conn, synthetic.fact_frame(rows, entry.code, str(year), snapshot.snapshot_id))
                load_seconds += time.perf_counter() - start
                peak = max(peak, peak_memory_mb() or 0)
            stored = conn.execute("SELECT count(*) FROM warehouse.fact_city_score").fetchone()[0]
            reason = ""
            if goals and load_seconds > LOAD_10M.limit:
                reason = (f"{stored / load_seconds:,.0f} rows/s even through raw COPY: every row updates three "
                          "B-tree indexes (the four-text-column primary key, city, the partial index of overall rows) "
                          "and the snapshot BRIN, and the table's reference check reads each edition's rows once")
            ctx.emit(f"{size}: load ({method})", load_seconds, "s", peak_mb=peak, goal=LOAD_10M if goals else None,
                     reason=reason, detail=f"{stored:,} facts, {stored / load_seconds:,.0f} rows/s, "
                                           f"{EDITIONS} editions of {city_count}×{MEASURES}")
            analyze, _, _ = timed_runs(lambda: conn.execute("ANALYZE"), 1)
            ctx.emit(f"{size}: ANALYZE after the load", analyze[0], "s")
            focus = cities[city_count // 2]
            conn.execute("INSERT INTO meta.focus_city (city_key) VALUES (%s)", (focus.key,))
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO meta.peer_city (city_key, position) VALUES (%s, %s)",
                                [(c.key, i + 1) for i, c in enumerate(cities[:8])])
            _measure_views(ctx, conn, size, focus.name)
            size_row = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
            ctx.note(f"{size} database size", f"{size_row} on disk before it was dropped")


def _measure_views(ctx: PartContext, conn, size: str, city: str) -> None:
    """The query and refresh goals are held at both sizes: a miss at 1M is a miss at 10M."""
    from cityrank_pipeline.orchestration.views import refresh_materialized_views

    def refresh_all():
        with conn.transaction():
            return refresh_materialized_views(conn)

    seconds, peak, names = timed_runs(refresh_all, 1 if size == "10M" else 3)
    ctx.emit(f"{size}: full view refresh", median(seconds), "s", peak_mb=peak, goal=REFRESH,
             detail=f"{', '.join(names)}; {spread(seconds)}",
             reason=_slowest_matview(conn) if median(seconds) > REFRESH.limit else "")
    queries = [
        ("mart.city_scorecard for one city", "SELECT * FROM mart.city_scorecard WHERE city = %s", (city,)),
        ("mart.top5_gap read (focus city)", "SELECT * FROM mart.top5_gap", ()),
        ("mart.top5_gap computed (refresh of it alone)", "REFRESH MATERIALIZED VIEW mart.top5_gap", ()),
    ]
    for name, query, params in queries:
        conn.execute(query, params)  # warm-up: caches and plans
        seconds, _, _ = timed_runs(lambda: conn.execute(query, params), QUERY_RUNS)
        ms = median(seconds) * 1000
        reason = _plan_reason(conn, query, params) if ms > QUERY.limit and query.startswith("SELECT") else ""
        ctx.emit(f"{size}: {name}", ms, "ms", goal=QUERY, detail=spread(seconds, 1000, "ms"),
                 reason=reason)


def _plan_reason(conn, query: str, params: tuple) -> str:
    """The plan's largest scan of the fact table, from EXPLAIN ANALYZE."""
    plan = conn.execute("EXPLAIN (ANALYZE, FORMAT TEXT) " + query, params).fetchall()
    scans = [line[0].strip() for line in plan if "fact_city_score" in line[0]]
    return "EXPLAIN ANALYZE: " + "; ".join(scans[:3])


def _slowest_matview(conn) -> str:
    timings = []
    for (name,) in conn.execute("SELECT matviewname FROM pg_matviews WHERE schemaname = 'mart'").fetchall():
        start = time.perf_counter()
        conn.execute(sql.SQL("REFRESH MATERIALIZED VIEW mart.{}").format(sql.Identifier(name)))
        timings.append((time.perf_counter() - start, name))
    return "refreshed one by one (not concurrently): " + ", ".join(f"{n} {s:.1f} s" for s, n in sorted(timings,
                                                                                                       reverse=True))


def _prepare_dimensions(conn, catalog, entry, snapshot) -> None:
    with conn.transaction():
        sync_dimensions(conn, catalog, entry)
        conn.execute("""INSERT INTO meta.snapshot (snapshot_id, original_name, media_type, bytes, fetched_at, licence_note)
                        VALUES (%s, %s, %s, %s, %s, %s)""",
                     (snapshot.snapshot_id, snapshot.original_name, snapshot.media_type, snapshot.bytes,
                      snapshot.fetched_at, snapshot.licence_note))
        for e in range(EDITIONS):
            year = synthetic.FIRST_EDITION_YEAR + e
            conn.execute("INSERT INTO warehouse.dim_edition (index_code, edition, edition_seq, city_count) "
                         "VALUES (%s, %s, %s, %s)", (entry.code, str(year), year, len(catalog.cities.cities)))
