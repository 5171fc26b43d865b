"""Refund fields: term, governing state and APR on extractions.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from db.migrations.sql import run_schema_files, run_sql
from schema import sql_text

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_schema_files("v0011")


def downgrade() -> None:
    run_sql(sql_text("v0011", "downgrade.sql"))
