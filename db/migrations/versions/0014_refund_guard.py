"""Refund guard: the way of a refund request held by the database, whatever the client.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

from db.migrations.sql import run_schema_files, run_sql
from schema import sql_text

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_schema_files("v0014")


def downgrade() -> None:
    run_sql(sql_text("v0014", "downgrade.sql"))
