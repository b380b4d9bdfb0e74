"""Tell people a new edition is out: the headline by e-mail (SMTP) and to a generic JSON webhook.

A notification is a courtesy, the load is the job: every channel gets a short timeout, every
failure becomes a logged warning, and nothing here raises into the caller. Credentials come
from the environment only and are scrubbed from any message we log; webhook URLs are logged
by host only, because chat webhooks carry their secret in the path.

Configuration (all optional; a channel is on when its address is set):
  CITYRANK_SMTP_HOST, CITYRANK_SMTP_PORT (default 25, or 587 with a user),
  CITYRANK_SMTP_USER, CITYRANK_SMTP_PASSWORD, CITYRANK_NOTIFY_EMAIL_FROM,
  CITYRANK_NOTIFY_EMAIL_TO (comma- or semicolon-separated), CITYRANK_NOTIFY_WEBHOOK_URL.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from dataclasses import asdict, dataclass
from decimal import Decimal
from email.message import EmailMessage
from urllib.parse import urlsplit

import psycopg

log = logging.getLogger(__name__)

TIMEOUT_S = 5.0


class NotifyError(RuntimeError):
    """One channel could not deliver. Messages never contain credentials."""


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def release_label(index_code: str, edition: str) -> str:
    """'GPCI 2025', but 'GFCI 38' rather than 'GFCI GFCI 38' when the label already names the index."""
    return edition if edition.upper().startswith(index_code.upper()) else f"{index_code} {edition}"


def format_number(value: Decimal | None) -> str:
    """Scores as printed: thousands separators, no trailing zeros (1,457.9 not 1457.90)."""
    return "" if value is None else f"{value:,.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Headline:
    """The focus city's result in one edition, as a person would say it."""

    index_code: str
    index_name: str
    edition: str
    published_on: dt.date | None
    city: str
    listed: bool
    rank: int | None
    rank_tied: bool
    score: Decimal | None
    city_count: int | None
    previous_edition: str | None
    previous_rank: int | None
    rank_change: int | None
    score_change: Decimal | None

    @property
    def result(self) -> str:
        if self.rank is None:
            return f"{self.city}: rank not disclosed" if self.listed else f"{self.city} not in the published figures"
        of = f" of {self.city_count}" if self.city_count else ""
        tie = "joint " if self.rank_tied else ""
        return f"{self.city} {tie}{ordinal(self.rank)}{of}"

    @property
    def change(self) -> str:
        if self.rank is None:
            return ""
        if self.previous_edition is None:
            return "first edition on record"
        if self.rank_change is None:
            return f"previous rank ({self.previous_edition}) not disclosed"
        if self.rank_change == 0:
            return f"no change since {self.previous_edition}"
        arrow = "up" if self.rank_change > 0 else "down"
        places = abs(self.rank_change)
        return f"{arrow} {places} place{'s' if places != 1 else ''} since {self.previous_edition} ({ordinal(self.previous_rank)})"

    @property
    def text(self) -> str:
        parts = [f"{release_label(self.index_code, self.edition)}: {self.result}"]
        if self.change:
            parts.append(self.change)
        return " — ".join(parts)

    def payload(self) -> dict:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, Decimal):
                data[key] = float(value)
            elif isinstance(value, dt.date):
                data[key] = value.isoformat()
        return {"event": "edition_loaded", "text": self.text, **data}


def fetch_headline(conn: psycopg.Connection, index_code: str, edition: str, city_key: str) -> Headline | None:
    """The focus city's headline for one loaded edition; None when the edition is not loaded."""
    row = conn.execute(
        """SELECT e.index_code, i.name, e.edition, e.published_on, coalesce(c.name, %(city)s),
                  h.city_key IS NOT NULL, h.rank, coalesce(h.rank_tied, false), h.score, e.city_count,
                  h.previous_edition, h.previous_rank, h.rank_change, h.score_change
           FROM warehouse.dim_edition e
           JOIN warehouse.dim_index i ON i.index_code = e.index_code
           LEFT JOIN warehouse.dim_city c ON c.city_key = %(city)s
           LEFT JOIN mart.score_history h ON h.index_code = e.index_code AND h.edition = e.edition
                                         AND h.city_key = %(city)s AND h.measure = 'total'
           WHERE e.index_code = %(code)s AND e.edition = %(edition)s""",
        {"city": city_key, "code": index_code, "edition": edition},
    ).fetchone()
    return Headline(*row) if row else None


@dataclass(frozen=True)
class SmtpChannel:
    host: str
    port: int
    user: str | None
    password: str | None
    sender: str
    recipients: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"e-mail via {self.host}:{self.port}"

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.password,) if s)


