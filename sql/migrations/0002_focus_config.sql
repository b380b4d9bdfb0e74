-- Focus city and peer set as data, so that no view carries a city name as a literal.
--
-- Written from settings (CITYRANK_FOCUS_CITY, CITYRANK_PEERS) by cityrank_pipeline.focus
-- before the mart is refreshed; the views join these tables. Keys are checked against the
-- reviewed city list (assets/cities.yaml) when written, not by a foreign key: the city
-- dimension is filled by the first load, and the configuration may be written before it.

CREATE TABLE meta.focus_city (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    city_key    text NOT NULL CHECK (city_key ~ '^[a-z0-9_]+$')
);
COMMENT ON TABLE meta.focus_city IS 'The one city the mart views report for (CITYRANK_FOCUS_CITY); at most one row.';

CREATE TABLE meta.peer_city (
    city_key    text PRIMARY KEY CHECK (city_key ~ '^[a-z0-9_]+$'),
    position    integer NOT NULL UNIQUE CHECK (position >= 1)
);
COMMENT ON TABLE meta.peer_city IS 'The focus city''s peer set (CITYRANK_PEERS), in the configured order; never includes the focus city.';
