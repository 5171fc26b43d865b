-- Version 0009: Refund decisions, part one: the jurisdiction rules a refund is decided under.
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

-- Admins edit the rules through the services (each change audited); everyone reads them.
GRANT SELECT, INSERT, UPDATE ON jurisdiction_rules TO refund_review_app;
GRANT SELECT ON jurisdiction_rules TO refund_review_reporting;

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
        (SELECT string_agg(quote_literal(t), ', ' ORDER BY t) FROM unnest(types || ARRAY['rules_changed']) AS t));
END
$$;
