"""Real publications in: the Mori GPCI summary PDFs ingested, loaded once, broken files refused."""

import psycopg
import pytest

from cityrank_pipeline.runner import ingest_and_run
from cityrank_pipeline.snapshots import Quarantine, RawStore

from conftest import REPO, SHARED, table_snapshot

GPCI_DIR = SHARED / "publications" / "gpci"
needs_pdfs = pytest.mark.skipif(not (GPCI_DIR / "GPCI2015_en.pdf").exists(),
                                reason=f"the shared GPCI PDFs are not at {GPCI_DIR} (set CITYRANK_SHARED_DIR)")


def _seoul_ranks(url, edition):
    with psycopg.connect(url) as conn:
        return dict(conn.execute(
            "SELECT measure, rank FROM mart.city_scores WHERE index_code = 'GPCI' AND city = 'Seoul' AND edition = %s",
            (edition,)).fetchall())


@needs_pdfs
def test_both_summaries_load_and_the_same_bytes_again_are_a_no_op(cityrank_env):
    for year in ("2013", "2015"):
        data = (GPCI_DIR / f"GPCI{year}_en.pdf").read_bytes()
        result, summary = ingest_and_run(cityrank_env, "GPCI", data, original_name=f"GPCI{year}_en.pdf")
        assert (result.status, result.edition) == ("new", year)
        assert summary.changed == [f"GPCI {year}"], summary.failed
    assert _seoul_ranks(cityrank_env.database_url, "2015") == {
        "total": 6, "economy": 8, "r_and_d": 6, "cultural_interaction": 14, "livability": 24,
        "environment": 25, "accessibility": 9}
    assert _seoul_ranks(cityrank_env.database_url, "2013")["total"] == 6
    with psycopg.connect(cityrank_env.database_url) as conn:
        count, pages = conn.execute(
            "SELECT count(*), array_agg(DISTINCT page ORDER BY page) FROM warehouse.fact_city_score WHERE index_code = 'GPCI'"
        ).fetchone()
        provenance = conn.execute("SELECT original_name, media_type, bytes FROM meta.snapshot ORDER BY 1").fetchall()
    assert count == 2 * 280 and all(p is not None for p in pages)
    assert [p[0] for p in provenance] == ["GPCI2013_en.pdf", "GPCI2015_en.pdf"]

    before = table_snapshot(cityrank_env.database_url)
    data = (GPCI_DIR / "GPCI2015_en.pdf").read_bytes()
    result, summary = ingest_and_run(cityrank_env, "GPCI", data, original_name="GPCI2015_en.pdf")
    assert result.status == "unchanged" and summary.changed == []
    assert table_snapshot(cityrank_env.database_url) == before


def _broken_inputs():
    cases = [
        ("empty.pdf", b""),
        ("notes.pdf", b"These are meeting notes, not a PDF.\n" * 20),
        ("gfci38_report_extract.pdf", (REPO / "tests/fixtures/publishers/gfci/gfci38_report_extract.pdf").read_bytes()),
    ]
    if (GPCI_DIR / "GPCI2015_en.pdf").exists():
        whole = (GPCI_DIR / "GPCI2015_en.pdf").read_bytes()
        cases.append(("GPCI2015_truncated.pdf", whole[: len(whole) // 2]))
    return cases


@pytest.mark.parametrize("name, data", _broken_inputs(), ids=lambda v: v if isinstance(v, str) else "")
def test_broken_inputs_are_quarantined_and_nothing_is_loaded(cityrank_env, name, data):
    from cityrank_pipeline.migrations import upgrade

    upgrade(cityrank_env.database_url, cityrank_env.sql_dir)
    before = table_snapshot(cityrank_env.database_url)
    result, summary = ingest_and_run(cityrank_env, "GPCI", data, original_name=name)
    assert result.status == "quarantined"
    assert result.reason.startswith(name), result.reason
    assert table_snapshot(cityrank_env.database_url) == before
    assert RawStore(cityrank_env.raw_dir).edition_sources("GPCI") == []
    [note] = Quarantine(cityrank_env.quarantine_dir).entries()
    assert note["original_name"] == name and note["reason"] == result.reason
    assert result.quarantined_to.read_bytes() == data
