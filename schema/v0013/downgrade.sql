-- Reverses version 0013.
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
