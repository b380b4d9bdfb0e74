-- Where the focus city does worse than it does overall: per index and per level of the
-- hierarchy (sub-index, indicator), the latest edition in which the focus city has ranked
-- figures at that level, each measure ranked below the city's overall rank in that same
-- edition. Comparing with the city's own overall rank (not with 5th place) finds what drags
-- the total down; the gap to the 5th-ranked city's score on the measure says how far the
-- city is from a top-5 performance on it. Levels are taken separately because they come from
-- different files: GPCI indicators from Mori's data file of one edition, function ranks from
-- the press for a later one; each row says whether its edition is the index's newest.
-- Ordering puts what the city can influence first, then the widest gap weighed by the age of
-- its edition, so a department reads its work list from the top and a six-year-old figure no
-- longer outranks this year's: the gap counts in full while the edition is at most a year old
-- (age_years 0 or 1) and half as much for every two years after (weight 0.5^((age-1)/2)).
-- Age is whole years from the edition's release to the day of the last refresh.
SELECT meta.define_matview('weak_indicators', $view$
WITH measured AS (
    SELECT DISTINCT ON (f.index_code, d.level) f.index_code, d.level, f.edition, f.city_key
    FROM warehouse.fact_city_score f
    JOIN meta.focus_city fc      ON fc.city_key = f.city_key
    JOIN warehouse.dim_edition e ON e.index_code = f.index_code AND e.edition = f.edition
    JOIN warehouse.dim_measure d ON d.index_code = f.index_code AND d.measure_code = f.measure_code
    WHERE d.level IN ('sub_index', 'indicator') AND f.rank IS NOT NULL
    ORDER BY f.index_code, d.level, e.edition_seq DESC
), weak AS (
    SELECT m.index_code, m.edition, m.city_key, m.measure_code, m.rank AS measure_rank, m.rank_tied,
           m.rank_computed, m.score, o.rank AS overall_rank, m.rank - o.rank AS rank_gap, m.confidence
    FROM measured l
    JOIN warehouse.dim_measure dm     ON dm.index_code = l.index_code AND dm.level = l.level
    JOIN warehouse.fact_city_score m ON m.index_code = l.index_code AND m.edition = l.edition
                                    AND m.city_key = l.city_key AND m.measure_code = dm.measure_code
    JOIN warehouse.fact_city_score o ON o.index_code = l.index_code AND o.edition = l.edition
                                    AND o.city_key = l.city_key AND o.measure_code = 'total'
    WHERE m.rank > o.rank
), fifth AS (
    -- The 5th-best score among the edition's cities on each weak measure.
    SELECT w.index_code, w.edition, w.measure_code,
           (SELECT f.score FROM warehouse.fact_city_score f
            WHERE f.index_code = w.index_code AND f.edition = w.edition AND f.measure_code = w.measure_code
              AND f.score IS NOT NULL
            ORDER BY CASE WHEN i.higher_is_better THEN f.score ELSE -f.score END DESC
            OFFSET 4 LIMIT 1) AS fifth_score
    FROM weak w JOIN warehouse.dim_index i ON i.index_code = w.index_code
), aged AS (
    SELECT e.index_code, e.edition, extract(year FROM age(current_date, e.published_on))::int AS age_years
    FROM warehouse.dim_edition e
), weighted AS (
    SELECT index_code, edition, age_years,
           round(power(0.5, greatest(coalesce(age_years, 0) - 1, 0) / 2.0)::numeric, 4) AS age_weight
    FROM aged
)
SELECT row_number() OVER (ORDER BY d.city_can_influence DESC, w.rank_gap * a.age_weight DESC, w.rank_gap DESC,
                                   w.index_code, w.measure_code)::int AS priority,
       w.index_code,
       i.name                                    AS index_name,
       w.edition,
       e.published_on,
       w.edition = (SELECT x.edition FROM warehouse.dim_edition x WHERE x.index_code = w.index_code
                    ORDER BY x.edition_seq DESC LIMIT 1) AS is_latest_edition,
       c.name                                    AS city,
       w.measure_code                            AS measure,
       d.name                                    AS measure_name,
       d.level,
       CASE WHEN d.level = 'indicator' THEN g.name END AS indicator_group,
       CASE WHEN d.level = 'indicator' THEN coalesce(gp.name, g.name) ELSE d.name END AS sub_index,
       w.measure_rank,
       w.rank_tied,
       w.rank_computed,
       w.overall_rank,
       w.rank_gap,
       e.city_count,
       w.score,
       ff.fifth_score,
       CASE WHEN ff.fifth_score IS NOT NULL AND w.score IS NOT NULL
            THEN CASE WHEN i.higher_is_better THEN ff.fifth_score - w.score ELSE w.score - ff.fifth_score END
       END                                       AS gap_to_fifth,
       d.department,
       d.city_can_influence,
       d.definition,
       w.confidence,
       a.age_years,
       a.age_weight,
       round(w.rank_gap * a.age_weight, 2)       AS weighted_gap
FROM weak w
JOIN weighted a ON a.index_code = w.index_code AND a.edition = w.edition
JOIN warehouse.dim_index i   ON i.index_code = w.index_code
JOIN warehouse.dim_edition e ON e.index_code = w.index_code AND e.edition = w.edition
JOIN warehouse.dim_city c    ON c.city_key = w.city_key
JOIN warehouse.dim_measure d ON d.index_code = w.index_code AND d.measure_code = w.measure_code
LEFT JOIN warehouse.dim_measure g  ON g.index_code = d.index_code AND g.measure_code = d.parent_code
LEFT JOIN warehouse.dim_measure gp ON gp.index_code = g.index_code AND gp.measure_code = g.parent_code
                                  AND g.level = 'indicator_group'
JOIN fifth ff ON ff.index_code = w.index_code AND ff.edition = w.edition AND ff.measure_code = w.measure_code
$view$, ARRAY['index_code', 'measure']);

