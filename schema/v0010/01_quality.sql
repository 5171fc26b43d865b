-- Version 0010: Trust in what nobody reviews: QA samples, automatic approval, per-field thresholds (reserved; filled by the change that needs it).
SELECT 1;
