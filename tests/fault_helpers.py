"""What the fault tests share: starting cityrank on a home, and reading what a kill left behind.

Used by tests/test_faults_runs.py and tests/test_faults_ingest_and_sensor.py. Every reading
goes straight to the home's embedded PostgreSQL (its unix socket) or to /proc, never through
cityrank, so a broken cityrank cannot hide what it left.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from cityrank_pipeline.embedded_db import programs_dir

from conftest import REPO

# Replay a failing trial with the seed it printed.
SEED = int(os.environ.get("CITYRANK_FAULT_SEED", "20261202"))
IN_FLIGHT = ["STARTED", "STARTING", "QUEUED"]


def cli(*args: str, env: dict, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cityrank_pipeline.cli", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def default_signals() -> None:
    """In the child, before exec: SIGINT and SIGTERM at their default actions, as a service
    manager or a terminal starts a command. An ignored disposition is inherited across exec,
    and the test process may have one: a shell's `pytest &` ignores SIGINT, and Dagster, run in
    this process, copies SIGINT's disposition onto SIGTERM (dagster._utils.interrupts). A
    signal test would then see its signal ignored and the run finish with 0."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def start(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cityrank_pipeline.cli", *args], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_signals)


def url(home: Path, database: str) -> str:
    port = (home / "postgres" / "port").read_text().strip()
    return f"postgresql://postgres@/{database}?host={home / 'postgres' / 'run'}&port={port}"


def runs_created(home: Path) -> int:
    """Dagster runs ever created on the home, whatever their status."""
    with psycopg.connect(url(home, "cityrank_dagster")) as conn:
        return conn.execute("SELECT count(*) FROM runs").fetchone()[0]


def in_flight_runs(home: Path, job: str | None = None) -> int:
    """Dagster runs (of `job`, or any) QUEUED, STARTING or STARTED."""
    query = "SELECT count(*) FROM runs WHERE status = ANY(%s)" + (" AND pipeline_name = %s" if job else "")
    with psycopg.connect(url(home, "cityrank_dagster")) as conn:
        return conn.execute(query, (IN_FLIGHT, job) if job else (IN_FLIGHT,)).fetchone()[0]


def fact_checksum(home: Path, index_code: str | None = None) -> tuple[int, str]:
    """Row count and md5 of every fact row's values (of one index, or all); not xmin: a rewrite
    of equal values is fine."""
    where = " WHERE t.index_code = %s" if index_code else ""
    with psycopg.connect(url(home, "cityrank")) as conn:
        return conn.execute("SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                            "FROM warehouse.fact_city_score t" + where, (index_code,) if index_code else ()).fetchone()


def processes_of(home: Path) -> list[str]:
    """Processes (other than the PostgreSQL server) whose environment names this home."""
    marker = f"CITYRANK_HOME={home}".encode()
    server = str(programs_dir() / "postgres")
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker not in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                continue
            if os.readlink(f"/proc/{pid}/exe") == server:
                continue
            command_line = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            found.append(f"{pid}: {command_line[:120]}")
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def no_processes_left(home: Path, within: float = 10.0) -> list[str]:
    deadline = time.monotonic() + within
    while (left := processes_of(home)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def reap_killed(process: subprocess.Popen, home: Path, timeout: float = 60.0) -> str:
    """Collect a killed process and its output, returning its stderr. Its pipes close only when
    every process that inherited them is gone too (multiprocessing's resource tracker included,
    which writes its warnings there after the process died), so a child that outlived it would
    hang communicate() for ever: fail instead, naming what is left."""
    try:
        return process.communicate(timeout=timeout)[1]
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the killed process's output stayed open {timeout:.0f} s: a child outlived it: "
                             f"{processes_of(home)}") from None
