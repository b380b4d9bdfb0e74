"""Loading an edition: one transaction, COPY, idempotent to the byte, replace-if-changed."""

import psycopg
import pytest

from cityrank_pipeline.editions import parse_edition, register_curated_editions
from cityrank_pipeline.loading import edition_meta, load_edition
from cityrank_pipeline.snapshots import RawStore

from conftest import table_snapshot


@pytest.fixture
def gfci38(tmp_path, catalog):
    store = RawStore(tmp_path / "raw")
    register_curated_editions(catalog, store)
    source = store.edition_source("GFCI", "GFCI 38")
    assembled = parse_edition(catalog, store, source)
    frame, snapshot = assembled.frame, assembled.snapshot
    meta = edition_meta(catalog["GFCI"], "GFCI 38", frame, snapshot, complete=False)
    return frame, snapshot, meta


def test_loading_twice_leaves_the_warehouse_identical(migrated_url, catalog, gfci38):
    frame, snapshot, meta = gfci38
    with psycopg.connect(migrated_url) as conn:
        first = load_edition(conn, catalog, catalog["GFCI"], frame, snapshot, meta)
    before = table_snapshot(migrated_url)
    with psycopg.connect(migrated_url) as conn:
        second = load_edition(conn, catalog, catalog["GFCI"], frame, snapshot, meta)
    after = table_snapshot(migrated_url)
    assert first.changed and first.rows == 10
    assert not second.changed
    assert before == after  # values and xmin: not even a rewrite of equal rows
    with psycopg.connect(migrated_url) as conn:
        count, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT (index_code, edition, city_key, measure_code)) FROM warehouse.fact_city_score"
        ).fetchone()
        edition = conn.execute("SELECT published_on::text, city_count FROM warehouse.dim_edition").fetchone()
        provenance = conn.execute(
            "SELECT DISTINCT s.original_name, s.bytes > 0, length(s.snapshot_id) FROM warehouse.fact_city_score f "
            "JOIN meta.snapshot s USING (snapshot_id)").fetchall()
    assert count == distinct == 10
    assert edition == ("2025-09-25", 120)
    assert provenance == [("published_figures.csv", True, 64)]


def test_changed_rows_replace_the_edition(migrated_url, catalog, gfci38):
    frame, snapshot, meta = gfci38
    with psycopg.connect(migrated_url) as conn:
        load_edition(conn, catalog, catalog["GFCI"], frame, snapshot, meta)
        smaller = frame[frame["city"] != "Shenzhen"]
        result = load_edition(conn, catalog, catalog["GFCI"], smaller, snapshot, meta)
        cities = {r[0] for r in conn.execute("SELECT city_key FROM warehouse.fact_city_score").fetchall()}
    assert result.changed and result.deleted == 10 and result.rows == 9
    assert "shenzhen" not in cities and "seoul" in cities


def test_a_failed_load_leaves_nothing_behind(migrated_url, catalog, gfci38):
    frame, snapshot, meta = gfci38
    with psycopg.connect(migrated_url) as conn:
        load_edition(conn, catalog, catalog["GFCI"], frame, snapshot, meta)
    before = table_snapshot(migrated_url)
    broken = frame.copy()
    broken.loc[broken.index[-1], "city_key"] = "atlantis"  # violates the dim_city foreign key mid-COPY
    with psycopg.connect(migrated_url) as conn:
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            load_edition(conn, catalog, catalog["GFCI"], broken, snapshot, meta)
    assert table_snapshot(migrated_url) == before


