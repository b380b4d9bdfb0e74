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
