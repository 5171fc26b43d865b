"""Refund operations: rejecting a request, rules edited in the workstation (used rules never change).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from db.migrations.sql import run_schema_files, run_sql
from schema import sql_text

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_schema_files("v0012")


def downgrade() -> None:
    run_sql(sql_text("v0012", "downgrade.sql"))
