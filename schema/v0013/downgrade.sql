-- Reverses version 0013.
DROP INDEX extractions_provider_queue_idx;
DROP INDEX extractions_rank_queue_idx;
ALTER TABLE extractions DROP COLUMN queue_rank;
ALTER TABLE extractions DROP COLUMN queue_key;
CREATE INDEX extractions_provider_queue_idx ON extractions (llm_provider, min_confidence, extracted_at, id)
    WHERE status = 'pending';
