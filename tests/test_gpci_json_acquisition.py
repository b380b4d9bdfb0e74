"""GPCI's data file as a source: polled at a year-templated address, sniffed as JSON, ingested
from the landing folder or `cityrank ingest` by its .json extension, and refused before it is
registered when it names a city the reviewed list lacks. No network: a FixtureFetcher."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from cityrank_pipeline.acquisition import HttpCache, document_urls, poll_source
from cityrank_pipeline.fetching import FixtureFetcher, HttpStatusError, WrongContentType
from cityrank_pipeline.ingest import ingest_publication, source_for_file
from cityrank_pipeline.snapshots import Quarantine, RawStore

from conftest import REPO
from indicator_fixture import without_city_counts

FIXTURES = REPO / "tests" / "fixtures" / "publishers" / "gpci"
DATA = (FIXTURES / "gpci2023_en_6cities.json").read_bytes()
URL = "https://mori-m-foundation.or.jp/ius/gpci/json/gpci{}_en.json"
JUNE_2024 = dt.date(2024, 6, 1)


@pytest.fixture
def home(tmp_path):
    return RawStore(tmp_path / "raw"), Quarantine(tmp_path / "quarantine"), HttpCache(tmp_path / "raw" / "http_cache")


def json_source(catalog):
    return next((i, s) for i, s in enumerate(catalog["GPCI"].sources) if s.kind == "web" and s.format == "json")


def poll(catalog, home, fetcher, today=JUNE_2024):
    position, source = json_source(catalog)
    store, quarantine, cache = home
    return poll_source(catalog, catalog["GPCI"], position, source, fetcher, store, quarantine, cache, today=today)


def test_the_data_file_comes_before_the_summary_pdf_and_both_stay(catalog):
    kinds = [(s.kind, s.format, s.parser) for s in catalog["GPCI"].sources if s.kind != "curated"]
    assert kinds == [("web", "json", "gpci_data_json"), ("drop_in", "json", "gpci_data_json"),
                     ("web", "pdf", "gpci_summary_pdf"), ("drop_in", "pdf", "gpci_summary_pdf")]


def test_year_placeholder_tries_this_year_then_last(catalog):
    _, source = json_source(catalog)
    assert document_urls(source, JUNE_2024) == [URL.format(2024), URL.format(2023)]
    fixed = source.model_copy(update={"document_url": URL.format(2023)})
    assert document_urls(fixed, JUNE_2024) == [URL.format(2023)]


def test_last_years_file_is_registered_while_this_years_is_not_out(catalog, home):
    catalog = without_city_counts(catalog)  # the cut has six of the 48 cities
    fetcher = FixtureFetcher({URL.format(2023): (DATA, "application/json")})
    outcome = poll(catalog, home, fetcher)
    assert (outcome.status, outcome.edition, outcome.url) == ("new", "2023", URL.format(2023))
    assert [c.url for c in fetcher.calls] == [URL.format(2024), URL.format(2023)]
    store = home[0]
    snapshot = store.get(store.edition_source("GPCI", "2023").snapshot_id)
    assert (snapshot.original_name, snapshot.media_type, snapshot.source_url) == (
        "gpci2023_en.json", "application/json", URL.format(2023))

    again = poll(catalog, home, fetcher)
    assert again.status == "unchanged" and fetcher.calls[-1].etag is not None


def test_this_years_file_wins_once_it_is_out(catalog, home):
    # The 2023 cut stands in for 2024's file: six of 48 cities, and not 2024's curated ranks.
    catalog = without_city_counts(catalog, curated=False)
    fetcher = FixtureFetcher({URL.format(2024): (DATA, "application/json"), URL.format(2023): (DATA, "application/json")})
    outcome = poll(catalog, home, fetcher)
    assert (outcome.status, outcome.edition) == ("new", "2024")
    assert [c.url for c in fetcher.calls] == [URL.format(2024)]


def test_a_404_at_both_addresses_fails_naming_them(catalog, home):
    with pytest.raises(HttpStatusError) as caught:
        poll(catalog, home, FixtureFetcher({}))
    assert URL.format(2023) in str(caught.value) and URL.format(2024) in str(caught.value)
    assert "moved" in str(caught.value)


@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", "application/json"])
def test_an_html_page_where_the_json_was_fails_at_once_naming_the_url(catalog, home, content_type):
    page = b"<!DOCTYPE html><html><body>Page not found</body></html>"
    fetcher = FixtureFetcher({URL.format(2024): (page, content_type), URL.format(2023): (DATA, "application/json")})
    with pytest.raises(WrongContentType) as caught:
        poll(catalog, home, fetcher)
    assert str(caught.value).startswith(URL.format(2024)) and "expected json" in str(caught.value)
    assert len(fetcher.calls) == 1  # not mistaken for "not out yet"


def test_json_files_find_the_data_file_parser_and_pdfs_still_find_theirs(catalog):
    for kind in ("drop_in", "web"):
        assert source_for_file(catalog, "GPCI", "gpci2023_f.json", kind).parser == "gpci_data_json"
        assert source_for_file(catalog, "GPCI", "GPCI2015_en.pdf", kind).parser == "gpci_summary_pdf"


def test_a_dropped_in_data_file_is_registered(catalog, home):
    catalog = without_city_counts(catalog)  # the cut has six of the 48 cities
    store, quarantine, _ = home
    result = ingest_publication(catalog, store, quarantine, "GPCI", DATA, original_name="gpci2023_en.json")
    assert (result.status, result.edition) == ("new", "2023")
    registered = store.edition_source("GPCI", "2023")
    assert (registered.parser, registered.source_kind, registered.complete) == ("gpci_data_json", "drop_in", True)


def test_a_city_outside_the_reviewed_list_is_refused_before_registering(catalog, home):
    store, quarantine, _ = home
    cities = json.loads(DATA)
    cities[1]["City Name"] = "Gotham"
    result = ingest_publication(catalog, store, quarantine, "GPCI", json.dumps(cities).encode(),
                                original_name="gpci2023_en.json")
    assert result.status == "quarantined"
    assert "'Gotham'" in result.reason and "assets/cities.yaml" in result.reason
    assert store.edition_source("GPCI", "2023") is None
    assert result.quarantined_to is not None and result.quarantined_to.exists()
