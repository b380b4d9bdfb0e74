"""mart.top5_gap: the focus city's distance to 5th place and the editions to close it.

Hand-computed from published_figures.csv. GPCI: Seoul 7th (2023), 6th (2024), 6th (2025) →
gaps of 2, 1, 1 places; pace (2 - 1) / 2 editions = 0.5 a year; 1 / 0.5 = 2 editions to close.
GFCI: 11th (GFCI 36), 10th, 10th → gaps 6, 5, 5; pace 0.5 an issue; 5 / 0.5 = 10 issues.
"""

from decimal import Decimal

import psycopg

from cityrank_pipeline.catalog import INDEX_CODES

from test_views_fixture import load_real_figures, refresh_mart, rows, seoul_db, seoul_template  # noqa: F401

COLUMNS = """index_code, edition, is_latest_edition, rank, city_count, fifth_city, fifth_score, gap_basis, gap_ranks,
             gap_points, gap_percent, trend_basis, pace_since_edition, pace_per_edition, editions_to_close, trend"""


def gap(url: str) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in rows(url, f"SELECT {COLUMNS} FROM mart.top5_gap WHERE city = 'Seoul' ORDER BY 1")}


def test_rank_gaps_and_pace_on_seouls_gpci_and_gfci(seoul_db):
    assert gap(seoul_db) == {
        "GPCI": ("2025", True, 6, 48, "Singapore", None, "ranks", 1, None, None, "ranks", "2023", Decimal("0.50"), 2,
                 "2 editions to close"),
        "GFCI": ("GFCI 38", True, 10, 120, "San Francisco", None, "ranks", 5, None, None, "ranks", "GFCI 36",
                 Decimal("0.50"), 10, "10 editions to close"),
    }


def test_points_gap_and_points_pace_when_scores_are_published(seoul_db, catalog):
    # Singapore's real 2024 score (5th, 1291.8) against hypothetical Seoul scores, to check the
    # arithmetic of the points path: 2024 gap 1291.8 - 1250 = 41.8; 2025 gap 1300 - 1280 = 20;
    # pace 21.8 a year, so one more edition closes it; 20 / 1300 = 1.54 %.
    with psycopg.connect(seoul_db) as conn:
        conn.execute("""UPDATE warehouse.fact_city_score SET score = CASE edition WHEN '2024' THEN 1250.0 ELSE 1280.0 END
                        WHERE index_code = 'GPCI' AND city_key = 'seoul' AND measure_code = 'total' AND edition IN ('2024', '2025')""")
        conn.execute("""UPDATE warehouse.fact_city_score SET score = 1300.0
                        WHERE index_code = 'GPCI' AND city_key = 'singapore' AND measure_code = 'total' AND edition = '2025'""")
    refresh_mart(seoul_db, catalog)
    assert gap(seoul_db)["GPCI"] == ("2025", True, 6, 48, "Singapore", Decimal("1300.0"), "points", 1, Decimal("20.0"),
                                     Decimal("1.54"), "points", "2024", Decimal("21.80"), 1, "1 edition to close")


def test_every_index_with_a_public_rank_answers_on_the_whole_sample(migrated_url, catalog, tmp_path):
    loaded = load_real_figures(migrated_url, catalog, tmp_path / "raw", indices=INDEX_CODES)
    assert len(loaded) == 54
    refresh_mart(migrated_url, catalog)
    got = {code: (r[0], r[2], r[7], r[14]) for code, r in gap(migrated_url).items()}  # edition, rank, gap_ranks, trend
    assert got == {
        "CIMI": ("2019", 12, 7, "no earlier edition"),  # not in the 2024/2025 lists
        "EIU": ("2024", None, None, "rank not disclosed"),
        "GCI": ("2025", 12, 7, "stalled"),               # gap 7 in 2018 and 2025
        "GCO": ("2025", 2, -3, "in top 5"),
        "GDCI": ("2019", 11, 6, "widening"),             # 7th (2016) -> 11th (2019)
        "GFCI": ("GFCI 38", 10, 5, "10 editions to close"),
        "GPCI": ("2025", 6, 1, "2 editions to close"),
        "GSER": ("2025", 8, 3, "2 editions to close"),   # 12th (2023) -> 8th: 2 places a year
        "QOL": ("2019", 77, 72, "widening"),             # 76th (2017) -> 77th (2019)
    }
    cimi = gap(migrated_url)["CIMI"]
    # CIMI 2019: Seoul 78.13, Reykjavik 5th with 85.35 -> 7.22 points, 8.46 % behind.
    assert cimi[4:10] == ("Reykjavik", Decimal("85.35"), "points", 7, Decimal("7.22"), Decimal("8.46"))
    # GSER 2025 prints a tie for 5th (Boston, Beijing): both hold 5th place.
    assert gap(migrated_url)["GSER"][4] == "Beijing / Boston"
