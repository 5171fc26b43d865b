-- Reverses version 0013.
SELECT 1;
