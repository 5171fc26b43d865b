-- Performance at 1,000,000 contracts and 10,000,000 audit events, from what `refund-review bench`
-- measured (benchmarks/README.md). Each index keeps its name and its first columns, so it still serves
-- what it served before (and still indexes its foreign key); the INCLUDE columns let the dashboard
-- panels answer from the index alone instead of visiting one table row per counted row.

-- Per-reviewer activity: each person's decisions of a period, with their status and review time
-- (percentile_cont of review_seconds).
DROP INDEX extractions_reviewed_by_idx;
CREATE INDEX extractions_reviewed_by_idx ON extractions (reviewed_by, reviewed_at) INCLUDE (status, review_seconds);

-- Per-reviewer activity: each person's corrections of a period, and how many extractions they touched.
DROP INDEX corrections_corrected_by_idx;
CREATE INDEX corrections_corrected_by_idx ON corrections (corrected_by, corrected_at) INCLUDE (extraction_id);

-- Field accuracy: the ids of a period's approvals, hashed and joined to the period's corrections.
DROP INDEX extractions_status_reviewed_at_idx;
CREATE INDEX extractions_status_reviewed_at_idx ON extractions (status, reviewed_at) INCLUDE (id);

-- Confidence distribution: the four confidences of a period's extractions.
DROP INDEX extractions_extracted_at_idx;
CREATE INDEX extractions_extracted_at_idx ON extractions (extracted_at)
    INCLUDE (min_confidence, gap_insurance_premium_confidence, refund_calculation_method_confidence,
             cancellation_fee_confidence);

-- The queue filtered by provider: a rarely used provider's items are found in queue order without
-- stepping over everyone else's.
CREATE INDEX extractions_provider_queue_idx ON extractions (llm_provider, min_confidence, extracted_at, id)
    WHERE status = 'pending';

-- Every review updates its extraction row, and an updated row is not all-visible until vacuumed: index-only
-- scans visit the table for it. Vacuuming after 1% of the rows changed (not 20%) keeps the visibility map
-- current under a day's reviewing; analyzing after 2% keeps the queue's statistics current.
ALTER TABLE extractions SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.02);
-- Corrections are only inserted: the same for inserts.
ALTER TABLE corrections SET (autovacuum_vacuum_insert_scale_factor = 0.01);
