-- Version 0006: Sessions and passwords: temporary passwords, throttled logins, a keyed hash for
-- usernames typed at a failed login, and password hashes out of the application's reach.

-- A password set by an administrator (new user, reset) is temporary: the next login must replace it
-- before the session may do anything else (services.access.authorize refuses every other call).
ALTER TABLE users ADD COLUMN password_must_change boolean NOT NULL DEFAULT false;

-- The key of the HMAC that stands for a typed username in `login_failed` events and in the login
-- throttle. It is made here, on the server, from pg_strong_random (through gen_random_uuid: 244
-- random bits), and never leaves the database: no role but the owner may read this table; the
-- application gets digests from auth_username_digest() and never the key. So a supervisor reading
-- the audit log (or a workstation's credentials) cannot test guesses of what was typed, while the
-- same typed name always gives the same digest, so repeated attempts can be told apart and throttled.
-- HMAC-SHA256 (RFC 2104) is written out with the built-in sha256(): the key is padded to the
-- 64-byte block and the inner and outer pads are stored ready, so no extension is needed.
CREATE TABLE auth_secret (
    id          smallint    PRIMARY KEY DEFAULT 1,
    inner_pad   bytea       NOT NULL,
    outer_pad   bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT auth_secret_single_row CHECK (id = 1),
    CONSTRAINT auth_secret_pads_block CHECK (length(inner_pad) = 64 AND length(outer_pad) = 64)
);

DO $$
DECLARE
    secret bytea := decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex')
                    || decode(repeat('00', 32), 'hex');
    inner_pad bytea := secret;
    outer_pad bytea := secret;
BEGIN
    FOR i IN 0 .. 63 LOOP
        inner_pad := set_byte(inner_pad, i, get_byte(secret, i) # 54);  -- 0x36
        outer_pad := set_byte(outer_pad, i, get_byte(secret, i) # 92);  -- 0x5c
    END LOOP;
    INSERT INTO auth_secret (inner_pad, outer_pad) VALUES (inner_pad, outer_pad);
END
$$;

-- The hex HMAC-SHA256 of a typed username as the login compares it (trimmed, lower case).
CREATE FUNCTION auth_username_digest(p_username text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
    SELECT encode(sha256(s.outer_pad || sha256(s.inner_pad || convert_to(lower(btrim(p_username)), 'UTF8'))), 'hex')
      FROM auth_secret s
     WHERE s.id = 1
$$;

-- The one way the application reads a password hash: one user's, for the bcrypt check of a login,
-- an unlock or a password change. The column itself is not granted (below), so no query of the
-- application (nor of reporting) can list the hashes.
CREATE FUNCTION auth_password_hash(p_user_id uuid) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
    SELECT password_hash FROM users WHERE id = p_user_id
$$;

REVOKE EXECUTE ON FUNCTION auth_username_digest(text), auth_password_hash(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_username_digest(text), auth_password_hash(uuid) TO refund_review_app;

-- Failed logins per typed username (its digest), known user or not: after max_failed_logins
-- failures each further attempt must wait, 1 second doubling up to login_delay_max_seconds. No
-- account is ever locked by someone else's guesses, and the answer is the same whether the
-- username exists or not. A row goes when its username logs in, or when an admin unlocks the user.
CREATE TABLE login_throttle (
    username_digest text        PRIMARY KEY,
    failures        integer     NOT NULL,
    last_failure_at timestamptz NOT NULL DEFAULT now(),
    retry_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT login_throttle_failures_positive CHECK (failures > 0),
    CONSTRAINT login_throttle_digest_hex CHECK (username_digest ~ '^[0-9a-f]{64}$')
);
-- Rows a day old are forgotten, a few at each new failure (services.login_throttle.count_failure).
CREATE INDEX login_throttle_last_failure_at_idx ON login_throttle (last_failure_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON login_throttle TO refund_review_app;

-- The application reads every column of users but the hash; it still sets it (create, reset,
-- change) and reads it only through auth_password_hash().
REVOKE SELECT ON users FROM refund_review_app;
GRANT SELECT (id, username, email, full_name, role, is_active, failed_login_count, locked_until,
    last_login_at, password_changed_at, password_must_change, created_at, updated_at)
    ON users TO refund_review_app;
GRANT SELECT (password_must_change) ON users TO refund_review_reporting;

-- A hard lock-out anyone could trigger by typing a name is replaced by growing delays.
UPDATE system_config
   SET description = 'Failed logins for one username before each further attempt must wait (1 second, doubling).'
 WHERE key = 'max_failed_logins';
DELETE FROM system_config WHERE key = 'lockout_minutes';
INSERT INTO system_config (key, value, value_type, description, allowed_values, min_value, max_value) VALUES
    ('login_delay_max_seconds', '900', 'integer',
     'The longest wait between two login attempts for one username after repeated failures.', NULL, 1, 86400);
