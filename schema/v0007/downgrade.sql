-- Reverses version 0007.
SELECT 1;
