"""Referential integrity of warehouse.fact_city_score, checked per statement (migrations 0006, 0008).

The four per-row foreign keys were replaced by statement-level triggers for load speed; these
tests hold the replacement to what a foreign key guarantees, in both directions, with the same
SQLSTATE (23503, psycopg's ForeignKeyViolation) and a message that names the missing key.
"""

from __future__ import annotations

import threading

import psycopg
import pytest
from psycopg.errors import ForeignKeyViolation

from conftest import table_snapshot

SNAPSHOT = "a" * 64
FACT = ("INSERT INTO warehouse.fact_city_score (index_code, edition, city_key, measure_code, score, rank, "
        "printed_name, confidence, snapshot_id) VALUES (%s, %s, %s, %s, 50, 1, 'x', 'reported', %s)")


@pytest.fixture
def seeded(migrated_url):
    """One index, edition, measure, two cities, one snapshot, one fact (Seoul)."""
    with psycopg.connect(migrated_url) as conn:
        conn.execute("INSERT INTO warehouse.dim_index (index_code, name, name_ko, publisher, owner_department, "
                     "score_unit, higher_is_better, cadence, release_months, status) VALUES ('GFCI', "
                     "'Global Financial Centres Index', '국제금융센터지수', 'Z/Yen', 'Economic Policy Office', 'points', "
                     "true, 'semiannual', '{3,9}', 'active')")
        conn.execute("INSERT INTO warehouse.dim_edition (index_code, edition, edition_seq) VALUES ('GFCI', '38', 38)")
        conn.execute("INSERT INTO warehouse.dim_measure (index_code, measure_code, name, level, department, "
                     "city_can_influence) VALUES ('GFCI', 'total', 'Total', 'overall', 'Economic Policy Office', true)")
        conn.execute("INSERT INTO warehouse.dim_city (city_key, name, country) VALUES "
                     "('seoul', 'Seoul', 'South Korea'), ('busan', 'Busan', 'South Korea')")
        conn.execute("INSERT INTO meta.snapshot (snapshot_id, original_name, media_type, bytes, fetched_at, "
                     "licence_note) VALUES (%s, 'f.pdf', 'application/pdf', 1, now(), 'test')", (SNAPSHOT,))
        conn.execute(FACT, ("GFCI", "38", "seoul", "total", SNAPSHOT))
    return migrated_url


@pytest.mark.parametrize("column, value, named", [
    ("city_key", "atlantis", "city_key=atlantis is not in warehouse.dim_city"),
    ("edition", "99", "(index_code, edition)=(GFCI, 99) is not in warehouse.dim_edition"),
    ("measure_code", "nope", "(index_code, measure_code)=(GFCI, nope) is not in warehouse.dim_measure"),
    ("snapshot_id", "b" * 64, f"snapshot_id={'b' * 64} is not in meta.snapshot"),
])
def test_a_fact_without_its_dimension_row_is_refused_by_name(seeded, column, value, named):
    row = {"index_code": "GFCI", "edition": "38", "city_key": "busan", "measure_code": "total",
           "snapshot_id": SNAPSHOT, column: value}
    before = table_snapshot(seeded)
    with psycopg.connect(seeded) as conn:
        with pytest.raises(ForeignKeyViolation, match=named.replace("(", r"\(").replace(")", r"\)")):
            conn.execute(FACT, tuple(row[c] for c in ("index_code", "edition", "city_key", "measure_code",
                                                       "snapshot_id")))
    assert table_snapshot(seeded) == before


def test_an_update_that_points_a_fact_nowhere_is_refused(seeded):
    with psycopg.connect(seeded) as conn:
        with pytest.raises(ForeignKeyViolation, match="atlantis"):
            conn.execute("UPDATE warehouse.fact_city_score SET city_key = 'atlantis'")


def test_a_statement_that_writes_no_fact_passes_and_a_large_one_names_its_one_bad_key(seeded):
    """The check collects the statement's distinct keys in one pass (migration 0008): nothing to
    check when nothing was written; one bad key among thousands of rows is still found."""
    with psycopg.connect(seeded) as conn:
        conn.execute("UPDATE warehouse.fact_city_score SET score = 1 WHERE false")
        conn.execute("INSERT INTO warehouse.dim_measure (index_code, measure_code, name, level, parent_code, department, "
                     "city_can_influence) SELECT 'GFCI', 'm' || n, 'M', 'indicator', 'total', 'x', true "
                     "FROM generate_series(1, 3000) n")
        conn.commit()
        before = table_snapshot(seeded)
        with pytest.raises(ForeignKeyViolation, match=r"\(index_code, measure_code\)=\(GFCI, m3001\)"):
            with conn.cursor().copy("COPY warehouse.fact_city_score (index_code, edition, city_key, measure_code, "
                                    "printed_name, confidence, snapshot_id) FROM STDIN") as copy:
                for n in range(1, 3002):  # m3001 is not a measure
                    copy.write_row(("GFCI", "38", "busan", f"m{n}", "Busan", "reported", SNAPSHOT))
    assert table_snapshot(seeded) == before


