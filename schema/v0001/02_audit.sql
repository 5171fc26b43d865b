-- The audit log: append-only, range-partitioned by month, hash-chained.

CREATE TABLE audit_events (
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    seq         bigint      NOT NULL,
    occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    event_type  text        NOT NULL,
    user_id     uuid        REFERENCES users (id) ON DELETE RESTRICT,
    -- No foreign key: sessions are removed by cleanup_expired_sessions(), the
    -- evidence is not. The event carries the session's ip and user agent itself.
    session_id  uuid,
    contract_id text        REFERENCES contracts (contract_id) ON DELETE RESTRICT,
    ip_address  inet,
    user_agent  text,
    event_data  jsonb       NOT NULL DEFAULT '{}'::jsonb,
    prev_hash   bytea       NOT NULL,
    hash        bytea       NOT NULL,
    CONSTRAINT audit_events_pkey PRIMARY KEY (id, occurred_at),
    CONSTRAINT audit_events_event_type_valid CHECK (event_type IN (
        'login', 'login_failed', 'logout', 'session_expired', 'account_locked',
        'password_changed', 'password_reset',
        'user_created', 'user_updated', 'user_deactivated', 'user_reactivated', 'user_unlocked',
        'search', 'view', 'claim', 'release', 'correct', 'approve', 'reject', 'reopen',
        'extract', 'extract_failed', 'ingest', 'chat', 'config_changed',
        'audit_verified', 'audit_exported', 'partition_created', 'partition_archived',
        'sessions_cleaned', 'metrics_refreshed', 'seed')),
    CONSTRAINT audit_events_event_data_object CHECK (jsonb_typeof(event_data) = 'object'),
    CONSTRAINT audit_events_hash_length CHECK (octet_length(hash) = 32 AND octet_length(prev_hash) = 32),
    CONSTRAINT audit_events_seq_positive CHECK (seq >= 1)
) PARTITION BY RANGE (occurred_at);

CREATE TABLE audit_events_default PARTITION OF audit_events DEFAULT;

-- One row: the end of the chain. Every insert locks it, so links are made one
-- at a time in a single order, whatever the number of connections; and a tail
-- cut off behind the application's back no longer matches it.
CREATE TABLE audit_chain_head (
    id          smallint    PRIMARY KEY DEFAULT 1,
    last_seq    bigint      NOT NULL DEFAULT 0,
    last_hash   bytea       NOT NULL DEFAULT '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea,
    anchor_seq  bigint      NOT NULL DEFAULT 0,
    anchor_hash bytea       NOT NULL DEFAULT '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT audit_chain_head_single_row CHECK (id = 1),
    CONSTRAINT audit_chain_head_hash_length CHECK (octet_length(last_hash) = 32 AND octet_length(anchor_hash) = 32),
    CONSTRAINT audit_chain_head_anchor_behind CHECK (anchor_seq <= last_seq)
);
INSERT INTO audit_chain_head (id) VALUES (1);

