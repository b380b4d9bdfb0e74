-- Indicator level: the hierarchy indicator -> indicator group -> sub-index -> total, figures
-- that cityrank computed rather than read, how each edition printed its measures, and which
-- files an edition's figures were assembled from.
--
-- GPCI's publisher data file gives 70 indicator scores per city; function scores and ranks
-- may be absent from a file and are then computed from the model. A computed figure is not a
-- printed one, and an analyst must be able to tell them apart row by row.

ALTER TABLE warehouse.dim_measure DROP CONSTRAINT dim_measure_level_check;
ALTER TABLE warehouse.dim_measure ADD CONSTRAINT dim_measure_level_check
    CHECK (level IN ('overall', 'sub_index', 'indicator_group', 'indicator'));
ALTER TABLE warehouse.dim_measure
    ADD COLUMN publisher_code text,
    ADD COLUMN indicator_number integer CHECK (indicator_number >= 1),
    ADD COLUMN aliases text[] NOT NULL DEFAULT '{}';
COMMENT ON COLUMN warehouse.dim_measure.level IS 'overall -> sub_index -> indicator_group -> indicator.';
COMMENT ON COLUMN warehouse.dim_measure.publisher_code IS 'The publisher''s own code for an indicator group (GPCI "Ec1").';
COMMENT ON COLUMN warehouse.dim_measure.indicator_number IS 'The publisher''s number for the indicator in the newest layout the catalog knows.';
COMMENT ON COLUMN warehouse.dim_measure.aliases IS 'Other wordings printed for the same indicator in other editions.';

ALTER TABLE warehouse.fact_city_score
    ADD COLUMN score_computed boolean NOT NULL DEFAULT false,
    ADD COLUMN rank_computed boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN warehouse.fact_city_score.score_computed IS 'True when cityrank computed the score from the publisher''s model (e.g. a GPCI function score from its indicators) instead of reading it.';
COMMENT ON COLUMN warehouse.fact_city_score.rank_computed IS 'True when cityrank computed the rank among the edition''s cities (ties share a rank) instead of reading it.';

-- Which measures an edition reports and how it printed them: what a methodology change is.
CREATE TABLE warehouse.edition_measure (
    index_code      text NOT NULL,
    edition         text NOT NULL,
    measure_code    text NOT NULL,
    printed_name    text NOT NULL,
    printed_number  integer CHECK (printed_number >= 1),
    PRIMARY KEY (index_code, edition, measure_code),
    FOREIGN KEY (index_code, edition) REFERENCES warehouse.dim_edition (index_code, edition),
    FOREIGN KEY (index_code, measure_code) REFERENCES warehouse.dim_measure (index_code, measure_code)
);
COMMENT ON TABLE warehouse.edition_measure IS 'The indicators an edition''s publisher file reports, with the name and number it printed; consecutive editions are compared in mart.methodology_changes.';

-- Every file that contributed to an edition, which one each fact came from, and which lost.
CREATE TABLE meta.edition_source (
    index_code      text NOT NULL,
    edition         text NOT NULL,
    snapshot_id     text NOT NULL REFERENCES meta.snapshot (snapshot_id),
    source_kind     text NOT NULL,
    parser          text NOT NULL,
    precedence      smallint NOT NULL CHECK (precedence >= 1),
    role            text NOT NULL CHECK (role IN ('primary', 'fills_in', 'superseded')),
    facts_used      integer NOT NULL CHECK (facts_used >= 0),
    facts_overridden integer NOT NULL CHECK (facts_overridden >= 0),
    disagreements   integer NOT NULL CHECK (disagreements >= 0),
    PRIMARY KEY (index_code, edition, snapshot_id),
    FOREIGN KEY (index_code, edition) REFERENCES warehouse.dim_edition (index_code, edition)
);
COMMENT ON TABLE meta.edition_source IS 'The files an edition was assembled from, in precedence order (1 = wins): primary is the edition''s own best file, fills_in adds figures it lacks, superseded gave only figures a better file also gives.';
COMMENT ON COLUMN meta.edition_source.facts_overridden IS 'Figures this file gave that a file of higher precedence replaced.';
COMMENT ON COLUMN meta.edition_source.disagreements IS 'Of those, how many disagreed with the winning figure (rank differs, or score differs by more than rounding).';
