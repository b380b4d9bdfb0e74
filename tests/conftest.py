"""Shared fixtures: a real PostgreSQL for every test that needs one.

With CITYRANK_TEST_DATABASE_URL set (an admin URL of an existing server, e.g.
postgresql://postgres@127.0.0.1:5432/postgres) tests use that server; otherwise one private
embedded server is started for the session. Either way each test gets its own fresh
database, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CITYRANK_SHARED_DIR", REPO.parent / "shared"))


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def pg_admin_url(tmp_path_factory):
    configured = os.environ.get("CITYRANK_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    from cityrank_pipeline.embedded_db import ensure_embedded_server, stop_embedded_server

    base = tmp_path_factory.mktemp("pg") / "server"
    server = ensure_embedded_server(base)
    yield server.url("postgres")
    stop_embedded_server(base)


def _create_database(admin_url: str) -> tuple[str, str]:
    name = f"cityrank_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name, with_database(admin_url, name)


def _drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def database_url(pg_admin_url):
    """A fresh, empty database on the test server."""
    name, url = _create_database(pg_admin_url)
    yield url
    _drop_database(pg_admin_url, name)


@pytest.fixture
def cityrank_env(tmp_path, monkeypatch, database_url):
    """Environment for code that reads settings: a private home, the test database.

    DAGSTER_HOME and the storage URL are set here first so that whatever the code under test
    exports is undone after the test.
    """
    home = tmp_path / "home"
    monkeypatch.setenv("CITYRANK_HOME", str(home))
    monkeypatch.setenv("CITYRANK_DATABASE_URL", database_url)
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    monkeypatch.setenv("CITYRANK_DAGSTER_STORAGE_URL", "unset")
    monkeypatch.delenv("CITYRANK_DAGSTER_DATABASE_URL", raising=False)
    monkeypatch.delenv("CITYRANK_FOCUS_CITY", raising=False)
    monkeypatch.delenv("CITYRANK_PEERS", raising=False)
    from cityrank_pipeline.settings import load_settings

    return load_settings()


@pytest.fixture
def migrated_url(database_url):
    """A database with every migration and view applied."""
    from cityrank_pipeline.migrations import upgrade
    from cityrank_pipeline.settings import PROJECT_ROOT

    upgrade(database_url, PROJECT_ROOT / "sql")
    return database_url


@pytest.fixture(scope="session")
def catalog():
    from cityrank_pipeline.catalog import load_catalog

    return load_catalog(REPO / "assets")


def table_snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of every warehouse/meta table (ordered), plus each row's xmin so that a write
    that leaves values equal is still caught."""
    out = {}
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            """SELECT table_schema || '.' || table_name FROM information_schema.tables
               WHERE table_schema IN ('warehouse', 'meta') AND table_type = 'BASE TABLE'
               ORDER BY 1"""
        ).fetchall()
        for (table,) in tables:
            schema, name = table.split(".")
            query = sql.SQL("SELECT xmin::text, t.* FROM {}.{} t").format(sql.Identifier(schema), sql.Identifier(name))
            out[table] = sorted((tuple(r) for r in conn.execute(query).fetchall()), key=repr)
    return out


@pytest.fixture(scope="session")
def home_after_two_first_runs(tmp_path_factory):
    """A fresh CITYRANK_HOME (embedded server) on which two `cityrank run`s were started at once.

    Shared by the concurrency tests (which check how the two ended) and the fault tests (which
    copy the loaded home as their clean reference), because a first run loads every edition and
    costs about a minute. Returns (home, environment, the two CompletedProcess results).
    """
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITYRANK_", "DAGSTER_"))}
    home = tmp_path_factory.mktemp("two_first_runs") / "home"
    env["CITYRANK_HOME"] = str(home)
    command = [sys.executable, "-m", "cityrank_pipeline.cli", "run", "--quiet"]
    runs = [subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    results = []
    for run in runs:
        out, err = run.communicate(timeout=900)
        results.append(subprocess.CompletedProcess(command, run.returncode, out, err))
    yield home, env, results
    subprocess.run([sys.executable, "-m", "cityrank_pipeline.cli", "db", "stop"], env=env, cwd=REPO,
                   capture_output=True, timeout=120)
