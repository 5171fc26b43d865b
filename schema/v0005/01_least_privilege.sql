-- Version 0005: least privilege. Three roles with distinct jobs:
--
--   owner                     whoever runs the migrations: owns every table and function, runs
--                             `maintain` and archiving. Never the workstation's login.
--   refund_review_app         what the services need and nothing more: no ownership, no TRUNCATE,
--                             no DDL, no UPDATE or DELETE on the audit tables, and no INSERT into
--                             audit_events: events go in only through append_audit_events().
--   refund_review_reporting   read-only (dashboards on a replica, BI tools), never password hashes.
--
-- A workstation connects with a LOGIN role that is a member of refund_review_app only
-- (`refund-review db create-login`), so no SET ROLE can reach the owner.

-- Nobody but the owner creates objects in the schema (PostgreSQL 15 already withholds CREATE from
-- PUBLIC on a new database; a database upgraded from an older server may still grant it).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM refund_review_app, refund_review_reporting;
REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM refund_review_app;

-- `db status` from a workstation reads which revision the schema is at.
GRANT SELECT ON alembic_version TO refund_review_app, refund_review_reporting;

-- The audit log: read, and append through the function below only.
REVOKE INSERT, UPDATE, DELETE ON audit_events, audit_chain_head FROM refund_review_app;

-- Sessions: opened at login, touched on activity, ended once. Who a session belongs to, where it
-- came from and when it expires are written at login and never changed; removing expired
-- sessions is cleanup_expired_sessions()' job.
REVOKE UPDATE, DELETE ON sessions FROM refund_review_app;
GRANT UPDATE (last_activity_at, ended_at, end_reason) ON sessions TO refund_review_app;

-- Removing ended, expired and idle sessions is the cleanup function's job alone.
ALTER FUNCTION cleanup_expired_sessions() SECURITY DEFINER SET search_path = public, pg_temp;

-- An ended session is final: it is never reopened, extended or ended again, so events can no
-- longer be appended in its name (see append_audit_events).
CREATE FUNCTION sessions_refuse_change_after_end() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'session % has ended and cannot be changed', OLD.id
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Log in again to open a new session.';
END
$$;

-- The WHEN clause is checked without calling the function, so live sessions pay nothing.
CREATE TRIGGER sessions_final_once_ended BEFORE UPDATE ON sessions
    FOR EACH ROW WHEN (OLD.ended_at IS NOT NULL) EXECUTE FUNCTION sessions_refuse_change_after_end();

-- Appends audit events: the ONLY way the application role adds to the log. The i-th event is
-- (p_session_ids[i], p_event_types[i], p_contract_ids[i], p_event_data[i], p_ip_addresses[i],
-- p_user_agents[i]); all in one call so that a unit of work pays one round trip.
--
-- * occurred_at is the server's clock (clock_timestamp()); a client cannot back-date an event.
-- * An event that names a session is that session's user's, with the session's ip address and
--   user agent (the client's are ignored). The session must exist and be open: not ended and
--   not expired, or ended by this very transaction (logout and expiry end the session and
--   record their event together; ended_at is then this transaction's now(), and an ended
--   session can no longer be changed). One exception, in v_failures: a wrong password typed on
--   the lock screen of a session that has run out is recorded in that session's name (still its
--   user's, at the server's time).
-- * An event without a session belongs to nobody (user_id NULL) and is allowed only for the
--   types in v_sessionless below: a failed login or lock-out (before anyone is logged in) and
--   what the command-line operator does (ingest, extraction, seeding, maintenance, user
--   administration, rule imports, refund exports, automatic approval). The ip address and user agent are the caller's own claim, kept as given.
--   Every type a person does in the workstation (login, logout, search, view, claim, release,
--   correct, approve, reject, reopen, chat, password_changed, session_expired, config_changed)
--   needs a session.
CREATE FUNCTION append_audit_events(
    p_session_ids uuid[], p_event_types text[], p_contract_ids text[], p_event_data jsonb[],
    p_ip_addresses inet[], p_user_agents text[]
) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_sessionless CONSTANT text[] := ARRAY[
        'login_failed', 'account_locked',
        'user_created', 'user_updated', 'user_deactivated', 'user_reactivated', 'user_unlocked',
        'password_reset',
        'ingest', 'extract', 'extract_failed', 'seed',
        'audit_verified', 'audit_exported', 'partition_created', 'partition_archived',
        'sessions_cleaned', 'metrics_refreshed',
        'rules_changed', 'refunds_exported', 'auto_approve'];
    v_failures CONSTANT text[] := ARRAY['login_failed', 'account_locked'];
    v_count   integer := coalesce(cardinality(p_event_types), 0);
    v_session sessions%ROWTYPE;
BEGIN
    IF v_count = 0
       OR coalesce(cardinality(p_session_ids), 0) <> v_count
       OR coalesce(cardinality(p_contract_ids), 0) <> v_count
       OR coalesce(cardinality(p_event_data), 0) <> v_count
       OR coalesce(cardinality(p_ip_addresses), 0) <> v_count
       OR coalesce(cardinality(p_user_agents), 0) <> v_count THEN
        RAISE EXCEPTION 'append_audit_events takes one or more events, every array of the same length'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR i IN 1 .. v_count LOOP
        IF p_session_ids[i] IS NULL THEN
            IF NOT p_event_types[i] = ANY (v_sessionless) THEN
                RAISE EXCEPTION 'a % event needs the session of the person who did it', p_event_types[i]
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            INSERT INTO audit_events (occurred_at, event_type, user_id, session_id, contract_id,
                                      ip_address, user_agent, event_data)
            VALUES (clock_timestamp(), p_event_types[i], NULL, NULL, p_contract_ids[i],
                    p_ip_addresses[i], p_user_agents[i], coalesce(p_event_data[i], '{}'::jsonb));
        ELSE
            SELECT * INTO v_session FROM sessions WHERE id = p_session_ids[i];
            IF NOT FOUND THEN
                RAISE EXCEPTION 'session % does not exist, so no event can be recorded in its name', p_session_ids[i]
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF NOT ((v_session.ended_at IS NULL AND v_session.expires_at > clock_timestamp())
                    OR coalesce(v_session.ended_at = now(), false)
                    OR p_event_types[i] = ANY (v_failures)) THEN
                RAISE EXCEPTION 'session % has ended or expired, so no event can be recorded in its name', p_session_ids[i]
                    USING ERRCODE = 'insufficient_privilege', HINT = 'Log in again.';
            END IF;
            INSERT INTO audit_events (occurred_at, event_type, user_id, session_id, contract_id,
                                      ip_address, user_agent, event_data)
            VALUES (clock_timestamp(), p_event_types[i], v_session.user_id, v_session.id, p_contract_ids[i],
                    v_session.ip_address, v_session.user_agent, coalesce(p_event_data[i], '{}'::jsonb));
        END IF;
    END LOOP;
END
$$;

REVOKE EXECUTE ON FUNCTION append_audit_events(uuid[], text[], text[], jsonb[], inet[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION append_audit_events(uuid[], text[], text[], jsonb[], inet[], text[]) TO refund_review_app;
REVOKE EXECUTE ON FUNCTION sessions_refuse_change_after_end() FROM PUBLIC;
