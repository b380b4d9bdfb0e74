-- A log of writing statements, so "has anything the mart reads changed?" is one small read.
--
-- Why: the main job skips the mart refresh when nothing it reads changed (runner.mart_fingerprint).
-- It used to tell by count(*) and max(xmin) over every warehouse and meta table: a full scan
-- of the fact table on every warm run, ~1 s at 10 million facts. Now every INSERT, UPDATE,
-- DELETE statement that wrote rows on those tables, and every TRUNCATE, appends one row here
-- from statement-level triggers, and the fingerprint reads count(*) and max(change_id).
--
-- Why both figures: change_id comes from a sequence, which hands out numbers outside
-- transactions, so a statement that commits after a later one is invisible to max(change_id)
-- alone; its commit still raises count(*). Only committed rows are seen, so a fingerprint
-- never includes a change that later rolls back. Rows are appended, never updated, so
-- concurrent loads never wait on each other here.
--
-- Every table created in the warehouse and meta schemas after this migration needs the same
-- triggers: tests/test_change_log.py fails for a table without them.

CREATE TABLE meta.change_log (
    change_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_name  text NOT NULL,
    operation   text NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE meta.change_log IS 'One row per writing statement on a warehouse or meta table; what the mart fingerprint reads. Pruned by the mart refresh.';

CREATE FUNCTION meta.log_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- A statement that touched no row (an upsert that found everything as it was, a delete
    -- that matched nothing) is not a change: re-running an unchanged edition must leave the
    -- warehouse byte for byte as it was, this log included. Each test reads only the
    -- transition table its own trigger declares.
    IF TG_OP = 'DELETE' THEN
        IF NOT EXISTS (SELECT 1 FROM old_rows) THEN
            RETURN NULL;
        END IF;
    ELSIF TG_OP IN ('INSERT', 'UPDATE') THEN
        IF NOT EXISTS (SELECT 1 FROM new_rows) THEN
            RETURN NULL;
        END IF;
    END IF;
    INSERT INTO meta.change_log (table_name, operation) VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP);
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION meta.log_change() IS 'Appends one meta.change_log row per statement that wrote rows (or truncated) on a warehouse or meta table (migration 0007 says why).';

-- Four triggers per table: a trigger with transition tables may serve one event only.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT schemaname, tablename FROM pg_tables
             WHERE schemaname IN ('warehouse', 'meta') AND tablename <> 'change_log'
             ORDER BY 1, 2
    LOOP
        EXECUTE format('CREATE TRIGGER log_change_insert AFTER INSERT ON %I.%I REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION meta.log_change()', t.schemaname, t.tablename);
        EXECUTE format('CREATE TRIGGER log_change_update AFTER UPDATE ON %I.%I REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION meta.log_change()', t.schemaname, t.tablename);
        EXECUTE format('CREATE TRIGGER log_change_delete AFTER DELETE ON %I.%I REFERENCING OLD TABLE AS old_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION meta.log_change()', t.schemaname, t.tablename);
        EXECUTE format('CREATE TRIGGER log_change_truncate AFTER TRUNCATE ON %I.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION meta.log_change()', t.schemaname, t.tablename);
    END LOOP;
END;
$$;
