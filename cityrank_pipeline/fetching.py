"""Download publications over HTTP, with the failure modes named instead of hidden.

Nothing here imports Dagster: the pipeline's assets call a `Fetcher`, and tests hand them a
`FixtureFetcher` that behaves like the live `HttpFetcher` (same result, same errors, same
content checks) without touching the network.

Why so many named errors: a publisher that moves its PDF, serves an HTML "download" page
where the report used to be, or cuts a transfer short must stop the run loudly, with the URL
in the message, rather than hand a parser half a file or the wrong kind of file. Transient
trouble (5xx, 429, timeouts, dropped connections) is retried with exponential backoff;
answers that will not change on retry (404, a size cap, a wrong content type) are not.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import mimetypes
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Literal, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from urllib3.exceptions import ReadTimeoutError

log = logging.getLogger(__name__)

Expect = Literal["any", "html", "pdf", "csv", "json"]
EXPECTS: frozenset[str] = frozenset({"any", "html", "pdf", "csv", "json"})

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 60.0
DEFAULT_DEADLINE = 300.0
DEFAULT_MAX_ATTEMPTS = 4
DEFAULT_BACKOFF_BASE = 1.0
DEFAULT_BACKOFF_MAX = 60.0
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
CHUNK_SIZE = 64 * 1024

# Query parameters whose values are secrets: they never reach a message or a log line.
# Substrings anywhere in the name, plus short names that would over-match as substrings.
SECRET_PARAM = re.compile(
    r"token|key|secret|passw(or)?d|pwd|signature|credential|auth|^(sig|sid|pass|session|sessionid)$",
    re.IGNORECASE,
)

# What each `expect` accepts as a Content-Type (media type only, parameters dropped).
# Generic binary types are let through because publishers often serve PDFs and CSVs as
# "application/octet-stream"; the body sniff then decides.
GENERIC_TYPES = frozenset({"application/octet-stream", "binary/octet-stream", "application/download",
                           "application/force-download"})
ACCEPTED_TYPES: dict[str, frozenset[str]] = {
    "html": frozenset({"text/html", "application/xhtml+xml"}),
    "pdf": frozenset({"application/pdf", "application/x-pdf", "application/acrobat"}) | GENERIC_TYPES,
    "csv": frozenset({"text/csv", "text/plain", "application/csv", "text/comma-separated-values",
                      "application/vnd.ms-excel"}) | GENERIC_TYPES,
    "json": frozenset({"application/json", "text/json", "text/plain", "text/javascript", "application/javascript"})
    | GENERIC_TYPES,
}
JSON_START = re.compile(rb"^(\xef\xbb\xbf)?\s*[\[{]")
PDF_MAGIC = b"%PDF-"
HTML_START = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body)", re.IGNORECASE)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class FetchResult:
    """One fetch's outcome. `content` is None when the server said 304 Not Modified, so a
    caller can tell "nothing new" from "an empty file" without comparing bytes."""

    url: str
    status: Literal["fetched", "not_modified"]
    content: bytes | None
    content_type: str | None
    etag: str | None
    last_modified: str | None
    fetched_at: datetime
    size: int

    @property
    def not_modified(self) -> bool:
        return self.status == "not_modified"


# --------------------------------------------------------------------------- errors


class FetchError(Exception):
    """A document could not be fetched. The message names the URL (with secrets redacted)
    and, when retries were spent, how many attempts were made."""

    # Whether trying again later might succeed; the retry loop reads this.
    retryable = False
    # Seconds the server asked us to wait (Retry-After), if it said.
    retry_after: float | None = None

    def __init__(self, url: str, reason: str):
        self.url = redact_url(url)
        self.reason = reason
        self.attempts = 1
        super().__init__(self.url, reason)

    def __str__(self) -> str:
        text = f"{self.url}: {self.reason}"
        if self.attempts > 1:
            text += f" (gave up after {self.attempts} attempts)"
        return text

    def __reduce__(self):
        """Pickle by state, so an error crossing a process boundary keeps its type, status
        and attempt count (the default would call __init__ with the wrong arguments)."""
        return restore_error, (type(self), self.__dict__.copy())


def restore_error(error_type: type[FetchError], state: dict) -> FetchError:
    error = error_type.__new__(error_type)
    Exception.__init__(error, state["url"], state["reason"])
    error.__dict__.update(state)
    return error


class HttpStatusError(FetchError):
    """The server answered with an error status. 5xx and 429 are retried; 4xx are not,
    because a missing or forbidden document stays missing however often it is asked for."""

    def __init__(self, url: str, status: int, phrase: str = "", *, retry_after: float | None = None):
        self.status = status
        self.retry_after = retry_after
        super().__init__(url, f"HTTP {status} {phrase}".rstrip())

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        return self.status >= 500 or self.status == 429


class TooLarge(FetchError):
    """The document is bigger than the size cap: a guard against a runaway or wrong file."""


class Truncated(FetchError):
    """Fewer bytes arrived than announced, or the connection dropped mid-body. Retried,
    since a dropped transfer is usually transient; a parser must never see the stub."""

    retryable = True


class WrongContentType(FetchError):
    """The server sent a different kind of document than the caller expects, e.g. an HTML
    landing or login page where the PDF report used to be."""


class FetchTimeout(FetchError):
    """The server did not answer (or finish) in time."""

    retryable = True


class ConnectionFailed(FetchError):
    """No connection could be made (DNS, refused, reset before any answer, TLS)."""

    retryable = True


# --------------------------------------------------------------------------- interface


class Fetcher(Protocol):
    """What the pipeline needs from a downloader; live and fixture ones both fulfil it."""

    def fetch(
        self,
        url: str,
        *,
        expect: Expect = "any",
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResult: ...


# --------------------------------------------------------------------------- shared helpers


def redact_url(url: str) -> str:
    """Return `url` fit for a message: user:password dropped, secret query values masked.

    Messages end up in Dagster's event log and in issue reports; a token in a download URL
    must not travel with them.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "REDACTED" if SECRET_PARAM.search(k) else v) for k, v in pairs], safe="/:")
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def user_agent() -> str:
    """Say who is fetching, and how to reach them when CITYRANK_CONTACT is set, so a
    publisher who sees our traffic can ask us to slow down rather than block us."""
    try:
        version = metadata.version("cityrank")
    except metadata.PackageNotFoundError:
        version = "0"
    contact = os.environ.get("CITYRANK_CONTACT", "").strip()
    return f"cityrank/{version} (+{contact})" if contact else f"cityrank/{version}"


