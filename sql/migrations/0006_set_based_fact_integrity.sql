-- Referential integrity of the fact table, checked once per statement instead of once per row.
--
-- Why: the four foreign keys of warehouse.fact_city_score (city, edition, measure, snapshot)
-- each ran a lookup per inserted row. Measured with bench's 1,000 cities x 500 measures edition
-- (500,000 rows through COPY): 28k rows/s with them, 111k rows/s without them, so three
-- quarters of every load was spent checking keys one row at a time. A GPCI backfill writes
-- ~3,700 facts an edition; bench's 10-million-fact warehouse took ~4 minutes to load.
--
-- What replaces them keeps the same guarantees, checked by the database, not by the loader:
-- - after each INSERT or UPDATE statement on the fact table, one set-based pass over the rows
--   it wrote (a transition table) looks up every distinct key it references, locks the
--   referenced dimension rows FOR KEY SHARE (as a foreign key does, so a concurrent delete of
--   one waits for this transaction and then sees its facts), and raises foreign_key_violation
--   (SQLSTATE 23503, what psycopg reports as ForeignKeyViolation) naming the first missing key;
-- - after each DELETE or UPDATE statement on a referenced table, one pass over the keys that
--   statement removed raises the same error when a fact still references one.
-- The statement fails, so its transaction rolls back whole: nothing is half-loaded.

ALTER TABLE warehouse.fact_city_score
    DROP CONSTRAINT fact_city_score_city_key_fkey,
    DROP CONSTRAINT fact_city_score_snapshot_id_fkey,
    DROP CONSTRAINT fact_city_score_index_code_edition_fkey,
    DROP CONSTRAINT fact_city_score_index_code_measure_code_fkey;

CREATE FUNCTION warehouse.fact_references_exist() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    missing text;
BEGIN
    -- Lock what the new rows reference, then look for what is not there.
    PERFORM 1 FROM warehouse.dim_city d
     WHERE d.city_key IN (SELECT city_key FROM new_facts) FOR KEY SHARE;
    PERFORM 1 FROM warehouse.dim_edition d
     WHERE (d.index_code, d.edition) IN (SELECT index_code, edition FROM new_facts) FOR KEY SHARE;
    PERFORM 1 FROM warehouse.dim_measure d
     WHERE (d.index_code, d.measure_code) IN (SELECT index_code, measure_code FROM new_facts) FOR KEY SHARE;
    PERFORM 1 FROM meta.snapshot d
     WHERE d.snapshot_id IN (SELECT snapshot_id FROM new_facts) FOR KEY SHARE;

    SELECT format('city_key=%s is not in warehouse.dim_city', n.city_key) INTO missing
      FROM (SELECT DISTINCT city_key FROM new_facts) n
     WHERE NOT EXISTS (SELECT 1 FROM warehouse.dim_city d WHERE d.city_key = n.city_key)
     LIMIT 1;
    IF missing IS NULL THEN
        SELECT format('(index_code, edition)=(%s, %s) is not in warehouse.dim_edition', n.index_code, n.edition)
          INTO missing
          FROM (SELECT DISTINCT index_code, edition FROM new_facts) n
         WHERE NOT EXISTS (SELECT 1 FROM warehouse.dim_edition d
                            WHERE d.index_code = n.index_code AND d.edition = n.edition)
         LIMIT 1;
    END IF;
    IF missing IS NULL THEN
        SELECT format('(index_code, measure_code)=(%s, %s) is not in warehouse.dim_measure', n.index_code,
                      n.measure_code)
          INTO missing
          FROM (SELECT DISTINCT index_code, measure_code FROM new_facts) n
         WHERE NOT EXISTS (SELECT 1 FROM warehouse.dim_measure d
                            WHERE d.index_code = n.index_code AND d.measure_code = n.measure_code)
         LIMIT 1;
    END IF;
    IF missing IS NULL THEN
        SELECT format('snapshot_id=%s is not in meta.snapshot', n.snapshot_id) INTO missing
          FROM (SELECT DISTINCT snapshot_id FROM new_facts) n
         WHERE NOT EXISTS (SELECT 1 FROM meta.snapshot d WHERE d.snapshot_id = n.snapshot_id)
         LIMIT 1;
    END IF;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'insert or update on table "fact_city_score" violates referential integrity: %', missing
            USING ERRCODE = 'foreign_key_violation', TABLE = 'fact_city_score', SCHEMA = 'warehouse';
    END IF;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION warehouse.fact_references_exist() IS
    'Statement-level foreign-key check of the fact table''s new rows against dim_city, dim_edition, dim_measure and meta.snapshot (migration 0006 says why).';

