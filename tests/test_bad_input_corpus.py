"""The bad-input corpus (tests/bad_inputs.py) through every entry point: each file is refused
in one line naming it and its row, page or key, kept in quarantine with that reason, and
nothing else moves — warehouse rows (with xmin), the raw store and edition registry (by
checksum of CITYRANK_HOME/raw), Dagster partitions and run requests.

Most cases call the library (`ingest_publication`, the sensor through `build_sensor_context`,
the fetcher against a local HTTP server, `cityrank extract` and `cityrank catalog` in-process);
a handful run the real `cityrank ingest` in a subprocess. The warehouse is one migrated
database per module, loaded once with real curated editions: an ingest refusal must not
write to it, and the xmin of every row proves it did not.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from psycopg import sql

import bad_inputs
from bad_inputs import Case
from conftest import REPO, table_snapshot, with_database
from http_fixture_server import serve

from cityrank_pipeline.editions import register_curated_editions
from cityrank_pipeline.ingest import ingest_publication
from cityrank_pipeline.snapshots import Quarantine, RawStore

CASES = bad_inputs.ingest_cases()
needs_shared = pytest.mark.skipif(not bad_inputs.GPCI_2015.exists(), reason="the shared publications are absent "
                                  "(set CITYRANK_SHARED_DIR to the folder holding publications/)")


def tree_checksum(root: Path) -> str:
    """Every path and byte under `root` (the raw store, registry, history and HTTP state)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")) if root.exists() else []:
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def warehouse(pg_admin_url, catalog, tmp_path_factory):
    """One migrated database per module, holding real curated GPCI and GFCI editions."""
    from cityrank_pipeline.migrations import upgrade
    from cityrank_pipeline.settings import PROJECT_ROOT
    from test_views_fixture import load_real_figures

    name = f"cityrank_corpus_{hashlib.sha256(str(tmp_path_factory.getbasetemp()).encode()).hexdigest()[:10]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(pg_admin_url, name)  # the embedded server's URL names its socket in the query
    upgrade(url, PROJECT_ROOT / "sql")
    load_real_figures(url, catalog, tmp_path_factory.mktemp("corpus_load") / "raw",
                      editions={("GPCI", "2015"), ("GFCI", "GFCI 31")})
    yield url
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def base_home(catalog, tmp_path_factory):
    """A home whose registry holds every curated edition (so labels can clash with them)."""
    home = tmp_path_factory.mktemp("corpus_base") / "home"
    register_curated_editions(catalog, RawStore(home / "raw"))
    return home


@pytest.fixture
def home(base_home, tmp_path, warehouse, monkeypatch):
    target = tmp_path / "home"
    shutil.copytree(base_home, target)
    monkeypatch.setenv("CITYRANK_HOME", str(target))
    monkeypatch.setenv("CITYRANK_DATABASE_URL", warehouse)
    monkeypatch.setenv("DAGSTER_HOME", str(target / "dagster"))
    return target


def state(home: Path, url: str) -> tuple:
    return tree_checksum(home / "raw"), table_snapshot(url)


def assert_refused_cleanly(case: Case, message: str, home: Path, before: tuple, url: str) -> None:
    assert "\n" not in message.strip(), message
    assert message.startswith(case.name) or f"{case.name}:" in message, message
    for words in case.expect:
        assert words in message, f"{words!r} not in {message!r}"
    [note] = Quarantine(home / "quarantine").entries()
    assert note["original_name"] == case.name and note["reason"] == message.strip()
    assert state(home, url) == before


def quarantined_copy(home: Path, case: Case) -> bytes:
    [copy] = [p for p in (home / "quarantine").rglob("*") if p.is_file() and not p.name.endswith(".reason.json")]
    return copy.read_bytes()


# --------------------------------------------------------------------------- ingest (library)


def test_the_unbroken_base_csv_is_accepted(catalog, home, warehouse):
    """The CSV every mutation starts from is good, so each refusal is about its one change."""
    store = RawStore(home / "raw")
    result = ingest_publication(catalog, store, Quarantine(home / "quarantine"), "QOL", bad_inputs.good_csv(),
                                original_name="qol2016.csv")
    assert (result.status, result.edition) == ("new", "2016"), result.reason
    assert store.edition_source("QOL", "2016").snapshot_id == result.snapshot_id


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=[needs_shared] if c.needs_shared else [])
                                  for c in CASES])
def test_ingest_refuses_before_anything_is_stored(catalog, home, warehouse, case):
    before = state(home, warehouse)
    result = ingest_publication(catalog, RawStore(home / "raw"), Quarantine(home / "quarantine"), case.index,
                                case.data, original_name=case.name, edition=case.edition,
                                published_on=case.published_on)
    assert result.status == "quarantined", f"{case.id} was accepted as {result.edition}"
    assert_refused_cleanly(case, result.reason, home, before, warehouse)
    assert quarantined_copy(home, case) == case.data