def validate_expect(expect: str) -> None:
    if expect not in EXPECTS:
        raise ValueError(f"expect must be one of {sorted(EXPECTS)}, not {expect!r}")


def media_type(content_type: str | None) -> str | None:
    """The bare media type of a Content-Type header ("text/html; charset=x" -> "text/html")."""
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def check_content_type(url: str, content_type: str | None, expect: str) -> None:
    """Reject a declared type that cannot be what the caller wants, before reading the body.

    A missing header passes: the body sniff decides then.
    """
    declared = media_type(content_type)
    if expect == "any" or declared is None:
        return
    if declared not in ACCEPTED_TYPES[expect]:
        raise WrongContentType(url, f"expected {expect}, got Content-Type {declared}")


def check_body(url: str, body: bytes, expect: str) -> None:
    """Sniff the body, because headers lie: a PDF must start with %PDF- (after any leading
    whitespace, which some servers prepend), and HTML (an error or login page) is never
    accepted as a CSV, nor a PDF as HTML or CSV, whatever the header says; JSON must open
    with [ or { (a moved data file often comes back as a 200 HTML page)."""
    if expect == "pdf" and not body.lstrip(b" \t\r\n").startswith(PDF_MAGIC):
        raise WrongContentType(url, f"expected pdf, but the body does not start with {PDF_MAGIC.decode()}"
                               f" (starts {body[:16]!r})")
    if expect == "csv" and (HTML_START.match(body) or body.startswith(PDF_MAGIC)):
        raise WrongContentType(url, f"expected csv, but the body looks like HTML or PDF (starts {body[:16]!r})")
    if expect == "html" and body.startswith(PDF_MAGIC):
        raise WrongContentType(url, "expected html, but the body is a PDF")
    if expect == "json" and not JSON_START.match(body):
        raise WrongContentType(url, f"expected json, but the body does not start with [ or {{ (starts {body[:16]!r})")


