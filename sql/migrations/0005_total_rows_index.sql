-- The overall figures (measure_code = 'total') are what the scorecard, top-5 gap and peer
-- views read first, and they are a small slice of the fact table: one row per city and
-- edition, against ~80 per city and edition once indicators are loaded. Without an index that
-- reaches them, every read of mart.city_scorecard scanned the whole fact table (326 ms for one
-- city at 10 million facts in bench/scale.py, against a 50 ms goal). A partial index holds only
-- those rows, so it costs loads almost nothing.

CREATE INDEX fact_city_score_total ON warehouse.fact_city_score (index_code, city_key, edition)
    INCLUDE (score, rank) WHERE measure_code = 'total';
