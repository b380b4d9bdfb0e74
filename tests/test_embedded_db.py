"""The private PostgreSQL server: starts from nothing, is reused, stops."""

import psycopg

from cityrank_pipeline.embedded_db import ensure_embedded_server, stop_embedded_server


def test_embedded_server_starts_is_reused_and_stops(tmp_path):
    base = tmp_path / "pg"
    first = ensure_embedded_server(base)
    try:
        with psycopg.connect(first.url()) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
            assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
        pid_before = (base / "data" / "postmaster.pid").read_text().splitlines()[0]
        again = ensure_embedded_server(base)
        assert again.port == first.port
        assert (base / "data" / "postmaster.pid").read_text().splitlines()[0] == pid_before
    finally:
        assert stop_embedded_server(base) is True
    assert stop_embedded_server(base) is False


def test_tcp_requires_a_password(tmp_path):
    base = tmp_path / "pg"
    server = ensure_embedded_server(base)
    try:
        try:
            psycopg.connect(server.tcp_url("postgres", "postgres"), connect_timeout=5).close()
            raised = None
        except psycopg.OperationalError as exc:
            raised = exc
        assert raised is not None and "password" in str(raised).lower()
    finally:
        stop_embedded_server(base)