CREATE TRIGGER audit_chain_head_set_updated_at BEFORE UPDATE ON audit_chain_head
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- The canonical content that an event's hash covers: every column but the
-- hashes, as a JSON array whose text PostgreSQL renders the same way every
-- time (jsonb sorts keys; the timestamp is spelled out in UTC). Scalar
-- arguments, because inside a partition trigger NEW has the partition's type.
CREATE FUNCTION audit_event_canonical(
    p_id uuid, p_seq bigint, p_occurred_at timestamptz, p_event_type text,
    p_user_id uuid, p_session_id uuid, p_contract_id text, p_ip_address inet,
    p_user_agent text, p_event_data jsonb
) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT jsonb_build_array(
        p_id::text, p_seq,
        to_char(p_occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        p_event_type, p_user_id::text, p_session_id::text, p_contract_id,
        p_ip_address::text, p_user_agent, p_event_data
    )::text
$$;

CREATE FUNCTION audit_event_hash(
    p_prev_hash bytea, p_id uuid, p_seq bigint, p_occurred_at timestamptz, p_event_type text,
    p_user_id uuid, p_session_id uuid, p_contract_id text, p_ip_address inet,
    p_user_agent text, p_event_data jsonb
) RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT sha256(p_prev_hash || convert_to(audit_event_canonical(
        p_id, p_seq, p_occurred_at, p_event_type, p_user_id, p_session_id,
        p_contract_id, p_ip_address, p_user_agent, p_event_data), 'UTF8'))
$$;

-- Links each new event to the chain. SECURITY DEFINER: the application role
-- has no right to touch audit_chain_head itself, and whatever it puts in
-- seq, prev_hash or hash is overwritten here.
CREATE FUNCTION audit_events_link_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_last_seq  bigint;
    v_last_hash bytea;
BEGIN
    SELECT last_seq, last_hash INTO v_last_seq, v_last_hash
      FROM audit_chain_head WHERE id = 1 FOR UPDATE;
    NEW.seq := v_last_seq + 1;
    NEW.prev_hash := v_last_hash;
    NEW.hash := audit_event_hash(NEW.prev_hash, NEW.id, NEW.seq, NEW.occurred_at, NEW.event_type,
        NEW.user_id, NEW.session_id, NEW.contract_id, NEW.ip_address, NEW.user_agent, NEW.event_data);
    UPDATE audit_chain_head SET last_seq = NEW.seq, last_hash = NEW.hash WHERE id = 1;
    RETURN NEW;
END
$$;

CREATE TRIGGER audit_events_link_chain BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_link_chain();

CREATE FUNCTION audit_events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Audit events are kept for 7 years; retention archives whole partitions.';
END
$$;

CREATE TRIGGER audit_events_refuse_update_delete BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
CREATE TRIGGER audit_events_refuse_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();
-- Statement triggers are not cloned onto partitions, so each partition gets its own.
CREATE TRIGGER audit_events_refuse_truncate BEFORE TRUNCATE ON audit_events_default
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();

-- Creates the partition for the month containing p_month, if missing, and
-- returns its name (NULL when it already existed). Events that had fallen
-- into the default partition for that month are moved into it without being
-- re-linked: they keep seq and hashes, so the chain is untouched.
CREATE FUNCTION create_audit_partition(p_month date) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_start date := date_trunc('month', p_month)::date;
    v_end   date := (date_trunc('month', p_month) + interval '1 month')::date;
    v_name  text := format('audit_events_y%sm%s', to_char(v_start, 'YYYY'), to_char(v_start, 'MM'));
BEGIN
    IF to_regclass(format('public.%I', v_name)) IS NOT NULL THEN
        RETURN NULL;
    END IF;
    -- Serialize partition maintenance; inserts carry on meanwhile. After the
    -- wait, ask pg_class (a fresh snapshot), not the possibly stale name cache.
    PERFORM pg_advisory_xact_lock(hashtext('refund_review.audit_partitions'));
    IF EXISTS (SELECT 1 FROM pg_class WHERE relname = v_name AND relnamespace = 'public'::regnamespace) THEN
        RETURN NULL;
    END IF;
    IF EXISTS (SELECT 1 FROM audit_events_default WHERE occurred_at >= v_start AND occurred_at < v_end) THEN
        ALTER TABLE audit_events DETACH PARTITION audit_events_default;
        ALTER TABLE audit_events_default RENAME TO audit_events_default_old;
        EXECUTE format('CREATE TABLE %I (LIKE audit_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_name);
        EXECUTE format('INSERT INTO %I SELECT * FROM audit_events_default_old WHERE occurred_at >= %L AND occurred_at < %L',
                       v_name, v_start, v_end);
        EXECUTE format('ALTER TABLE audit_events ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', v_name, v_start, v_end);
        CREATE TABLE audit_events_default (LIKE audit_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
        EXECUTE format('INSERT INTO audit_events_default SELECT * FROM audit_events_default_old WHERE NOT (occurred_at >= %L AND occurred_at < %L)',
                       v_start, v_end);
        ALTER TABLE audit_events ATTACH PARTITION audit_events_default DEFAULT;
        DROP TABLE audit_events_default_old;
        CREATE TRIGGER audit_events_refuse_truncate BEFORE TRUNCATE ON audit_events_default
            FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();
    ELSE
        EXECUTE format('CREATE TABLE %I PARTITION OF audit_events FOR VALUES FROM (%L) TO (%L)', v_name, v_start, v_end);
    END IF;
    EXECUTE format('CREATE TRIGGER audit_events_refuse_truncate BEFORE TRUNCATE ON %I '
                   'FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()', v_name);
    RETURN v_name;
END
$$;

-- Partitions from this month through p_months_ahead months ahead; returns the
-- names of those it created.
CREATE FUNCTION ensure_audit_partitions(p_months_ahead integer DEFAULT 3) RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_month date;
    v_name  text;
BEGIN
    IF p_months_ahead < 0 OR p_months_ahead > 120 THEN
        RAISE EXCEPTION 'months ahead must be between 0 and 120, not %', p_months_ahead
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR v_month IN
        SELECT generate_series(date_trunc('month', now()), date_trunc('month', now()) + make_interval(months => p_months_ahead), interval '1 month')::date
    LOOP
        v_name := create_audit_partition(v_month);
        IF v_name IS NOT NULL THEN
            RETURN NEXT v_name;
        END IF;
    END LOOP;
END
$$;

SELECT ensure_audit_partitions(3);
