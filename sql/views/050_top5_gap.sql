-- The city's target in one row per index: how far the focus city is from 5th place in its
-- latest edition, and how long closing that gap takes at the recent pace.
--
-- 5th place is held by the city whose disclosed rank r satisfies r <= 5 <= r + ties - 1, so a
-- tie at 4th that spans 4th and 5th counts. The gap is in points when both the focus city's
-- and the 5th city's scores were published, otherwise in ranks (GSER publishes ranks only).
-- The pace compares the latest gap with the gap two of the city's earlier editions back (or
-- one, when only one exists), per step of edition_seq: a year for year-labelled indices, an
-- issue for GFCI. Points are used for the pace when both ends have a points gap, else ranks.
-- Materialised: the mart asset refreshes it (concurrently) after loads and focus changes.
SELECT meta.define_matview('top5_gap', $view$
WITH editions AS (
    SELECT index_code, edition, edition_seq, published_on, city_count,
           first_value(edition) OVER (PARTITION BY index_code ORDER BY edition_seq DESC) AS latest_index_edition
    FROM warehouse.dim_edition
), places AS (
    SELECT f.index_code, f.edition, f.city_key, f.rank, f.score,
           count(*) OVER (PARTITION BY f.index_code, f.edition, f.rank) AS tie_size
    FROM warehouse.fact_city_score f
    WHERE f.measure_code = 'total' AND f.rank IS NOT NULL
), fifth AS (
    SELECT p.index_code, p.edition,
           string_agg(c.name, ' / ' ORDER BY c.name) AS fifth_city,
           max(p.score) AS fifth_score
    FROM places p
    JOIN warehouse.dim_city c ON c.city_key = p.city_key
    WHERE p.rank <= 5 AND p.rank + p.tie_size - 1 >= 5
    GROUP BY p.index_code, p.edition
), history AS (
    SELECT f.index_code, f.edition, e.edition_seq, e.published_on, e.city_count, e.latest_index_edition,
           f.city_key, f.rank, f.rank_tied, f.score, f.confidence, x.fifth_city, x.fifth_score,
           f.rank - 5 AS gap_ranks,
           CASE WHEN i.higher_is_better THEN x.fifth_score - f.score ELSE f.score - x.fifth_score END AS gap_points,
           row_number() OVER (PARTITION BY f.index_code ORDER BY e.edition_seq DESC) AS recency
    FROM warehouse.fact_city_score f
    JOIN meta.focus_city fc      ON fc.city_key = f.city_key
    JOIN editions e              ON e.index_code = f.index_code AND e.edition = f.edition
    JOIN warehouse.dim_index i   ON i.index_code = f.index_code
    LEFT JOIN fifth x            ON x.index_code = f.index_code AND x.edition = f.edition
    WHERE f.measure_code = 'total'
), paced AS (
    SELECT h.*,
           pp.edition AS points_since, pp.gap_points - h.gap_points AS points_closed, h.edition_seq - pp.edition_seq AS points_span,
           pr.edition AS ranks_since,  pr.gap_ranks - h.gap_ranks   AS ranks_closed,  h.edition_seq - pr.edition_seq AS ranks_span
    FROM history h
    LEFT JOIN LATERAL (
        SELECT o.edition, o.edition_seq, o.gap_points
        FROM (SELECT p.edition, p.edition_seq, p.gap_points FROM history p
              WHERE p.index_code = h.index_code AND p.recency > 1 AND p.gap_points IS NOT NULL
              ORDER BY p.edition_seq DESC LIMIT 2) o
        ORDER BY o.edition_seq LIMIT 1) pp ON h.gap_points IS NOT NULL
    LEFT JOIN LATERAL (
        SELECT o.edition, o.edition_seq, o.gap_ranks
        FROM (SELECT p.edition, p.edition_seq, p.gap_ranks FROM history p
              WHERE p.index_code = h.index_code AND p.recency > 1 AND p.gap_ranks IS NOT NULL
              ORDER BY p.edition_seq DESC LIMIT 2) o
        ORDER BY o.edition_seq LIMIT 1) pr ON h.gap_ranks IS NOT NULL
    WHERE h.recency = 1
), chosen AS (
    SELECT p.*,
           CASE WHEN p.gap_points IS NOT NULL THEN 'points' WHEN p.gap_ranks IS NOT NULL THEN 'ranks' END AS gap_basis,
           CASE WHEN p.points_since IS NOT NULL THEN 'points' WHEN p.ranks_since IS NOT NULL THEN 'ranks' END AS trend_basis,
           CASE WHEN p.points_since IS NOT NULL THEN p.gap_points   ELSE p.gap_ranks   END AS trend_gap,
           CASE WHEN p.points_since IS NOT NULL THEN p.points_since ELSE p.ranks_since END AS pace_since,
           CASE WHEN p.points_since IS NOT NULL THEN p.points_closed ELSE p.ranks_closed END AS closed,
           CASE WHEN p.points_since IS NOT NULL THEN p.points_span  ELSE p.ranks_span  END AS span,
           coalesce(p.rank <= 5, p.gap_points <= 0) AS in_top5
    FROM paced p
), judged AS (
    SELECT c.*,
           CASE WHEN c.in_top5 THEN 0
                WHEN c.closed > 0 THEN greatest(1, ceil(c.trend_gap::numeric * c.span / c.closed))::int
           END AS editions_to_close
    FROM chosen c
)
SELECT j.index_code,
       i.name                                            AS index_name,
       i.owner_department,
       c.name                                            AS city,
       j.edition,
       j.published_on,
       j.latest_index_edition,
       j.edition = j.latest_index_edition                AS is_latest_edition,
       j.rank,
       j.rank_tied,
       j.score,
       j.city_count,
       j.fifth_city,
       j.fifth_score,
       j.gap_basis,
       j.gap_ranks,
       j.gap_points,
       round(100 * j.gap_points / nullif(j.fifth_score, 0), 2) AS gap_percent,
       j.trend_basis,
       j.pace_since                                      AS pace_since_edition,
       round(j.closed::numeric / nullif(j.span, 0), 2)   AS pace_per_edition,
       j.editions_to_close,
       CASE WHEN j.gap_basis IS NULL THEN 'rank not disclosed'
            WHEN j.in_top5 THEN 'in top 5'
            WHEN j.trend_basis IS NULL THEN 'no earlier edition'
            WHEN j.closed > 0 THEN j.editions_to_close || CASE WHEN j.editions_to_close = 1 THEN ' edition' ELSE ' editions' END || ' to close'
            WHEN j.closed = 0 THEN 'stalled'
            ELSE 'widening'
       END                                               AS trend,
       j.confidence
FROM judged j
JOIN warehouse.dim_index i ON i.index_code = j.index_code
JOIN warehouse.dim_city c  ON c.city_key = j.city_key
$view$, ARRAY['index_code']);

