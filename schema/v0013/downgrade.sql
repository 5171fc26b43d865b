-- Reverses version 0013.
DELETE FROM system_config WHERE key = 'qa_double_check_rate';
DROP TABLE qa_double_checks;

-- Audit events are evidence and are never deleted: the narrower CHECK applies to new rows only.
DO $$
DECLARE
    types text[];
BEGIN
    SELECT array_agg(DISTINCT m[1] ORDER BY m[1]) INTO types
      FROM pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '''([a-z_]+)''', 'g') AS m
     WHERE c.conrelid = 'audit_events'::regclass AND c.conname = 'audit_events_event_type_valid'
       AND m[1] <> 'qa_double_check';
    ALTER TABLE audit_events DROP CONSTRAINT audit_events_event_type_valid;
    EXECUTE format(
        'ALTER TABLE audit_events ADD CONSTRAINT audit_events_event_type_valid CHECK (event_type IN (%s)) NOT VALID',
        (SELECT string_agg(quote_literal(t), ', ' ORDER BY t) FROM unnest(types) AS t));
END
$$;

DROP INDEX extractions_provider_queue_idx;
DROP INDEX extractions_rank_queue_idx;
ALTER TABLE extractions DROP COLUMN queue_rank;
ALTER TABLE extractions DROP COLUMN queue_key;
CREATE INDEX extractions_provider_queue_idx ON extractions (llm_provider, min_confidence, extracted_at, id)
    WHERE status = 'pending';

UPDATE system_config
   SET description = 'Confidence threshold per field (gap_insurance_premium, refund_calculation_method, cancellation_fee), 0-100; a field not named uses confidence_threshold.'
 WHERE key = 'field_thresholds';
-- A provider's own thresholds have no meaning before this version: the older form keeps the field names.
UPDATE system_config
   SET value = coalesce((SELECT jsonb_object_agg(key, value) FROM jsonb_each(value::jsonb) WHERE jsonb_typeof(value) = 'number'), '{}')::text
 WHERE key = 'field_thresholds';
DO $$
DECLARE
    definition text := pg_get_indexdef('extractions_routing_idx'::regclass);
BEGIN
    DROP INDEX extractions_routing_idx;
    EXECUTE replace(definition, 'INCLUDE (llm_provider, ', 'INCLUDE (');
END
$$;
