"""Connections to the warehouse: the configured PostgreSQL, or the private embedded one.

The rule lives here and nowhere else: CITYRANK_DATABASE_URL wins; without it we start (or
reuse) the embedded server under CITYRANK_HOME. Never SQLite.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from .embedded_db import EmbeddedServer, ensure_embedded_server
from .settings import Settings

WAREHOUSE_DB = "cityrank"
DAGSTER_DB = "cityrank_dagster"
# Serialises CREATE DATABASE between cityrank processes on one server (any constant works).
CREATE_DATABASE_LOCK_KEY = 727_002
# Where credentials may arrive; their passwords are blanked out of anything cityrank prints.
URL_VARIABLES = ("CITYRANK_DATABASE_URL", "CITYRANK_DAGSTER_DATABASE_URL", "CITYRANK_DAGSTER_STORAGE_URL")


@dataclass(frozen=True)
class DatabaseTarget:
    warehouse_url: str
    dagster_url: str
    embedded: EmbeddedServer | None


def resolve_database(settings: Settings) -> DatabaseTarget:
    """Return where the warehouse and Dagster's own storage live, starting the embedded server if needed."""
    if settings.database_url:
        return DatabaseTarget(
            warehouse_url=settings.database_url,
            dagster_url=settings.dagster_database_url or settings.database_url,
            embedded=None,
        )
    server = ensure_embedded_server(settings.postgres_dir)
    admin = server.url("postgres")
    for name in (WAREHOUSE_DB, DAGSTER_DB):
        if ensure_database(admin, name) and name == DAGSTER_DB:
            # Dagster commits every event; waiting for each fsync triples a run's wall time.
            # Its event log is replayable bookkeeping, so trading the last few hundred ms of
            # it on a power cut for speed is right. The warehouse keeps full durability.
            with psycopg.connect(libpq_url(admin), autocommit=True) as conn:
                conn.execute(sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(sql.Identifier(name)))
    return DatabaseTarget(server.url(WAREHOUSE_DB), server.url(DAGSTER_DB), server)


def ensure_database(admin_url: str, name: str) -> bool:
    """Create database `name` if missing. Returns True when it was created.

    Two processes starting on a fresh home both see no database; without the lock the slower
    CREATE DATABASE fails on pg_database's unique index. The lock makes the second wait and
    then find it; the caught error covers a creator that does not take the lock.
    """
    with psycopg.connect(libpq_url(admin_url), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (CREATE_DATABASE_LOCK_KEY,))
        try:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if exists:
                return False
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                return False
            return True
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (CREATE_DATABASE_LOCK_KEY,))


def libpq_url(url: str) -> str:
    """Strip a SQLAlchemy driver suffix (postgresql+psycopg://) so libpq accepts the URL."""
    return re.sub(r"^postgres(?:ql)?\+\w+://", "postgresql://", url)


def sqlalchemy_url(url: str, driver: str = "psycopg") -> str:
    return re.sub(r"^postgres(?:ql)?(?:\+\w+)?://", f"postgresql+{driver}://", url)


def redact_url(url: str) -> str:
    """The URL with any password replaced, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def _passwords(url: str) -> set[str]:
    """The password in `url` as written and decoded, found even when the URL does not parse
    (libpq quotes the bad part of a malformed URL in its error message)."""
    match = re.match(r"^[^:/]+://[^:/@]*:(.*)@[^@]*$", url)
    if not match or not match.group(1):
        return set()
    raw = match.group(1)
    found = {raw, unquote(raw)}
    # An unencoded "@" in a password makes libpq read the rest as a host name and print it.
    found.update(piece for piece in raw.split("@") if len(piece) >= 3)
    return {p for p in found if p}


def without_secrets(text: str, environ=None) -> str:
    """`text` with every password from the configured database URLs replaced by ***."""
    env = os.environ if environ is None else environ
    secrets = set()
    for name in URL_VARIABLES:
        if env.get(name):
            secrets |= _passwords(env[name])
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def database_failure(exc: BaseException) -> str | None:
    """One line saying the database could not be reached or went away, or None when `exc`
    (with its causes) is not that. Dagster's storage (psycopg2, SQLAlchemy) and the warehouse
    (psycopg 3) report it differently; the user needs to hear it once, without a traceback."""
    import sqlalchemy.exc

    kinds: list[type] = [psycopg.OperationalError, psycopg.InterfaceError, sqlalchemy.exc.OperationalError,
                         sqlalchemy.exc.InterfaceError]
    try:
        import psycopg2

        kinds += [psycopg2.OperationalError, psycopg2.InterfaceError]
        from dagster_postgres.utils import DagsterPostgresException

        kinds.append(DagsterPostgresException)
    except ImportError:  # pragma: no cover - both come with dagster-postgres
        pass
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, tuple(kinds)):
            detail = " ".join(str(getattr(exc, "orig", None) or exc).split()) or type(exc).__name__
            detail = re.sub(r"\s*\(Background on this error at: \S+\)", "", detail)
            return without_secrets(f"the database is unreachable or stopped answering: {detail[:300]}. "
                                   "Work not committed was rolled back; run the command again once PostgreSQL is up")
        exc = exc.__cause__ or exc.__context__
    return None


def create_warehouse_engine(url: str) -> "sa.Engine":
    import sqlalchemy as sa  # here, not at the top: commands that only read the warehouse skip its ~0.5 s import

    return sa.create_engine(sqlalchemy_url(url), pool_pre_ping=True, future=True)


def connect(url: str, **kwargs) -> psycopg.Connection:
    return psycopg.connect(libpq_url(url), **kwargs)
