-- cityrank warehouse: a star schema of published city-ranking figures.
--
-- Keys are natural (index code, edition label, city key, measure code) rather than serials so
-- that re-loading an edition reproduces the warehouse exactly: no sequence ever advances.

CREATE SCHEMA IF NOT EXISTS warehouse;
CREATE SCHEMA IF NOT EXISTS mart;

COMMENT ON SCHEMA warehouse IS 'cityrank star schema: dimensions and the city score fact.';
COMMENT ON SCHEMA meta IS 'cityrank provenance (raw snapshots) and schema migration history.';
COMMENT ON SCHEMA mart IS 'Read-only views for BI tools and analysts.';

CREATE TABLE warehouse.dim_index (
    index_code          text PRIMARY KEY CHECK (index_code ~ '^[A-Z]{2,8}$'),
    name                text NOT NULL,
    name_ko             text NOT NULL,
    publisher           text NOT NULL,
    owner_department    text NOT NULL,
    score_min           numeric,
    score_max           numeric,
    score_unit          text NOT NULL,
    higher_is_better    boolean NOT NULL,
    cadence             text NOT NULL,
    release_months      smallint[] NOT NULL,
    status              text NOT NULL CHECK (status IN ('active', 'irregular', 'discontinued'))
);
COMMENT ON TABLE warehouse.dim_index IS 'One row per index product tracked (GCI, GPCI, ...), from assets/<code>.yaml.';

CREATE TABLE warehouse.dim_edition (
    index_code      text NOT NULL REFERENCES warehouse.dim_index (index_code),
    edition         text NOT NULL,
    edition_seq     integer NOT NULL,
    published_on    date,
    published_precision text NOT NULL DEFAULT 'unknown' CHECK (published_precision IN ('day', 'month', 'year', 'unknown')),
    city_count      integer CHECK (city_count > 0),
    PRIMARY KEY (index_code, edition),
    UNIQUE (index_code, edition_seq)
);
COMMENT ON TABLE warehouse.dim_edition IS 'One row per published edition of an index; edition_seq orders editions within an index.';
COMMENT ON COLUMN warehouse.dim_edition.city_count IS 'Cities ranked in the whole edition (as the publisher states), not only the cities loaded.';

CREATE TABLE warehouse.dim_city (
    city_key    text PRIMARY KEY CHECK (city_key ~ '^[a-z0-9_]+$'),
    name        text NOT NULL UNIQUE,
    name_ko     text,
    country     text NOT NULL,
    aliases     text[] NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE warehouse.dim_city IS 'Canonical cities; printed names are mapped to them through the reviewed alias file assets/cities.yaml.';

CREATE TABLE warehouse.dim_measure (
    index_code      text NOT NULL REFERENCES warehouse.dim_index (index_code),
    measure_code    text NOT NULL CHECK (measure_code ~ '^[a-z0-9_]+$'),
    name            text NOT NULL,
    level           text NOT NULL CHECK (level IN ('overall', 'sub_index', 'indicator')),
    parent_code     text,
    department      text NOT NULL,
    city_can_influence boolean NOT NULL,
    score_min       numeric,
    score_max       numeric,
    definition      text,
    PRIMARY KEY (index_code, measure_code),
    FOREIGN KEY (index_code, parent_code) REFERENCES warehouse.dim_measure (index_code, measure_code)
);
COMMENT ON TABLE warehouse.dim_measure IS 'What an index measures, as a hierarchy: overall -> sub-indices -> indicators.';

CREATE TABLE meta.snapshot (
    snapshot_id     text PRIMARY KEY CHECK (snapshot_id ~ '^[0-9a-f]{64}$'),
    source_url      text,
    original_name   text NOT NULL,
    media_type      text NOT NULL,
    bytes           bigint NOT NULL CHECK (bytes >= 0),
    fetched_at      timestamptz NOT NULL,
    published_on    date,
    licence_note    text NOT NULL
);
COMMENT ON TABLE meta.snapshot IS 'Provenance of every raw file a fact came from; snapshot_id is the sha256 of its bytes.';

CREATE TABLE warehouse.fact_city_score (
    index_code      text NOT NULL,
    edition         text NOT NULL,
    city_key        text NOT NULL REFERENCES warehouse.dim_city (city_key),
    measure_code    text NOT NULL,
    score           numeric,
    rank            integer CHECK (rank >= 1),
    rank_tied       boolean NOT NULL DEFAULT false,
    printed_name    text NOT NULL,
    confidence      text NOT NULL CHECK (confidence IN ('reported', 'derived', 'disputed', 'low')),
    note            text,
    source_url      text,
    page            integer CHECK (page >= 1),
    snapshot_id     text NOT NULL REFERENCES meta.snapshot (snapshot_id),
    PRIMARY KEY (index_code, edition, city_key, measure_code),
    FOREIGN KEY (index_code, edition) REFERENCES warehouse.dim_edition (index_code, edition),
    FOREIGN KEY (index_code, measure_code) REFERENCES warehouse.dim_measure (index_code, measure_code)
);
COMMENT ON TABLE warehouse.fact_city_score IS 'One published figure: a city''s score and/or rank on one measure of one edition. NULL rank = not disclosed.';
CREATE INDEX fact_city_score_city ON warehouse.fact_city_score (city_key, index_code);
CREATE INDEX fact_city_score_snapshot ON warehouse.fact_city_score (snapshot_id);
