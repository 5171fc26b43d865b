"""Synthetic data for showing and measuring the product, never part of it: ``services`` does not import it.

* ``synthetic.contracts`` — GAP contracts that read like real ones, with their ground truth;
* ``synthetic.seeding`` — loading them: demo data for people (through the services, as reviewers would),
  and data at scale for the benchmarks (by COPY, behind the audit log's triggers).
"""
