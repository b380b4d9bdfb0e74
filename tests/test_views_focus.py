"""Focus configuration as data, and the mart's behaviour on re-runs.

The focus city and peers come from settings into meta.focus_city / meta.peer_city; an unknown
name fails naming it; unchanged settings write nothing (the warehouse stays byte-identical);
re-applying the view files does not rebuild materialised views whose query is unchanged.
"""

import psycopg
import pytest

from cityrank_pipeline.focus import FocusConfigError, read_focus_config, write_focus_config
from cityrank_pipeline.migrations import apply_views
from cityrank_pipeline.orchestration.views import refresh_materialized_views
from cityrank_pipeline.settings import PROJECT_ROOT, load_settings

from conftest import table_snapshot
from test_views_fixture import refresh_mart, rows, seoul_db, seoul_template  # noqa: F401


def _write(url, catalog, **env):
    settings = load_settings({"CITYRANK_DATABASE_URL": url, **env})
    with psycopg.connect(url) as conn:
        return write_focus_config(conn, settings, catalog)


def test_settings_become_rows_and_unchanged_settings_write_nothing(migrated_url, catalog):
    assert _write(migrated_url, catalog) is True
    with psycopg.connect(migrated_url) as conn:
        config = read_focus_config(conn)
    assert config.focus_key == "seoul"
    assert config.peer_keys == ("new_york", "london", "paris", "tokyo", "singapore", "hong_kong", "beijing", "shanghai")
    before = table_snapshot(migrated_url)
    assert _write(migrated_url, catalog) is False
    assert table_snapshot(migrated_url) == before  # values and xmin
    # Aliases resolve like printed names do; another focus city replaces the row.
    assert _write(migrated_url, catalog, CITYRANK_FOCUS_CITY="Tokyo Metropolis", CITYRANK_PEERS="NYC;Seoul") is True
    assert rows(migrated_url, "SELECT city_key FROM meta.focus_city") == [("tokyo",)]
    assert rows(migrated_url, "SELECT city_key, position FROM meta.peer_city ORDER BY position") == [
        ("new_york", 1), ("seoul", 2)]


@pytest.mark.parametrize("env, named", [
    ({"CITYRANK_FOCUS_CITY": "Seol"}, "CITYRANK_FOCUS_CITY: 'Seol'"),
    ({"CITYRANK_PEERS": "London; Gotham"}, "CITYRANK_PEERS: 'Gotham'"),
])
def test_an_unknown_city_is_an_error_naming_it_and_changes_nothing(migrated_url, catalog, env, named):
    _write(migrated_url, catalog)
    before = table_snapshot(migrated_url)
    with pytest.raises(FocusConfigError) as raised:
        _write(migrated_url, catalog, **env)
    assert named in str(raised.value) and "cities.yaml" in str(raised.value)
    assert table_snapshot(migrated_url) == before


def test_views_follow_a_new_focus_city_after_refresh(seoul_db, catalog):
    env = {"CITYRANK_DATABASE_URL": seoul_db, "CITYRANK_FOCUS_CITY": "London"}
    refresh_mart(seoul_db, catalog, env)
    assert rows(seoul_db, "SELECT city, rank, trend FROM mart.top5_gap WHERE index_code = 'GPCI'") == [
        ("London", 1, "in top 5")]
    assert rows(seoul_db, "SELECT count(*) FROM mart.peer_comparison WHERE city = 'Seoul'") == [(0,)]


def test_reapplying_views_keeps_materialised_views_and_the_warehouse(seoul_db, catalog):
    def matviews():
        return rows(seoul_db, "SELECT c.relname, c.oid::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                              "WHERE n.nspname = 'mart' AND c.relkind = 'm' ORDER BY 1")

    first = matviews()
    assert [name for name, _ in first] == ["peer_comparison", "top5_gap", "weak_indicators"]
    before = table_snapshot(seoul_db)
    with psycopg.connect(seoul_db) as conn:
        apply_views(conn, PROJECT_ROOT / "sql")
        with conn.transaction():
            write_focus_config(conn, load_settings({"CITYRANK_DATABASE_URL": seoul_db}), catalog)
            refreshed = refresh_materialized_views(conn)
    assert refreshed == ["peer_comparison", "top5_gap", "weak_indicators"]
    assert matviews() == first          # same relations: not dropped and re-created
    assert table_snapshot(seoul_db) == before
    comments = rows(seoul_db, """SELECT c.relname, count(a.attname), count(col_description(c.oid, a.attnum))
                                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                                 WHERE n.nspname = 'mart' AND c.relname IN ('score_history', 'top5_gap', 'weak_indicators',
                                       'peer_comparison', 'department_actions', 'peer_group')
                                   AND obj_description(c.oid, 'pg_class') IS NOT NULL
                                 GROUP BY 1 ORDER BY 1""")
    assert len(comments) == 6 and all(total == described for _, total, described in comments), comments
