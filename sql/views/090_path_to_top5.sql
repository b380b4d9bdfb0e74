-- The path to the top 5: the smallest total gain, in indicator points, that lifts a city's
-- total above the city now at a target rank, others held fixed.
--
-- It is exact, not a heuristic, because the index is additive (catalog `additive_indicators`,
-- checked by the GPCI suite): total = sum over sub-indices of the sum over indicator groups of
-- the mean of the group's indicators. Raising indicator i by g moves the total by g / n_i,
-- n_i being the number of indicators in i's group. Minimising the sum of gains subject to
-- (sum of g_i / n_i) > deficit with 0 <= g_i <= headroom_i is a fractional knapsack: taking
-- the indicators with the largest weight 1/n_i first, each up to its headroom, is optimal
-- (any plan that spends a point on a lighter indicator while a heavier one has headroom can
-- move that point and get more total for the same spend). Ties in weight cost the same
-- whichever goes first; measure code breaks them so the answer is stable.
-- Limits: only indicators the city can influence (catalog flag), none raised above the best
-- score any city reaches on it in that edition. "Above" means by at least 0.01 points, the
-- precision totals are published to; the last, partial gain is rounded up to 0.01.

CREATE OR REPLACE FUNCTION mart.path_standing(p_target_rank integer, p_city_key text DEFAULT NULL,
                                              p_index_code text DEFAULT NULL)
RETURNS TABLE (index_code text, edition text, city_key text, current_rank integer, current_total numeric,
               target_rank integer, target_city_key text, target_total numeric, needed numeric)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH who AS (
        SELECT coalesce(p_city_key, (SELECT fc.city_key FROM meta.focus_city fc)) AS city_key
    ), latest AS (
        -- Per additive index, the newest edition with the city's indicator scores.
        SELECT DISTINCT ON (f.index_code) f.index_code, f.edition, f.city_key
        FROM warehouse.fact_city_score f
        JOIN who ON who.city_key = f.city_key
        JOIN warehouse.dim_measure d ON d.index_code = f.index_code AND d.measure_code = f.measure_code
                                    AND d.level = 'indicator'
        JOIN warehouse.dim_measure g ON g.index_code = d.index_code AND g.measure_code = d.parent_code
                                    AND g.level = 'indicator_group'
        JOIN warehouse.dim_edition e ON e.index_code = f.index_code AND e.edition = f.edition
        WHERE f.score IS NOT NULL AND (p_index_code IS NULL OR f.index_code = p_index_code)
        ORDER BY f.index_code, e.edition_seq DESC
    )
    SELECT l.index_code, l.edition, l.city_key, t.rank, t.score, p_target_rank, tc.city_key, tc.score,
           CASE WHEN t.rank > p_target_rank THEN tc.score - t.score + 0.01 END
    FROM latest l
    JOIN warehouse.fact_city_score t ON t.index_code = l.index_code AND t.edition = l.edition
                                    AND t.city_key = l.city_key AND t.measure_code = 'total'
    LEFT JOIN LATERAL (
        SELECT x.city_key, x.score FROM warehouse.fact_city_score x
        WHERE x.index_code = l.index_code AND x.edition = l.edition AND x.measure_code = 'total'
          AND x.rank = p_target_rank
        ORDER BY x.score DESC, x.city_key LIMIT 1
    ) tc ON true
$$;
COMMENT ON FUNCTION mart.path_standing(integer, text, text) IS
    'Per additive index: the newest edition with the city''s indicator scores, its total and rank, the city at the target rank and the points needed to pass it (NULL when already at or above the target).';

CREATE OR REPLACE FUNCTION mart.path_to_target(p_target_rank integer, p_city_key text DEFAULT NULL,
                                               p_index_code text DEFAULT NULL)
