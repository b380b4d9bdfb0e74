"""Go and get an index's publications from its publisher, without Dagster.

For each `web` source in the catalog: fetch the landing page(s), find the current edition's
document link with the catalog's patterns (or take `document_url` as is), fetch the document
and hand it to `ingest_publication`, which stores it with provenance, learns its edition and
registers it (or quarantines it). The new-edition sensor then turns what was registered into
partitions and runs; nothing here loads the warehouse.

Why the small HTTP state under CITYRANK_HOME/raw/http_cache/: polling every six hours inside a
release window must cost the publisher a 304, not a full PDF, so each URL's ETag and
Last-Modified are remembered from the previous poll and sent back. A landing page that
answers 304 has not changed its links, so the links found last time are reused (and the
document is still asked for, conditionally, in case it was replaced in place). The state is
kept per index: GCI and GCO read the same Kearney PDF, and GCO must not see a 304 because
GCI fetched it first.

Why errors are collected, not raised: one publisher's outage or redesign must not stop the
others' sources from being polled. Each failure is reported with its source and URL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from .catalog import Catalog, IndexEntry, Source
from .discovery import DiscoveryError, DocumentLink, find_document_links, sort_newest_first
from .fetching import FetchError, Fetcher, FetchResult, HttpStatusError, redact_url
from .ingest import ingest_publication
from .atomic_files import atomic_write
from .snapshots import Quarantine, RawStore

log = logging.getLogger(__name__)

# Sources behind a form or a paywall are never fetched: an analyst brings their files in
# through the landing folder or the curated-figures CSV.
GATED_ACCESS = frozenset({"form_gated", "paid"})
# In a source's document_url: the edition year (see `document_urls`).
YEAR_PLACEHOLDER = "{YYYY}"


# --------------------------------------------------------------------------- HTTP state


@dataclass(frozen=True)
class CacheEntry:
    """What the previous poll learnt about one URL."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    # For landing pages: the document links found on the page, newest first, and the catalog
    # patterns that found them (links found with since-edited patterns are not reused).
    links: tuple[tuple[str, str, str | None], ...] = ()
    patterns: tuple[str | None, ...] = ()
    checked_at: str | None = None


class HttpCache:
    """ETag / Last-Modified per (index, URL), one small JSON file each."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path_for(self, index_code: str, url: str) -> Path:
        digest = hashlib.sha256(url.encode()).hexdigest()[:32]
        return self.root / index_code.lower() / f"{digest}.json"

    def get(self, index_code: str, url: str) -> CacheEntry | None:
        path = self.path_for(index_code, url)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            # A damaged state file only costs one unconditional fetch.
            log.warning("ignoring unreadable HTTP cache entry %s", path)
            return None
        data["links"] = tuple(tuple(link) for link in data.get("links", ()))
        data["patterns"] = tuple(data.get("patterns", ()))
        return CacheEntry(**data)

    def put(self, index_code: str, entry: CacheEntry) -> None:
        # Atomic, so a poll killed mid-write leaves the previous state, never half a file.
        atomic_write(self.path_for(index_code, entry.url), json.dumps(asdict(entry), indent=2, sort_keys=True).encode())

    def remember(self, index_code: str, result: FetchResult, url: str,
                 links: tuple[tuple[str, str, str | None], ...] = (), patterns: tuple[str | None, ...] = ()) -> None:
        self.put(index_code, CacheEntry(url=url, etag=result.etag, last_modified=result.last_modified,
                                        links=links, patterns=patterns, checked_at=result.fetched_at.isoformat()))


# --------------------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class SourceOutcome:
    """What polling one source came to.

    status: "new" (an edition was registered or its file changed), "unchanged" (same bytes,
    or the server said 304), "quarantined" (fetched, but no parser accepts it), "skipped"
    (gated: the analyst drop-in path), "error" (could not fetch or find the document).
    """

    index_code: str
    source: int  # position of the source in the catalog entry's `sources`
    status: str
    url: str | None = None
    edition: str | None = None
    snapshot_id: str | None = None
    reason: str | None = None

    @property
    def run_key(self) -> str | None:
        return f"{self.edition}:{self.snapshot_id}" if self.edition and self.snapshot_id else None


@dataclass
class PollReport:
    index_code: str
    polled: bool
    outcomes: list[SourceOutcome] = field(default_factory=list)
    reason: str | None = None

    @property
    def documents_seen(self) -> int:
        """Documents that answered: fetched, or confirmed unchanged by a 304."""
        return sum(1 for o in self.outcomes if o.status in ("new", "unchanged", "quarantined"))

    @property
    def new_editions(self) -> list[str]:
        return [o.run_key for o in self.outcomes if o.status == "new" and o.run_key]

    @property
    def errors(self) -> list[str]:
        """Everything a person should look at: unreachable sources and unreadable files."""
        return [f"source {o.source} ({o.url or 'no URL'}): {o.reason}" for o in self.outcomes
                if o.status in ("error", "quarantined")]


# --------------------------------------------------------------------------- polling


def fetchable_sources(entry: IndexEntry) -> list[tuple[int, Source]]:
    """The index's web sources that may be fetched (public ones), with their positions."""
    return [(i, s) for i, s in enumerate(entry.sources) if s.kind == "web" and s.access not in GATED_ACCESS]


