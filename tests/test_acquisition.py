"""Polling publishers (cityrank_pipeline.acquisition) against a local HTTP server.

The catalog's real publisher URLs are sent to 127.0.0.1 by the mirror fetcher, so discovery,
conditional GET, retries and ingestion run exactly as in production. The HTTP failure modes
themselves are covered one by one in test_fetching.py; here each is checked for what a user
of the poll sees: the source is reported with the reason, and nothing else is disturbed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from http_fixture_server import Reply, serve

from cityrank_pipeline.acquisition import HttpCache, document_name, poll_index
from cityrank_pipeline.catalog import Catalog
from cityrank_pipeline.orchestration.fetcher import FixtureFetcherResource, MirrorFetcherResource
from cityrank_pipeline.snapshots import Quarantine, RawStore

PUBLISHERS = Path(__file__).resolve().parent / "fixtures" / "publishers"
KEARNEY_PDF = (PUBLISHERS / "kearney" / "kearney_gcr2025_extract.pdf").read_bytes()
# The same report re-issued with different bytes (a trailing PDF comment), as a publisher's
# silent correction would be.
KEARNEY_REISSUED = KEARNEY_PDF + b"\n% re-issued\n"
GSER_HTML = (PUBLISHERS / "gser" / "gser2025_ranking_top40.html").read_bytes()
CIMI_PDF = (PUBLISHERS / "cimi" / "cimi2019_report_extract.pdf").read_bytes()
GFCI35 = (PUBLISHERS / "gfci" / "gfci35_report_extract.pdf").read_bytes()
GFCI38 = (PUBLISHERS / "gfci" / "gfci38_report_extract.pdf").read_bytes()

PDF = "application/pdf"
HTML = "text/html; charset=utf-8"

KEARNEY_LANDING = "/www.kearney.com/service/global-business-policy-council/gcr"
KEARNEY_DOC = "/www.kearney.com/documents/gcr/global-cities-report-2025.pdf"
GSER_DOC = "/startupgenome.com/report/gser2025/global-startup-ecosystem-ranking-2025-top-40"
GFCI_LANDING = "/www.longfinance.net/programmes/financial-centre-futures/global-financial-centres-index/"


# --------------------------------------------------------------------------- a fixture publisher


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


def conditional(body: bytes, content_type: str):
    """A route serving `body` with an ETag, answering 304 when the client sends it back,
    as publishers' web servers do."""
    def route(request):
        if request.headers.get("If-None-Match") == etag_of(body):
            return Reply(304, {"ETag": etag_of(body)})
        return Reply(200, {"Content-Type": content_type, "ETag": etag_of(body)}, body)
    return route


def landing_page(*links: str) -> bytes:
    """A publisher page in the usual shape: some navigation, then the report links."""
    anchors = "\n".join(f'<li><a href="{href}">Download the report</a></li>' for href in links)
    return (f'<!DOCTYPE html><html><head><title>Reports</title></head><body>'
            f'<nav><a href="/">Home</a> <a href="/about">About</a></nav><ul>{anchors}</ul></body></html>').encode()


def sequence(*bodies: tuple[bytes, str]):
    """A route whose content changes on each request (then stays at the last), keeping the
    ETag/304 behaviour of `conditional` for each version."""
    seen = []

    def route(request):
        body, content_type = bodies[min(len(seen), len(bodies) - 1)]
        seen.append(request)
        return conditional(body, content_type)(request)
    return route


def kearney_site(document_route=None) -> dict:
    return {
        KEARNEY_LANDING: conditional(landing_page("/documents/gcr/global-cities-report-2025.pdf"), HTML),
        KEARNEY_DOC: document_route or conditional(KEARNEY_PDF, PDF),
    }


class Home:
    """A private raw store, quarantine and HTTP state, as under CITYRANK_HOME."""

    def __init__(self, root: Path):
        self.store = RawStore(root / "raw")
        self.quarantine = Quarantine(root / "quarantine")
        self.cache = HttpCache(root / "raw" / "http_cache")

    def poll(self, catalog, code, resource):
        with resource.open() as fetcher:
            return poll_index(catalog, code, fetcher, self.store, self.quarantine, self.cache)


@pytest.fixture
def home(tmp_path):
    return Home(tmp_path)


def mirror(site: str, **limits) -> MirrorFetcherResource:
    settings = dict(max_attempts=2, backoff_base=0.01, backoff_max=0.05, read_timeout=0.5, deadline=5.0)
    return MirrorFetcherResource(base_url=site, **{**settings, **limits})


