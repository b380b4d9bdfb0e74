"""One `cityrank serve`, started as an operator would, shared by tests/test_serve.py and
tests/test_ui_browser.py (conftest's session fixture `served_instance`).

What is served: a copy of the project files cityrank reads, whose GSER calendar polls every
minute (the catalog's own `calendar.poll_in_window`), on a fresh CITYRANK_HOME whose database
is one throw-away database on the test server. The fetcher goes to a local fixture publisher
site (CITYRANK_FETCH_MIRROR). Before `cityrank serve` starts, `cityrank schedules start` switches
the GSER poll on and a CIMI report is dropped into the landing folder.

Why it is quick: the scheduler fires `* * * * *` at the next minute boundary (or at once, for
a boundary passed between `schedules start` and the daemon's start), and the sensors tick every
CITYRANK_SENSOR_INTERVAL_SECONDS=5 instead of 60, so the chain poll run -> gser_new_editions ->
edition run -> refresh_views_after_load -> views run waits seconds, not minutes, between links.
At the default 60 s the chain alone waited up to three minutes after the scheduled tick.

Everything the children print (code server, daemon, webserver, runs) goes to one log file in
the session's tmp dir; every failure message ends with its tail and Dagster's runs and ticks.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import psycopg
import yaml
from test_acquisition import PUBLISHERS

from cityrank_pipeline.serve import free_port
from conftest import REPO

SCHEDULE = "gser_poll_in_window"
DROPPED = PUBLISHERS / "cimi" / "cimi2019_report_extract.pdf"
SENSOR_INTERVAL_SECONDS = 5
READY_TIMEOUT = 120  # serve up and the UI answering, on a busy two-core machine
STOP_TIMEOUT = 60
SENSOR_NOISE = ("Checking for new runs for sensor", "skipped: Sensor function returned an empty result")


def served_project(root: Path, every_minute: str) -> Path:
    """A copy of the project files cityrank reads, with one index polled every minute."""
    for name in ("assets", "sql", "expectations"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "workspace.yaml", root / "workspace.yaml")
    path = root / "assets" / f"{every_minute}.yaml"
    entry = yaml.safe_load(path.read_text())
    entry["calendar"]["poll_in_window"] = "* * * * *"
    path.write_text(yaml.safe_dump(entry, allow_unicode=True, sort_keys=False))
    return root


def cli(*args: str, env: dict, timeout: float = 180) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "cityrank_pipeline.cli", *args], env=env,
                            cwd=env["CITYRANK_PROJECT_ROOT"], capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"cityrank {' '.join(args)} exited {result.returncode}: {result.stderr[-3000:]}"
    return result


class ServedInstance:
    """A running `cityrank serve` and what the tests ask of it."""

    def __init__(self, *, root: Path, env: dict, database_url: str):
        self.root, self.env, self.database_url = root, env, database_url
        self.log_path = root / "serve.log"
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.started = 0.0

    # -- life cycle -----------------------------------------------------------------------
    def start(self) -> None:
        with self.log_path.open("w") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cityrank_pipeline.cli", "serve", "--port", str(self.port)],
                env=self.env, cwd=self.env["CITYRANK_PROJECT_ROOT"], stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        self.started = time.monotonic()
        print(f"cityrank serve: pid {self.process.pid}, UI {self.base_url}, log {self.log_path}")
        self.wait_until("the webserver to answer /server_info", self._ui_answers, READY_TIMEOUT, interval=0.5)
        print(f"cityrank serve: UI up after {self.elapsed():.0f} s")

    def _ui_answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/server_info", timeout=2) as reply:
                return reply.status == 200
        except OSError:
            return False

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def terminate(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM to the supervisor (not its group: it forwards the signal itself); its exit status."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        """Last resort for a teardown: the whole session (supervisor and children) at once."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)

    # -- waiting, with the logs on failure --------------------------------------------------
    def wait_until(self, what: str, predicate: Callable[[], object], timeout: float, interval: float = 2.0):
        deadline = time.monotonic() + timeout
        while True:
            if not self.running():
                raise AssertionError(f"cityrank serve exited ({self.process.returncode}) while waiting for {what}"
                                     + self.diagnostics())
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout:.0f} s for {what}" + self.diagnostics())
            time.sleep(interval)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def diagnostics(self, chars: int = 8000) -> str:
        # The sensors' every-5-s "checking"/"skipped" lines would fill the tail; the file has them.
        log = "\n".join(line for line in self.log_text().splitlines() if not any(n in line for n in SENSOR_NOISE))
        parts = [f"\n--- Dagster runs ---\n{self.runs_summary()}", f"--- ticks ---\n{self.ticks_summary()}",
                 f"--- last {chars} characters of {self.log_path} without idle sensor ticks ---\n{log[-chars:]}"]
        return "\n".join(parts)

    # -- what the database says ---------------------------------------------------------
    def query(self, statement: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.database_url) as conn:
            try:
                return conn.execute(statement, params).fetchall()
            except psycopg.errors.UndefinedTable:  # migrations or Dagster's tables not there yet
                return []

    def loaded_editions(self) -> set[tuple[str, str]]:
        return set(self.query("SELECT DISTINCT index_code, edition FROM mart.city_scores"))

    def run_statuses(self, key: str, value: str) -> list[str]:
        """Statuses of the runs Dagster recorded with one tag (its run storage shares the database)."""
        return [status for (status,) in self.query(
            """SELECT r.status FROM runs r JOIN run_tags t ON t.run_id = r.run_id
               WHERE t.key = %s AND t.value = %s""", (key, value))]

    def runs_summary(self) -> str:
        try:
            rows = self.query("""SELECT pipeline_name, status, create_timestamp, end_time,
                                        (SELECT string_agg(t.value, ',') FROM run_tags t WHERE t.run_id = r.run_id
                                         AND t.key IN ('dagster/schedule_name', 'dagster/sensor_name', 'dagster/partition'))
                                 FROM runs r ORDER BY create_timestamp""")
        except psycopg.Error as exc:
            return f"(runs not readable: {exc})"
        return "\n".join(f"{created:%H:%M:%S} {job} {status} {'ended ' + time.strftime('%H:%M:%S', time.gmtime(end)) if end else ''}"
                         f" [{tags or ''}]" for job, status, created, end, tags in rows) or "(none)"

    def ticks_summary(self) -> str:
        """Schedule and sensor ticks that did something (requested runs, failed), oldest first."""
        try:
            rows = self.query("""SELECT timestamp, type, status, tick_body FROM job_ticks
                                 WHERE status <> 'SKIPPED' ORDER BY timestamp""")
        except psycopg.Error as exc:
            return f"(ticks not readable: {exc})"
        lines = []
        for when, kind, status, body in rows:
            name = re.search(r'"(?:instigator_name|job_name)": "([^"]+)"', body or "")
            lines.append(f"{when:%H:%M:%S} {kind} {name.group(1) if name else '?'} {status}")
        return "\n".join(lines) or "(none but skipped ones)"


