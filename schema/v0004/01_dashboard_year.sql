-- The dashboard's year-long periods at 1,000,000 contracts (benchmarks/README.md, "Migration 0004").

-- Field accuracy: per field, the extractions corrected in a period, from the index alone. The index keeps
-- its name and columns, so it serves what it served before; without extraction_id it visited the table
-- once per correction of the period (50,000 over a year at full scale).
DROP INDEX corrections_field_name_idx;
CREATE INDEX corrections_field_name_idx ON corrections (field_name, corrected_at) INCLUDE (extraction_id);

-- Confidence distribution: the four histograms are counted from one grouping by the four ten-point
-- buckets. Without statistics on those expressions the planner guesses 100,000 groups where there are
-- at most 10,000 (in practice ~500), and counts a year's 500,000 extractions in one process; knowing
-- better, it lets parallel workers each count their share of the index before merging.
CREATE STATISTICS extractions_confidence_buckets_stats (ndistinct) ON
    (least(min_confidence / 10, 9)),
    (least(gap_insurance_premium_confidence / 10, 9)),
    (least(refund_calculation_method_confidence / 10, 9)),
    (least(cancellation_fee_confidence / 10, 9))
    FROM extractions;
ANALYZE extractions;