def is_polled(entry: IndexEntry) -> bool:
    """Whether the index has anything to poll: not discontinued, at least one public web source."""
    return entry.status != "discontinued" and bool(fetchable_sources(entry))


def poll_index(catalog: Catalog, index_code: str, fetcher: Fetcher, store: RawStore, quarantine: Quarantine,
               cache: HttpCache) -> PollReport:
    """Poll every web source of one index; never raises for a source's failure."""
    entry = catalog[index_code]
    if entry.status == "discontinued":
        return PollReport(entry.code, polled=False, reason=f"{entry.code} is discontinued: its sources are not polled")
    report = PollReport(entry.code, polled=True)
    for position, source in enumerate(entry.sources):
        if source.kind != "web":
            continue
        if source.access in GATED_ACCESS:
            report.outcomes.append(SourceOutcome(
                entry.code, position, "skipped", source.document_url or first(source.landing_pages),
                reason=f"{source.access}: not fetched; its files come through the analyst drop-in"))
            continue
        try:
            outcome = poll_source(catalog, entry, position, source, fetcher, store, quarantine, cache)
        except (FetchError, DiscoveryError) as exc:
            outcome = SourceOutcome(entry.code, position, "error", getattr(exc, "url", None), reason=str(exc))
        except Exception as exc:  # a bug in one source's path must not hide the others' news
            log.exception("%s source %d: unexpected failure", entry.code, position)
            outcome = SourceOutcome(entry.code, position, "error", reason=f"unexpected {type(exc).__name__}: {exc}")
        log.info("%s source %d: %s %s", entry.code, position, outcome.status, outcome.reason or outcome.run_key or "")
        report.outcomes.append(outcome)
    if not any(o.status != "skipped" for o in report.outcomes):
        report.reason = f"{entry.code} has no public web source to poll"
    return report


def poll_source(catalog: Catalog, entry: IndexEntry, position: int, source: Source, fetcher: Fetcher,
                store: RawStore, quarantine: Quarantine, cache: HttpCache, today: dt.date | None = None) -> SourceOutcome:
    """Find, fetch and ingest the current document of one source. Fetch and discovery
    errors propagate (the caller reports them); an unreadable file comes back quarantined."""
    if source.document_url:
        document_url, result = fetch_fixed_address(entry, source, fetcher, cache, today or dt.date.today())
    else:
        document_url = current_document(entry, source, fetcher, cache).url
        result = fetch_remembered(entry, source, document_url, fetcher, cache)
    if result.not_modified:
        return SourceOutcome(entry.code, position, "unchanged", document_url, reason="not modified since the last poll")
    ingested = ingest_publication(
        catalog, store, quarantine, entry.code, result.content, original_name=document_name(document_url, source.format),
        kind="web", source_url=document_url, etag=result.etag, last_modified=result.last_modified,
        fetched_at=result.fetched_at.replace(microsecond=0).isoformat(),
    )
    if ingested.status == "quarantined":
        # Not remembered: the next poll fetches it again, so a fixed parser picks it up.
        return SourceOutcome(entry.code, position, "quarantined", document_url, ingested.edition,
                             reason=f"{ingested.reason} (kept in {ingested.quarantined_to})")
    cache.remember(entry.code, result, document_url)
    return SourceOutcome(entry.code, position, ingested.status, document_url, ingested.edition, ingested.snapshot_id)


