"""What every part shares: figures and goals, clocks, peak memory, child processes, databases.

A figure is one number a part measured, with its unit, the peak memory while it was
measured, and optionally the goal it is held against. Times are medians of several runs
unless the figure says otherwise: on a shared machine the median moves least when one run
is unlucky. Parts return figures; `bench.__main__` prints and reports them.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SHARED_DIR = REPO.parent / "shared"
# Variables the bench's own cityrank children must not inherit from the caller's shell.
CITYRANK_PREFIXES = ("CITYRANK_", "DAGSTER_")


@dataclass(frozen=True)
class Goal:
    """`value <= limit` (at_most) or `value >= limit`; `text` is how the issue states it."""

    limit: float
    at_most: bool
    text: str

    def judge(self, value: float | None, unit: str) -> tuple[bool | None, str]:
        if value is None:
            return None, "not measured"
        met = value <= self.limit if self.at_most else value >= self.limit
        if met:
            return True, "met"
        if self.at_most:
            return False, f"missed by {_amount(value - self.limit, unit)} ({value / self.limit:.1f}× the limit)"
        return False, f"missed by {_amount(self.limit - value, unit)} ({value / self.limit:.2f} of the goal)"


def _amount(difference: float, unit: str) -> str:
    if unit == "s":
        return f"{difference:.2f} s" if difference < 10 else f"{difference:.0f} s"
    if unit == "ms":
        return f"{difference:.1f} ms"
    return f"{difference:.2f}{unit if unit.startswith('×') else ' ' + unit}"


@dataclass
class Figure:
    part: str
    name: str
    value: float | None
    unit: str
    detail: str = ""
    peak_mb: float | None = None
    goal: Goal | None = None
    reason: str = ""  # why a goal was missed, from what the part measured
    met: bool | None = field(default=None, init=False)
    verdict: str = field(default="", init=False)

    def __post_init__(self) -> None:
        if self.goal is not None:
            self.met, self.verdict = self.goal.judge(self.value, self.unit)

    def line(self) -> str:
        value = "—" if self.value is None else format_value(self.value, self.unit)
        memory = f"  peak {self.peak_mb:,.0f} MB" if self.peak_mb is not None else ""
        goal = ""
        if self.goal is not None:
            goal = f"  [goal {self.goal.text}: {self.verdict}]"
        detail = f"  ({self.detail})" if self.detail else ""
        return f"{self.part:<10} {self.name:<48} {value:>14}{memory}{goal}{detail}"

    def to_json(self) -> dict:
        data = asdict(self)
        data["goal"] = asdict(self.goal) if self.goal else None
        return data

    @classmethod
    def from_json(cls, data: dict) -> "Figure":
        data = dict(data)
        goal_fields = data.pop("goal")
        goal = Goal(**goal_fields) if goal_fields else None
        data.pop("met"), data.pop("verdict")
        return cls(goal=goal, **data)


def format_value(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "rows/s":
        return f"{value:,.0f} rows/s"
    if unit.startswith("×"):
        return f"{value:.2f}×"
    return f"{value:,.0f} {unit}" if value >= 100 else f"{value:.3g} {unit}"


def emit(figure: Figure, figures: list[Figure]) -> Figure:
    """Print a figure the moment it is measured (a long run shows progress) and keep it."""
    print(figure.line(), flush=True)
    figures.append(figure)
    return figure


# --- peak memory --------------------------------------------------------------------------

def _status_kb(field_name: str) -> int | None:
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    match = re.search(rf"^{field_name}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else None


def reset_peak_memory() -> bool:
    """Reset this process's resident high-water mark (Linux: clear_refs 5). False if unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_memory_mb() -> float | None:
    """This process's resident high-water mark since start or the last reset, in MB."""
    kb = _status_kb("VmHWM")
    if kb is None:
        import resource

        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024


# --- clocks -------------------------------------------------------------------------------

def timed_runs(work, runs: int, before=None) -> tuple[list[float], float | None, object]:
    """Call `work()` `runs` times (after `before()` each time, untimed); the seconds of each,
    the peak memory over all of them, and the last result."""
    seconds, result = [], None
    reset_peak_memory()
    for _ in range(runs):
        if before is not None:
            before()
        start = time.perf_counter()
        result = work()
        seconds.append(time.perf_counter() - start)
    return seconds, peak_memory_mb(), result


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float], scale: float = 1.0, unit: str = "s") -> str:
    """`median of N; min–max` for a figure's detail."""
    lo, hi = min(values) * scale, max(values) * scale
    digits = 1 if unit == "ms" else 3
    return f"median of {len(values)}, min {lo:.{digits}f} max {hi:.{digits}f} {unit}"


