-- Reverses version 0005: the application role's grants as version 0001 made them.
DROP FUNCTION append_audit_events(uuid[], text[], text[], jsonb[], inet[], text[]);
DROP TRIGGER sessions_final_once_ended ON sessions;
DROP FUNCTION sessions_refuse_change_after_end();
REVOKE UPDATE (last_activity_at, ended_at, end_reason) ON sessions FROM refund_review_app;
GRANT UPDATE, DELETE ON sessions TO refund_review_app;
ALTER FUNCTION cleanup_expired_sessions() SECURITY INVOKER RESET search_path;
GRANT INSERT ON audit_events TO refund_review_app;
REVOKE SELECT ON alembic_version FROM refund_review_app, refund_review_reporting;
