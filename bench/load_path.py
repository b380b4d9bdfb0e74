"""Load path: cityrank's `load_edition` against raw psycopg COPY and pandas `to_sql`.

Same rows, same table (`warehouse.fact_city_score`, with its keys, indexes and the
statement-level reference checks of migration 0006), same run, in turns, each write in its own transaction with the commit inside the
clock. Every write goes to an edition of its own, so each one really writes (the loader
never takes its "identical rows, nothing to do" shortcut here).

- loader: `load_edition` from the parsed frame, as the pipeline calls it (dimension upsert,
  snapshot, edition, reading the edition back to compare, DELETE, COPY);
- COPY: the fact-shaped frame's rows through `cursor.copy(...).write_row`, the floor for
  any Python writer;
- to_sql: `DataFrame.to_sql(..., if_exists="append")` through SQLAlchemy, pandas' default.

Two sizes: GPCI at indicator level (48 cities × 77 measures, the real catalog entry) and
100,000 rows of the synthetic index.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from cityrank_pipeline.catalog import Catalog, IndexEntry, load_catalog
from cityrank_pipeline.database import connect, create_warehouse_engine
from cityrank_pipeline.loading import load_edition
from cityrank_pipeline.migrations import upgrade
from cityrank_pipeline.settings import PROJECT_ROOT
from cityrank_pipeline.snapshots import Snapshot

from . import synthetic
from .core import Goal, PartContext, median, peak_memory_mb, profile_top, reset_peak_memory, scratch_database, \
    server_version

LOADER_VS_COPY = Goal(0.7, at_most=False, text="loader ≥ 0.7× raw COPY")
LOADER_VS_TO_SQL = Goal(6.0, at_most=False, text="loader ≥ 6× to_sql")
METHODS = ("loader", "COPY", "to_sql")


@dataclass(frozen=True)
class Case:
    label: str
    catalog: Catalog
    entry: IndexEntry
    rows: pd.DataFrame
    rounds: int


def _gpci_case(rounds: int) -> Case:
    catalog = load_catalog(PROJECT_ROOT / "assets")
    entry = catalog["GPCI"]
    codes = [m.code for m in entry.measures if m.level in ("overall", "sub_index", "indicator")]
    cities = catalog.cities.cities[:48]
    return Case(f"GPCI-shaped {len(cities)}×{len(codes)}", catalog, entry,
                synthetic.edition_frame(cities, codes, seed=48), rounds)


def _synthetic_case(rounds: int) -> Case:
    cities = synthetic.synthetic_cities(200)
    entry = synthetic.synthetic_entry(500)
    rows = synthetic.edition_frame(cities, [m.code for m in entry.measures], seed=100_000)
    return Case(f"synthetic {len(rows):,}", synthetic.synthetic_catalog(cities), entry, rows, rounds)


def run(ctx: PartContext) -> None:
    with scratch_database("load") as url:
        upgrade(url, PROJECT_ROOT / "sql")
        engine = create_warehouse_engine(url)
        with connect(url, autocommit=True) as conn:
            ctx.note("postgres", server_version(conn))
            for case in (_gpci_case(rounds=7), _synthetic_case(rounds=3)):
                _measure_case(ctx, conn, engine, case)
        engine.dispose()


def _measure_case(ctx: PartContext, conn, engine, case: Case) -> None:
    snapshot = synthetic.synthetic_snapshot(case.label)
    count = len(case.rows)
    seq = iter(range(5000, 100_000))
    cities = int(case.rows["city_key"].nunique())

    def new_edition(method: str, round_no: int) -> str:
        return f"bench {method} {round_no}"

    # Untimed: dimensions and the snapshot exist (the loader's first call on a fresh
    # database inserts them; later calls find them unchanged), and the baselines' editions.
    load_edition(conn, case.catalog, case.entry, case.rows, snapshot,
                 synthetic.edition_meta(case.entry, "bench warm-up", next(seq), cities))
    editions = {}
    for r in range(case.rounds):
        for method in ("COPY", "to_sql"):
            label = new_edition(method, r)
            editions[(method, r)] = label
            conn.execute("INSERT INTO warehouse.dim_edition (index_code, edition, edition_seq) VALUES (%s, %s, %s)",
                         (case.entry.code, label, next(seq)))
    frames = {key: synthetic.fact_frame(case.rows, case.entry.code, label, snapshot.snapshot_id)
              for key, label in editions.items()}

    def write(method: str, r: int) -> None:
        if method == "loader":
            load_edition(conn, case.catalog, case.entry, case.rows, snapshot,
                         synthetic.edition_meta(case.entry, new_edition("loader", r), next(seq), cities))
        elif method == "COPY":
            synthetic.copy_facts(conn, frames[(method, r)])
        else:
            # `page` is all NULL here; without a type pandas would send it as text.
            frames[(method, r)].to_sql("fact_city_score", engine, schema="warehouse", if_exists="append", index=False,
                                       dtype={"page": sa.Integer()})

    seconds: dict[str, list[float]] = {m: [] for m in METHODS}
    peaks: dict[str, float] = {m: 0.0 for m in METHODS}
    for r in range(case.rounds):
        # Turns rotate, so no method always runs first (or last) in a round.
        for method in METHODS[r % 3:] + METHODS[:r % 3]:
            reset_peak_memory()
            start = time.perf_counter()
            write(method, r)
            seconds[method].append(time.perf_counter() - start)
            peaks[method] = max(peaks[method], peak_memory_mb() or 0)
    written = conn.execute("SELECT count(*) FROM warehouse.fact_city_score WHERE index_code = %s AND edition LIKE 'bench %%'",
                           (case.entry.code,)).fetchone()[0]
    expected = count * (1 + len(METHODS) * case.rounds)
    if written != expected:
        raise RuntimeError(f"{case.label}: {written} rows in the table, expected {expected}")

    rate = {m: count / median(seconds[m]) for m in METHODS}
    for m in METHODS:
        ctx.emit(f"{case.label}: {m}", rate[m], "rows/s", peak_mb=peaks[m],
                 detail=f"{count:,} rows in {median(seconds[m]):.3f} s, median of {case.rounds}")
    reason = ""
    if rate["loader"] / rate["COPY"] < LOADER_VS_COPY.limit or rate["loader"] / rate["to_sql"] < LOADER_VS_TO_SQL.limit:
        reason = _loader_profile(conn, case, snapshot, next(seq))
    ctx.emit(f"{case.label}: loader / COPY", rate["loader"] / rate["COPY"], "×", goal=LOADER_VS_COPY, reason=reason)
    ctx.emit(f"{case.label}: loader / to_sql", rate["loader"] / rate["to_sql"], "×", goal=LOADER_VS_TO_SQL,
             reason=reason)


def _loader_profile(conn, case: Case, snapshot: Snapshot, seq: int) -> str:
    """Where one more loader call spends its time: the top functions by own time."""
    meta = synthetic.edition_meta(case.entry, "bench profiled", seq, int(case.rows["city_key"].nunique()))
    _, top = profile_top(lambda: load_edition(conn, case.catalog, case.entry, case.rows, snapshot, meta), top=4)
    return "one loader call under cProfile, top own time: " + "; ".join(
        f"{where} {own:.3f} s" for where, own, _ in top)

