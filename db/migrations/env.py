"""Alembic environment: runs on a connection handed over by db.migrate.

Migrations always run through `refund-review db upgrade` (or the tests),
which open the async connection themselves; there is no offline mode.
"""

from alembic import context

from db.models import Base
from db.schema_compare import include_name

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Run migrations with `refund-review db upgrade`; this project has no offline mode.")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    include_name=include_name,
    transaction_per_migration=True,
)
with context.begin_transaction():
    context.run_migrations()
