"""Data layer: engines, models, unit of work, embedded PostgreSQL and migrations.

Nothing above this package knows whether it talks to the embedded server or
to a real one: both arrive here as a URL.
"""
