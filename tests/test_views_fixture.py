"""The real-figure fixture the analysis-view tests share: curated editions loaded for real.

Seoul's GPCI and GFCI history (and, where a test needs it, other indices) goes through the
same parse → harmonise → load path as production, from the packaged published_figures.csv,
so hand-computed answers in the view tests refer to figures anyone can look up in that file.
The helpers live in a test module (imported by the other view, BI, brief and notification
tests) because the shared conftest belongs to the spine.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from cityrank_pipeline.editions import parse_edition, register_curated_editions
from cityrank_pipeline.migrations import upgrade
from cityrank_pipeline.focus import write_focus_config
from cityrank_pipeline.loading import edition_meta, load_edition
from cityrank_pipeline.orchestration.views import refresh_materialized_views
from cityrank_pipeline.settings import PROJECT_ROOT, load_settings
from cityrank_pipeline.snapshots import RawStore

SEOUL_FIXTURE = ("GPCI", "GFCI")


def load_real_figures(url: str, catalog, raw_dir: Path, indices=SEOUL_FIXTURE, editions=None) -> list[str]:
    """Load every curated edition of `indices` (or only `editions`, a set of (code, label))."""
    store = RawStore(raw_dir)
    register_curated_editions(catalog, store)
    loaded = []
    with psycopg.connect(url) as conn:
        for code in indices:
            entry = catalog[code]
            for source in sorted(store.edition_sources(code), key=lambda s: entry.edition_seq(s.edition)):
                if editions is not None and (code, source.edition) not in editions:
                    continue
                assembled = parse_edition(catalog, store, source)
                frame, snapshot = assembled.frame, assembled.snapshot
                meta = edition_meta(entry, source.edition, frame, snapshot, complete=source.complete)
                load_edition(conn, catalog, entry, frame, snapshot, meta, assembled.contributions)
                loaded.append(f"{code} {source.edition}")
    return loaded


def refresh_mart(url: str, catalog, env: dict | None = None) -> bool:
    """What the mart/views asset does after loads: focus configuration, then refresh."""
    settings = load_settings(env or {"CITYRANK_DATABASE_URL": url})
    with psycopg.connect(url) as conn:
        with conn.transaction():
            changed = write_focus_config(conn, settings, catalog)
            refresh_materialized_views(conn)
    return changed


def load_through_asset(catalog, settings, code: str, edition: str):
    """Run the `warehouse_scores` asset of one curated edition, skipping the upstream stages.

    The chart, scorecard and notification code lives in that asset; invoking it directly on
    parsed rows keeps the tests to a second instead of a full run with the GX suite.
    """
    import dagster as dg

    from cityrank_pipeline.orchestration.assets import EditionRows, build_index_assets
    from cityrank_pipeline.orchestration.resources import CityrankResource

    store = RawStore(settings.raw_dir)
    register_curated_editions(catalog, store)
    source = store.edition_source(code, edition)
    assembled = parse_edition(catalog, store, source)
    frame, snapshot = assembled.frame, assembled.snapshot
    [warehouse_scores] = [a for a in build_index_assets(catalog[code]) if a.key.path[-1] == "warehouse_scores"]
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(f"{code.lower()}_editions", [edition])
        context = dg.build_asset_context(partition_key=edition, resources={"cityrank": CityrankResource()},
                                         instance=instance)
        return warehouse_scores(context, validated_scores=EditionRows(source, snapshot, frame, assembled.contributions))


def rows(url: str, query: str, params=()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return [tuple(r) for r in conn.execute(query, params).fetchall()]


def _admin(url: str, statement: sql.Composable) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)


# Modules that import the fixture get their own session-scoped instance of it; they share
# one template through this cache, dropped when the last of them is torn down.
_TEMPLATE = {"name": None, "users": 0}


@pytest.fixture(scope="session")
def seoul_template(pg_admin_url, catalog, tmp_path_factory):
    """A database with Seoul's GPCI and GFCI history loaded and the mart refreshed, built once.

    Each test gets a copy (CREATE DATABASE ... TEMPLATE), so parsing and loading 23 editions
    happens once per session instead of once per test.
    """
    from conftest import with_database

    if _TEMPLATE["name"] is None:
        name = f"cityrank_tpl_{uuid.uuid4().hex[:12]}"
        _admin(pg_admin_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        url = with_database(pg_admin_url, name)
        upgrade(url, PROJECT_ROOT / "sql")
        load_real_figures(url, catalog, tmp_path_factory.mktemp("raw"))
        refresh_mart(url, catalog)
        _TEMPLATE["name"] = name
    _TEMPLATE["users"] += 1
    yield _TEMPLATE["name"]
    _TEMPLATE["users"] -= 1
    if _TEMPLATE["users"] == 0:
        _admin(pg_admin_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(_TEMPLATE["name"])))
        _TEMPLATE["name"] = None


@pytest.fixture
def seoul_db(pg_admin_url, seoul_template):
    """A private copy of the Seoul GPCI/GFCI database for one test (default focus and peers)."""
    from conftest import with_database

    name = f"cityrank_test_{uuid.uuid4().hex[:12]}"
    _admin(pg_admin_url, sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(seoul_template)))
    yield with_database(pg_admin_url, name)
    _admin(pg_admin_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_fixture_holds_seouls_published_gpci_and_gfci_history(seoul_db):
    editions = rows(seoul_db, "SELECT index_code, count(*) FROM warehouse.dim_edition GROUP BY 1 ORDER BY 1")
    assert editions == [("GFCI", 15), ("GPCI", 8)]  # GFCI 24-38, GPCI 2018-2025
    history = rows(seoul_db, """SELECT index_code, edition, rank FROM mart.city_scores
                                    WHERE city = 'Seoul' AND measure = 'total' ORDER BY index_code, edition_seq""")
    gpci = [r[2] for r in history if r[0] == "GPCI"]
    gfci = [r[2] for r in history if r[0] == "GFCI"]
    assert gpci == [7, 7, 8, 8, 7, 7, 6, 6]
    assert gfci == [33, 36, 36, 33, 25, 16, 13, 12, 11, 10, 11, 10, 11, 10, 10]