RETURNS TABLE (index_code text, edition text, city_key text, target_rank integer, step integer,
               measure_code text, measure_name text, indicator_group text, sub_index text, department text,
               current_score numeric, target_score numeric, best_score numeric, gain numeric,
               weight numeric, effect_on_total numeric, needed numeric, feasible boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH standing AS (
        SELECT * FROM mart.path_standing(p_target_rank, p_city_key, p_index_code) WHERE needed IS NOT NULL
    ), indicators AS (
        SELECT s.index_code, s.edition, s.city_key, s.needed, f.measure_code, d.name AS measure_name,
               g.name AS indicator_group, fn.name AS sub_index, d.department, d.city_can_influence,
               f.score,
               -- The weight counts every indicator of the group, influenceable or not.
               1.0 / count(*) OVER (PARTITION BY s.index_code, d.parent_code) AS weight,
               (SELECT max(y.score) FROM warehouse.fact_city_score y
                WHERE y.index_code = f.index_code AND y.edition = f.edition
                  AND y.measure_code = f.measure_code) AS best_score
        FROM standing s
        JOIN warehouse.fact_city_score f ON f.index_code = s.index_code AND f.edition = s.edition
                                        AND f.city_key = s.city_key
        JOIN warehouse.dim_measure d  ON d.index_code = f.index_code AND d.measure_code = f.measure_code
                                     AND d.level = 'indicator'
        JOIN warehouse.dim_measure g  ON g.index_code = d.index_code AND g.measure_code = d.parent_code
        JOIN warehouse.dim_measure fn ON fn.index_code = g.index_code AND fn.measure_code = g.parent_code
        WHERE f.score IS NOT NULL
    ), candidates AS (
        SELECT i.*, i.best_score - i.score AS headroom, i.weight * (i.best_score - i.score) AS capacity,
               row_number() OVER (PARTITION BY i.index_code ORDER BY i.weight DESC, i.measure_code)::int AS step
        FROM indicators i
        WHERE i.city_can_influence AND i.best_score > i.score
    ), running AS (
        SELECT c.*, sum(c.capacity) OVER (PARTITION BY c.index_code ORDER BY c.step) AS reached,
               sum(c.capacity) OVER (PARTITION BY c.index_code) AS reachable
        FROM candidates c
    ), planned AS (
        SELECT r.*,
               CASE WHEN r.reached <= r.needed THEN r.headroom
                    ELSE least(r.headroom, ceil((r.needed - (r.reached - r.capacity)) / r.weight * 100) / 100)
               END AS gain
        FROM running r
        WHERE r.reached - r.capacity < r.needed
    )
    SELECT p.index_code, p.edition, p.city_key, p_target_rank, p.step, p.measure_code, p.measure_name,
           p.indicator_group, p.sub_index, p.department, p.score, p.score + p.gain, p.best_score, p.gain,
           p.weight, p.weight * p.gain, p.needed, p.reachable >= p.needed
    FROM planned p
    ORDER BY p.index_code, p.step
$$;
COMMENT ON FUNCTION mart.path_to_target(integer, text, text) IS
    'For each additive index: the smallest set of indicator gains (largest effect per point first, each up to the best score any city has) that lifts the city (default: the focus city) above the city at p_target_rank. feasible = false: even every influenceable indicator at its limit is not enough; the rows then show that maximum.';

CREATE OR REPLACE VIEW mart.path_to_top5 AS
SELECT p.index_code, p.edition, c.name AS city, p.target_rank, p.step, p.measure_code, p.measure_name,
       p.indicator_group, p.sub_index, p.department, p.current_score, p.target_score, p.best_score, p.gain,
       p.effect_on_total, p.feasible
FROM mart.path_to_target(5) p
JOIN warehouse.dim_city c ON c.city_key = p.city_key;

COMMENT ON VIEW mart.path_to_top5 IS 'The focus city''s cheapest path into the top 5 of each additive index (GPCI): which indicators to raise, by how many points, and what each adds to the total. Exact for the publisher''s model; see sql/views/090_path_to_top5.sql.';
COMMENT ON COLUMN mart.path_to_top5.index_code IS 'Index code (indices whose catalog marks them additive at indicator level).';
COMMENT ON COLUMN mart.path_to_top5.edition IS 'Newest edition with the focus city''s indicator scores.';
COMMENT ON COLUMN mart.path_to_top5.city IS 'The focus city.';
COMMENT ON COLUMN mart.path_to_top5.target_rank IS 'The rank to reach (5).';
COMMENT ON COLUMN mart.path_to_top5.step IS 'Order of the step: largest effect on the total per indicator point first.';
COMMENT ON COLUMN mart.path_to_top5.measure_code IS 'Indicator code (warehouse.dim_measure).';
COMMENT ON COLUMN mart.path_to_top5.measure_name IS 'Indicator name as the catalog writes it.';
COMMENT ON COLUMN mart.path_to_top5.indicator_group IS 'The publisher''s indicator group.';
COMMENT ON COLUMN mart.path_to_top5.sub_index IS 'The sub-index (GPCI function) the indicator counts towards.';
COMMENT ON COLUMN mart.path_to_top5.department IS 'City department that owns the indicator.';
COMMENT ON COLUMN mart.path_to_top5.current_score IS 'The city''s indicator score now (0-100).';
COMMENT ON COLUMN mart.path_to_top5.target_score IS 'The score the plan asks for: current_score + gain.';
COMMENT ON COLUMN mart.path_to_top5.best_score IS 'The best score any city reaches on this indicator in the edition: the plan never asks for more.';
COMMENT ON COLUMN mart.path_to_top5.gain IS 'Indicator points to gain.';
COMMENT ON COLUMN mart.path_to_top5.effect_on_total IS 'What the gain adds to the total score (gain / indicators in the group).';
COMMENT ON COLUMN mart.path_to_top5.feasible IS 'False when even every influenceable indicator at its limit does not pass the target city; the rows then show that maximum.';

CREATE OR REPLACE VIEW mart.path_to_top5_summary AS
SELECT s.index_code, s.edition, c.name AS city, s.current_rank, s.current_total, s.target_rank,
       tc.name AS target_city, s.target_total, s.needed,
       coalesce(sum(p.gain), 0)             AS total_gain,
       coalesce(sum(p.effect_on_total), 0)  AS total_effect,
       count(p.measure_code)::int           AS indicators,
       CASE WHEN s.needed IS NULL THEN 'already at or above the target'
            WHEN bool_and(p.feasible) THEN 'plan'
            ELSE 'no plan within the limits' END AS outcome
FROM mart.path_standing(5) s
JOIN warehouse.dim_city c ON c.city_key = s.city_key
LEFT JOIN warehouse.dim_city tc ON tc.city_key = s.target_city_key
LEFT JOIN mart.path_to_target(5) p ON p.index_code = s.index_code
GROUP BY s.index_code, s.edition, c.name, s.current_rank, s.current_total, s.target_rank, tc.name, s.target_total, s.needed;

COMMENT ON VIEW mart.path_to_top5_summary IS 'One line per additive index: where the focus city stands, the city at 5th, the points needed and what the cheapest plan costs in total.';
COMMENT ON COLUMN mart.path_to_top5_summary.index_code IS 'Index code.';
COMMENT ON COLUMN mart.path_to_top5_summary.edition IS 'Newest edition with the focus city''s indicator scores.';
COMMENT ON COLUMN mart.path_to_top5_summary.city IS 'The focus city.';
COMMENT ON COLUMN mart.path_to_top5_summary.current_rank IS 'The focus city''s overall rank in that edition.';
COMMENT ON COLUMN mart.path_to_top5_summary.current_total IS 'The focus city''s total score.';
COMMENT ON COLUMN mart.path_to_top5_summary.target_rank IS 'The rank to reach (5).';
COMMENT ON COLUMN mart.path_to_top5_summary.target_city IS 'The city now at the target rank.';
COMMENT ON COLUMN mart.path_to_top5_summary.target_total IS 'Its total score, held fixed.';
COMMENT ON COLUMN mart.path_to_top5_summary.needed IS 'Total points to gain to pass it (deficit + 0.01); NULL when already at or above the target.';
COMMENT ON COLUMN mart.path_to_top5_summary.total_gain IS 'Sum of indicator points the plan asks for.';
COMMENT ON COLUMN mart.path_to_top5_summary.total_effect IS 'What the plan adds to the total (at least needed when outcome = plan).';
COMMENT ON COLUMN mart.path_to_top5_summary.indicators IS 'Indicators the plan raises.';
COMMENT ON COLUMN mart.path_to_top5_summary.outcome IS 'plan, no plan within the limits, or already at or above the target.';
