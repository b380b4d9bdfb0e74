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
import time

import pytest

from cityrank_pipeline.embedded_db import stop_embedded_server

from fault_helpers import SEED
from fault_helpers import cli as _cli
from fault_helpers import fact_checksum as _fact_checksum
from fault_helpers import in_flight_runs as _in_flight_runs
from fault_helpers import no_processes_left as _no_processes_left
from fault_helpers import reap_killed
from fault_helpers import start as _start

KILL_TRIALS = 20


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
        reap_killed(process, home)
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
