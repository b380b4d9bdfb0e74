"""The private server changes no permission outside its folder, admits one OS user, leaks no password.

Each test starts its own server in a temporary folder (never the session's test server), under
a parent folder closed with mode 0700 as root's home is: that is the case where opening the
folders above the server to everyone used to look necessary.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from psycopg import sql

from cityrank_pipeline.embedded_db import ensure_embedded_server, programs_dir, stop_embedded_server

from conftest import REPO, _create_database, _drop_database

SECRET = "Zq7-not-for-your-eyes"


@pytest.fixture
def closed_home(tmp_path):
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    closed.chmod(0o700)
    return closed / "home"


def _ancestors(path: Path) -> dict[str, tuple[int, int, int]]:
    return {str(p): (os.stat(p).st_mode, os.stat(p).st_uid, os.stat(p).st_gid) for p in path.parents}


def test_starting_the_server_changes_no_permission_outside_its_home(closed_home):
    closed_home.mkdir()
    before = _ancestors(closed_home)
    base = closed_home / "postgres"
    server = ensure_embedded_server(base)
    try:
        with psycopg.connect(server.url()) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        assert _ancestors(closed_home) == before
        assert ensure_embedded_server(base) == server  # reused, still nothing changed
        assert _ancestors(closed_home) == before
    finally:
        stop_embedded_server(base)
    assert _ancestors(closed_home) == before


def test_the_socket_admits_only_the_owner_of_the_home(closed_home):
    base = closed_home / "postgres"
    server = ensure_embedded_server(base)
    try:
        socket_file = server.socket_dir / f".s.PGSQL.{server.port}"
        assert stat.S_IMODE(os.stat(server.socket_dir).st_mode) == 0o700
        assert stat.S_IMODE(os.stat(socket_file).st_mode) == 0o700
        with psycopg.connect(server.url()) as conn:
            assert conn.execute("SHOW unix_socket_permissions").fetchone() == ("0700",)
        if os.geteuid() == 0:  # only root can become another local user to try
            attempt = subprocess.run(["runuser", "-u", "nobody", "--", str(programs_dir() / "psql"), server.url(),
                                      "-c", "SELECT 1"], capture_output=True, text=True, timeout=30)
            assert attempt.returncode != 0, attempt.stdout
            assert "Permission denied" in attempt.stderr
    finally:
        stop_embedded_server(base)


def _env(home: Path, url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITYRANK_", "DAGSTER_"))}
    return {**env, "CITYRANK_HOME": str(home), "CITYRANK_DATABASE_URL": url}


def _run_watching_ps(args: list[str], env: dict) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run cityrank, sampling every process's command line while it runs."""
    seen: set[str] = set()
    process = subprocess.Popen([sys.executable, "-m", "cityrank_pipeline.cli", *args], env=env, cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while process.poll() is None:
        seen.update(subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout.splitlines())
        time.sleep(0.1)
    out, err = process.communicate()
    return subprocess.CompletedProcess(args, process.returncode, out, err), seen


@pytest.fixture
def password_db(pg_admin_url):
    """A database owned by a login role with a password, reached over TCP with it in the URL."""
    role = f"cityrank_cred_test_{uuid.uuid4().hex[:8]}"
    name, _ = _create_database(pg_admin_url)
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(SECRET)))
        admin.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(name), sql.Identifier(role)))
    parts = urlsplit(pg_admin_url)
    port = parse_qs(parts.query)["port"][0] if "port" in parse_qs(parts.query) else (parts.port or 5432)
    yield f"postgresql://{role}:{SECRET}@127.0.0.1:{port}/{name}"
    _drop_database(pg_admin_url, name)
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_the_password_is_never_in_ps_output_logs_run_records_or_errors(tmp_path, password_db):
    home = tmp_path / "home"
    fixture = REPO / "tests/fixtures/publishers/gser/gser2025_ranking_top40.html"
    result, command_lines = _run_watching_ps(["ingest", "--index", "GSER", str(fixture)], _env(home, password_db))
    assert result.returncode == 0, result.stderr[-2000:]
    assert any("cityrank_pipeline.cli" in line for line in command_lines)
    assert [line for line in command_lines if SECRET in line] == []
    assert SECRET not in result.stdout + result.stderr
    for path in home.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    with psycopg.connect(password_db) as conn:  # Dagster's run storage shares this database here
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'").fetchall()]
        assert "runs" in tables and "event_logs" in tables
        for table in tables:
            hits = conn.execute(sql.SQL("SELECT count(*) FROM public.{} t WHERE t::text LIKE %s").format(
                sql.Identifier(table)), (f"%{SECRET}%",)).fetchone()[0]
            assert hits == 0, table


@pytest.mark.parametrize("url", [
    f"postgresql://cityrank:{SECRET}%zz@127.0.0.1:1/cityrank",  # malformed: libpq quotes the bad token
    f"postgresql://cityrank:{SECRET}@x@127.0.0.1:1/cityrank",  # an unencoded @: the rest reads as a host
    f"postgresql://cityrank:{SECRET}@127.0.0.1:1/cityrank",  # nothing listens there
])
def test_a_bad_database_url_fails_in_one_line_without_the_password(tmp_path, url):
    result = subprocess.run([sys.executable, "-m", "cityrank_pipeline.cli", "db", "upgrade"],
                            env=_env(tmp_path / "home", url), cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert SECRET not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("cityrank: the database is unreachable")
