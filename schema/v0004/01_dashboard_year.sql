-- The dashboard's year-long periods at 1,000,000 contracts (benchmarks/README.md, "Migration 0004").

-- Field accuracy: a period's corrections, with the extraction and field each one corrected, from the
-- index alone. (corrections_field_name_idx leads with the field, so a period scan through it visits the
-- table for every correction to learn its extraction.)
CREATE INDEX corrections_corrected_at_idx ON corrections (corrected_at) INCLUDE (extraction_id, field_name);

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
