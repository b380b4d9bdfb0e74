"""The BI role: reads every mart view (through the views' owner rights), nothing else, writes nothing.

Connects as the role over TCP on the test server, as a BI tool would (scram password on
127.0.0.1); against an external test server (CITYRANK_TEST_DATABASE_URL) it falls back to
SET ROLE. Roles are cluster-wide, so each test uses its own role name and drops it.
"""

import os
import uuid
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from psycopg import sql

from cityrank_pipeline.bi_role import BiRoleError, ensure_bi_role
from cityrank_pipeline.cli import main

from test_views_fixture import rows, seoul_db, seoul_template  # noqa: F401

PASSWORD = "correct horse battery staple ' \\ $1"


@pytest.fixture
def bi_role(pg_admin_url):
    """A unique role name; afterwards its grants are dropped in every test database and the role too."""
    from conftest import with_database

    role = f"cityrank_bi_test_{uuid.uuid4().hex[:8]}"
    yield role
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
            return
        databases = [r[0] for r in admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'cityrank\\_test\\_%%' AND datallowconn").fetchall()]
        for name in databases:
            try:
                with psycopg.connect(with_database(pg_admin_url, name), autocommit=True) as conn:
                    conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            except psycopg.OperationalError:
                # Another test (another pytest-xdist worker on a shared CITYRANK_TEST_DATABASE_URL
                # server) dropped its database meanwhile; anything else is a real failure.
                if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                    raise
        admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@contextmanager
def connect_as(admin_url: str, role: str, password: str):
    """A session as `role`: TCP with its password on the embedded test server, else SET ROLE."""
    parts = urlsplit(admin_url)
    query = parse_qs(parts.query)
    if os.environ.get("CITYRANK_TEST_DATABASE_URL") or "port" not in query:
        with psycopg.connect(admin_url) as conn:
            conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
            yield conn
        return
    with psycopg.connect(host="127.0.0.1", port=query["port"][0], dbname=parts.path.lstrip("/"), user=role,
                         password=password, connect_timeout=5) as conn:
        yield conn


# The spine's flat views and this feature's analysis views. (A mart view that calls a function
# reading meta or warehouse needs that function to be SECURITY DEFINER to work for the role.)
ANALYSIS_VIEWS = ("city_scores", "city_scorecard", "peer_group", "score_history", "top5_gap", "weak_indicators",
                  "peer_comparison", "department_actions")


def _denied(conn: psycopg.Connection, statement: str) -> bool:
    try:
        conn.execute(statement)
    except (psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction):
        conn.rollback()
        return True
    except psycopg.errors.ObjectNotInPrerequisiteState:  # "cannot insert into view": not writable anyway
        conn.rollback()
        return True
    conn.rollback()
    return False


def test_reads_every_mart_view_and_answers_the_top5_question(seoul_db, bi_role):
    with psycopg.connect(seoul_db) as conn:
        assert ensure_bi_role(conn, PASSWORD, bi_role) is True
        every_mart_relation = [r[0] for r in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'mart' AND c.relkind IN ('v', 'm') ORDER BY 1").fetchall()]
        owner_departments = conn.execute("SELECT count(DISTINCT department) FROM warehouse.dim_measure").fetchone()[0]
    assert set(ANALYSIS_VIEWS) <= set(every_mart_relation)
    with connect_as(seoul_db, bi_role, PASSWORD) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (bi_role,)
        # Every view in mart, including those that call functions (release calendar,
        # pre-evaluation): a view a BI user cannot read is a broken view.
        for name in every_mart_relation:
            conn.execute(sql.SQL("SELECT * FROM mart.{} LIMIT 1").format(sql.Identifier(name)))
        got = conn.execute("SELECT index_code, rank, trend FROM mart.top5_gap WHERE city = 'Seoul' ORDER BY 1").fetchall()
        assert got == [("GFCI", 10, "10 editions to close"), ("GPCI", 6, "2 editions to close")]
        # Plain views (score_history) and functions work too, with no grant on warehouse.
        departments = conn.execute("SELECT count(*) FROM mart.department_actions").fetchone()[0]
        assert departments == owner_departments
        assert conn.execute("SELECT count(*) FROM mart.score_history WHERE city = 'Seoul'").fetchone()[0] > 0


def test_cannot_read_warehouse_meta_or_public_nor_write_anything(seoul_db, bi_role):
    with psycopg.connect(seoul_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.cityrank_private_note (x int)")
        conn.execute("CREATE VIEW mart.simple_updatable AS SELECT city_key FROM meta.focus_city")
        ensure_bi_role(conn, PASSWORD, bi_role)
    with connect_as(seoul_db, bi_role, PASSWORD) as conn:
        # Read-only sessions are only the second fence: lift it so the grants are what is tested.
        conn.execute("SET default_transaction_read_only = off")
        conn.commit()
        for statement in [
            "SELECT * FROM warehouse.fact_city_score", "SELECT * FROM warehouse.dim_city", "SELECT * FROM meta.snapshot",
            "SELECT * FROM meta.focus_city", "SELECT * FROM public.cityrank_private_note",
            "INSERT INTO warehouse.dim_city (city_key, name, country) VALUES ('x', 'X', 'Y')",
            "UPDATE warehouse.fact_city_score SET rank = 1", "DELETE FROM warehouse.fact_city_score",
            "INSERT INTO mart.simple_updatable VALUES ('x')", "UPDATE mart.simple_updatable SET city_key = 'x'",
            "DELETE FROM mart.simple_updatable", "DELETE FROM mart.top5_gap", "REFRESH MATERIALIZED VIEW mart.top5_gap",
            "CREATE TABLE mart.mine (x int)", "CREATE TABLE public.mine (x int)",
            "SELECT meta.define_matview('x', 'SELECT 1', ARRAY['x'])",
        ]:
            assert _denied(conn, statement), statement
    privileges = rows(seoul_db, """SELECT c.relname, p FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
                                          unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) p
                                   WHERE n.nspname IN ('mart', 'warehouse', 'meta') AND c.relkind IN ('r', 'v', 'm')
                                     AND has_table_privilege(%s, c.oid, p)""", (bi_role,))
    assert privileges == []


def test_future_mart_views_are_readable_and_the_password_can_change(seoul_db, bi_role):
    with psycopg.connect(seoul_db, autocommit=True) as conn:
        assert ensure_bi_role(conn, "first password", bi_role) is True
        conn.execute("CREATE VIEW mart.added_later AS SELECT index_code FROM warehouse.dim_index")
        assert ensure_bi_role(conn, PASSWORD, bi_role) is False  # updated, not re-created
    with connect_as(seoul_db, bi_role, PASSWORD) as conn:
        assert sorted(conn.execute("SELECT index_code FROM mart.added_later").fetchall()) == [("GFCI",), ("GPCI",)]
    if "port" in parse_qs(urlsplit(seoul_db).query) and not os.environ.get("CITYRANK_TEST_DATABASE_URL"):
        with pytest.raises(psycopg.OperationalError):
            with connect_as(seoul_db, bi_role, "first password"):
                pass


def test_errors_never_carry_the_password(seoul_db, bi_role):
    with psycopg.connect(seoul_db) as conn:
        conn.execute("SET default_transaction_read_only = on")
        conn.commit()
        with pytest.raises(BiRoleError) as raised:
            ensure_bi_role(conn, PASSWORD, bi_role)
    message = str(raised.value)
    assert bi_role in message and "read-only" in message
    assert PASSWORD not in message and "SCRAM" not in message and raised.value.__cause__ is None
    with pytest.raises(BiRoleError):
        with psycopg.connect(seoul_db) as conn:
            ensure_bi_role(conn, "", bi_role)


def test_cli_reads_the_password_from_the_named_variable_only(cityrank_env, bi_role, monkeypatch, capsys):
    import cityrank_pipeline.bi_role as module

    monkeypatch.setattr(module, "BI_ROLE", bi_role)
    monkeypatch.setenv("CITYRANK_HOME", str(cityrank_env.home))
    monkeypatch.delenv("BI_SECRET", raising=False)
    assert main(["db", "bi-role", "--password-from-env", "BI_SECRET"]) == 2
    assert "BI_SECRET" in capsys.readouterr().err
    monkeypatch.setenv("BI_SECRET", PASSWORD)
    assert main(["db", "bi-role", "--password-from-env", "BI_SECRET"]) == 0
    out = capsys.readouterr()
    assert f"role {bi_role} created" in out.err
    assert PASSWORD not in out.out + out.err
    with connect_as(cityrank_env.database_url, bi_role, PASSWORD) as conn:
        assert conn.execute("SELECT count(*) FROM mart.top5_gap").fetchone() == (0,)
