-- Version 0011: the refund fields a refund decision needs from the contract — term in months, the state
-- whose law governs it, and the APR when stated — extracted, grounded and reviewed like the first three.

-- A NULL confidence means "not yet extracted": the row was extracted before this version. Re-extraction
-- fills all three; an extractor that finds nothing stores a NULL value with a confidence (absence is an
-- answer, e.g. "APR not stated"). A reviewer may type a value before any re-extraction: it is stored with
-- its correction and the confidence stays NULL (nobody's confidence, a person's reading).
ALTER TABLE extractions
    ADD COLUMN term_months                integer,
    ADD COLUMN term_months_confidence     smallint,
    ADD COLUMN term_months_source         jsonb,
    ADD COLUMN governing_state            text,
    ADD COLUMN governing_state_confidence smallint,
    ADD COLUMN governing_state_source     jsonb,
    ADD COLUMN apr                        numeric(5,2),
    ADD COLUMN apr_confidence             smallint,
    ADD COLUMN apr_source                 jsonb,
    ADD CONSTRAINT extractions_term_months_range CHECK (term_months BETWEEN 1 AND 600),
    ADD CONSTRAINT extractions_governing_state_format CHECK (governing_state ~ '^[A-Z]{2}$'),
    ADD CONSTRAINT extractions_apr_range CHECK (apr BETWEEN 0 AND 99.99),
    ADD CONSTRAINT extractions_term_months_confidence_range CHECK (term_months_confidence BETWEEN 0 AND 100),
    ADD CONSTRAINT extractions_governing_state_confidence_range CHECK (governing_state_confidence BETWEEN 0 AND 100),
    ADD CONSTRAINT extractions_apr_confidence_range CHECK (apr_confidence BETWEEN 0 AND 100),
    ADD CONSTRAINT extractions_term_months_source_object CHECK (jsonb_typeof(term_months_source) = 'object'),
    ADD CONSTRAINT extractions_governing_state_source_object CHECK (jsonb_typeof(governing_state_source) = 'object'),
    ADD CONSTRAINT extractions_apr_source_object CHECK (jsonb_typeof(apr_source) = 'object'),
    -- The fields the refund checks flag against the state's rule in force (services/refunds/field_checks.py),
    -- stored by the service whenever the values change, so that the queue's SQL sees them.
    ADD COLUMN refund_flags text[] NOT NULL DEFAULT '{}',
    ADD CONSTRAINT extractions_refund_flags_fields CHECK (
        refund_flags <@ ARRAY['refund_calculation_method', 'cancellation_fee', 'term_months', 'governing_state']::text[]);

ALTER TABLE corrections DROP CONSTRAINT corrections_field_name_valid;
ALTER TABLE corrections ADD CONSTRAINT corrections_field_name_valid CHECK (field_name IN (
    'gap_insurance_premium', 'refund_calculation_method', 'cancellation_fee', 'term_months', 'governing_state', 'apr'));

