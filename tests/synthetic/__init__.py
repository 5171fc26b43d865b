"""Tests of the synthetic contract generator (synthetic.contracts)."""