def test_one_bad_row_in_a_copy_fails_the_whole_statement(seeded):
    before = table_snapshot(seeded)
    with psycopg.connect(seeded) as conn:
        with pytest.raises(ForeignKeyViolation, match="atlantis"):
            with conn.cursor().copy("COPY warehouse.fact_city_score (index_code, edition, city_key, measure_code, "
                                    "printed_name, confidence, snapshot_id) FROM STDIN") as copy:
                copy.write_row(("GFCI", "38", "busan", "total", "Busan", "reported", SNAPSHOT))
                copy.write_row(("GFCI", "38", "atlantis", "total", "Atlantis", "reported", SNAPSHOT))
    assert table_snapshot(seeded) == before


@pytest.mark.parametrize("statement, named", [
    ("DELETE FROM warehouse.dim_city WHERE city_key = 'seoul'", "city_key=seoul"),
    ("UPDATE warehouse.dim_city SET city_key = 'seoul2' WHERE city_key = 'seoul'", "city_key=seoul"),
    ("DELETE FROM warehouse.dim_measure", "(index_code, measure_code)=(GFCI, total)"),
    ("DELETE FROM warehouse.dim_edition", "(index_code, edition)=(GFCI, 38)"),
    (f"DELETE FROM meta.snapshot WHERE snapshot_id = '{SNAPSHOT}'", f"snapshot_id={SNAPSHOT}"),
])
def test_removing_a_referenced_row_is_refused(seeded, statement, named):
    before = table_snapshot(seeded)
    with psycopg.connect(seeded) as conn:
        with pytest.raises(ForeignKeyViolation) as caught:
            conn.execute(statement)
    assert named in str(caught.value) and "still referenced" in str(caught.value)
    assert table_snapshot(seeded) == before


def test_rows_nobody_references_can_go_and_unchanged_keys_can_be_updated(seeded):
    with psycopg.connect(seeded) as conn:
        conn.execute("UPDATE warehouse.dim_city SET name_ko = '서울' WHERE city_key = 'seoul'")
        conn.execute("DELETE FROM warehouse.dim_city WHERE city_key = 'busan'")
        cities = conn.execute("SELECT city_key, name_ko FROM warehouse.dim_city").fetchall()
    assert cities == [("seoul", "서울")]


def test_truncating_a_referenced_table_alone_is_refused_and_with_the_facts_allowed(seeded):
    with psycopg.connect(seeded) as conn:
        with pytest.raises(ForeignKeyViolation, match="fact_city_score"):
            conn.execute("TRUNCATE warehouse.dim_city")
    with psycopg.connect(seeded) as conn:
        conn.execute("TRUNCATE warehouse.dim_city, warehouse.fact_city_score")
        assert conn.execute("SELECT count(*) FROM warehouse.dim_city").fetchone() == (0,)


def test_a_concurrent_delete_waits_for_the_load_and_then_sees_its_facts(seeded):
    """The load locks the rows it references, as a foreign key does: a delete that races it
    blocks until the load commits, then finds the new fact and is refused."""
    loader = psycopg.connect(seeded)
    try:
        loader.execute(FACT, ("GFCI", "38", "busan", "total", SNAPSHOT))  # transaction left open
        outcome: dict[str, BaseException | None] = {}

        def delete_busan():
            with psycopg.connect(seeded) as conn:
                try:
                    conn.execute("SET lock_timeout = '20s'")
                    conn.execute("DELETE FROM warehouse.dim_city WHERE city_key = 'busan'")
                    outcome["error"] = None
                except psycopg.Error as exc:
                    outcome["error"] = exc

        deleter = threading.Thread(target=delete_busan)
        deleter.start()
        deleter.join(timeout=1.0)
        assert deleter.is_alive(), "the delete should wait for the load's lock"
        loader.commit()
        deleter.join(timeout=30)
    finally:
        loader.close()
    assert isinstance(outcome["error"], ForeignKeyViolation), outcome
    with psycopg.connect(seeded) as conn:
        assert conn.execute("SELECT count(*) FROM warehouse.fact_city_score WHERE city_key = 'busan'").fetchone() == (1,)
