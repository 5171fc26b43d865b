-- Version 0012: refund operations — rejecting a request, and rules edited in the workstation.

-- A supervisor may reject an open request (a duplicate, a request the customer withdrew, a
-- contract that is not the customer's): the request keeps its computed verdict and steps and
-- says who rejected it, when and why. A rejected request is never exported and, like one
-- that cannot be paid, does not block a new request for the same contract.
ALTER TABLE refund_requests
    ADD COLUMN rejected_by      uuid        REFERENCES users (id) ON DELETE RESTRICT,
    ADD COLUMN rejected_at      timestamptz,
    ADD COLUMN rejection_reason text;
ALTER TABLE refund_requests DROP CONSTRAINT refund_requests_status_valid;
ALTER TABLE refund_requests ADD CONSTRAINT refund_requests_status_valid CHECK (
    status IN ('open', 'awaiting_second_approval', 'approved', 'paid', 'not_payable', 'rejected'));
ALTER TABLE refund_requests ADD CONSTRAINT refund_requests_rejected_has_reason CHECK (
    (status = 'rejected') = (rejected_by IS NOT NULL AND rejected_at IS NOT NULL AND rejection_reason IS NOT NULL));
ALTER TABLE refund_requests ADD CONSTRAINT refund_requests_rejection_reason_length CHECK (
    length(rejection_reason) BETWEEN 1 AND 500);
-- Only a request not yet approved can be rejected: an approved refund may already be with the payment system.
ALTER TABLE refund_requests ADD CONSTRAINT refund_requests_rejected_not_approved CHECK (
    status <> 'rejected' OR approval_seq IS NULL);
CREATE INDEX refund_requests_rejected_by_idx ON refund_requests (rejected_by);
DROP INDEX refund_requests_one_live_per_contract;
CREATE UNIQUE INDEX refund_requests_one_live_per_contract ON refund_requests (contract_id)
    WHERE status NOT IN ('not_payable', 'rejected');

-- The dashboard's refund figures count requests by the day they were made.
CREATE INDEX refund_requests_requested_at_idx ON refund_requests (requested_at);

-- A rule a refund request was decided under is evidence: an auditor must see the rule that
-- applied to a past refund. Such a row is never changed; the law changing is a new version (a
-- new effective date). The services refuse it with a sentence; this trigger holds it for
-- every other writer too.
CREATE FUNCTION jurisdiction_rules_used_are_fixed() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM refund_requests WHERE rule_id = OLD.id) THEN
        RAISE EXCEPTION 'the jurisdiction rule % from % was used by a refund request and cannot be changed; add a new version instead',
            OLD.state, OLD.effective_from
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER jurisdiction_rules_used_are_fixed BEFORE UPDATE ON jurisdiction_rules
    FOR EACH ROW EXECUTE FUNCTION jurisdiction_rules_used_are_fixed();

-- Rejections are audited; the CHECK is rebuilt from the list in force (see version 0009).
DO $$
DECLARE
    types text[];
BEGIN
    SELECT array_agg(DISTINCT m[1] ORDER BY m[1]) INTO types
      FROM pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '''([a-z_]+)''', 'g') AS m
     WHERE c.conrelid = 'audit_events'::regclass AND c.conname = 'audit_events_event_type_valid';
    ALTER TABLE audit_events DROP CONSTRAINT audit_events_event_type_valid;
    EXECUTE format(
        'ALTER TABLE audit_events ADD CONSTRAINT audit_events_event_type_valid CHECK (event_type IN (%s))',
        (SELECT string_agg(quote_literal(t), ', ' ORDER BY t) FROM unnest(types || ARRAY['refund_rejected']) AS t));
END
$$;
