"""SIGKILL at random points of `cityrank ingest` and of a sensor-launched run (landing folder).

One home (embedded PostgreSQL, no CITYRANK_DATABASE_URL) is prepared as a command leaves it
before its first edition: database migrated, Dagster's storage made, nothing ingested. That
state is saved (both databases as templates, the home's folders as a copy) and every trial
starts from it, so every kill meets the whole of the work, not a file already loaded. The
clean reference is one unkilled `cityrank ingest` of the GSER 2025 fixture from that state.

- `cityrank ingest --index GSER gser2025_ranking_top40.html` is SIGKILLed once per phase of
  INGEST_PHASES (and round, CITYRANK_FAULT_ROUNDS), each time at a seeded random moment: in
  the 1.5 s after the file is stored (edition registration, curated registration,
  partitions, the run's start), while the edition run executes, while the mart refresh runs
  (a moment within as long as the clean ingest's run of that job took). Before the file is
  stored an ingest writes nothing; start-up kills of `cityrank run` are in test_faults_runs.
- The process killed in SENSOR_PHASES is `tests/landing_sensor_process.py`: it evaluates the
  real `gser_new_editions` sensor's tick on the home's Dagster instance (the tick ingests the
  file dropped into landing/gser/) and executes the run the tick requests in the same process.
  It is killed just after the tick stored the file, and while the run executes. It stands in
  for the daemon but is not it; see its docstring for what differs (the daemon's own run
  worker, launched by the code server, is not what is killed here).

After each kill: no process of the home is left and every registered edition's file is stored.
Then the next command (the same `cityrank ingest`, or the sensor process again) must exit 0,
leave no Dagster run QUEUED/STARTING/STARTED, hold exactly one snapshot of the file and the
clean run's GSER facts (row count and md5 of every row); after `cityrank ingest` also the clean
run's mart. A kill aimed at a run that finds the run already ended (a busy machine ran it
faster or slower than the clean run) is checked the same way and then drawn again, up to
RUN_PHASE_ATTEMPTS times. Delays are seeded (CITYRANK_FAULT_SEED, printed) so a failure can be replayed.

The mart check found a bug: an ingest killed after its edition loaded but before the mart
refresh left the mart without the edition, and the next ingest ("already ingested") did not
refresh it. `runner.ingest_and_run` now also refreshes when the mart's fingerprint is stale.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from cityrank_pipeline.orchestration.jobs import edition_job_name
from cityrank_pipeline.snapshots import RawStore, SnapshotError, sha256_of

from conftest import REPO
from fault_helpers import SEED, cli, fact_checksum, in_flight_runs, no_processes_left, reap_killed, url

# The prepared home (a loaded warehouse, ~11 s) is built once: the module runs in one pytest-xdist worker.
pytestmark = pytest.mark.xdist_group("faults_ingest_and_sensor")

CODE, EDITION = "GSER", "2025"
FILE = REPO / "tests/fixtures/publishers/gser/gser2025_ranking_top40.html"
SENSOR_PROCESS = REPO / "tests/landing_sensor_process.py"
EDITION_JOB = edition_job_name(CODE)
# One kill per phase and round: a trial (kill, next start, checks) costs ~16 s on 2 cores, so one
# round aimed at every window keeps the file near 90 s; CITYRANK_FAULT_ROUNDS=N repeats them.
ROUNDS = int(os.environ.get("CITYRANK_FAULT_ROUNDS", "1"))
INGEST_PHASES = ["stored", "edition run", "mart refresh"] * ROUNDS
SENSOR_PHASES = ["stored", "edition run"] * ROUNDS
DATABASES = {"cityrank": "faultbase_warehouse", "cityrank_dagster": "faultbase_dagster"}
# A kill aimed at a run that finds it already ended is drawn again, at most this many times in all.
RUN_PHASE_ATTEMPTS = 3
PREPARE = ("from cityrank_pipeline.settings import load_settings; from cityrank_pipeline.preparation import prepare; "
           "from cityrank_pipeline.runner import open_instance; s = load_settings(); open_instance(s, prepare(s)[0])")


@dataclass
class Home:
    path: Path
    env: dict
    saved: Path  # the home's folders (not postgres/) as the prepared state left them
    clean_facts: tuple[int, str]
    clean_mart: dict
    windows: dict[str, float]  # seconds a kill may wait into each phase (runs: as long as the clean run's)


def _mart_checksum(home: Path) -> dict[str, tuple[int, str]]:
    """Rows and md5 of every materialised mart view (what the scorecard and the BI role read)."""
    with psycopg.connect(url(home, "cityrank")) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT matviewname FROM pg_matviews WHERE schemaname = 'mart' ORDER BY 1").fetchall()]
        return {name: conn.execute(sql.SQL(
            "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM mart.{} t").format(
            sql.Identifier(name))).fetchone() for name in names}


def _save(home: Path, saved: Path) -> None:
    with psycopg.connect(url(home, "postgres"), autocommit=True) as conn:
        for name, template in DATABASES.items():
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(template), sql.Identifier(name)))
    saved.mkdir()
    for entry in home.iterdir():
        if entry.name != "postgres":
            (shutil.copytree if entry.is_dir() else shutil.copy2)(entry, saved / entry.name)


def _restore(home: Path, saved: Path) -> None:
    """Back to the prepared state: both databases from their templates, the folders from the copy."""
    with psycopg.connect(url(home, "postgres"), autocommit=True) as conn:
        for name, template in DATABASES.items():
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
    for entry in home.iterdir():
        if entry.name != "postgres":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    for entry in saved.iterdir():
        (shutil.copytree if entry.is_dir() else shutil.copy2)(entry, home / entry.name)


def _registry_problems(home: Path) -> list[str]:
    """Every edition registered (current, previous or in its history) whose file is not stored intact."""
    store, problems = RawStore(home / "raw"), []
    for path in sorted((home / "raw" / "editions").glob("*/*.json")):
        try:
            records = json.loads(path.read_text())
        except ValueError as exc:
            problems.append(f"{path.relative_to(home)}: unreadable ({exc})")
            continue
        for record in records if isinstance(records, list) else [records]:
            try:
                store.get(record["snapshot_id"])
                store.read_bytes(record["snapshot_id"])
            except SnapshotError as exc:
                problems.append(f"{path.relative_to(home)}: {record['index_code']} {record['edition']}: {exc}")
    return problems


def _snapshots_of_file(home: Path) -> tuple[list[Path], int]:
    """Files in the raw store holding the fixture's bytes (temporary files aside), and its meta.snapshot rows."""
    data = FILE.read_bytes()
    stored = [p for p in (home / "raw").rglob("*") if p.is_file() and not p.name.startswith(".tmp-")
              and p.stat().st_size == len(data) and p.read_bytes() == data]
    with psycopg.connect(url(home, "cityrank")) as conn:
        rows = conn.execute("SELECT count(*) FROM meta.snapshot WHERE snapshot_id = %s", (sha256_of(data),)).fetchone()[0]
    return stored, rows


