"""Hostile input that is small on the way in and large, or somewhere else, once read.

What this file proves, one section each:

1. A compression bomb over HTTP (50 MB of zeros served as a ~50 kB gzip or deflate body)
   stops at the fetcher's size cap, which counts DECODED bytes: `TooLarge`, naming the URL
   and saying the size is after decoding, with the bomb never inflated in memory; polled
   through `acquisition.poll_index`, nothing reaches the raw store, registry or quarantine.
2. A PDF with more pages than `pdf_text.MAX_PDF_PAGES` is refused right after it is opened,
   before any page's text is read, by every PDF parser of the catalog, in a message naming
   the file, its page count and the limit (seen through `ingest_publication`).
3. An HTML page declaring an external entity (`<!ENTITY secret SYSTEM "file:///...">`) does
   not pull the file's contents into what the table parsers or the link discovery return,
   nor into an error: lxml's HTML parser leaves `&secret;` unexpanded.
4. A file name (`../../../outside.csv`, `/etc/passwd`, a 300-character name, a NUL) or an
   edition label (`../../x`, `2016/../..`) cannot make `ingest_publication` write outside the
   raw store and quarantine folders: every file created is under the home, nothing beside it
   or elsewhere changes, and a refused file is quarantined with its name kept whole in the note.

No network: the HTTP cases use the local fixture server (tests/http_fixture_server.py).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import os
import tracemalloc
import uuid
import zlib
from pathlib import Path

import pdfplumber.page
import pypdfium2 as pdfium
import pytest
from http_fixture_server import Reply, serve

import bad_inputs
from cityrank_pipeline.discovery import find_document_links
from cityrank_pipeline.fetching import HttpFetcher, TooLarge
from cityrank_pipeline.ingest import ingest_publication
from cityrank_pipeline.snapshots import EditionSource, Quarantine, RawStore
from cityrank_pipeline.sources import pdf_text
from cityrank_pipeline.sources.base import LayoutError, PublicationError
from cityrank_pipeline.sources.registry import parse_publication
from cityrank_pipeline.sources.tables import extract_html_text, read_html

PUBLISHERS = Path(__file__).resolve().parent / "fixtures" / "publishers"


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch):
    """A proxy from the environment would swallow requests meant for 127.0.0.1."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


# --------------------------------------------------------------------------- 1. decompression bomb

BOMB_DECODED = 50 * 1024 * 1024
CAP = 100_000


@functools.cache
def bomb(encoding: str) -> bytes:
    """50 MB that start like a PDF (so only the cap can refuse them), compressed to ~50 kB."""
    decoded = b"%PDF-1.7\n" + bytes(BOMB_DECODED)
    return gzip.compress(decoded, compresslevel=6) if encoding == "gzip" else zlib.compress(decoded, 6)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compression_bomb_stops_at_the_cap_on_decoded_bytes(encoding, chunked):
    body = bomb(encoding)
    assert len(body) < CAP  # on the wire the body is under the cap: only its decoded size is not
    reply = Reply(200, {"Content-Type": "application/pdf", "Content-Encoding": encoding}, body, chunked=chunked)
    with serve({"/report.pdf": reply}) as site, HttpFetcher(max_bytes=CAP, max_attempts=1, deadline=10.0) as fetcher:
        tracemalloc.start()
        try:
            with pytest.raises(TooLarge) as refused:
                fetcher.fetch(site.url("/report.pdf"), expect="pdf")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    message = str(refused.value)
    assert message.startswith(site.url("/report.pdf") + ": "), message
    assert f"larger than the {CAP}-byte cap" in message and f"decoded from its '{encoding}' Content-Encoding" in message
    # Decoding stopped near the cap: the 50 MB were never held (a few chunks' worth at most).
    assert peak < 8 * 1024 * 1024, peak


KEARNEY_LANDING = "/www.kearney.com/service/global-business-policy-council/gcr"
KEARNEY_DOC = "/www.kearney.com/documents/gcr/global-cities-report-2025.pdf"


def test_a_polled_compression_bomb_stores_nothing(catalog, tmp_path):
    from cityrank_pipeline.acquisition import HttpCache, poll_index
    from cityrank_pipeline.orchestration.fetcher import MirrorFetcherResource

    landing = b'<html><body><a href="/documents/gcr/global-cities-report-2025.pdf">Global Cities Report</a></body></html>'
    routes = {
        KEARNEY_LANDING: (200, {"Content-Type": "text/html"}, landing),
        KEARNEY_DOC: (200, {"Content-Type": "application/pdf", "Content-Encoding": "gzip"}, bomb("gzip")),
    }
    store, quarantine = RawStore(tmp_path / "raw"), Quarantine(tmp_path / "quarantine")
    with serve(routes) as site:
        resource = MirrorFetcherResource(base_url=site, max_bytes=CAP, max_attempts=1, deadline=10.0)
        with resource.open() as fetcher:
            report = poll_index(catalog, "GCI", fetcher, store, quarantine, HttpCache(tmp_path / "raw" / "http_cache"))
    [outcome] = report.outcomes
    assert outcome.status == "error" and report.new_editions == []
    assert "global-cities-report-2025.pdf" in outcome.reason and "byte cap" in outcome.reason, outcome.reason
    assert "once decoded from its 'gzip' Content-Encoding" in outcome.reason
    assert files_under(tmp_path / "raw" / "objects") == set() and files_under(tmp_path / "raw" / "editions") == set()
    assert files_under(tmp_path / "quarantine") == set()


