"""`cityrank serve` unattended: the daemon fires a schedule and a landing-folder sensor, the
editions reach the mart with the release calendar, and one SIGTERM leaves no process behind.

The served instance (tests/serving.py, conftest's `served_instance`) is shared with the browser
test; the SIGTERM test is ordered after every other user of it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from serving import SCHEDULE, STOP_TIMEOUT, cli

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find leftover processes")

SCHEDULED = ("GSER", "2025")  # fetched from the fixture site by the scheduled poll
DROPPED = ("CIMI", "2019")  # the report dropped into landing/cimi before serve started
# Start-up, then at most a minute to the scheduled tick, then poll run -> sensor -> edition run
# -> views run with 5 s sensor ticks: about 1.5 minutes here; the deadline leaves room for a
# machine busy with other test runs.
LOADED_WITHIN = 240


def descendants(pid: int) -> dict[int, str]:
    """Every process below `pid`, with its start time (to tell a reused pid apart)."""
    parents: dict[int, list[tuple[int, str]]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents.setdefault(int(fields[1]), []).append((int(entry.name), fields[19]))
    found, queue = {}, [pid]
    while queue:
        for child, started in parents.get(queue.pop(), []):
            found[child] = started
            queue.append(child)
    return found


def still_running(processes: dict[int, str]) -> list[int]:
    """The processes of `processes` that still exist (same pid and start time) and are not zombies."""
    alive = []
    for pid, started in processes.items():
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat[19] == started and stat[0] != "Z":
            alive.append(pid)
    return alive


def calendar_written(served) -> dict[str, str]:
    return dict(served.query("SELECT index_code, status FROM mart.release_calendar"))


def test_the_daemon_fires_a_schedule_and_a_sensor_and_the_editions_reach_the_mart(served_instance):
    served = served_instance

    def succeeded() -> dict[str, bool]:
        # The GSER edition comes through the schedule (a poll run that registers it) and then
        # its sensor; the CIMI one through the landing-folder sensor alone. A run's facts are
        # visible before Dagster marks it a success, so both are waited for.
        return {"scheduled poll": "SUCCESS" in served.run_statuses("dagster/schedule_name", SCHEDULE),
                "gser_new_editions run": "SUCCESS" in served.run_statuses("dagster/sensor_name", "gser_new_editions"),
                "cimi_new_editions run": "SUCCESS" in served.run_statuses("dagster/sensor_name", "cimi_new_editions")}

    served.wait_until(f"{SCHEDULED} (scheduled poll) and {DROPPED} (landing folder) in mart.city_scores, "
                      "their runs successful", lambda: {SCHEDULED, DROPPED} <= served.loaded_editions()
                      and all(succeeded().values()), LOADED_WITHIN)
    print(f"editions in mart.city_scores, runs successful {served.elapsed():.0f} s after serve started")

    # The mart refresh after the loads writes the release calendar: every index, from the catalog.
    calendar = served.wait_until("mart.release_calendar to be written by the views run after a load",
                                 lambda: calendar_written(served), 90)
    print(f"release calendar written {served.elapsed():.0f} s after serve started")
    assert len(calendar) == 9, calendar
    assert calendar["GDCI"] == "discontinued"
    served.wait_until("a successful refresh_views_after_load run", lambda: "SUCCESS" in served.run_statuses(
        "dagster/sensor_name", "refresh_views_after_load"), 90)

    # An operator stops the poll on the running server the same way it was started; this also
    # keeps a poll run a minute from loading the machine for the rest of the session.
    stopped = cli("schedules", "stop", SCHEDULE, env=served.env)
    assert stopped.stdout.strip() == f"stopped schedule {SCHEDULE}"


@pytest.mark.stops_served_instance
def test_sigterm_stops_serve_and_leaves_no_process(served_instance):
    served = served_instance
    assert served.running(), served.diagnostics()
    family = descendants(served.process.pid)
    assert len(family) >= 3, f"expected code server, daemon and webserver under serve, found {family}"
    status = served.terminate(timeout=STOP_TIMEOUT)
    assert status == 0, served.diagnostics()
    assert still_running(family) == [], f"left running: {still_running(family)}" + served.diagnostics()
    output = served.log_text()
    assert "received SIGTERM; stopping" in output, served.diagnostics()
    assert output.rstrip().endswith("cityrank serve: stopped"), served.diagnostics()
