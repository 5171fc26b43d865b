-- Version 0006: Sessions and passwords: temporary passwords, throttled logins, revocable sessions (reserved; filled by the change that needs it).
SELECT 1;
