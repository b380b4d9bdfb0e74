"""Main job: `cityrank run` cold, warm and forced, each a fresh process as a user runs it.

- cold: a fresh CITYRANK_HOME, so the embedded server is initialised and started inside the
  clock (with CITYRANK_DATABASE_URL set: a fresh scratch database instead, no server start);
- warm: the same home again with nothing new — it must write 0 fact rows;
- forced: `--force`, every edition re-run (the loads find identical rows and write nothing).

Rows written are counted in the database, not taken from cityrank's output: fact rows whose
xmin is newer than a transaction id taken just before the run (a row deleted and written
again shows up too), beside the table's insert/delete counters.

Where the time goes: the warm run once more, and the forced run, under a stack sampler
(`bench.sampling`; cProfile's overhead distorted the picture) with CITYRANK_WORKERS=1, so
every edition runs in the sampled process. To keep the whole bench near 15 minutes the
forced figure *is* that sampled one-worker run (a second forced run would cost minutes).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path

from cityrank_pipeline.database import connect

from .core import Goal, PartContext, clean_environment, cityrank_command, run_child, scratch_database, server_version

COLD = Goal(20.0, at_most=True, text="cold `cityrank run` ≤ 20 s")
WARM = Goal(2.0, at_most=True, text="warm `cityrank run` ≤ 2 s")
NO_ROWS = Goal(0, at_most=True, text="warm run writes 0 fact rows")
PROFILE_TOP = 15


def run(ctx: PartContext) -> None:
    configured = os.environ.get("CITYRANK_DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="cityrank-bench-home-") as home, \
            (scratch_database("mainjob") if configured else nullcontext()) as scratch:
        env = clean_environment(CITYRANK_HOME=home, **({"CITYRANK_DATABASE_URL": scratch} if scratch else {}))
        try:
            _measure(ctx, env, Path(home))
        finally:
            if not scratch:
                run_child(cityrank_command("db", "stop"), env=env)


def _run(env: dict, *args: str):
    result = run_child(cityrank_command("run", "--quiet", *args), env=env)
    if result.returncode != 0:
        raise RuntimeError(f"cityrank run {' '.join(args)} exited {result.returncode}: {result.stderr.strip()[-800:]}")
    return result


def _measure(ctx: PartContext, env: dict, home: Path) -> None:
    cold = _run(env)
    summary = cold.stderr.strip().splitlines()[-1] if cold.stderr.strip() else ""
    url = run_child(cityrank_command("db", "url"), env=env).stdout.strip()
    with connect(url, autocommit=True) as conn:
        ctx.note("postgres", server_version(conn))
        facts = conn.execute("SELECT count(*) FROM warehouse.fact_city_score").fetchone()[0]
    ctx.emit("cold run (fresh home, server start included)", cold.seconds, "s", peak_mb=cold.peak_mb, goal=COLD,
             detail=f"{facts:,} facts after; {summary.removeprefix('cityrank: ')}")

    warm, warm_rows = _run_counting(url, lambda: _run(env))
    (forced, forced_profile), forced_rows = _run_counting(url, lambda: _profile(ctx, env, home, "forced", ("--force",)))
    _, warm_profile = _profile(ctx, env, home, "warm", ())
    ctx.emit("warm run (nothing new)", warm.seconds, "s", peak_mb=warm.peak_mb, goal=WARM,
             reason=f"sampled warm run (profile below): {warm_profile}")
    ctx.emit("warm run: fact rows written", warm_rows[0], "rows", goal=NO_ROWS, detail=warm_rows[1])
    ctx.emit("forced run (--force, one worker, sampled)", forced.seconds, "s", peak_mb=forced.peak_mb,
             detail=forced_profile)
    ctx.emit("forced run: fact rows written", forced_rows[0], "rows", detail=forced_rows[1])
    ctx.figures[0].reason = (f"{summary.removeprefix('cityrank: ')}; the sampled forced run (profile below) shows "
                             f"where the per-edition time goes: {forced_profile}")


def _run_counting(url: str, work):
    """Run `work` and count the fact rows it wrote: (result, (rows, detail))."""
    counters = """SELECT n_tup_ins, n_tup_del, n_tup_upd FROM pg_stat_user_tables
                  WHERE schemaname = 'warehouse' AND relname = 'fact_city_score'"""
    with connect(url, autocommit=True) as conn:
        before_xid = conn.execute("SELECT txid_current()").fetchone()[0]
        before = conn.execute(counters).fetchone()
    result = work()
    with connect(url, autocommit=True) as conn:
        newer = conn.execute("SELECT count(*) FROM warehouse.fact_city_score WHERE xmin::text::bigint > %s",
                             (before_xid,)).fetchone()[0]
        after = conn.execute(counters).fetchone()
    inserted, deleted, updated = (a - b for a, b in zip(after, before))
    return result, (newer, f"rows with a newer xmin: {newer}; table counters: {inserted} inserted, {deleted} deleted, "
                           f"{updated} updated")


def _profile(ctx: PartContext, env: dict, home: Path, label: str, args: tuple[str, ...]):
    """Run under the stack sampler (one worker); note the top entries; (the run, a gist)."""
    output = home / f"{label}.samples.json"
    command = [sys.executable, "-m", "bench.sampling", str(output), "--", "run", "--quiet", *args]
    result = run_child(command, env={**env, "CITYRANK_WORKERS": "1"})
    if result.returncode != 0 or not output.exists():
        raise RuntimeError(f"the sampled {label} run failed: {result.stderr.strip()[-500:]}")
    data = json.loads(output.read_text())
    seconds, samples = data["seconds"], max(data["samples"], 1)
    cumulative = [(where, count / samples * seconds) for where, count in data["cumulative"]][:PROFILE_TOP + 10]
    own = [(where, count / samples * seconds) for where, count in data["own"]][:10]
    lines = [f"Where the {label} run's time goes (`bench/sampling.py`: the main thread's stack every 10 ms, "
             f"CITYRANK_WORKERS=1, {seconds:.1f} s, {samples} samples; seconds are shares of the wall time):", "",
             "| On the stack (cumulative) | s | share |", "|---|---|---|"]
    lines += [f"| `{where}` | {sec:.1f} | {sec / seconds:.0%} |" for where, sec in cumulative]
    lines += ["", "| Innermost frame (own) | s | share |", "|---|---|---|"]
    lines += [f"| `{where}` | {sec:.1f} | {sec / seconds:.0%} |" for where, sec in own]
    ctx.note(f"profile of the {label} run", "\n".join(lines))
    print("\n".join(f"main-job   {line}" for line in lines if not line.startswith("|---")), flush=True)
    return result, _gist(cumulative, seconds)


def _gist(cumulative: list[tuple[str, float]], total: float) -> str:
    """The deepest-named entries below the command's own wrappers that take a real share."""
    wrappers = ("cli.py", "runpy", "bench/sampling.py", "process_guard.py", "threading.py", "<module>")
    picked = [(where, sec) for where, sec in cumulative if not any(w in where for w in wrappers)
              and sec >= 0.05 * total][:5]
    return "; ".join(f"{where} {sec:.1f} s ({sec / total:.0%})" for where, sec in picked)