def with_sources(catalog: Catalog, code: str, *sources) -> Catalog:
    """The catalog with one index's sources replaced (the test's publisher layout)."""
    entry = catalog[code].model_copy(update={"sources": list(sources)})
    return Catalog({**catalog.indices, code: entry}, catalog.cities, catalog.directory)


def web_source(catalog: Catalog, code: str, **changes):
    source = next(s for s in catalog[code].sources if s.kind == "web")
    return source.model_copy(update=changes)


# --------------------------------------------------------------------------- the happy path


def test_first_poll_registers_the_edition_with_provenance(catalog, home):
    with serve(kearney_site()) as site:
        report = home.poll(catalog, "GCI", mirror(site))
    [outcome] = report.outcomes
    assert (outcome.status, outcome.edition) == ("new", "2025")
    assert report.documents_seen == 1 and report.new_editions == [outcome.run_key] and report.errors == []
    registered = home.store.edition_source("GCI", "2025")
    assert (registered.source_kind, registered.parser_options) == ("web", {"table": "gci"})
    snapshot = home.store.get(registered.snapshot_id)
    # Provenance names the publisher's URL, not the mirror it was fetched through.
    assert snapshot.source_url == "https://www.kearney.com/documents/gcr/global-cities-report-2025.pdf"
    assert snapshot.etag == etag_of(KEARNEY_PDF) and snapshot.original_name == "global-cities-report-2025.pdf"


def test_repoll_sends_validators_and_changes_nothing(catalog, home):
    with serve(kearney_site()) as site:
        home.poll(catalog, "GCI", mirror(site))
        registry = sorted((home.store.root / "editions").rglob("*.json"))
        before = {p: p.read_bytes() for p in registry}
        report = home.poll(catalog, "GCI", mirror(site))
        landing, document = site.last_request(KEARNEY_LANDING), site.last_request(KEARNEY_DOC)
    assert [o.status for o in report.outcomes] == ["unchanged"]
    assert report.documents_seen == 1 and report.new_editions == [] and report.errors == []
    assert landing.headers.get("If-None-Match") and document.headers.get("If-None-Match") == etag_of(KEARNEY_PDF)
    assert {p: p.read_bytes() for p in sorted((home.store.root / "editions").rglob("*.json"))} == before


def test_document_replaced_in_place_is_a_new_snapshot_of_the_edition(catalog, home):
    route = sequence((KEARNEY_PDF, PDF), (KEARNEY_REISSUED, PDF))
    with serve(kearney_site(route)) as site:
        first = home.poll(catalog, "GCI", mirror(site)).outcomes[0]
        second = home.poll(catalog, "GCI", mirror(site)).outcomes[0]
    assert (first.status, second.status, second.edition) == ("new", "new", "2025")
    assert first.snapshot_id != second.snapshot_id
    assert home.store.edition_source("GCI", "2025").snapshot_id == second.snapshot_id


def test_a_newer_edition_linked_on_the_landing_page_is_fetched(catalog, home):
    public = with_sources(catalog, "GFCI", web_source(catalog, "GFCI", access="public"))
    landing = sequence((landing_page("/media/documents/GFCI_35_Report.pdf"), HTML),
                       (landing_page("/media/documents/GFCI_35_Report.pdf", "/media/documents/GFCI_38_Report.pdf"), HTML))
    routes = {GFCI_LANDING: landing,
              "/www.longfinance.net/media/documents/GFCI_35_Report.pdf": conditional(GFCI35, PDF),
              "/www.longfinance.net/media/documents/GFCI_38_Report.pdf": conditional(GFCI38, PDF)}
    with serve(routes) as site:
        first = home.poll(public, "GFCI", mirror(site))
        second = home.poll(public, "GFCI", mirror(site))
        third = home.poll(public, "GFCI", mirror(site))
    assert [(o.status, o.edition) for r in (first, second, third) for o in r.outcomes] == [
        ("new", "GFCI 35"), ("new", "GFCI 38"), ("unchanged", None)]


def gser_at_fixed_url(catalog):
    """GSER as a `document_url` source (no landing page): the catalog's other source shape."""
    return with_sources(catalog, "GSER", web_source(
        catalog, "GSER", landing_pages=[], href_pattern=None, document_url="https:/" + GSER_DOC))


def test_document_url_source_is_fetched_without_a_landing_page(catalog, home):
    with serve({GSER_DOC: conditional(GSER_HTML, HTML)}) as site:
        report = home.poll(gser_at_fixed_url(catalog), "GSER", mirror(site))
        assert site.hits(GSER_DOC) == 1 and len(site.requests) == 1
    [outcome] = report.outcomes
    assert (outcome.status, outcome.edition) == ("new", "2025")
    assert home.store.get(outcome.snapshot_id).original_name == "global-startup-ecosystem-ranking-2025-top-40.html"


