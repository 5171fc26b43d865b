-- Version 0013: Quality: double checks of QA items, per-provider thresholds (reserved; filled by the change that needs it).
SELECT 1;
