-- Reverses version 0011: min_confidence over the first three fields again, the later fields' columns gone.
-- Corrections of the later fields are kept; the restored CHECK is NOT VALID so that they do not stop it.
DROP INDEX extractions_routing_idx;
DROP INDEX extractions_extracted_at_idx;
SELECT rebuild_min_confidence(
    'LEAST(gap_insurance_premium_confidence, refund_calculation_method_confidence, cancellation_fee_confidence)');
DROP FUNCTION rebuild_min_confidence(text);
CREATE INDEX extractions_routing_idx ON extractions (min_confidence)
    INCLUDE (gap_insurance_premium_confidence, refund_calculation_method_confidence, cancellation_fee_confidence, qa_sample)
    WHERE status = 'pending';
CREATE INDEX extractions_extracted_at_idx ON extractions (extracted_at)
    INCLUDE (min_confidence, gap_insurance_premium_confidence, refund_calculation_method_confidence,
             cancellation_fee_confidence);

ALTER TABLE extractions
    DROP COLUMN term_months, DROP COLUMN term_months_confidence, DROP COLUMN term_months_source,
    DROP COLUMN governing_state, DROP COLUMN governing_state_confidence, DROP COLUMN governing_state_source,
    DROP COLUMN apr, DROP COLUMN apr_confidence, DROP COLUMN apr_source, DROP COLUMN refund_flags;

ALTER TABLE corrections DROP CONSTRAINT corrections_field_name_valid;
ALTER TABLE corrections ADD CONSTRAINT corrections_field_name_valid
    CHECK (field_name IN ('gap_insurance_premium', 'refund_calculation_method', 'cancellation_fee')) NOT VALID;

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
            (3, 'cancellation_fee', e.cancellation_fee::text, e.cancellation_fee_confidence)
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
     ORDER BY f.ord
$$;

UPDATE system_config
   SET description = 'Confidence threshold per field (gap_insurance_premium, refund_calculation_method, cancellation_fee), 0-100; a field not named uses confidence_threshold.'
 WHERE key = 'field_thresholds';