COMMENT ON MATERIALIZED VIEW mart.weak_indicators IS 'The focus city''s sub-indices and indicators ranked worse than its overall rank in the same edition, with the gap to the 5th-best score, owner department and influence flag; ORDER BY priority for the action list.';
COMMENT ON COLUMN mart.weak_indicators.priority IS 'Action order: measures the city can influence first, then the widest gap to the overall rank weighed by the edition''s age (weighted_gap).';
COMMENT ON COLUMN mart.weak_indicators.index_code IS 'Index code.';
COMMENT ON COLUMN mart.weak_indicators.index_name IS 'Index name.';
COMMENT ON COLUMN mart.weak_indicators.edition IS 'Latest edition in which the focus city has ranked figures at this measure''s level (sub-index or indicator) in this index.';
COMMENT ON COLUMN mart.weak_indicators.published_on IS 'Release date of that edition.';
COMMENT ON COLUMN mart.weak_indicators.is_latest_edition IS 'False when newer editions exist without sub-measure ranks for the focus city (the figures are older than the overall result).';
COMMENT ON COLUMN mart.weak_indicators.city IS 'The focus city.';
COMMENT ON COLUMN mart.weak_indicators.measure IS 'Measure code (sub-index or indicator).';
COMMENT ON COLUMN mart.weak_indicators.measure_name IS 'Measure name as the publisher writes it.';
COMMENT ON COLUMN mart.weak_indicators.level IS 'sub_index or indicator.';
COMMENT ON COLUMN mart.weak_indicators.indicator_group IS 'For an indicator: the publisher''s indicator group it belongs to (GPCI "Market Size"); NULL for a sub-index.';
COMMENT ON COLUMN mart.weak_indicators.sub_index IS 'The sub-index (GPCI function) the measure belongs to, or the measure itself when it is a sub-index.';
COMMENT ON COLUMN mart.weak_indicators.rank_computed IS 'True when the rank was computed by cityrank among the edition''s cities (publisher files that print scores only).';
COMMENT ON COLUMN mart.weak_indicators.score IS 'The focus city''s score on the measure (NULL where the publisher gives ranks only).';
COMMENT ON COLUMN mart.weak_indicators.fifth_score IS 'The 5th-best score among the edition''s cities on this measure.';
COMMENT ON COLUMN mart.weak_indicators.gap_to_fifth IS 'Points the focus city is behind the 5th-best score on this measure (negative: ahead of it).';
COMMENT ON COLUMN mart.weak_indicators.measure_rank IS 'The focus city''s rank on this measure.';
COMMENT ON COLUMN mart.weak_indicators.rank_tied IS 'True when the measure rank is a printed tie.';
COMMENT ON COLUMN mart.weak_indicators.overall_rank IS 'The focus city''s overall rank in the same edition.';
COMMENT ON COLUMN mart.weak_indicators.rank_gap IS 'measure_rank - overall_rank: places this measure lags the city''s overall standing (always > 0 here).';
COMMENT ON COLUMN mart.weak_indicators.city_count IS 'Cities ranked in the edition.';
COMMENT ON COLUMN mart.weak_indicators.department IS 'City department that owns the measure (catalog: measure department, else the index owner).';
COMMENT ON COLUMN mart.weak_indicators.city_can_influence IS 'Whether city policy can move this measure (catalog influence flag).';
COMMENT ON COLUMN mart.weak_indicators.definition IS 'What the measure covers, from the catalog.';
COMMENT ON COLUMN mart.weak_indicators.confidence IS 'Confidence of the measure figure: reported, derived, disputed or low.';
COMMENT ON COLUMN mart.weak_indicators.age_years IS 'Whole years from the edition''s release (published_on) to the last refresh of this view; NULL when the release date is unknown.';
COMMENT ON COLUMN mart.weak_indicators.age_weight IS 'Weight of the gap in the priority: 1 while the edition is at most a year old, halved for every two years after (0.5^((age_years-1)/2)); 1 when the age is unknown.';
COMMENT ON COLUMN mart.weak_indicators.weighted_gap IS 'rank_gap * age_weight: the gap as the priority orders it.';
