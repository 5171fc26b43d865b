-- Version 0008: Triage loop (reserved; filled by the change that needs it).
SELECT 1;
