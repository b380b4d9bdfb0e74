"""HttpFetcher against a real local server, and FixtureFetcher's parity with it.

Every failure case asserts the error type a caller would catch AND that the message names
the URL, because that message is what lands in the run log when a publisher changes.
Timeouts and backoff are tiny so the whole file runs in a few seconds.
"""

from __future__ import annotations

import hashlib
import pickle
import time
import traceback
from datetime import timezone

import pytest
from http_fixture_server import RecordedRequest, Reply, serve, unused_port

from cityrank_pipeline.fetching import (
    ConnectionFailed,
    FetchError,
    FetchTimeout,
    FixtureFetcher,
    HttpFetcher,
    HttpStatusError,
    TooLarge,
    Truncated,
    WrongContentType,
    redact_url,
)

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><head><title>GPCI</title></head><body>Report</body></html>"
CSV = b"city,rank\nLondon,1\nNew York,2\n"
PDF_HEADERS = {"Content-Type": "application/pdf"}
HTML_HEADERS = {"Content-Type": "text/html; charset=utf-8"}
LAST_MODIFIED = "Tue, 14 Nov 2023 08:00:00 GMT"


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch):
    """A proxy from the environment would swallow requests meant for 127.0.0.1."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fetcher():
    """A live fetcher tuned for tests: 3 attempts, 10 ms backoff, 0.3 s read timeout."""
    with HttpFetcher(connect_timeout=1.0, read_timeout=0.3, deadline=5.0, max_attempts=3,
                     backoff_base=0.01, backoff_max=0.05, max_bytes=10_000) as live:
        yield live


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:12] + '"'


def conditional_route(body: bytes, headers: dict[str, str]):
    """A route that answers 304 like a real server when the client's validators match."""

    def route(request: RecordedRequest):
        etag = etag_of(body)
        validators = {"ETag": etag, "Last-Modified": LAST_MODIFIED}
        if request.headers.get("If-None-Match") == etag:
            return (304, validators, b"")
        if "If-None-Match" not in request.headers and request.headers.get("If-Modified-Since") == LAST_MODIFIED:
            return (304, validators, b"")
        return (200, {**headers, **validators}, body)

    return route


# --------------------------------------------------------------------------- success paths


def test_200_returns_bytes_and_metadata(fetcher):
    with serve({"/gpci.pdf": (200, PDF_HEADERS, PDF)}) as site:
        result = fetcher.fetch(site.url("/gpci.pdf"), expect="pdf")
    assert result.status == "fetched"
    assert result.content == PDF
    assert result.size == len(PDF)
    assert result.content_type == "application/pdf"
    assert result.url == site.url("/gpci.pdf")
    assert result.fetched_at.tzinfo == timezone.utc


def test_user_agent_names_project_and_contact(fetcher, monkeypatch):
    monkeypatch.setenv("CITYRANK_CONTACT", "data-team@city.example")
    with HttpFetcher(read_timeout=1.0) as with_contact, serve({"/p": (200, HTML_HEADERS, HTML)}) as site:
        with_contact.fetch(site.url("/p"))
        agent = site.last_request("/p").headers["User-Agent"]
    assert agent.startswith("cityrank/")
    assert agent.endswith("(+data-team@city.example)")


def test_304_with_etag_is_not_modified(fetcher):
    with serve({"/gpci.pdf": conditional_route(PDF, PDF_HEADERS)}) as site:
        first = fetcher.fetch(site.url("/gpci.pdf"), expect="pdf")
        second = fetcher.fetch(site.url("/gpci.pdf"), expect="pdf", etag=first.etag)
        sent = site.last_request("/gpci.pdf").headers
    assert first.etag == etag_of(PDF)
    assert sent["If-None-Match"] == first.etag
    assert second.status == "not_modified" and second.not_modified
    assert second.content is None and second.size == 0
    assert second.etag == first.etag


def test_304_with_last_modified_is_not_modified(fetcher):
    with serve({"/gfci.pdf": conditional_route(PDF, PDF_HEADERS)}) as site:
        first = fetcher.fetch(site.url("/gfci.pdf"), expect="pdf")
        second = fetcher.fetch(site.url("/gfci.pdf"), expect="pdf", last_modified=first.last_modified)
        sent = site.last_request("/gfci.pdf").headers
    assert first.last_modified == LAST_MODIFIED
    assert sent["If-Modified-Since"] == LAST_MODIFIED
    assert second.status == "not_modified"
    assert second.last_modified == LAST_MODIFIED


def test_changed_document_is_fetched_despite_old_etag(fetcher):
    with serve({"/gpci.pdf": conditional_route(PDF, PDF_HEADERS)}) as site:
        result = fetcher.fetch(site.url("/gpci.pdf"), expect="pdf", etag='"an-older-edition"')
    assert result.status == "fetched" and result.content == PDF


