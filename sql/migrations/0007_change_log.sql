-- A log of writing statements, so "has anything the mart reads changed?" is one small read.
--
-- Why: the main job skips the mart refresh when nothing it reads changed (runner.mart_fingerprint).
-- It used to tell by count(*) and max(xmin) over every warehouse and meta table: a full scan
-- of the fact table on every warm run, ~1 s at 10 million facts. Now every INSERT, UPDATE,
-- DELETE or TRUNCATE statement on those tables appends one row here, from a statement-level
-- trigger, and the fingerprint reads count(*) and max(change_id) of this table.
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
    INSERT INTO meta.change_log (table_name, operation) VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP);
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION meta.log_change() IS 'Appends one meta.change_log row per writing statement (migration 0007 says why).';

DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT schemaname, tablename FROM pg_tables
             WHERE schemaname IN ('warehouse', 'meta') AND tablename <> 'change_log'
             ORDER BY 1, 2
    LOOP
        EXECUTE format('CREATE TRIGGER log_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION meta.log_change()', t.schemaname, t.tablename);
    END LOOP;
END;
$$;