COMMENT ON MATERIALIZED VIEW mart.top5_gap IS 'Per index: the focus city''s latest rank and score, the 5th-ranked city''s score in that edition, the gap to the top 5 and the editions needed to close it at the recent pace.';
COMMENT ON COLUMN mart.top5_gap.index_code IS 'Index code.';
COMMENT ON COLUMN mart.top5_gap.index_name IS 'Index name.';
COMMENT ON COLUMN mart.top5_gap.owner_department IS 'City department that owns the index (assets/<code>.yaml).';
COMMENT ON COLUMN mart.top5_gap.city IS 'The focus city (CITYRANK_FOCUS_CITY).';
COMMENT ON COLUMN mart.top5_gap.edition IS 'The focus city''s latest edition in this index.';
COMMENT ON COLUMN mart.top5_gap.published_on IS 'Release date of that edition.';
COMMENT ON COLUMN mart.top5_gap.latest_index_edition IS 'The index''s latest loaded edition (differs from edition when the focus city is missing from newer ones).';
COMMENT ON COLUMN mart.top5_gap.is_latest_edition IS 'True when edition is the index''s latest loaded edition.';
COMMENT ON COLUMN mart.top5_gap.rank IS 'Focus city''s overall rank; NULL where not disclosed.';
COMMENT ON COLUMN mart.top5_gap.rank_tied IS 'True when the rank is a printed tie.';
COMMENT ON COLUMN mart.top5_gap.score IS 'Focus city''s overall score; NULL where none was printed.';
COMMENT ON COLUMN mart.top5_gap.city_count IS 'Cities ranked in the edition.';
COMMENT ON COLUMN mart.top5_gap.fifth_city IS 'City holding 5th place in the same edition (tied cities joined with " / "); NULL when not loaded.';
COMMENT ON COLUMN mart.top5_gap.fifth_score IS 'Score of the 5th-place city; NULL where not published.';
COMMENT ON COLUMN mart.top5_gap.gap_basis IS 'points when both scores are known, ranks otherwise (rank-only indices such as GSER); NULL when the rank is not disclosed.';
COMMENT ON COLUMN mart.top5_gap.gap_ranks IS 'Places to climb to reach 5th (rank - 5); zero or negative = in the top 5.';
COMMENT ON COLUMN mart.top5_gap.gap_points IS 'Points behind the 5th-place city, in the index''s scale (negative = ahead).';
COMMENT ON COLUMN mart.top5_gap.gap_percent IS 'gap_points as a percentage of the 5th-place city''s score.';
COMMENT ON COLUMN mart.top5_gap.trend_basis IS 'points or ranks: the gap the pace is measured on (points only when both ends of the window have a points gap).';
COMMENT ON COLUMN mart.top5_gap.pace_since_edition IS 'Start of the pace window: two of the focus city''s earlier editions back (one when only one exists).';
COMMENT ON COLUMN mart.top5_gap.pace_per_edition IS 'Gap closed per edition step since pace_since_edition (negative = widening); a step is one edition_seq unit (a year, or a GFCI issue).';
COMMENT ON COLUMN mart.top5_gap.editions_to_close IS 'Edition steps until the gap closes at pace_per_edition (0 = already in the top 5; NULL when not closing).';
COMMENT ON COLUMN mart.top5_gap.trend IS '"N editions to close", "in top 5", "stalled", "widening", "no earlier edition" or "rank not disclosed".';
COMMENT ON COLUMN mart.top5_gap.confidence IS 'Confidence of the focus city''s figure: reported, derived, disputed or low.';
