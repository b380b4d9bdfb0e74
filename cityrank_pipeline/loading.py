"""Load one validated edition into the star schema: one transaction, COPY, replace-if-changed.

Loading is idempotent by construction: dimension rows are upserted only when they differ,
and an edition's facts are compared with what is already there — identical rows mean no
write at all; different rows replace the edition's rows (DELETE + COPY) in the same
transaction. Either everything for the edition lands or nothing does. The same holds for the
two small tables that travel with the facts: how the edition printed its measures
(`warehouse.edition_measure`) and which files it was assembled from (`meta.edition_source`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import operator
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd
import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from .catalog import Catalog, IndexEntry
from .snapshots import Snapshot

FACT_COLUMNS = (
    "index_code", "edition", "city_key", "measure_code", "score", "rank", "rank_tied",
    "printed_name", "confidence", "note", "source_url", "page", "snapshot_id",
    "score_computed", "rank_computed",
)


@dataclass(frozen=True)
class EditionMeta:
    edition: str
    edition_seq: int
    published_on: dt.date | None
    published_precision: str
    city_count: int | None


@dataclass(frozen=True)
class LoadResult:
    index_code: str
    edition: str
    rows: int
    changed: bool
    deleted: int


def _fact_columns() -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(c) for c in FACT_COLUMNS)


def _lock_key(index_code: str, edition: str) -> int:
    digest = hashlib.sha256(f"{index_code}/{edition}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def edition_meta(entry: IndexEntry, edition: str, rows: pd.DataFrame, snapshot: Snapshot, *, complete: bool) -> EditionMeta:
    """Published date and city count: the catalog first, then the file itself."""
    info = entry.editions.get(edition)
    published_on, precision, city_count = None, "unknown", None
    if info is not None:
        published_on, city_count = info.published_on, info.city_count
        precision = info.published_precision if published_on else "unknown"
    if published_on is None and "published" in rows:
        stated = sorted({p for p in rows["published"].dropna()})
        if stated:
            value = stated[0]
            published_on = dt.date.fromisoformat(value if len(value) == 10 else f"{value}-01")
            precision = "day" if len(value) == 10 else "month"
    if published_on is None and snapshot.published_on:
        published_on, precision = dt.date.fromisoformat(snapshot.published_on), "day"
    if city_count is None and complete:
        city_count = int(rows.loc[rows["measure"] == "total", "city_key"].nunique()) or None
    return EditionMeta(edition, entry.edition_seq(edition), published_on, precision, city_count)


def _column(rows: pd.DataFrame, name: str) -> list:
    """A column as Python values with NaN/NA/NaT as None; a missing column is all None."""
    if name not in rows:
        return [None] * len(rows)
    series = rows[name]
    return series.astype(object).where(series.notna(), None).tolist()


_CITY_MEASURE = operator.itemgetter(2, 3)  # a fact tuple's (city_key, measure_code)


def _fact_tuples(entry: IndexEntry, edition: str, rows: pd.DataFrame, snapshot_id: str) -> list[tuple]:
    """The rows as fact-table tuples, sorted by city and measure.

    Built column by column (a load is up to hundreds of thousands of rows, and a per-row dict
    was most of the loader's own time). Scores stay as the frame holds them (floats, mostly):
    COPY writes a float as its shortest repr, the same digits `Decimal(str(v))` would carry, so
    the numeric stored is the same; only a comparison with stored rows needs them as Decimal
    (`_normalise`), and a new edition has none to compare with.
    """
    n = len(rows)
    scores = _column(rows, "score")
    ranks = [None if v is None else int(v) for v in _column(rows, "rank")]
    pages = [None if v is None else int(v) for v in _column(rows, "page")]
    tied = [bool(v) for v in _column(rows, "rank_tied")]
    confidence = [v or "reported" for v in _column(rows, "confidence")]
    snapshots = [v or snapshot_id for v in _column(rows, "snapshot_id")]
    score_computed = [bool(v) for v in _column(rows, "score_computed")]
    rank_computed = [bool(v) for v in _column(rows, "rank_computed")]
    tuples = list(zip(
        [entry.code] * n, [edition] * n, rows["city_key"].tolist(), rows["measure"].tolist(), scores, ranks, tied,
        rows["city"].tolist(), confidence, _column(rows, "note"), _column(rows, "source_url"), pages, snapshots,
        score_computed, rank_computed))
    return sorted(tuples, key=_CITY_MEASURE)


def sync_dimensions(conn: psycopg.Connection, catalog: Catalog, entry: IndexEntry) -> None:
    """Upsert the index, its measures and the city list; rows that are unchanged are not touched."""
    conn.execute(
        """INSERT INTO warehouse.dim_index AS d (index_code, name, name_ko, publisher, owner_department,
                  score_min, score_max, score_unit, higher_is_better, cadence, release_months, status)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (index_code) DO UPDATE SET
                  name = EXCLUDED.name, name_ko = EXCLUDED.name_ko, publisher = EXCLUDED.publisher,
                  owner_department = EXCLUDED.owner_department, score_min = EXCLUDED.score_min,
                  score_max = EXCLUDED.score_max, score_unit = EXCLUDED.score_unit,
                  higher_is_better = EXCLUDED.higher_is_better, cadence = EXCLUDED.cadence,
                  release_months = EXCLUDED.release_months, status = EXCLUDED.status
           WHERE (d.name, d.name_ko, d.publisher, d.owner_department, d.score_min, d.score_max, d.score_unit,
                  d.higher_is_better, d.cadence, d.release_months, d.status)
                 IS DISTINCT FROM
                 (EXCLUDED.name, EXCLUDED.name_ko, EXCLUDED.publisher, EXCLUDED.owner_department,
                  EXCLUDED.score_min, EXCLUDED.score_max, EXCLUDED.score_unit, EXCLUDED.higher_is_better,
                  EXCLUDED.cadence, EXCLUDED.release_months, EXCLUDED.status)""",
        (entry.code, entry.name, entry.name_ko, entry.publisher, entry.owner_department,
         entry.scale.min, entry.scale.max, entry.scale.unit, entry.scale.higher_is_better, entry.cadence,
         entry.calendar.release_months, entry.status),
    )
    # One set-based statement per dimension (rows as one JSON parameter): a load is in the hot
    # path of every edition, and a statement per measure and per city was most of a GPCI-sized
    # load's own work (23 ms of a 101 ms load of 3,696 facts; 8 ms this way). Parents and
    # children may arrive in one statement: the self-referencing foreign key is checked at its end.
    # jsonb_to_recordset turns each JSON array of aliases into a text[] in its order.
    conn.execute(
        """INSERT INTO warehouse.dim_measure AS d (index_code, measure_code, name, level, parent_code,
                  department, city_can_influence, score_min, score_max, definition, publisher_code,
                  indicator_number, aliases)
           SELECT r.index_code, r.measure_code, r.name, r.level, r.parent_code, r.department, r.city_can_influence,
                  r.score_min, r.score_max, r.definition, r.publisher_code, r.indicator_number, r.aliases
           FROM jsonb_to_recordset(%s) AS r(index_code text, measure_code text, name text, level text,
                  parent_code text, department text, city_can_influence boolean, score_min numeric,
                  score_max numeric, definition text, publisher_code text, indicator_number integer, aliases text[])
           ON CONFLICT (index_code, measure_code) DO UPDATE SET
                  name = EXCLUDED.name, level = EXCLUDED.level, parent_code = EXCLUDED.parent_code,
                  department = EXCLUDED.department, city_can_influence = EXCLUDED.city_can_influence,
                  score_min = EXCLUDED.score_min, score_max = EXCLUDED.score_max, definition = EXCLUDED.definition,
                  publisher_code = EXCLUDED.publisher_code, indicator_number = EXCLUDED.indicator_number,
                  aliases = EXCLUDED.aliases
           WHERE (d.name, d.level, d.parent_code, d.department, d.city_can_influence, d.score_min, d.score_max,
                  d.definition, d.publisher_code, d.indicator_number, d.aliases)
                 IS DISTINCT FROM
                 (EXCLUDED.name, EXCLUDED.level, EXCLUDED.parent_code, EXCLUDED.department,
                  EXCLUDED.city_can_influence, EXCLUDED.score_min, EXCLUDED.score_max, EXCLUDED.definition,
                  EXCLUDED.publisher_code, EXCLUDED.indicator_number, EXCLUDED.aliases)""",
        (Jsonb([{"index_code": entry.code, "measure_code": m.code, "name": m.name, "level": m.level,
                 "parent_code": m.parent, "department": entry.department_of(m),
                 "city_can_influence": m.influence, "score_min": entry.scale_of(m).min,
                 "score_max": entry.scale_of(m).max, "definition": m.definition,
                 "publisher_code": m.publisher_code, "indicator_number": m.number, "aliases": list(m.aliases)}
                for m in entry.measures]),),
    )
    conn.execute(
        """INSERT INTO warehouse.dim_city AS d (city_key, name, name_ko, country, aliases)
           SELECT r.city_key, r.name, r.name_ko, r.country, r.aliases
           FROM jsonb_to_recordset(%s) AS r(city_key text, name text, name_ko text, country text, aliases text[])
           ON CONFLICT (city_key) DO UPDATE SET name = EXCLUDED.name, name_ko = EXCLUDED.name_ko,
                  country = EXCLUDED.country, aliases = EXCLUDED.aliases
           WHERE (d.name, d.name_ko, d.country, d.aliases)
                 IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.name_ko, EXCLUDED.country, EXCLUDED.aliases)""",
        (Jsonb([{"city_key": c.key, "name": c.name, "name_ko": c.name_ko, "country": c.country,
                 "aliases": list(c.aliases)} for c in catalog.cities.cities]),),
    )


def _upsert_snapshot(conn: psycopg.Connection, snapshot: Snapshot) -> None:
    conn.execute(
        """INSERT INTO meta.snapshot (snapshot_id, source_url, original_name, media_type, bytes, fetched_at,
                  published_on, licence_note)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (snapshot_id) DO NOTHING""",
        (snapshot.snapshot_id, snapshot.source_url, snapshot.original_name, snapshot.media_type, snapshot.bytes,
         dt.datetime.fromisoformat(snapshot.fetched_at), snapshot.published_on, snapshot.licence_note),
    )


def _upsert_edition(conn: psycopg.Connection, entry: IndexEntry, meta: EditionMeta) -> None:
    conn.execute(
        """INSERT INTO warehouse.dim_edition AS d (index_code, edition, edition_seq, published_on, published_precision, city_count)
           VALUES (%s, %s, %s, %s, %s, %s)
           ON CONFLICT (index_code, edition) DO UPDATE SET edition_seq = EXCLUDED.edition_seq,
                  published_on = EXCLUDED.published_on, published_precision = EXCLUDED.published_precision,
                  city_count = EXCLUDED.city_count
           WHERE (d.edition_seq, d.published_on, d.published_precision, d.city_count)
                 IS DISTINCT FROM (EXCLUDED.edition_seq, EXCLUDED.published_on, EXCLUDED.published_precision, EXCLUDED.city_count)""",
        (entry.code, meta.edition, meta.edition_seq, meta.published_on, meta.published_precision, meta.city_count),
    )


def _existing_facts(conn: psycopg.Connection, index_code: str, edition: str) -> list[tuple]:
    query = sql.SQL("SELECT {} FROM warehouse.fact_city_score WHERE index_code = %s AND edition = %s "
                    "ORDER BY city_key, measure_code").format(_fact_columns())
    rows = conn.execute(query, (index_code, edition)).fetchall()
    return [tuple(r) for r in rows]


def _edition_measure_tuples(entry: IndexEntry, edition: str, rows: pd.DataFrame) -> list[tuple]:
    """How this edition printed each measure, where the file names its measures itself."""
    if "measure_printed" not in rows:
        return []
    printed = rows[rows["measure_printed"].notna()]
    found: dict[str, tuple] = {}
    for rec in printed[["measure", "measure_printed", "measure_number"]].drop_duplicates().to_dict("records"):
        number = rec["measure_number"]
        number = None if number is None or pd.isna(number) else int(number)
        found[rec["measure"]] = (entry.code, edition, rec["measure"], rec["measure_printed"], number)
    return sorted(found.values())


def _replace_rows(conn: psycopg.Connection, table: str, columns: tuple[str, ...], index_code: str, edition: str,
                  rows: list[tuple]) -> bool:
    """Make the edition's rows of a small side table exactly `rows`; no write when they already are."""
    target = sql.SQL(".").join(sql.Identifier(part) for part in table.split("."))
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    existing = conn.execute(
        sql.SQL("SELECT {} FROM {} WHERE index_code = %s AND edition = %s").format(cols, target), (index_code, edition)
    ).fetchall()
    if sorted(tuple(r) for r in existing) == sorted(rows):
        return False
    conn.execute(sql.SQL("DELETE FROM {} WHERE index_code = %s AND edition = %s").format(target), (index_code, edition))
    if rows:
        placeholders = sql.SQL(", ").join(sql.Placeholder() * len(columns))
        with conn.cursor() as cur:
            cur.executemany(sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(target, cols, placeholders), rows)
    return True


