"""The downloader as a Dagster resource: one interface, a live and two fixture implementations.

Assets ask for `FetcherResource` and call `open()`; which implementation they get is decided
once, where the Definitions (or a test) bind the resource key "fetcher". Production binds
`LiveFetcherResource` (HTTP with timeouts, retries, conditional GET, a size cap and content
checks: `cityrank_pipeline.fetching.HttpFetcher`). Tests bind `FixtureFetcherResource`
(stored bytes, no sockets) or `MirrorFetcherResource`, which sends the catalog's real
publisher URLs to a local HTTP server so the whole network path runs against 127.0.0.1.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import dagster as dg
from pydantic import Field

from ..fetching import (
    DEFAULT_BACKOFF_BASE,
    DEFAULT_BACKOFF_MAX,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_DEADLINE,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_BYTES,
    DEFAULT_READ_TIMEOUT,
    Expect,
    Fetcher,
    FetchResult,
    FixtureFetcher,
    HttpFetcher,
)


class FetcherResource(dg.ConfigurableResource, ABC):
    """Hands out a `Fetcher` for the duration of one poll."""

    @abstractmethod
    @contextmanager
    def open(self) -> Iterator[Fetcher]:
        """Yield a fetcher; anything it holds (an HTTP session) is released afterwards."""


class LiveFetcherResource(FetcherResource):
    """Fetch from the publishers over HTTP(S). Limits are configurable per deployment."""

    connect_timeout: float = Field(default=DEFAULT_CONNECT_TIMEOUT, description="seconds to establish a connection")
    read_timeout: float = Field(default=DEFAULT_READ_TIMEOUT, description="seconds to wait for each read")
    deadline: float = Field(default=DEFAULT_DEADLINE, description="seconds for a whole fetch, retries included")
    max_attempts: int = Field(default=DEFAULT_MAX_ATTEMPTS, ge=1, description="tries for transient failures (5xx, timeouts)")
    backoff_base: float = Field(default=DEFAULT_BACKOFF_BASE, description="first retry delay in seconds; doubles each time")
    backoff_max: float = Field(default=DEFAULT_BACKOFF_MAX, description="longest retry delay in seconds")
    max_bytes: int = Field(default=DEFAULT_MAX_BYTES, gt=0, description="size cap per document in bytes")

    def http_fetcher(self) -> HttpFetcher:
        return HttpFetcher(connect_timeout=self.connect_timeout, read_timeout=self.read_timeout, deadline=self.deadline,
                           max_attempts=self.max_attempts, backoff_base=self.backoff_base,
                           backoff_max=self.backoff_max, max_bytes=self.max_bytes)

    @contextmanager
    def open(self) -> Iterator[Fetcher]:
        with self.http_fetcher() as fetcher:
            yield fetcher


class MirrorFetcherResource(LiveFetcherResource):
    """The live fetcher, with every publisher URL sent to a mirror instead:
    https://host/a/b.pdf?q is fetched as {base_url}/host/a/b.pdf?q. Everything the caller
    sees (links, provenance, cache keys) keeps the publisher's URL. For tests against a local
    HTTP server, and for an offline mirror of the publishers' pages."""

    base_url: str = Field(description="the mirror's root, e.g. http://127.0.0.1:8123")

    @contextmanager
    def open(self) -> Iterator[Fetcher]:
        with self.http_fetcher() as fetcher:
            yield MirrorFetcher(fetcher, self.base_url)


class FixtureFetcherResource(FetcherResource):
    """Stored bytes instead of the network: https://host/a/b.pdf is DIRECTORY/host/a/b.pdf,
    with the live fetcher's checks (404, 304, size cap, content type)."""

    directory: str = Field(description="root of the host/path tree of fixture files")
    max_bytes: int = Field(default=DEFAULT_MAX_BYTES, gt=0)

    @contextmanager
    def open(self) -> Iterator[Fetcher]:
        yield FixtureFetcher(directory=self.directory, max_bytes=self.max_bytes)


MIRROR_ENV = "CITYRANK_FETCH_MIRROR"


def fetcher_from_environment(environ=None) -> FetcherResource:
    """What the code location binds as "fetcher": the live fetcher, or, with CITYRANK_FETCH_MIRROR
    set to a base URL, the same fetcher sent to that mirror (an offline copy of the publishers'
    pages, or the local fixture site `tests/test_serve.py` starts for a served instance)."""
    mirror = (os.environ if environ is None else environ).get(MIRROR_ENV)
    return MirrorFetcherResource(base_url=mirror) if mirror else LiveFetcherResource()


class MirrorFetcher:
    """A `Fetcher` that rewrites each URL onto a mirror before fetching it."""

    def __init__(self, inner: Fetcher, base_url: str):
        self.inner = inner
        self.base_url = base_url.rstrip("/")

    def mirror_url(self, url: str) -> str:
        parts = urlsplit(url)
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.base_url}/{parts.hostname}{parts.path or '/'}{query}"

    def fetch(self, url: str, *, expect: Expect = "any", etag: str | None = None,
              last_modified: str | None = None) -> FetchResult:
        return self.inner.fetch(self.mirror_url(url), expect=expect, etag=etag, last_modified=last_modified)
