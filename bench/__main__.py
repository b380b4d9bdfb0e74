"""`python -m bench [PART ...] [--quick] [--output FILE]` — see the package docstring.

With no PART every part runs and BENCHMARKS.md (or --output) is written from this one run;
with PARTs only those run and nothing is written unless --output is given, so a report never
mixes figures from different runs.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

from .core import REPO, Figure, PartContext, run_child

# Part name → module, in the order a full run takes them (quick and independent first).
PARTS = {
    "startup": "bench.startup",
    "extraction": "bench.extraction",
    "load": "bench.load_path",
    "main-job": "bench.main_job",
    "scale": "bench.scale",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="*", metavar="PART", help=f"parts to run: {', '.join(PARTS)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="skip the 10-million-fact warehouse (scale runs 1M only)")
    parser.add_argument("--output", type=Path, help="report file (default BENCHMARKS.md when every part runs)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _run_part_here(args.child, args.result, args.quick)
    unknown = [p for p in args.parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}; known: {', '.join(PARTS)}")
    parts = args.parts or list(PARTS)
    output = args.output or (REPO / "BENCHMARKS.md" if not args.parts else None)
    return _run_parts(parts, args.quick, output)


def _run_part_here(part: str, result: Path, quick: bool) -> int:
    """In the part's own process: run it and hand its figures back as JSON."""
    ctx = PartContext(part, quick=quick)
    status = 0
    try:
        importlib.import_module(PARTS[part]).run(ctx)
    except Exception as exc:
        traceback.print_exc()
        first_line = (str(exc).strip().splitlines() or [""])[0][:300]
        ctx.note("error", f"{type(exc).__name__}: {first_line}")
        status = 1
    result.write_text(json.dumps({"figures": [f.to_json() for f in ctx.figures], "notes": ctx.notes}))
    return status


def _run_parts(parts: list[str], quick: bool, output: Path | None) -> int:
    from . import report

    started = time.time()
    machine = report.describe_machine()
    print(f"bench: {machine.one_line()}", flush=True)
    results: dict[str, dict] = {}
    failed = []
    for part in parts:
        with tempfile.NamedTemporaryFile(suffix=".json") as handle:
            load_before = os.getloadavg()[0]
            command = [sys.executable, "-m", "bench", "--child", part, "--result", handle.name]
            child = run_child(command + (["--quick"] if quick else []), capture=False)
            text = Path(handle.name).read_text()
        data = json.loads(text) if text else {"figures": [], "notes": {"error": f"exit status {child.returncode}"}}
        figures = [Figure.from_json(f) for f in data["figures"]]
        whole = Figure(part, "whole part: wall time", child.seconds, "s", peak_mb=child.peak_mb,
                       detail=f"peak of the part's process; load average {load_before:.1f} → {os.getloadavg()[0]:.1f}")
        print(whole.line(), flush=True)
        results[part] = {"figures": figures + [whole], "notes": data["notes"]}
        if child.returncode != 0:
            failed.append(part)
            print(f"bench: part {part} failed: {data['notes'].get('error', child.returncode)}", file=sys.stderr)
    if output is not None:
        report.write_report(output, machine, results, quick=quick, seconds=time.time() - started)
        print(f"bench: wrote {output}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
