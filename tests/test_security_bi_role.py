"""The BI role writes nothing and reads nothing outside mart, even after lifting its read-only default.

Every check connects as the role over TCP on 127.0.0.1, as a BI tool does. The role's
read-only default is a setting the role may change itself, so each write test first lifts it
(for the session and for the role) and then tries every way a plain role can write without a
table grant: temporary tables, schemas, tables in public, large objects.
"""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from psycopg import sql

import cityrank_pipeline.bi_role as bi_role_module
from cityrank_pipeline.bi_role import ensure_bi_role

from test_bi_role import bi_role  # noqa: F401  (unique role, dropped afterwards)

PASSWORD = "bi-security test password"


def _tcp(admin_url: str, role: str, database: str | None = None, **kwargs) -> psycopg.Connection:
    """A TCP connection as `role` to the test server (embedded: port in the query; else in the netloc)."""
    parts = urlsplit(admin_url)
    query = parse_qs(parts.query)
    port = query["port"][0] if "port" in query else (parts.port or 5432)
    return psycopg.connect(host="127.0.0.1", port=port, dbname=database or parts.path.lstrip("/"), user=role,
                           password=PASSWORD, connect_timeout=5, **kwargs)


def _refused(conn: psycopg.Connection, statement: str) -> str | None:
    """None when `statement` was refused; else what it returned (the test then names it)."""
    try:
        cur = conn.execute(statement)
        conn.commit()
        return repr(cur.fetchall() if cur.description else cur.statusmessage)
    except psycopg.errors.InsufficientPrivilege:
        conn.rollback()
        return None


@pytest.fixture
def dagster_like_db(pg_admin_url, monkeypatch):
    """A second database standing in for the Dagster storage database, closed to the role."""
    from conftest import _create_database, _drop_database

    name, _ = _create_database(pg_admin_url)
    monkeypatch.setattr(bi_role_module, "CLOSED_DATABASES", (name,), raising=False)
    yield name
    _drop_database(pg_admin_url, name)


def _role_that_lifted_its_read_only_default(url: str, role: str) -> None:
    """Set the role up, then let it switch its read-only default off for good, as it may."""
    with psycopg.connect(url) as conn:
        ensure_bi_role(conn, PASSWORD, role)
    with _tcp(url, role, autocommit=True) as conn:
        conn.execute("SET default_transaction_read_only = off")
        conn.execute("ALTER ROLE CURRENT_USER SET default_transaction_read_only = off")


def test_no_write_is_possible_after_the_role_lifts_its_read_only_default(migrated_url, bi_role):
    _role_that_lifted_its_read_only_default(migrated_url, bi_role)
    with _tcp(migrated_url, bi_role) as conn:
        conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
        assert conn.execute("SHOW transaction_read_only").fetchone() == ("off",)
        assert conn.execute("SELECT count(*) FROM mart.city_scores").fetchone() == (0,)
        conn.commit()
        written = {statement: _refused(conn, statement) for statement in [
            "CREATE TEMP TABLE scratch (x int)",
            "CREATE TEMP VIEW scratch_view AS SELECT 1 AS x",
            "CREATE TABLE public.scratch (x int)",
            "CREATE TABLE mart.scratch (x int)",
            "CREATE SCHEMA scratch",
            "SELECT lo_create(0)",
            "SELECT lo_from_bytea(0, 'x'::bytea)",
            "CREATE FUNCTION public.scratch() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        ]}
    assert {k: v for k, v in written.items() if v is not None} == {}


def test_re_running_bi_role_undoes_what_the_role_set_on_itself(migrated_url, bi_role):
    _role_that_lifted_its_read_only_default(migrated_url, bi_role)
    with _tcp(migrated_url, bi_role) as conn:
        assert conn.execute("SHOW default_transaction_read_only").fetchone() == ("off",)
    with psycopg.connect(migrated_url) as conn:
        ensure_bi_role(conn, PASSWORD, bi_role)
    with _tcp(migrated_url, bi_role) as conn:
        assert conn.execute("SHOW default_transaction_read_only").fetchone() == ("on",)


def test_reads_only_mart_and_cannot_connect_to_the_dagster_database(migrated_url, dagster_like_db, bi_role):
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.cityrank_private_note (x int)")
        ensure_bi_role(conn, PASSWORD, bi_role)
        readable_outside_mart = conn.execute(
            """SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f', 'S')
                 AND n.nspname NOT IN ('mart', 'pg_catalog', 'information_schema') AND left(n.nspname, 3) <> 'pg_'
                 AND has_table_privilege(%s, c.oid, 'SELECT')""", (bi_role,)).fetchall()
        writable_functions = conn.execute(
            """SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
               WHERE n.nspname = 'mart' AND p.provolatile = 'v' AND has_function_privilege(%s, p.oid, 'EXECUTE')""",
            (bi_role,)).fetchall()
        mart_relations = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'mart' AND c.relkind IN ('v', 'm')").fetchone()[0]
    assert readable_outside_mart == []
    assert writable_functions == []  # only STABLE functions: none can write as its owner
    with _tcp(migrated_url, bi_role) as conn:
        readable = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'mart' AND has_table_privilege(c.oid, 'SELECT')").fetchone()[0]
        assert readable == mart_relations > 0
    with pytest.raises(psycopg.OperationalError) as refused:
        _tcp(migrated_url, bi_role, database=dagster_like_db).close()
    assert "permission denied" in str(refused.value)


def test_cityrank_own_role_keeps_its_rights(database_url, dagster_like_db, bi_role):
    """An owner role that is not a superuser (an external PostgreSQL) creates the schema, sets up
    the BI role, and still makes temporary tables and reaches the Dagster database afterwards."""
    from cityrank_pipeline.migrations import upgrade
    from cityrank_pipeline.settings import PROJECT_ROOT

    owner = f"cityrank_owner_test_{uuid.uuid4().hex[:8]}"
    warehouse = urlsplit(database_url).path.lstrip("/")
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} CREATEROLE").format(
            sql.Identifier(owner), sql.Literal(PASSWORD)))
        for database in (warehouse, dagster_like_db):
            admin.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(database),
                                                                            sql.Identifier(owner)))
        admin.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(owner)))
    try:
        with _tcp(database_url, owner) as conn:
            upgrade(conn.info.dsn + f" password='{PASSWORD}'", PROJECT_ROOT / "sql")
            ensure_bi_role(conn, PASSWORD, bi_role)
            conn.commit()
        with _tcp(database_url, owner) as conn:
            conn.execute("CREATE TEMP TABLE staging (x int)")
        with _tcp(database_url, owner, database=dagster_like_db) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        with _tcp(database_url, bi_role) as conn:
            conn.execute("SELECT count(*) FROM mart.city_scores")
    finally:
        with psycopg.connect(database_url, autocommit=True) as admin:
            for database in (warehouse, dagster_like_db):
                admin.execute(sql.SQL("ALTER DATABASE {} OWNER TO CURRENT_USER").format(sql.Identifier(database)))
            admin.execute(sql.SQL("REASSIGN OWNED BY {} TO CURRENT_USER").format(sql.Identifier(owner)))
            admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(owner)))
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(owner)))