def _kill_in(process: subprocess.Popen, phase: str, rng: random.Random, home: Home) -> tuple[float, bool]:
    """SIGKILL `process` at a seeded random moment of `phase`; (seconds after start, whether it still ran)."""
    started = time.monotonic()
    sha = sha256_of(FILE.read_bytes())
    reached = {"stored": lambda: (home.path / "raw" / "objects" / sha[:2] / sha).exists(),
               "edition run": lambda: in_flight_runs(home.path, EDITION_JOB) > 0,
               "mart refresh": lambda: in_flight_runs(home.path, "refresh_views_job") > 0}[phase]
    while not reached() and process.poll() is None and time.monotonic() - started < 120:
        time.sleep(0.1)
    time.sleep(rng.uniform(0.0, home.windows[phase]))
    running = process.poll() is None
    process.send_signal(signal.SIGKILL)
    reap_killed(process, home.path)
    return time.monotonic() - started, running


def _check_after_kill(home: Home, what: str) -> int:
    """Nothing of the killed process left, the registry whole; returns the runs it left in flight."""
    assert no_processes_left(home.path) == [], what
    assert _registry_problems(home.path) == [], what
    return in_flight_runs(home.path)


def _check_converged(home: Home, what: str, *, mart: bool) -> None:
    assert in_flight_runs(home.path) == 0, what
    assert no_processes_left(home.path) == [], what
    stored, rows = _snapshots_of_file(home.path)
    sha = sha256_of(FILE.read_bytes())
    assert stored == [home.path / "raw" / "objects" / sha[:2] / sha] and rows == 1, f"{what}: {stored}, {rows} row(s)"
    assert _registry_problems(home.path) == [], what
    assert RawStore(home.path / "raw").edition_source(CODE, EDITION).snapshot_id == sha, what
    assert fact_checksum(home.path, CODE) == home.clean_facts, what
    if mart:
        assert _mart_checksum(home.path) == home.clean_mart, what


