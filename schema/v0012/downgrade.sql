-- Reverses version 0012.
DROP TRIGGER jurisdiction_rules_used_are_fixed ON jurisdiction_rules;
DROP FUNCTION jurisdiction_rules_used_are_fixed();
DROP INDEX refund_requests_requested_at_idx;

-- A rejected request has no place before 0012 (its verdict is "eligible", so it cannot become
-- not_payable); requests are evidence, so the downgrade refuses while any exist rather than rewrite them.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM refund_requests WHERE status = 'rejected') THEN
        RAISE EXCEPTION 'rejected refund requests exist; version 0011 has no place for them';
    END IF;
END
$$;
DROP INDEX refund_requests_one_live_per_contract;
CREATE UNIQUE INDEX refund_requests_one_live_per_contract ON refund_requests (contract_id)
    WHERE status <> 'not_payable';
DROP INDEX refund_requests_rejected_by_idx;
ALTER TABLE refund_requests DROP CONSTRAINT refund_requests_rejected_not_approved;
ALTER TABLE refund_requests DROP CONSTRAINT refund_requests_rejection_reason_length;
ALTER TABLE refund_requests DROP CONSTRAINT refund_requests_rejected_has_reason;
ALTER TABLE refund_requests DROP CONSTRAINT refund_requests_status_valid;
ALTER TABLE refund_requests ADD CONSTRAINT refund_requests_status_valid CHECK (
    status IN ('open', 'awaiting_second_approval', 'approved', 'paid', 'not_payable'));
ALTER TABLE refund_requests
    DROP COLUMN rejection_reason,
    DROP COLUMN rejected_at,
    DROP COLUMN rejected_by;

-- Audit events are evidence and are never deleted: the narrower CHECK applies to new rows only.
DO $$
DECLARE
    types text[];
BEGIN
    SELECT array_agg(DISTINCT m[1] ORDER BY m[1]) INTO types
      FROM pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '''([a-z_]+)''', 'g') AS m
     WHERE c.conrelid = 'audit_events'::regclass AND c.conname = 'audit_events_event_type_valid'
       AND m[1] <> 'refund_rejected';
    ALTER TABLE audit_events DROP CONSTRAINT audit_events_event_type_valid;
    EXECUTE format(
        'ALTER TABLE audit_events ADD CONSTRAINT audit_events_event_type_valid CHECK (event_type IN (%s)) NOT VALID',
        (SELECT string_agg(quote_literal(t), ', ' ORDER BY t) FROM unnest(types) AS t));
END
$$;
