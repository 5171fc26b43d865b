-- Reverses version 0012.
SELECT 1;
