"""Start-up: `cityrank --help` and `cityrank scorecard` as a user runs them, each a fresh process.

`--help` reads no state; `scorecard` finds its embedded server already running and one
edition loaded (a first `cityrank ingest` of the packaged figures of GFCI's newest edition
starts the server, applies the migrations and loads it in a temporary home: a scorecard on an
empty warehouse rightly refuses), so the figure is the command's own start-up plus its
queries. Medians of several runs; peak memory is the largest of the runs' processes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from .core import Goal, PartContext, clean_environment, cityrank_command, median, run_child, spread

HELP = Goal(0.5, at_most=True, text="`cityrank --help` ≤ 0.5 s")
HELP_RUNS = 7
SCORECARD_RUNS = 5


def run(ctx: PartContext) -> None:
    env = clean_environment()
    runs = [_checked(run_child(cityrank_command("--help"), env=env)) for _ in range(HELP_RUNS)]
    seconds = [r.seconds for r in runs]
    reason = "" if median(seconds) <= HELP.limit else _import_reason(env)
    ctx.emit("cityrank --help", median(seconds), "s", peak_mb=max(r.peak_mb for r in runs), goal=HELP,
             detail=spread(seconds), reason=reason)

    with tempfile.TemporaryDirectory(prefix="cityrank-bench-home-") as home:
        env = clean_environment(CITYRANK_HOME=home)
        try:
            figures = Path(home) / "gfci_newest.csv"
            figures.write_text(_newest_gfci_figures(), encoding="utf-8")
            first = _checked(run_child(cityrank_command("ingest", "--index", "GFCI", str(figures)), env=env))
            ctx.emit("cityrank ingest, first (server init + migrations + one edition)", first.seconds, "s",
                     peak_mb=first.peak_mb, detail="one run, fresh home")
            runs = [_checked(run_child(cityrank_command("scorecard"), env=env)) for _ in range(SCORECARD_RUNS)]
            seconds = [r.seconds for r in runs]
            ctx.emit("cityrank scorecard (server running)", median(seconds), "s",
                     peak_mb=max(r.peak_mb for r in runs), detail=spread(seconds))
        finally:
            run_child(cityrank_command("db", "stop"), env=env)


def _newest_gfci_figures() -> str:
    """The packaged published figures of GFCI's newest edition, in the curated CSV layout."""
    import csv
    import io

    from cityrank_pipeline.editions import curated_bytes

    rows = list(csv.DictReader(io.StringIO(curated_bytes().decode("utf-8"))))
    gfci = [r for r in rows if r["index_code"] == "GFCI"]
    newest = max((r["edition"] for r in gfci), key=lambda label: int(label.split()[-1]))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(r for r in gfci if r["edition"] == newest)
    return out.getvalue()


def _checked(run):
    if run.returncode != 0:
        raise RuntimeError(f"cityrank exited {run.returncode}: {run.stderr.strip()[-500:]}")
    return run


def _import_reason(env: dict) -> str:
    """The heaviest top-level imports `--help` pays for, from `python -X importtime`."""
    import sys

    probe = run_child([sys.executable, "-X", "importtime", "-c",
                       "import sys; sys.argv = ['cityrank', '--help']\n"
                       "from cityrank_pipeline.cli import main\n"
                       "try:\n    main()\nexcept SystemExit:\n    pass"], env=env)
    heaviest = []
    for line in probe.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit() and not parts[2].startswith("  "):
            heaviest.append((int(parts[1]), parts[2].strip()))
    heaviest.sort(reverse=True)
    listed = ", ".join(f"{name} {micro / 1e6:.2f} s" for micro, name in heaviest[:4])
    return f"imports before arguments are read (python -X importtime, top-level packages): {listed}"
