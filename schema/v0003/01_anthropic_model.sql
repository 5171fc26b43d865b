-- claude-sonnet-4-5 reaches its end of life on 2026-11-30 (the anthropic SDK warns so). Installations
-- still on that default move to its successor; one an admin chose deliberately is left alone.
UPDATE system_config SET value = 'claude-sonnet-4-6'
 WHERE key = 'anthropic_model' AND value = 'claude-sonnet-4-5';

UPDATE system_config
   SET value = (value::jsonb || jsonb_build_object('claude-sonnet-4-6', value::jsonb -> 'claude-sonnet-4-5'))::text
 WHERE key = 'llm_pricing' AND value::jsonb ? 'claude-sonnet-4-5' AND NOT value::jsonb ? 'claude-sonnet-4-6';
