"""mart.score_history against Seoul's published GPCI and GFCI history (published_figures.csv)."""

from decimal import Decimal

from test_views_fixture import rows, seoul_db, seoul_template  # noqa: F401 - fixtures


def test_every_edition_with_change_since_the_citys_previous_figure(seoul_db):
    got = rows(seoul_db, """SELECT edition, rank, previous_edition, previous_rank, rank_change
                            FROM mart.score_history WHERE city = 'Seoul' AND index_code = 'GPCI' AND measure = 'total'
                            ORDER BY edition_seq""")
    assert got == [
        ("2018", 7, None, None, None),
        ("2019", 7, "2018", 7, 0),
        ("2020", 8, "2019", 7, -1),   # slipped to 8th
        ("2021", 8, "2020", 8, 0),
        ("2022", 7, "2021", 8, 1),
        ("2023", 7, "2022", 7, 0),
        ("2024", 6, "2023", 7, 1),
        ("2025", 6, "2024", 6, 0),
    ]


def test_measures_skip_editions_the_city_is_missing_from(seoul_db):
    # Livability was published for Seoul in 2020 (39th), 2024 (35th) and 2025 (25th) only.
    got = rows(seoul_db, """SELECT edition, rank, previous_edition, rank_change, level, measure_name
                            FROM mart.score_history WHERE city = 'Seoul' AND index_code = 'GPCI' AND measure = 'livability'
                            ORDER BY edition_seq""")
    assert got == [("2020", 39, None, None, "sub_index", "Livability"),
                   ("2024", 35, "2020", 4, "sub_index", "Livability"),
                   ("2025", 25, "2024", 10, "sub_index", "Livability")]


def test_score_changes_and_flags(seoul_db):
    # GFCI 25: 668 points, GFCI 26: 677 (disputed), GFCI 27: rank only.
    got = rows(seoul_db, """SELECT edition, score, score_change, confidence, is_focus_city, is_peer
                            FROM mart.score_history WHERE city = 'Seoul' AND index_code = 'GFCI'
                              AND edition IN ('GFCI 25', 'GFCI 26', 'GFCI 27') ORDER BY edition_seq""")
    assert got == [("GFCI 25", Decimal("668"), None, "reported", True, False),
                   ("GFCI 26", Decimal("677"), Decimal("9"), "disputed", True, False),
                   ("GFCI 27", None, None, "reported", True, False)]
    flags = dict(((city, (focus, peer)) for city, focus, peer in rows(
        seoul_db, """SELECT DISTINCT city, is_focus_city, is_peer FROM mart.score_history
                     WHERE city IN ('London', 'Amsterdam', 'Seoul')""")))
    assert flags == {"London": (False, True), "Amsterdam": (False, False), "Seoul": (True, False)}
    assert rows(seoul_db, """SELECT score, city_count FROM mart.score_history
                             WHERE city = 'Singapore' AND index_code = 'GPCI' AND edition = '2024'""") == [(Decimal("1291.8"), 48)]
