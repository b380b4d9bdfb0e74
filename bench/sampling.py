"""A stack sampler for `cityrank`: where a run's wall time goes, at low overhead.

cProfile multiplies the time of pure-Python hot loops (the briefs' font subsetting ran 13×
slower under it), so the main-job part samples instead: a thread reads the main thread's
stack every `INTERVAL` seconds; a function's share is the fraction of samples in which it is
on the stack (cumulative), and "own" counts the samples where it is the innermost frame. The
thread sampled is the one doing the command's work (see `_working_thread`).

    python -m bench.sampling OUTPUT.json -- run --quiet --force
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter
from pathlib import Path

INTERVAL = 0.01


def _label(frame) -> str:
    code = frame.f_code
    path = code.co_filename
    for marker in ("site-packages/", "cityrank_pipeline/"):
        if marker in path:
            path = ("cityrank_pipeline/" if marker == "cityrank_pipeline/" else "") + path.split(marker, 1)[1]
            break
    return f"{path}:{code.co_firstlineno}({code.co_name})"


def _working_thread(main: int) -> int:
    """The thread doing the command's work: `run` and `ingest` execute on a thread of their own
    named cityrank-… (cli.off_the_main_thread) while the main thread only waits for it."""
    for thread in threading.enumerate():
        if thread.name.startswith("cityrank-") and thread.ident is not None:
            return thread.ident
    return main


def sample(work, output: Path) -> object:
    main = threading.get_ident()
    cumulative: Counter = Counter()
    own: Counter = Counter()
    samples = 0
    done = threading.Event()

    def sampler() -> None:
        nonlocal samples
        while not done.wait(INTERVAL):
            frame = sys._current_frames().get(_working_thread(main))
            if frame is None:
                continue
            samples += 1
            own[_label(frame)] += 1
            seen = set()
            while frame is not None:
                label = _label(frame)
                if label not in seen:
                    seen.add(label)
                    cumulative[label] += 1
                frame = frame.f_back

    thread = threading.Thread(target=sampler, daemon=True)
    start = time.perf_counter()
    thread.start()
    try:
        return work()
    finally:
        done.set()
        thread.join()
        output.write_text(json.dumps({"seconds": time.perf_counter() - start, "samples": samples,
                                      "cumulative": cumulative.most_common(60), "own": own.most_common(20)}))


def main(argv: list[str]) -> int:
    output, rest = Path(argv[0]), argv[argv.index("--") + 1:]
    from cityrank_pipeline.cli import main as cityrank

    return sample(lambda: cityrank(rest), output)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
