-- Database roles. Roles are cluster-wide, so they may exist already (another
-- database of the same server); grants are per database.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'refund_review_app') THEN
        CREATE ROLE refund_review_app NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'refund_review_reporting') THEN
        CREATE ROLE refund_review_reporting NOLOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO refund_review_app, refund_review_reporting;

-- The application: what its services need, and no more. History tables take
-- inserts only; audit_events is never granted UPDATE, DELETE or TRUNCATE.
GRANT SELECT, INSERT, UPDATE ON users, contracts, extractions TO refund_review_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON sessions, extraction_metrics TO refund_review_app;
GRANT SELECT, UPDATE ON system_config TO refund_review_app;
GRANT SELECT, INSERT ON corrections, chat_messages, audit_events TO refund_review_app;
GRANT SELECT ON audit_chain_head, v_extraction_details, v_user_activity, v_daily_extraction_stats TO refund_review_app;

-- Reporting (dashboards on a replica, BI tools): read-only, and never the
-- password hashes.
GRANT SELECT ON sessions, contracts, extractions, corrections, system_config, chat_messages,
    extraction_metrics, audit_events, audit_chain_head,
    v_extraction_details, v_user_activity, v_daily_extraction_stats TO refund_review_reporting;
GRANT SELECT (id, username, email, full_name, role, is_active, failed_login_count, locked_until,
    last_login_at, password_changed_at, created_at, updated_at) ON users TO refund_review_reporting;

-- SECURITY DEFINER functions are callable only by whom we say.
REVOKE EXECUTE ON FUNCTION audit_events_link_chain(), create_audit_partition(date),
    ensure_audit_partitions(integer), cleanup_expired_sessions() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ensure_audit_partitions(integer), create_audit_partition(date),
    cleanup_expired_sessions() TO refund_review_app;
