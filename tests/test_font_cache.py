"""The briefs' font subsets kept on disk between refreshes (fonts.subset_for_text with a cache)."""

from __future__ import annotations

import pytest

from cityrank_pipeline import fonts

TEXT = "서울 기획조정실 순위 Seoul rank"


@pytest.fixture(autouse=True)
def fresh_memory():
    fonts._cut_subset.cache_clear()
    yield
    fonts._cut_subset.cache_clear()


def _no_cutting(monkeypatch):
    def refuse(chars):
        raise AssertionError("the subset was cut again instead of read from the cache")

    monkeypatch.setattr(fonts, "_cut_subset", refuse)


def test_a_cached_subset_is_the_same_bytes_and_is_read_back(tmp_path, monkeypatch):
    direct = fonts.subset_for_text(TEXT)
    fonts._cut_subset.cache_clear()
    first = fonts.subset_for_text(TEXT, tmp_path)
    assert first == direct and first.startswith(b"OTTO")
    assert len(list(tmp_path.glob("*.otf"))) == 1 and not list(tmp_path.glob(".tmp-*"))
    _no_cutting(monkeypatch)
    assert fonts.subset_for_text(TEXT, tmp_path) == direct
    # Same characters in another order and number: the same subset.
    assert fonts.subset_for_text(TEXT[::-1] + TEXT, tmp_path) == direct


def test_another_character_set_or_recipe_is_another_entry(tmp_path, monkeypatch):
    fonts.subset_for_text(TEXT, tmp_path)
    fonts.subset_for_text(TEXT + "부산", tmp_path)
    assert len(list(tmp_path.glob("*.otf"))) == 2
    monkeypatch.setattr(fonts, "SUBSET_RECIPE", fonts.SUBSET_RECIPE + 1)
    fonts.subset_for_text(TEXT, tmp_path)
    assert len(list(tmp_path.glob("*.otf"))) == 3


def test_a_damaged_entry_is_cut_again_and_replaced(tmp_path):
    good = fonts.subset_for_text(TEXT, tmp_path)
    [entry] = tmp_path.glob("*.otf")
    entry.write_bytes(b"<html>not a font</html>")
    fonts._cut_subset.cache_clear()
    assert fonts.subset_for_text(TEXT, tmp_path) == good
    assert entry.read_bytes() == good


def test_the_cache_keeps_only_the_newest_entries(tmp_path, monkeypatch):
    monkeypatch.setattr(fonts, "CACHE_LIMIT", 2)
    for extra in ("가", "나", "다"):
        fonts.subset_for_text(TEXT + extra, tmp_path)
    assert len(list(tmp_path.glob("*.otf"))) == 2


def test_a_cache_that_cannot_be_written_costs_time_not_the_brief(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    assert fonts.subset_for_text(TEXT, blocker / "fonts") == fonts.subset_for_text(TEXT)


def test_two_cuts_of_the_same_text_are_the_same_bytes():
    """fontTools stamps the clock into `head` unless told not to; a brief must not change with it."""
    first = fonts.subset_for_text(TEXT)
    fonts._cut_subset.cache_clear()
    import time

    time.sleep(1.1)  # head.modified has one-second resolution
    assert fonts.subset_for_text(TEXT) == first


def test_every_brief_of_a_first_run_carries_one_shared_subset(home_after_two_first_runs):
    """Briefs embed the font cut for the catalog's and the brief modules' characters plus their
    own text (brief.brief_vocabulary): 18 briefs, one cut, one cache entry."""
    import re

    home, _, _ = home_after_two_first_runs
    briefs = sorted((home / "briefs").rglob("*.html"))
    assert len(briefs) == 18, briefs
    faces = {re.search(r"data:font/otf;base64,([A-Za-z0-9+/=]+)", path.read_text()).group(1) for path in briefs}
    assert len(faces) == 1
    assert len(list((home / "cache" / "fonts").glob("*.otf"))) == 1
