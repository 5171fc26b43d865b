-- Reverses version 0010.
DELETE FROM system_config WHERE key IN ('qa_sample_rate', 'auto_approve', 'target_error_rate', 'field_thresholds');

-- Automatic approvals have no reviewer to put back: they return to the queue, as they were before.
UPDATE extractions SET status = 'pending', reviewed_at = NULL, review_seconds = NULL
 WHERE status = 'approved' AND reviewed_by IS NULL;
ALTER TABLE extractions DROP CONSTRAINT extractions_review_consistent;
ALTER TABLE extractions ADD CONSTRAINT extractions_review_consistent CHECK ((status = 'pending') = (reviewed_by IS NULL) AND (reviewed_by IS NULL) = (reviewed_at IS NULL));
DROP INDEX extractions_routing_idx;
ALTER TABLE extractions DROP COLUMN qa_sample;

-- Audit events are evidence and are never deleted: the narrower CHECK applies to new rows only.
DO $$
DECLARE
    types text[];
BEGIN
    SELECT array_agg(DISTINCT m[1] ORDER BY m[1]) INTO types
      FROM pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '''([a-z_]+)''', 'g') AS m
     WHERE c.conrelid = 'audit_events'::regclass AND c.conname = 'audit_events_event_type_valid'
       AND m[1] <> 'auto_approve';
    ALTER TABLE audit_events DROP CONSTRAINT audit_events_event_type_valid;
    EXECUTE format(
        'ALTER TABLE audit_events ADD CONSTRAINT audit_events_event_type_valid CHECK (event_type IN (%s)) NOT VALID',
        (SELECT string_agg(quote_literal(t), ', ' ORDER BY t) FROM unnest(types) AS t));
END
$$;
