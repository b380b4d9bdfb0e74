"""mart.peer_comparison and the peer-group rank in mart.city_scorecard, on Seoul's GPCI/GFCI.

GPCI 2025 as published: London 1, Tokyo 2, New York 3, Paris 4, Singapore 5, Seoul 6,
Shanghai 8 (Hong Kong and Beijing are not in the published top 10). GFCI 38: New York 1,
London 2, Hong Kong 3, Singapore 4, Shanghai 8, Seoul 10.
"""

from decimal import Decimal

from test_views_fixture import refresh_mart, rows, seoul_db, seoul_template  # noqa: F401


def test_focus_city_against_the_default_peers(seoul_db):
    got = rows(seoul_db, """SELECT peer_position, peer_city, peer_rank, focus_lead_ranks, focus_rank_among_peers, peers_ranked
                            FROM mart.peer_comparison WHERE city = 'Seoul' AND index_code = 'GPCI' AND measure = 'total'
                            ORDER BY peer_position""")
    assert got == [
        (1, "New York", 3, -3, 6, 7),
        (2, "London", 1, -5, 6, 7),
        (3, "Paris", 4, -2, 6, 7),
        (4, "Tokyo", 2, -4, 6, 7),
        (5, "Singapore", 5, -1, 6, 7),
        (6, "Hong Kong", None, None, 6, 7),
        (7, "Beijing", None, None, 6, 7),
        (8, "Shanghai", 8, 2, 6, 7),
    ]
    gfci = rows(seoul_db, """SELECT edition, peer_city, peer_rank, focus_lead_ranks, focus_rank_among_peers, peers_ranked
                             FROM mart.peer_comparison WHERE index_code = 'GFCI' AND measure = 'total' AND peer_rank IS NOT NULL
                             ORDER BY peer_rank""")
    assert gfci == [("GFCI 38", "New York", 1, -9, 6, 6), ("GFCI 38", "London", 2, -8, 6, 6),
                    ("GFCI 38", "Hong Kong", 3, -7, 6, 6), ("GFCI 38", "Singapore", 4, -6, 6, 6),
                    ("GFCI 38", "Shanghai", 8, -2, 6, 6)]


def test_points_lead_and_measures_without_peer_figures(seoul_db):
    # Livability (GPCI 2025: 25th) has no peer figures at all: Seoul is 1st of the 1 ranked.
    got = rows(seoul_db, """SELECT measure, edition, focus_rank, focus_score, focus_rank_among_peers, peers_ranked,
                                   count(*) FILTER (WHERE peer_rank IS NULL)
                            FROM mart.peer_comparison WHERE index_code = 'GPCI' AND measure = 'livability'
                            GROUP BY 1, 2, 3, 4, 5, 6""")
    assert got == [("livability", "2025", 25, None, 1, 1, 8)]
    # Seoul's latest GFCI figure (GFCI 38) is a rank without a score: no points lead, only places.
    lead = rows(seoul_db, """SELECT edition, focus_score, peer_score, focus_lead_points, focus_lead_ranks
                             FROM mart.peer_comparison WHERE index_code = 'GFCI' AND measure = 'total'
                               AND peer_city = 'Hong Kong'""")
    assert lead == [("GFCI 38", None, Decimal("764"), None, -7)]


def test_configured_peers_replace_the_default_set(seoul_db, catalog):
    # The focus city is never its own peer and a repeated peer counts once.
    env = {"CITYRANK_DATABASE_URL": seoul_db, "CITYRANK_PEERS": "Tokyo; London; seoul; Tokyo"}
    assert refresh_mart(seoul_db, catalog, env) is True
    got = rows(seoul_db, """SELECT peer_position, peer_city, peer_rank, focus_rank_among_peers, peers_ranked
                            FROM mart.peer_comparison WHERE index_code = 'GPCI' AND measure = 'total' ORDER BY 1""")
    assert got == [(1, "Tokyo", 2, 3, 3), (2, "London", 1, 3, 3)]


def test_scorecard_rank_among_the_focus_citys_peers(seoul_db):
    got = dict((city, (rank, group_rank, group_size)) for city, rank, group_rank, group_size in rows(
        seoul_db, """SELECT city, rank, peer_group_rank, peer_group_size FROM mart.city_scorecard
                     WHERE index_code = 'GPCI' AND city IN ('Seoul', 'London', 'Shanghai', 'Amsterdam')"""))
    # Shanghai's latest GPCI edition on record is 2025 (8th); 7 of the 9 group members are ranked there.
    assert got == {"Seoul": (6, 6, 7), "London": (1, 1, 7), "Shanghai": (8, 7, 7), "Amsterdam": (7, None, None)}
