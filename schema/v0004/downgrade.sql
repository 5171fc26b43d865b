-- Reverses version 0004: the index as version 0001 made it, no statistics on the confidence buckets.
DROP STATISTICS extractions_confidence_buckets_stats;
DROP INDEX corrections_field_name_idx;
CREATE INDEX corrections_field_name_idx ON corrections (field_name, corrected_at);