def check_size(url: str, size: int, max_bytes: int, encoding: str | None = None) -> None:
    """Refuse more than `max_bytes`. With `encoding` (a gzip/deflate body), `size` counts the
    decoded bytes, and the message says so: a 50 kB download can inflate to 50 MB."""
    if size > max_bytes:
        decoded = f" once decoded from its {encoding[:20]!r} Content-Encoding" if encoding else ""
        raise TooLarge(url, f"larger than the {max_bytes}-byte cap (at least {size} bytes{decoded})")


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def backoff_delay(attempt: int, base: float, cap: float, retry_after: float | None = None) -> float:
    """Delay before retry number `attempt` (1-based): base, 2*base, 4*base... up to `cap`.
    A server's Retry-After is honoured when longer, within the same cap."""
    delay = base * (2 ** (attempt - 1))
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(delay, cap)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), None if absent/odd."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now_utc()).total_seconds())


class Deadline:
    """The overall time budget of one fetch, across retries and a slow trickling body."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.ends - time.monotonic()

    def check(self, url: str) -> None:
        if self.remaining() <= 0:
            raise FetchTimeout(url, f"exceeded the overall deadline of {self.seconds:g} s")


# --------------------------------------------------------------------------- live fetcher


class HttpFetcher:
    """Fetch over HTTP(S) with timeouts, a deadline, retries, conditional GET and a size cap.

    One instance keeps one `requests.Session` (connection reuse across a publisher's pages),
    so use one instance per thread; close it, or use it as a context manager, when done.
    """

    def __init__(
        self,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        deadline: float = DEFAULT_DEADLINE,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        backoff_base: float = DEFAULT_BACKOFF_BASE,
        backoff_max: float = DEFAULT_BACKOFF_MAX,
        max_bytes: int = DEFAULT_MAX_BYTES,
        session: requests.Session | None = None,
    ):
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.deadline = deadline
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_bytes = max_bytes
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = user_agent()

    def __enter__(self) -> HttpFetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()

    def fetch(
        self,
        url: str,
        *,
        expect: Expect = "any",
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResult:
        """Fetch `url`, retrying transient failures; raise a `FetchError` naming the URL."""
        validate_expect(expect)
        headers = conditional_headers(etag, last_modified)
        deadline = Deadline(self.deadline)
        attempt = 1
        while True:
            try:
                result = self.attempt_fetch(url, expect, headers, deadline)
            except FetchError as error:
                delay = self.retry_delay(error, attempt, deadline)
                if delay is None:
                    error.attempts = attempt
                    log.warning("fetch failed: %s", error)
                    raise
                log.info("retrying in %.2f s after attempt %d: %s", delay, attempt, error)
                time.sleep(delay)
                attempt += 1
                continue
            log.info("%s %s (%d bytes)", result.status, redact_url(result.url), result.size)
            return fill_validators(result, etag, last_modified)

    def retry_delay(self, error: FetchError, attempt: int, deadline: Deadline) -> float | None:
        """Seconds to wait before the next attempt, or None when it is time to give up."""
        if not error.retryable or attempt >= self.max_attempts:
            return None
        delay = backoff_delay(attempt, self.backoff_base, self.backoff_max, error.retry_after)
        if delay >= deadline.remaining():
            return None
        return delay

    def attempt_fetch(self, url: str, expect: str, headers: dict[str, str], deadline: Deadline) -> FetchResult:
        """One GET: translate every requests/urllib3 failure into our named errors.

        The library's exception is not chained (`from None`): its text repeats the full URL,
        tokens included, and a chained cause is printed with every traceback.
        """
        deadline.check(url)
        read_timeout = max(0.001, min(self.read_timeout, deadline.remaining()))
        try:
            response = self.session.get(
                url, headers=headers, stream=True, timeout=(self.connect_timeout, read_timeout)
            )
        except requests.RequestException as exc:
            raise translate_request_error(url, exc) from None
        with response:
            return self.read_response(url, response, expect, deadline)

    def read_response(self, url: str, response: requests.Response, expect: str, deadline: Deadline) -> FetchResult:
        """Check and read one response; an error after a redirect names both URLs."""
        final_url = response.url or url
        try:
            return self.read_final_response(final_url, response, expect, deadline)
        except FetchError as error:
            if final_url != url:
                error.reason += f" (redirected from {redact_url(url)})"
            raise

    def read_final_response(self, final_url: str, response: requests.Response, expect: str,
                            deadline: Deadline) -> FetchResult:
        if response.status_code == 304 and ("If-None-Match" in response.request.headers
                                            or "If-Modified-Since" in response.request.headers):
            return not_modified_result(final_url, response.headers)
        raise_for_status(final_url, response)
        check_content_type(final_url, response.headers.get("Content-Type"), expect)
        body = self.read_body(final_url, response, deadline)
        check_body(final_url, body, expect)
        return fetched_result(final_url, body, response.headers.get("Content-Type"),
                              response.headers.get("ETag"), response.headers.get("Last-Modified"))

    def read_body(self, url: str, response: requests.Response, deadline: Deadline) -> bytes:
        """Stream the body under the size cap and the deadline; insist on every announced byte.

        iter_content decodes gzip/deflate, so the cap counts decoded bytes (a compression bomb
        stops at the cap; urllib3 2.6+ inflates little more than a chunk's worth at a time)."""
        declared = declared_length(response)
        if declared is not None:
            check_size(url, declared, self.max_bytes)
        encoding = None if is_identity_encoded(response) else response.headers.get("Content-Encoding", "").strip()
        chunks: list[bytes] = []
        received = 0
        try:
            for chunk in response.iter_content(CHUNK_SIZE):
                received += len(chunk)
                check_size(url, received, self.max_bytes, encoding)
                deadline.check(url)
                chunks.append(chunk)
        except requests.RequestException as exc:
            raise translate_body_error(url, exc) from None
        if declared is not None and is_identity_encoded(response) and received < declared:
            raise Truncated(url, f"received {received} of {declared} announced bytes")
        return b"".join(chunks)


def conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def fetched_result(url: str, body: bytes, content_type: str | None, etag: str | None,
                   last_modified: str | None) -> FetchResult:
    return FetchResult(
        url=url,
        status="fetched",
        content=body,
        content_type=content_type,
        etag=etag,
        last_modified=last_modified,
        fetched_at=now_utc(),
        size=len(body),
    )


def not_modified_result(url: str, headers: Mapping[str, str]) -> FetchResult:
    return FetchResult(
        url=url,
        status="not_modified",
        content=None,
        content_type=None,
        etag=headers.get("ETag"),
        last_modified=headers.get("Last-Modified"),
        fetched_at=now_utc(),
        size=0,
    )


def fill_validators(result: FetchResult, etag: str | None, last_modified: str | None) -> FetchResult:
    """A 304 need not repeat the validators; keep the caller's so they can be stored again."""
    if result.status != "not_modified":
        return result
    return FetchResult(
        url=result.url,
        status=result.status,
        content=None,
        content_type=result.content_type,
        etag=result.etag or etag,
        last_modified=result.last_modified or last_modified,
        fetched_at=result.fetched_at,
        size=0,
    )


def raise_for_status(url: str, response: requests.Response) -> None:
    """Anything but 2xx is an error here: redirects were already followed, and a 3xx left
    over (no Location, or a 304 we did not ask for) is not a document either."""
    if 200 <= response.status_code < 300:
        return
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    raise HttpStatusError(url, response.status_code, response.reason or "", retry_after=retry_after)


def declared_length(response: requests.Response) -> int | None:
    value = response.headers.get("Content-Length", "").strip()
    return int(value) if value.isdigit() else None


def is_identity_encoded(response: requests.Response) -> bool:
    """Content-Length counts encoded bytes; only without Content-Encoding can it be compared
    with what iter_content (which decodes) hands us."""
    return response.headers.get("Content-Encoding", "identity").strip().lower() in ("", "identity")


def translate_request_error(url: str, exc: requests.RequestException) -> FetchError:
    """Name a failure that happened before any response arrived."""
    if isinstance(exc, requests.Timeout):
        return FetchTimeout(url, f"timed out waiting for the server ({type(exc).__name__})")
    if isinstance(exc, requests.TooManyRedirects):
        return FetchError(url, "too many redirects")
    if isinstance(exc, requests.ConnectionError):
        return ConnectionFailed(url, f"connection failed ({describe_cause(exc)})")
    return FetchError(url, f"request failed ({type(exc).__name__})")


def translate_body_error(url: str, exc: requests.RequestException) -> FetchError:
    """Name a failure that happened while the body streamed in. requests reports a read
    timeout mid-body as a ConnectionError wrapping urllib3's ReadTimeoutError."""
    if isinstance(exc, requests.ConnectionError) and any(isinstance(a, ReadTimeoutError) for a in exc.args):
        return FetchTimeout(url, "timed out while reading the body")
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        return Truncated(url, f"connection dropped mid-body ({describe_cause(exc)})")
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return FetchError(url, "the body could not be decoded (Content-Encoding)")
    return FetchError(url, f"reading the body failed ({type(exc).__name__})")


def describe_cause(exc: BaseException) -> str:
    """The innermost exception's class name: enough to diagnose, and it carries no URL
    (requests' own messages repeat the full URL, query string and all)."""
    cause: BaseException = exc
    seen = set()
    while id(cause) not in seen:
        seen.add(id(cause))
        inner = cause.__cause__ or cause.__context__ or next(
            (a for a in cause.args if isinstance(a, BaseException)), None
        )
        if inner is None:
            break
        cause = inner
    return type(cause).__name__


# --------------------------------------------------------------------------- fixture fetcher


@dataclass(frozen=True)
class FetchCall:
    """One call a `FixtureFetcher` received, so a test can assert what its caller asked."""

    url: str
    expect: str
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class FixtureDocument:
    content: bytes
    content_type: str | None
    last_modified: str | None = None

    @property
    def etag(self) -> str:
        """A strong validator from the bytes, so a re-fetch of unchanged bytes is a 304."""
        return '"' + hashlib.sha256(self.content).hexdigest()[:20] + '"'

    def validators(self) -> dict[str, str]:
        """The headers a server would send with a 304 for this document."""
        headers = {"ETag": self.etag}
        if self.last_modified:
            headers["Last-Modified"] = self.last_modified
        return headers


class FixtureFetcher:
    """A `Fetcher` over stored bytes, for tests of the pipeline and for offline runs.

    Documents come from `documents` (url -> (bytes, content_type)) or from `directory`,
    where https://host/a/b.pdf is the file DIRECTORY/host/a/b.pdf (a path ending in / is
    index.html; the content type is guessed from the suffix). It applies the same checks
    as `HttpFetcher`: a missing URL is `HttpStatusError` 404, a matching ETag (or a
    Last-Modified no older than the file's) is a not_modified result, and the size cap and
    content checks raise the same errors.
    """

    def __init__(
        self,
        documents: Mapping[str, tuple[bytes, str | None]] | None = None,
        *,
        directory: str | Path | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ):
        self.documents = {url: FixtureDocument(body, ctype) for url, (body, ctype) in (documents or {}).items()}
        self.directory = Path(directory) if directory is not None else None
        self.max_bytes = max_bytes
        self.calls: list[FetchCall] = []

    def fetch(
        self,
        url: str,
        *,
        expect: Expect = "any",
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResult:
        validate_expect(expect)
        self.calls.append(FetchCall(url, expect, etag, last_modified))
        document = self.find_document(url)
        if is_unchanged(document, etag, last_modified):
            return fill_validators(not_modified_result(url, document.validators()), etag, last_modified)
        check_content_type(url, document.content_type, expect)
        check_size(url, len(document.content), self.max_bytes)
        check_body(url, document.content, expect)
        return fetched_result(url, document.content, document.content_type, document.etag, document.last_modified)

    def find_document(self, url: str) -> FixtureDocument:
        if url in self.documents:
            return self.documents[url]
        path = self.path_for(url)
        if path is None or not path.is_file():
            raise HttpStatusError(url, 404, "Not Found (no fixture)")
        return FixtureDocument(path.read_bytes(), guess_content_type(path), http_date(path.stat().st_mtime))

    def path_for(self, url: str) -> Path | None:
        """DIRECTORY/host/path for `url`, or None when outside the directory (a ../ trick)."""
        if self.directory is None:
            return None
        parts = urlsplit(url)
        relative = parts.path.lstrip("/")
        if not relative or relative.endswith("/"):
            relative += "index.html"
        root = self.directory.resolve()
        path = (root / parts.hostname / relative).resolve() if parts.hostname else None
        if path is None or not path.is_relative_to(root):
            return None
        return path


def is_unchanged(document: FixtureDocument, etag: str | None, last_modified: str | None) -> bool:
    """HTTP's rule: If-None-Match decides when sent; If-Modified-Since only without it."""
    if etag:
        return etag.strip() == document.etag or etag.strip() == "W/" + document.etag
    if last_modified and document.last_modified:
        since = parse_http_date(last_modified)
        changed = parse_http_date(document.last_modified)
        return since is not None and changed is not None and changed <= since
    return False


def guess_content_type(path: Path) -> str | None:
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed


def http_date(timestamp: float) -> str:
    return email.utils.formatdate(timestamp, usegmt=True)


def parse_http_date(value: str) -> datetime | None:
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