# --------------------------------------------------------------------------- cityrank extract


EXTRACT_CASES = [c for c in CASES if c.edition is None and c.published_on is None and not any(
    words.startswith(("edition ", "edition label", "expected one edition", "published_on", "QOL 2016", "GPCI 2023",
                      "Zurich / total", "'Atlantis'"))
    or "no parser for" in words for words in c.expect)]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=[needs_shared] if c.needs_shared else [])
                                  for c in EXTRACT_CASES])
def test_extract_exits_1_with_one_line(home, warehouse, case, capsys):
    from cityrank_pipeline.cli import main

    path = home.parent / case.name
    path.write_bytes(case.data)
    before = state(home, warehouse)
    assert main(["extract", case.index, str(path)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"cityrank: {case.name}") and err.count("\n") == 1, err
    for words in case.expect:
        assert words in err
    assert state(home, warehouse) == before


# --------------------------------------------------------------------------- landing folder (sensor)


SENSOR_CASES = [c for c in CASES if c.id in {
    "csv_score_nan", "csv_rank_overflows_int32", "csv_nul_in_note", "csv_city_10_mb", "csv_note_200k_chars",
    "csv_edition_2099_published_2099_06", "csv_edition_2024_draft", "csv_published_in_the_future", "csv_utf16",
    "csv_unknown_city", "csv_truncated_mid_row", "csv_latin1", "json_nan_literal", "json_top_level_object",
    "json_edition_2099_by_name", "json_city_with_nul", "shared_gfci32_as_gpci", "shared_gpci2015_first_half",
    "html_gser_dated_2099",
}]


def _tick(defs, instance, code, cursor=None):
    from cityrank_pipeline.orchestration.resources import CityrankResource

    sensor = defs.resolve_sensor_def(f"{code.lower()}_new_editions")
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"cityrank": CityrankResource()},
                                      repository_def=defs.get_repository_def())
    return sensor(context)


@pytest.fixture(scope="module")
def definitions():
    from cityrank_pipeline.definitions import build_definitions

    return build_definitions()


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=[needs_shared] if c.needs_shared else [])
                                  for c in SENSOR_CASES])
def test_landing_folder_quarantines_and_the_tick_goes_on(definitions, home, warehouse, case):
    with dg.instance_for_test() as instance:
        primed = _tick(definitions, instance, case.index)  # the registry as the sensor already knew it
        partitions = {p: instance.get_dynamic_partitions(p) for p in ("gpci_editions", "qol_editions", "gser_editions")}
        landing = home / "landing" / case.index.lower()
        landing.mkdir(parents=True)
        (landing / case.name).write_bytes(case.data)
        before = state(home, warehouse)
        result = _tick(definitions, instance, case.index, cursor=primed.cursor)
        assert result.run_requests == [] and result.dynamic_partitions_requests == []
        [note] = Quarantine(home / "quarantine").entries()
        assert_refused_cleanly(case, note["reason"], home, before, warehouse)
        assert {p: instance.get_dynamic_partitions(p) for p in partitions} == partitions
        # The file is remembered: the next tick neither re-reads nor re-quarantines it.
        assert _tick(definitions, instance, case.index, cursor=result.cursor).run_requests == []


def test_a_sensor_tick_survives_a_parser_crash_and_ingests_the_next_file(definitions, home, warehouse, monkeypatch):
    """Whatever a parser raises, the tick quarantines that file and carries on with the rest."""
    from cityrank_pipeline.sources import curated

    def crash(*args, **kwargs):
        raise RecursionError("parser bug")

    with dg.instance_for_test() as instance:
        primed = _tick(definitions, instance, "QOL")
        landing = home / "landing" / "qol"
        landing.mkdir(parents=True)
        (landing / "a_crash.csv").write_bytes(bad_inputs.good_csv().replace(b"2016", b"2015"))
        (landing / "b_other.json").write_bytes(b"[]")
        monkeypatch.setattr(curated, "parse_curated_figures", crash)
        result = _tick(definitions, instance, "QOL", cursor=primed.cursor)
    assert result.run_requests == []
    reasons = {n["original_name"]: n["reason"] for n in Quarantine(home / "quarantine").entries()}
    assert reasons["a_crash.csv"] == "a_crash.csv: could not be ingested (RecursionError: parser bug)"
    assert reasons["b_other.json"].startswith("b_other.json: QOL has no parser for .json files")


# --------------------------------------------------------------------------- the fetcher


FETCH_CASES = [c for c in CASES if c.id in {
    "json_nan_literal", "json_top_level_object", "json_truncated", "json_city_with_nul", "json_indicator_above_100",
    "shared_gpci2015_as_gfci", "shared_gpci2015_first_half", "html_gser_dated_2099", "html_gser_city_with_nul",
}]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=[needs_shared] if c.needs_shared else [])
                                  for c in FETCH_CASES])
