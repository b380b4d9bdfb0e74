-- Methodology changes: how an edition's indicator set differs from the previous edition that
-- reported indicators (warehouse.edition_measure, written by each load from the names the
-- publisher's file printed). A reworded indicator keeps its measure code (the catalog lists
-- the old wording as an alias); an indicator replaced by a different one is a removal plus an
-- addition. Comparing against the previous edition *with* indicator data, not simply the
-- previous edition, keeps a year known only from the press from hiding a change.

CREATE OR REPLACE VIEW mart.methodology_changes AS
WITH editions AS (
    SELECT DISTINCT m.index_code, m.edition, e.edition_seq
    FROM warehouse.edition_measure m
    JOIN warehouse.dim_edition e ON e.index_code = m.index_code AND e.edition = m.edition
), pairs AS (
    SELECT index_code, edition, edition_seq,
           lag(edition) OVER (PARTITION BY index_code ORDER BY edition_seq) AS previous_edition
    FROM editions
)
SELECT p.index_code, p.edition, p.previous_edition, d.change, d.measure_code, d.printed_name,
       d.previous_printed_name
FROM pairs p
CROSS JOIN LATERAL (
    SELECT CASE WHEN prev.measure_code IS NULL THEN 'added'
                WHEN cur.measure_code IS NULL THEN 'removed'
                ELSE 'reworded' END AS change,
           coalesce(cur.measure_code, prev.measure_code) AS measure_code,
           cur.printed_name, prev.printed_name AS previous_printed_name
    FROM (SELECT * FROM warehouse.edition_measure x
          WHERE x.index_code = p.index_code AND x.edition = p.edition) cur
    FULL JOIN (SELECT * FROM warehouse.edition_measure y
               WHERE y.index_code = p.index_code AND y.edition = p.previous_edition) prev
           ON prev.measure_code = cur.measure_code
    WHERE cur.measure_code IS NULL OR prev.measure_code IS NULL OR cur.printed_name <> prev.printed_name
) d
WHERE p.previous_edition IS NOT NULL;

COMMENT ON VIEW mart.methodology_changes IS 'Indicators added, removed or reworded between an edition and the previous edition that reported indicators.';
COMMENT ON COLUMN mart.methodology_changes.index_code IS 'Index code.';
COMMENT ON COLUMN mart.methodology_changes.edition IS 'The edition that changed.';
COMMENT ON COLUMN mart.methodology_changes.previous_edition IS 'The previous edition with indicator data it is compared with.';
COMMENT ON COLUMN mart.methodology_changes.change IS 'added, removed or reworded.';
COMMENT ON COLUMN mart.methodology_changes.measure_code IS 'The indicator (warehouse.dim_measure).';
COMMENT ON COLUMN mart.methodology_changes.printed_name IS 'Its name as this edition printed it (NULL when removed).';
COMMENT ON COLUMN mart.methodology_changes.previous_printed_name IS 'Its name as the previous edition printed it (NULL when added).';