-- The generated min_confidence cannot change its expression in place before PostgreSQL 17, so it is dropped
-- and added again; whatever depends on it (the queue's partial indexes, statistics, views and their grants)
-- is saved and recreated as it was in force, so this works whatever earlier versions built on it.
CREATE FUNCTION rebuild_min_confidence(p_expression text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    saved record;
    grant_row record;
BEGIN
    CREATE TEMP TABLE min_confidence_dependents ON COMMIT DROP AS
    SELECT DISTINCT
           CASE WHEN d.classid = 'pg_class'::regclass THEN 1 WHEN d.classid = 'pg_statistic_ext'::regclass THEN 2 ELSE 0 END AS ord,
           CASE WHEN d.classid = 'pg_class'::regclass THEN pg_get_indexdef(d.objid)
                WHEN d.classid = 'pg_statistic_ext'::regclass THEN pg_get_statisticsobjdef(d.objid)
                ELSE format('CREATE VIEW %s AS %s', r.ev_class::regclass, pg_get_viewdef(r.ev_class)) END AS definition,
           CASE WHEN d.classid = 'pg_rewrite'::regclass THEN r.ev_class END AS view_oid_old,
           CASE WHEN d.classid = 'pg_rewrite'::regclass THEN r.ev_class::regclass::text END AS view_name,
           CASE WHEN d.classid = 'pg_rewrite'::regclass THEN (SELECT relacl FROM pg_class WHERE oid = r.ev_class) END AS acl
      FROM pg_depend d
      LEFT JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
     WHERE d.refclassid = 'pg_class'::regclass
       AND d.refobjid = 'extractions'::regclass
       AND d.refobjsubid = (SELECT attnum FROM pg_attribute WHERE attrelid = 'extractions'::regclass AND attname = 'min_confidence')
       AND d.classid IN ('pg_class'::regclass, 'pg_statistic_ext'::regclass, 'pg_rewrite'::regclass)
       AND (d.classid <> 'pg_rewrite'::regclass OR r.ev_class <> 'extractions'::regclass);
    ALTER TABLE extractions DROP COLUMN min_confidence CASCADE;
    EXECUTE format('ALTER TABLE extractions ADD COLUMN min_confidence smallint GENERATED ALWAYS AS (%s) STORED', p_expression);
    FOR saved IN SELECT * FROM min_confidence_dependents ORDER BY ord DESC, definition LOOP
        EXECUTE saved.definition;
        FOR grant_row IN SELECT a.privilege_type, a.grantee FROM aclexplode(saved.acl) a
                          WHERE a.grantee <> (SELECT relowner FROM pg_class WHERE oid = saved.view_name::regclass) LOOP
            EXECUTE format('GRANT %s ON %s TO %s', grant_row.privilege_type, saved.view_name,
                           CASE WHEN grant_row.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(grant_row.grantee::regrole::text) END);
        END LOOP;
    END LOOP;
    DROP TABLE min_confidence_dependents;
END
$$;
REVOKE ALL ON FUNCTION rebuild_min_confidence(text) FROM PUBLIC;

-- Weakest-field rule (services/domain.py weighed_fields): term and state count like premium, method and fee;
-- the APR counts only for the Actuarial method, the one calculation that needs it. LEAST ignores NULLs, so a
-- field not yet extracted never pulls an old row up the queue. A field flagged by the refund checks (a fee
-- above the state's cap, a method it does not allow, no method) counts as 0: the item goes to the head of
-- the queue through the same partial index and keyset order, no second sort key.
SELECT rebuild_min_confidence(
    'LEAST(gap_insurance_premium_confidence, refund_calculation_method_confidence, cancellation_fee_confidence, '
    'term_months_confidence, governing_state_confidence, '
    'CASE WHEN refund_calculation_method = ''Actuarial'' THEN apr_confidence END, '
    'CASE WHEN refund_flags <> ''{}'' THEN 0::smallint END)');

-- The queue's counts compare every weighed field with its threshold: the routing index holds them all.
DROP INDEX extractions_routing_idx;
CREATE INDEX extractions_routing_idx ON extractions (min_confidence)
    INCLUDE (gap_insurance_premium_confidence, refund_calculation_method_confidence, cancellation_fee_confidence,
             term_months_confidence, governing_state_confidence, apr_confidence, refund_calculation_method,
             refund_flags, qa_sample)
    WHERE status = 'pending';

-- The dashboard's confidence histograms read every field's confidence from this index alone.
DROP INDEX extractions_extracted_at_idx;
CREATE INDEX extractions_extracted_at_idx ON extractions (extracted_at)
    INCLUDE (min_confidence, gap_insurance_premium_confidence, refund_calculation_method_confidence,
             cancellation_fee_confidence, term_months_confidence, governing_state_confidence, apr_confidence);

CREATE OR REPLACE FUNCTION calculate_extraction_accuracy(p_extraction_id uuid)
RETURNS TABLE (
    field_name       text,
    original_value   text,
    corrected_value  text,
    was_corrected    boolean,
    correction_count integer,
    confidence       smallint
)
LANGUAGE sql STABLE AS $$
    SELECT f.field_name,
           coalesce(fc.original_value, f.current_value) AS original_value,
           CASE WHEN cc.n > 0 THEN f.current_value END AS corrected_value,
           cc.n > 0 AS was_corrected,
           cc.n::integer AS correction_count,
           f.confidence
      FROM extractions e
     CROSS JOIN LATERAL (VALUES
            (1, 'gap_insurance_premium', e.gap_insurance_premium::text, e.gap_insurance_premium_confidence),
            (2, 'refund_calculation_method', e.refund_calculation_method, e.refund_calculation_method_confidence),
            (3, 'cancellation_fee', e.cancellation_fee::text, e.cancellation_fee_confidence),
            (4, 'term_months', e.term_months::text, e.term_months_confidence),
            (5, 'governing_state', e.governing_state, e.governing_state_confidence),
            (6, 'apr', e.apr::text, e.apr_confidence)
          ) AS f(ord, field_name, current_value, confidence)
      LEFT JOIN LATERAL (
            SELECT c.original_value FROM corrections c
             WHERE c.extraction_id = e.id AND c.field_name = f.field_name
             ORDER BY c.corrected_at, c.id LIMIT 1
          ) fc ON true
     CROSS JOIN LATERAL (
            SELECT count(*) AS n FROM corrections c
             WHERE c.extraction_id = e.id AND c.field_name = f.field_name
          ) cc
     WHERE e.id = p_extraction_id
       AND (f.ord <= 3 OR f.confidence IS NOT NULL)
     ORDER BY f.ord
$$;

UPDATE system_config
   SET description = 'Confidence threshold per field (gap_insurance_premium, refund_calculation_method, cancellation_fee, term_months, governing_state, apr), 0-100; a field not named uses confidence_threshold.'
 WHERE key = 'field_thresholds';
