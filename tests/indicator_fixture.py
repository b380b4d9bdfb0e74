"""GPCI 2023 from Mori's data file, loaded for the indicator-level tests.

The file goes through the production stages (ingest → assemble → load) without Dagster, once
per module, so every test reads a warehouse built the way `cityrank ingest` builds it. The
full 48-city file is in ../shared; where it is absent, the six-city cut committed under
tests/fixtures stands in for tests that do not need every city.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from cityrank_pipeline.editions import parse_edition, register_curated_editions
from cityrank_pipeline.focus import write_focus_config
from cityrank_pipeline.ingest import ingest_publication
from cityrank_pipeline.loading import edition_meta, load_edition
from cityrank_pipeline.migrations import upgrade
from cityrank_pipeline.orchestration.views import refresh_materialized_views
from cityrank_pipeline.settings import PROJECT_ROOT, load_settings
from cityrank_pipeline.snapshots import Quarantine, RawStore

from conftest import REPO, SHARED, with_database

FULL_2023 = SHARED / "publications" / "gpci" / "gpci2023_en.json"
CUT_2023 = REPO / "tests" / "fixtures" / "publishers" / "gpci" / "gpci2023_en_6cities.json"

needs_full_2023 = pytest.mark.skipif(not FULL_2023.exists(), reason=f"{FULL_2023} (the real 48-city file) is not here")


def load_gpci_json(url: str, catalog, raw_dir: Path, path: Path, *, edition: str | None = None):
    """Ingest one GPCI data file (with the curated figures registered first) and load it."""
    store = RawStore(raw_dir)
    register_curated_editions(catalog, store)
    result = ingest_publication(catalog, store, Quarantine(raw_dir.parent / "quarantine"), "GPCI",
                                path.read_bytes(), original_name=path.name, edition=edition)
    assert result.status in ("new", "unchanged"), result.reason
    source = store.edition_source("GPCI", result.edition)
    assembled = parse_edition(catalog, store, source)
    entry = catalog["GPCI"]
    meta = edition_meta(entry, source.edition, assembled.frame, assembled.snapshot, complete=source.complete)
    with psycopg.connect(url) as conn:
        loaded = load_edition(conn, catalog, entry, assembled.frame, assembled.snapshot, meta, assembled.contributions)
        with conn.transaction():
            write_focus_config(conn, load_settings({"CITYRANK_DATABASE_URL": url}), catalog)
            refresh_materialized_views(conn)
    return assembled, loaded


@pytest.fixture(scope="module")
def gpci2023_db(pg_admin_url, catalog, tmp_path_factory):
    """A database holding GPCI 2023 from the full data file (module-scoped: loaded once)."""
    if not FULL_2023.exists():
        pytest.skip(f"{FULL_2023} (the real 48-city file) is not here")
    name = f"cityrank_gpci_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(pg_admin_url, name)
    upgrade(url, PROJECT_ROOT / "sql")
    load_gpci_json(url, catalog, tmp_path_factory.mktemp("gpci") / "raw", FULL_2023)
    yield url
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def without_city_counts(catalog, index_code: str = "GPCI", *, curated: bool = True):
    """The catalog with `index_code`'s editions stripped of their city counts.

    The committed six-city cut is a complete table of six cities, not of the 48 the catalog says
    GPCI ranks, so the suite rightly refuses it as a complete 2023 edition (tested in
    test_bad_inputs). Tests about something else (precedence, acquisition) use this copy so the
    cut passes; the catalog object the session shares is left untouched. With `curated=False`
    the curated figures go too: the cut served as another year's file must not meet that
    year's curated ranks (other cities on the same ranks, rightly refused).
    """
    import copy

    entry = catalog[index_code]
    editions = {label: info.model_copy(update={"city_count": None}) for label, info in entry.editions.items()}
    sources = entry.sources if curated else [s for s in entry.sources if s.kind != "curated"]
    stripped = copy.copy(catalog)
    stripped.indices = {**catalog.indices,
                        index_code: entry.model_copy(update={"editions": editions, "sources": sources})}
    return stripped


@pytest.fixture
def cut_catalog(catalog):
    return without_city_counts(catalog)