# --------------------------------------------------------------------------- 2. PDF page count

PDF_SOURCES = ["GPCI", "GFCI", "GCI", "CIMI", "GDCI"]  # every index with a PDF parser


@functools.cache
def blank_pdf(pages: int) -> bytes:
    document = pdfium.PdfDocument.new()
    for _ in range(pages):
        document.new_page(595, 842)
    buffer = io.BytesIO()
    document.save(buffer)
    document.close()
    return buffer.getvalue()


@pytest.fixture
def no_text_is_read(monkeypatch):
    """Reading any page's text (PDFium's or pdfplumber's) fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("a page's text was read before the page count was checked")
    monkeypatch.setattr(pdfium.PdfPage, "get_textpage", refuse)
    monkeypatch.setattr(pdfplumber.page.Page, "extract_words", refuse)


@pytest.mark.parametrize("code", PDF_SOURCES)
def test_a_pdf_with_too_many_pages_is_refused_before_any_text_is_read(catalog, tmp_path, code, no_text_is_read):
    pages = pdf_text.MAX_PDF_PAGES + 1
    assert pdf_text.MAX_PDF_PAGES == 400
    result = ingest_publication(catalog, RawStore(tmp_path / "raw"), Quarantine(tmp_path / "quarantine"), code,
                                blank_pdf(pages), original_name="many_pages.pdf")
    assert result.status == "quarantined", result
    assert result.reason == (f"many_pages.pdf: the PDF has {pages} pages, more than the limit of 400 (publishers' "
                             "reports have at most about 100); refused before reading any page")
    assert files_under(tmp_path / "raw") == set()


def test_the_page_limit_refuses_a_real_report_when_lowered(catalog, monkeypatch):
    """The bound is applied to real reports too (the GFCI 38 extract has 7 pages)."""
    monkeypatch.setattr(pdf_text, "MAX_PDF_PAGES", 6)
    data = (PUBLISHERS / "gfci" / "gfci38_report_extract.pdf").read_bytes()
    with pytest.raises(pdf_text.TooManyPages, match=r"^gfci38\.pdf: the PDF has 7 pages, more than the limit of 6 "):
        parse_publication(catalog["GFCI"], "gfci_report_pdf", data, "gfci38.pdf")
    monkeypatch.setattr(pdf_text, "MAX_PDF_PAGES", 7)
    assert parse_publication(catalog["GFCI"], "gfci_report_pdf", data, "gfci38.pdf")


def test_a_pdf_at_the_page_limit_is_judged_on_its_content(catalog):
    with pytest.raises(LayoutError) as judged:
        parse_publication(catalog["GFCI"], "gfci_report_pdf", blank_pdf(pdf_text.MAX_PDF_PAGES), "blank.pdf")
    assert not isinstance(judged.value, pdf_text.TooManyPages) and "this is not a GFCI" in str(judged.value)


# --------------------------------------------------------------------------- 3. external entities


@pytest.fixture
def secret_file(tmp_path) -> tuple[Path, str]:
    secret = f"SECRET-{uuid.uuid4().hex}"
    path = tmp_path / "secret.txt"
    path.write_text(secret)
    return path, secret


def with_entity(html: bytes, path: Path, *, xml_prolog: bool = False) -> bytes:
    """`html` with a DOCTYPE declaring `secret` as the file at `path` (and `%leak;` as a
    parameter entity of it), replacing the page's own DOCTYPE."""
    doctype = (f'<!DOCTYPE html [<!ENTITY secret SYSTEM "file://{path}">'
               f'<!ENTITY % leak SYSTEM "file://{path}"> %leak;]>').encode()
    prolog = b'<?xml version="1.0" encoding="utf-8"?>\n' if xml_prolog else b""
    assert html.startswith(b"<!DOCTYPE html>")
    return prolog + doctype + html[len(b"<!DOCTYPE html>"):]


ENTITY_PAGES = {
    # index, parser, fixture, the cell replaced by &secret;
    "GSER": ("gser_ranking_html", PUBLISHERS / "gser" / "gser2025_ranking_top40.html", b"<td>New York</td>",
             b"<td>&secret;</td>"),
    "QOL": ("press_top_list_html", PUBLISHERS / "qol" / "mercer_qol2023_press.html", b"<li>2. Zurich</li>",
            b"<li>2. &secret;</li>"),
}