def test_redirect_is_followed_and_final_url_reported(fetcher):
    routes = {
        "/latest.pdf": (302, {"Location": "/archive/GPCI2023.pdf"}, b""),
        "/archive/GPCI2023.pdf": (200, PDF_HEADERS, PDF),
    }
    with serve(routes) as site:
        result = fetcher.fetch(site.url("/latest.pdf"), expect="pdf")
    assert result.url == site.url("/archive/GPCI2023.pdf")
    assert result.content == PDF


def test_500_then_200_is_retried_and_succeeds(fetcher):
    with serve({"/r.pdf": [Reply(500), Reply(200, PDF_HEADERS, PDF)]}) as site:
        result = fetcher.fetch(site.url("/r.pdf"), expect="pdf")
        hits = site.hits("/r.pdf")
    assert result.content == PDF
    assert hits == 2


def test_429_is_retried(fetcher):
    with serve({"/r.csv": [Reply(429, {"Retry-After": "0"}), Reply(200, {"Content-Type": "text/csv"}, CSV)]}) as site:
        result = fetcher.fetch(site.url("/r.csv"), expect="csv")
    assert result.content == CSV


def test_pdf_served_as_octet_stream_is_accepted(fetcher):
    with serve({"/dl": (200, {"Content-Type": "application/octet-stream"}, PDF)}) as site:
        assert fetcher.fetch(site.url("/dl"), expect="pdf").content == PDF


# --------------------------------------------------------------------------- failures


def failure(fetcher, route, error_type, *, expect="any", path="/doc.pdf"):
    """Fetch `path` from a server answering with `route`; return the raised error and how
    many requests the server saw. Every failure must name the URL, so that is checked here."""
    with serve({path: route}) as site:
        url = site.url(path)
        with pytest.raises(error_type) as caught:
            fetcher.fetch(url, expect=expect)
        assert url in str(caught.value)
        return caught.value, site.hits(path)


def test_404_is_not_retried(fetcher):
    error, hits = failure(fetcher, (404, {}, b"gone"), HttpStatusError, expect="pdf")
    assert (error.status, hits) == (404, 1)
    assert "404" in str(error)


def test_403_is_not_retried(fetcher):
    error, hits = failure(fetcher, (403, {}, b"forbidden"), HttpStatusError)
    assert (error.status, hits) == (403, 1)


def test_always_500_gives_up_after_max_attempts(fetcher):
    error, hits = failure(fetcher, (500, {}, b"oops"), HttpStatusError, expect="pdf")
    assert (error.status, error.attempts, hits) == (500, 3, 3)
    assert "after 3 attempts" in str(error)


def test_redirect_to_missing_page_names_both_urls(fetcher):
    with serve({"/old.pdf": (301, {"Location": "/moved.pdf"}, b"")}) as site:
        with pytest.raises(HttpStatusError) as caught:
            fetcher.fetch(site.url("/old.pdf"))
    assert site.url("/moved.pdf") in str(caught.value)
    assert site.url("/old.pdf") in str(caught.value)


def test_read_timeout_is_retried_then_raised(fetcher):
    started = time.monotonic()
    _, hits = failure(fetcher, Reply(200, HTML_HEADERS, HTML, delay=5.0), FetchTimeout)
    assert hits == 3
    assert time.monotonic() - started < 3.0  # 3 x 0.3 s read timeout, not 3 x 5 s


def test_overall_deadline_caps_a_long_read_timeout():
    started = time.monotonic()
    with HttpFetcher(read_timeout=30.0, deadline=0.3, backoff_base=0.01) as patient:
        failure(patient, Reply(200, HTML_HEADERS, HTML, delay=5.0), FetchTimeout)
    assert time.monotonic() - started < 2.5  # the 0.3 s deadline, not the 30 s read timeout


def test_connection_refused_is_connection_failed(fetcher):
    url = f"http://127.0.0.1:{unused_port()}/gpci.pdf"
    with pytest.raises(ConnectionFailed) as caught:
        fetcher.fetch(url)
    assert url in str(caught.value)
    assert caught.value.attempts == 3


def test_connection_reset_mid_body_is_truncated(fetcher):
    reply = Reply(200, PDF_HEADERS, PDF * 20, send_bytes=40, reset=True)
    failure(fetcher, reply, Truncated, expect="pdf")


def test_body_shorter_than_content_length_is_truncated(fetcher):
    reply = Reply(200, PDF_HEADERS, PDF, content_length=len(PDF) + 500, send_bytes=len(PDF))
    _, hits = failure(fetcher, reply, Truncated, expect="pdf")
    assert hits == 3  # a cut transfer is worth retrying


