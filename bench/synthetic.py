"""Synthetic editions for the load and scale parts, built in code with a fixed seed.

The synthetic index `SYNTH` has one overall measure, ten sub-indices and as many indicators
as asked for, in cityrank's own catalog types, so the real loader (`load_edition`) and the
real views see the same shapes as a published index. Its code is not one of the nine indices
the catalog knows, so the entry is constructed without the catalog's code check; its
measure tree is still checked by the catalog's own validator.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import pandas as pd
from psycopg import sql

from cityrank_pipeline.catalog import Calendar, Catalog, City, CityFile, IndexEntry, Measure, Scale
from cityrank_pipeline.loading import FACT_COLUMNS, EditionMeta, use_load_work_mem
from cityrank_pipeline.settings import PROJECT_ROOT
from cityrank_pipeline.snapshots import Snapshot

SYNTH_CODE = "SYNTH"
SUB_INDICES = 10
FIRST_EDITION_YEAR = 2006


def synthetic_cities(count: int) -> list[City]:
    return [City(key=f"synth_{i:04d}", name=f"Synth City {i:04d}", country="Synthland") for i in range(count)]


def synthetic_entry(measure_count: int) -> IndexEntry:
    """`SYNTH` with `measure_count` measures: total, ten sub-indices, the rest indicators."""
    subs = [f"s{j:02d}" for j in range(SUB_INDICES)]
    measures = [Measure(code="total", name="Total", level="overall")]
    measures += [Measure(code=s, name=f"Sub-index {s}", level="sub_index", parent="total") for s in subs]
    measures += [Measure(code=f"i{k:03d}", name=f"Indicator {k:03d}", level="indicator", parent=subs[k % SUB_INDICES],
                         number=k + 1)
                 for k in range(measure_count - len(measures))]
    entry = IndexEntry.model_construct(
        code=SYNTH_CODE, name="Synthetic benchmark index", name_ko="합성 지수", publisher="cityrank bench",
        owner_department="Benchmark Office", status="active", cadence="annual",
        calendar=Calendar(release_months=[10]), scale=Scale(min=0, max=1000), rank_only=False,
        sub_indices_sum_to_total=False, additive_indicators=False, measures=measures, editions={}, sources=[],
        city_aliases={}, edition_label_pattern=r"^\d{4}$", description=None)
    entry._measure_tree()
    return entry


def synthetic_catalog(cities: list[City]) -> Catalog:
    return Catalog({}, CityFile(cities=cities), PROJECT_ROOT / "assets")


def synthetic_snapshot(label: str) -> Snapshot:
    return Snapshot(snapshot_id=hashlib.sha256(f"cityrank-bench/{label}".encode()).hexdigest(),
                    original_name=f"{label}.synthetic", media_type="text/csv", bytes=0,
                    fetched_at="2025-01-01T00:00:00+00:00", licence_note="synthetic benchmark data")


def edition_meta(entry: IndexEntry, label: str, seq: int, city_count: int) -> EditionMeta:
    return EditionMeta(label, seq, dt.date(seq if seq > 1900 else 2000, 10, 1), "day", city_count)


def edition_frame(cities: list[City], measure_codes: list[str], seed: int) -> pd.DataFrame:
    """One edition in the parsed shape `load_edition` takes: every city × every measure, a
    score (two decimals) and the rank among cities on that measure."""
    rng = np.random.default_rng(seed)
    scores = np.round(rng.uniform(0, 100, size=(len(cities), len(measure_codes))), 2)
    ranks = (-scores).argsort(axis=0, kind="stable").argsort(axis=0, kind="stable") + 1
    return pd.DataFrame({
        "city_key": np.repeat([c.key for c in cities], len(measure_codes)),
        "city": np.repeat([c.name for c in cities], len(measure_codes)),
        "measure": np.tile(measure_codes, len(cities)),
        "score": scores.ravel(),
        "rank": ranks.ravel().astype("int64"),
    })


def fact_frame(rows: pd.DataFrame, index_code: str, edition: str, snapshot_id: str) -> pd.DataFrame:
    """The same rows in the fact table's own columns, for the COPY and to_sql baselines."""
    return pd.DataFrame({
        "index_code": index_code, "edition": edition, "city_key": rows["city_key"],
        "measure_code": rows["measure"], "score": rows["score"], "rank": rows["rank"], "rank_tied": False,
        "printed_name": rows["city"], "confidence": "reported", "note": None, "source_url": None, "page": None,
        "snapshot_id": snapshot_id, "score_computed": False, "rank_computed": False,
    }, columns=list(FACT_COLUMNS))


def copy_facts(conn, frame: pd.DataFrame) -> None:
    """Raw psycopg COPY of a fact-shaped frame in one transaction: the floor for a Python writer."""
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in FACT_COLUMNS)
    with conn.transaction(), conn.cursor() as cur:
        use_load_work_mem(cur.connection)  # the table's load protocol, as load_edition follows it
        with cur.copy(sql.SQL("COPY warehouse.fact_city_score ({}) FROM STDIN").format(columns)) as copy:
            for row in frame.itertuples(index=False, name=None):
                copy.write_row(row)
