-- Version 0010: trust in what nobody reviews — QA samples, automatic approval, per-field thresholds.

-- An extraction that would pass without review but was drawn at random for a person to check anyway.
-- Its outcome (unchanged or corrected, per field) measures the error rate of what is auto-trusted.
ALTER TABLE extractions ADD COLUMN qa_sample boolean NOT NULL DEFAULT false;

-- The queue's counts with per-field thresholds read each field's confidence and the QA flag of every
-- pending row: this index holds them all, so the counts stay index-only scans.
CREATE INDEX extractions_routing_idx ON extractions (min_confidence)
    INCLUDE (gap_insurance_premium_confidence, refund_calculation_method_confidence, cancellation_fee_confidence, qa_sample)
    WHERE status = 'pending';

-- An approval without a reviewer is an automatic approval (auto_approve setting): the audit log's
-- auto_approve event says by what, naming the thresholds in force. A rejection always has a reviewer.
ALTER TABLE extractions DROP CONSTRAINT extractions_review_consistent;
ALTER TABLE extractions ADD CONSTRAINT extractions_review_consistent CHECK (
    (status = 'pending') = (reviewed_at IS NULL)
    AND (status <> 'pending' OR reviewed_by IS NULL)
    AND (status <> 'rejected' OR reviewed_by IS NOT NULL)
);

INSERT INTO system_config (key, value, value_type, description, allowed_values, min_value, max_value) VALUES
    ('qa_sample_rate', '0.05', 'decimal', 'Share of extractions that would pass without review sent to a reviewer anyway, drawn at random (QA sample).', NULL, 0, 1),
    ('auto_approve', 'false', 'boolean', 'Approve extractions whose every field is at or above its threshold automatically (unless drawn for QA); each approval is audited.', NULL, NULL, NULL),
    ('target_error_rate', '0.01', 'decimal', 'Error rate of auto-trusted values the calibration report suggests thresholds for.', NULL, 0.0001, 0.5),
    ('field_thresholds', '{}', 'json', 'Confidence threshold per field (gap_insurance_premium, refund_calculation_method, cancellation_fee), 0-100; a field not named uses confidence_threshold.', NULL, NULL, NULL);

-- Automatic approvals are audited; the CHECK is rebuilt from the list in force (see version 0009).
DO $$
DECLARE
    types text[];
BEGIN
    SELECT array_agg(DISTINCT m[1] ORDER BY m[1]) INTO types
      FROM pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '''([a-z_]+)''', 'g') AS m
     WHERE c.conrelid = 'audit_events'::regclass AND c.conname = 'audit_events_event_type_valid';
    ALTER TABLE audit_events DROP CONSTRAINT audit_events_event_type_valid;
    EXECUTE format(
        'ALTER TABLE audit_events ADD CONSTRAINT audit_events_event_type_valid CHECK (event_type IN (%s))',
        (SELECT string_agg(quote_literal(t), ', ' ORDER BY t) FROM unnest(types || ARRAY['auto_approve']) AS t));
END
$$;
