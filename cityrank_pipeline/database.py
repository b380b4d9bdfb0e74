"""Connections to the warehouse: the configured PostgreSQL, or the private embedded one.

The rule lives here and nowhere else: CITYRANK_DATABASE_URL wins; without it we start (or
reuse) the embedded server under CITYRANK_HOME. Never SQLite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import psycopg
import sqlalchemy as sa
from psycopg import sql

from .embedded_db import EmbeddedServer, ensure_embedded_server
from .settings import Settings

WAREHOUSE_DB = "cityrank"
DAGSTER_DB = "cityrank_dagster"


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
    """Create database `name` if missing. Returns True when it was created."""
    with psycopg.connect(libpq_url(admin_url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


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


def create_warehouse_engine(url: str) -> sa.Engine:
    return sa.create_engine(sqlalchemy_url(url), pool_pre_ping=True, future=True)


def connect(url: str, **kwargs) -> psycopg.Connection:
    return psycopg.connect(libpq_url(url), **kwargs)
