"""Notifications: the headline reaches a local SMTP sink and a local HTTP sink; channels that are
down, slow or unsafe only produce warnings (without credentials) and never fail the load."""

import email
import json
import logging
import socket
import socketserver
import threading
import time
from contextlib import contextmanager
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg

from cityrank_pipeline.notify import fetch_headline, notify_new_edition

from test_views_fixture import load_through_asset, seoul_db, seoul_template  # noqa: F401

SMTP_PASSWORD = "smtp-pa55-word"
HOOK_TOKEN = "T0KEN-6f1c2d"


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: no STARTTLS, no AUTH; messages and commands are recorded."""

    def _reply(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self):
        self._reply("220 sink ESMTP")
        while line := self.rfile.readline():
            command = line.decode("ascii", "replace").strip()
            self.server.commands.append(command)
            verb = command.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.wfile.write(b"250-sink\r\n250 8BITMIME\r\n")
            elif verb == "DATA":
                self._reply("354 go ahead")
                body = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    body.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                self.server.messages.append(email.message_from_bytes(b"".join(body), policy=policy.default))
                self._reply("250 queued")
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            elif verb in ("HELO", "MAIL", "RCPT", "RSET", "NOOP"):
                self._reply("250 ok")
            else:
                self._reply("502 not implemented")


class _HookHandler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's naming
        time.sleep(self.server.delay)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.posts.append((self.path, self.headers["Content-Type"], json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@contextmanager
def serving(server):
    """Run a socketserver in a thread for the duration of the block."""
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def smtp_sink():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    server.commands, server.messages = [], []
    return serving(server)


def http_sink(delay: float = 0.0):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HookHandler)
    server.posts, server.delay = [], delay
    return serving(server)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def headline(url: str, code: str, edition: str):
    with psycopg.connect(url) as conn:
        return fetch_headline(conn, code, edition, "seoul")


def test_headlines_say_rank_and_change(seoul_db):
    assert headline(seoul_db, "GPCI", "2025").text == "GPCI 2025: Seoul 6th of 48 — no change since 2024"
    assert headline(seoul_db, "GPCI", "2024").text == "GPCI 2024: Seoul 6th of 48 — up 1 place since 2023 (7th)"
    assert headline(seoul_db, "GPCI", "2020").text == "GPCI 2020: Seoul 8th of 48 — down 1 place since 2019 (7th)"
    assert headline(seoul_db, "GFCI", "GFCI 28").text == \
        "GFCI 28: Seoul 25th of 111 — up 8 places since GFCI 27 (33rd)"
    assert headline(seoul_db, "GFCI", "GFCI 24").text == "GFCI 24: Seoul 33rd of 100 — first edition on record"
    assert headline(seoul_db, "GPCI", "1999") is None


def test_the_headline_reaches_an_smtp_sink_and_a_webhook(seoul_db):
    news = headline(seoul_db, "GPCI", "2025")
    with smtp_sink() as smtp, http_sink() as hook:
        smtp_port, hook_port = smtp.server_address[1], hook.server_address[1]
        outcomes = notify_new_edition(news, env={
            "CITYRANK_SMTP_HOST": "127.0.0.1", "CITYRANK_SMTP_PORT": str(smtp_port),
            "CITYRANK_NOTIFY_EMAIL_FROM": "cityrank@seoul.example", "CITYRANK_NOTIFY_EMAIL_TO": "plan@seoul.example; econ@seoul.example",
            "CITYRANK_NOTIFY_WEBHOOK_URL": f"http://127.0.0.1:{hook_port}/hooks/{HOOK_TOKEN}"})
    assert outcomes == {f"e-mail via 127.0.0.1:{smtp_port}": "sent", f"webhook http://127.0.0.1:{hook_port}": "sent"}
    [message] = smtp.messages
    assert message["Subject"] == "[cityrank] GPCI 2025: Seoul 6th of 48 — no change since 2024"
    assert message["From"] == "cityrank@seoul.example" and message["To"] == "plan@seoul.example, econ@seoul.example"
    assert "Published: 2025-12-17" in message.get_content()
    assert [c.split(" ", 1)[1] for c in smtp.commands if c.upper().startswith("RCPT")] == [
        "TO:<plan@seoul.example>", "TO:<econ@seoul.example>"]
    [(path, content_type, payload)] = hook.posts
    assert path == f"/hooks/{HOOK_TOKEN}" and content_type == "application/json"
    assert payload["event"] == "edition_loaded" and payload["text"] == news.text
    assert (payload["index_code"], payload["edition"], payload["rank"], payload["rank_change"], payload["city_count"],
            payload["previous_edition"], payload["published_on"]) == ("GPCI", "2025", 6, 0, 48, "2024", "2025-12-17")


def test_down_and_slow_channels_warn_without_credentials_and_return_quickly(seoul_db, caplog):
    news = headline(seoul_db, "GPCI", "2025")
    caplog.set_level(logging.WARNING, logger="cityrank_pipeline.notify")
    smtp_port, hook_port = closed_port(), closed_port()
    started = time.monotonic()
    outcomes = notify_new_edition(news, env={
        "CITYRANK_SMTP_HOST": "127.0.0.1", "CITYRANK_SMTP_PORT": str(smtp_port), "CITYRANK_SMTP_USER": "bot",
        "CITYRANK_SMTP_PASSWORD": SMTP_PASSWORD, "CITYRANK_NOTIFY_EMAIL_TO": "plan@seoul.example",
        "CITYRANK_NOTIFY_WEBHOOK_URL": f"http://127.0.0.1:{hook_port}/hooks/{HOOK_TOKEN}"})
    assert time.monotonic() - started < 3
    assert all(v.startswith("failed: ") for v in outcomes.values()) and len(outcomes) == 2
    with http_sink(delay=2.0) as slow:
        started = time.monotonic()
        slow_outcome = notify_new_edition(news, timeout=0.5, env={
            "CITYRANK_NOTIFY_WEBHOOK_URL": f"http://127.0.0.1:{slow.server_address[1]}/hooks/{HOOK_TOKEN}"})
        assert time.monotonic() - started < 1.5
    assert list(slow_outcome.values())[0].startswith("failed: ")
    logged = caplog.text + json.dumps(outcomes) + json.dumps(slow_outcome)
    assert caplog.text.count("notification not delivered") == 3
    assert SMTP_PASSWORD not in logged and HOOK_TOKEN not in logged


def test_smtp_credentials_are_never_sent_without_tls(seoul_db, caplog):
    news = headline(seoul_db, "GPCI", "2025")
    with smtp_sink() as smtp:
        outcomes = notify_new_edition(news, env={
            "CITYRANK_SMTP_HOST": "127.0.0.1", "CITYRANK_SMTP_PORT": str(smtp.server_address[1]),
            "CITYRANK_SMTP_USER": "bot", "CITYRANK_SMTP_PASSWORD": SMTP_PASSWORD,
            "CITYRANK_NOTIFY_EMAIL_TO": "plan@seoul.example"})
    [outcome] = outcomes.values()
    assert "credentials were not sent" in outcome
    assert not smtp.messages and not any(c.upper().startswith("AUTH") for c in smtp.commands)
    assert SMTP_PASSWORD not in caplog.text + outcome


def test_a_down_channel_does_not_fail_the_load_and_unchanged_editions_stay_quiet(cityrank_env, catalog, monkeypatch):
    with http_sink() as hook:
        monkeypatch.setenv("CITYRANK_NOTIFY_WEBHOOK_URL", f"http://127.0.0.1:{hook.server_address[1]}/hooks/{HOOK_TOKEN}")
        monkeypatch.setenv("CITYRANK_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("CITYRANK_SMTP_PORT", str(closed_port()))
        monkeypatch.setenv("CITYRANK_SMTP_PASSWORD", SMTP_PASSWORD)
        monkeypatch.setenv("CITYRANK_NOTIFY_EMAIL_TO", "plan@seoul.example")
        first = load_through_asset(catalog, cityrank_env, "GFCI", "GFCI 37")
        again = load_through_asset(catalog, cityrank_env, "GFCI", "GFCI 37")
    assert first.metadata["changed"] is True and first.metadata["rows"] == 10
    notes = first.metadata["notifications"]
    assert f"webhook http://127.0.0.1:{hook.server_address[1]}: sent" in notes and "e-mail via 127.0.0.1" in notes
    assert "failed" in notes and SMTP_PASSWORD not in notes
    [(_, _, payload)] = hook.posts  # the unchanged re-load sent nothing
    assert (payload["index_code"], payload["edition"], payload["rank"]) == ("GFCI", "GFCI 37", 10)
    assert again.metadata["changed"] is False and again.metadata["notifications"] == "none"
