"""GFCI 32's report reprints every centre's GFCI 31 rank and rating: `cityrank ingest` of the
real report loads GFCI 32 and fills GFCI 31, where a publisher-printed figure beats the press
figure for the same cell, with provenance (file, page, note) and the press figures that the
report lacks kept."""

from __future__ import annotations

import psycopg
import pytest

from cityrank_pipeline.cli import main
from cityrank_pipeline.runner import ingest_and_run

from conftest import SHARED

REPORT = SHARED / "publications" / "gfci" / "GFCI_32_Report_2022.09.22_v1.0_.pdf"
pytestmark = pytest.mark.skipif(not REPORT.exists(), reason=f"{REPORT} (the real GFCI 32 report) is not here")


def test_ingesting_gfci_32_reconciles_gfci_31(cityrank_env, capsys):
    url = str(cityrank_env.database_url)
    assert main(["ingest", str(REPORT), "--index", "gfci"]) == 0
    out = capsys.readouterr().out
    assert "GFCI 32: loaded" in out and "GFCI 31: updated with the figures this file reprints" in out
    with psycopg.connect(url) as conn:
        seoul = conn.execute("""SELECT f.edition, f.rank, f.score, f.page, s.original_name
                                FROM warehouse.fact_city_score f JOIN meta.snapshot s USING (snapshot_id)
                                WHERE f.index_code = 'GFCI' AND f.city_key = 'seoul' AND f.measure_code = 'total'
                                ORDER BY f.edition""").fetchall()
        sources = conn.execute("""SELECT e.edition, s.original_name, e.source_kind, e.role, e.disagreements
                                  FROM meta.edition_source e JOIN meta.snapshot s USING (snapshot_id)
                                  WHERE e.index_code = 'GFCI' ORDER BY e.edition, e.precedence""").fetchall()
        kept_press = conn.execute("""SELECT count(*) FROM warehouse.fact_city_score f
                                     JOIN meta.snapshot s USING (snapshot_id)
                                     WHERE f.index_code = 'GFCI' AND f.edition = 'GFCI 31'
                                       AND s.original_name = 'published_figures.csv'""").fetchone()[0]
        gfci31 = conn.execute("""SELECT count(*) FROM warehouse.fact_city_score
                                 WHERE index_code = 'GFCI' AND edition = 'GFCI 31' AND measure_code = 'total'""").fetchone()[0]
    assert seoul == [("GFCI 31", 12, 705, 6, REPORT.name), ("GFCI 32", 11, 718, 6, REPORT.name)]
    assert sources == [
        ("GFCI 31", REPORT.name, "reprint", "primary", 0),
        ("GFCI 31", "published_figures.csv", "curated", "fills_in", 0),
        ("GFCI 32", REPORT.name, "own", "primary", 0),
        ("GFCI 32", "published_figures.csv", "curated", "superseded", 0),
    ]
    assert kept_press > 0 and gfci31 >= 110
    # Again: same bytes, nothing to do.
    before_runs = ingest_and_run(cityrank_env, "GFCI", REPORT.read_bytes(), original_name=REPORT.name)[1]
    assert before_runs.changed == [] and before_runs.failed == {}
