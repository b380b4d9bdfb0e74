"""`python -m bench.suite_cpu [PYTEST ARGS...]` — run the test suite and say where its CPU goes.

Why: the suite must stay under 5 minutes in CI on two cores, and it keeps both busy, so its
wall time follows its CPU time; what costs CPU is therefore what to cut. The kinds that matter
are processes the tests start (`cityrank run` and its worker processes, `cityrank ingest`,
Dagster's code server and run workers, PostgreSQL, Chromium), which pytest's `--durations`
cannot tell apart from the test's own work.

How: pytest runs as a child, in its own session; every 0.2 s each process created since the
start has its CPU time read (psutil), and the last reading of each process counts. A process
that lives less than a sampling interval is missed, and one that ends loses at most its last
interval, so the breakdown is a lower bound. The kernel's count (`getrusage` of the reaped
pytest tree) is printed beside it; it misses the servers that detached from the tree and what
was orphaned. Not part of `python -m bench`: it takes as long as the suite.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter

import psutil

from .core import REPO

INTERVAL_S = 0.2

# (kind, pattern on the command line), first match wins.
KINDS = (
    ("PostgreSQL", re.compile(r"(^|/)postgres(:| |$)|bin/postgres ")),
    ("Chromium", re.compile(r"chrom")),
    ("pytest-xdist workers (the in-process tests)", re.compile(r"exec\(eval\(sys")),
    ("multiprocessing workers", re.compile(r"multiprocessing")),
    ("Dagster processes", re.compile(r"dagster")),
    # Last: many command lines name a folder under pytest's temporary root.
    ("pytest", re.compile(r"(-m pytest|bin/pytest)( |$)")),
)
CITYRANK = re.compile(r"cityrank_pipeline\.cli (\S+)|/cityrank (\S+)")


def kind_of(command: str) -> str:
    """The kind of process a command line belongs to, as the report groups them."""
    match = CITYRANK.search(command)
    if match:
        return f"cityrank {match.group(1) or match.group(2)}"
    for kind, pattern in KINDS:
        if pattern.search(command):
            return kind
    return "other: " + " ".join(os.path.basename(part) for part in command.split()[:2])


def _sample(since: float, seen: dict, me: int) -> None:
    for process in psutil.process_iter(["pid", "create_time", "cmdline", "name", "cpu_times"]):
        info = process.info
        if info["pid"] == me or info["create_time"] is None or info["create_time"] < since or info["cpu_times"] is None:
            continue
        key = (info["pid"], info["create_time"])
        command = seen.get(key, ("", 0.0))[0] or " ".join(info["cmdline"] or []) or info["name"] or "?"
        seen[key] = (command, info["cpu_times"].user + info["cpu_times"].system)


def main(argv: list[str]) -> int:
    started_at, started = time.time() - 1.0, time.monotonic()
    with tempfile.TemporaryFile("w+") as log:
        pytest = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *argv], cwd=REPO,
                                  start_new_session=True, stdout=log, stderr=subprocess.STDOUT, text=True)
        seen: dict[tuple[int, float], tuple[str, float]] = {}
        while pytest.poll() is None:
            _sample(started_at, seen, os.getpid())
            time.sleep(INTERVAL_S)
        _sample(started_at, seen, os.getpid())
        log.seek(0)
        last = (log.read().strip().splitlines() or [""])[-1]
    wall = time.monotonic() - started
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    by_kind, count = Counter(), Counter()
    for command, cpu in seen.values():
        by_kind[kind_of(command)] += cpu
        count[kind_of(command)] += 1
    sampled = sum(by_kind.values())
    # The kernel's count covers the processes reaped by their parents up the pytest tree; not
    # the servers that detached from it, nor what was orphaned (a worker whose parent was killed).
    reaped_cpu = reaped.ru_utime + reaped.ru_stime
    print(f"suite_cpu: pytest exited {pytest.returncode} after {wall:.0f} s: {last}")
    print(f"suite_cpu: {sampled:.0f} CPU-seconds seen by sampling every {INTERVAL_S} s "
          f"({sampled / wall:.2f} of {os.cpu_count()} cores busy on average); the kernel counts {reaped_cpu:.0f} "
          f"for the processes reaped within the pytest tree. By kind:")
    for kind, cpu in by_kind.most_common():
        if cpu >= 1.0:
            print(f"  {cpu:7.1f} s  {count[kind]:4d} process(es)  {kind}")
    return pytest.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
