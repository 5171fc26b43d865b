-- Views and functions of the seed design.

-- One row per extraction with what a list or an export needs beside it.
CREATE VIEW v_extraction_details AS
SELECT
    e.id AS extraction_id,
    e.contract_id,
    c.account_number,
    c.customer_name,
    c.contract_type,
    c.contract_date,
    c.vehicle_info ->> 'vin' AS vin,
    e.gap_insurance_premium,
    e.gap_insurance_premium_confidence,
    e.refund_calculation_method,
    e.refund_calculation_method_confidence,
    e.cancellation_fee,
    e.cancellation_fee_confidence,
    e.min_confidence,
    e.min_confidence < t.threshold AS below_threshold,
    e.llm_provider,
    e.model_version,
    e.fallback_from,
    e.status,
    e.claimed_by,
    claimant.username AS claimed_by_username,
    e.claim_expires_at,
    e.reviewed_by,
    reviewer.username AS reviewed_by_username,
    e.reviewed_at,
    e.rejection_reason,
    (SELECT count(*) FROM corrections k WHERE k.extraction_id = e.id) AS correction_count,
    e.processing_time_ms,
    e.prompt_tokens,
    e.completion_tokens,
    e.cost_usd,
    e.extracted_at,
    e.version
FROM extractions e
JOIN contracts c ON c.contract_id = e.contract_id
CROSS JOIN (SELECT coalesce((SELECT value::integer FROM system_config WHERE key = 'confidence_threshold'), 80) AS threshold) t
LEFT JOIN users claimant ON claimant.id = e.claimed_by
LEFT JOIN users reviewer ON reviewer.id = e.reviewed_by;

-- Per user, all time. Each figure is an index-served aggregate over that
-- user's own rows (LATERAL), not one join of everything with COUNT(DISTINCT).
CREATE VIEW v_user_activity AS
SELECT
    u.id AS user_id,
    u.username,
    u.full_name,
    u.role,
    u.is_active,
    u.last_login_at,
    coalesce(r.reviewed, 0) AS reviewed_count,
    coalesce(r.approved, 0) AS approved_count,
    coalesce(r.rejected, 0) AS rejected_count,
    coalesce(k.corrections, 0) AS corrections_count,
    coalesce(k.corrected_extractions, 0) AS corrected_extractions_count,
    r.last_reviewed_at,
    a.last_event_at
FROM users u
LEFT JOIN LATERAL (
    SELECT count(*) AS reviewed,
           count(*) FILTER (WHERE x.status = 'approved') AS approved,
           count(*) FILTER (WHERE x.status = 'rejected') AS rejected,
           max(x.reviewed_at) AS last_reviewed_at
      FROM extractions x WHERE x.reviewed_by = u.id
) r ON true
LEFT JOIN LATERAL (
    SELECT count(*) AS corrections, count(DISTINCT c.extraction_id) AS corrected_extractions
      FROM corrections c WHERE c.corrected_by = u.id
) k ON true
LEFT JOIN LATERAL (
    SELECT max(ae.occurred_at) AS last_event_at FROM audit_events ae WHERE ae.user_id = u.id
) a ON true;

-- Daily statistics per provider and model, read from the incrementally
-- maintained extraction_metrics rather than recomputed from every extraction.
CREATE VIEW v_daily_extraction_stats AS
SELECT
    m.metric_date,
    m.llm_provider,
    m.model_version,
    m.extractions_count,
    m.pending_count,
    m.approved_count,
    m.rejected_count,
    m.corrected_count,
    m.below_threshold_count,
    m.fallback_count,
    m.avg_min_confidence,
    m.avg_processing_ms,
    m.prompt_tokens,
    m.completion_tokens,
    m.cost_usd,
    round(m.cost_usd / nullif(m.extractions_count, 0), 6) AS cost_per_extraction_usd,
    round(m.corrected_count::numeric / nullif(m.approved_count + m.rejected_count, 0), 4) AS correction_rate,
    round(m.below_threshold_count::numeric / nullif(m.extractions_count, 0), 4) AS review_rate
FROM extraction_metrics m;

-- One row per field of one extraction: what the AI extracted, what it is
-- now, and whether a person corrected it.
CREATE FUNCTION calculate_extraction_accuracy(p_extraction_id uuid)
RETURNS TABLE (
    field_name       text,
    original_value   text,
    corrected_value  text,
    was_corrected    boolean,
    correction_count integer,
    confidence       smallint
)
LANGUAGE sql STABLE AS $$
    SELECT f.field_name,
           coalesce(fc.original_value, f.current_value) AS original_value,
           CASE WHEN cc.n > 0 THEN f.current_value END AS corrected_value,
           cc.n > 0 AS was_corrected,
           cc.n::integer AS correction_count,
           f.confidence
      FROM extractions e
     CROSS JOIN LATERAL (VALUES
            (1, 'gap_insurance_premium', e.gap_insurance_premium::text, e.gap_insurance_premium_confidence),
            (2, 'refund_calculation_method', e.refund_calculation_method, e.refund_calculation_method_confidence),
            (3, 'cancellation_fee', e.cancellation_fee::text, e.cancellation_fee_confidence)
          ) AS f(ord, field_name, current_value, confidence)
      LEFT JOIN LATERAL (
            SELECT c.original_value FROM corrections c
             WHERE c.extraction_id = e.id AND c.field_name = f.field_name
             ORDER BY c.corrected_at, c.id LIMIT 1
          ) fc ON true
     CROSS JOIN LATERAL (
            SELECT count(*) AS n FROM corrections c
             WHERE c.extraction_id = e.id AND c.field_name = f.field_name
          ) cc
     WHERE e.id = p_extraction_id
     ORDER BY f.ord
$$;

-- Removes sessions that have ended, expired, or sat idle past the configured
-- idle timeout, and returns how many it removed.
CREATE FUNCTION cleanup_expired_sessions() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_idle_minutes integer := coalesce((SELECT value::integer FROM system_config WHERE key = 'idle_timeout_minutes'), 30);
    v_removed integer;
BEGIN
    DELETE FROM sessions
     WHERE ended_at IS NOT NULL
        OR expires_at <= now()
        OR last_activity_at <= now() - make_interval(mins => v_idle_minutes);
    GET DIAGNOSTICS v_removed = ROW_COUNT;
    RETURN v_removed;
END
$$;
