"""Refund decisions: from a contract's reviewed fields to the refund a customer is owed, under their state's law.

``types`` holds the small value types every part shares; ``calculation`` is the pure, exact arithmetic
(no database, no clock); ``jurisdictions`` selects the rule in force; ``rules`` is the database-backed
service that lists and imports rules for admins.
"""
