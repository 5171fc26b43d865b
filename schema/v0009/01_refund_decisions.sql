-- Version 0009: Refund decisions: the jurisdiction rules a refund is decided under, and refund requests.
--
-- One row per state and effective date: the rule in force on a contract's date is
-- the latest whose effective_from is on or before it. The row with is_default (state
-- '*') applies where a state has no rule of its own; it is the product's default,
-- not law. The starter rows come from services/refunds/starter_rules.csv (the
-- migration inserts them after this file), so the shipped rules are written down once.
CREATE TABLE jurisdiction_rules (
    id                   uuid         PRIMARY KEY DEFAULT gen_random_uuid(),
    state                text         NOT NULL,
    effective_from       date         NOT NULL,
    free_look_days       integer      NOT NULL DEFAULT 0,
    fee_allowed          boolean      NOT NULL DEFAULT true,
    fee_cap              numeric(10,2),
    methods_allowed      text[]       NOT NULL DEFAULT '{}',  -- empty: any method
    pro_rata_basis       text         NOT NULL DEFAULT 'days',
    short_rate_factor    numeric(5,4) NOT NULL DEFAULT 0.90,
    written_request_days integer,  -- NULL: no window (e.g. the refund is automatic on payoff)
    payment_due_days     integer,
    citation             text         NOT NULL,
    is_default           boolean      NOT NULL DEFAULT false,
    notes                text         NOT NULL DEFAULT '',
    updated_by           uuid         REFERENCES users (id) ON DELETE SET NULL,
    created_at           timestamptz  NOT NULL DEFAULT now(),
    updated_at           timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT jurisdiction_rules_state_effective_from_key UNIQUE (state, effective_from),
    CONSTRAINT jurisdiction_rules_state_valid CHECK (
        (is_default AND state = '*') OR (NOT is_default AND state ~ '^[A-Z]{2}$')),
    CONSTRAINT jurisdiction_rules_free_look_days_range CHECK (free_look_days BETWEEN 0 AND 365),
    CONSTRAINT jurisdiction_rules_fee_cap_valid CHECK (
        fee_cap IS NULL OR (fee_cap >= 0 AND (fee_allowed OR fee_cap = 0))),
    CONSTRAINT jurisdiction_rules_methods_valid CHECK (
        methods_allowed <@ ARRAY['Pro-Rata', 'Rule of 78s', 'Actuarial', 'Short-Rate', 'Unknown']::text[]),
    CONSTRAINT jurisdiction_rules_pro_rata_basis_valid CHECK (pro_rata_basis IN ('days', 'months')),
    CONSTRAINT jurisdiction_rules_short_rate_factor_range CHECK (short_rate_factor > 0 AND short_rate_factor <= 1),
    CONSTRAINT jurisdiction_rules_written_request_days_range CHECK (written_request_days BETWEEN 0 AND 3650),
    CONSTRAINT jurisdiction_rules_payment_due_days_range CHECK (payment_due_days BETWEEN 0 AND 3650),
    CONSTRAINT jurisdiction_rules_citation_length CHECK (length(citation) BETWEEN 1 AND 500),
    CONSTRAINT jurisdiction_rules_notes_length CHECK (length(notes) <= 1000)
);

CREATE INDEX jurisdiction_rules_updated_by_idx ON jurisdiction_rules (updated_by);
CREATE TRIGGER jurisdiction_rules_set_updated_at BEFORE UPDATE ON jurisdiction_rules
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- A refund request: the cancellation, the inputs it was computed from (the contract's
-- approved fields, and term/state/APR as given until extraction yields them), the verdict
-- with its steps, and its way through approval (four eyes above refund_four_eyes_amount)
-- to payment. approval_seq orders approved refunds for the incremental export.
CREATE SEQUENCE refund_requests_approval_seq;

