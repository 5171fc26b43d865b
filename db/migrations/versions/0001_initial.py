"""The seed design: nine tables, the partitioned hash-chained audit log, views, functions, roles.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from db.migrations.sql import run_schema_files, run_sql
from schema import sql_text

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_schema_files("v0001")


def downgrade() -> None:
    run_sql(sql_text("v0001", "downgrade.sql"))