def test_shared_document_is_registered_for_each_index(catalog, home):
    """GCI and GCO read the same Kearney PDF: GCO must not get a 304 because GCI fetched it."""
    with serve(kearney_site()) as site:
        gci = home.poll(catalog, "GCI", mirror(site))
        gco = home.poll(catalog, "GCO", mirror(site))
    assert [o.status for o in gci.outcomes + gco.outcomes] == ["new", "new"]
    assert home.store.edition_source("GCO", "2025").parser_options == {"table": "gco"}


def test_fixture_fetcher_resource_polls_without_sockets(catalog, home, tmp_path):
    page = tmp_path / "site" / GSER_DOC.lstrip("/")
    page.parent.mkdir(parents=True)
    page.write_bytes(GSER_HTML)
    resource = FixtureFetcherResource(directory=str(tmp_path / "site"))
    fixed = gser_at_fixed_url(catalog)
    first, second = home.poll(fixed, "GSER", resource), home.poll(fixed, "GSER", resource)
    assert [o.status for o in first.outcomes + second.outcomes] == ["new", "unchanged"]


# --------------------------------------------------------------------------- not fetched


def test_gated_sources_and_discontinued_indices_are_not_fetched(catalog, home, tmp_path):
    gated = with_sources(catalog, "GFCI", web_source(catalog, "GFCI", access="form_gated"))
    resource = FixtureFetcherResource(directory=str(tmp_path))
    with resource.open() as fetcher:
        gfci = poll_index(gated, "GFCI", fetcher, home.store, home.quarantine, home.cache)
        gdci = poll_index(gated, "GDCI", fetcher, home.store, home.quarantine, home.cache)
        assert fetcher.calls == []
    [skipped] = gfci.outcomes
    assert skipped.status == "skipped" and "form_gated" in skipped.reason and "drop-in" in skipped.reason
    assert gfci.errors == [] and gfci.reason == "GFCI has no public web source to poll"
    assert not gdci.polled and gdci.outcomes == [] and "discontinued" in gdci.reason


# --------------------------------------------------------------------------- failures


