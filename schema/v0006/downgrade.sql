-- Reverses version 0006.
DELETE FROM system_config WHERE key = 'login_delay_max_seconds';
INSERT INTO system_config (key, value, value_type, description, allowed_values, min_value, max_value) VALUES
    ('lockout_minutes', '15', 'integer', 'How long a locked account stays locked.', NULL, 1, 1440);
UPDATE system_config SET description = 'Failed logins in a row before an account is locked.'
 WHERE key = 'max_failed_logins';

REVOKE SELECT (password_must_change) ON users FROM refund_review_reporting;
REVOKE SELECT (id, username, email, full_name, role, is_active, failed_login_count, locked_until,
    last_login_at, password_changed_at, password_must_change, created_at, updated_at)
    ON users FROM refund_review_app;
GRANT SELECT ON users TO refund_review_app;

DROP TABLE login_throttle;
DROP FUNCTION auth_password_hash(uuid);
DROP FUNCTION auth_username_digest(text);
DROP TABLE auth_secret;
ALTER TABLE users DROP COLUMN password_must_change;
