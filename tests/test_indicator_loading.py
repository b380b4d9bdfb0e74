"""GPCI 2023 at indicator level in the warehouse: counts, printed vs computed, idempotency,
precedence over the curated figures with provenance, and weak indicators."""

from __future__ import annotations

from decimal import Decimal

import psycopg

from cityrank_pipeline import editions
from cityrank_pipeline.assembly import assemble_edition
from cityrank_pipeline.editions import register_curated_editions
from cityrank_pipeline.ingest import ingest_publication
from cityrank_pipeline.snapshots import Quarantine, RawStore

from conftest import table_snapshot
from indicator_fixture import (CUT_2023, FULL_2023, cut_catalog, gpci2023_db, load_gpci_json,  # noqa: F401
                               needs_full_2023)


def _one(url: str, query: str, params=()):
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def test_48_cities_times_70_indicators_6_functions_and_total(gpci2023_db):
    assert _one(gpci2023_db, """SELECT d.level, count(DISTINCT f.city_key), count(*),
                                       bool_and(NOT f.score_computed), bool_and(f.rank_computed)
                                FROM warehouse.fact_city_score f
                                JOIN warehouse.dim_measure d USING (index_code, measure_code)
                                WHERE f.edition = '2023' GROUP BY 1 ORDER BY 1""") == [
        ("indicator", 48, 48 * 70, True, True),
        ("overall", 48, 48, True, True),
        ("sub_index", 48, 48 * 6, True, True),
    ]
    assert _one(gpci2023_db, """SELECT rank, round(score, 2) FROM warehouse.fact_city_score
                                WHERE city_key = 'seoul' AND measure_code = 'total'""") == [(7, Decimal("1202.07"))]
    # The hierarchy indicator -> group -> function -> total is in the dimension.
    assert _one(gpci2023_db, """SELECT i.name, g.publisher_code, g.name, f.name, t.measure_code
                                FROM warehouse.dim_measure i
                                JOIN warehouse.dim_measure g ON g.index_code = i.index_code AND g.measure_code = i.parent_code
                                JOIN warehouse.dim_measure f ON f.index_code = g.index_code AND f.measure_code = g.parent_code
                                JOIN warehouse.dim_measure t ON t.index_code = f.index_code AND t.measure_code = f.parent_code
                                WHERE i.index_code = 'GPCI' AND i.indicator_number = 1""")[0][1:] == \
        ("Ec1", _one(gpci2023_db, "SELECT name FROM warehouse.dim_measure WHERE measure_code = 'ec1'")[0][0],
         "Economy", "total")


def test_publisher_file_beats_curated_figures_and_says_so(gpci2023_db):
    sources = _one(gpci2023_db, """SELECT s.original_name, e.source_kind, e.precedence, e.role, e.facts_used,
                                          e.facts_overridden, e.disagreements
                                   FROM meta.edition_source e JOIN meta.snapshot s USING (snapshot_id)
                                   WHERE e.index_code = 'GPCI' AND e.edition = '2023' ORDER BY e.precedence""")
    assert sources == [("gpci2023_en.json", "own", 1, "primary", 48 * 77, 0, 0),
                       ("published_figures.csv", "curated", 3, "superseded", 0, 1, 0)]
    # Every fact traces back to the data file.
    assert _one(gpci2023_db, """SELECT DISTINCT s.original_name, length(s.snapshot_id)
                                FROM warehouse.fact_city_score f JOIN meta.snapshot s USING (snapshot_id)
                                WHERE f.index_code = 'GPCI' AND f.edition = '2023'""") == [("gpci2023_en.json", 64)]


def test_loading_the_same_file_again_writes_nothing(gpci2023_db, catalog, tmp_path):
    before = table_snapshot(gpci2023_db)
    _, loaded = load_gpci_json(gpci2023_db, catalog, tmp_path / "raw", FULL_2023)
    assert not loaded.changed
    assert table_snapshot(gpci2023_db) == before  # values and xmin


def test_figures_both_sources_give_must_agree_or_are_listed(cut_catalog, tmp_path, monkeypatch):
    """A curated figure that disagrees with the publisher file is reported, and the file wins."""
    catalog = cut_catalog
    curated = editions.curated_bytes().replace(
        b"GPCI,2023,,Seoul,South Korea,total,7,", b"GPCI,2023,,Seoul,South Korea,total,9,")
    assert curated != editions.curated_bytes()
    monkeypatch.setattr(editions, "curated_bytes", lambda: curated)
    store = RawStore(tmp_path / "raw")
    register_curated_editions(catalog, store)
    result = ingest_publication(catalog, store, Quarantine(tmp_path / "q"), "GPCI", CUT_2023.read_bytes(),
                                original_name=CUT_2023.name, edition="2023")
    assembled = assemble_edition(catalog, store, store.edition_source("GPCI", result.edition))
    curated_part = [c for c in assembled.contributions if c.kind == "curated"][0]
    assert curated_part.role == "superseded" and curated_part.facts_overridden == 1
    # The six-city cut ranks Seoul among six (4th); the curated figure says 9th: listed, file wins.
    assert assembled.disagreements == [
        "Seoul total: gpci2023_en_6cities.json (publisher file) gives rank 4 score 1202.07, "
        "published_figures.csv (curated figures) gives rank 9"]
    seoul = assembled.frame[(assembled.frame["city_key"] == "seoul") & (assembled.frame["measure"] == "total")]
    assert seoul[["rank", "snapshot_id"]].values.tolist() == [[4, result.snapshot_id]]