def test_chunked_body_cut_short_is_truncated(fetcher):
    reply = Reply(200, {"Content-Type": "text/csv"}, CSV * 100, chunked=True, send_bytes=1500)
    failure(fetcher, reply, Truncated, expect="csv", path="/r.csv")


def test_body_stalling_on_an_open_connection_times_out():
    reply = Reply(200, PDF_HEADERS, PDF, content_length=len(PDF) + 500)
    with HttpFetcher(read_timeout=0.2, max_attempts=1) as impatient:
        failure(impatient, reply, FetchTimeout, expect="pdf")


def test_truncated_then_complete_succeeds(fetcher):
    script = [Reply(200, PDF_HEADERS, PDF, send_bytes=10), Reply(200, PDF_HEADERS, PDF)]
    with serve({"/r.pdf": script}) as site:
        assert fetcher.fetch(site.url("/r.pdf"), expect="pdf").content == PDF


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked-no-length"])
def test_oversized_body_is_too_large(fetcher, chunked):
    """Refused from Content-Length before reading, or counted while streaming without it."""
    reply = Reply(200, PDF_HEADERS, PDF + b"0" * 20_000, chunked=chunked)
    error, hits = failure(fetcher, reply, TooLarge, expect="pdf")
    assert "10000" in str(error)
    assert hits == 1


def test_html_served_where_pdf_expected(fetcher):
    error, hits = failure(fetcher, (200, HTML_HEADERS, HTML), WrongContentType, expect="pdf")
    assert "text/html" in str(error)
    assert hits == 1


def test_pdf_header_with_non_pdf_body_is_sniffed(fetcher):
    error, _ = failure(fetcher, (200, PDF_HEADERS, HTML), WrongContentType, expect="pdf")
    assert "%PDF-" in str(error)


def test_html_error_page_where_csv_expected(fetcher):
    failure(fetcher, (200, {"Content-Type": "text/plain"}, HTML), WrongContentType, expect="csv", path="/d.csv")


def test_pdf_where_html_expected(fetcher):
    failure(fetcher, (200, PDF_HEADERS, PDF), WrongContentType, expect="html", path="/index")


def test_expect_any_accepts_whatever_arrives(fetcher):
    with serve({"/x": (200, {"Content-Type": "image/png"}, b"\x89PNG")}) as site:
        assert fetcher.fetch(site.url("/x")).content == b"\x89PNG"


def test_unknown_expect_is_a_programming_error(fetcher):
    with pytest.raises(ValueError, match="expect"):
        fetcher.fetch("http://127.0.0.1:9/x", expect="xlsx")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- secrets


def test_messages_redact_tokens_and_credentials(fetcher):
    with serve({}) as site:
        url = site.url("/report.pdf?edition=2023&token=s3cr3t&api_key=k3y").replace("http://", "http://bob:hunter2@")
        with pytest.raises(HttpStatusError) as caught:
            fetcher.fetch(url)
    message = str(caught.value) + repr(caught.value)
    for secret in ("s3cr3t", "k3y", "hunter2", "bob"):
        assert secret not in message
    assert "edition=2023" in message and "/report.pdf" in message


def test_tracebacks_do_not_leak_tokens(fetcher):
    url = f"http://127.0.0.1:{unused_port()}/r.pdf?access_token=s3cr3t"
    with pytest.raises(ConnectionFailed) as caught:
        fetcher.fetch(url)
    printed = "".join(traceback.format_exception(caught.value))
    assert "s3cr3t" not in printed and "access_token=REDACTED" in printed


def test_redact_url_keeps_harmless_params():
    assert redact_url("https://x.org/a?page=2&sig=abc") == "https://x.org/a?page=2&sig=REDACTED"


def test_errors_survive_pickling_with_their_details(fetcher):
    error, _ = failure(fetcher, (503, {}, b""), HttpStatusError)
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.status, copy.attempts, str(copy)) == (HttpStatusError, 503, 3, str(error))


def test_unfollowed_3xx_is_not_a_document(fetcher):
    error, _ = failure(fetcher, (300, {}, b"choose"), HttpStatusError)
    assert error.status == 300


def test_errors_share_one_base_class():
    for error_type in (HttpStatusError, TooLarge, Truncated, WrongContentType, FetchTimeout, ConnectionFailed):
        assert issubclass(error_type, FetchError)


# --------------------------------------------------------------------------- FixtureFetcher


DOCS = {
    "https://www.mori-m-foundation.or.jp/pdf/GPCI2023_summary.pdf": (PDF, "application/pdf"),
    "https://www.mori-m-foundation.or.jp/english/ius2/gpci2/index.shtml": (HTML, "text/html"),
}
PDF_URL, PAGE_URL = list(DOCS)


