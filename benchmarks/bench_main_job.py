"""Time the main job on the embedded default: a cold first run and a warm second run.

Prints wall time and peak memory (RSS of the child process) for each. Run from the repo root:
    python benchmarks/bench_main_job.py
It uses a throw-away CITYRANK_HOME and stops its embedded server afterwards.
"""

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def timed(args, env):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "cityrank_pipeline.cli", *args], env=env, cwd=REPO,
                            capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    peak_mb = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    if result.returncode != 0:
        sys.exit(f"cityrank {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return elapsed, peak_mb, result


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CITYRANK_", "DAGSTER_"))}
        env["CITYRANK_HOME"] = home
        try:
            cold, cold_mb, first = timed(["run", "--quiet"], env)
            warm, warm_mb, _ = timed(["run", "--quiet"], env)
            forced, forced_mb, _ = timed(["run", "--quiet", "--force"], env)
        finally:
            subprocess.run([sys.executable, "-m", "cityrank_pipeline.cli", "db", "stop"], env=env, cwd=REPO,
                           capture_output=True)
        print(first.stderr.strip().splitlines()[-1])
        print(f"cold run (server init, 54 editions):   {cold:7.1f} s   peak RSS {cold_mb:6.0f} MB")
        print(f"warm run (nothing changed, all skipped): {warm:5.1f} s   peak RSS {warm_mb:6.0f} MB")
        print(f"forced re-run (every edition, no-op loads): {forced:4.1f} s   peak RSS {forced_mb:6.0f} MB")


if __name__ == "__main__":
    main()