@dataclass(frozen=True)
class WebhookChannel:
    url: str

    @property
    def name(self) -> str:
        parts = urlsplit(self.url)
        return f"webhook {parts.scheme}://{parts.hostname or '?'}{f':{parts.port}' if parts.port else ''}"

    def secrets(self) -> tuple[str, ...]:
        parts = urlsplit(self.url)
        return tuple(s for s in (self.url, parts.path, parts.query, parts.password) if s and s != "/")


def channels_from_env(env: dict | None = None) -> list[SmtpChannel | WebhookChannel]:
    """The configured channels; a half-configured one is skipped with a warning naming the variable."""
    env = os.environ if env is None else env
    channels: list[SmtpChannel | WebhookChannel] = []
    host = (env.get("CITYRANK_SMTP_HOST") or "").strip()
    recipients = tuple(a.strip() for a in re.split(r"[;,]", env.get("CITYRANK_NOTIFY_EMAIL_TO") or "") if a.strip())
    if host or recipients:
        if not host or not recipients:
            missing = "CITYRANK_SMTP_HOST" if not host else "CITYRANK_NOTIFY_EMAIL_TO"
            log.warning("e-mail notification is not configured completely: %s is not set", missing)
        else:
            user = (env.get("CITYRANK_SMTP_USER") or "").strip() or None
            port_text = (env.get("CITYRANK_SMTP_PORT") or "").strip()
            try:
                port = int(port_text) if port_text else (587 if user else 25)
            except ValueError:
                log.warning("CITYRANK_SMTP_PORT is not a number; e-mail notification is off")
            else:
                sender = (env.get("CITYRANK_NOTIFY_EMAIL_FROM") or "").strip() or user or "cityrank@localhost"
                channels.append(SmtpChannel(host, port, user, env.get("CITYRANK_SMTP_PASSWORD") or None, sender, recipients))
    url = (env.get("CITYRANK_NOTIFY_WEBHOOK_URL") or "").strip()
    if url:
        if urlsplit(url).scheme not in ("http", "https"):
            log.warning("CITYRANK_NOTIFY_WEBHOOK_URL is not an http(s) URL; webhook notification is off")
        else:
            channels.append(WebhookChannel(url))
    return channels


def _email(headline: Headline, channel: SmtpChannel) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"[cityrank] {headline.text}"
    message["From"] = channel.sender
    message["To"] = ", ".join(channel.recipients)
    lines = [headline.text, "", f"Index: {headline.index_name} ({headline.index_code})", f"Edition: {headline.edition}"]
    if headline.published_on:
        lines.append(f"Published: {headline.published_on.isoformat()}")
    if headline.score is not None:
        lines.append(f"Score: {format_number(headline.score)}")
    lines += ["", "Details: `cityrank brief --index " + headline.index_code + "` or the mart views (mart.top5_gap)."]
    message.set_content("\n".join(lines))
    return message


def send_email(headline: Headline, channel: SmtpChannel, timeout: float = TIMEOUT_S) -> None:
    """Deliver over SMTP; STARTTLS when offered, and credentials only ever over TLS."""
    import smtplib
    import ssl

    implicit_tls = channel.port == 465
    smtp_class = smtplib.SMTP_SSL if implicit_tls else smtplib.SMTP
    with smtp_class(channel.host, channel.port, timeout=timeout) as smtp:
        encrypted = implicit_tls
        if not implicit_tls:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
                encrypted = True
        if channel.user:
            if not encrypted:
                raise NotifyError("the server offers no TLS; the SMTP credentials were not sent")
            smtp.login(channel.user, channel.password or "")
        smtp.send_message(_email(headline, channel))


def send_webhook(headline: Headline, channel: WebhookChannel, timeout: float = TIMEOUT_S) -> None:
    import urllib.request  # here, not at the top: every edition step imports this module, few send

    request = urllib.request.Request(
        channel.url, data=json.dumps(headline.payload()).encode(), method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "cityrank-notify"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked in channels_from_env
        if not 200 <= response.status < 300:
            raise NotifyError(f"HTTP {response.status}")


def _scrub(message: str, secrets: tuple[str, ...]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        message = message.replace(secret, "***")
    return message


def notify_new_edition(headline: Headline, *, env: dict | None = None, logger=None,
                       timeout: float = TIMEOUT_S) -> dict[str, str]:
    """Send the headline to every configured channel. Returns {channel: outcome}; never raises."""
    logger = logger or log
    outcomes: dict[str, str] = {}
    for channel in channels_from_env(env):
        sender = send_email if isinstance(channel, SmtpChannel) else send_webhook
        try:
            sender(headline, channel, timeout)
        except Exception as exc:  # noqa: BLE001 - a channel being down must never fail the load
            reason = _scrub(f"{type(exc).__name__}: {exc}", channel.secrets())
            logger.warning(f"notification not delivered ({channel.name}): {reason}")
            outcomes[channel.name] = f"failed: {reason}"
        else:
            outcomes[channel.name] = "sent"
    return outcomes
