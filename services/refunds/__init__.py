"""Refund decisions: from a contract's reviewed fields to the refund a customer is owed, under their state's law.

``types`` holds the small value types every part shares; ``calculation`` is the pure, exact arithmetic
(no database, no clock); ``jurisdictions`` reads rules from CSV and selects the rule in force; ``rules``
lists and imports the stored rules (admins); ``requests`` opens, approves, pays and exports refunds.
"""
