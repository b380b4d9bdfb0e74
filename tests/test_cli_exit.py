"""How `cityrank` ends (cli.entry): the exit code, flushed output and atexit handlers survive the
quick exit that skips the interpreter's module teardown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from conftest import REPO


def _env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith(("CITYRANK_", "DAGSTER_"))}


def cityrank(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cityrank_pipeline.cli", *args], cwd=REPO, env=_env(),
                          capture_output=True, text=True, timeout=120, **kwargs)


def test_help_is_flushed_through_a_pipe_and_exits_0():
    result = cityrank("--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: cityrank") and "scorecard" in result.stdout


def test_a_usage_error_keeps_argparse_exit_status_2():
    result = cityrank("no-such-command")
    assert result.returncode == 2
    assert "invalid choice: 'no-such-command'" in result.stderr


def test_atexit_handlers_still_run_and_last_in_the_output():
    code = ("import atexit, sys; atexit.register(lambda: print('atexit ran', flush=True)); "
            "sys.argv = ['cityrank', '--help']; from cityrank_pipeline.cli import entry; entry()")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=_env(), capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0
    assert result.stdout.rstrip().endswith("atexit ran")


def test_a_reader_that_goes_away_early_gets_no_traceback():
    reader = subprocess.Popen(["head", "-c", "10"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    result = subprocess.run([sys.executable, "-m", "cityrank_pipeline.cli", "catalog"], cwd=REPO, env=_env(),
                            stdout=reader.stdin, stderr=subprocess.PIPE, text=True, timeout=120)
    reader.stdin.close()
    reader.wait(timeout=30)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 141)  # 141 when a write met the closed pipe (128 + SIGPIPE)



@pytest.mark.parametrize("signum, status", [(signal.SIGTERM, -signal.SIGTERM), (signal.SIGINT, 130)])
def test_a_signal_during_a_run_ends_it_at_once_and_the_next_run_converges(home_after_two_first_runs, signum, status):
    """Dagster takes SIGTERM over on the thread that executes a run; cityrank executes its runs
    off the main thread (cli.off_the_main_thread), whose handler releases the worker pool and
    then ends the process by SIGTERM itself (a shell reports 143; a service manager sees a
    clean stop), and Ctrl-C ends the command with 130."""
    import time

    from fault_helpers import in_flight_runs, no_processes_left, reap_killed, runs_created, start

    home, env, _ = home_after_two_first_runs
    # The wait below is for any run in flight: one left by an earlier failure would end it at
    # once and signal this process before its own run began.
    assert in_flight_runs(home) == 0, "a run is still in flight on the shared home (an earlier test failed?)"
    # Two workers whatever the machine: this process and one worker process, each executing its
    # share as its own run. The signal comes once both runs have started and the worker has had
    # time to validate (Great Expectations' progress bar made a multiprocessing lock there).
    before = runs_created(home)
    process = start({**env, "CITYRANK_WORKERS": "2"}, "run", "--force", "--quiet")
    began = time.monotonic()
    while runs_created(home) - before < 2 and process.poll() is None and time.monotonic() - began < 120:
        time.sleep(0.1)
    time.sleep(1.5)
    assert in_flight_runs(home) > 0 and process.poll() is None, "the forced run ended before the signal"
    process.send_signal(signum)
    sent = time.monotonic()
    stderr = reap_killed(process, home, timeout=30)
    assert process.returncode == status, stderr[-3000:]
    assert time.monotonic() - sent < 5
    # The worker pool's queues are released before the process ends: multiprocessing's resource
    # tracker, which outlives it, has no leaked semaphore to warn about on the operator's terminal.
    assert "leaked" not in stderr and "Traceback" not in stderr, stderr[-2000:]
    assert no_processes_left(home) == []
    again = subprocess.run([sys.executable, "-m", "cityrank_pipeline.cli", "run", "--quiet"], env=env, cwd=REPO,
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert in_flight_runs(home) == 0
