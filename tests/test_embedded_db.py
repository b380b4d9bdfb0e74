"""The private PostgreSQL server: starts from nothing, is reused, stops."""

import psycopg

from cityrank_pipeline.embedded_db import ensure_embedded_server, stop_embedded_server, warehouse_settings


def test_embedded_server_starts_is_reused_and_stops(tmp_path):
    base = tmp_path / "pg"
    first = ensure_embedded_server(base)
    try:
        with psycopg.connect(first.url()) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
            assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
            # Sized for bulk loads (warehouse_settings), not PostgreSQL's small-machine defaults.
            shown = {name: conn.execute(f"SELECT setting, unit FROM pg_settings WHERE name = '{name}'").fetchone()
                     for name in ("shared_buffers", "max_wal_size", "checkpoint_timeout")}
            assert shown["max_wal_size"] == ("4096", "MB") and shown["checkpoint_timeout"] == ("900", "s")
            assert int(shown["shared_buffers"][0]) * 8 == int(warehouse_settings()["shared_buffers"][:-2]) * 1024
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


def test_shared_buffers_follow_the_memory_within_bounds():
    gib = 1 << 30
    assert warehouse_settings(512 * (1 << 20))["shared_buffers"] == "128MB"  # never below the default
    assert warehouse_settings(4 * gib)["shared_buffers"] == "512MB"  # an eighth of the memory
    assert warehouse_settings(64 * gib)["shared_buffers"] == "1024MB"  # at most 1 GB
    assert warehouse_settings(0)["shared_buffers"] == "128MB"  # memory unknown
