-- Release calendars, written from the catalog (assets/<code>.yaml `calendar:`) by
-- cityrank_pipeline.orchestration.freshness.sync_release_calendar, idempotently: a run that
-- finds the catalog unchanged writes nothing. The windows are grouped from the release
-- months in Python (cityrank_pipeline.calendar.month_runs) so that the grouping rule lives
-- in one place; the views in sql/views/040_release_calendar.sql turn them into dates.

CREATE TABLE meta.release_calendar (
    index_code      text PRIMARY KEY REFERENCES warehouse.dim_index (index_code),
    grace_months    smallint NOT NULL CHECK (grace_months BETWEEN 0 AND 12),
    every_n_years   smallint NOT NULL DEFAULT 1 CHECK (every_n_years >= 1),
    lead_months     smallint NOT NULL CHECK (lead_months BETWEEN 0 AND 11)
);
COMMENT ON TABLE meta.release_calendar IS 'Per index: how late an edition may be (grace_months after its window) and how early it still counts (lead_months before).';

CREATE TABLE meta.release_window (
    index_code      text NOT NULL REFERENCES meta.release_calendar (index_code) ON DELETE CASCADE,
    start_month     smallint NOT NULL CHECK (start_month BETWEEN 1 AND 12),
    end_month       smallint NOT NULL CHECK (end_month BETWEEN 1 AND 12),
    PRIMARY KEY (index_code, start_month)
);
COMMENT ON TABLE meta.release_window IS 'One row per yearly release window (a run of consecutive release months); end_month < start_month crosses the new year.';
