"""Reusable widgets: they render the plain data they are given and post messages; they never fetch."""
