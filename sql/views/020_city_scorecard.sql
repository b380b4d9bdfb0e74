-- Per city and index: the latest edition the city appears in (overall measure), and the
-- change since the city's previous edition in that index. Change in rank is positive when
-- the city moved up (e.g. 12th -> 10th = +2).
--
-- Shape: every (city, index) pair drives a LATERAL lookup of that city's overall rows in that
-- index, through the partial index of overall rows (migration 0005). A filter on the city (or
-- index) therefore reaches the dimension scan, and a one-city scorecard reads that city's rows
-- only. The earlier shape (one window over every city's overall rows, then the filter) read
-- them all: 111 ms for one city at 10 million facts in bench/scale.py, against a 50 ms goal.
CREATE OR REPLACE VIEW mart.city_scorecard AS
WITH peer_group AS (  -- the focus city and its peers (meta, written from CITYRANK_FOCUS_CITY / CITYRANK_PEERS)
    SELECT city_key FROM meta.focus_city UNION SELECT city_key FROM meta.peer_city
)
SELECT i.index_code,
       i.name                         AS index_name,
       i.owner_department,
       c.name                         AS city,
       c.name_ko                      AS city_ko,
       o.edition                      AS latest_edition,
       o.published_on,
       o.rank,
       o.rank_tied,
       o.score,
       o.city_count,
       o.previous_edition,
       o.previous_rank,
       o.previous_score,
       o.previous_rank - o.rank       AS rank_change,
       o.score - o.previous_score     AS score_change,
       o.confidence,
       o.note,
       pr.peer_group_rank,
       pr.peer_group_size
FROM warehouse.dim_city c
CROSS JOIN warehouse.dim_index i
JOIN LATERAL (
    -- The window runs over this city's editions in this index only; LIMIT keeps the newest.
    SELECT f.edition, e.published_on, e.city_count, f.score, f.rank, f.rank_tied, f.confidence, f.note,
           lead(f.edition) OVER w AS previous_edition,
           lead(f.rank)    OVER w AS previous_rank,
           lead(f.score)   OVER w AS previous_score
    FROM warehouse.fact_city_score f
    JOIN warehouse.dim_edition e ON e.index_code = f.index_code AND e.edition = f.edition
    WHERE f.index_code = i.index_code AND f.city_key = c.city_key AND f.measure_code = 'total'
    WINDOW w AS (ORDER BY e.edition_seq DESC)
    ORDER BY e.edition_seq DESC
    LIMIT 1
) o ON true
LEFT JOIN LATERAL (
    SELECT 1 + count(*) FILTER (WHERE f.rank < o.rank) AS peer_group_rank, count(*) AS peer_group_size
    FROM warehouse.fact_city_score f JOIN peer_group g ON g.city_key = f.city_key
    WHERE f.index_code = i.index_code AND f.edition = o.edition AND f.measure_code = 'total' AND f.rank IS NOT NULL
) pr ON o.rank IS NOT NULL AND c.city_key IN (SELECT city_key FROM peer_group);

COMMENT ON VIEW mart.city_scorecard IS 'Per city and index: latest edition, rank and score, and the change since the city''s previous edition.';
COMMENT ON COLUMN mart.city_scorecard.rank_change IS 'Places gained since the previous edition (positive = moved up); NULL when either rank is unknown.';
COMMENT ON COLUMN mart.city_scorecard.score_change IS 'Score difference since the previous edition, in the index''s own scale.';
COMMENT ON COLUMN mart.city_scorecard.rank IS 'Overall rank in the latest edition; NULL when the publisher did not disclose it (see note).';
COMMENT ON COLUMN mart.city_scorecard.peer_group_rank IS 'For the focus city and its peers: place among them (those with a disclosed rank in the same edition); NULL for other cities.';
COMMENT ON COLUMN mart.city_scorecard.peer_group_size IS 'How many of the focus city and its peers have a disclosed rank in that edition.';
COMMENT ON COLUMN mart.city_scorecard.index_code IS 'Index code.';
COMMENT ON COLUMN mart.city_scorecard.index_name IS 'Index name as the publisher writes it.';
COMMENT ON COLUMN mart.city_scorecard.owner_department IS 'City department that owns the index (catalog owner_department).';
COMMENT ON COLUMN mart.city_scorecard.city IS 'Canonical English city name.';
COMMENT ON COLUMN mart.city_scorecard.city_ko IS 'Korean city name.';
COMMENT ON COLUMN mart.city_scorecard.latest_edition IS 'Newest edition with an overall figure for the city (may be older than the index''s newest edition).';
COMMENT ON COLUMN mart.city_scorecard.published_on IS 'Release date of latest_edition.';
COMMENT ON COLUMN mart.city_scorecard.rank_tied IS 'True when the rank is a printed tie.';
COMMENT ON COLUMN mart.city_scorecard.score IS 'Overall score in the latest edition; NULL where the publisher gives ranks only (rank_only indices such as GSER) or printed none.';
COMMENT ON COLUMN mart.city_scorecard.city_count IS 'Cities ranked in latest_edition.';
COMMENT ON COLUMN mart.city_scorecard.previous_edition IS 'The city''s previous edition with an overall figure in this index; NULL for the first.';
COMMENT ON COLUMN mart.city_scorecard.previous_rank IS 'Overall rank in previous_edition.';
COMMENT ON COLUMN mart.city_scorecard.previous_score IS 'Overall score in previous_edition.';
COMMENT ON COLUMN mart.city_scorecard.confidence IS 'Confidence of the latest figure: reported, derived, disputed or low.';
COMMENT ON COLUMN mart.city_scorecard.note IS 'Remark on the latest figure (e.g. why the rank is not disclosed).';
