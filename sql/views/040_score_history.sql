-- Every edition's rank and score per city, index and measure, with the change since the
-- city's previous figure for the same measure. A plain view: it is a window over the fact
-- table that BI tools filter by city and index, so there is nothing worth storing twice.
CREATE OR REPLACE VIEW mart.score_history AS
SELECT f.index_code,
       i.name                                   AS index_name,
       f.edition,
       e.edition_seq,
       e.published_on,
       f.city_key,
       c.name                                   AS city,
       c.country,
       f.measure_code                           AS measure,
       m.name                                   AS measure_name,
       m.level,
       f.rank,
       f.rank_tied,
       f.score,
       e.city_count,
       f.confidence,
       lag(f.edition) OVER w                    AS previous_edition,
       lag(f.rank) OVER w                       AS previous_rank,
       lag(f.score) OVER w                      AS previous_score,
       lag(f.rank) OVER w - f.rank              AS rank_change,
       f.score - lag(f.score) OVER w            AS score_change,
       coalesce(g.role = 'focus', false)        AS is_focus_city,
       coalesce(g.role = 'peer', false)         AS is_peer
FROM warehouse.fact_city_score f
JOIN warehouse.dim_index i   ON i.index_code = f.index_code
JOIN warehouse.dim_edition e ON e.index_code = f.index_code AND e.edition = f.edition
JOIN warehouse.dim_city c    ON c.city_key = f.city_key
JOIN warehouse.dim_measure m ON m.index_code = f.index_code AND m.measure_code = f.measure_code
LEFT JOIN mart.peer_group g  ON g.city_key = f.city_key
WINDOW w AS (PARTITION BY f.index_code, f.city_key, f.measure_code ORDER BY e.edition_seq);

COMMENT ON VIEW mart.score_history IS 'Every edition''s rank and score per city, index and measure, with the change since the city''s previous figure for that measure.';
COMMENT ON COLUMN mart.score_history.index_code IS 'Index code: GCI, GCO, GPCI, QOL, EIU, GSER, GFCI, CIMI, GDCI.';
COMMENT ON COLUMN mart.score_history.index_name IS 'Index name as its publisher writes it.';
COMMENT ON COLUMN mart.score_history.edition IS 'Edition label as the publisher names it ("2025", "GFCI 38").';
COMMENT ON COLUMN mart.score_history.edition_seq IS 'Orders editions within an index (higher = newer).';
COMMENT ON COLUMN mart.score_history.published_on IS 'Release date of the edition.';
COMMENT ON COLUMN mart.score_history.city_key IS 'City key (warehouse.dim_city).';
COMMENT ON COLUMN mart.score_history.city IS 'Canonical English city name.';
COMMENT ON COLUMN mart.score_history.country IS 'Country of the city.';
COMMENT ON COLUMN mart.score_history.measure IS 'Measure code: total for the overall result, else a sub-index or indicator.';
COMMENT ON COLUMN mart.score_history.measure_name IS 'Measure name as the publisher writes it.';
COMMENT ON COLUMN mart.score_history.level IS 'overall, sub_index or indicator.';
COMMENT ON COLUMN mart.score_history.rank IS 'Rank on this measure (1 = best); NULL where not disclosed.';
COMMENT ON COLUMN mart.score_history.rank_tied IS 'True when the publisher printed a tie at this rank.';
COMMENT ON COLUMN mart.score_history.score IS 'Score in the measure''s own scale; NULL where none was printed.';
COMMENT ON COLUMN mart.score_history.city_count IS 'Cities ranked in the whole edition, as the publisher states.';
COMMENT ON COLUMN mart.score_history.confidence IS 'reported, derived, disputed or low.';
COMMENT ON COLUMN mart.score_history.previous_edition IS 'The city''s previous edition with a figure for this measure (editions it is missing from are skipped).';
COMMENT ON COLUMN mart.score_history.previous_rank IS 'Rank in previous_edition.';
COMMENT ON COLUMN mart.score_history.previous_score IS 'Score in previous_edition.';
COMMENT ON COLUMN mart.score_history.rank_change IS 'Places gained since previous_edition (positive = moved up).';
COMMENT ON COLUMN mart.score_history.score_change IS 'Score difference since previous_edition.';
COMMENT ON COLUMN mart.score_history.is_focus_city IS 'True for the configured focus city (mart.peer_group).';
COMMENT ON COLUMN mart.score_history.is_peer IS 'True for a member of the focus city''s peer set.';
