-- The flat view BI tools start from: one row per published figure, every dimension joined.
CREATE OR REPLACE VIEW mart.city_scores AS
SELECT f.index_code,
       i.name            AS index_name,
       f.edition,
       e.edition_seq,
       e.published_on,
       c.name            AS city,
       c.name_ko         AS city_ko,
       c.country,
       f.measure_code    AS measure,
       m.name            AS measure_name,
       m.level,
       m.parent_code     AS parent_measure,
       f.score,
       f.rank,
       f.rank_tied,
       e.city_count,
       f.confidence,
       f.note,
       f.printed_name,
       coalesce(f.source_url, s.source_url) AS source_url,
       f.page,
       f.snapshot_id
FROM warehouse.fact_city_score f
JOIN warehouse.dim_index i   ON i.index_code = f.index_code
JOIN warehouse.dim_edition e ON e.index_code = f.index_code AND e.edition = f.edition
JOIN warehouse.dim_city c    ON c.city_key = f.city_key
JOIN warehouse.dim_measure m ON m.index_code = f.index_code AND m.measure_code = f.measure_code
JOIN meta.snapshot s         ON s.snapshot_id = f.snapshot_id;

COMMENT ON VIEW mart.city_scores IS 'Every published figure with its index, edition, city and measure; the starting point for BI.';
COMMENT ON COLUMN mart.city_scores.index_code IS 'Index code: GCI, GCO, GPCI, QOL, EIU, GSER, GFCI, CIMI, GDCI.';
COMMENT ON COLUMN mart.city_scores.edition IS 'Edition label as the publisher names it ("2025", "GFCI 38").';
COMMENT ON COLUMN mart.city_scores.edition_seq IS 'Orders editions within an index (higher = newer).';
COMMENT ON COLUMN mart.city_scores.published_on IS 'Release date (precision in warehouse.dim_edition.published_precision).';
COMMENT ON COLUMN mart.city_scores.city IS 'Canonical English city name (assets/cities.yaml).';
COMMENT ON COLUMN mart.city_scores.measure IS 'Measure code: total for the overall result, else a sub-index or indicator.';
COMMENT ON COLUMN mart.city_scores.level IS 'overall, sub_index or indicator.';
COMMENT ON COLUMN mart.city_scores.score IS 'Score in the index''s own scale; NULL where the publisher printed none.';
COMMENT ON COLUMN mart.city_scores.rank IS 'Rank (1 = best); NULL where not disclosed.';
COMMENT ON COLUMN mart.city_scores.rank_tied IS 'True when the publisher printed a tie at this rank.';
COMMENT ON COLUMN mart.city_scores.confidence IS 'reported, derived, disputed (sources disagree; see note) or low.';
COMMENT ON COLUMN mart.city_scores.printed_name IS 'The city name exactly as the publication printed it.';
COMMENT ON COLUMN mart.city_scores.snapshot_id IS 'sha256 of the raw file the figure was read from (meta.snapshot).';
COMMENT ON COLUMN mart.city_scores.index_name IS 'Index name as the publisher writes it (warehouse.dim_index.name).';
COMMENT ON COLUMN mart.city_scores.city_ko IS 'Korean city name (assets/cities.yaml name_ko).';
COMMENT ON COLUMN mart.city_scores.country IS 'Country of the city (assets/cities.yaml).';
COMMENT ON COLUMN mart.city_scores.measure_name IS 'Measure name as the publisher writes it (catalog).';
COMMENT ON COLUMN mart.city_scores.parent_measure IS 'Code of the measure this one sits under (a sub-index or indicator group); NULL for total.';
COMMENT ON COLUMN mart.city_scores.city_count IS 'Cities the edition ranks overall (catalog or publication); NULL when unknown.';
COMMENT ON COLUMN mart.city_scores.note IS 'Remark on the figure (curated figures: where it comes from, what the publisher leaves out).';
COMMENT ON COLUMN mart.city_scores.source_url IS 'Where the figure was read: the figure''s own URL, else the URL its raw file was fetched from.';
COMMENT ON COLUMN mart.city_scores.page IS 'Page of the publication the figure was printed on; NULL for non-paged sources.';
