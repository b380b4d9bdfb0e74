"""Faults during `cityrank run`: SIGKILL at random points, PostgreSQL stopped mid-run.

The clean reference is a copy of a home loaded by complete first runs (the session fixture).
Each trial starts `cityrank run --force` on the copy and SIGKILLs it: two in five after a
random delay (start-up, migrations, partition registration), the others a random moment after
the first edition run has started (in-process runs or the worker processes). Delays are
seeded and printed, so a failure can be replayed. After every kill no process
of that run may remain; after all of them the next `cityrank run` must exit 0, leave no run
in flight and hold exactly the clean warehouse. The counts are printed for RELIABILITY.md.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from cityrank_pipeline.embedded_db import programs_dir, stop_embedded_server

from conftest import REPO

KILL_TRIALS = 20
SEED = int(os.environ.get("CITYRANK_FAULT_SEED", "20261202"))
IN_FLIGHT = ["STARTED", "STARTING", "QUEUED"]


def _cli(*args: str, env: dict, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cityrank_pipeline.cli", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def _start(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cityrank_pipeline.cli", *args], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _url(home: Path, database: str) -> str:
    port = (home / "postgres" / "port").read_text().strip()
    return f"postgresql://postgres@/{database}?host={home / 'postgres' / 'run'}&port={port}"


def _in_flight_runs(home: Path) -> int:
    with psycopg.connect(_url(home, "cityrank_dagster")) as conn:
        return conn.execute("SELECT count(*) FROM runs WHERE status = ANY(%s)", (IN_FLIGHT,)).fetchone()[0]


def _fact_checksum(home: Path) -> tuple[int, str]:
    """Row count and md5 of every fact row's values (not xmin: a rewrite of equal values is fine)."""
    with psycopg.connect(_url(home, "cityrank")) as conn:
        return conn.execute("SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                            "FROM warehouse.fact_city_score t").fetchone()


def _processes_of(home: Path) -> list[str]:
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


def _no_processes_left(home: Path, within: float = 10.0) -> list[str]:
    deadline = time.monotonic() + within
    while (left := _processes_of(home)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


@pytest.fixture(scope="module")
def fault_home(home_after_two_first_runs, tmp_path_factory):
    """A copy of the loaded home (server stopped for the copy), and its clean fact checksum."""
    source, env, results = home_after_two_first_runs
    assert all(r.returncode == 0 for r in results), results[0].stderr[-2000:] + results[1].stderr[-2000:]
    stop_embedded_server(source / "postgres")
    home = tmp_path_factory.mktemp("faults") / "home"
    shutil.copytree(source, home, symlinks=True)  # as root copytree keeps no owners: restore them
    for path in [home, *home.rglob("*")]:
        original = source / path.relative_to(home)
        info = os.lstat(original)
        os.lchown(path, info.st_uid, info.st_gid)
    env = {**env, "CITYRANK_HOME": str(home)}
    url = _cli("db", "url", env=env)
    assert url.returncode == 0, url.stderr
    yield home, env, _fact_checksum(home)
    _cli("db", "stop", env=env)


def test_sigkill_at_random_points_then_the_next_run_converges(fault_home):
    home, env, clean = fault_home
    rng = random.Random(SEED)
    left_in_flight = 0
    for trial in range(KILL_TRIALS):
        process = _start(env, "run", "--force", "--quiet")
        if trial % 5 < 2:  # start-up: imports, database, migrations, partitions
            delay = rng.uniform(0.5, 6.0)
            time.sleep(delay)
        else:  # while edition runs execute (in-process or in workers), however slow the machine
            started = time.monotonic()
            while _in_flight_runs(home) == 0 and process.poll() is None and time.monotonic() - started < 120:
                time.sleep(0.1)
            time.sleep(rng.uniform(0.0, 4.0))
            delay = time.monotonic() - started
        process.send_signal(signal.SIGKILL)
        process.communicate()
        orphans = _no_processes_left(home)
        assert orphans == [], f"trial {trial} (seed {SEED}, kill after {delay:.1f} s): {orphans}"
        left_in_flight += _in_flight_runs(home)
    print(f"\nfaults: {KILL_TRIALS} SIGKILLs of `cityrank run --force` (seed {SEED}); "
          f"{left_in_flight} run(s) found in flight after a kill")
    assert left_in_flight > 0, "no kill landed while a run was executing; the trials tested nothing"
    result = _cli("run", "--quiet", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert _in_flight_runs(home) == 0
    assert _fact_checksum(home) == clean
    assert _no_processes_left(home) == []
    print(f"faults: after the next run: 0 runs in flight, facts {clean[0]} rows, checksum equal to the clean run")


def test_postgres_stopped_mid_run_fails_in_one_line_then_converges(fault_home):
    home, env, clean = fault_home
    process = _start(env, "run", "--force")
    deadline = time.monotonic() + 120
    while _in_flight_runs(home) == 0:
        assert process.poll() is None and time.monotonic() < deadline, "no run started"
        time.sleep(0.2)
    stop_embedded_server(home / "postgres")
    _, err = process.communicate(timeout=300)
    assert process.returncode != 0
    assert "Traceback" not in err and "DagsterPostgresException" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("cityrank: the database is unreachable or stopped answering"), err[-3000:]
    assert _no_processes_left(home) == []
    result = _cli("run", "--quiet", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert _in_flight_runs(home) == 0
    assert _fact_checksum(home) == clean
