"""meta.change_log (migration 0007): what the mart fingerprint reads to tell whether anything
the mart depends on changed, without scanning the fact table."""

from __future__ import annotations

import psycopg

from cityrank_pipeline.orchestration.views import prune_change_log
from cityrank_pipeline.runner import warehouse_state


def test_every_warehouse_and_meta_table_logs_its_writes(migrated_url):
    """A table added by a later migration without the trigger would hide its writes from the
    fingerprint, and the mart would not be refreshed after them."""
    with psycopg.connect(migrated_url) as conn:
        missing = conn.execute(
            """SELECT t.schemaname || '.' || t.tablename FROM pg_tables t
               WHERE t.schemaname IN ('warehouse', 'meta') AND t.tablename <> 'change_log'
                 AND NOT EXISTS (SELECT 1 FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
                                 JOIN pg_namespace n ON n.oid = c.relnamespace
                                 WHERE n.nspname = t.schemaname AND c.relname = t.tablename
                                   AND g.tgname LIKE 'log_change_%%'
                                 HAVING count(*) = 4)
               ORDER BY 1""").fetchall()
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname IN ('warehouse', 'meta')").fetchone()[0]
    assert missing == [] and tables > 10


def add_city(conn, key: str) -> None:
    conn.execute("INSERT INTO warehouse.dim_city (city_key, name, country) VALUES (%s, %s, 'Testland')",
                 (key, key.title()))


def test_a_committed_write_moves_the_state_and_what_wrote_nothing_does_not(migrated_url):
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        before = warehouse_state(conn)
        with conn.transaction(force_rollback=True):
            add_city(conn, "rolled_back")
        assert warehouse_state(conn) == before
        conn.execute("DELETE FROM warehouse.dim_city WHERE city_key = 'nowhere'")  # no row: not a change
        conn.execute("INSERT INTO warehouse.dim_city (city_key, name, country) VALUES ('x', 'X', 'Y') "
                     "ON CONFLICT DO NOTHING")
        conn.execute("DELETE FROM warehouse.dim_city WHERE city_key = 'x'")
        assert warehouse_state(conn)[0] == before[0] + 2
        add_city(conn, "seoul")
        conn.execute("UPDATE warehouse.dim_city SET name = name")  # a new row version is a write
        after = warehouse_state(conn)
    assert after[0] == before[0] + 4 and after[1] > before[1]


def test_a_write_that_commits_after_a_newer_one_still_moves_the_state(migrated_url):
    """change_id comes from a sequence, so an older id can become visible after a newer one:
    the count catches what max(change_id) alone would miss."""
    slow = psycopg.connect(migrated_url)
    try:
        add_city(slow, "slow")  # takes an id, does not commit yet
        with psycopg.connect(migrated_url, autocommit=True) as fast:
            add_city(fast, "fast")  # a newer id, committed first
            seen = warehouse_state(fast)
            slow.commit()
            assert warehouse_state(fast) != seen
    finally:
        slow.close()


def test_pruning_keeps_the_newest_row_and_what_open_transactions_wrote(migrated_url):
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        for key in ("a", "b", "c"):
            add_city(conn, key)
        open_writer = psycopg.connect(migrated_url)
        try:
            add_city(open_writer, "d")
            newest = warehouse_state(conn)[1]
            prune_change_log(conn)
            assert warehouse_state(conn) == (1, newest)
            open_writer.commit()
        finally:
            open_writer.close()
        assert warehouse_state(conn)[0] == 2
