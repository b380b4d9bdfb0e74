"""Two cityrank commands at once on one home: both succeed (one waits), no traceback, no duplicate."""

from __future__ import annotations

import subprocess
import sys

import psycopg
from psycopg import sql

from conftest import REPO

GSER_FILE = REPO / "tests/fixtures/publishers/gser/gser2025_ranking_top40.html"


def _warehouse_url(env: dict) -> str:
    result = subprocess.run([sys.executable, "-m", "cityrank_pipeline.cli", "db", "url"], env=env, cwd=REPO,
                            capture_output=True, text=True, timeout=120, check=True)
    return result.stdout.strip()


def _duplicate_facts(url: str) -> tuple[int, int]:
    """(fact rows, distinct fact keys): equal when nothing was loaded twice."""
    with psycopg.connect(url) as conn:
        key = [r[0] for r in conn.execute(
            """SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
               WHERE i.indrelid = 'warehouse.fact_city_score'::regclass AND i.indisprimary""").fetchall()]
        assert key, "fact_city_score has a primary key"
        query = sql.SQL("SELECT count(*), count(DISTINCT ({})) FROM warehouse.fact_city_score").format(
            sql.SQL(", ").join(map(sql.Identifier, key)))
        return conn.execute(query).fetchone()


def test_two_first_runs_at_once_both_succeed_without_duplicates(home_after_two_first_runs):
    home, env, results = home_after_two_first_runs
    for result in results:
        assert result.returncode == 0, result.stderr[-3000:]
        assert "Traceback" not in result.stderr
    assert results[0].stdout == results[1].stdout  # the same scorecard
    assert any("waiting for it to finish" in r.stderr for r in results)  # the second waited, said so
    rows, distinct = _duplicate_facts(_warehouse_url(env))
    assert rows == distinct > 0
    with psycopg.connect(_warehouse_url(env)) as conn:
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'cityrank%'").fetchone() == (2,)


def test_two_ingests_of_the_same_file_at_once(home_after_two_first_runs):
    home, env, _ = home_after_two_first_runs
    command = [sys.executable, "-m", "cityrank_pipeline.cli", "ingest", "--index", "GSER", str(GSER_FILE)]
    processes = [subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    outputs = [p.communicate(timeout=600) + (p.returncode,) for p in processes]
    for out, err, code in outputs:
        assert code == 0, err[-3000:]
        assert "Traceback" not in err
    # The one that waited found the file already there and loaded.
    assert sum("already ingested (same bytes)" in out for out, _, _ in outputs) == 1
    url = _warehouse_url(env)
    rows, distinct = _duplicate_facts(url)
    assert rows == distinct
    with psycopg.connect(url) as conn:
        snapshots = conn.execute("SELECT count(*) FROM meta.snapshot WHERE original_name = %s",
                                 (GSER_FILE.name,)).fetchone()[0]
    assert snapshots == 1
    stored = [p for p in (home / "raw").rglob("*") if p.is_file() and p.read_bytes() == GSER_FILE.read_bytes()]
    assert len(stored) == 1
