"""Tests of the synthetic contract generator (services.synthetic)."""
