"""A scripted HTTP server on 127.0.0.1, so network code is tested against real sockets.

Mocking `requests` would test our assumptions about requests; a real server exercises the
timeouts, the framing (Content-Length, chunked) and the broken connections that publishers
actually produce. Usage:

    with serve({"/r.pdf": (200, {"Content-Type": "application/pdf"}, b"%PDF-1.7 ...")}) as base:
        fetcher.fetch(base + "/r.pdf")
        assert base.hits("/r.pdf") == 1

`serve` yields a `ServedSite`: a `str` (the base URL, no trailing slash) that also records
the requests it received. A route is one of:
  - `(status, headers, body)` or a `Reply` (for delays, truncation, resets, chunking);
  - a list of those: a scripted sequence, the n-th request gets the n-th reply and the
    last one repeats (e.g. `[Reply(500), Reply(200, body=b"ok")]`);
  - a callable taking the `RecordedRequest` and returning one of the above (e.g. a 304
    when If-None-Match matches).
A path with no route answers 404. Routes match the path without the query string.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Reply:
    """One scripted answer.

    delay: seconds to wait before sending anything (to provoke a read timeout).
    send_bytes: send only this many body bytes, then close the connection (truncation).
    reset: close with a TCP reset instead of a clean close (after `send_bytes`).
    chunked: send the body with chunked transfer encoding and no Content-Length.
    content_length: override the Content-Length header (e.g. announce more than is sent).
    """

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0
    send_bytes: int | None = None
    reset: bool = False
    chunked: bool = False
    content_length: int | None = None


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: Mapping[str, str]


ReplySpec = Reply | tuple[int, Mapping[str, str], bytes]
Route = ReplySpec | Sequence[ReplySpec] | Callable[[RecordedRequest], ReplySpec]


class ServedSite(str):
    """The base URL of a running fixture server, plus what it was asked."""

    requests: list[RecordedRequest]

    def url(self, path: str) -> str:
        return self + path

    def hits(self, path: str) -> int:
        return sum(1 for request in self.requests if urlsplit(request.path).path == path)

    def last_request(self, path: str) -> RecordedRequest:
        return [request for request in self.requests if urlsplit(request.path).path == path][-1]


def as_reply(spec: ReplySpec) -> Reply:
    if isinstance(spec, Reply):
        return spec
    status, headers, body = spec
    return Reply(status=status, headers=headers, body=body)


class Script:
    """Chooses the reply for each request from the routes, counting sequence positions."""

    def __init__(self, routes: Mapping[str, Route]):
        self.routes = dict(routes)
        self.requests: list[RecordedRequest] = []
        self.lock = threading.Lock()

    def reply_for(self, request: RecordedRequest) -> Reply:
        path = urlsplit(request.path).path
        with self.lock:
            seen = sum(1 for earlier in self.requests if urlsplit(earlier.path).path == path)
            self.requests.append(request)
        route = self.routes.get(path)
        if route is None:
            return Reply(404, {"Content-Type": "text/plain"}, b"no such fixture")
        if callable(route):
            return as_reply(route(request))
        if isinstance(route, list):
            return as_reply(route[min(seen, len(route) - 1)])
        return as_reply(route)


def make_handler(script: Script, stopping: threading.Event) -> type[BaseHTTPRequestHandler]:
    """A handler class bound to this server's script (http.server wants a class)."""

    class ScriptedHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            request = RecordedRequest(self.command, self.path, dict(self.headers.items()))
            send_reply(self, script.reply_for(request), stopping)

        do_HEAD = do_GET

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: pytest output should show test failures, not access logs."""

    return ScriptedHandler


def send_reply(handler: BaseHTTPRequestHandler, reply: Reply, stopping: threading.Event) -> None:
    if reply.delay and stopping.wait(reply.delay):
        return
    handler.send_response(reply.status)
    for name, value in reply.headers.items():
        handler.send_header(name, value)
    if reply.chunked:
        handler.send_header("Transfer-Encoding", "chunked")
    elif reply.status != 304:
        length = len(reply.body) if reply.content_length is None else reply.content_length
        handler.send_header("Content-Length", str(length))
    handler.end_headers()
    body = reply.body if reply.send_bytes is None else reply.body[: reply.send_bytes]
    write_body(handler, body, reply.chunked, complete=reply.send_bytes is None)
    if reply.send_bytes is not None:
        drop_connection(handler, reset=reply.reset)


def write_body(handler: BaseHTTPRequestHandler, body: bytes, chunked: bool, *, complete: bool) -> None:
    """Write the body; chunked bodies go in 1 KiB chunks, and end only when `complete`."""
    if handler.command == "HEAD":
        return
    if not chunked:
        handler.wfile.write(body)
        return
    for start in range(0, len(body), 1024):
        piece = body[start : start + 1024]
        handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
    if complete:
        handler.wfile.write(b"0\r\n\r\n")


def drop_connection(handler: BaseHTTPRequestHandler, *, reset: bool) -> None:
    """End the connection mid-response: a clean FIN, or an RST (SO_LINGER 0) when `reset`."""
    handler.close_connection = True
    with suppress(OSError):  # the client may have hung up first; that is fine here
        handler.wfile.flush()
        if reset:
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            handler.connection.shutdown(socket.SHUT_WR)
    handler.connection.close()


@contextmanager
def serve(routes: Mapping[str, Route]) -> Iterator[ServedSite]:
    """Run a scripted server on 127.0.0.1 (a free port) for the duration of the block."""
    script = Script(routes)
    stopping = threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(script, stopping))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    site = ServedSite(f"http://127.0.0.1:{server.server_address[1]}")
    site.requests = script.requests
    try:
        yield site
    finally:
        stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def unused_port() -> int:
    """A port nothing listens on (bound, then released), for connection-refused cases."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
