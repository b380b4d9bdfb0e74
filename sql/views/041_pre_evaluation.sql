-- Pre-evaluation list: for every release window still ahead (not closed, not yet covered by
-- an edition), the index, every measure it evaluates and the department that owns it, so a
-- department can refresh the figures the city publishes before the evaluator collects them.
-- Same window rules as mart.release_calendar (sql/views/040_release_calendar.sql) and
-- cityrank_pipeline.calendar.upcoming_windows.

CREATE OR REPLACE FUNCTION mart.pre_evaluation_at(p_as_of date, p_months integer)
RETURNS TABLE (window_start date, window_end date, days_until_window integer, index_code text, index_name text,
               index_status text, measure_code text, measure_name text, measure_level text, department text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT w.window_start, w.window_end, greatest(w.window_start - p_as_of, 0),
           i.index_code, i.name, i.status, m.measure_code, m.name, m.level, m.department
    FROM meta.release_calendar c
    JOIN warehouse.dim_index i ON i.index_code = c.index_code
    LEFT JOIN mart.release_last_edition l ON l.index_code = c.index_code
    CROSS JOIN LATERAL (
        SELECT extract(year FROM p_as_of)::int AS today_year,
               coalesce(extract(year FROM l.last_seen_on)::int, extract(year FROM p_as_of)::int) AS seen_year,
               (date_trunc('month', p_as_of) + make_interval(months => p_months + 1) - interval '1 day')::date AS horizon
    ) y
    CROSS JOIN LATERAL mart.release_windows(
        c.index_code, least(y.today_year, y.seen_year) - 1,
        greatest(greatest(y.today_year, y.seen_year) + c.every_n_years + 1, extract(year FROM y.horizon)::int),
        y.seen_year) w
    JOIN warehouse.dim_measure m ON m.index_code = c.index_code
    WHERE i.status <> 'discontinued'
      AND w.window_end >= p_as_of
      AND w.window_start <= y.horizon
      AND (l.last_seen_on IS NULL OR w.counts_from > l.last_seen_on)
    ORDER BY w.window_start, i.index_code,
             CASE m.level WHEN 'overall' THEN 0 WHEN 'sub_index' THEN 1 ELSE 2 END, m.measure_code
$$;

CREATE OR REPLACE VIEW mart.pre_evaluation AS
SELECT * FROM mart.pre_evaluation_at(current_date, 12);

COMMENT ON VIEW mart.pre_evaluation IS 'Release windows in the next 12 months not yet covered by an edition: each index''s measures and owner departments, to refresh the city''s published data before evaluators collect it.';
COMMENT ON COLUMN mart.pre_evaluation.department IS 'Department that owns the measure (the index''s owner department unless the catalog names another).';
COMMENT ON COLUMN mart.pre_evaluation.window_start IS 'First day of the release window still ahead.';
COMMENT ON COLUMN mart.pre_evaluation.window_end IS 'Last day of that release window.';
COMMENT ON COLUMN mart.pre_evaluation.days_until_window IS 'Days from today to window_start (0 when the window is open).';
COMMENT ON COLUMN mart.pre_evaluation.index_code IS 'Index code.';
COMMENT ON COLUMN mart.pre_evaluation.index_name IS 'Index name.';
COMMENT ON COLUMN mart.pre_evaluation.index_status IS 'active or irregular (discontinued indices are left out).';
COMMENT ON COLUMN mart.pre_evaluation.measure_code IS 'A measure the index evaluates.';
COMMENT ON COLUMN mart.pre_evaluation.measure_name IS 'Measure name as the publisher writes it.';
COMMENT ON COLUMN mart.pre_evaluation.measure_level IS 'overall, sub_index, indicator_group or indicator.';
