-- Reverses version 0009.
DELETE FROM system_config WHERE key = 'refund_four_eyes_amount';
DROP TABLE refund_requests;
DROP SEQUENCE refund_requests_approval_seq;
DROP TABLE jurisdiction_rules;

-- Audit events are evidence and are never deleted, so rows of the types 0009 added may
-- remain: the narrower CHECK applies to new rows only (NOT VALID).
DO $$
DECLARE
    types text[];
BEGIN
    SELECT array_agg(DISTINCT m[1] ORDER BY m[1]) INTO types
      FROM pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '''([a-z_]+)''', 'g') AS m
     WHERE c.conrelid = 'audit_events'::regclass AND c.conname = 'audit_events_event_type_valid'
       AND m[1] NOT IN ('rules_changed', 'refund_requested', 'refund_approved', 'refund_paid', 'refunds_exported');
    ALTER TABLE audit_events DROP CONSTRAINT audit_events_event_type_valid;
    EXECUTE format(
        'ALTER TABLE audit_events ADD CONSTRAINT audit_events_event_type_valid CHECK (event_type IN (%s)) NOT VALID',
        (SELECT string_agg(quote_literal(t), ', ' ORDER BY t) FROM unnest(types) AS t));
END
$$;