def test_weak_indicators_reach_indicator_level(gpci2023_db):
    got = _one(gpci2023_db, """SELECT level, count(*), bool_and(measure_rank > overall_rank),
                                      bool_and(department IS NOT NULL), count(*) FILTER (WHERE gap_to_fifth > 0)
                               FROM mart.weak_indicators WHERE index_code = 'GPCI' GROUP BY 1 ORDER BY 1""")
    levels = {r[0]: r for r in got}
    assert set(levels) == {"indicator", "sub_index"}
    assert levels["indicator"][1] > 10 and levels["indicator"][2] and levels["indicator"][3]
    assert levels["indicator"][4] == levels["indicator"][1]  # ranked below 7th => below the 5th-best score
    # Housing rent: Seoul's score, its rank among 48, and the 5th-best score, all from the file.
    row = _one(gpci2023_db, """SELECT w.measure_rank, w.score, w.fifth_score, w.indicator_group, w.sub_index
                               FROM mart.weak_indicators w WHERE w.measure = 'housing_rent'""")
    expected = _one(gpci2023_db, """
        SELECT (SELECT rank FROM warehouse.fact_city_score WHERE city_key = 'seoul' AND measure_code = 'housing_rent'),
               (SELECT score FROM warehouse.fact_city_score WHERE city_key = 'seoul' AND measure_code = 'housing_rent'),
               (SELECT score FROM warehouse.fact_city_score WHERE measure_code = 'housing_rent'
                ORDER BY score DESC OFFSET 4 LIMIT 1)""")[0]
    assert row and row[0][:3] == expected and row[0][4] == "Livability"


def test_a_later_file_of_the_same_edition_does_not_erase_what_an_earlier_one_gave(cut_catalog, tmp_path):
    """Mori's functions-only file after its full data file: the indicators stay (older file fills
    the measures the newer one does not report); the newer file wins the measures both report."""
    catalog = cut_catalog
    store = RawStore(tmp_path / "raw")
    quarantine = Quarantine(tmp_path / "q")
    register_curated_editions(catalog, store)
    functions_only = CUT_2023.with_name("gpci2023_f_6cities.json")
    for path in (CUT_2023, functions_only):
        result = ingest_publication(catalog, store, quarantine, "GPCI", path.read_bytes(), original_name=path.name,
                                    edition="2023")
        assert result.status == "new", result.reason
    assembled = assemble_edition(catalog, store, store.edition_source("GPCI", "2023"))
    by_file = assembled.frame.groupby("snapshot_id")["measure"].agg(lambda m: len(set(m)))
    names = {c.snapshot.snapshot_id: c.snapshot.original_name for c in assembled.contributions}
    assert {names[k]: v for k, v in by_file.items()} == {"gpci2023_f_6cities.json": 7, "gpci2023_en_6cities.json": 70}
    assert len(assembled.frame) == 6 * 77
    roles = {(c.snapshot.original_name, c.kind): c.role for c in assembled.contributions}
    assert roles == {("gpci2023_f_6cities.json", "own"): "primary", ("gpci2023_en_6cities.json", "own"): "fills_in",
                     ("published_figures.csv", "curated"): "superseded"}


def test_a_six_city_table_is_not_taken_for_the_48_city_edition(catalog, tmp_path):
    """The catalog says GPCI 2023 ranks 48 cities: a complete table of six is refused before it
    is registered, naming the rule, and the raw file is kept in quarantine."""
    store = RawStore(tmp_path / "raw")
    quarantine = Quarantine(tmp_path / "q")
    result = ingest_publication(catalog, store, quarantine, "GPCI", CUT_2023.read_bytes(),
                                original_name=CUT_2023.name, edition="2023")
    assert result.status == "quarantined"
    assert CUT_2023.name in result.reason and "as many cities as the edition ranks" in result.reason
    assert store.edition_source("GPCI", "2023") is None
    kept = [p for p in (tmp_path / "q").rglob("*") if p.is_file() and p.read_bytes() == CUT_2023.read_bytes()]
    assert len(kept) == 1, sorted((tmp_path / "q").rglob("*"))