EDITION_SOURCE_COLUMNS = ("index_code", "edition", "snapshot_id", "source_kind", "parser", "precedence", "role",
                          "facts_used", "facts_overridden", "disagreements")


def _edition_source_tuples(entry: IndexEntry, edition: str, contributions) -> list[tuple]:
    return sorted(
        (entry.code, edition, c.snapshot.snapshot_id, c.kind, c.source.parser, c.precedence, c.role,
         c.facts_used, c.facts_overridden, len(c.disagreements))
        for c in contributions
    )


# The fact table's statement-level triggers (the reference check of migrations 0006/0008, the
# change log of 0007) read the rows a statement wrote from a transition table, which PostgreSQL
# keeps in work_mem and spills to a temporary file beyond it (4 MB by default: ~25,000 facts).
# A 500,000-fact edition spilled it and read it back from disk: 3.2 s a load instead of 2.3 s.
LOAD_WORK_MEM = "256MB"


def use_load_work_mem(conn: psycopg.Connection) -> None:
    """Raise work_mem for the rest of the current transaction only (the load's)."""
    conn.execute("SELECT set_config('work_mem', %s, true)", (LOAD_WORK_MEM,))


def load_edition(
    conn: psycopg.Connection,
    catalog: Catalog,
    entry: IndexEntry,
    rows: pd.DataFrame,
    snapshot: Snapshot,
    meta: EditionMeta,
    contributions: tuple = (),
) -> LoadResult:
    """Replace one edition's facts with `rows` (validated and harmonised) in one transaction.

    `contributions` (from `assembly`) are the files the rows were taken from; each row names
    its own snapshot in a `snapshot_id` column, `snapshot` being the default for rows that
    don't.
    """
    new = _fact_tuples(entry, meta.edition, rows, snapshot.snapshot_id)
    snapshots = {snapshot.snapshot_id: snapshot, **{c.snapshot.snapshot_id: c.snapshot for c in contributions}}
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key(entry.code, meta.edition),))
        sync_dimensions(conn, catalog, entry)
        for snap in sorted(snapshots.values(), key=lambda s: s.snapshot_id):
            _upsert_snapshot(conn, snap)
        _upsert_edition(conn, entry, meta)
        side_changed = _replace_rows(conn, "warehouse.edition_measure",
                                     ("index_code", "edition", "measure_code", "printed_name", "printed_number"),
                                     entry.code, meta.edition, _edition_measure_tuples(entry, meta.edition, rows))
        side_changed |= _replace_rows(conn, "meta.edition_source", EDITION_SOURCE_COLUMNS, entry.code, meta.edition,
                                      _edition_source_tuples(entry, meta.edition, contributions))
        old = _existing_facts(conn, entry.code, meta.edition)
        if len(old) == len(new) and _normalise(old) == _normalise(new):
            return LoadResult(entry.code, meta.edition, len(new), changed=side_changed, deleted=0)
        use_load_work_mem(conn)
        deleted = conn.execute(
            "DELETE FROM warehouse.fact_city_score WHERE index_code = %s AND edition = %s", (entry.code, meta.edition)
        ).rowcount
        with conn.cursor().copy(
            sql.SQL("COPY warehouse.fact_city_score ({}) FROM STDIN").format(_fact_columns())
        ) as copy:
            for record in new:
                copy.write_row(record)
    return LoadResult(entry.code, meta.edition, len(new), changed=True, deleted=deleted)


def _normalise(rows: list[tuple]) -> list[tuple]:
    """Compare numerics by value: Decimal('1457.90') from the database equals Decimal('1457.9'),
    and a float score equals the Decimal of its repr (what COPY stored for it)."""
    out = []
    for r in rows:
        out.append(tuple(v.normalize() if isinstance(v, Decimal)
                         else Decimal(str(v)).normalize() if isinstance(v, float) else v for v in r))
    return sorted(out, key=_CITY_MEASURE)