FAILURES = {
    "404": (Reply(404, {"Content-Type": "text/html"}, b"<html>gone</html>"), "error", "HTTP 404"),
    "always 500": (Reply(500, {}, b"oops"), "error", "HTTP 500"),
    "500 then 200": ([Reply(500, {}, b"oops"), Reply(200, {"Content-Type": PDF}, KEARNEY_PDF)], "new", None),
    "timeout": (Reply(200, {"Content-Type": PDF}, KEARNEY_PDF, delay=1.5), "error", "timed out"),
    "connection reset": (Reply(200, {"Content-Type": PDF}, KEARNEY_PDF, send_bytes=100, reset=True), "error", "mid-body"),
    "truncated": (Reply(200, {"Content-Type": PDF}, KEARNEY_PDF, send_bytes=100), "error", "dropped mid-body"),
    "oversized": (Reply(200, {"Content-Type": PDF}, KEARNEY_PDF + b"0" * 200_000), "error", "byte cap"),
    "wrong content type": (Reply(200, {"Content-Type": "text/html"}, b"<html>sign in</html>"), "error", "expected pdf"),
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_document_failures_are_reported_with_the_reason(catalog, home, case):
    reply, status, words = FAILURES[case]
    with serve(kearney_site(reply)) as site:
        report = home.poll(catalog, "GCI", mirror(site, max_bytes=100_000, read_timeout=0.3))
    [outcome] = report.outcomes
    assert outcome.status == status
    if words:
        assert words in outcome.reason and "global-cities-report-2025.pdf" in outcome.reason
        assert len(report.errors) == 1 and report.new_editions == [] and home.store.edition_sources("GCI") == []


def test_a_failing_source_does_not_stop_the_next(catalog, home):
    dead = web_source(catalog, "GCI", landing_pages=["https://www.kearney.com/moved-away"])
    two = with_sources(catalog, "GCI", dead, web_source(catalog, "GCI"))
    with serve(kearney_site()) as site:
        report = home.poll(two, "GCI", mirror(site))
    assert [(o.source, o.status) for o in report.outcomes] == [(0, "error"), (1, "new")]
    assert "HTTP 404" in report.errors[0] and report.documents_seen == 1


def test_a_landing_page_without_the_link_is_a_discovery_error(catalog, home):
    with serve({KEARNEY_LANDING: conditional(landing_page("/about/our-people"), HTML)}) as site:
        report = home.poll(catalog, "GCI", mirror(site))
    [outcome] = report.outcomes
    assert outcome.status == "error" and "no link matches href_pattern" in outcome.reason
    assert "has the page layout changed?" in report.errors[0]


def test_second_landing_page_still_answers_when_the_first_fails(catalog, home):
    pages = ["https://www.kearney.com/old-page", "https://www.kearney.com/service/global-business-policy-council/gcr"]
    both = with_sources(catalog, "GCI", web_source(catalog, "GCI", landing_pages=pages))
    with serve(kearney_site()) as site:
        report = home.poll(both, "GCI", mirror(site))
    assert [o.status for o in report.outcomes] == ["new"]


def test_unreadable_document_is_quarantined_and_fetched_again_next_poll(catalog, home):
    # A PDF that is not a Kearney report (the layout is unknown): refused, never registered.
    with serve(kearney_site(conditional(CIMI_PDF, PDF))) as site:
        first = home.poll(catalog, "GCI", mirror(site))
        second = home.poll(catalog, "GCI", mirror(site))
        document = site.last_request(KEARNEY_DOC)
    assert [o.status for o in first.outcomes + second.outcomes] == ["quarantined", "quarantined"]
    assert "quarantine" in first.errors[0] and home.store.edition_sources("GCI") == []
    assert "If-None-Match" not in document.headers  # not remembered, so a fixed parser gets it
    assert len(home.quarantine.entries()) == 1


def test_damaged_http_state_costs_one_full_fetch(catalog, home):
    with serve(kearney_site()) as site:
        home.poll(catalog, "GCI", mirror(site))
        for state in (home.cache.root / "gci").glob("*.json"):
            state.write_text("{not json")
        report = home.poll(catalog, "GCI", mirror(site))
        assert "If-None-Match" not in site.last_request(KEARNEY_DOC).headers
    assert [o.status for o in report.outcomes] == ["unchanged"]  # same bytes: nothing new


def test_edited_catalog_patterns_are_not_answered_from_remembered_links(catalog, home):
    """A pattern fixed in the YAML must take effect even while the landing page is unchanged."""
    pages = landing_page("/documents/gcr/global-cities-report-2025.pdf", "/documents/gcr/annex-2025.pdf")
    routes = {KEARNEY_LANDING: conditional(pages, HTML),
              KEARNEY_DOC: conditional(KEARNEY_PDF, PDF),
              "/www.kearney.com/documents/gcr/annex-2025.pdf": conditional(KEARNEY_REISSUED, PDF)}
    fixed = with_sources(catalog, "GCI", web_source(catalog, "GCI", href_pattern=r"annex-(?P<edition>20\d\d)\.pdf$"))
    with serve(routes) as site:
        home.poll(catalog, "GCI", mirror(site))
        report = home.poll(fixed, "GCI", mirror(site))
        assert "If-None-Match" not in site.last_request(KEARNEY_LANDING).headers
    assert report.outcomes[0].url == "https://www.kearney.com/documents/gcr/annex-2025.pdf"


def test_http_state_is_kept_per_index_under_http_cache(catalog, home):
    with serve(kearney_site()) as site:
        home.poll(catalog, "GCI", mirror(site))
    entries = [json.loads(p.read_text()) for p in sorted((home.cache.root / "gci").glob("*.json"))]
    urls = {e["url"]: e for e in entries}
    landing = urls["https://www.kearney.com/service/global-business-policy-council/gcr"]
    assert landing["links"][0][0] == "https://www.kearney.com/documents/gcr/global-cities-report-2025.pdf"
    assert urls["https://www.kearney.com/documents/gcr/global-cities-report-2025.pdf"]["etag"] == etag_of(KEARNEY_PDF)


@pytest.mark.parametrize("url, fmt, name", [
    ("https://x.org/a/GPCI2025_summary.pdf", "pdf", "GPCI2025_summary.pdf"),
    ("https://x.org/report/gser2025/ranking-2025-top-40", "html", "ranking-2025-top-40.html"),
    ("https://x.org/news/vienna-offers-highest-quality/", "html", "vienna-offers-highest-quality.html"),
    ("https://x.org/files/GFCI%2038%20Report.pdf", "pdf", "GFCI 38 Report.pdf"),
    ("https://x.org/page.htm", "html", "page.htm"),
    ("https://x.org/", "html", "index.html"),
])
def test_document_names_carry_the_format_extension(url, fmt, name):
    assert document_name(url, fmt) == name