def test_fetched_file_is_quarantined_and_fetched_again_next_poll(catalog, home, warehouse, case):
    from cityrank_pipeline.acquisition import HttpCache, poll_index
    from cityrank_pipeline.catalog import Catalog
    from cityrank_pipeline.orchestration.fetcher import MirrorFetcherResource

    entry = catalog[case.index]
    fmt = Path(case.name).suffix.lstrip(".")
    web = next(s for s in entry.sources if s.kind == "web" and s.format == fmt)
    url = f"https://publisher.example/files/{case.name}"
    source = web.model_copy(update={"document_url": url, "landing_pages": [], "access": "public"})
    local = Catalog({**catalog.indices, entry.code: entry.model_copy(update={"sources": [source]})},
                    catalog.cities, catalog.directory)
    content_type = {"pdf": "application/pdf", "json": "application/json", "html": "text/html"}[fmt]
    before = state(home, warehouse)
    with serve({f"/publisher.example/files/{case.name}": (200, {"Content-Type": content_type}, case.data)}) as site:
        resource = MirrorFetcherResource(base_url=site, max_attempts=1, backoff_base=0.01, backoff_max=0.02,
                                         read_timeout=5.0, deadline=20.0)
        with resource.open() as fetcher:
            report = poll_index(local, entry.code, fetcher, RawStore(home / "raw"), Quarantine(home / "quarantine"),
                                HttpCache(home / "raw" / "http_cache"))
        [outcome] = report.outcomes
        assert outcome.status == "quarantined" and report.new_editions == []
        [note] = Quarantine(home / "quarantine").entries()
        assert outcome.reason.startswith(note["reason"])
        assert_refused_cleanly(case, note["reason"], home, before, warehouse)
        assert site.hits(f"/publisher.example/files/{case.name}") == 1


# --------------------------------------------------------------------------- catalog YAML


@pytest.mark.parametrize("cid, filename, old, new, expect", bad_inputs.catalog_cases(),
                         ids=[c[0] for c in bad_inputs.catalog_cases()])
def test_a_broken_catalog_file_is_refused_in_one_line(home, warehouse, tmp_path, monkeypatch, capsys,
                                                      cid, filename, old, new, expect):
    from cityrank_pipeline.cli import main

    root = tmp_path / "project"
    shutil.copytree(REPO / "assets", root / "assets")
    for folder in ("sql", "expectations"):
        (root / folder).symlink_to(REPO / folder)
    text = (root / "assets" / filename).read_text()
    assert old in text
    (root / "assets" / filename).write_text(text.replace(old, new, 1))
    monkeypatch.setenv("CITYRANK_PROJECT_ROOT", str(root))
    before = state(home, warehouse)
    assert main(["catalog"]) == 2
    out, err = capsys.readouterr()
    assert err.startswith("cityrank: ") and err.count("\n") == 1, err
    for words in expect:
        assert words in err, err
    assert state(home, warehouse) == before


# --------------------------------------------------------------------------- the real command line


def _cityrank(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cityrank_pipeline.cli", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture
def cli_env(home, warehouse):
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITYRANK_", "DAGSTER_"))}
    return {**env, "CITYRANK_HOME": str(home), "CITYRANK_DATABASE_URL": warehouse}


@pytest.mark.parametrize("published_on", ["yesterday", "October 2015", "2015-10", "2099-06-01"])
def test_cli_published_on_is_a_usage_error_up_front(home, warehouse, cli_env, published_on):
    path = home.parent / "qol2016.csv"
    path.write_bytes(bad_inputs.good_csv())
    before = state(home, warehouse)
    done = _cityrank(cli_env, "ingest", str(path), "--index", "qol", "--published-on", published_on)
    assert done.returncode == 2, done.stderr
    last = done.stderr.splitlines()[-1]
    assert "argument --published-on:" in last and repr(published_on) in last, done.stderr
    assert state(home, warehouse) == before and not (home / "quarantine").exists()


@pytest.mark.parametrize("case_id", ["csv_score_nan", "csv_edition_2099_published_2099_06", "csv_nul_in_note",
                                     "csv_city_10_mb", "csv_unknown_city"])
def test_cli_ingest_exits_1_naming_the_file_and_row(home, warehouse, cli_env, case_id):
    [case] = [c for c in CASES if c.id == case_id]
    path = home.parent / case.name
    path.write_bytes(case.data)
    before = state(home, warehouse)
    done = _cityrank(cli_env, "ingest", str(path), "--index", case.index.lower())
    assert done.returncode == 1, done.stderr
    first, second = done.stderr.splitlines()
    assert first.startswith(f"cityrank: {case.name}: ") and "Traceback" not in done.stderr
    for words in case.expect:
        assert words in first
    assert second.startswith("  nothing loaded; the file is kept in")
    [note] = Quarantine(home / "quarantine").entries()
    assert f"cityrank: {note['reason']}" == first
    assert state(home, warehouse) == before
