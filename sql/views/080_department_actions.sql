-- One row per city department: the indices it owns, the weak measures it owns (from
-- mart.weak_indicators, in action order) and when the next edition that ranks its work is
-- due. A plain view, because the release window depends on today's date; materialising it
-- would freeze "next" at the last refresh.
--
-- The next window of an index is its first release month (dim_index.release_months) that is
-- not before this month and after the month of its latest loaded edition (an edition already
-- out this month is not "next"). Discontinued indices have none.
CREATE OR REPLACE VIEW mart.department_actions AS
WITH departments AS (
    SELECT owner_department AS department, index_code FROM warehouse.dim_index
    UNION
    SELECT department, index_code FROM warehouse.dim_measure
), windows AS (
    SELECT i.index_code,
           mart.next_release_month(
               i.release_months,
               greatest(date_trunc('month', current_date)::date,
                        (date_trunc('month', max(e.published_on)) + interval '1 month')::date)) AS next_release
    FROM warehouse.dim_index i
    LEFT JOIN warehouse.dim_edition e ON e.index_code = i.index_code
    WHERE i.status <> 'discontinued'
    GROUP BY i.index_code, i.release_months
), calendar AS (
    SELECT d.department,
           min(w.next_release) AS next_release,
           string_agg(d.index_code || ' ' || to_char(w.next_release, 'YYYY-MM'), '; '
                      ORDER BY w.next_release, d.index_code) AS release_calendar
    FROM departments d
    JOIN windows w ON w.index_code = d.index_code AND w.next_release IS NOT NULL
    GROUP BY d.department
), weak AS (
    SELECT department,
           count(*)                                      AS weak_measure_count,
           count(*) FILTER (WHERE city_can_influence)    AS influenceable_count,
           min(priority)                                 AS first_priority,
           string_agg(index_code || ' ' || measure_name || ' ' || measure_rank || ' (overall ' || overall_rank || ', '
                      || edition || CASE WHEN age_years >= 2 THEN ', ' || age_years || ' years old' ELSE '' END || ')'
                      || CASE WHEN city_can_influence THEN '' ELSE ' [outside city control]' END,
                      '; ' ORDER BY priority)             AS weak_measures,
           max(age_years)                                AS oldest_figure_years
    FROM mart.weak_indicators
    GROUP BY department
)
SELECT d.department,
       (SELECT string_agg(i.index_code, ', ' ORDER BY i.index_code) FROM warehouse.dim_index i
        WHERE i.owner_department = d.department)                       AS indices,
       string_agg(d.index_code, ', ' ORDER BY d.index_code)            AS indices_measuring,
       coalesce(k.weak_measure_count, 0)                               AS weak_measure_count,
       coalesce(k.influenceable_count, 0)                              AS influenceable_count,
       k.weak_measures,
       k.first_priority,
       c.next_release,
       (SELECT string_agg(x.index_code, ', ' ORDER BY x.index_code)
        FROM departments x JOIN windows w ON w.index_code = x.index_code
        WHERE x.department = d.department AND w.next_release = c.next_release) AS next_release_indices,
       c.release_calendar,
       k.oldest_figure_years
FROM departments d
LEFT JOIN weak k     ON k.department = d.department
LEFT JOIN calendar c ON c.department = d.department
GROUP BY d.department, k.weak_measure_count, k.influenceable_count, k.weak_measures, k.first_priority,
         c.next_release, c.release_calendar, k.oldest_figure_years;

COMMENT ON VIEW mart.department_actions IS 'Per city department: the indices it owns or is measured in, its weak measures in action order, and the next release window. ORDER BY first_priority NULLS LAST for the action list.';
COMMENT ON COLUMN mart.department_actions.department IS 'City department (index owner or measure owner in assets/<code>.yaml).';
COMMENT ON COLUMN mart.department_actions.indices IS 'Indices the department owns (dim_index.owner_department), comma-separated; NULL when none.';
COMMENT ON COLUMN mart.department_actions.indices_measuring IS 'Indices that rank something the department owns: its own indices plus those with a measure assigned to it.';
COMMENT ON COLUMN mart.department_actions.weak_measure_count IS 'Weak measures (mart.weak_indicators) owned by the department.';
COMMENT ON COLUMN mart.department_actions.influenceable_count IS 'How many of those the city can influence.';
COMMENT ON COLUMN mart.department_actions.weak_measures IS 'The weak measures in action order (priority, which weighs each figure''s age): "INDEX measure rank (overall rank, edition[, N years old])", the age shown from two years on.';
COMMENT ON COLUMN mart.department_actions.first_priority IS 'Best (lowest) mart.weak_indicators.priority among the department''s measures; NULL when none is weak.';
COMMENT ON COLUMN mart.department_actions.next_release IS 'First day of the month of the next expected release among indices_measuring (from dim_index.release_months).';
COMMENT ON COLUMN mart.department_actions.next_release_indices IS 'Indices expected in the next_release month.';
COMMENT ON COLUMN mart.department_actions.release_calendar IS 'Every index in indices_measuring with its next release month (YYYY-MM), soonest first.';
COMMENT ON COLUMN mart.department_actions.oldest_figure_years IS 'Age in whole years of the oldest edition among the department''s weak measures (mart.weak_indicators.age_years); NULL when none is weak.';
