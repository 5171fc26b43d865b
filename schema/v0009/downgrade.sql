-- Reverses version 0009.
SELECT 1;
