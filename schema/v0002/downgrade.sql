-- Reverses version 0002: the indexes as version 0001 made them, and the default autovacuum settings.
ALTER TABLE corrections RESET (autovacuum_vacuum_insert_scale_factor);
ALTER TABLE extractions RESET (autovacuum_vacuum_scale_factor, autovacuum_analyze_scale_factor);
DROP INDEX extractions_provider_queue_idx;
DROP INDEX extractions_extracted_at_idx;
CREATE INDEX extractions_extracted_at_idx ON extractions (extracted_at);
DROP INDEX extractions_status_reviewed_at_idx;
CREATE INDEX extractions_status_reviewed_at_idx ON extractions (status, reviewed_at);
DROP INDEX corrections_corrected_by_idx;
CREATE INDEX corrections_corrected_by_idx ON corrections (corrected_by, corrected_at);
DROP INDEX extractions_reviewed_by_idx;
CREATE INDEX extractions_reviewed_by_idx ON extractions (reviewed_by, reviewed_at);
