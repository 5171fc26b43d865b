-- Reverses version 0010.
SELECT 1;
