-- The focus city against each configured peer, per index and measure, in the latest edition
-- that has a figure for the focus city on that measure (so both cities are compared on the
-- same publication). Peers without a figure in that edition keep their row with NULLs: "not
-- in the published list" is itself an answer. Leads are signed so that positive always means
-- the focus city is ahead.
SELECT meta.define_matview('peer_comparison', $view$
WITH focus_latest AS (
    SELECT DISTINCT ON (f.index_code, f.measure_code)
           f.index_code, f.measure_code, f.edition, f.city_key, f.rank, f.rank_tied, f.score
    FROM warehouse.fact_city_score f
    JOIN meta.focus_city fc      ON fc.city_key = f.city_key
    JOIN warehouse.dim_edition e ON e.index_code = f.index_code AND e.edition = f.edition
    WHERE f.rank IS NOT NULL OR f.score IS NOT NULL
    ORDER BY f.index_code, f.measure_code, e.edition_seq DESC
), paired AS (
    SELECT fl.*, pc.position AS peer_position, pc.city_key AS peer_key,
           pf.rank AS peer_rank, pf.rank_tied AS peer_rank_tied, pf.score AS peer_score
    FROM focus_latest fl
    CROSS JOIN meta.peer_city pc
    LEFT JOIN warehouse.fact_city_score pf ON pf.index_code = fl.index_code AND pf.edition = fl.edition
                                          AND pf.measure_code = fl.measure_code AND pf.city_key = pc.city_key
)
SELECT p.index_code,
       i.name                                            AS index_name,
       p.measure_code                                    AS measure,
       m.name                                            AS measure_name,
       m.level,
       p.edition,
       e.published_on,
       fc.name                                           AS city,
       p.rank                                            AS focus_rank,
       p.rank_tied                                       AS focus_rank_tied,
       p.score                                           AS focus_score,
       p.peer_position,
       coalesce(pc.name, p.peer_key)                     AS peer_city,
       p.peer_rank,
       p.peer_rank_tied,
       p.peer_score,
       p.peer_rank - p.rank                              AS focus_lead_ranks,
       CASE WHEN i.higher_is_better THEN p.score - p.peer_score ELSE p.peer_score - p.score END AS focus_lead_points,
       CASE WHEN p.rank IS NULL THEN NULL
            ELSE 1 + count(*) FILTER (WHERE p.peer_rank < p.rank) OVER g END AS focus_rank_among_peers,
       count(p.peer_rank) OVER g + (p.rank IS NOT NULL)::int AS peers_ranked
FROM paired p
JOIN warehouse.dim_index i   ON i.index_code = p.index_code
JOIN warehouse.dim_measure m ON m.index_code = p.index_code AND m.measure_code = p.measure_code
JOIN warehouse.dim_edition e ON e.index_code = p.index_code AND e.edition = p.edition
JOIN warehouse.dim_city fc   ON fc.city_key = p.city_key
LEFT JOIN warehouse.dim_city pc ON pc.city_key = p.peer_key
WINDOW g AS (PARTITION BY p.index_code, p.measure_code)
$view$, ARRAY['index_code', 'measure', 'peer_position']);

COMMENT ON MATERIALIZED VIEW mart.peer_comparison IS 'The focus city against each peer (CITYRANK_PEERS) per index and measure, in the focus city''s latest edition with a figure on that measure.';
COMMENT ON COLUMN mart.peer_comparison.index_code IS 'Index code.';
COMMENT ON COLUMN mart.peer_comparison.index_name IS 'Index name.';
COMMENT ON COLUMN mart.peer_comparison.measure IS 'Measure code: total for the overall result, else a sub-index or indicator.';
COMMENT ON COLUMN mart.peer_comparison.measure_name IS 'Measure name.';
COMMENT ON COLUMN mart.peer_comparison.level IS 'overall, sub_index or indicator.';
COMMENT ON COLUMN mart.peer_comparison.edition IS 'The focus city''s latest edition with a figure on this measure; peers are compared in the same edition.';
COMMENT ON COLUMN mart.peer_comparison.published_on IS 'Release date of that edition.';
COMMENT ON COLUMN mart.peer_comparison.city IS 'The focus city.';
COMMENT ON COLUMN mart.peer_comparison.focus_rank IS 'Focus city''s rank on this measure; NULL where not disclosed.';
COMMENT ON COLUMN mart.peer_comparison.focus_rank_tied IS 'True when the focus rank is a printed tie.';
COMMENT ON COLUMN mart.peer_comparison.focus_score IS 'Focus city''s score; NULL where none was printed.';
COMMENT ON COLUMN mart.peer_comparison.peer_position IS 'Position of the peer in CITYRANK_PEERS (1 = first).';
COMMENT ON COLUMN mart.peer_comparison.peer_city IS 'The peer city.';
COMMENT ON COLUMN mart.peer_comparison.peer_rank IS 'Peer''s rank in the same edition and measure; NULL when not published or not loaded.';
COMMENT ON COLUMN mart.peer_comparison.peer_rank_tied IS 'True when the peer''s rank is a printed tie.';
COMMENT ON COLUMN mart.peer_comparison.peer_score IS 'Peer''s score in the same edition and measure.';
COMMENT ON COLUMN mart.peer_comparison.focus_lead_ranks IS 'peer_rank - focus_rank: places the focus city is ahead of the peer (negative = behind).';
COMMENT ON COLUMN mart.peer_comparison.focus_lead_points IS 'Points the focus city is ahead of the peer (negative = behind), respecting whether higher is better.';
COMMENT ON COLUMN mart.peer_comparison.focus_rank_among_peers IS 'Focus city''s place among itself and the peers with a disclosed rank in this edition and measure.';
COMMENT ON COLUMN mart.peer_comparison.peers_ranked IS 'How many of the focus city and its peers have a disclosed rank here (the denominator of focus_rank_among_peers).';
