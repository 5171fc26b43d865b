-- Version 0012: Refund operations: rejection, rules edited in the workstation (reserved; filled by the change that needs it).
SELECT 1;
