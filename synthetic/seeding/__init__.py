"""Loading data: demo data for people to try the product, and synthetic data at scale for benchmarks."""
