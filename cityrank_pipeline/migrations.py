"""Schema by migration: numbered SQL files applied once each, in order, and recorded.

`sql/migrations/NNNN_name.sql` files run in one transaction each and are recorded in
`meta.schema_migration` with their sha256, so an edited, already-applied migration is caught
instead of silently diverging. `sql/views/*.sql` are re-applied every time (they are written
with CREATE OR REPLACE / DROP ... IF EXISTS), in file-name order, in one transaction.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import psycopg

from .database import DatabaseTarget, connect, resolve_database
from .settings import Settings

MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Any constant works; it only has to be the same for every cityrank process.
MIGRATION_LOCK_KEY = 727_001


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def discover_migrations(sql_dir: Path) -> list[Migration]:
    found = []
    for path in sorted((sql_dir / "migrations").glob("*.sql")):
        match = MIGRATION_NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path}: migration files are named NNNN_lowercase_name.sql")
        found.append(Migration(int(match.group(1)), match.group(2), path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"{sql_dir / 'migrations'}: two migrations share a version number")
    return found


def _bootstrap(conn: psycopg.Connection) -> None:
    conn.execute("CREATE SCHEMA IF NOT EXISTS meta")
    conn.execute(
        """CREATE TABLE IF NOT EXISTS meta.schema_migration (
               version integer PRIMARY KEY,
               name text NOT NULL,
               sha256 text NOT NULL,
               applied_at timestamptz NOT NULL DEFAULT now())"""
    )


def applied_migrations(conn: psycopg.Connection) -> dict[int, str]:
    rows = conn.execute("SELECT version, sha256 FROM meta.schema_migration").fetchall()
    return {version: sha for version, sha in rows}


def upgrade(url: str, sql_dir: Path) -> list[Migration]:
    """Apply pending migrations, then (re)apply views. Returns the migrations applied now."""
    migrations = discover_migrations(sql_dir)
    applied_now: list[Migration] = []
    with connect(url) as conn:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
            _bootstrap(conn)
        for migration in migrations:
            with conn.transaction():
                # Held for this migration's transaction: concurrent upgrades queue, then skip.
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
                done = applied_migrations(conn)
                if migration.version in done:
                    if done[migration.version] != migration.sha256:
                        raise MigrationError(
                            f"{migration.path}: already applied with different contents; "
                            "write a new migration instead of editing an applied one"
                        )
                    continue
                try:
                    conn.execute(migration.path.read_text(encoding="utf-8"))
                except psycopg.Error as exc:
                    raise MigrationError(f"{migration.path}: {exc}") from exc
                conn.execute(
                    "INSERT INTO meta.schema_migration (version, name, sha256) VALUES (%s, %s, %s)",
                    (migration.version, migration.name, migration.sha256),
                )
                applied_now.append(migration)
        apply_views(conn, sql_dir)
    return applied_now


def view_files(sql_dir: Path) -> list[Path]:
    return sorted((sql_dir / "views").glob("*.sql"))


def apply_views(conn: psycopg.Connection, sql_dir: Path) -> list[Path]:
    """Re-create every view in one transaction, so BI users never see a half-applied set."""
    files = view_files(sql_dir)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
        for path in files:
            try:
                conn.execute(path.read_text(encoding="utf-8"))
            except psycopg.Error as exc:
                raise MigrationError(f"{path}: {exc}") from exc
    return files


@lru_cache(maxsize=8)
def ready_database(settings: Settings) -> DatabaseTarget:
    """Resolve (maybe start) the database and bring its schema and views up to date — once per
    process and settings, however many commands, workers' runs and assets ask for it."""
    target = resolve_database(settings)
    upgrade(target.warehouse_url, settings.sql_dir)
    return target
