"""Running the schema's SQL files inside an Alembic migration.

The files hold functions with dollar-quoted bodies and many statements, which
a prepared statement cannot take; asyncpg's simple-query `execute` runs a
whole script, on the migration's own connection and transaction.
"""

from alembic import op
from sqlalchemy.util import await_only

from schema import sql_files, sql_text


def run_sql(sql: str) -> None:
    """Execute a multi-statement script in the current migration's transaction."""
    driver_connection = op.get_bind().connection.dbapi_connection.driver_connection
    await_only(driver_connection.execute(sql))


def run_schema_files(version: str) -> None:
    """Apply every numbered file of a schema version, in order."""
    for name in sql_files(version):
        run_sql(sql_text(version, name))
