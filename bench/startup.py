"""Start-up: `cityrank --help` and `cityrank scorecard` as a user runs them, each a fresh process.

`--help` reads no state; `scorecard` finds its embedded server already running (one untimed
call first starts it and applies the migrations in a temporary home), so the figure is the
command's own start-up plus one query. Medians of several runs; peak memory is the largest
of the runs' processes.
"""

from __future__ import annotations

import tempfile

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
            first = _checked(run_child(cityrank_command("scorecard"), env=env))
            ctx.emit("cityrank scorecard, first (server init + migrations)", first.seconds, "s", peak_mb=first.peak_mb,
                     detail="one run, fresh home")
            runs = [_checked(run_child(cityrank_command("scorecard"), env=env)) for _ in range(SCORECARD_RUNS)]
            seconds = [r.seconds for r in runs]
            ctx.emit("cityrank scorecard (server running)", median(seconds), "s",
                     peak_mb=max(r.peak_mb for r in runs), detail=spread(seconds))
        finally:
            run_child(cityrank_command("db", "stop"), env=env)


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
