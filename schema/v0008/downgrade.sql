-- Reverses version 0008.
SELECT 1;