# --- child processes ----------------------------------------------------------------------

@dataclass(frozen=True)
class ChildRun:
    seconds: float
    peak_mb: float
    returncode: int
    stdout: str
    stderr: str


def run_child(args: list[str], *, env: dict | None = None, cwd: Path = REPO, timeout: float | None = None,
              capture: bool = True) -> ChildRun:
    """Run a command to its end; wall seconds and the peak RSS of it (and what it waited for),
    from the kernel's own accounting of that one child (wait4). Without `capture` its output
    goes straight to ours and comes back empty."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(args, env=env, cwd=cwd, stdout=out if capture else None,
                                   stderr=err if capture else None, stdin=subprocess.DEVNULL)
        deadline = None if timeout is None else start + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG if deadline else 0)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.02)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        return ChildRun(seconds, usage.ru_maxrss / 1024, process.returncode,
                        out.read().decode(errors="replace"), err.read().decode(errors="replace"))


def clean_environment(**overrides: str) -> dict:
    """The caller's environment without cityrank/Dagster settings, plus `overrides`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(CITYRANK_PREFIXES)}
    env.update(overrides)
    return env


def cityrank_command(*args: str) -> list[str]:
    """The installed `cityrank` script beside this interpreter (what a user types), else -m."""
    script = Path(sys.executable).with_name("cityrank")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "cityrank_pipeline.cli", *args]


# --- databases ----------------------------------------------------------------------------

@contextmanager
def scratch_database(label: str):
    """A fresh, empty database for one part, dropped afterwards; yields its URL.

    With CITYRANK_DATABASE_URL set it is created on that server (the role needs CREATEDB);
    otherwise on a private embedded server started in a temporary folder and stopped after.
    """
    from psycopg import sql

    from cityrank_pipeline.database import connect

    name = f"cityrank_bench_{label}_{os.getpid()}"
    with _server() as admin_url:
        with connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield _with_database(admin_url, name)
        finally:
            with connect(admin_url, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def _server():
    configured = os.environ.get("CITYRANK_DATABASE_URL")
    if configured:
        yield configured
        return
    from cityrank_pipeline.embedded_db import ensure_embedded_server, stop_embedded_server

    folder = Path(tempfile.mkdtemp(prefix="cityrank-bench-"))
    base = folder / "postgres"
    try:
        server = ensure_embedded_server(base)
        yield server.url("postgres")
    finally:
        try:
            stop_embedded_server(base)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _with_database(url: str, name: str) -> str:
    """`url` pointing at database `name` (the embedded URLs carry host and port as query)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def server_version(conn) -> str:
    return conn.execute("SHOW server_version").fetchone()[0]


def shared_dir() -> Path:
    return Path(os.environ.get("CITYRANK_SHARED_DIR", DEFAULT_SHARED_DIR))


@dataclass
class PartContext:
    """What a part gets and fills: its figures, and notes for the report (server version,
    a profile summary, the reason a part was skipped)."""

    part: str
    quick: bool = False
    figures: list[Figure] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)

    def emit(self, name: str, value: float | None, unit: str, **kwargs) -> Figure:
        return emit(Figure(self.part, name, value, unit, **kwargs), self.figures)

    def note(self, key: str, text: str, *, show: bool = False) -> None:
        self.notes[key] = text
        if show:
            print(f"{self.part:<10} {text}", flush=True)


def profile_top(work, *, top: int = 5, sort: str = "tottime") -> tuple[object, list[tuple[str, float, float]]]:
    """Run `work()` once under cProfile; its result and the `top` functions by `sort`:
    (where, own seconds, cumulative seconds)."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    result = profiler.runcall(work)
    return result, top_entries(pstats.Stats(profiler), top=top, sort=sort)


def top_entries(stats, *, top: int, sort: str) -> list[tuple[str, float, float]]:
    column = {"tottime": 1, "cumtime": 2}[sort]
    rows = []
    for (filename, line, function), (_, _, own, cumulative, _) in stats.stats.items():
        rows.append((_where(filename, line, function), own, cumulative))
    return sorted(rows, key=lambda r: r[column], reverse=True)[:top]


def _where(filename: str, line: int, function: str) -> str:
    if filename == "~":
        return function  # a built-in, e.g. <method 'execute' of 'psycopg...'>
    for marker in ("site-packages/", "cityrank_pipeline/", "lib/python3"):
        if marker in filename:
            filename = filename.split(marker, 1)[1] if marker != "cityrank_pipeline/" else \
                "cityrank_pipeline/" + filename.split(marker, 1)[1]
            break
    return f"{filename}:{line}({function})"