CREATE TABLE refund_requests (
    id                 uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    contract_id        text          NOT NULL REFERENCES contracts (contract_id) ON DELETE RESTRICT,
    cancel_date        date          NOT NULL,
    reason             text          NOT NULL,
    request_date       date          NOT NULL,
    premium            numeric(10,2),
    method             text,
    fee                numeric(10,2),
    term_months        integer,
    state              text,
    apr                numeric(7,4),
    rule_id            uuid          REFERENCES jurisdiction_rules (id) ON DELETE RESTRICT,
    verdict            text          NOT NULL,
    refund_amount      numeric(10,2),
    fee_applied        numeric(10,2) NOT NULL DEFAULT 0,
    method_used        text,
    reasons            jsonb         NOT NULL DEFAULT '[]'::jsonb,
    flags              jsonb         NOT NULL DEFAULT '[]'::jsonb,
    steps              jsonb         NOT NULL,
    pay_by             date,
    status             text          NOT NULL,
    requested_by       uuid          REFERENCES users (id) ON DELETE RESTRICT,
    requested_at       timestamptz   NOT NULL DEFAULT now(),
    first_approved_by  uuid          REFERENCES users (id) ON DELETE RESTRICT,
    first_approved_at  timestamptz,
    approved_by        uuid          REFERENCES users (id) ON DELETE RESTRICT,
    approved_at        timestamptz,
    approval_seq       bigint,
    paid_by            uuid          REFERENCES users (id) ON DELETE RESTRICT,
    paid_at            timestamptz,
    payment_reference  text,
    exported_at        timestamptz,
    version            integer       NOT NULL DEFAULT 1,
    updated_at         timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT refund_requests_approval_seq_key UNIQUE (approval_seq),
    CONSTRAINT refund_requests_reason_valid CHECK (reason IN ('payoff', 'refinance', 'sale', 'voluntary',
        'total-loss-benefit-paid', 'total-loss-no-benefit', 'repossession')),
    CONSTRAINT refund_requests_verdict_valid CHECK (verdict IN ('eligible', 'not eligible', 'needs information')),
    CONSTRAINT refund_requests_status_valid CHECK (status IN ('open', 'awaiting_second_approval', 'approved', 'paid', 'not_payable')),
    CONSTRAINT refund_requests_amounts_nonnegative CHECK (refund_amount >= 0 AND fee_applied >= 0 AND premium >= 0 AND fee >= 0),
    CONSTRAINT refund_requests_term_range CHECK (term_months BETWEEN 1 AND 600),
    CONSTRAINT refund_requests_state_format CHECK (state ~ '^[A-Z]{2}$'),
    CONSTRAINT refund_requests_apr_range CHECK (apr BETWEEN 0 AND 100),
    CONSTRAINT refund_requests_steps_array CHECK (jsonb_typeof(steps) = 'array'),
    CONSTRAINT refund_requests_payable_only_when_eligible CHECK (
        (status = 'not_payable') = (verdict <> 'eligible')),
    CONSTRAINT refund_requests_approved_has_approver CHECK (
        status NOT IN ('approved', 'paid') OR (approved_by IS NOT NULL AND approved_at IS NOT NULL AND approval_seq IS NOT NULL)),
    CONSTRAINT refund_requests_paid_has_payment CHECK (status <> 'paid' OR (paid_by IS NOT NULL AND paid_at IS NOT NULL)),
    -- Four eyes, held by the database too: the second approver is someone else.
    CONSTRAINT refund_requests_four_eyes CHECK (first_approved_by IS NULL OR approved_by IS NULL OR first_approved_by <> approved_by),
    CONSTRAINT refund_requests_payment_reference_length CHECK (length(payment_reference) BETWEEN 1 AND 200),
    CONSTRAINT refund_requests_version_positive CHECK (version >= 1)
);

-- One live refund per contract: a request that cannot be paid does not block a new one.
CREATE UNIQUE INDEX refund_requests_one_live_per_contract ON refund_requests (contract_id)
    WHERE status <> 'not_payable';
CREATE INDEX refund_requests_open_by_due_idx ON refund_requests (pay_by, requested_at)
    WHERE status IN ('open', 'awaiting_second_approval', 'approved');
CREATE INDEX refund_requests_contract_idx ON refund_requests (contract_id, requested_at);
CREATE INDEX refund_requests_requested_by_idx ON refund_requests (requested_by);
CREATE INDEX refund_requests_first_approved_by_idx ON refund_requests (first_approved_by);
CREATE INDEX refund_requests_approved_by_idx ON refund_requests (approved_by);
CREATE INDEX refund_requests_paid_by_idx ON refund_requests (paid_by);
CREATE INDEX refund_requests_rule_id_idx ON refund_requests (rule_id);

CREATE TRIGGER refund_requests_set_updated_at BEFORE UPDATE ON refund_requests
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

INSERT INTO system_config (key, value, value_type, description, allowed_values, min_value, max_value) VALUES
    ('refund_four_eyes_amount', '1000', 'decimal',
     'Refunds above this amount need a second person to approve them (four eyes).', NULL, 0, 99999999.99);

-- Admins edit the rules through the services (each change audited); everyone reads them.
GRANT SELECT, INSERT, UPDATE ON jurisdiction_rules, refund_requests TO refund_review_app;
GRANT USAGE ON SEQUENCE refund_requests_approval_seq TO refund_review_app;
GRANT SELECT ON jurisdiction_rules, refund_requests TO refund_review_reporting;

-- A change to the rules is evidence like any other. The CHECK is rebuilt from the
-- list in force, not from version 0001's, so event types that the versions between
-- added stay allowed.
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
        (SELECT string_agg(quote_literal(t), ', ' ORDER BY t) FROM unnest(types || ARRAY['rules_changed', 'refund_requested', 'refund_approved', 'refund_paid', 'refunds_exported']) AS t));
END
$$;
