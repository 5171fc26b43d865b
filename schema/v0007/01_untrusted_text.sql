-- Version 0007: Untrusted text: bounds and checks on stored text (reserved; filled by the change that needs it).
SELECT 1;