def fetch_remembered(entry: IndexEntry, source: Source, url: str, fetcher: Fetcher, cache: HttpCache) -> FetchResult:
    """Fetch a document, conditionally on what the previous poll remembered of it."""
    remembered = cache.get(entry.code, url)
    return fetcher.fetch(url, expect=source.format,
                         etag=remembered.etag if remembered else None,
                         last_modified=remembered.last_modified if remembered else None)


def document_urls(source: Source, today: dt.date) -> list[str]:
    """The addresses a fixed-address source is tried at, in order.

    A `{YYYY}` in `document_url` is the edition year (Mori's data file is gpci2023_en.json):
    this year's file first, then last year's, because an edition is out for most of the year
    before the next one appears. Without a placeholder, the address as written.
    """
    url = source.document_url or ""
    if YEAR_PLACEHOLDER not in url:
        return [url]
    return [url.replace(YEAR_PLACEHOLDER, str(year)) for year in (today.year, today.year - 1)]


def fetch_fixed_address(entry: IndexEntry, source: Source, fetcher: Fetcher, cache: HttpCache,
                        today: dt.date) -> tuple[str, FetchResult]:
    """Fetch the first of `document_urls` that exists. Only a 404 moves on to the next
    address; anything else (an HTML page where JSON should be, a 5xx) fails at once, and a
    404 everywhere fails naming every address tried: the file has moved."""
    urls = document_urls(source, today)
    for url in urls[:-1]:
        try:
            return url, fetch_remembered(entry, source, url, fetcher, cache)
        except HttpStatusError as exc:
            if exc.status != 404:
                raise
            log.info("%s: %s not there (yet); trying the previous edition's address", entry.code, exc.url)
    try:
        return urls[-1], fetch_remembered(entry, source, urls[-1], fetcher, cache)
    except HttpStatusError as exc:
        if exc.status == 404 and len(urls) > 1:
            exc.reason += f" (and {', '.join(redact_url(u) for u in urls[:-1])} too: has the file moved?)"
        raise


def current_document(entry: IndexEntry, source: Source, fetcher: Fetcher, cache: HttpCache) -> DocumentLink:
    """The newest document linked from the source's landing pages.

    Several landing pages are pooled and the newest edition across them wins; a page that
    fails is skipped while another still answers, and only when none yields a link is the
    (first) failure raised.
    """
    links: list[DocumentLink] = []
    failures: list[Exception] = []
    for page_url in source.landing_pages:
        try:
            links.extend(landing_links(entry, source, page_url, fetcher, cache))
        except (FetchError, DiscoveryError) as exc:
            log.warning("%s: landing page %s: %s", entry.code, redact_url(page_url), exc)
            failures.append(exc)
    if links:
        return sort_newest_first(links)[0]
    if failures:
        raise failures[0]
    raise DiscoveryError(first(source.landing_pages) or "(none)", "the source lists no landing page")


def landing_links(entry: IndexEntry, source: Source, page_url: str, fetcher: Fetcher,
                  cache: HttpCache) -> list[DocumentLink]:
    remembered = cache.get(entry.code, page_url)
    patterns = (source.href_pattern, source.text_pattern, source.edition_pattern)
    conditional = remembered is not None and bool(remembered.links) and remembered.patterns == patterns
    result = fetcher.fetch(page_url, expect="html",
                           etag=remembered.etag if conditional else None,
                           last_modified=remembered.last_modified if conditional else None)
    if result.not_modified:
        return [DocumentLink(*link) for link in remembered.links]
    found = find_document_links(result.content, page_url, href_pattern=source.href_pattern,
                                text_pattern=source.text_pattern, edition_pattern=source.edition_pattern)
    cache.remember(entry.code, result, page_url, tuple((l.url, l.text, l.edition) for l in found), patterns)
    return found


def document_name(url: str, fmt: str) -> str:
    """A file name for the raw store and the parser: the URL's last segment, with the
    format's extension added when the URL has none (ingest picks the parser by extension,
    and pages such as `.../ranking-2025-top-40` carry none)."""
    name = PurePosixPath(unquote(urlsplit(url).path)).name or "index"
    suffix = PurePosixPath(name).suffix.lower().lstrip(".")
    if {"htm": "html"}.get(suffix, suffix) != fmt:
        name = f"{name}.{fmt}"
    return name


def first(items: list[str]) -> str | None:
    return items[0] if items else None


def poll_state_dir(raw_dir: Path) -> Path:
    return Path(raw_dir) / "http_cache"
