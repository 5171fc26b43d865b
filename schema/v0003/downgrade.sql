-- The price entry added by 0003 stays: it is harmless, and an admin may have edited it since.
UPDATE system_config SET value = 'claude-sonnet-4-5'
 WHERE key = 'anthropic_model' AND value = 'claude-sonnet-4-6';
