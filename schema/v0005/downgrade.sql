-- Reverses version 0005.
SELECT 1;
