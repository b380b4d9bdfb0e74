-- Release calendar: each index's latest edition, the window its next edition is expected in,
-- and whether it is on time, due or overdue. The rules are documented in
-- cityrank_pipeline/calendar.py, which implements them again in Python; tests evaluate both
-- at the same dates and require the same answers. Functions take the date as a parameter so
-- any day can be asked about; the views use current_date.

-- The latest edition in the warehouse per index and the day it was seen: its published date,
-- or, when the publisher gave none, the day its file was first fetched.
CREATE OR REPLACE VIEW mart.release_last_edition AS
SELECT DISTINCT ON (e.index_code)
       e.index_code,
       e.edition      AS last_edition,
       e.published_on AS last_published_on,
       coalesce(e.published_on,
                (SELECT min(s.fetched_at AT TIME ZONE 'UTC')::date
                 FROM warehouse.fact_city_score f
                 JOIN meta.snapshot s ON s.snapshot_id = f.snapshot_id
                 WHERE f.index_code = e.index_code AND f.edition = e.edition)) AS last_seen_on
FROM warehouse.dim_edition e
ORDER BY e.index_code, e.edition_seq DESC;

COMMENT ON VIEW mart.release_last_edition IS 'Latest edition per index and the day it was seen (published date, else first fetch).';

-- An index's windows opening in p_first_year..p_last_year. With every_n_years > 1 only years
-- a multiple of n away from p_anchor_year have windows. counts_from: an edition seen on or
-- after this day covers the window; lead_months early, but never before the previous window
-- has closed.
CREATE OR REPLACE FUNCTION mart.release_windows(p_index_code text, p_first_year integer, p_last_year integer,
                                                p_anchor_year integer)
RETURNS TABLE (window_start date, window_end date, grace_end date, counts_from date)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH laid AS (
        SELECT make_date(y, w.start_month, 1) AS window_start,
               (make_date(y + (w.end_month < w.start_month)::int, w.end_month, 1)
                    + interval '1 month' - interval '1 day')::date AS window_end,
               (make_date(y + (w.end_month < w.start_month)::int, w.end_month, 1)
                    + make_interval(months => c.grace_months + 1) - interval '1 day')::date AS grace_end,
               (make_date(y, w.start_month, 1) - make_interval(months => c.lead_months))::date AS lead_from
        FROM meta.release_calendar c
        JOIN meta.release_window w ON w.index_code = c.index_code
        CROSS JOIN generate_series(p_first_year, p_last_year) AS y
        WHERE c.index_code = p_index_code
          AND (y - p_anchor_year) % c.every_n_years = 0
    )
    SELECT window_start, window_end, grace_end,
           greatest(lead_from, coalesce(lag(window_end) OVER (ORDER BY window_start) + 1, lead_from)) AS counts_from
    FROM laid
    ORDER BY window_start
$$;

CREATE OR REPLACE FUNCTION mart.release_calendar_at(p_as_of date)
RETURNS TABLE (index_code text, index_name text, index_status text, owner_department text,
               last_edition text, last_published_on date, last_seen_on date,
               window_start date, window_end date, grace_end date, status text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT i.index_code, i.name, i.status, i.owner_department,
           l.last_edition, l.last_published_on, l.last_seen_on,
           w.window_start, w.window_end, w.grace_end,
           CASE WHEN i.status = 'discontinued' THEN 'discontinued'
                WHEN i.status = 'irregular' THEN 'irregular'
                WHEN w.window_start IS NULL OR p_as_of < w.window_start THEN 'on_time'
                WHEN p_as_of <= w.grace_end THEN 'due'
                ELSE 'overdue' END
    FROM meta.release_calendar c
    JOIN warehouse.dim_index i ON i.index_code = c.index_code
    LEFT JOIN mart.release_last_edition l ON l.index_code = c.index_code
    CROSS JOIN LATERAL (
        SELECT extract(year FROM p_as_of)::int AS today_year,
               coalesce(extract(year FROM l.last_seen_on)::int, extract(year FROM p_as_of)::int) AS seen_year
    ) y
    LEFT JOIN LATERAL (
        -- The awaited window: the first one the latest edition does not cover; without any
        -- edition, the latest window already opened (or the first, if none has).
        SELECT ws.*
        FROM mart.release_windows(c.index_code, least(y.today_year, y.seen_year) - 1,
                                  greatest(y.today_year, y.seen_year) + c.every_n_years + 1, y.seen_year) ws
        WHERE i.status <> 'discontinued'
          AND (l.last_seen_on IS NULL OR ws.counts_from > l.last_seen_on)
        ORDER BY CASE WHEN l.last_seen_on IS NULL AND ws.window_start <= p_as_of THEN 0 ELSE 1 END,
                 CASE WHEN l.last_seen_on IS NULL AND ws.window_start <= p_as_of THEN ws.window_start END DESC,
                 ws.window_start
        LIMIT 1
    ) w ON true
    ORDER BY i.index_code
$$;

CREATE OR REPLACE VIEW mart.release_calendar AS
SELECT * FROM mart.release_calendar_at(current_date);

COMMENT ON VIEW mart.release_calendar IS 'Per index, today: latest edition, the window the next one is expected in, and on_time / due / overdue / irregular / discontinued.';
COMMENT ON COLUMN mart.release_calendar.last_seen_on IS 'Published date of the latest edition, or the day its file was first fetched when the publisher gave none.';
COMMENT ON COLUMN mart.release_calendar.window_start IS 'First day of the window the next edition is expected in (NULL for discontinued indices).';
COMMENT ON COLUMN mart.release_calendar.grace_end IS 'Last day before an edition missing from the window counts as overdue.';
COMMENT ON COLUMN mart.release_calendar.status IS 'on_time (window not open yet), due (window or grace period open, no edition yet), overdue (past the grace period), irregular (no promised calendar), discontinued.';
COMMENT ON COLUMN mart.release_last_edition.index_code IS 'Index code.';
COMMENT ON COLUMN mart.release_last_edition.last_edition IS 'Newest edition in the warehouse (highest edition_seq).';
COMMENT ON COLUMN mart.release_last_edition.last_published_on IS 'Its release date; NULL when the publisher gave none.';
COMMENT ON COLUMN mart.release_last_edition.last_seen_on IS 'last_published_on, else the day its file was first fetched (UTC).';
COMMENT ON COLUMN mart.release_calendar.index_code IS 'Index code.';
COMMENT ON COLUMN mart.release_calendar.index_name IS 'Index name.';
COMMENT ON COLUMN mart.release_calendar.index_status IS 'active, irregular or discontinued (catalog status).';
COMMENT ON COLUMN mart.release_calendar.owner_department IS 'City department that owns the index.';
COMMENT ON COLUMN mart.release_calendar.last_edition IS 'Newest edition in the warehouse; NULL when none is loaded.';
COMMENT ON COLUMN mart.release_calendar.last_published_on IS 'Release date of last_edition; NULL when unknown.';
COMMENT ON COLUMN mart.release_calendar.window_end IS 'Last day of the window the next edition is expected in (NULL for discontinued indices).';