CREATE TRIGGER fact_city_score_references_on_insert
    AFTER INSERT ON warehouse.fact_city_score
    REFERENCING NEW TABLE AS new_facts
    FOR EACH STATEMENT EXECUTE FUNCTION warehouse.fact_references_exist();
CREATE TRIGGER fact_city_score_references_on_update
    AFTER UPDATE ON warehouse.fact_city_score
    REFERENCING NEW TABLE AS new_facts
    FOR EACH STATEMENT EXECUTE FUNCTION warehouse.fact_references_exist();

CREATE FUNCTION warehouse.fact_keeps_its_references() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    gone text;
BEGIN
    IF TG_TABLE_NAME = 'dim_city' THEN
        SELECT format('city_key=%s', o.city_key) INTO gone
          FROM (SELECT DISTINCT city_key FROM old_keys) o
         WHERE NOT EXISTS (SELECT 1 FROM warehouse.dim_city d WHERE d.city_key = o.city_key)
           AND EXISTS (SELECT 1 FROM warehouse.fact_city_score f WHERE f.city_key = o.city_key)
         LIMIT 1;
    ELSIF TG_TABLE_NAME = 'dim_edition' THEN
        SELECT format('(index_code, edition)=(%s, %s)', o.index_code, o.edition) INTO gone
          FROM (SELECT DISTINCT index_code, edition FROM old_keys) o
         WHERE NOT EXISTS (SELECT 1 FROM warehouse.dim_edition d
                            WHERE d.index_code = o.index_code AND d.edition = o.edition)
           AND EXISTS (SELECT 1 FROM warehouse.fact_city_score f
                        WHERE f.index_code = o.index_code AND f.edition = o.edition)
         LIMIT 1;
    ELSIF TG_TABLE_NAME = 'dim_measure' THEN
        SELECT format('(index_code, measure_code)=(%s, %s)', o.index_code, o.measure_code) INTO gone
          FROM (SELECT DISTINCT index_code, measure_code FROM old_keys) o
         WHERE NOT EXISTS (SELECT 1 FROM warehouse.dim_measure d
                            WHERE d.index_code = o.index_code AND d.measure_code = o.measure_code)
           AND EXISTS (SELECT 1 FROM warehouse.fact_city_score f
                        WHERE f.index_code = o.index_code AND f.measure_code = o.measure_code)
         LIMIT 1;
    ELSE  -- meta.snapshot
        SELECT format('snapshot_id=%s', o.snapshot_id) INTO gone
          FROM (SELECT DISTINCT snapshot_id FROM old_keys) o
         WHERE NOT EXISTS (SELECT 1 FROM meta.snapshot d WHERE d.snapshot_id = o.snapshot_id)
           AND EXISTS (SELECT 1 FROM warehouse.fact_city_score f WHERE f.snapshot_id = o.snapshot_id)
         LIMIT 1;
    END IF;
    IF gone IS NOT NULL THEN
        RAISE EXCEPTION 'update or delete on table "%" violates referential integrity: % is still referenced from table "fact_city_score"',
            TG_TABLE_NAME, gone
            USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA;
    END IF;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION warehouse.fact_keeps_its_references() IS
    'Statement-level check that a delete or key update on a table the facts reference leaves no fact without its row (migration 0006 says why).';

-- TRUNCATE fires no row or DELETE trigger; as with a foreign key, emptying a referenced table
-- while facts remain is refused (an AFTER trigger, so TRUNCATE of both tables together passes).
CREATE FUNCTION warehouse.fact_refuses_truncated_references() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM warehouse.fact_city_score) THEN
        RAISE EXCEPTION 'cannot truncate table "%" while table "fact_city_score" references it', TG_TABLE_NAME
            USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA;
    END IF;
    RETURN NULL;
END;
$$;

-- The referenced side, the same three triggers on each of the four tables the facts point at.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM (VALUES ('warehouse', 'dim_city'), ('warehouse', 'dim_edition'),
                                   ('warehouse', 'dim_measure'), ('meta', 'snapshot')) AS referenced (schema_name, table_name)
    LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I.%I REFERENCING OLD TABLE AS old_keys FOR EACH STATEMENT '
                       'EXECUTE FUNCTION warehouse.fact_keeps_its_references()',
                       t.table_name || '_referenced_on_delete', t.schema_name, t.table_name);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I.%I REFERENCING OLD TABLE AS old_keys FOR EACH STATEMENT '
                       'EXECUTE FUNCTION warehouse.fact_keeps_its_references()',
                       t.table_name || '_referenced_on_update', t.schema_name, t.table_name);
        EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I.%I FOR EACH STATEMENT '
                       'EXECUTE FUNCTION warehouse.fact_refuses_truncated_references()',
                       t.table_name || '_referenced_on_truncate', t.schema_name, t.table_name);
    END LOOP;
END;
$$;
