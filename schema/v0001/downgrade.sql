-- Reverses version 0001. Roles are left in place when another database of the
-- same server still uses them.
DROP VIEW IF EXISTS v_daily_extraction_stats, v_user_activity, v_extraction_details;
DROP FUNCTION IF EXISTS calculate_extraction_accuracy(uuid), cleanup_expired_sessions(),
    ensure_audit_partitions(integer), create_audit_partition(date);
DROP TABLE IF EXISTS audit_events, audit_chain_head, extraction_metrics, chat_messages, system_config,
    corrections, extractions, contracts, sessions, users CASCADE;
DROP FUNCTION IF EXISTS audit_events_link_chain(), audit_events_refuse_change(), audit_event_hash(
    bytea, uuid, bigint, timestamptz, text, uuid, uuid, text, inet, text, jsonb), audit_event_canonical(
    uuid, bigint, timestamptz, text, uuid, uuid, text, inet, text, jsonb), set_updated_at();
DO $$
BEGIN
    REVOKE ALL ON SCHEMA public FROM refund_review_app, refund_review_reporting;
    DROP ROLE IF EXISTS refund_review_app;
    DROP ROLE IF EXISTS refund_review_reporting;
EXCEPTION WHEN dependent_objects_still_exist THEN
    RAISE NOTICE 'roles kept: another database still uses them';
END
$$;
DROP EXTENSION IF EXISTS pg_trgm;