def test_fixture_fetcher_serves_and_records_calls():
    fixtures = FixtureFetcher(DOCS)
    result = fixtures.fetch(PDF_URL, expect="pdf")
    fixtures.fetch(PAGE_URL, expect="html")
    assert result.status == "fetched" and result.content == PDF and result.size == len(PDF)
    assert result.content_type == "application/pdf" and result.etag
    assert [(call.url, call.expect) for call in fixtures.calls] == [(PDF_URL, "pdf"), (PAGE_URL, "html")]


def test_fixture_fetcher_304_when_etag_matches():
    fixtures = FixtureFetcher(DOCS)
    first = fixtures.fetch(PDF_URL, expect="pdf")
    second = fixtures.fetch(PDF_URL, expect="pdf", etag=first.etag)
    stale = fixtures.fetch(PDF_URL, expect="pdf", etag='"other"')
    assert second.status == "not_modified" and second.content is None and second.etag == first.etag
    assert stale.status == "fetched"
    assert fixtures.calls[1].etag == first.etag


def test_fixture_fetcher_missing_url_is_404_like_live():
    url = "https://www.mori-m-foundation.or.jp/pdf/GPCI2031_summary.pdf"
    with pytest.raises(HttpStatusError) as caught:
        FixtureFetcher(DOCS).fetch(url, expect="pdf")
    assert caught.value.status == 404 and url in str(caught.value)


def test_fixture_fetcher_applies_the_same_content_checks():
    fixtures = FixtureFetcher({"https://x.org/r.pdf": (HTML, "text/html"), "https://x.org/s.pdf": (HTML, None)},
                              max_bytes=10)
    with pytest.raises(WrongContentType, match="https://x.org/r.pdf"):
        fixtures.fetch("https://x.org/r.pdf", expect="pdf")
    with pytest.raises(WrongContentType, match="%PDF-"):
        FixtureFetcher({"https://x.org/s.pdf": (HTML, None)}).fetch("https://x.org/s.pdf", expect="pdf")
    with pytest.raises(TooLarge, match="https://x.org/s.pdf"):
        fixtures.fetch("https://x.org/s.pdf")


def test_fixture_fetcher_reads_a_directory(tmp_path):
    target = tmp_path / "www.mori-m-foundation.or.jp" / "pdf" / "GPCI2023_summary.pdf"
    target.parent.mkdir(parents=True)
    target.write_bytes(PDF)
    (tmp_path / "www.mori-m-foundation.or.jp" / "index.html").write_bytes(HTML)
    fixtures = FixtureFetcher(directory=tmp_path)
    result = fixtures.fetch(PDF_URL, expect="pdf")
    assert result.content == PDF and result.content_type == "application/pdf"
    assert fixtures.fetch("https://www.mori-m-foundation.or.jp/", expect="html").content == HTML
    again = fixtures.fetch(PDF_URL, expect="pdf", last_modified=result.last_modified)
    assert again.status == "not_modified"
    with pytest.raises(HttpStatusError):
        fixtures.fetch("https://www.mori-m-foundation.or.jp/../../etc/passwd")


@pytest.mark.parametrize(
    ("body", "content_type", "expect", "outcome"),
    [
        (PDF, "application/pdf", "pdf", "fetched"),
        (HTML, "text/html", "pdf", WrongContentType),
        (HTML, "application/pdf", "pdf", WrongContentType),
        (CSV, "text/csv", "csv", "fetched"),
        (HTML, "text/html", "csv", WrongContentType),
        (PDF + b"0" * 20_000, "application/pdf", "pdf", TooLarge),
    ],
)
def test_fixture_fetcher_matches_live_fetcher(fetcher, body, content_type, expect, outcome):
    """The same document gives the same outcome through both fetchers, including a 304."""
    headers = {"Content-Type": content_type}
    fixtures = FixtureFetcher({"https://x.org/doc": (body, content_type)}, max_bytes=fetcher.max_bytes)
    with serve({"/doc": conditional_route(body, headers)}) as site:
        pairs = [(fetcher, site.url("/doc")), (fixtures, "https://x.org/doc")]
        for one_fetcher, url in pairs:
            if outcome == "fetched":
                first = one_fetcher.fetch(url, expect=expect)
                assert (first.status, first.content, first.content_type) == ("fetched", body, content_type)
                assert one_fetcher.fetch(url, expect=expect, etag=first.etag).status == "not_modified"
            else:
                with pytest.raises(outcome, match=url.replace(".", r"\.")):
                    one_fetcher.fetch(url, expect=expect)