@pytest.fixture(scope="module")
def prepared_home(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults_ingest")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITYRANK_", "DAGSTER_"))}
    home = root / "home"
    env["CITYRANK_HOME"] = str(home)
    subprocess.run([sys.executable, "-c", PREPARE], env=env, cwd=REPO, check=True, capture_output=True, timeout=600)
    _save(home, root / "saved")
    began = time.monotonic()
    clean = cli("ingest", "--index", CODE, str(FILE), env=env)
    seconds = time.monotonic() - began
    assert clean.returncode == 0, clean.stderr[-3000:]
    with psycopg.connect(url(home, "cityrank_dagster")) as conn:
        lengths = dict(conn.execute("SELECT pipeline_name, max(end_time - start_time) FROM runs GROUP BY 1").fetchall())
    windows = {"stored": 1.5, "edition run": lengths[EDITION_JOB], "mart refresh": lengths["refresh_views_job"]}
    prepared = Home(home, env, root / "saved", fact_checksum(home, CODE), _mart_checksum(home), windows)
    assert prepared.clean_facts[0] > 0
    print(f"\nfaults: clean `cityrank ingest` {seconds:.1f} s, {prepared.clean_facts[0]} {CODE} fact rows, "
          f"edition run {windows['edition run']:.1f} s, mart refresh {windows['mart refresh']:.1f} s")
    yield prepared
    cli("db", "stop", env=env)


def _trials(home: Home, name: str, phases: list[str], command: list[str], *, mart: bool, before=None) -> None:
    """Per phase: restore the prepared state, start `command`, SIGKILL it in that phase, check
    what it left, start it again unkilled, check that it converged."""
    rng, in_flight_after_kills, began = random.Random(f"{SEED}-{name}"), 0, time.monotonic()
    for trial, phase in enumerate(phases):
        for attempt in range(1, RUN_PHASE_ATTEMPTS + 1):
            _restore(home.path, home.saved)  # at the start, so a failed trial's state stays to look at
            if before is not None:
                before()
            process = subprocess.Popen(command, env=home.env, cwd=REPO, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
            delay, running = _kill_in(process, phase, rng, home)
            what = f"{name} trial {trial} ({phase}, attempt {attempt}, killed after {delay:.1f} s, seed {SEED})"
            left = _check_after_kill(home, what)
            print(f"faults: {what}{'' if running else ', had already exited'}: {left} run(s) left in flight")
            result = subprocess.run(command, env=home.env, cwd=REPO, capture_output=True, text=True, timeout=600)
            assert result.returncode == 0 and "Traceback" not in result.stderr, f"{what}: {result.stderr[-3000:]}"
            _check_converged(home, f"{what}; the next start said: {result.stdout.strip()[-1000:]}", mart=mart)
            # A kill meant for a run that landed after the run had ended did not test a killed
            # run: draw another moment (the window, the clean run's length, was measured at a
            # quieter moment than a busy machine may give the run now).
            if phase == "stored" or left > 0:
                break
        in_flight_after_kills += left
    print(f"faults: {len(phases)} SIGKILLs of {name} (seed {SEED}), {in_flight_after_kills} run(s) found in flight "
          f"after a kill, 0 after the next start ({time.monotonic() - began:.0f} s)")
    assert in_flight_after_kills > 0, "no kill landed while a run was executing; the trials tested nothing"


def test_sigkill_of_ingest_at_random_points_then_the_next_ingest_converges(prepared_home):
    command = [sys.executable, "-m", "cityrank_pipeline.cli", "ingest", "--index", CODE, str(FILE)]
    _trials(prepared_home, "`cityrank ingest`", INGEST_PHASES, command, mart=True)


def test_sigkill_of_a_sensor_launched_run_then_the_next_start_converges(prepared_home):
    landing = prepared_home.path / "landing" / CODE.lower()

    def drop_the_file() -> None:
        landing.mkdir(parents=True, exist_ok=True)
        shutil.copy2(FILE, landing / FILE.name)

    _trials(prepared_home, "the landing sensor's tick and run", SENSOR_PHASES,
            [sys.executable, str(SENSOR_PROCESS), CODE], mart=False, before=drop_the_file)
