-- Version 0009: Refund decisions: term, state and APR on extractions; jurisdiction rules; refund requests (reserved; filled by the change that needs it).
SELECT 1;
