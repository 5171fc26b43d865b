-- Reverses version 0011.
SELECT 1;
