-- Reverses version 0004.
DROP STATISTICS extractions_confidence_buckets_stats;
DROP INDEX corrections_corrected_at_idx;
