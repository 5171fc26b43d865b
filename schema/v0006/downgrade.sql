-- Reverses version 0006.
SELECT 1;