def test_float_scores_are_stored_as_their_repr_and_compare_equal_on_reload(migrated_url, catalog, gfci38):
    """The loader writes float scores as floats (no Decimal per row); what lands is the numeric
    of the float's repr, and a reload — from floats or from Decimals of the same value — is a no-op."""
    from decimal import Decimal

    frame, snapshot, meta = gfci38
    awkward = [0.1 + 0.2, 1e-05, 742.0, 1457.9, 699.99999999999]
    frame = frame.copy()
    frame.loc[frame.index[:len(awkward)], "score"] = awkward
    with psycopg.connect(migrated_url) as conn:
        load_edition(conn, catalog, catalog["GFCI"], frame, snapshot, meta)
        stored = conn.execute("SELECT score::text FROM warehouse.fact_city_score WHERE edition = 'GFCI 38' "
                              "AND city_key = ANY(%s) AND measure_code = 'total'",
                              (list(frame["city_key"][:len(awkward)]),)).fetchall()
    before = table_snapshot(migrated_url)
    assert sorted(Decimal(s) for (s,) in stored) == sorted(Decimal(repr(v)) for v in awkward)
    assert "0.30000000000000004" in {s for (s,) in stored}  # every digit of the repr, none rounded away
    as_decimal = frame.copy()
    as_decimal["score"] = [None if v != v else Decimal(repr(v)) for v in frame["score"]]
    with psycopg.connect(migrated_url) as conn:
        again = load_edition(conn, catalog, catalog["GFCI"], frame, snapshot, meta)
        from_decimals = load_edition(conn, catalog, catalog["GFCI"], as_decimal, snapshot, meta)
    assert not again.changed and not from_decimals.changed
    assert table_snapshot(migrated_url) == before


def test_dimension_sync_writes_only_what_the_catalog_changed(migrated_url, catalog):
    """One statement per dimension: a first sync inserts every measure (children with their
    parents) and city, values and order of aliases intact; a changed measure and city are
    updated and every other row is left as it was (same xmin)."""
    from cityrank_pipeline.catalog import Catalog
    from cityrank_pipeline.loading import sync_dimensions

    entry = catalog["GPCI"]
    with psycopg.connect(migrated_url) as conn:
        sync_dimensions(conn, catalog, entry)
        conn.commit()
        stored = {code: (name, parent, department, aliases) for code, name, parent, department, aliases in conn.execute(
            "SELECT measure_code, name, parent_code, department, aliases FROM warehouse.dim_measure "
            "WHERE index_code = 'GPCI'").fetchall()}
        cities = dict(conn.execute("SELECT city_key, aliases FROM warehouse.dim_city").fetchall())
    assert stored == {m.code: (m.name, m.parent, entry.measure_department(m.code), list(m.aliases))
                      for m in entry.measures}
    assert cities == {c.key: list(c.aliases) for c in catalog.cities.cities}
    before = table_snapshot(migrated_url)

    measure = next(m for m in entry.measures if m.level == "indicator")
    city = catalog.cities.cities[0]
    renamed = measure.model_copy(update={"aliases": ["Renamed for the test", *measure.aliases]})
    changed_entry = entry.model_copy(update={"measures": [renamed if m.code == measure.code else m
                                                         for m in entry.measures]})
    changed_cities = catalog.cities.model_copy(update={"cities": [
        city.model_copy(update={"aliases": [*city.aliases, "Test alias"]}), *catalog.cities.cities[1:]]})
    changed = Catalog({**catalog.indices, "GPCI": changed_entry}, changed_cities, catalog.directory)
    with psycopg.connect(migrated_url) as conn:
        sync_dimensions(conn, changed, changed_entry)
    after = table_snapshot(migrated_url)
    moved = {table: [row for row in after[table] if row not in before[table]] for table in after}
    assert {table: len(rows) for table, rows in moved.items() if rows} == {
        "warehouse.dim_measure": 1, "warehouse.dim_city": 1, "meta.change_log": 2}
    assert sorted(row[2] for row in moved["meta.change_log"]) == ["warehouse.dim_city", "warehouse.dim_measure"]
    assert moved["warehouse.dim_measure"][0][1:3] == ("GPCI", measure.code)  # (xmin, index_code, measure_code, ...)
    assert moved["warehouse.dim_city"][0][1] == city.key
