"""Process lifetimes: one writer per home, runs that name their process, workers that die with it.

A `kill -9`, a crash or a power cut must not leave anything behind that a later command trips
over or that the Dagster UI shows as still running:

- `cityrank run` and `cityrank ingest` hold an exclusive lock on CITYRANK_HOME for as long as
  they run (`holding_home_lock`). A second one started meanwhile says what it waits for and
  waits; it never races the first through database creation, partition registration or the
  same edition's load. The kernel drops the lock when its holder dies, however it dies.
- Every run cityrank executes is tagged with the process that executes it (host, pid and the
  process's start time, so a reused pid is not mistaken for the owner). On every start of
  run, ingest and ui (`runner.open_instance`), runs still STARTING, STARTED or QUEUED whose
  process is gone are marked failed with a message saying so. Runs without the tag (launched
  by the UI's own run launcher) are left to Dagster.
- Worker processes ask the kernel to kill them when their parent dies (PR_SET_PDEATHSIG on
  Linux; a watchdog thread elsewhere), so a killed `cityrank run` leaves no worker loading
  editions with no one to report to. Their half-done transactions roll back with the
  connection.
"""

from __future__ import annotations

import ctypes
import fcntl
import functools
import os
import signal
import socket
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import psutil

OWNER_TAG = "cityrank/owner"
IN_FLIGHT = (dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED)
_PR_SET_PDEATHSIG = 1


def _process_start(pid: int) -> str:
    return f"{psutil.Process(pid).create_time():.2f}"


def owner_tags() -> dict[str, str]:
    """Tags naming this process as the owner of a run it executes."""
    pid = os.getpid()
    return {OWNER_TAG: f"{socket.gethostname()} {pid} {_process_start(pid)}"}


def _owner_alive(owner: str) -> bool | None:
    """Whether the tagged process still runs; None when it ran on another host (we cannot tell)."""
    try:
        host, pid, started = owner.rsplit(" ", 2)
        pid_number = int(pid)
    except ValueError:
        return None
    if host != socket.gethostname():
        return None
    try:
        return _process_start(pid_number) == started
    except psutil.Error:  # NoSuchProcess, or a zombie we may not inspect: gone either way
        return False


def fail_abandoned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed every in-flight run whose owning process is gone. Returns their run ids."""
    failed = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=list(IN_FLIGHT))):
        owner = run.tags.get(OWNER_TAG)
        if owner is None or _owner_alive(owner) is not False:
            continue
        host, pid, _ = owner.rsplit(" ", 2)
        instance.report_run_failed(run, message=(
            f"The process that executed this run (pid {pid} on {host}) ended before the run did "
            "(killed or crashed); cityrank marked it failed when it next started. Whatever the run "
            "had not committed was rolled back."))
        failed.append(run.run_id)
    return failed


@contextmanager
def file_lock(path: Path, *, waiting_message: str | None = None):
    """An exclusive flock on `path`; says once on stderr that it waits when someone else holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting_message:
                handle.seek(0)
                holder = handle.read().strip() or "unknown"
                print(f"cityrank: {waiting_message.format(holder=holder)}", file=sys.stderr, flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}")
            handle.flush()
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def holding_home_lock(function):
    """Decorator for commands that write: hold CITYRANK_HOME's command lock for the call.

    The decorated function takes the Settings as its first argument.
    """

    @functools.wraps(function)
    def locked(settings, *args, **kwargs):
        message = f"another cityrank command is writing to {settings.home} ({{holder}}); waiting for it to finish"
        with file_lock(settings.home / ".command.lock", waiting_message=message):
            return function(settings, *args, **kwargs)

    return locked


def exit_with_parent(parent_pid: int) -> None:
    """Worker initializer: end this process when `parent_pid` (the process that started it) ends."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    else:  # pragma: no cover - no prctl: poll instead
        def watch() -> None:
            while os.getppid() == parent_pid:
                time.sleep(0.5)
            os._exit(1)

        threading.Thread(target=watch, name="cityrank-parent-watch", daemon=True).start()
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)


def release_worker_processes() -> None:
    """Kill this process's worker processes and remove the named semaphores their pool's queues
    hold: what a command stopped by a signal does before it ends.

    Why: the pool's queues use named semaphores, which multiprocessing removes at a normal exit
    (its exit finalizers) and which its resource tracker, a process that outlives ours, removes
    after an abrupt one, printing "There appear to be 5 leaked semaphore objects" on the
    operator's terminal or journal after the command has ended. The workers would die with us
    anyway (`exit_with_parent`); killing them first lets the finalizers run without waiting for
    their shares. `_run_finalizers(0)` runs what multiprocessing's own exit handler runs first,
    and nothing that waits for a thread or a process.

    Only for a process about to end: the pool's manager thread may fail once its workers and
    queues are gone (seen once in ten Ctrl-C trials, a traceback cut short by the exit), so
    from here on an exception in another thread is not printed.
    """
    import multiprocessing
    from multiprocessing import util

    threading.excepthook = lambda args: None
    children = multiprocessing.active_children()
    for child in children:
        child.kill()
    for child in children:
        child.join(timeout=5)
    util._run_finalizers(0)
