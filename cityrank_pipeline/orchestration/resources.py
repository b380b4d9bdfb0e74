"""The one resource every cityrank asset asks for: where state lives and how to reach the warehouse."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import dagster as dg
import psycopg

from ..catalog import Catalog, load_catalog
from ..database import DatabaseTarget, connect
from ..migrations import ready_database
from ..settings import Settings, load_settings
from ..snapshots import Quarantine, RawStore


@lru_cache(maxsize=8)
def _catalog(directory: str) -> Catalog:
    return load_catalog(Path(directory))


class CityrankResource(dg.ConfigurableResource):
    """Settings come from the environment (CITYRANK_HOME, CITYRANK_DATABASE_URL, ...).

    `home` and `database_url` may be set explicitly, which tests do; credentials still only
    ever arrive through the environment or the test's own configuration.
    """

    home: str | None = None
    database_url: str | None = None

    def settings(self) -> Settings:
        env = dict(os.environ)
        if self.home:
            env["CITYRANK_HOME"] = self.home
        if self.database_url:
            env["CITYRANK_DATABASE_URL"] = self.database_url
        return load_settings(env)

    def catalog(self) -> Catalog:
        return _catalog(str(self.settings().catalog_dir))

    def store(self) -> RawStore:
        return RawStore(self.settings().raw_dir)

    def quarantine(self) -> Quarantine:
        return Quarantine(self.settings().quarantine_dir)

    def database(self) -> DatabaseTarget:
        return ready_database(self.settings())

    def connect(self) -> psycopg.Connection:
        return connect(self.database().warehouse_url)
