-- Version 0013: quality checks — the queue places a QA sample by a neutral key, not by its confidence.

-- A pending QA sample shows "QA" instead of its confidence, but the queue is ordered by the weakest
-- field's confidence: its place among the others would give the hidden figure away. Each extraction
-- draws a random key (0-99) when it is made; a QA sample is ranked by that key, every other extraction
-- by its weakest field. The rank copies the generation expression of min_confidence in force, so that
-- a version that adds a field to min_confidence before this one is followed, not overwritten.
ALTER TABLE extractions ADD COLUMN queue_key smallint NOT NULL DEFAULT (floor(random() * 100))::smallint;

DO $$
DECLARE
    weakest text;
BEGIN
    SELECT pg_get_expr(d.adbin, d.adrelid) INTO STRICT weakest
      FROM pg_attrdef d
      JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
     WHERE d.adrelid = 'extractions'::regclass AND a.attname = 'min_confidence';
    EXECUTE format(
        'ALTER TABLE extractions ADD COLUMN queue_rank smallint GENERATED ALWAYS AS '
        '(CASE WHEN qa_sample THEN queue_key ELSE %s END) STORED', weakest);
END
$$;

-- The queue's pages and claims walk this order (services/review/queue.py QUEUE_ORDER); the queue
-- health panel keeps reading extractions_queue_idx by the weakest field.
CREATE INDEX extractions_rank_queue_idx ON extractions (queue_rank, extracted_at, id) WHERE status = 'pending';
DROP INDEX extractions_provider_queue_idx;
CREATE INDEX extractions_provider_queue_idx ON extractions (llm_provider, queue_rank, extracted_at, id)
    WHERE status = 'pending';

-- A provider may have thresholds of its own (services/system_settings.py checked_field_thresholds); the
-- older form, field names only, keeps its meaning.
UPDATE system_config
   SET description = 'Confidence threshold per field, 0-100, for every provider ({"gap_insurance_premium": 85}) or for one provider ({"anthropic": {"gap_insurance_premium": 90}}); a provider''s own entry wins over the field''s, and a field not named uses confidence_threshold.'
 WHERE key = 'field_thresholds';

-- The queue's counts compare each field with its provider's threshold: the routing index holds the
-- provider too, so they stay index-only scans. Rebuilt from its definition in force, which a version
-- before this one may have widened with more fields.
DO $$
DECLARE
    definition text := pg_get_indexdef('extractions_routing_idx'::regclass);
BEGIN
    IF position('INCLUDE (' IN definition) = 0 THEN
        RAISE EXCEPTION 'extractions_routing_idx has no INCLUDE list: %', definition;
    END IF;
    DROP INDEX extractions_routing_idx;
    EXECUTE replace(definition, 'INCLUDE (', 'INCLUDE (llm_provider, ');
END
$$;