@pytest.mark.filterwarnings("ignore::bs4.XMLParsedAsHTMLWarning")
@pytest.mark.parametrize("xml_prolog", [False, True], ids=["html", "xml-prolog"])
@pytest.mark.parametrize("code", sorted(ENTITY_PAGES))
def test_an_external_entity_in_a_table_cell_is_not_resolved(catalog, secret_file, code, xml_prolog):
    path, secret = secret_file
    parser, fixture, cell, hostile = ENTITY_PAGES[code]
    html = fixture.read_bytes()
    assert cell in html
    page = with_entity(html.replace(cell, hostile, 1), path, xml_prolog=xml_prolog)
    text = extract_html_text(read_html(page, "hostile.html"))
    assert secret not in text and "&secret;" in text  # left as it was written
    try:
        seen = repr(parse_publication(catalog[code], parser, page, "hostile.html"))
    except PublicationError as exc:
        seen = str(exc)
    assert secret not in seen


def test_an_external_entity_in_a_landing_page_is_not_resolved(secret_file):
    path, secret = secret_file
    html = (b'<!DOCTYPE html><html><body><a href="/docs/report-2025-&secret;.pdf">Report 2025 &secret;</a>'
            b'</body></html>')
    links = find_document_links(with_entity(html, path), "https://publisher.example/reports", href_pattern=r"report")
    assert links and all(secret not in f"{link.url} {link.text}" for link in links)


# --------------------------------------------------------------------------- 4. paths from names and labels

ESCAPES = [f"cityrank-escape-{n}-{uuid.uuid4().hex[:12]}.csv" for n in (1, 2)]
HOSTILE_NAMES = [
    "../../../outside.csv",
    "../../../../../../../../../../tmp/" + ESCAPES[0],
    "/tmp/" + ESCAPES[1],
    "/etc/passwd",
    "..",
    "a/../../b.csv",
    "x" * 300 + ".csv",
    "nul\x00.csv",
    "line\nbreak.csv",
]
HOSTILE_LABELS = ["../../../outside", "2016/../../../x", "/etc/2016", ".."]


def fingerprint(path: Path) -> tuple:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size, hashlib.sha256(path.read_bytes()).hexdigest()


def test_names_and_labels_cannot_write_outside_the_home(catalog, tmp_path):
    home = tmp_path / "a" / "b" / "home"  # room for ../ to land inside tmp_path, where it is seen
    home.mkdir(parents=True)
    beside = set(tmp_path.parent.iterdir())
    passwd = fingerprint(Path("/etc/passwd"))
    store, quarantine = RawStore(home / "raw"), Quarantine(home / "quarantine")

    def ingest(data: bytes, name: str, **kwargs):
        return ingest_publication(catalog, store, quarantine, "QOL", data, original_name=name, **kwargs)

    refused = bad_inputs.csv_bytes(bad_inputs.with_cell("score", "NaN"))
    for name in HOSTILE_NAMES:
        result = ingest(refused, name)
        assert result.status == "quarantined" and result.quarantined_to.parent == home / "quarantine" / "qol", result
        assert result.reason.startswith(name + ": "), result.reason
    notes = {note["original_name"] for note in quarantine.entries()}
    assert notes == set(HOSTILE_NAMES)  # the note keeps each name whole
    accepted = ingest(bad_inputs.good_csv(), HOSTILE_NAMES[0])
    assert accepted.status == "new" and store.get(accepted.snapshot_id).original_name == HOSTILE_NAMES[0]
    for label in HOSTILE_LABELS:
        in_file = bad_inputs.csv_bytes([[label if c == bad_inputs.COLUMN["edition"] else v for c, v in enumerate(row)]
                                        for row in bad_inputs.GOOD_ROWS])
        assert ingest(in_file, f"label_{len(label)}.csv").status == "quarantined"
        assert ingest(bad_inputs.good_csv(), "given.csv", edition=label).status == "quarantined"
    for label in HOSTILE_LABELS:  # even a label the catalog refuses stays in the registry's folder
        store.register_edition(EditionSource("QOL", label, accepted.snapshot_id, "curated_figures", "drop_in"))

    created = files_under(tmp_path)
    assert created and all(path.is_relative_to(home / "raw") or path.is_relative_to(home / "quarantine")
                           for path in created), sorted(map(str, created - files_under(home)))
    assert {p for p in tmp_path.rglob("*") if p.is_dir() and not p.is_relative_to(home)} == {tmp_path / "a",
                                                                                              tmp_path / "a" / "b"}
    assert set(tmp_path.parent.iterdir()) == beside
    assert not any(os.path.lexists("/tmp/" + escape) for escape in ESCAPES) and not (tmp_path / "outside.csv").exists()
    assert fingerprint(Path("/etc/passwd")) == passwd


@pytest.mark.parametrize("label", ["2016\n", "GFCI 32\n"])
def test_a_label_with_a_trailing_newline_is_not_an_edition(tmp_path, label):
    """A pattern ending in `$` matches before a final newline; labels are matched whole."""
    from cityrank_pipeline.catalog import load_catalog
    from cityrank_pipeline.ingest import edition_problem
    from cityrank_pipeline.snapshots import RawStore

    from conftest import REPO

    catalog = load_catalog(REPO / "assets")
    entry = catalog["GFCI" if label.startswith("GFCI") else "GPCI"]
    problem = edition_problem(entry, RawStore(tmp_path / "raw"), label, None, [])
    assert problem is not None and "is not a" in problem and repr(label) in problem
