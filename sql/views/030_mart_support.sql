-- Support for the analysis views (040-080): the focus city's peer group as a view, the next
-- release month of an index, and a helper that (re)defines a materialised view only when its
-- query changed.
--
-- View files are re-applied on every upgrade and every mart refresh. A materialised view has
-- no CREATE OR REPLACE, and dropping and re-creating it each time would recompute it, churn
-- the catalogue and drop its grants for no reason; meta.define_matview compares the stored
-- definition with the new one (both deparsed by the server) and rebuilds only on a change.

CREATE OR REPLACE FUNCTION meta.define_matview(view_name text, query text, unique_columns text[])
RETURNS boolean
LANGUAGE plpgsql
AS $fn$
DECLARE
    candidate text := 'cityrank_candidate_' || view_name;
    old_kind "char";
    old_definition text;
    new_definition text;
BEGIN
    EXECUTE format('CREATE TEMPORARY VIEW %I AS %s', candidate, query);
    new_definition := pg_get_viewdef(format('pg_temp.%I', candidate)::regclass);
    EXECUTE format('DROP VIEW pg_temp.%I', candidate);

    SELECT c.relkind, pg_get_viewdef(c.oid) INTO old_kind, old_definition
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'mart' AND c.relname = view_name;

    IF old_kind = 'm' AND old_definition = new_definition THEN
        RETURN false;
    END IF;
    -- CASCADE: dependent views live in later view files, which re-create them in this transaction.
    IF old_kind = 'v' THEN
        EXECUTE format('DROP VIEW mart.%I CASCADE', view_name);
    ELSIF old_kind = 'm' THEN
        EXECUTE format('DROP MATERIALIZED VIEW mart.%I CASCADE', view_name);
    END IF;
    EXECUTE format('CREATE MATERIALIZED VIEW mart.%I AS %s', view_name, query);
    -- The unique index is what lets the mart asset refresh CONCURRENTLY (readers never blocked).
    EXECUTE format('CREATE UNIQUE INDEX %I ON mart.%I (%s)', view_name || '_key', view_name,
                   (SELECT string_agg(quote_ident(col), ', ') FROM unnest(unique_columns) AS col));
    RETURN true;
END
$fn$;
REVOKE EXECUTE ON FUNCTION meta.define_matview(text, text, text[]) FROM PUBLIC;
COMMENT ON FUNCTION meta.define_matview(text, text, text[]) IS
    'Create mart.<view_name> as a materialised view with a unique index, rebuilding it only when its query changed. Used by sql/views.';

CREATE OR REPLACE FUNCTION mart.next_release_month(release_months smallint[], not_before date)
RETURNS date
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
AS $fn$
    SELECT min(make_date(y, m, 1))
    FROM unnest(release_months) AS m,
         generate_series(extract(year FROM not_before)::int, extract(year FROM not_before)::int + 1) AS y
    WHERE make_date(y, m, 1) >= date_trunc('month', not_before)::date
$fn$;
COMMENT ON FUNCTION mart.next_release_month(smallint[], date) IS
    'First day of the first release month (from dim_index.release_months) on or after not_before''s month; NULL when the index has no release months.';

CREATE OR REPLACE VIEW mart.peer_group AS
SELECT fc.city_key, c.name AS city, 'focus'::text AS role, 0 AS position
FROM meta.focus_city fc
LEFT JOIN warehouse.dim_city c ON c.city_key = fc.city_key
UNION ALL
SELECT p.city_key, c.name, 'peer'::text, p.position
FROM meta.peer_city p
LEFT JOIN warehouse.dim_city c ON c.city_key = p.city_key;

COMMENT ON VIEW mart.peer_group IS 'The configured focus city (CITYRANK_FOCUS_CITY) and its peers (CITYRANK_PEERS) that the analysis views report on.';
COMMENT ON COLUMN mart.peer_group.city_key IS 'City key (warehouse.dim_city.city_key).';
COMMENT ON COLUMN mart.peer_group.city IS 'Canonical English city name; NULL until a load has filled the city dimension.';
COMMENT ON COLUMN mart.peer_group.role IS 'focus for the focus city, peer for a member of the peer set.';
COMMENT ON COLUMN mart.peer_group.position IS '0 for the focus city; 1.. for peers in the configured order.';