def start_served_instance(root: Path, database_url: str, fixture_site: str) -> ServedInstance:
    """Prepare the project and home as an operator would, then start `cityrank serve`."""
    project = served_project(root / "project", every_minute="gser")
    home = root / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITYRANK_", "DAGSTER_"))}
    env.update(CITYRANK_HOME=str(home), CITYRANK_DATABASE_URL=database_url, CITYRANK_PROJECT_ROOT=str(project),
               CITYRANK_FETCH_MIRROR=fixture_site, CITYRANK_CONTACT="tests@cityrank.invalid",
               CITYRANK_SENSOR_INTERVAL_SECONDS=str(SENSOR_INTERVAL_SECONDS))
    started = cli("schedules", "start", SCHEDULE, env=env)
    assert started.stdout.strip() == f"started schedule {SCHEDULE}", started.stdout
    listed = cli("schedules", "list", env=env).stdout
    assert any(line.split()[:2] == [SCHEDULE, "RUNNING"] for line in listed.splitlines()), listed
    landing = home / "landing" / "cimi"
    landing.mkdir(parents=True, exist_ok=True)
    shutil.copy(DROPPED, landing / DROPPED.name)
    served = ServedInstance(root=root, env=env, database_url=database_url)
    try:
        served.start()
    except BaseException:
        served.kill()
        raise
    return served
