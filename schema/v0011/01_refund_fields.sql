-- Version 0011: Refund fields: term, governing state and APR on extractions (reserved; filled by the change that needs it).
SELECT 1;
