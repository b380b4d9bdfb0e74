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


@pytest.fixture(scope="session")
def served_instance(tmp_path_factory, pg_admin_url):
    """One `cityrank serve` (tests/serving.py) for tests/test_serve.py and tests/test_ui_browser.py:
    starting it, and letting the daemon load the first editions, costs most of a minute."""
    from contextlib import ExitStack

    from http_fixture_server import serve as serve_site
    from serving import start_served_instance
    from test_e2e_publishers import publisher_site

    from cityrank_pipeline.catalog import load_catalog

    root = tmp_path_factory.mktemp("served")
    name, url = _create_database(pg_admin_url)
    with ExitStack() as stack:
        stack.callback(_drop_database, pg_admin_url, name)
        site = stack.enter_context(serve_site(publisher_site(load_catalog(REPO / "assets"))))
        served = None
        try:
            served = start_served_instance(root, url, site)
            yield served
        finally:
            if served is not None and served.running():  # the SIGTERM test did not run, or failed
                try:
                    served.terminate()
                except Exception:  # noqa: BLE001 - a teardown must not leave the processes behind
                    served.kill()
            print(f"cityrank serve log: {root / 'serve.log'}")


# Session fixtures that cost most of a minute each: under pytest-xdist (`-n`, see pyproject.toml)
# the tests that use one run in the same worker, so each is built once, not once per worker.
SHARED_SESSION_FIXTURES = ("served_instance", "home_after_two_first_runs")


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the xdist_group marks
def pytest_collection_modifyitems(config, items):
    """The tests that use the shared `cityrank serve` run one after another, from where the first
    of them was collected, so the server is up no longer than they need (tests/test_ui_browser.py
    would otherwise wait some 70 test files); the one marked `stops_served_instance` goes last.

    Under `--dist loadgroup` each expensive session fixture's users form one group (one worker)."""
    for item in items:
        for name in SHARED_SESSION_FIXTURES:
            if name in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.xdist_group(name))
                break
    users = [item for item in items if "served_instance" in getattr(item, "fixturenames", ())]
    if not users:
        return
    at = items.index(users[0])
    rest = [item for item in items if item not in users]
    ordered = sorted(users, key=lambda item: item.get_closest_marker("stops_served_instance") is not None)
    items[:] = rest[:at] + ordered + rest[at:]


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_auto_num_workers(config):
    """`-n auto`: one worker per core the process may use, plus one (at most 4, `--maxprocesses`).

    The heaviest tests spend part of their time waiting on processes they started (a served
    instance's minute tick, a fault trial's kill delay, a code server's start); one extra worker
    keeps both cores busy meanwhile. On a 2-core VM: 588 s with two workers (one run), 530, 531
    and 591 s with three (three runs); the machine's noise is of the same order as the gain. On
    a faster 2-core VM, 268 and 273 s with three and 268 s with four: the suite then keeps the
    cores mostly busy (443 CPU-seconds in 268 s, `python -m bench.suite_cpu`), so a fourth
    worker gains nothing.
    """
    return len(os.sched_getaffinity(0)) + 1 if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1) + 1


def pytest_configure(config):
    config.addinivalue_line("markers", "stops_served_instance: stops the session's `cityrank serve`; runs after its other users")
