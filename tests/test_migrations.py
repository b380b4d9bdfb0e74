"""Schema by migration: from empty, once each, recorded, and edits to applied files caught."""

import shutil

import psycopg
import pytest

from cityrank_pipeline.migrations import MigrationError, discover_migrations, upgrade
from cityrank_pipeline.settings import PROJECT_ROOT


def test_upgrade_from_empty_applies_all_then_nothing(database_url):
    first = upgrade(database_url, PROJECT_ROOT / "sql")
    assert [m.version for m in first] == [m.version for m in discover_migrations(PROJECT_ROOT / "sql")]
    assert upgrade(database_url, PROJECT_ROOT / "sql") == []
    with psycopg.connect(database_url) as conn:
        recorded = conn.execute("SELECT version FROM meta.schema_migration ORDER BY version").fetchall()
        assert [r[0] for r in recorded] == [m.version for m in first]
        tables = {r[0] for r in conn.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema IN ('warehouse', 'meta', 'mart')").fetchall()}
    assert {"warehouse.dim_index", "warehouse.dim_edition", "warehouse.dim_city", "warehouse.dim_measure",
            "warehouse.fact_city_score", "meta.snapshot", "mart.city_scores"} <= tables


def test_editing_an_applied_migration_is_refused(database_url, tmp_path):
    sql_dir = tmp_path / "sql"
    shutil.copytree(PROJECT_ROOT / "sql", sql_dir)
    upgrade(database_url, sql_dir)
    first = sorted((sql_dir / "migrations").glob("0001_*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    with pytest.raises(MigrationError, match="already applied with different contents"):
        upgrade(database_url, sql_dir)


def test_a_failing_migration_leaves_no_trace(database_url, tmp_path):
    sql_dir = tmp_path / "sql"
    shutil.copytree(PROJECT_ROOT / "sql", sql_dir)
    (sql_dir / "migrations" / "9999_broken.sql").write_text(
        "CREATE TABLE meta.half_done (x int);\nSELECT * FROM no_such_table;\n")
    with pytest.raises(MigrationError, match="9999_broken.sql"):
        upgrade(database_url, sql_dir)
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT to_regclass('meta.half_done')").fetchone() == (None,)
        assert conn.execute("SELECT count(*) FROM meta.schema_migration WHERE version = 9999").fetchone() == (0,)
