"""The main job's scheduling of edition runs: which run, and how they are shared out."""

import pytest

from cityrank_pipeline.runner import split_by_index
from cityrank_pipeline.settings import load_settings


def test_indices_are_shared_out_whole_and_balanced():
    editions = {"GFCI": [f"GFCI {n}" for n in range(24, 39)], "GPCI": list("abcdefgh"), "GSER": list("abcdefg"),
                "GCO": list("abcdef"), "QOL": list("abcd"), "CIMI": list("abc")}
    shares = split_by_index(editions, 2)
    assert sorted(code for share in shares for code in share) == sorted(editions)
    assert all(share[code] == editions[code] for share in shares for code in share)  # order kept
    sizes = sorted(sum(len(v) for v in share.values()) for share in shares)
    assert sizes == [21, 22]


def test_the_running_process_takes_more_while_the_others_start():
    """The first share is for the process already running; the others start ~4 s later."""
    editions = {"GFCI": [f"GFCI {n}" for n in range(24, 39)], "GPCI": list("abcdefgh"), "GSER": list("abcdefg"),
                "GCO": list("abcdef"), "QOL": list("abcd"), "CIMI": list("abc"), "EIU": list("ab")}
    shares = split_by_index(editions, 2, head_start=8)
    first, second = (sum(len(v) for v in share.values()) for share in shares)
    assert "GFCI" in shares[0]  # the largest index starts at once
    assert first + second == 45 and 6 <= first - second <= 10
    assert split_by_index({"GDCI": ["2019"]}, 3, head_start=8) == [{"GDCI": ["2019"]}]


def test_more_workers_than_indices_leaves_no_empty_share():
    assert split_by_index({"GDCI": ["2019"]}, 4) == [{"GDCI": ["2019"]}]


def test_worker_setting_is_validated():
    assert load_settings({"CITYRANK_WORKERS": "3"}).workers == 3
    assert load_settings({}).workers == 0
    with pytest.raises(ValueError, match="CITYRANK_WORKERS"):
        load_settings({"CITYRANK_WORKERS": "many"})


def test_workers_are_started_early_only_when_many_editions_will_plainly_load(tmp_path):
    """A home's first run and a forced run start their worker before the database is up; a later
    run (most load nothing) does not pay for one."""
    from cityrank_pipeline.runner import likely_parallel

    settings = load_settings({"CITYRANK_HOME": str(tmp_path / "home")})
    assert likely_parallel(settings, force=False)  # first run: nothing loaded yet
    settings.dagster_home.mkdir(parents=True)
    assert not likely_parallel(settings, force=False)
    assert likely_parallel(settings, force=True)


def test_a_pre_started_worker_is_counted_ready_once_its_imports_are_done():
    import time

    from cityrank_pipeline.runner import EDITION_S, WORKER_START_S, WorkerPool

    pool = WorkerPool(1)
    try:
        # just spawned: the running process goes first
        assert 0 < pool.head_start() <= round(WORKER_START_S / EDITION_S)
        seconds = pool.warm[0].result(timeout=120)  # Dagster, the definitions and GX imported in the worker
        assert seconds > 0 and pool.head_start() == 0
        assert time.monotonic() - pool.started >= seconds
    finally:
        pool.close()
